// TEMPORARY adapter (replaced by the session-machine adapter): the old offscreen link logic
// behind the new callback API, so the worker can be tested meanwhile.
import { helloMessage, parseConnectorMessage, probePlan } from './wasm/cti_core.js';

/** @param {any} h */
export function createConnectorLink(h) {
  /** @type {any} */
  let config = null;
  /** @type {WebSocket | null} */
  let socket = null;
  let generation = 0;
  let acked = false;
  /** @type {(() => void) | null} */
  let wake = null;
  const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

  /** @param {number} port */
  async function probe(port) {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), 1500);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
      return r.status === 200 && (await r.text()).trim() === 'OK';
    } catch (_) { return false; } finally { clearTimeout(t); }
  }
  async function discover() {
    const plan = probePlan(config.extension, config.bridgePort || 0, config.lastGoodPort || 0);
    for (const p of plan.first) if (await probe(p)) return p;
    if (!plan.rest.length) return null;
    const res = await Promise.all(plan.rest.map((/** @type {number} */ p) => probe(p).then((ok) => (ok ? p : null))));
    return res.find((p) => p !== null) ?? null;
  }
  /** @param {number} port */
  function session(port) {
    return new Promise((resolve) => {
      const gen = ++generation;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      socket = ws;
      acked = false;
      let tries = 0;
      /** @type {any} */
      let t = null;
      const hello = () => {
        if (tries++ >= 3) { ws.close(); return; }
        ws.send(helloMessage(config.extension, config.domain, config.webclientVersion, config.userName));
        t = setTimeout(hello, 2000);
      };
      ws.onopen = () => { h.onStatus({ state: 'connecting', port }); hello(); };
      ws.onmessage = (ev) => {
        let msg;
        try { msg = parseConnectorMessage(String(ev.data)); } catch (e) { h.log(`refused: ${/** @type {Error} */ (e).message}`); return; }
        if (msg.kind === 'helloAck') {
          if (acked) return;
          acked = true; clearTimeout(t);
          h.onRememberPort(port);
          h.onStatus({ state: 'ready', port });
          h.onReady(gen, port);
        } else if (acked) {
          h.onCommand(msg.kind === 'dial' ? { kind: 'dial', number: msg.number } : { kind: 'drop', callId: msg.callId || undefined });
        }
      };
      ws.onclose = () => { clearTimeout(t); socket = null; if (acked) h.onDown(gen); acked = false; resolve(null); };
    });
  }
  async function run() {
    for (;;) {
      if (!config || !config.extension) {
        h.onStatus({ state: 'waiting' });
        await new Promise((r) => { wake = () => r(null); });
        continue;
      }
      h.onStatus({ state: 'searching' });
      const port = await discover();
      if (port !== null) await session(port);
      await Promise.race([sleep(2000), new Promise((r) => { wake = () => r(null); })]);
    }
  }
  run();
  return {
    /** @param {LinkSettings} cfg */
    setConfig(cfg) {
      const changed = !config || config.extension !== cfg.extension || config.bridgePort !== cfg.bridgePort;
      config = cfg;
      if (changed) { socket?.close(); wake?.(); }
    },
    /** @param {number} gen @param {string} text */
    send(gen, text) {
      if (gen !== generation || !socket || !acked) return false;
      socket.send(text);
      return true;
    },
  };
}
