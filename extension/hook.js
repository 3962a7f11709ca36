// Page hook: MAIN world, document_start, injected before the content script (manifest
// order), so it runs before any script of the page. It wraps WebSocket so that the
// WebClient's own socket (`/ws/webclient`) hands copies of its binary frames to the
// content script, and so that command frames can be put on it.
//
// The channel: the content script dispatches, synchronously and still before any page
// script exists, an event carrying one end of a MessageChannel. The hook takes the first
// one and ignores any later one, so no page script can take or replace the channel.
// Everything the hook relies on is captured here, before page scripts could alter it.
(() => {
  'use strict';
  const NativeWebSocket = window.WebSocket;
  if (typeof NativeWebSocket !== 'function') return;
  const R = Reflect;
  const apply = R.apply;
  const getter = (/** @type {object} */ proto, /** @type {string} */ name) =>
    /** @type {() => any} */ (/** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(proto, name)).get);
  const addListener = EventTarget.prototype.addEventListener;
  const stopImmediate = Event.prototype.stopImmediatePropagation;
  const eventPorts = getter(MessageEvent.prototype, 'ports');
  const eventData = getter(MessageEvent.prototype, 'data');
  const portPost = MessagePort.prototype.postMessage;
  const portStart = MessagePort.prototype.start;
  const wsSend = NativeWebSocket.prototype.send;
  const wsState = getter(NativeWebSocket.prototype, 'readyState');
  const bufSlice = ArrayBuffer.prototype.slice;
  const bufLength = getter(ArrayBuffer.prototype, 'byteLength');
  const isArrayBuffer = (/** @type {unknown} */ v) => v instanceof ArrayBuffer;
  const now = Date.now;
  const setTimer = window.setTimeout.bind(window);
  const makeUrl = (/** @type {unknown} */ u) => new URL(String(u), location.href);
  const OPEN = NativeWebSocket.OPEN;
  // Before the core's verdict the hook holds a WebClient socket's first frames (the
  // PBX's initial state), bounded; sites without such a socket never buffer anything.
  const EARLY_MAX = 512;
  /** …and at most this many bytes of frames among them. */
  const EARLY_BYTES_MAX = 8 << 20;

  /** @type {MessagePort | null} */
  let port = null;
  let state = 'waiting'; // waiting | active | down
  // Until the core says (activate): the core's own limit (bridge::MAX_FRAME_BYTES), so that
  // what is held before its verdict is bounded in size too, not only in count.
  let maxFrameBytes = 1 << 20;
  /** @type {Array<[HookToContent, Transferable[]]>} */
  const early = [];
  let earlyBytes = 0;
  /** What did not fit: told after the held ones, so the core sees the gap (and says so). */
  let earlyLost = 0;
  /** @type {Array<{id: number, ws: WebSocket}>} */
  const sockets = [];
  let nextSocketId = 1;

  /** @param {HookToContent} msg @param {Transferable[]} [transfer] @param {number} [bytes] a frame's size */
  function emit(msg, transfer = [], bytes = 0) {
    if (state === 'active' && port) apply(portPost, port, [msg, transfer]);
    else if (state === 'waiting' && early.length < EARLY_MAX && earlyBytes + bytes <= EARLY_BYTES_MAX) {
      early.push([msg, transfer]);
      earlyBytes += bytes;
    } else if (state === 'waiting' && msg.kind !== 'tooLarge') earlyLost++; // the kinds the page numbers
  }

  /** @param {unknown} url */
  function isWebClientUrl(url) {
    try {
      return makeUrl(url).pathname.startsWith('/ws/webclient');
    } catch (_) {
      return false;
    }
  }

  /** @param {WebSocket} ws */
  function track(ws) {
    if (state === 'down') return;
    const id = nextSocketId++;
    sockets.push({ id, ws });
    apply(addListener, ws, ['open', () => emit({ kind: 'open', socket: id })]);
    apply(addListener, ws, ['close', () => {
      const i = sockets.findIndex((s) => s.id === id);
      if (i >= 0) sockets.splice(i, 1);
      emit({ kind: 'close', socket: id });
    }]);
    apply(addListener, ws, ['message', (/** @type {MessageEvent} */ ev) => {
      if (state === 'down') return;
      const data = apply(eventData, ev, []);
      if (!isArrayBuffer(data)) return;
      const size = apply(bufLength, data, []);
      // Refused before it is copied: a huge frame costs nothing here.
      if (size > maxFrameBytes) return emit({ kind: 'tooLarge', socket: id, size });
      const copy = apply(bufSlice, data, [0]);
      emit({ kind: 'frame', socket: id, ts: now(), buf: copy }, [copy], size);
    }]);
  }

  // A Proxy keeps WebSocket looking native (name, toString, prototype, instanceof).
  window.WebSocket = new Proxy(NativeWebSocket, {
    construct(target, args, newTarget) {
      const ws = R.construct(target, args, newTarget);
      if (isWebClientUrl(args[0])) track(ws);
      return ws;
    },
  });

  function liveSocket() {
    for (let i = sockets.length - 1; i >= 0; i--) {
      if (apply(wsState, sockets[i].ws, []) === OPEN) return sockets[i].ws;
    }
    return null;
  }

  // The fallback dial method confirmed on real WebClients: a tel: link, then Enter in the
  // dial dialog. `number` was validated by the core (digits, +, *, # only).
  /** @param {string} number @param {number} delay */
  function telDial(number, delay) {
    const a = document.createElement('a');
    a.href = 'tel:' + number;
    a.style.display = 'none';
    (document.body || document.documentElement).appendChild(a);
    a.click();
    a.remove();
    setTimer(() => {
      for (const target of [document.activeElement, document]) {
        target?.dispatchEvent(new KeyboardEvent('keydown', {
          key: 'Enter', code: 'Enter', keyCode: 13, which: 13, bubbles: true, cancelable: true,
        }));
      }
    }, delay);
  }

  /** @param {MessageEvent} ev */
  function onCommand(ev) {
    const msg = /** @type {ContentToHook} */ (apply(eventData, ev, []));
    if (!msg || typeof msg !== 'object') return;
    if (msg.kind === 'activate' && state === 'waiting') {
      state = 'active';
      maxFrameBytes = msg.maxFrameBytes;
      for (const [m, tr] of early.splice(0)) apply(portPost, port, [m, tr]);
      if (earlyLost) apply(portPost, port, [{ kind: 'lost', count: earlyLost }, []]);
      earlyBytes = 0;
      earlyLost = 0;
    } else if (msg.kind === 'standDown') {
      state = 'down';
      early.length = 0;
      earlyBytes = 0;
      sockets.length = 0;
    } else if (msg.kind === 'send' && state === 'active' && msg.frame instanceof Uint8Array) {
      const ws = liveSocket();
      if (!ws) return emit({ kind: 'sent', id: msg.id, ok: false, why: 'no open WebClient socket' });
      apply(wsSend, ws, [msg.frame]);
      emit({ kind: 'sent', id: msg.id, ok: true, why: '' });
    } else if (msg.kind === 'tel' && state === 'active') {
      if (!/^\+?[0-9*#]{1,32}$/.test(msg.number)) return emit({ kind: 'sent', id: msg.id, ok: false, why: 'not a dial string' });
      telDial(msg.number, msg.delayMs);
      emit({ kind: 'sent', id: msg.id, ok: true, why: '' });
    }
  }

  /** @param {Event} ev */
  function takePort(ev) {
    apply(stopImmediate, ev, []);
    const ports = apply(eventPorts, ev, []);
    if (port || !ports || !ports[0]) return;
    port = ports[0];
    apply(addListener, port, ['message', onCommand]);
    apply(portStart, port, []);
  }
  apply(addListener, window, ['cti-bridge-port', takePort, true]);
})();
