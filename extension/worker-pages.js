// WebClient tabs: one runtime port per page (from content.js). Chrome tells who is on the
// other end (tab, frame, origin); the core decides from that alone whether to believe it.
// Frames go into the core as they arrive; the page hears `ack` once their effect is stored.
import { afterPersist, onEffect, withCore } from './worker-core.js';
import { pageLimits } from './wasm/cti_core.js';

const M = CtiMessages;
/** @type {Map<number, chrome.runtime.Port>} tab id -> its page's port */
const ports = new Map();
const log = (/** @type {unknown[]} */ ...a) => console.log('[3CX Bridge]', ...a);

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
    port.postMessage(/** @type {WorkerToPage} */ ({ kind: 'verdict', trusted, ...pageLimits() }));
    if (trusted) ports.set(tab, port);
    else port.disconnect();
  });
});

/**
 * @param {import('./wasm/cti_core.js').Bridge} c
 * @param {number} tab
 * @param {string} origin
 * @param {chrome.runtime.Port} port
 * @param {PageToWorker} m
 */
function onPage(c, tab, origin, port, m) {
  let seq = -1;
  switch (m.kind) {
    case 'frames':
      for (const f of m.frames) c.handleFrame(tab, origin, m.pageId, f.seq, f.ts, f.bytes);
      seq = m.frames.length ? m.frames[m.frames.length - 1].seq : -1;
      break;
    case 'login':
      c.handleLogin(tab, origin, m.pageId, m.seq, m.identity, Date.now());
      seq = m.seq;
      break;
    case 'closed':
      c.handleSocketClosed(tab, origin, m.pageId, m.seq, Date.now());
      seq = m.seq;
      break;
    case 'sent':
      c.handleSendResult(tab, m.token, m.ok, m.why);
      return;
  }
  if (seq >= 0) {
    afterPersist(() => {
      try {
        port.postMessage(/** @type {WorkerToPage} */ ({ kind: 'ack', seq }));
      } catch (_) { /* the page went away */ }
    });
  }
}

/** @param {number} tab @param {WorkerToPage} msg */
function toPage(tab, msg) {
  const port = ports.get(tab);
  if (!port) return false;
  try {
    port.postMessage(msg);
    return true;
  } catch (_) {
    return false;
  }
}

onEffect('frameToTab', (e) => {
  if (!toPage(e.tab, { kind: 'send', token: e.token, frame: e.frame })) {
    withCore((c) => c.handleSendResult(e.tab, e.token, false, 'the WebClient tab is not connected'));
  }
});

onEffect('telDial', (e) => {
  if (!toPage(e.tab, { kind: 'tel', token: 0, number: e.number, delayMs: e.delayMs })) {
    log('tel: dial not started: the WebClient tab is not connected');
  }
});

// A closed WebClient tab takes its calls with it: they end for DATEV now.
chrome.tabs.onRemoved.addListener((tab) => {
  ports.delete(tab);
  withCore((c) => c.handleTabClosed(tab, Date.now()));
});
