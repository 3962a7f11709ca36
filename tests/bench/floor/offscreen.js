// The floor's offscreen document: one WebSocket to the bench's sink (tests/bench/floor.js),
// each frame's bytes sent on it as they come from the worker's channel, or straight from
// the content script on a direct port (floor/content.js).
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
    p.onmessage = (m) => send(m.data);
  };
  // A runtime port reaches every extension context that listens for one, and stays open
  // while any of them holds it; disconnecting closes it for all. So this document listens
  // only once a direct page asked (floor/content.js): before that, a port to the worker
  // must close when the worker stops.
  let listening = false;
  chrome.runtime.onMessage.addListener((ask, _sender, reply) => {
    if (ask !== 'floor-direct') return;
    if (!listening) {
      listening = true;
      chrome.runtime.onConnect.addListener((port) => {
        if (port.name === 'floor-direct') port.onMessage.addListener((/** @type {{bytes: Uint8Array}} */ m) => send(m.bytes));
      });
    }
    reply(true);
  });
  /** @param {Uint8Array} bytes */
  function send(bytes) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(bytes);
  }
})();
