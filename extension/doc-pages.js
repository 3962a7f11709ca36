// WebClient tabs: one runtime port per page (from content.js), held by the offscreen
// document, where the core is. Chrome tells who is on the other end (tab, frame, origin);
// the core decides from that alone whether to believe it. Frames go into the core as they
// arrive; the page hears `ack` once their effect is stored.
import { afterPersist, onEffect, withCore } from './doc-core.js';
import { onWorker, toWorker } from './doc-worker.js';
import { pageLimits } from './wasm/cti_core.js';

const M = CtiMessages;
/** @type {Map<number, chrome.runtime.Port>} tab id -> its page's port */
const ports = new Map();
/** @typedef {Extract<CoreToPage, {kind: 'request' | 'dialer'}>} PageCommand */
/** Commands for a page that is not connected (yet). @type {Map<number, PageCommand[]>} */
const waiting = new Map();
/** How long a nudged page has to connect before what waits for it fails (the core allows
 * for it in bridge::commands::REQUEST_ANSWER_MS). */
const NUDGE_WAIT_MS = 5000;
/** @type {Map<number, ReturnType<typeof setTimeout>>} */
const nudged = new Map();

chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== M.PORT_WEBCLIENT) return;
  const sender = port.sender;
  const tab = sender?.tab?.id;
  const origin = sender?.origin;
  if (tab === undefined || sender?.frameId !== 0 || !origin) {
    port.disconnect();
    return;
  }
  // Listen now: messages queue behind the core's loading, in arrival order.
  port.onMessage.addListener((raw) => {
    const m = M.parsePage(raw);
    if (m) withCore((c) => onPage(c, tab, origin, port, m));
  });
  port.onDisconnect.addListener(() => {
    if (ports.get(tab) === port) ports.delete(tab);
  });
  withCore((c) => {
    const trusted = c.pageVerdict(origin, Date.now()) !== 'untrusted';
    const recordUntil = trusted ? c.recordingUntil(Date.now()) : 0;
    port.postMessage(/** @type {CoreToPage} */ ({ kind: 'verdict', trusted, ...pageLimits(), recordUntil }));
    if (!trusted) return port.disconnect();
    ports.set(tab, port);
    for (const msg of waiting.get(tab) || []) port.postMessage(msg);
    waiting.delete(tab);
    endNudge(tab);
  });
});

/**
 * @param {import('./wasm/cti_core.js').Bridge} c
 * @param {number} tab
 * @param {string} origin
 * @param {chrome.runtime.Port} port
 * @param {PageToCore} m
 */
function onPage(c, tab, origin, port, m) {
  let seq = -1;
  switch (m.kind) {
    case 'frames': {
      // The page's strings cross once per message; each frame then only its bytes.
      const page = c.page(tab, origin, m.pageId);
      for (const f of m.frames) c.handleFrame(page, f.seq, f.ts, f.bytes);
      seq = m.frames.length ? m.frames[m.frames.length - 1].seq : -1;
      break;
    }
    case 'login':
      c.handleLogin(tab, origin, m.pageId, m.seq, m.identity.extension, m.identity.domain, m.identity.webclientVersion,
        m.identity.userName, m.choice, Date.now());
      seq = m.seq;
      break;
    case 'session':
      c.handleSession(tab, origin, m.pageId, m.seq, m.started, Date.now());
      seq = m.seq;
      break;
    case 'exchange':
      c.handleExchange(tab, origin, m.pageId, m.seq, m.ts, m.request ?? undefined, m.status, m.answer);
      seq = m.seq;
      break;
    case 'device':
      c.handleDeviceChoice(tab, origin, m.pageId, m.seq, m.choice, Date.now());
      seq = m.seq;
      break;
    case 'closed':
      c.handleSocketClosed(tab, origin, m.pageId, m.seq, Date.now());
      seq = m.seq;
      break;
    case 'lost':
      c.handleLost(tab, origin, m.pageId, m.seq, Date.now());
      seq = m.seq;
      break;
    case 'answer':
      c.handleAnswer(tab, m.token, m.status, m.body ?? new Uint8Array(0), m.why, Date.now());
      return;
    case 'stale':
      c.handleStaleChoice(tab, m.token, m.choice, Date.now());
      return;
    case 'dialed':
      c.handleDialerResult(tab, m.token, m.ok, m.why, Date.now());
      return;
    case 'oversized':
      c.handleOversizedFrame(tab, origin, m.size, Date.now());
      return;
  }
  if (seq >= 0) {
    afterPersist(() => {
      try {
        port.postMessage(/** @type {CoreToPage} */ ({ kind: 'ack', seq }));
      } catch (_) { /* the page went away */ }
    });
  }
}

/**
 * Sends to the tab's page. A page that is not connected (this document is new, or its
 * port closed) is asked through the worker to connect again, and gets the message then.
 * @param {number} tab @param {PageCommand} msg
 */
function toPage(tab, msg) {
  const port = ports.get(tab);
  if (port) {
    try {
      port.postMessage(msg);
      return;
    } catch (_) {
      ports.delete(tab);
    }
  }
  const list = waiting.get(tab) || [];
  list.push(msg);
  waiting.set(tab, list);
  if (nudged.has(tab)) return;
  toWorker({ kind: 'nudge', tab });
  nudged.set(tab, setTimeout(() => unreachable(tab), NUDGE_WAIT_MS));
}

/** The tab connected, went away or did not answer: its nudge is over. @param {number} tab */
function endNudge(tab) {
  clearTimeout(nudged.get(tab));
  nudged.delete(tab);
}

/** The tab does not answer (the worker's nudge failed, or it did not connect in time):
 * what waited for it fails now. @param {number} tab */
function unreachable(tab) {
  endNudge(tab);
  const list = waiting.get(tab) || [];
  waiting.delete(tab);
  withCore((c) => {
    for (const msg of list) c.handleUndelivered(tab, msg.token, 'the WebClient tab does not answer', Date.now());
  });
}
onWorker('unreachable', (/** @type {{tab: number}} */ m) => unreachable(m.tab));

onEffect('request', (e) => toPage(e.tab, { kind: 'request', token: e.token, body: e.body, choice: e.choice, waitMs: e.waitMs }));
onEffect('dialer', (e) => toPage(e.tab, { kind: 'dialer', token: e.token, number: e.number, confirm: e.confirm, waitMs: e.waitMs }));
// A page that is not connected hears of a recording in its verdict when it connects.
onEffect('recording', (e) => {
  try {
    ports.get(e.tab)?.postMessage(/** @type {CoreToPage} */ ({ kind: 'recording', until: e.until }));
  } catch (_) { /* the page went away */ }
});

// A closed WebClient tab takes its calls with it: they end for DATEV now.
onWorker('tabClosed', (/** @type {{tab: number}} */ m) => {
  ports.delete(m.tab);
  waiting.delete(m.tab);
  endNudge(m.tab);
  withCore((c) => c.handleTabClosed(m.tab, Date.now()));
});
