// Offscreen document entry: wiring only. It lives as long as the browser, unlike the
// service worker, so it holds the sockets that must stay up:
//   connector-link.js     the WebSocket to the local DATEV connector (crate::session)
//   pestroutes-stream.js  the PestRoutes middleware's event stream (crate::stream)
// It talks to the worker on one port (PORT_LINK), which it opens when it starts and again
// whenever it has something to say or the worker asks for it.
import './messages.js';
import init, { RecentTexts } from './wasm/cti_core.js';
import { createConnectorLink } from './connector-link.js';
import { createPestRoutesStream } from './pestroutes-stream.js';

await init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') });

const M = CtiMessages;
const log = (/** @type {string} */ line) => console.log('[3CX Bridge link]', line);

/** @type {chrome.runtime.Port | null} */
let port = null;
let fresh = true;
/** @type {number | null} the connector session that acknowledged us */
let ready = null;
/** @type {OffscreenToWorker[]} */
const unsent = [];
// A worker that stopped before storing its state sends some events again; the connector
// must see each exactly once per session.
const recent = new RecentTexts();

function connect() {
  const p = chrome.runtime.connect({ name: M.PORT_LINK });
  port = p;
  p.onMessage.addListener((raw) => {
    const m = M.parseToOffscreen(raw);
    if (m) onWorker(m);
  });
  p.onDisconnect.addListener(() => { if (port === p) port = null; });
  p.postMessage(/** @type {OffscreenToWorker} */ ({ kind: 'hello', fresh, ready }));
  fresh = false;
  for (const m of unsent.splice(0)) p.postMessage(m);
}

/** @param {OffscreenToWorker} msg */
function toWorker(msg) {
  if (!port) connect();
  try {
    port?.postMessage(msg);
  } catch (_) {
    port = null;
    unsent.push(msg);
    connect();
  }
}

const link = createConnectorLink({
  onReady(generation, p) {
    ready = generation;
    recent.clear();
    toWorker({ kind: 'ready', generation, port: p });
  },
  onDown(generation) {
    if (ready === generation) ready = null;
    toWorker({ kind: 'down', generation });
  },
  onCommand(command) { toWorker({ kind: 'command', command }); },
  onStatus(status) { toWorker({ kind: 'linkStatus', status }); },
  onRememberPort(p) { toWorker({ kind: 'rememberPort', port: p }); },
  log,
});

const stream = createPestRoutesStream({
  onStatus(status) { toWorker({ kind: 'streamStatus', status }); },
  onScreenPop(pop) { toWorker({ kind: 'screenPop', pop }); },
  log,
});

/** @param {WorkerToOffscreen} m */
function onWorker(m) {
  if (m.kind === 'config') {
    link.setConfig(m.link);
    stream.setConfig(m.stream);
  } else if (m.kind === 'send') {
    if (m.generation !== ready) return; // that session is gone; the worker replays on 'ready'
    for (const text of m.texts) {
      if (recent.admit(text)) link.send(m.generation, text);
    }
  }
}

// The worker asks a running document to connect (after the worker itself restarted).
chrome.runtime.onMessage.addListener((raw, sender) => {
  if (sender.id !== chrome.runtime.id || sender.tab) return undefined;
  if (raw && raw.kind === 'attach' && !port) connect();
  return undefined;
});

connect();
