// Offscreen document entry: wiring only. It lives as long as the browser, unlike the
// service worker, so it holds the sockets that must stay up:
//   connector-link.js     the WebSocket to the local DATEV connector (crate::session)
//   pestroutes-stream.js  the PestRoutes middleware's event stream (crate::stream)
// It talks to the worker on its runtime port (PORT_LINK), which it opens when it starts and
// again whenever it has something to say or the worker attaches. The worker talks to it on
// a MessageChannel the worker hands over ('attach', see worker-link.js).
import './messages.js';
import init, { RecentTexts } from './wasm/cti_core.js';
import { createConnectorLink } from './connector-link.js';
import { createPestRoutesStream } from './pestroutes-stream.js';

/** The worker's channel, while the module below still loads. @type {MessagePort[]} */
const early = [];
/** @param {MessageEvent} ev */
let onAttach = (ev) => { if (ev.ports[0]) early.push(ev.ports[0]); };
// Listening before the first await: a worker's 'attach' may come before the module is ready.
navigator.serviceWorker.addEventListener('message', (ev) => onAttach(ev));
navigator.serviceWorker.startMessages();

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

// Only our own service worker can post to this document's navigator.serviceWorker.
onAttach = (ev) => {
  const m = M.parseToOffscreen(ev.data);
  if (m?.kind === 'attach' && ev.ports[0]) listen(ev.ports[0]);
};
/** @param {MessagePort} channel */
function listen(channel) {
  // Every channel a worker gave stays heard: a message sent on an older one just before
  // a newer one came is still the worker's, and in order on its own channel.
  channel.onmessage = (ev) => {
    const m = M.parseToOffscreen(ev.data);
    if (m) onWorker(m);
  };
  if (!port) connect();
}
early.splice(0).forEach(listen);

connect();
