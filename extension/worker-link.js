// The connector link lives in the offscreen document (it outlives this worker). This file
// keeps that document alive, hands it what the core wants sent, and feeds the core what
// the link reports.
//
// Two ways, each the fastest for its direction. To the document: a MessageChannel this
// worker makes and hands over with Client.postMessage; it stays inside the extension's
// process (a runtime port goes through the browser process, which costs about as much
// again per CALL_EVENT). From the document: its runtime port, because only an extension
// event wakes a stopped worker, and the port's disconnect tells that the document died.
import { currentSettings, log, onEffect, onSettings, withCore } from './worker-core.js';

const M = CtiMessages;
const OFFSCREEN_URL = 'offscreen.html';

/** @type {chrome.runtime.Port | null} the document's port to us */
let port = null;
/** @type {MessagePort | null} our channel to the document */
let channel = null;
/** Messages for the offscreen document while no channel is up. @type {WorkerToOffscreen[]} */
const waiting = [];
/** CALL_EVENT texts of this task, sent as one message per session. @type {Map<number, string[]>} */
let texts = new Map();
/** @type {Promise<void> | null} */
let creating = null;

/** Listeners for what the offscreen document reports that is not the link's (screen-pops). */
/** @type {Record<string, (m: any) => void>} */
const others = {};
/** @param {string} kind @param {(m: any) => void} fn */
export function onOffscreen(kind, fn) {
  others[kind] = fn;
}

/**
 * The worker's `self.clients`, typed by hand: the extension is checked against the DOM
 * library, which has no service-worker globals.
 * @typedef {{url: string, postMessage(message: unknown, transfer: Transferable[]): void}} WindowClientLike
 * @typedef {{matchAll(o: {type: 'window', includeUncontrolled: boolean}): Promise<WindowClientLike[]>}} ClientsLike
 */
const clients = /** @type {ClientsLike} */ (Reflect.get(self, 'clients'));

/** The offscreen document as this worker's client, if it is open. */
async function findOffscreen() {
  const url = chrome.runtime.getURL(OFFSCREEN_URL);
  const all = await clients.matchAll({ type: 'window', includeUncontrolled: true });
  return all.find((c) => c.url === url) || null;
}

/** Opens the document if needed and hands it a new channel; sends what waited. */
async function ensureOffscreen() {
  if (channel) return;
  let client = await findOffscreen();
  if (!client) {
    creating = creating || chrome.offscreen.createDocument({
      url: OFFSCREEN_URL,
      reasons: [chrome.offscreen.Reason.WORKERS],
      justification: 'Keeps the WebSocket to the local DATEV connector and the PestRoutes event stream open while the service worker sleeps.',
    }).catch((e) => { if (!String(e.message).includes('single offscreen')) log('offscreen document:', e.message); })
      .finally(() => { creating = null; });
    await creating;
    client = await findOffscreen();
  }
  if (!client || channel) return;
  const ch = new MessageChannel();
  client.postMessage(/** @type {WorkerToOffscreen} */ ({ kind: 'attach' }), [ch.port2]);
  channel = ch.port1;
  for (const msg of waiting.splice(0)) channel.postMessage(msg);
}

/** @param {WorkerToOffscreen} msg */
function toOffscreen(msg) {
  if (channel) {
    channel.postMessage(msg);
    return;
  }
  // Sends for a session the link has since lost are useless; the core replays on 'ready'.
  waiting.push(msg);
  ensureOffscreen();
}

async function linkSettings() {
  const { lastGoodPort = 0 } = await chrome.storage.local.get('lastGoodPort');
  /** @type {Promise<WorkerToOffscreen>} */
  return new Promise((resolve) => withCore((c) => {
    const link = c.linkConfig();
    const s = currentSettings();
    resolve({
      kind: 'config',
      link: { ...link, lastGoodPort: Number(lastGoodPort) || 0 },
      stream: { serverAddress: c.streamAddress(), sharedSecret: s.sharedSecret, agent: link.extension },
    });
  }));
}

/** Sends the link's and the stream's configuration to the offscreen document. */
function pushConfig() {
  linkSettings().then(toOffscreen);
}

chrome.runtime.onConnect.addListener((p) => {
  if (p.name !== M.PORT_LINK) return;
  if (p.sender?.tab || p.sender?.url !== chrome.runtime.getURL(OFFSCREEN_URL)) {
    p.disconnect();
    return;
  }
  port = p;
  p.onDisconnect.addListener(() => {
    if (port !== p) return;
    port = null;
    // The document closed or crashed: its sockets are gone, and so is the other end of
    // our channel. The core keeps every event the connector has not had; a new document
    // gets them once its connector answers.
    chrome.offscreen.hasDocument().then((has) => {
      if (has) return;
      channel?.close();
      channel = null;
      withCore((c) => c.handleLinkRestarted());
      ensureOffscreen().then(pushConfig);
    });
  });
  p.onMessage.addListener((raw) => {
    const m = M.parseOffscreen(raw);
    if (m) onMessage(m);
  });
});

/** @param {OffscreenToWorker} m */
function onMessage(m) {
  switch (m.kind) {
    case 'hello':
      withCore((c) => {
        if (m.fresh) c.handleLinkRestarted();
        if (m.ready !== null && c.session() !== m.ready) c.handleLinkReady(m.ready);
      });
      pushConfig();
      break;
    case 'ready': withCore((c) => c.handleLinkReady(m.generation)); break;
    case 'down': withCore((c) => c.handleLinkDown(m.generation)); break;
    case 'linkStatus': withCore((c) => c.handleLinkReport(JSON.stringify(m.status), Date.now())); break;
    case 'streamStatus': withCore((c) => c.handleStreamReport(JSON.stringify(m.status))); break;
    case 'rememberPort': chrome.storage.local.set({ lastGoodPort: m.port }); break;
    case 'command':
      withCore((c) => {
        try {
          c.handleCommand(JSON.stringify(m.command), Date.now());
        } catch (e) {
          log('command refused:', /** @type {Error} */ (e).message);
        }
      });
      break;
    default: others[m.kind]?.(m);
  }
}

onEffect('toConnector', (e) => {
  if (!texts.size) {
    queueMicrotask(() => {
      const batch = texts;
      texts = new Map();
      for (const [generation, list] of batch) toOffscreen({ kind: 'send', generation, texts: list });
    });
  }
  const list = texts.get(e.generation) || [];
  list.push(e.text);
  texts.set(e.generation, list);
});

onEffect('linkConfig', () => pushConfig());
onSettings(() => pushConfig());

// A new worker reaches the document at once, while its core is still loading: the first
// CALL_EVENT after a worker stop then finds the channel up.
ensureOffscreen();
