// The PestRoutes middleware's event stream (spec/pestroutes-sse.md), held by the
// offscreen document so that it stays up while Chrome runs, whatever the service worker
// does: the middleware drops any event sent while the operator's stream is down.
//
// A streaming fetch (not EventSource) so that 400/403 can be told apart and shown as
// configuration problems, and so the core's parser sees the raw bytes.
import { EventStream, parseOpenCustomer } from './wasm/cti_core.js';

const BACKOFF_MIN_MS = 2000;
const BACKOFF_MAX_MS = 30000;
const CONFIG_PROBLEM_RETRY_MS = 5 * 60 * 1000; // 400/403: no tight loop, the admin must act

const log = (...a) => console.log('[3CX Bridge PestRoutes]', ...a);
const sleep = (ms, signal) => new Promise((r) => {
  const t = setTimeout(r, ms);
  signal && signal.addEventListener('abort', () => { clearTimeout(t); r(); });
});

let current = null; // {key, ctl}
let report = () => {};

/** `host:port` or an http(s) URL → the base URL, or null when unusable. */
export function baseUrl(address) {
  const a = String(address || '').trim();
  if (!a) return null;
  try {
    const u = new URL(/^https?:\/\//i.test(a) ? a : `http://${a}`);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.origin + u.pathname.replace(/\/+$/, '');
  } catch (_) {
    return null;
  }
}

function setState(state, extra = {}) {
  report({ type: 'streamStatus', status: { state, at: Date.now(), ...extra } });
}

// TEMPORARY: the callback API the offscreen entry uses, over the old loop.
export function createPestRoutesStream(h) {
  report = (m) => (m.type === 'screenPop' ? h.onScreenPop(m.pop) : h.onStatus(m.status));
  return { setConfig: (cfg) => startPestRoutes(cfg) };
}

/** (Re)starts the stream for {serverAddress, sharedSecret, agent}; unchanged config is a no-op. */
export function startPestRoutes(cfg) {
  const base = baseUrl(cfg.serverAddress);
  const key = JSON.stringify([base, cfg.sharedSecret, cfg.agent]);
  if (current && current.key === key) return;
  if (current) current.ctl.abort();
  const ctl = new AbortController();
  current = { key, ctl };
  if (!base || !cfg.sharedSecret || !cfg.agent) {
    setState('unconfigured');
    return;
  }
  run(base, cfg.sharedSecret, String(cfg.agent), ctl.signal);
}

async function run(base, secret, agent, signal) {
  const url = `${base}/sse?agent=${encodeURIComponent(agent)}&secret=${encodeURIComponent(secret)}`;
  const stream = new EventStream();
  let backoff = BACKOFF_MIN_MS;
  while (!signal.aborted) {
    setState('connecting');
    let wait = backoff;
    try {
      const res = await fetch(url, { headers: { Accept: 'text/event-stream' }, cache: 'no-store', credentials: 'omit', signal });
      if (res.status === 403 || res.status === 400) {
        setState(res.status === 403 ? 'forbidden' : 'badRequest');
        log(res.status === 403 ? 'middleware refused the secret (403)' : 'middleware refused the request (400): agent missing');
        await sleep(CONFIG_PROBLEM_RETRY_MS, signal);
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      stream.reset();
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const ev of stream.feed(value)) {
          if (handle(ev, agent)) backoff = BACKOFF_MIN_MS;
        }
      }
      // A clean end (pode.close, server restart): come back after the server's retry.
      wait = stream.retryMs() ?? BACKOFF_MIN_MS;
      log('stream closed by the server; reconnecting');
      setState('connecting');
    } catch (e) {
      if (signal.aborted) return;
      setState('unreachable');
      log('middleware unreachable:', e.message);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      wait = Math.max(wait, stream.retryMs() ?? 0);
    }
    await sleep(wait, signal);
  }
}

// Returns true when the event shows a healthy stream.
function handle(ev, agent) {
  switch (ev.event) {
    case 'pode.open':
      return true;
    case 'connected':
      setState('connected', { agent });
      return true;
    case 'pode.close':
      return false;
    case 'openCustomer': {
      let pop;
      try {
        pop = parseOpenCustomer(ev.data, agent);
      } catch (e) {
        log(`openCustomer ignored: ${e.message}`);
        return true;
      }
      report({ type: 'screenPop', pop });
      return true;
    }
    default:
      log(`event ${JSON.stringify(String(ev.event).slice(0, 40))} ignored`);
      return true;
  }
}
