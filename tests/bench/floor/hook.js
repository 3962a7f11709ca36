// The floor's page hook (MAIN world, injected before content.js): every binary message of
// a /ws/webclient socket, copied and transferred to the content script on the
// MessageChannel port it dispatches, as extension/hook.js does. No checks, no queue.
(() => {
  'use strict';
  /** @type {MessagePort | null} */
  let port = null;
  // The first port only, as extension/hook.js takes it.
  window.addEventListener('cti-floor-port', (ev) => { port = port || /** @type {MessageEvent} */ (ev).ports[0] || null; });
  const Native = window.WebSocket;
  window.WebSocket = new Proxy(Native, {
    construct(target, args, newTarget) {
      const ws = Reflect.construct(target, args, newTarget);
      if (new URL(String(args[0]), location.href).pathname.startsWith('/ws/webclient')) {
        ws.addEventListener('message', (/** @type {MessageEvent} */ ev) => {
          if (!port || !(ev.data instanceof ArrayBuffer)) return;
          const copy = ev.data.slice(0);
          port.postMessage({ ts: Date.now(), buf: copy }, [copy]);
        });
      }
      return ws;
    },
  });
})();
