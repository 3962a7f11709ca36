// The benchmark's core part (tests/bench/wasm.js) drives dist/'s WASM surface directly, as
// doc-pages.js does, with no type check between them: a short run here fails when the
// surface changes under it (a benchmark that no longer runs is found at once, not at the
// next measurement). Figures are not judged here; docs/benchmarks.md has them.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { wasmBench } = require('./bench/wasm');

test('the benchmark\'s core part runs against dist/\'s surface: every call step is one CALL_EVENT', async () => {
  const r = await wasmBench({ frames: 2000, runs: 1 });
  assert.equal(r['handleFrame + poll'].events, 100);
  assert.equal(r['handleFrame + flush'].events, 100);
});
