// Page hook, MAIN world, document_start: runs before any WebClient script, so it sees the
// socket that the WebClient opens early. It wraps WebSocket for `/ws/webclient` sockets
// only, hands their binary frames on as bytes (copies, so the page keeps its own), and
// keeps the socket so command frames can be sent on it.
//
// The channel to the content script is a MessageChannel whose port arrives before any page
// script can listen; frames and commands travel only on it, so other page scripts, other
// frames and other sites cannot forge either.
(() => {
  'use strict';
  const NativeWebSocket = window.WebSocket;
  if (typeof NativeWebSocket !== 'function') return;
  // Captured now: later page scripts may replace these.
  const apply = Reflect.apply;
  const addListener = EventTarget.prototype.addEventListener;
  const stopImmediate = Event.prototype.stopImmediatePropagation;
  const portPost = MessagePort.prototype.postMessage;
  const wsSend = NativeWebSocket.prototype.send;
  const bufSlice = ArrayBuffer.prototype.slice;
  const isArrayBuffer = (v) => v instanceof ArrayBuffer;
  const now = Date.now;
  const setTimer = window.setTimeout.bind(window);
  const OPEN = NativeWebSocket.OPEN;
  const MAX_BUFFERED = 2000;

  let port = null;
  let active = false;        // the content script confirmed this is a WebClient page
  const early = [];          // messages before the port or the confirmation arrived
  const sockets = [];        // tracked WebClient sockets, newest last
  let nextSocketId = 1;

  function emit(msg, transfer) {
    if (port && active) {
      apply(portPost, port, [msg, transfer || []]);
    } else if (early.length < MAX_BUFFERED) {
      early.push([msg, transfer]);
    }
  }

  function isWebClientUrl(url) {
    try {
      return new URL(String(url), location.href).pathname.startsWith('/ws/webclient');
    } catch (_) {
      return false;
    }
  }

  function track(ws) {
    const id = nextSocketId++;
    sockets.push({ id, ws });
    apply(addListener, ws, ['open', () => emit({ t: 'open', socket: id })]);
    apply(addListener, ws, ['close', () => {
      const i = sockets.findIndex((s) => s.id === id);
      if (i >= 0) sockets.splice(i, 1);
      emit({ t: 'close', socket: id });
    }]);
    apply(addListener, ws, ['message', (ev) => {
      const data = ev.data;
      if (isArrayBuffer(data)) {
        const copy = apply(bufSlice, data, [0]);
        emit({ t: 'frame', socket: id, ts: now(), buf: copy }, [copy]);
      }
    }]);
  }

  class WebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      if (arguments.length > 1) super(url, protocols); else super(url);
      if (isWebClientUrl(url)) track(this);
    }
  }
  window.WebSocket = WebSocket;

  function liveSocket() {
    for (let i = sockets.length - 1; i >= 0; i--) {
      if (sockets[i].ws.readyState === OPEN) return sockets[i].ws;
    }
    return null;
  }

  // The fallback dial method confirmed on real WebClients: a tel: link, then Enter in the
  // dial dialog. `number` was validated by the core (digits, +, *, # only).
  function telDial(number, delay) {
    const a = document.createElement('a');
    a.href = 'tel:' + number;
    a.style.display = 'none';
    (document.body || document.documentElement).appendChild(a);
    a.click();
    a.remove();
    setTimer(() => {
      for (const target of [document.activeElement, document]) {
        if (!target) continue;
        target.dispatchEvent(new KeyboardEvent('keydown', {
          key: 'Enter', code: 'Enter', keyCode: 13, which: 13, bubbles: true, cancelable: true,
        }));
      }
    }, delay);
  }

  function onCommand(ev) {
    const msg = ev.data;
    if (!msg || typeof msg !== 'object') return;
    if (msg.t === 'activate') {
      active = true;
      for (const [m, tr] of early.splice(0)) apply(portPost, port, [m, tr || []]);
    } else if (msg.t === 'send' && msg.frame instanceof Uint8Array) {
      const ws = liveSocket();
      if (!ws) { emit({ t: 'sent', id: msg.id, ok: false, why: 'no open WebClient socket' }); return; }
      apply(wsSend, ws, [msg.frame]);
      emit({ t: 'sent', id: msg.id, ok: true });
    } else if (msg.t === 'tel' && typeof msg.number === 'string' && /^\+?[0-9*#]{1,32}$/.test(msg.number)) {
      telDial(msg.number, Math.min(Math.max(Number(msg.delay) || 750, 0), 5000));
      emit({ t: 'sent', id: msg.id, ok: true });
    }
  }

  // The content script posts the port once, at document_start. This listener is the first
  // on the window and stops the event, so no page script ever sees the port.
  function takePort(ev) {
    if (port || ev.source !== window || !ev.data || ev.data.__ctiBridgePort !== true || !ev.ports[0]) return;
    apply(stopImmediate, ev, []);
    port = ev.ports[0];
    port.onmessage = onCommand;
  }
  apply(addListener, window, ['message', takePort, true]);
})();
