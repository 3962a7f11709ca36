// The connector link lives in the offscreen document (it outlives this worker). This file
// keeps that document alive, holds the port it connects to us, hands it what the core
// wants sent, and feeds the core what the link reports.
import { currentSettings, log, onEffect, onSettings, withCore } from './worker-core.js';

const M = CtiMessages;
const OFFSCREEN_URL = 'offscreen.html';

/** @type {chrome.runtime.Port | null} */
let port = null;
/** Messages for the offscreen document while its port is not connected. @type {WorkerToOffscreen[]} */
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

async function ensureOffscreen() {
  if (await chrome.offscreen.hasDocument()) {
    // It exists but is not connected to this (new) worker: ask it to connect.
    chrome.runtime.sendMessage(/** @type {WorkerToOffscreen} */ ({ kind: 'attach' })).catch(() => {});
    return;
  }
  creating = creating || chrome.offscreen.createDocument({
    url: OFFSCREEN_URL,
    reasons: [chrome.offscreen.Reason.WORKERS],
    justification: 'Keeps the WebSocket to the local DATEV connector and the PestRoutes event stream open while the service worker sleeps.',
  }).catch((e) => { if (!String(e.message).includes('single offscreen')) log('offscreen document:', e.message); })
    .finally(() => { creating = null; });
  await creating;
}

/** @param {WorkerToOffscreen} msg */
function toOffscreen(msg) {
  if (port) {
    try {
      port.postMessage(msg);
      return;
    } catch (_) {
      port = null;
    }
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
      stream: { serverAddress: s.serverAddress, sharedSecret: s.sharedSecret, agent: link.extension },
    });
  }));
}

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
    // The document closed or crashed: its sockets are gone. The core keeps every event
    // the connector has not had; a new document gets them once its connector answers.
    chrome.offscreen.hasDocument().then((has) => {
      if (has) return;
      withCore((c) => c.handleLinkRestarted());
      ensureOffscreen().then(pushConfig);
    });
  });
  p.onMessage.addListener((raw) => {
    const m = M.parseOffscreen(raw);
    if (m) onMessage(m);
  });
  for (const msg of waiting.splice(0)) toOffscreen(msg);
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
    case 'linkStatus': withCore((c) => c.handleLinkReport(m.status, Date.now())); break;
    case 'streamStatus': withCore((c) => c.handleStreamReport(m.status)); break;
    case 'rememberPort': chrome.storage.local.set({ lastGoodPort: m.port }); break;
    case 'command':
      withCore((c) => {
        try {
          c.handleCommand(m.command, Date.now());
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
