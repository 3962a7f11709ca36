// Offscreen document: lives as long as the browser, unlike the service worker, so it holds
// the sockets that must stay up: the WebSocket to the local DATEV connector (and the
// PestRoutes event stream). It only moves bytes; what to send and when comes from the
// WASM core (outbox, HELLO, message parsing, port plan).
//
// Offscreen documents only have chrome.runtime: settings arrive from the service worker,
// and everything that needs another chrome.* API goes back to it.
import init, { Link, helloMessage, parseConnectorMessage, probePlan } from './wasm/cti_core.js';
import { startPestRoutes } from './pestroutes-stream.js';

await init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') });

const HELLO_ACK_TIMEOUT_MS = 2000;
const HELLO_TRIES = 3;
const PROBE_TIMEOUT_MS = 1500;
const BACKOFF_MIN_MS = 2000;
const BACKOFF_MAX_MS = 30000;

const log = (...a) => console.log('[3CX Bridge link]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const link = new Link(10000);
let config = null;           // {extension, domain, webclientVersion, userName, bridgePort, lastGoodPort}
let configChanged = null;    // resolves the wait for a (new) config
let socket = null;
let acked = false;

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

function setStatus(next) {
  toWorker({ type: 'linkStatus', status: { ...next, queued: link.queued(), dropped: link.dropped() } });
}

// ---- finding the connector -----------------------------------------------------------
async function probe(port, signal) {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  signal && signal.addEventListener('abort', stop);
  const t = setTimeout(stop, PROBE_TIMEOUT_MS);
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
    return r.status === 200 && (await r.text()).trim() === 'OK';
  } catch (_) {
    return false;
  } finally {
    clearTimeout(t);
    signal && signal.removeEventListener('abort', stop);
  }
}

// Preferred port, then the last good one, then the whole range in parallel (first wins).
async function discover() {
  const plan = probePlan(config.extension, config.bridgePort || 0, config.lastGoodPort || 0);
  for (const port of plan.first) {
    if (await probe(port)) return port;
  }
  if (!plan.rest.length) return null;
  const ctl = new AbortController();
  const found = await new Promise((resolve) => {
    let left = plan.rest.length;
    for (const port of plan.rest) {
      probe(port, ctl.signal).then((ok) => {
        if (ok) resolve(port);
        if (--left === 0) resolve(null);
      });
    }
  });
  ctl.abort();
  return found;
}

// ---- one session with the connector --------------------------------------------------
function send(text) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
}

function session(port) {
  return new Promise((resolve) => {
    let tries = 0;
    let helloTimer = null;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    socket = ws;
    acked = false;
    const hello = () => {
      if (tries++ >= HELLO_TRIES) {
        log(`no HELLO_ACK from port ${port} after ${HELLO_TRIES} HELLOs; reconnecting`);
        ws.close();
        return;
      }
      ws.send(helloMessage(config.extension, config.domain, config.webclientVersion, config.userName));
      helloTimer = setTimeout(hello, HELLO_ACK_TIMEOUT_MS);
    };
    ws.onopen = () => {
      setStatus({ state: 'connected', port });
      hello();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        log('binary message from the connector ignored');
        return;
      }
      let msg;
      try {
        msg = parseConnectorMessage(ev.data);
      } catch (e) {
        log(`connector message refused: ${e.message}`);
        return;
      }
      if (msg.kind === 'helloAck') {
        if (acked) return;
        acked = true;
        clearTimeout(helloTimer);
        const texts = link.sessionStarted();
        texts.forEach(send);
        log(`HELLO acknowledged on port ${port}; sent ${texts.length} queued or re-announced events`);
        setStatus({ state: 'ready', port, bridgeVersion: msg.bridgeVersion || '' });
      } else if (!acked) {
        log(`${msg.kind.toUpperCase()} before HELLO_ACK ignored`);
      } else {
        log(msg.kind === 'dial' ? `DIAL ${msg.masked} received` : `DROP ${msg.callId || '(most recent call)'} received`);
        toWorker({ type: 'command', command: msg });
      }
    };
    ws.onclose = () => {
      clearTimeout(helloTimer);
      link.sessionEnded();
      socket = null;
      const wasAcked = acked;
      acked = false;
      resolve(wasAcked);
    };
  });
}

async function run() {
  let backoff = BACKOFF_MIN_MS;
  for (;;) {
    if (!config || !config.extension) {
      setStatus({ state: 'waiting', needConfig: !config });
      await new Promise((r) => { configChanged = r; });
      continue;
    }
    setStatus({ state: 'searching' });
    const port = await discover();
    if (port !== null) {
      setStatus({ state: 'connecting', port });
      if (await session(port)) backoff = BACKOFF_MIN_MS;
      setStatus({ state: 'searching', lastPort: port });
    }
    await Promise.race([sleep(backoff), new Promise((r) => { configChanged = r; })]);
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  }
}

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
    const next = { extension: msg.extension, domain: msg.domain, webclientVersion: msg.webclientVersion, userName: msg.userName, bridgePort: msg.bridgePort, lastGoodPort: msg.lastGoodPort };
    const changed = !config || config.extension !== next.extension || config.bridgePort !== next.bridgePort;
    config = next;
    if (changed) {
      if (socket) socket.close();
      if (configChanged) configChanged();
    }
    reply({ ok: true });
  } else if (msg.type === 'pestroutesConfig') {
    startPestRoutes(msg, (m) => toWorker(m));
    reply({ ok: true });
  } else {
    return undefined;
  }
  return undefined;
});

run();
