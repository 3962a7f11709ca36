// Page hook: MAIN world, document_start, injected before the content script (manifest
// order), so it runs before any script of the page. In a WebClient page it
// - copies the binary frames of the WebClient's own socket (`/ws/webclient`) and the
//   session words it sends (`START`, `NOT AUTH`, `STOP`) to the content script;
// - copies the answers to the WebClient's own requests (POSTs to /MyPhone/MPWebService.asmx:
//   the answer to RequestMyInfo is the operator's whole state), and, while a diagnostics
//   recording runs, the requests themselves;
// - makes the requests the core asks for exactly as the WebClient makes them: a POST to
//   that path on the page's origin, with the WebClient's headers and its session key, which
//   it reads from the socket's URL and which never leaves this closure (not to the content
//   script, not in any message);
// - opens the WebClient's own dialer with a number and, once the dialer shows exactly that
//   number, confirms it with Enter.
// It never writes on the WebClient's socket: the WebClient never does (spec/3cx-webclient.md).
//
// The channel: the content script dispatches, synchronously and still before any page
// script exists, an event carrying one end of a MessageChannel. The hook takes the first
// one and ignores any later one, so no page script can take or replace the channel.
// What the hook reads the page through (URLs, events, buffers, its sets) is captured here,
// before page scripts could alter it; a URL is read once, and only events the browser
// made (isTrusted) count. A script of the trusted page that rewrites Array's prototype
// could still disturb the hook's own bookkeeping: it could as well drive the WebClient
// itself, which is why the page's origin, not its scripts, is what is trusted.
(() => {
  'use strict';
  const NativeWebSocket = window.WebSocket;
  const NativeXHR = window.XMLHttpRequest;
  if (typeof NativeWebSocket !== 'function' || typeof NativeXHR !== 'function') return;
  const R = Reflect;
  const objAssign = Object.assign;
  const objCreate = Object.create;
  const NativeString = String;
  const weakSetAdd = WeakSet.prototype.add;
  const weakSetHas = WeakSet.prototype.has;
  const weakSetDelete = WeakSet.prototype.delete;
  const weakMapGet = WeakMap.prototype.get;
  const weakMapSet = WeakMap.prototype.set;
  const setAdd = Set.prototype.add;
  const setDelete = Set.prototype.delete;
  const setClear = Set.prototype.clear;
  const setSize = /** @type {() => number} */ (/** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(Set.prototype, 'size')).get);
  /** Whether `v` is one of `list` (no Array.prototype method a page could replace). @param {unknown} v @param {readonly unknown[]} list */
  const oneOf = (v, list) => { for (let i = 0; i < list.length; i++) if (list[i] === v) return true; return false; };
  const apply = R.apply;
  const getter = (/** @type {object} */ proto, /** @type {string} */ name) =>
    /** @type {() => any} */ (/** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(proto, name)).get);
  const addListener = EventTarget.prototype.addEventListener;
  const removeListener = EventTarget.prototype.removeEventListener;
  const dispatch = EventTarget.prototype.dispatchEvent;
  const stopImmediate = Event.prototype.stopImmediatePropagation;
  const eventPorts = getter(MessageEvent.prototype, 'ports');
  const eventData = getter(MessageEvent.prototype, 'data');
  const portPost = MessagePort.prototype.postMessage;
  const portStart = MessagePort.prototype.start;
  const wsState = getter(NativeWebSocket.prototype, 'readyState');
  const xhrOpen = NativeXHR.prototype.open;
  const xhrSend = NativeXHR.prototype.send;
  const xhrStatus = getter(NativeXHR.prototype, 'status');
  const xhrResponse = getter(NativeXHR.prototype, 'response');
  const bufSlice = ArrayBuffer.prototype.slice;
  const bufLength = getter(ArrayBuffer.prototype, 'byteLength');
  const isView = ArrayBuffer.isView;
  const viewBuffer = getter(Object.getPrototypeOf(Uint8Array.prototype), 'buffer');
  const viewOffset = getter(Object.getPrototypeOf(Uint8Array.prototype), 'byteOffset');
  const viewLength = getter(Object.getPrototypeOf(Uint8Array.prototype), 'byteLength');
  const dataViewBuffer = getter(DataView.prototype, 'buffer');
  const dataViewOffset = getter(DataView.prototype, 'byteOffset');
  const dataViewLength = getter(DataView.prototype, 'byteLength');
  const nativeFetch = window.fetch;
  const NativeAbortController = AbortController;
  const abortSignal = getter(AbortController.prototype, 'signal');
  const abortNow = AbortController.prototype.abort;
  const NativeU8 = Uint8Array;
  const responseBuffer = Response.prototype.arrayBuffer;
  const responseStatus = getter(Response.prototype, 'status');
  const NativeURL = URL;
  const urlParams = getter(URL.prototype, 'searchParams');
  const urlPath = getter(URL.prototype, 'pathname');
  const urlOrigin = getter(URL.prototype, 'origin');
  const urlHost = getter(URL.prototype, 'host');
  const paramsGet = URLSearchParams.prototype.get;
  const querySelectorAll = Document.prototype.querySelectorAll;
  const activeElement = getter(Document.prototype, 'activeElement');
  const inputValue = getter(HTMLInputElement.prototype, 'value');
  const NativeKeyboardEvent = KeyboardEvent;
  const encode = encodeURIComponent;
  const isArrayBuffer = (/** @type {unknown} */ v) => v instanceof ArrayBuffer;
  const isDataView = (/** @type {unknown} */ v) => v instanceof DataView;
  const isInput = (/** @type {unknown} */ v) => v instanceof HTMLInputElement;
  const now = Date.now;
  const setTimer = window.setTimeout.bind(window);
  const clearTimer = window.clearTimeout.bind(window);
  /** An object without a prototype: nothing a page script put on Object.prototype (a
   * `signal`, a `redirect`) is read from it. @param {Record<string, unknown>} fields */
  const bare = (fields) => objAssign(objCreate(null), fields);
  const pageOrigin = location.origin;
  const pageHost = location.host;
  const makeUrl = (/** @type {unknown} */ u) => new NativeURL(String(u), location.href);
  const OPEN = NativeWebSocket.OPEN;
  /** Where the WebClient POSTs its requests, and the headers it sends (its module 30871). */
  const REQUEST_PATH = '/MyPhone/MPWebService.asmx';
  const OCTETS = 'application/octet-stream';
  // Which of the WebClient's own exchanges the core gets (by the MessageId a request or an
  // answer starts with): the answers that are the operator's state (201 MyExtensionInfo,
  // 227 the softphone's endpoint), and the HTTP status of every one (401/403: the session
  // is over). Only while a diagnostics recording runs, and only for the calls' own
  // requests (102 RequestMyInfo, 115-119 and 124 call control, 163-164 the softphone's
  // calls), the request and its answer too: the others (login, settings, contacts, chat)
  // may carry passwords, tokens and whole address books, and never leave the page.
  const STATE_ANSWERS = [201, 227];
  const RECORDED_REQUESTS = [102, 115, 116, 117, 118, 119, 124, 163, 164];
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
  /** Until when a diagnostics recording wants the WebClient's own requests (ms, 0: not). */
  let recordUntil = 0;
  /** @type {Array<[HookToContent, Transferable[]]>} */
  const early = [];
  let earlyBytes = 0;
  /** What did not fit: told after the held ones, so the core sees the gap (and says so). */
  let earlyLost = 0;
  /** The WebClient's sockets, with the session key each was opened with.
   * @type {Array<{id: number, ws: WebSocket, key: string}>} */
  const sockets = [];
  let nextSocketId = 1;
  /** XHRs of the WebClient that POST to its request path. @type {WeakSet<XMLHttpRequest>} */
  const requests = new WeakSet();
  /** The loadend listener of each such XHR's current send. @type {WeakMap<XMLHttpRequest, (ev: Event) => void>} */
  const ends = new WeakMap();

  // After the socket's START the WebClient POSTs its state requests and reads what the
  // socket pushes meanwhile only once they are answered: it handles one item at a time
  // (Internal.js, the socket's stream at 1,776,620). The hook keeps that order, so the
  // operator's state (RequestMyInfo's answer, a FullUpdate) comes before the pushes that
  // followed it, not after them (which would end calls that had just begun). Bounded: the
  // first request must start within a second, all are over within ten, at most 1024
  // pushes wait.
  const START_FIRST_MS = 1000;
  const START_MAX_MS = 10000;
  const AFTER_START_MAX = 1024;
  /** …holding at most this many bytes of frames. */
  const AFTER_START_BYTES_MAX = 8 << 20;
  let starting = false;
  /** The state requests made after START and not yet over (those whose send went out). @type {Set<XMLHttpRequest>} */
  const startRequests = new Set();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let startTimer;
  /** @type {Array<[HookToContent, Transferable[], number]>} pushes that came meanwhile */
  let afterStart = [];
  let afterStartBytes = 0;

  function beginStart() {
    endStart();
    starting = true;
    startTimer = setTimer(() => {
      if (!apply(setSize, startRequests, [])) endStart();
      else startTimer = setTimer(endStart, START_MAX_MS);
    }, START_FIRST_MS);
  }
  function endStart() {
    if (!starting) return;
    starting = false;
    clearTimer(startTimer);
    apply(setClear, startRequests, []);
    const held = afterStart;
    afterStart = [];
    afterStartBytes = 0;
    for (const [m, tr, bytes] of held) emit(m, tr, bytes);
  }
  /** A push of the socket: behind the state requests while they run. @param {HookToContent} msg @param {Transferable[]} [transfer] @param {number} [bytes] */
  function emitPush(msg, transfer = [], bytes = 0) {
    if (starting && afterStart.length < AFTER_START_MAX && afterStartBytes + bytes <= AFTER_START_BYTES_MAX) {
      afterStartBytes += bytes;
      return afterStart.push([msg, transfer, bytes]);
    }
    // Too much held: the order is given up rather than memory (the core sees every push).
    endStart();
    emit(msg, transfer, bytes);
  }

  /** @param {HookToContent} msg @param {Transferable[]} [transfer] @param {number} [bytes] a message's size */
  function emit(msg, transfer = [], bytes = 0) {
    if (state === 'active' && port) apply(portPost, port, [msg, transfer]);
    else if (state === 'waiting' && early.length < EARLY_MAX && earlyBytes + bytes <= EARLY_BYTES_MAX) {
      early.push([msg, transfer]);
      earlyBytes += bytes;
    } else if (state === 'waiting' && oneOf(msg.kind, NUMBERED)) earlyLost++;
  }
  /** The kinds the content script numbers (a lost one is a gap the core must hear of). */
  const NUMBERED = ['open', 'close', 'frame', 'session', 'exchange'];

  /** The WebClient's socket: its path on the page's own host (not a socket some other
   * script of the page opens to another server with the same path). @param {unknown} url */
  function isWebClientUrl(url) {
    try {
      const u = makeUrl(url);
      return apply(urlHost, u, []) === pageHost && apply(urlPath, u, []).startsWith('/ws/webclient');
    } catch (_) {
      return false;
    }
  }

  /** @param {unknown} url */
  function sessionKeyOf(url) {
    try {
      return String(apply(paramsGet, apply(urlParams, makeUrl(url), []), ['sessionId']) || '');
    } catch (_) {
      return '';
    }
  }

  /** @param {WebSocket} ws @param {string} key */
  function track(ws, key) {
    if (state === 'down') return;
    const id = nextSocketId++;
    sockets.push({ id, ws, key });
    apply(addListener, ws, ['open', (/** @type {Event} */ ev) => { if (ev.isTrusted) emit({ kind: 'open', socket: id }); }]);
    apply(addListener, ws, ['close', (/** @type {Event} */ ev) => {
      if (!ev.isTrusted) return;
      const i = sockets.findIndex((s) => s.id === id);
      if (i >= 0) sockets.splice(i, 1);
      endStart();
      emit({ kind: 'close', socket: id });
    }]);
    apply(addListener, ws, ['message', (/** @type {MessageEvent} */ ev) => {
      if (state === 'down' || !ev.isTrusted) return;
      const data = apply(eventData, ev, []);
      if (typeof data === 'string') {
        // The server's words about the session; ADDP (keep-alive) says nothing new.
        if (data === 'START') {
          endStart();
          emit({ kind: 'session', socket: id, started: true });
          beginStart();
        } else if (data === 'NOT AUTH' || data === 'STOP') {
          endStart();
          emit({ kind: 'session', socket: id, started: false });
        }
        return;
      }
      if (!isArrayBuffer(data)) return;
      const size = apply(bufLength, data, []);
      // Refused before it is copied: a huge frame costs nothing here.
      if (size > maxFrameBytes) return emitPush({ kind: 'tooLarge', socket: id, size });
      const copy = apply(bufSlice, data, [0]);
      emitPush({ kind: 'frame', socket: id, ts: now(), buf: copy }, [copy], size);
    }]);
  }

  // A Proxy keeps WebSocket looking native (name, toString, prototype, instanceof).
  window.WebSocket = new Proxy(NativeWebSocket, {
    construct(target, args, newTarget) {
      // Read once: the socket opens the very address that was judged.
      if (args.length) args[0] = NativeString(args[0]);
      const ws = R.construct(target, args, newTarget);
      if (isWebClientUrl(args[0])) track(ws, sessionKeyOf(args[0]));
      return ws;
    },
  });

  /** Where a body the WebClient sends lies (an ArrayBuffer or a view on one), or null.
   * @param {unknown} body @returns {[ArrayBuffer, number, number] | null} buffer, offset, length */
  function bodyOf(body) {
    if (isArrayBuffer(body)) return [/** @type {ArrayBuffer} */ (body), 0, apply(bufLength, body, [])];
    if (isDataView(body)) return [apply(dataViewBuffer, body, []), apply(dataViewOffset, body, []), apply(dataViewLength, body, [])];
    if (isView(body)) return [apply(viewBuffer, body, []), apply(viewOffset, body, []), apply(viewLength, body, [])];
    return null;
  }

  /** The MessageId a GenericMessage starts with (field 1, a varint: key byte 8), or 0.
   * @param {[ArrayBuffer, number, number] | null} at */
  function leadingId(at) {
    if (!at || at[2] < 2) return 0;
    const n = at[2] < 6 ? at[2] : 6;
    const b = new NativeU8(at[0], at[1], n);
    if (b[0] !== 8) return 0;
    let id = 0;
    for (let i = 1, shift = 1; i < n; i++, shift *= 128) {
      id += (b[i] & 127) * shift;
      if (b[i] < 128) return id;
    }
    return 0;
  }

  // The WebClient's own requests (Angular's HttpClient over XHR): their answers carry
  // state, and a recording wants to see both. Proxies keep open and send looking native;
  // on any other path or site they only pass the call on.
  NativeXHR.prototype.open = new Proxy(xhrOpen, {
    apply(target, self, args) {
      if (state !== 'down' && args.length >= 2) {
        try {
          // Read once: the request goes to the very address that was judged.
          args[0] = NativeString(args[0]);
          args[1] = NativeString(args[1]);
          const u = makeUrl(args[1]);
          const ours = (args[0] === 'POST' || args[0] === 'post') && apply(urlOrigin, u, []) === pageOrigin &&
            apply(urlPath, u, []) === REQUEST_PATH;
          if (ours) apply(weakSetAdd, requests, [self]);
          else apply(weakSetDelete, requests, [self]);
        } catch (_) { /* not a URL: not ours */ }
      }
      return apply(target, self, args);
    },
  });
  NativeXHR.prototype.send = new Proxy(xhrSend, {
    apply(target, self, args) {
      if (state === 'down' || !apply(weakSetHas, requests, [self])) return apply(target, self, args);
      let recorded = false;
      /** @type {ArrayBuffer | null} */
      let copied = null;
      try {
        const body = bodyOf(args[0]);
        recorded = recordUntil > now() && oneOf(leadingId(body), RECORDED_REQUESTS);
        // Copied before the WebClient could reuse its buffer.
        if (recorded && body && body[2] <= maxFrameBytes) copied = apply(bufSlice, body[0], [body[1], body[1] + body[2]]);
      } catch (_) {
        // A body that cannot be read here (a shared buffer, say): not recorded; the
        // WebClient's send goes on regardless.
        recorded = false;
      }
      /** @param {Event} ev */
      const onEnd = (ev) => {
        if (!ev.isTrusted) return;
        apply(removeListener, self, ['loadend', onEnd]);
        if (apply(setDelete, startRequests, [self]) && !apply(setSize, startRequests, [])) {
          // The next of them may start in this answer's own handlers, a task later at most.
          setTimer(() => { if (!apply(setSize, startRequests, [])) endStart(); }, 0);
        }
        if (state === 'down') return;
        const status = apply(xhrStatus, self, []);
        /** @type {unknown} */
        let answer = null;
        try { answer = apply(xhrResponse, self, []); } catch (_) { /* not readable: no body */ }
        const size = isArrayBuffer(answer) ? apply(bufLength, answer, []) : 0;
        const isState = size ? oneOf(leadingId([/** @type {ArrayBuffer} */ (answer), 0, size]), STATE_ANSWERS) : false;
        const ok = status >= 200 && status < 300;
        // An answer the core has no use for, to a request it must not see: nothing leaves.
        if (!isState && !recorded && ok) return;
        if (size > maxFrameBytes) return emit({ kind: 'tooLarge', socket: 0, size });
        const copy = size && (isState || recorded) ? /** @type {ArrayBuffer} */ (apply(bufSlice, answer, [0])) : new ArrayBuffer(0);
        /** @type {Transferable[]} */
        const transfer = copied ? [copy, copied] : [copy];
        emit({ kind: 'exchange', ts: now(), request: copied, status, answer: copy }, transfer, size);
      };
      // One listener per XHR: one opened again while its request ran ends without a loadend.
      const before = apply(weakMapGet, ends, [self]);
      if (before) apply(removeListener, self, ['loadend', before]);
      apply(weakMapSet, ends, [self, onEnd]);
      apply(addListener, self, ['loadend', onEnd]);
      let sent;
      try {
        sent = apply(target, self, args);
      } catch (e) {
        // A send that throws never ends: nothing to wait for.
        apply(removeListener, self, ['loadend', onEnd]);
        throw e;
      }
      if (starting && apply(setSize, startRequests, []) < AFTER_START_MAX) apply(setAdd, startRequests, [self]);
      return sent;
    },
  });

  /** The session key of the newest open WebClient socket. */
  function sessionKey() {
    for (let i = sockets.length - 1; i >= 0; i--) {
      if (apply(wsState, sockets[i].ws, []) === OPEN && sockets[i].key) return sockets[i].key;
    }
    return '';
  }

  /** POSTs one GenericMessage as the WebClient does, to the page's own origin, and reports
   * the answer; gives up after `waitMs`. @param {number} id @param {Uint8Array} body @param {number} waitMs */
  async function request(id, body, waitMs) {
    const key = sessionKey();
    if (!key) return emit({ kind: 'answered', id, status: 0, body: null, why: 'no open WebClient session in this tab' });
    const abort = new NativeAbortController();
    let timedOut = false;
    const timer = setTimer(() => { timedOut = true; apply(abortNow, abort, []); }, waitMs);
    try {
      const res = await apply(nativeFetch, window, [pageOrigin + REQUEST_PATH, bare({
        method: 'POST',
        headers: bare({ Accept: OCTETS, 'Content-Type': OCTETS, MyPhoneSession: key, 'ngsw-bypass': 'bypass' }),
        body,
        credentials: 'same-origin',
        mode: 'same-origin',
        redirect: 'error',
        cache: 'no-store',
        signal: apply(abortSignal, abort, []),
      })]);
      // The PBX has answered: a slow body is not "no answer" (the dial may be placed).
      clearTimer(timer);
      const status = apply(responseStatus, res, []);
      const answer = /** @type {ArrayBuffer} */ (await apply(responseBuffer, res, []));
      if (apply(bufLength, answer, []) > maxFrameBytes) return emit({ kind: 'answered', id, status: 0, body: null, why: 'the answer is too large' });
      emit({ kind: 'answered', id, status, body: answer, why: '' }, [answer]);
    } catch (_) {
      const why = timedOut ? `no answer from the PBX within ${waitMs} ms` : 'the request did not reach the PBX';
      emit({ kind: 'answered', id, status: 0, body: null, why });
    } finally {
      clearTimer(timer);
    }
  }

  /** Digits and a leading +, as a dialer shows a number. @param {string} s */
  const digitsOf = (s) => s.replace(/[^0-9*#+]/g, '');

  /**
   * Opens the WebClient's dialer with `number` (its route `#/call?phone=`) and waits until
   * an input of the page shows exactly that number; then presses Enter in it when
   * `confirm`. A dialer that shows another number (the WebClient once redialled the last
   * one) is never confirmed. `number` was validated by the core (digits, +, *, # only).
   * @param {number} id @param {string} number @param {boolean} confirm @param {number} waitMs
   */
  function dialer(id, number, confirm, waitMs) {
    if (!/^\+?[0-9*#]{1,32}$/.test(number)) return emit({ kind: 'dialed', id, ok: false, why: 'not a dial string' });
    const want = digitsOf(number);
    const until = now() + waitMs;
    // `location` and its members are unforgeable: no page script can replace them.
    location.hash = '#/call?phone=' + encode(number);
    let other = false;
    let unfocused = false;
    const look = () => {
      if (now() > until) {
        const why = other ? 'the dialer showed another number'
          : unfocused ? 'the input showing the number did not have the focus' : 'the dialer did not show the number';
        return emit({ kind: 'dialed', id, ok: false, why });
      }
      // Still the dialer's route (the WebClient may rewrite its query): an operator who
      // went elsewhere meanwhile gets no Enter pressed for them.
      if (!/^#\/(call|dialer)\b/.test(location.hash)) {
        return emit({ kind: 'dialed', id, ok: false, why: 'the WebClient left the dialer' });
      }
      const focused = apply(activeElement, document, []);
      const inputs = [focused, ...apply(querySelectorAll, document, ['input'])].filter(isInput);
      let found = null;
      for (const el of inputs) {
        const shown = digitsOf(String(apply(inputValue, el, [])));
        // Confirmed only where the operator's own Enter would go: the focused input.
        if (shown === want && (!confirm || el === focused)) { found = el; break; }
        if (shown === want) unfocused = true;
        else if (shown && el === focused) other = true;
      }
      if (found) {
        if (confirm) {
          apply(dispatch, found, [new NativeKeyboardEvent('keydown', {
            key: 'Enter', code: 'Enter', keyCode: 13, which: 13, bubbles: true, cancelable: true,
          })]);
        }
        return emit({ kind: 'dialed', id, ok: true, why: '' });
      }
      setTimer(look, 50);
    };
    setTimer(look, 0);
  }

  /** @param {MessageEvent} ev */
  function onCommand(ev) {
    const msg = /** @type {ContentToHook} */ (apply(eventData, ev, []));
    if (!msg || typeof msg !== 'object') return;
    if (msg.kind === 'activate' && state === 'waiting') {
      state = 'active';
      maxFrameBytes = msg.maxFrameBytes;
      recordUntil = msg.recordUntil;
      for (const [m, tr] of early.splice(0)) apply(portPost, port, [m, tr]);
      if (earlyLost) apply(portPost, port, [{ kind: 'lost', count: earlyLost }, []]);
      earlyBytes = 0;
      earlyLost = 0;
    } else if (msg.kind === 'standDown') {
      state = 'down';
      early.length = 0;
      earlyBytes = 0;
      sockets.length = 0;
    } else if (msg.kind === 'recording' && state === 'active') {
      recordUntil = msg.until;
    } else if (msg.kind === 'request' && state === 'active' && msg.body instanceof Uint8Array) {
      request(msg.id, msg.body, msg.waitMs);
    } else if (msg.kind === 'dialer' && state === 'active') {
      dialer(msg.id, msg.number, msg.confirm, msg.waitMs);
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
