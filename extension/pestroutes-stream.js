// The PestRoutes middleware's event stream (spec/pestroutes-sse.md), held by the offscreen
// document so it stays up while Chrome runs. This shell owns the fetches and one timer;
// when to open, what the events mean, how long to wait, when a silent stream is replaced:
// all of it comes from the core (core/src/stream.rs).
//
// A streaming fetch (not EventSource), so 400/403 can be told apart and the core's parser
// sees the raw bytes.
import { PestRoutesStream } from './wasm/cti_core.js';

/**
 * @typedef {{ onStatus(status: StreamReport): void, onScreenPop(pop: ScreenPop): void,
 *             log(line: string): void }} StreamHooks
 * @typedef {{ kind: 'open', generation: number, url: string } | { kind: 'abort', generation: number }
 *   | { kind: 'screenPop', pop: ScreenPop } | { kind: 'status', status: StreamReport }
 *   | { kind: 'log', line: string }} StreamEffect
 */

/** @param {StreamHooks} hooks */
export function createPestRoutesStream(hooks) {
  const core = new PestRoutesStream();
  /** @type {Map<number, AbortController>} */
  const streams = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /** Runs one input into the core, then carries out what it decided. @param {(now: number) => void} input */
  function feed(input) {
    input(Date.now());
    for (const e of /** @type {StreamEffect[]} */ (core.poll())) apply(e);
    clearTimeout(timer);
    const at = core.pollTimeout();
    if (at !== undefined) timer = setTimeout(() => feed((now) => core.handleTimeout(now)), Math.max(0, at - Date.now()));
  }

  /** @param {StreamEffect} e */
  function apply(e) {
    switch (e.kind) {
      case 'open': read(e.generation, e.url); break;
      case 'abort': streams.get(e.generation)?.abort(); streams.delete(e.generation); break;
      case 'screenPop': hooks.onScreenPop(e.pop); break;
      case 'status': hooks.onStatus(e.status); break;
      case 'log': hooks.log(e.line); break;
    }
  }

  /** @param {number} generation @param {string} url */
  async function read(generation, url) {
    const ctl = new AbortController();
    streams.set(generation, ctl);
    try {
      const res = await fetch(url, { headers: { Accept: 'text/event-stream' }, cache: 'no-store', credentials: 'omit', signal: ctl.signal });
      feed((now) => core.handleResponse(generation, res.status, now));
      if (!res.ok || !res.body) return;
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feed((now) => core.handleBytes(generation, value, now));
      }
      feed((now) => core.handleEnd(generation, now));
    } catch (_) {
      if (!ctl.signal.aborted) feed((now) => core.handleError(generation, now));
    } finally {
      streams.delete(generation);
    }
  }

  return {
    /** @param {StreamSettings} cfg */
    setConfig(cfg) {
      feed((now) => core.setConfig(cfg.serverAddress || '', cfg.sharedSecret || '', cfg.agent || '', now));
    },
  };
}
