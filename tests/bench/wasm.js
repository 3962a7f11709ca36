// d. The call path's core through its WebAssembly boundary, in Node: the shipped dist/ glue
// (wasm-bindgen --target web, loaded with `initSync`) over the shipped, optimised .wasm,
// fed the frame mix of core/src/bin/bench.rs.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const proto = require('../lib/proto');
const { DIST } = require('../lib/harness');

const ORIGIN = 'https://pbx.test';
const TAB = 1;

/**
 * The mix of bench.rs, frame for frame: of every 20 frames, 17 MessageId 227 (a softphone
 * call's SDP update, about 600 bytes), 2 MessageId 150 (40 bytes), 1 MessageId 201 lifecycle step (ring, answer,
 * delete; 8 calls interleaved). Encoded here by tests/lib/proto.js, whose 201 frames carry
 * one extra unknown varint field (7) that the Rust testkit's do not. Repeated frames are
 * the same Uint8Array: the boundary copies the bytes on every call anyway.
 * @param {number} n
 */
function mix(n) {
  // A softphone call's SDP update (about 600 bytes), as endpoint_update(580) in the testkit.
  const sdpText = Array.from({ length: 580 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  const sdp = proto.webrtcEndpoint({ calls: [{ action: 3, id: 1, sdp: sdpText }] });
  const presence = proto.otherFrame(150, 40);
  /** @type {Uint8Array[]} */
  const frames = new Array(n);
  let call = 0;
  for (let i = 0; i < n; i++) {
    if (i % 20 === 0) {
      const step = Math.floor(i / 20) % 3;
      const c = call + (Math.floor(i / 60) % 8), leg = 1000 + c;
      if (step === 2) call++;
      const item = step === 0 ? { action: 2, id: leg, callId: c, state: 1, incoming: true, callerId: '+49891234567' }
        : step === 1 ? { action: 3, id: leg, state: 3 } : { action: 4, id: leg };
      frames[i] = proto.extensionInfo({ list18: { action: 3, items: [item] } });
    } else frames[i] = i % 20 <= 2 ? presence : sdp;
  }
  return frames;
}

async function loadCore() {
  // dist's glue is an ES module in a directory without package.json: import a copy as .mjs.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-bench-'));
  const glue = path.join(dir, 'cti_core.mjs');
  fs.copyFileSync(path.join(DIST, 'wasm', 'cti_core.js'), glue);
  /** @type {any} */
  const m = await import(pathToFileURL(glue).href);
  m.initSync({ module: fs.readFileSync(path.join(DIST, 'wasm', 'cti_core_bg.wasm')) });
  fs.rmSync(dir, { recursive: true, force: true });
  return m;
}

/** @param {any} m */
function newBridge(m) {
  const b = new m.Bridge(JSON.stringify({ extensionNumber: '101', webclientOrigins: [ORIGIN] }));
  if (b.handleLogin(TAB, ORIGIN, 'bench', 1, '101', 'pbx.test', '20', 'Bench', '', 1_700_000_000_000) !== 0) {
    throw new Error('login refused');
  }
  b.handleLinkReady(1, 1_700_000_000_000); // a connector session is up: events become toConnector effects
  b.poll();
  b.takeDirty();
  b.takeStatusDirty();
  return b;
}

/**
 * One pass over the frames; `full` adds what doc-core.js flush() does after each call
 * into the core (pollTimeout, takeStatusDirty, takeDirty), not the storage writes.
 * @param {any} m @param {Uint8Array[]} frames @param {boolean} full
 */
function pass(m, frames, full) {
  const b = newBridge(m);
  let events = 0, refused = 0;
  const t0 = performance.now();
  // As doc-pages.js does once per message from the page (here: once for the run).
  const page = b.page(TAB, ORIGIN, 'bench');
  for (let i = 0; i < frames.length; i++) {
    if (b.handleFrame(page, i + 2, 1_700_000_000_000 + i, frames[i]) !== 0) refused++;
    if (b.hasEffects()) for (const e of b.poll()) if (e.kind === 'toConnector') events++;
    if (full) { b.pollTimeout(); b.takeStatusDirty(); b.takeDirty(); }
  }
  const s = (performance.now() - t0) / 1000;
  b.free();
  return { s, events, refused };
}

/** @param {{frames: number, runs: number}} o */
async function wasmBench({ frames: n, runs }) {
  const m = await loadCore();
  const frames = mix(n);
  const bytes = frames.reduce((a, f) => a + f.length, 0);
  console.log(`d. Bridge.handleFrame in Node ${process.version}: dist/wasm/cti_core.js (web glue, initSync) + dist/wasm/cti_core_bg.wasm; the page named once with Bridge.page() (doc-pages.js: once per message), then handleFrame(page, seq, ts, bytes) per frame`);
  console.log(`d. mix of core/src/bin/bench.rs built in JS (tests/lib/proto.js): ${n} frames, ${(bytes / 1e6).toFixed(1)} MB, 85% MessageId 227, 10% other, 5% MessageId 201; one warm-up pass of 100,000 frames, then best of ${runs} runs, a fresh Bridge each`);
  /** @type {Record<string, {best: number, events: number}>} */
  const out = {};
  for (const [name, full] of /** @type {const} */ ([['handleFrame + poll', false], ['handleFrame + flush', true]])) {
    let best = Infinity, events = 0;
    pass(m, frames.slice(0, 100_000), full); // warm-up for the JIT, not counted
    for (let r = 0; r < runs; r++) {
      const p = pass(m, frames, full);
      if (p.refused) throw new Error(`${p.refused} frames refused`);
      // Every 20th frame is a call step, and each step is one CALL_EVENT.
      if (p.events !== Math.ceil(n / 20)) throw new Error(`${p.events} CALL_EVENTs, not ${Math.ceil(n / 20)}`);
      best = Math.min(best, p.s);
      events = p.events;
    }
    out[name] = { best: n / best, events };
    console.log(`d. ${name}${full ? ' (+ pollTimeout, takeStatusDirty, takeDirty per frame)' : ' (poll only when hasEffects)'}: best ${best.toFixed(3)} s = ${Math.round(n / best).toLocaleString('en')} frames/s, ${events} CALL_EVENTs`);
  }
  return out;
}

module.exports = { wasmBench, mix };
