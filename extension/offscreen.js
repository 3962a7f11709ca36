// Offscreen document: lives as long as the browser, unlike the service worker, so it holds
// the sockets that must stay up: the WebSocket to the local DATEV connector (and the
// PestRoutes event stream). It only moves bytes; what to send and when comes from the
// WASM core: the outbox (Link) and the session policy (ConnectorSession, through
// connector-link.js).
//
// Offscreen documents only have chrome.runtime: settings arrive from the service worker,
// and everything that needs another chrome.* API goes back to it.
import init, { Link, maskNumber } from './wasm/cti_core.js';
import { createConnectorLink } from './connector-link.js';
import { startPestRoutes } from './pestroutes-stream.js';

await init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') });

const log = (/** @type {unknown[]} */ ...a) => console.log('[3CX Bridge link]', ...a);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

const link = new Link(10000);
let configured = false;
/** Generation of the Ready connector session, or null while there is none. */
let readyGeneration = /** @type {number | null} */ (null);

// ---- talking to the service worker ---------------------------------------------------
async function toWorker(msg) {
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      const r = await chrome.runtime.sendMessage({ target: 'background', ...msg });
      if (r && r.ok) return;
    } catch (_) { /* worker starting */ }
    await sleep(Math.min(100 * (attempt + 1), 2000));
  }
  log('service worker unreachable; dropped', msg.type);
}

function setStatus(status) {
  toWorker({ type: 'linkStatus', status: { ...status, needConfig: !configured, queued: link.queued(), dropped: link.dropped() } });
}

/** @param {string} text */
function send(text) {
  if (readyGeneration !== null) connector.send(readyGeneration, text);
}

// ---- the connector session (policy in the core, sockets in connector-link.js) --------
const connector = createConnectorLink({
  onReady(generation) {
    readyGeneration = generation;
    // The outbox's log goes out now: live calls re-announced, held events delivered.
    const texts = link.sessionStarted();
    texts.forEach(send);
    log(`sent ${texts.length} queued or re-announced events`);
  },
  onDown(generation) {
    if (readyGeneration !== generation) return;
    readyGeneration = null;
    link.sessionEnded();
  },
  onCommand(cmd) {
    const masked = cmd.kind === 'dial' ? maskNumber(cmd.number) : undefined;
    log(cmd.kind === 'dial' ? `DIAL ${masked} received` : `DROP ${cmd.callId || '(most recent call)'} received`);
    toWorker({ type: 'command', command: cmd.kind === 'dial' ? { ...cmd, masked } : cmd });
  },
  // The worker persists the port when it sees the Ready status, which the core sends
  // together with this effect: only a matching HELLO_ACK makes a port the last good one.
  onRememberPort(port) { log(`port ${port} remembered as the last good one`); },
  onStatus: setStatus,
  log,
});

// ---- messages from the service worker ------------------------------------------------
chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (!msg || msg.target !== 'offscreen' || sender.id !== chrome.runtime.id || sender.tab) return undefined;
  if (msg.type === 'events') {
    const droppedBefore = link.dropped();
    for (const e of msg.events) {
      try {
        for (const text of link.push(e.seq, e.json)) send(text);
      } catch (err) {
        log('event refused:', err.message);
      }
    }
    if (link.dropped() > droppedBefore) {
      log(`event queue full: ${link.dropped() - droppedBefore} oldest events dropped (${link.dropped()} in all)`);
    }
    reply({ ok: true, lastSeq: link.lastSeq() });
  } else if (msg.type === 'config') {
    configured = true;
    connector.setConfig(msg);
    reply({ ok: true });
  } else if (msg.type === 'pestroutesConfig') {
    startPestRoutes(msg, (m) => toWorker(m));
    reply({ ok: true });
  } else {
    return undefined;
  }
  return undefined;
});

// Until the worker sends a config, tell it that one is needed.
setStatus(connector.status());
