// Content script (isolated world) on candidate pages. Relays what the page hook sees of
// the WebClient (its socket's frames and session words, its own requests' answers) to the
// core (in the offscreen document, on a runtime port), with the device the operator chose
// in the WebClient; and the core's requests and dialer steps to the hook. It decides
// nothing about trust: the core judges the page by the origin Chrome reports for this
// port, and says whether to relay at all. It reads no settings, so no setting (and no
// secret) ever enters a web page's process; the WebClient's session key stays in the hook.
(() => {
  'use strict';
  const M = CtiMessages;
  const channel = new MessageChannel();
  const hook = channel.port1;
  // Synchronous, at document_start: the hook (injected first) takes this port before any
  // page script runs (see hook.js).
  window.dispatchEvent(new MessageEvent('cti-bridge-port', { ports: [channel.port2] }));

  const pageId = crypto.randomUUID();
  let seq = 0;
  /** @type {chrome.runtime.Port | null} */
  let port = null;
  let trusted = false;
  let refused = false;
  let queueMax = Infinity;
  let inFlightMax = Infinity;
  let batchMax = Infinity;
  let dropped = 0;
  let warnAt = 1;
  /** Sent but not yet stored; sent again to a new document. @type {PageToCore[]} */
  const unacked = [];
  /** What `unacked` holds, in frames (any other message counts as one): queueMax bounds it. */
  let held = 0;
  const weight = (/** @type {PageToCore} */ m) => (m.kind === 'frames' ? m.frames.length : 1);
  /** Frames waiting for this task to end, or for the core to catch up (see flushFrames).
   * @type {FrameItem[]} */
  let batch = [];
  /** @type {Map<number, number>} hook command id -> the core's token */
  const commands = new Map();
  let nextCommand = 1;
  /** The device choice the core was last told. */
  let toldChoice = '';
  /** How often the stored device choice is looked at: the operator may change it in the
   * WebClient at any time (the WebClient writes it in this document, so no storage event
   * tells). A request made for an older choice is stopped here anyway (`stale`). */
  const CHOICE_POLL_MS = 1000;

  /** @returns {Identity} */
  function identity() {
    /** @param {string} k */
    const read = (k) => { try { return JSON.parse(localStorage.getItem(k) || 'null'); } catch (_) { return null; } };
    const p = read('wc.provision') || {};
    const version = read('wc.version');
    const name = localStorage.getItem('yourname');
    const ext = p.username;
    // The page's storage is the page's: each field is cut to what the core accepts
    // (the core blanks anything longer than it uses anyway).
    /** @param {unknown} v */
    const field = (v) => (typeof v === 'string' ? v.slice(0, M.IDENTITY_FIELD_MAX) : '');
    return {
      extension: field(typeof ext === 'number' ? String(ext) : ext),
      domain: field(p.domain),
      webclientVersion: field(version),
      userName: field(name),
    };
  }

  /**
   * The device the operator chose in the WebClient, as the WebClient keeps it: JSON in
   * localStorage under `wc.<extension>__selectedphonedevice` (ngx-webstorage: prefix `wc.`,
   * keys lower-cased). Only while the extension is not known yet: the one such key there
   * is (another extension's choice in a shared browser profile is never taken for ours).
   * A value longer than the bound is no choice (cut, it would no longer be the WebClient's).
   */
  function currentChoice() {
    try {
      const ext = identity().extension.toLowerCase();
      let key = `wc.${ext}__selectedphonedevice`;
      if (!ext) {
        const keys = [];
        for (let i = 0; i < localStorage.length; i++) {
          const k = localStorage.key(i);
          if (k && /^wc\..+__selectedphonedevice$/.test(k)) keys.push(k);
        }
        if (keys.length !== 1) return '';
        key = keys[0];
      }
      const value = localStorage.getItem(key) || '';
      return value.length > M.CHOICE_MAX ? '' : value;
    } catch (_) {
      return '';
    }
  }

  /** Tells the core when the stored choice changed. */
  function checkChoice() {
    const choice = currentChoice();
    if (choice === toldChoice) return;
    toldChoice = choice;
    send({ kind: 'device', pageId, seq: ++seq, choice });
  }

  function looksLikeWebClient() {
    try {
      return location.pathname.startsWith('/webclient') || localStorage.getItem('wc.provision') !== null;
    } catch (_) {
      return false;
    }
  }

  /** @param {PageToCore} msg */
  function post(msg) {
    if (!port) connect();
    if (!port) return; // waiting to try again: it stays in unacked
    try {
      port.postMessage(msg);
    } catch (_) {
      // This port is broken: everything unacked goes again, in order, on a new one.
      const p = port;
      port = null;
      try { p.disconnect(); } catch (_e) { /* already closed */ }
      retryLater(false);
    }
  }

  /** @param {PageToCore} msg */
  function send(msg) {
    if (refused) return;
    unacked.push(msg);
    held += weight(msg);
    // The oldest go first, counted in frames: a message holds up to batchMax of them.
    while (held > queueMax && unacked.length > 1) {
      const old = /** @type {PageToCore} */ (unacked.shift());
      held -= weight(old);
      dropped += weight(old);
      if (dropped >= warnAt) {
        console.warn(`[3CX Bridge] extension unreachable: ${dropped} WebClient frames and messages dropped`);
        warnAt = dropped + 100; // one line per hundred
      }
    }
    if (trusted) post(msg);
  }

  /** Frame messages posted and not yet acknowledged. */
  const inFlight = () => unacked.reduce((n, m) => n + (m.kind === 'frames' ? 1 : 0), 0);

  /**
   * Sends the waiting frames as one message, unless the core has `inFlightMax` frame
   * messages still to store: then they wait for the next ack (and grow into one larger
   * message), so a burst costs a few messages instead of one per frame. Anything else
   * for the core (`force`) takes the waiting frames along first, in order.
   * @param {boolean} [force]
   */
  function flushFrames(force = false) {
    if (!batch.length) return;
    if (!force && trusted && port && batch.length < batchMax && inFlight() >= inFlightMax) return;
    const frames = batch;
    batch = [];
    send({ kind: 'frames', pageId, frames });
  }

  /** @param {CoreToPage} msg */
  function fromCore(msg) {
    if (msg.kind === 'verdict') {
      if (!msg.trusted) {
        refused = true;
        hook.postMessage(/** @type {ContentToHook} */ ({ kind: 'standDown' }));
        port?.disconnect();
        port = null;
        unacked.length = 0;
        held = 0;
        return;
      }
      ({ queueMax, batchMax } = msg);
      inFlightMax = msg.inFlight;
      if (trusted) return; // a reconnection: reconnect() has sent everything again
      trusted = true;
      hook.postMessage(/** @type {ContentToHook} */ ({ kind: 'activate', maxFrameBytes: msg.maxFrameBytes, recordUntil: msg.recordUntil }));
      for (const m of unacked) post(m);
      setInterval(checkChoice, CHOICE_POLL_MS);
    } else if (msg.kind === 'ack') {
      while (unacked.length && ackSeq(unacked[0]) <= msg.seq) held -= weight(/** @type {PageToCore} */ (unacked.shift()));
      flushFrames();
    } else if (msg.kind === 'recording') {
      hook.postMessage(/** @type {ContentToHook} */ ({ kind: 'recording', until: msg.until }));
    } else if (msg.kind === 'request') {
      // Made for the device chosen when the core decided: if the operator chose another
      // one since, the core decides again with the new choice.
      if (msg.choice !== null && msg.choice !== currentChoice()) {
        checkChoice();
        send({ kind: 'stale', token: msg.token, choice: toldChoice });
        return;
      }
      const id = nextCommand++;
      commands.set(id, msg.token);
      hook.postMessage(/** @type {ContentToHook} */ ({ kind: 'request', id, body: msg.body, waitMs: msg.waitMs }));
    } else if (msg.kind === 'dialer') {
      const id = nextCommand++;
      commands.set(id, msg.token);
      hook.postMessage(/** @type {ContentToHook} */ ({ kind: 'dialer', id, number: msg.number, confirm: msg.confirm, waitMs: msg.waitMs }));
    }
  }

  /** @param {PageToCore} m */
  function ackSeq(m) {
    return m.kind === 'frames' ? m.frames[m.frames.length - 1].seq : 'seq' in m ? m.seq : 0;
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  let retryMs = 0;
  function connect() {
    if (port || refused || retry) return;
    const p = chrome.runtime.connect({ name: M.PORT_WEBCLIENT });
    port = p;
    let answered = false;
    p.onMessage.addListener((msg) => {
      answered = true;
      retryMs = 0;
      fromCore(msg);
    });
    p.onDisconnect.addListener(() => {
      const nobody = chrome.runtime.lastError !== undefined;
      if (port !== p) return;
      port = null;
      if (refused) return;
      // The document died: come back at once, so that the worker opens a new one now (and
      // a DIAL finds this page). The new document restores the core's stored state and
      // recognises what it had already stored (page id and sequence number).
      if (answered) reconnect();
      else retryLater(nobody);
    });
  }
  /**
   * Tries again a little later, then less and less often. `nobody`: no document took the
   * port (it is being opened again), so ask the worker for one.
   * @param {boolean} nobody
   */
  function retryLater(nobody) {
    if (retry) return;
    if (nobody) M.wake();
    retryMs = Math.min(retryMs ? retryMs * 2 : 50, 2000);
    retry = setTimeout(() => {
      retry = undefined;
      reconnect();
    }, retryMs);
  }
  /** Connects again and sends everything not yet stored (once trusted; before that the
   * verdict sends it). */
  function reconnect() {
    connect();
    if (trusted) for (const m of unacked) post(m);
  }

  hook.onmessage = (ev) => {
    const m = M.parseHook(ev.data);
    if (!m || refused) return;
    if (m.kind === 'frame') {
      if (!batch.length) queueMicrotask(flushFrames);
      batch.push({ seq: ++seq, ts: m.ts, bytes: new Uint8Array(m.buf) });
      if (batch.length >= batchMax) flushFrames();
      return;
    }
    flushFrames(true);
    if (m.kind === 'open') {
      toldChoice = currentChoice();
      send({ kind: 'login', pageId, seq: ++seq, identity: identity(), choice: toldChoice });
      connect(); // a /ws/webclient socket makes any page a candidate
    } else if (m.kind === 'close') {
      send({ kind: 'closed', pageId, seq: ++seq });
    } else if (m.kind === 'session') {
      send({ kind: 'session', pageId, seq: ++seq, started: m.started });
    } else if (m.kind === 'exchange') {
      const request = m.request ? new Uint8Array(m.request) : null;
      send({ kind: 'exchange', pageId, seq: ++seq, ts: m.ts, request, status: m.status, answer: new Uint8Array(m.answer) });
    } else if (m.kind === 'tooLarge') {
      if (trusted) post({ kind: 'oversized', size: m.size });
    } else if (m.kind === 'lost') {
      // The numbers the lost ones would have had are skipped: the core sees the gap.
      seq += m.count;
      send({ kind: 'lost', pageId, seq: ++seq });
    } else if (m.kind === 'answered' || m.kind === 'dialed') {
      const token = commands.get(m.id);
      commands.delete(m.id);
      if (token === undefined) return;
      if (m.kind === 'answered') {
        send({ kind: 'answer', token, status: m.status, body: m.body ? new Uint8Array(m.body) : null, why: m.why });
      } else {
        send({ kind: 'dialed', token, ok: m.ok, why: m.why });
      }
    }
  };

  // A new document that has a command for this page asks it (through the worker) to
  // connect again.
  chrome.runtime.onMessage.addListener((/** @type {WorkerNudge} */ msg, sender, reply) => {
    if (sender.id !== chrome.runtime.id || !msg || msg.kind !== 'reconnect' || !trusted) return;
    if (!port) {
      clearTimeout(retry);
      retry = undefined;
      reconnect();
    }
    reply(true); // the worker counts a nudge nobody answers as a tab that is gone
  });

  if (looksLikeWebClient()) connect();
})();
