// Every message between the extension's contexts, declared once. A classic script, so the
// content script can load it too; modules import it for its side effect and use
// globalThis.CtiMessages. The type checker sees the typedefs below as global types, so
// both ends of each message are checked against the same declaration.
//
// One discriminator everywhere: `kind`. Receivers run what arrives through the matching
// `parse*` function: anything unknown or malformed is refused here, with one log line.

/** @typedef {{extension: string, domain: string, webclientVersion: string, userName: string}} Identity */

// ---- page hook (MAIN world) <-> content script, on a private MessageChannel ---------------
// The WebClient's session key never crosses this channel: the hook keeps it.
/**
 * @typedef {{kind: 'open', socket: number}
 *   | {kind: 'close', socket: number}
 *   | {kind: 'frame', socket: number, ts: number, buf: ArrayBuffer}
 *   | {kind: 'session', socket: number, started: boolean}
 *   | {kind: 'exchange', ts: number, request: ArrayBuffer | null, status: number, answer: ArrayBuffer}
 *   | {kind: 'tooLarge', socket: number, size: number}
 *   | {kind: 'answered', id: number, status: number, body: ArrayBuffer | null, why: string}
 *   | {kind: 'dialed', id: number, ok: boolean, why: string}
 *   | {kind: 'lost', count: number}} HookToContent
 *   (session: the socket said START, or NOT AUTH / STOP; exchange: one of the WebClient's own
 *   requests (only while recording) and its answer; answered: the answer to a request the
 *   core asked for (status 0: not sent, `why` says why); dialed: whether the dialer showed
 *   the number; lost: what the hook could not hold before the verdict)
 * @typedef {{kind: 'activate', maxFrameBytes: number, recordUntil: number}
 *   | {kind: 'standDown'}
 *   | {kind: 'recording', until: number}
 *   | {kind: 'request', id: number, body: Uint8Array, waitMs: number}
 *   | {kind: 'dialer', id: number, number: string, confirm: boolean, waitMs: number}} ContentToHook
 */

// ---- content script <-> the core (offscreen document), on a runtime port named PORT_WEBCLIENT
// Only the offscreen document listens for runtime ports, so a page's port reaches the core
// alone, and a stopped service worker neither touches it nor is woken by it.
/**
 * @typedef {{seq: number, ts: number, bytes: Uint8Array}} FrameItem
 * @typedef {{kind: 'login', pageId: string, seq: number, identity: Identity, choice: string}
 *   | {kind: 'frames', pageId: string, frames: FrameItem[]}
 *   | {kind: 'closed', pageId: string, seq: number}
 *   | {kind: 'lost', pageId: string, seq: number}
 *   | {kind: 'session', pageId: string, seq: number, started: boolean}
 *   | {kind: 'exchange', pageId: string, seq: number, ts: number, request: Uint8Array | null, status: number, answer: Uint8Array}
 *   | {kind: 'device', pageId: string, seq: number, choice: string}
 *   | {kind: 'oversized', size: number}
 *   | {kind: 'answer', token: number, status: number, body: Uint8Array | null, why: string}
 *   | {kind: 'stale', token: number, choice: string}
 *   | {kind: 'dialed', token: number, ok: boolean, why: string}} PageToCore
 *   (choice: the device chosen in the WebClient, as its localStorage holds it (JSON text);
 *   device: that choice changed; stale: a request not sent because the choice changed)
 * @typedef {{kind: 'verdict', trusted: boolean, maxFrameBytes: number, queueMax: number, inFlight: number, batchMax: number, recordUntil: number}
 *   | {kind: 'ack', seq: number}
 *   | {kind: 'request', token: number, body: Uint8Array, choice: string | null, waitMs: number}
 *   | {kind: 'dialer', token: number, number: string, confirm: boolean, waitMs: number}
 *   | {kind: 'recording', until: number}} CoreToPage
 *   (request: POST this from the page unless the stored choice is no longer `choice`)
 * @typedef {{kind: 'reconnect'}} WorkerNudge  (tabs.sendMessage from the worker to the tab: connect again)
 */

// ---- service worker <-> offscreen document, on a runtime port named PORT_LINK that the
// ---- worker opens; the document says {kind: 'wake'} (runtime.sendMessage) when it has
// ---- something for a worker that is not connected, which starts a stopped worker. A page
// ---- whose port found no document says the same.
/**
 * @typedef {{serverAddress: string, sharedSecret: string, agent: string}} StreamSettings
 * @typedef {{state: string, agent?: string}} StreamReport  (the stream's, for the core)
 * @typedef {{customerId: string, phone: string, searchTerms: string[]}} ScreenPop
 * @typedef {{bridge: string | null, pin: string, lastGoodPort: number, tabs: number[]}} Restore
 *   (what a new document starts from: the stored state, the pinned origin, the last good port,
 *   and the ids of the tabs open now: a stored tab that is not among them was closed meanwhile)
 * @typedef {{kind: 'attach', settings: Record<string, any>, language: string, version: string, restore: Restore | null}
 *   | {kind: 'settings', settings: Record<string, any>}
 *   | {kind: 'stored', id: number}
 *   | {kind: 'tabClosed', tab: number}
 *   | {kind: 'missingHosts', hosts: string[]}
 *   | {kind: 'popResult', term: string, key: string, args: string[], ok: boolean}
 *   | {kind: 'unreachable', tab: number}
 *   | {kind: 'log', at: number, line: string}} WorkerToDoc
 *   (attach: the answer to hello; `restore` only for a document that said it was fresh;
 *   log: a line of the worker's, for the diagnostics report)
 * @typedef {{kind: 'hello', fresh: boolean}
 *   | {kind: 'store', id: number, bridge: string}
 *   | {kind: 'status', status: any}
 *   | {kind: 'pin', origin: string}
 *   | {kind: 'rememberPort', port: number}
 *   | {kind: 'screenPop', pop: ScreenPop}
 *   | {kind: 'nudge', tab: number}} DocToWorker
 *   (hello: the document's first message on every new port, fresh while it has no core yet;
 *   store is answered with stored, nudge with unreachable when the tab does not answer)
 * @typedef {{kind: 'wake'}} Wake
 */

// ---- PestRoutes page (click-to-dial content script) -> the core, runtime.sendMessage --------
/**
 * @typedef {{kind: 'clickToDialEnabled'} | {kind: 'clickToDial', number: string}} PestRoutesToCore
 *   (clickToDialEnabled is answered with {enabled: boolean}, clickToDial with {ok: true}; both
 *   are sent with CtiMessages.ask)
 * @typedef {{kind: 'clickToDialChanged'}} WorkerToPestRoutes  (tabs.sendMessage from the worker
 *   after the settings that decide click-to-dial changed: ask clickToDialEnabled again)
 */

// ---- popup / options -> the core, runtime.sendMessage --------------------------------------
/**
 * @typedef {{kind: 'forgetPinnedOrigin'}
 *   | {kind: 'diagStart', minutes: number}
 *   | {kind: 'diagStop'}
 *   | {kind: 'diagStatus'}
 *   | {kind: 'diagFetch'}} UiToCore
 * @typedef {{active: boolean, until: number, frames: number, bytes: number, full: boolean}} DiagStatus
 *   (the reply to diagStart, diagStop and diagStatus; diagFetch replies {text: string},
 *   forgetPinnedOrigin {ok: true}; all are sent with CtiMessages.ask)
 */

// eslint-disable-next-line no-var
var CtiMessages = (() => {
  'use strict';
  const PORT_WEBCLIENT = 'webclient';
  const PORT_LINK = 'link';
  /** The longest identity field a page may send, in UTF-16 units: above the core's longest
   * (a domain, 253 bytes), so cutting there never turns a field it refuses into one it uses. */
  const IDENTITY_FIELD_MAX = 256;
  /** More open tabs than any browser holds: a list longer than this is not the worker's. */
  const TABS_MAX = 100000;
  /** The longest device choice a page may send (the core keeps less). */
  const CHOICE_MAX = 1024;

  /** @param {unknown} v @returns {v is Record<string, unknown>} */
  const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  /** @param {unknown} v @param {number} [max] */
  const isStr = (v, max = 4096) => typeof v === 'string' && v.length <= max;
  /** @param {unknown} v */
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  /** An HTTP status, or 0 for none. @param {unknown} v */
  const isStatus = (v) => Number.isInteger(v) && isNum(v) && Number(v) <= 999;

  /** @type {Record<string, (m: Record<string, unknown>) => boolean>} */
  const PAGE = {
    login: (m) => isStr(m.pageId, 64) && isNum(m.seq) && isObj(m.identity) && isStr(m.choice, CHOICE_MAX) &&
      ['extension', 'domain', 'webclientVersion', 'userName'].every((k) => isStr(/** @type {any} */ (m.identity)[k], IDENTITY_FIELD_MAX)),
    frames: (m) => isStr(m.pageId, 64) && Array.isArray(m.frames) &&
      m.frames.every((f) => isObj(f) && isNum(f.seq) && isNum(f.ts) && f.bytes instanceof Uint8Array),
    closed: (m) => isStr(m.pageId, 64) && isNum(m.seq),
    lost: (m) => isStr(m.pageId, 64) && isNum(m.seq),
    session: (m) => isStr(m.pageId, 64) && isNum(m.seq) && typeof m.started === 'boolean',
    exchange: (m) => isStr(m.pageId, 64) && isNum(m.seq) && isNum(m.ts) && isStatus(m.status) &&
      (m.request === null || m.request instanceof Uint8Array) && m.answer instanceof Uint8Array,
    device: (m) => isStr(m.pageId, 64) && isNum(m.seq) && isStr(m.choice, CHOICE_MAX),
    oversized: (m) => isNum(m.size),
    answer: (m) => isNum(m.token) && isStatus(m.status) && (m.body === null || m.body instanceof Uint8Array) &&
      isStr(m.why, 200),
    stale: (m) => isNum(m.token) && isStr(m.choice, CHOICE_MAX),
    dialed: (m) => isNum(m.token) && typeof m.ok === 'boolean' && isStr(m.why, 200),
  };
  /** @type {Record<string, (m: Record<string, unknown>) => boolean>} */
  const FROM_DOC = {
    hello: (m) => typeof m.fresh === 'boolean',
    store: (m) => isNum(m.id) && typeof m.bridge === 'string',
    status: (m) => isObj(m.status),
    pin: (m) => isStr(m.origin, 2048),
    rememberPort: (m) => isNum(m.port),
    screenPop: (m) => isObj(m.pop) && Array.isArray(m.pop.searchTerms),
    nudge: (m) => isNum(m.tab),
  };
  /** @type {Record<string, (m: Record<string, unknown>) => boolean>} */
  const FROM_WORKER = {
    attach: (m) => isObj(m.settings) && isStr(m.language, 64) && isStr(m.version, 64) && (m.restore === null ||
      (isObj(m.restore) && (m.restore.bridge === null || typeof m.restore.bridge === 'string') &&
        isStr(m.restore.pin, 2048) && isNum(m.restore.lastGoodPort) &&
        Array.isArray(m.restore.tabs) && m.restore.tabs.length <= TABS_MAX && m.restore.tabs.every(isNum))),
    settings: (m) => isObj(m.settings),
    stored: (m) => isNum(m.id),
    tabClosed: (m) => isNum(m.tab),
    missingHosts: (m) => Array.isArray(m.hosts) && m.hosts.every((h) => isStr(h, 2048)),
    popResult: (m) => isStr(m.term) && isStr(m.key, 64) && Array.isArray(m.args) && m.args.every((a) => isStr(a)) &&
      typeof m.ok === 'boolean',
    unreachable: (m) => isNum(m.tab),
    log: (m) => isNum(m.at) && isStr(m.line),
  };
  /** @type {Record<string, (m: Record<string, unknown>) => boolean>} */
  const PESTROUTES = {
    clickToDialEnabled: () => true,
    clickToDial: (m) => isStr(m.number, 64),
  };
  /** @type {Record<string, (m: Record<string, unknown>) => boolean>} */
  const UI = {
    forgetPinnedOrigin: () => true,
    diagStart: (m) => isNum(m.minutes),
    diagStop: () => true,
    diagStatus: () => true,
    diagFetch: () => true,
  };
  /** @type {Record<string, (m: Record<string, unknown>) => boolean>} */
  const HOOK = {
    open: (m) => isNum(m.socket),
    close: (m) => isNum(m.socket),
    frame: (m) => isNum(m.socket) && isNum(m.ts) && m.buf instanceof ArrayBuffer,
    session: (m) => isNum(m.socket) && typeof m.started === 'boolean',
    exchange: (m) => isNum(m.ts) && isStatus(m.status) && (m.request === null || m.request instanceof ArrayBuffer) &&
      m.answer instanceof ArrayBuffer,
    tooLarge: (m) => isNum(m.socket) && isNum(m.size),
    answered: (m) => isNum(m.id) && isStatus(m.status) && (m.body === null || m.body instanceof ArrayBuffer) &&
      isStr(m.why, 200),
    dialed: (m) => isNum(m.id) && typeof m.ok === 'boolean' && isStr(m.why, 200),
    lost: (m) => Number.isInteger(m.count) && isNum(m.count) && Number(m.count) <= 1e6,
  };

  /**
   * The one place where messages are refused.
   * @param {Record<string, (m: Record<string, unknown>) => boolean>} table
   * @param {string} from
   * @param {unknown} m
   */
  function check(table, from, m) {
    const kind = isObj(m) && typeof m.kind === 'string' ? m.kind : '';
    if (isObj(m) && Object.prototype.hasOwnProperty.call(table, kind) && table[kind](m)) return m;
    console.warn(`[3CX Bridge] refused a malformed or unknown message from ${from}: ${JSON.stringify(kind).slice(0, 40)}`);
    return null;
  }

  /** How long `ask` waits for an answer in all, unless told otherwise. */
  const ASK_PATIENCE_MS = 10000;
  /** The longest pause between two tries of `ask`. */
  const ASK_PAUSE_MAX_MS = 2000;
  /** What Chrome says when no listener took a message: the only case that is sent again. */
  const NOBODY = /Receiving end does not exist|message port closed before a response/;

  /**
   * Sends a request to the core (answered by the offscreen document) and resolves with the
   * answer. While that document is not there (the browser has just started, or it crashed)
   * nobody takes the request; the message has woken the worker, which opens the document,
   * so the request is sent again after 100 ms, then after twice as long each time (at most
   * ASK_PAUSE_MAX_MS). The document answers every request it takes (refused ones too), so
   * a request is sent again only when nobody took it; any other failure (the page went
   * into the back/forward cache, say) ends it. Rejects when no answer came within
   * `patienceMs`, even from a document that took the request and never answered.
   * @param {UiToCore | PestRoutesToCore} m @param {number} [patienceMs] @returns {Promise<any>}
   */
  async function ask(m, patienceMs = ASK_PATIENCE_MS) {
    const giveUp = Date.now() + patienceMs;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to ${m.kind}`)), patienceMs);
    });
    try {
      for (let pause = 100; ; pause = Math.min(pause * 2, ASK_PAUSE_MAX_MS)) {
        const answer = await Promise.race([late, chrome.runtime.sendMessage(m).catch((e) => {
          if (NOBODY.test(String(e && e.message))) return undefined;
          throw e;
        })]);
        if (answer === null) throw new Error(`the core could not answer ${m.kind}`);
        if (answer !== undefined) return answer;
        if (Date.now() + pause >= giveUp) throw new Error(`no answer to ${m.kind}`);
        await Promise.race([late, new Promise((resolve) => setTimeout(resolve, pause))]);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the service worker (any message does), which then opens the offscreen document
   * if it is not there and connects to it. Resolves when the message was handled or not. */
  const wake = () => chrome.runtime.sendMessage(/** @type {Wake} */ ({ kind: 'wake' })).then(() => {}, () => {});

  return {
    PORT_WEBCLIENT,
    PORT_LINK,
    IDENTITY_FIELD_MAX,
    CHOICE_MAX,
    /** @param {unknown} m */
    parsePage: (m) => /** @type {PageToCore | null} */ (check(PAGE, 'a WebClient page', m)),
    /** @param {unknown} m */
    parseFromDoc: (m) => /** @type {DocToWorker | null} */ (check(FROM_DOC, 'the offscreen document', m)),
    /** @param {unknown} m */
    parseFromWorker: (m) => /** @type {WorkerToDoc | null} */ (check(FROM_WORKER, 'the service worker', m)),
    /** @param {unknown} m */
    parsePestRoutes: (m) => /** @type {PestRoutesToCore | null} */ (check(PESTROUTES, 'a PestRoutes page', m)),
    /** @param {unknown} m */
    parseUi: (m) => /** @type {UiToCore | null} */ (check(UI, 'an extension page', m)),
    /** @param {unknown} m */
    parseHook: (m) => /** @type {HookToContent | null} */ (check(HOOK, 'the page hook', m)),
    ask,
    wake,
  };
})();
globalThis.CtiMessages = CtiMessages;
