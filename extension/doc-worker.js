// The offscreen document's side of its link to the service worker. The worker opens a
// runtime port to the document (PORT_LINK) whenever it starts, and its disconnect tells the
// worker that the document died. The document never connects to the worker: a port the
// worker does not listen for cannot reach it, so a page's port reaches the document alone
// (see messages.js). What the document has for a worker that is not connected waits here,
// in order, and a {kind: 'wake'} message starts the worker, which then connects.
//
// On each new port the document speaks first ('hello': whether it still needs the stored
// state), so the worker knows it listens before it sends anything; the worker answers
// with 'attach'. A port can close with messages on it that the stopping worker never
// handled: the store in flight, the newest status and the pinned origin go again on the
// next port.
import './messages.js';

const M = CtiMessages;
const WORKER_URL = chrome.runtime.getURL('worker.js');
const WAITING_MAX = 1000;

/** @type {chrome.runtime.Port | null} */
let port = null;
/** Messages for the worker while it is not connected. @type {DocToWorker[]} */
const waiting = [];
/** @type {Record<string, Array<(m: any) => void>>} */
const handlers = {};
/** The store in flight: sent again on a new port, answered by `stored`.
 * @type {{id: number, bridge: string, done: () => void} | null} */
let storing = null;
let storeId = 0;
/** The newest status and pin sent, for the next port. @type {DocToWorker | null} */
let lastStatus = null;
/** @type {DocToWorker | null} */
let lastPin = null;
let attached = false;

/** Also do this with one kind of message from the worker. @param {string} kind @param {(m: any) => void} fn */
export function onWorker(kind, fn) {
  (handlers[kind] ||= []).push(fn);
}

/** @param {DocToWorker} msg */
export function toWorker(msg) {
  if (msg.kind === 'status') lastStatus = msg;
  if (msg.kind === 'pin') lastPin = msg;
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

let waking = false;
/** Starts the worker (any message does); it connects once it runs. */
function wake() {
  if (waking) return;
  waking = true;
  M.wake().finally(() => { waking = false; });
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
  p.onDisconnect.addListener(() => {
    if (port !== p) return;
    port = null;
    // A worker stopped with a store of ours not done: the next one must finish it.
    if (storing) wake();
  });
  p.onMessage.addListener((raw) => {
    const m = M.parseFromWorker(raw);
    if (!m) return;
    if (m.kind === 'attach') attached = true;
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
  p.postMessage(/** @type {DocToWorker} */ ({ kind: 'hello', fresh: !attached }));
  const rest = waiting.splice(0).filter((w) => w.kind !== 'store' && w.kind !== 'status' && w.kind !== 'pin');
  if (storing) p.postMessage(/** @type {DocToWorker} */ ({ kind: 'store', id: storing.id, bridge: storing.bridge }));
  if (lastPin) p.postMessage(lastPin);
  for (const m of rest) p.postMessage(m);
  if (lastStatus) p.postMessage(lastStatus);
});

// A new document tells the worker it is there, and again, less and less often, until a
// worker has attached: until then the core has no settings and answers no page.
let wakeEvery = 250;
(function wakeUntilAttached() {
  if (attached) return;
  wake();
  setTimeout(wakeUntilAttached, wakeEvery);
  wakeEvery = Math.min(wakeEvery * 2, 2000);
})();
