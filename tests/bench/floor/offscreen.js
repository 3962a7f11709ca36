// The floor's offscreen document: one WebSocket to the bench's sink (tests/bench/floor.js),
// each frame's bytes sent on it as they come from the worker's channel.
(() => {
  'use strict';
  const SINK = 'ws://127.0.0.1:19899/';
  /** @type {WebSocket | null} */
  let ws = null;
  function open() {
    ws = new WebSocket(SINK);
    ws.onclose = () => { ws = null; setTimeout(open, 200); };
  }
  open();
  navigator.serviceWorker.onmessage = (ev) => {
    const p = ev.ports[0];
    if (!p) return;
    p.onmessage = (m) => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(m.data); };
  };
})();
