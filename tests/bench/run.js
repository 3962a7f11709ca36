// The benchmark of issue 10, one command after ./build.sh:  node tests/bench/run.js
// Prints every figure on a labelled line (a. to g.), then a table of figures and targets.
// Real headless Chromium with the built dist/, the simulated PBX and connector on loopback.
//
// Environment (defaults in brackets), for quicker runs:
//   BENCH_PARTS [abcde]  which parts run      BENCH_CALLS [1000]    a. calls (2 frames each)
//   BENCH_WARMUP [50]    a. calls not counted BENCH_GAP_MS [10]     a. pause between frames
//   BENCH_LOAD_RATE [2000] b. frames/s        BENCH_LOAD_SECONDS [60] b. duration
//   BENCH_COLD_RUNS [10] c. worker stops      BENCH_WASM_FRAMES [1000000] d. frames per run
//   BENCH_WASM_RUNS [3]  d. runs (best kept)  BENCH_TWIGGY [1]      0: do not install twiggy
//   BENCH_DIALS [30]     g. DIALs (DIAL -> request at the PBX, -> "dialing" at the connector)
// Part f. runs a. and c. (BENCH_FLOOR_CALLS [300] calls, BENCH_COLD_RUNS stops) on a bare
// relay extension over the same hops (tests/bench/floor.js): what the browser allows here.
'use strict';
const os = require('node:os');
const { launch, waitFor, DIST } = require('../lib/harness');
const { Pbx } = require('../lib/pbx');
const { Connector } = require('../lib/connector');
const { Ledger, fmt } = require('./measure');
const { latency, load, cold, dialing } = require('./browser');
const { wasmBench } = require('./wasm');
const { sizeBench } = require('./size');
const { floor } = require('./floor');

const EXT = '77';
const num = (/** @type {string} */ name, /** @type {number} */ def) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : def;
};
const PARTS = process.env.BENCH_PARTS || 'abcdefg';
const SAMPLE_S = 5;

/** @type {Array<[string, string, string, boolean | null]>} figure, measured, target, pass (null: no target) */
const rows = [];
/** @param {string} figure @param {string} measured @param {string} target @param {boolean | null} pass */
const row = (figure, measured, target, pass) => rows.push([figure, measured, target, pass]);

async function browserParts() {
  const h = await launch();
  const pbx = await new Pbx({ extension: EXT }).start();
  const conn = await new Connector({ port: 19800 + Number(EXT) }).start();
  let page;
  try {
    page = await h.openWebClient(pbx);
    await waitFor(() => conn.hellos().length && conn.client, 15000, 'HELLO');
    const ctx = { h, pbx, conn, ledger: new Ledger(conn) };
    console.log(`Chromium ${h.context.browser()?.version() || '?'} headless, dist/ from ${DIST}; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine skews every figure)`);
    if (PARTS.includes('a')) {
      const s = await latency(ctx, { calls: num('BENCH_CALLS', 1000), warmup: num('BENCH_WARMUP', 50), gapMs: num('BENCH_GAP_MS', 10) });
      row('a. frame -> CALL_EVENT median', `${fmt(s.median)} ms (${s.n} events)`, '<= 2 ms', s.median <= 2);
      row('a. frame -> CALL_EVENT p99', `${fmt(s.p99)} ms (max ${fmt(s.max)})`, '<= 4 ms', s.p99 <= 4);
    }
    if (PARTS.includes('b')) {
      const rate = num('BENCH_LOAD_RATE', 2000), seconds = num('BENCH_LOAD_SECONDS', 60);
      const r = await load(ctx, { rate, seconds, sampleS: SAMPLE_S });
      // "No growing backlog": every sample within 0.2 s of offered frames, all delivered within 1 s of the last frame.
      const bound = Math.round(rate * 0.2);
      row(`b. ${rate} frames/s for ${seconds} s: offered`, `${r.offeredRate.toFixed(0)} frames/s`, `>= ${Math.round(rate * 0.95)} (95 %)`, r.offeredRate >= rate * 0.95);
      row('b. lost / duplicated / reordered', `${r.lost} / ${r.dup} / ${r.reordered}`, '0 / 0 / 0', !r.lost && !r.dup && !r.reordered && !r.unexpected);
      row('b. backlog: largest sample / drained', `${r.maxBacklog} events / ${fmt(r.drainMs)} ms`, `<= ${bound} / <= 1000 ms`, r.maxBacklog <= bound && r.drainMs <= 1000);
      row('b. latency under load median / p99 / worst', `${fmt(r.median)} / ${fmt(r.p99)} / ${fmt(r.worst)} ms`, '(printed)', null);
    }
    if (PARTS.includes('c')) {
      const s = await cold(ctx, { runs: num('BENCH_COLD_RUNS', 10) });
      row('c. worker stopped -> CALL_EVENT (max judged)', `median ${fmt(s.median)} / max ${fmt(s.max)} ms`, '<= 25 ms', s.max <= 25);
    }
    if (PARTS.includes('g')) {
      const s = await dialing(ctx, { runs: num('BENCH_DIALS', 30) });
      row('g. DIAL -> RequestMakeCall at the PBX median / p99', `${fmt(s.request.median)} / ${fmt(s.request.p99)} ms (${s.request.n} dials)`, '<= 50 ms (median)', s.request.median <= 50);
      row('g. DIAL -> "dialing" at the connector median / p99', `${fmt(s.dialing.median)} / ${fmt(s.dialing.p99)} ms`, '(printed)', null);
    }
  } finally {
    if (page) await page.close().catch(() => {});
    await h.close();
    await pbx.stop();
    await conn.stop();
  }
}

function table() {
  const head = ['figure', 'measured', 'target', 'result'];
  const body = rows.map(([f, m, t, p]) => [f, m, t, p === null ? '-' : p ? 'PASS' : 'MISS']);
  const w = head.map((_, i) => Math.max(head[i].length, ...body.map((r) => r[i].length)));
  const line = (/** @type {string[]} */ r) => r.map((c, i) => c.padEnd(w[i])).join(' | ');
  console.log('\nsummary');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
  for (const r of body) console.log(line(r));
}

/** f. The same a. and c. on the bare relay, after dist/'s browser is closed. */
async function floorPart() {
  const r = await floor({
    calls: num('BENCH_FLOOR_CALLS', 300), warmup: num('BENCH_WARMUP', 50), gapMs: num('BENCH_GAP_MS', 10),
    runs: num('BENCH_COLD_RUNS', 10),
  });
  row('f. floor: bare relay, frame -> sink median / p99', `${fmt(r.a.median)} / ${fmt(r.a.p99)} ms (${r.a.n} frames)`, '(printed)', null);
  row('f. floor: worker stopped -> sink median / max', `${fmt(r.c.median)} / ${fmt(r.c.max)} ms`, '(printed)', null);
  row('f. floor, direct to offscreen: frame -> sink median / p99', `${fmt(r.directA.median)} / ${fmt(r.directA.p99)} ms (${r.directA.n} frames)`, '(printed)', null);
  row('f. floor, direct to offscreen: worker stopped -> sink median / max', `${fmt(r.directC.median)} / ${fmt(r.directC.max)} ms`, '(printed)', null);
}

(async () => {
  if (/[abcg]/.test(PARTS)) await browserParts();
  if (PARTS.includes('f')) await floorPart();
  if (PARTS.includes('d')) {
    const r = await wasmBench({ frames: num('BENCH_WASM_FRAMES', 1_000_000), runs: num('BENCH_WASM_RUNS', 3) });
    const a = r['handleFrame + poll'], b = r['handleFrame + flush'];
    row('d. Bridge.handleFrame + poll, Node', `${Math.round(a.best).toLocaleString('en')} frames/s`, '>= 1,000,000', a.best >= 1e6);
    row('d. ... + the per-frame flush (doc-core.js)', `${Math.round(b.best).toLocaleString('en')} frames/s`, '(printed)', null);
  }
  if (PARTS.includes('e')) {
    const { shipped } = sizeBench();
    row('e. optimised .wasm (dist/)', `${shipped} bytes`, '<= 100,000 bytes', shipped <= 100_000);
  }
  table();
})().catch((e) => { console.error(e); process.exit(1); });
