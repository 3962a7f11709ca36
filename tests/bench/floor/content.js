// The floor's content script: each frame from the hook goes to the worker on a runtime
// port at once, as extension/content.js sends a lone frame. A stopped worker closes the
// port; the next frame connects again, which starts the worker (as content.js does).
(() => {
  'use strict';
  const channel = new MessageChannel();
  window.dispatchEvent(new MessageEvent('cti-floor-port', { ports: [channel.port2] }));
  /** @type {chrome.runtime.Port | null} */
  let port = null;
  channel.port1.onmessage = (ev) => {
    if (!port) {
      port = chrome.runtime.connect({ name: 'floor' });
      port.onDisconnect.addListener(() => { port = null; });
    }
    port.postMessage({ ts: ev.data.ts, bytes: new Uint8Array(ev.data.buf) });
  };
})();
