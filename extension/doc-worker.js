// The offscreen document's side of its link to the service worker. The worker opens a
// runtime port to the document (PORT_LINK) whenever it starts, and its disconnect tells the
// worker that the document died. The document never connects to the worker: a port the
// worker does not listen for cannot reach it, so a page's port reaches the document alone
// (see messages.js). What the document has for a worker that is not connected waits here,
// in order, and a {kind: 'wake'} message starts the worker, which then connects.
import './messages.js';

const M = CtiMessages;
const WORKER_URL = chrome.runtime.getURL('worker.js');

/** @type {chrome.runtime.Port | null} */
let port = null;
/** Messages for the worker while it is not connected. @type {DocToWorker[]} */
const waiting = [];
const WAITING_MAX = 1000;
let woken = false;
/** @type {Record<string, Array<(m: any) => void>>} */
const handlers = {};
/** The store in flight: sent again on a new port, answered by `stored`.
 * @type {{id: number, bridge: string, done: () => void} | null} */
let storing = null;
let storeId = 0;

/** Also do this with one kind of message from the worker. @param {string} kind @param {(m: any) => void} fn */
export function onWorker(kind, fn) {
  (handlers[kind] ||= []).push(fn);
}

/** @param {DocToWorker} msg */
export function toWorker(msg) {
  if (port) {
    try {
      port.postMessage(msg);
      return;
    } catch (_) {
      port = null; // the worker stopped: this waits for the next one
    }
  }
  // The newest status replaces an older one still waiting; the rest is a few messages per
  // call at most, bounded all the same.
  if (msg.kind === 'status') {
    const i = waiting.findIndex((w) => w.kind === 'status');
    if (i >= 0) waiting.splice(i, 1);
  }
  if (waiting.length >= WAITING_MAX) {
    waiting.shift();
    console.warn('[3CX Bridge] the service worker does not start: dropped the oldest message for it');
  }
  waiting.push(msg);
  wake();
}

function wake() {
  if (woken) return;
  woken = true;
  chrome.runtime.sendMessage(/** @type {Wake} */ ({ kind: 'wake' })).catch(() => {}).finally(() => { woken = false; });
}

/** Stores the core's state through the worker (storage.session); resolves once stored.
 * One at a time (see doc-store.js). @param {string} bridge @returns {Promise<void>} */
export function store(bridge) {
  return new Promise((done) => {
    storing = { id: ++storeId, bridge, done };
    toWorker({ kind: 'store', id: storing.id, bridge });
  });
}

chrome.runtime.onConnect.addListener((p) => {
  if (p.name !== M.PORT_LINK) return;
  if (p.sender?.tab || p.sender?.url !== WORKER_URL) {
    p.disconnect();
    return;
  }
  port = p;
  p.onDisconnect.addListener(() => { if (port === p) port = null; });
  p.onMessage.addListener((raw) => {
    const m = M.parseFromWorker(raw);
    if (!m) return;
    if (m.kind === 'stored') {
      if (storing && storing.id === m.id) {
        const { done } = storing;
        storing = null;
        done();
      }
      return;
    }
    for (const fn of handlers[m.kind] || []) fn(m);
  });
  // A store the last worker may not have finished goes again.
  const rest = waiting.splice(0).filter((w) => w.kind !== 'store');
  if (storing) p.postMessage(/** @type {DocToWorker} */ ({ kind: 'store', id: storing.id, bridge: storing.bridge }));
  for (const m of rest) p.postMessage(m);
});

// A new document tells the worker it is there: the worker connects and attaches.
wake();
