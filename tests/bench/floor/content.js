// The floor's content script: each frame from the hook goes to the worker on a runtime
// port at once, as extension/content.js sends a lone frame. A stopped worker closes the
// port; the next frame connects again, which starts the worker (as content.js does).
(() => {
  'use strict';
  const channel = new MessageChannel();
  window.dispatchEvent(new MessageEvent('cti-floor-port', { ports: [channel.port2] }));
  /** @type {chrome.runtime.Port | null} */
  let port = null;
  function connect() {
    const p = chrome.runtime.connect({ name: 'floor' });
    p.onDisconnect.addListener(() => { if (port === p) port = null; });
    return p;
  }
  channel.port1.onmessage = (ev) => {
    const msg = { ts: ev.data.ts, bytes: new Uint8Array(ev.data.buf) };
    port = port || connect();
    try {
      port.postMessage(msg);
    } catch (_) {
      // The worker stopped and its disconnect has not arrived yet: connect again.
      port = connect();
      port.postMessage(msg);
    }
  };
})();
