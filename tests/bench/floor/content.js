// The floor's content script: each frame from the hook goes on a runtime port at once, as
// extension/content.js sends a lone frame. By default the port is for the worker (the
// route dist/ had while its core was in the worker): a stopped worker closes the port, and
// the next frame connects again, which starts the worker. On a page opened with #direct,
// the port is for the offscreen document, and the worker leaves it: dist/'s route now.
(() => {
  'use strict';
  const direct = location.hash === '#direct';
  const name = direct ? 'floor-direct' : 'floor';
  // The offscreen document listens for ports once asked (floor/offscreen.js); frames
  // wait for its answer, in order.
  /** @type {Array<{ts: number, buf: ArrayBuffer}> | null} */
  let waiting = direct ? [] : null;
  if (direct) {
    chrome.runtime.sendMessage('floor-direct').then(() => {
      const w = waiting || [];
      waiting = null;
      w.forEach(relay);
    }, (e) => console.error('floor: the offscreen document did not answer', e));
  }
  const channel = new MessageChannel();
  window.dispatchEvent(new MessageEvent('cti-floor-port', { ports: [channel.port2] }));
  /** @type {chrome.runtime.Port | null} */
  let port = null;
  function connect() {
    const p = chrome.runtime.connect({ name });
    p.onDisconnect.addListener(() => { if (port === p) port = null; });
    return p;
  }
  channel.port1.onmessage = (ev) => {
    if (waiting) waiting.push(ev.data);
    else relay(ev.data);
  };
  /** @param {{ts: number, buf: ArrayBuffer}} data */
  function relay(data) {
    const msg = { ts: data.ts, bytes: new Uint8Array(data.buf) };
    port = port || connect();
    try {
      port.postMessage(msg);
    } catch (_) {
      // The receiving end went away (a stopped worker) before its disconnect arrived:
      // connect again.
      port = connect();
      port.postMessage(msg);
    }
  }
})();
