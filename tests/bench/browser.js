// The three browser figures, on the built dist/ in headless Chromium with the simulated
// PBX and connector: one-at-a-time latency, sustained load, and the first frame after a
// service-worker stop. Each returns its figures; run.js prints the summary.
'use strict';
const { sleep, waitFor } = require('../lib/harness');
const { summary, fmt, ring, answer, hangUp } = require('./measure');

const HOP = 'hop measured: PBX ws.send() in Node -> connector ws "message" in Node, both performance.now() in this one process '
  + '(covers loopback TCP, page hook, MessageChannel, content script, runtime port, offscreen document + core, connector socket)';

/**
 * @typedef {{h: import('../lib/harness').Harness, pbx: import('../lib/pbx').Pbx,
 *   conn: import('../lib/connector').Connector, ledger: import('./measure').Ledger}} Ctx
 */

/** a. One frame at a time, each waited for, `gapMs` between frames. @param {Ctx} ctx @param {{calls: number, warmup: number, gapMs: number, tag?: string, hop?: string}} o
 * (`tag` heads each printed line, `hop` says what is measured) */
async function latency({ pbx, ledger }, { calls, warmup, gapMs, tag = 'a', hop = HOP }) {
  console.log(`${tag}. ${hop}`);
  console.log(`${tag}. method: ${warmup} warm-up calls not counted, then ${calls} calls of 2 frames (ring -> "offered", delete -> "ended"), each frame sent alone after the previous event arrived + ${gapMs} ms`);
  let leg = 10000, call = 20000;
  for (let i = 0; i < warmup + calls; i++) {
    if (i === warmup) ledger.reset();
    const l = leg++, c = call++;
    for (const [frame, state] of /** @type {const} */ ([[ring(l, c), 'offered'], [hangUp(l), 'ended']])) {
      await ledger.wait(ledger.send(pbx, frame, c, state), 10000);
      await sleep(gapMs);
    }
  }
  const s = summary(ledger.lat), p = summary(ledger.toPage);
  console.log(`${tag}. latency page frame -> CALL_EVENT at connector: ${s.n} events, median ${fmt(s.median)} ms, p99 ${fmt(s.p99)} ms, max ${fmt(s.max)} ms`);
  // The floor's sink gets no page timestamps.
  if (p.n) console.log(`${tag}. of which PBX send -> page hook receipt (coarse, +-1 ms: the event ts is the page's Date.now() in whole ms, set against Node's clock): median ${fmt(p.median)} ms, p99 ${fmt(p.p99)} ms`);
  console.log(`${tag}. lost ${ledger.lost()}, duplicated ${ledger.dup}, reordered ${ledger.reordered}, unexpected ${ledger.unexpected}`);
  return s;
}

/**
 * g. DATEV's DIAL: the connector's COMMAND -> the RequestMakeCall the PBX gets (POSTed by
 * the WebClient page), and -> the call's `dialing` at the connector.
 * @param {Ctx} ctx @param {{runs: number}} o
 */
async function dialing({ pbx, conn }, { runs }) {
  console.log('g. hops measured: connector COMMAND ws.send() in Node -> the PBX has read the POSTed RequestMakeCall (its HTTP body), and -> the connector\'s ws "message" with the call\'s "dialing"; all performance.now() in this one process (covers the connector socket, the offscreen document + core, the runtime port, content script, page hook, fetch over loopback HTTP, the PBX\'s frame back through the socket and the whole frame path)');
  console.log(`g. method: ${runs} DIALs to different numbers, each waited for, the call hung up and 2.1 s left before the next (the extension refuses more than 5 commands in 10 s); the desk phone selected in the WebClient, so each is a RequestMakeCall`);
  const toRequest = [], toDialing = [];
  const before = conn.onMessage;
  try {
    for (let i = 0; i < runs; i++) {
      const number = `0891${100000 + i}`;
      let requestAt = 0, dialingAt = 0;
      pbx.onRequest = (r, at) => { if (r.messageId === 119 && r.makeCall?.destination === number) requestAt = at; };
      conn.onMessage = (m, at) => {
        if (m.type === 'CALL_EVENT' && m.call.state === 'dialing' && m.call.remoteNumber === number) dialingAt = at;
      };
      const t0 = performance.now();
      conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number });
      await waitFor(() => requestAt && dialingAt, 10000, `DIAL ${i}`);
      toRequest.push(requestAt - t0);
      toDialing.push(dialingAt - t0);
      pbx.hangUpAll();
      await sleep(2100);
    }
  } finally {
    pbx.onRequest = null;
    conn.onMessage = before;
  }
  const r = summary(toRequest), d = summary(toDialing);
  console.log(`g. DIAL -> request at the PBX: ${r.n} dials, median ${fmt(r.median)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms`);
  console.log(`g. DIAL -> "dialing" at the connector: median ${fmt(d.median)} ms, p99 ${fmt(d.p99)} ms, max ${fmt(d.max)} ms`);
  return { request: r, dialing: d };
}

/** b. `rate` frames/s for `seconds`, 8 calls in flight. @param {Ctx} ctx @param {{rate: number, seconds: number, sampleS: number}} o */
async function load({ pbx, ledger }, { rate, seconds, sampleS }) {
  ledger.reset();
  const total = Math.round(rate * seconds);
  // Rounds of 8 calls: 8 rings, 8 answers, 8 hang-ups; every frame causes one event.
  const STATES = ['offered', 'connected', 'ended'];
  const build = (/** @type {number} */ k) => {
    const j = k % 24, c = 300000 + Math.floor(k / 24) * 8 + (j % 8), l = c + 1000000, phase = Math.floor(j / 8);
    return { frame: phase === 0 ? ring(l, c) : phase === 1 ? answer(l) : hangUp(l), call: c, state: STATES[phase] };
  };
  console.log(`b. ${HOP}`);
  console.log(`b. method: ${rate} frames/s offered for ${seconds} s (${total} frames, every one causes a CALL_EVENT; 8 calls in flight, ring/answer/hang-up), paced by a 1 ms timer that sends what is due`);
  let sent = 0, maxBacklog = 0, lastAt = 0, prevGot = 0;
  const t0 = performance.now();
  const sample = () => {
    const backlog = sent - ledger.got;
    if (sent < total) maxBacklog = Math.max(maxBacklog, backlog);
    const t = (performance.now() - t0) / 1000;
    console.log(`b. t=${t.toFixed(0)}s offered ${sent} received ${ledger.got} (+${((ledger.got - prevGot) / sampleS).toFixed(0)}/s) backlog ${backlog}, worst latency in window ${fmt(ledger.takeWindowMax())} ms`);
    prevGot = ledger.got;
  };
  const sampler = setInterval(sample, sampleS * 1000);
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const f = build(sent);
        ledger.send(pbx, f.frame, f.call, f.state);
      }
      if (sent >= total) { lastAt = performance.now(); resolve(undefined); } else setTimeout(tick, 1);
    };
    tick();
  });
  const offeredS = (lastAt - t0) / 1000;
  // Late is not lost: wait while events still come (sampling on), until none for 5 s.
  let seen = -1, quietSince = performance.now();
  await waitFor(() => {
    if (ledger.got !== seen) { seen = ledger.got; quietSince = performance.now(); }
    return ledger.got >= total || performance.now() - quietSince > 5000;
  }, 600000, 'load drained');
  clearInterval(sampler);
  const drainMs = ledger.got >= total ? Math.max(0, ledger.lastAt - lastAt) : NaN;
  const s = summary(ledger.lat);
  const r = {
    total, offeredRate: total / offeredS, lost: ledger.lost(), dup: ledger.dup, reordered: ledger.reordered,
    unexpected: ledger.unexpected, maxBacklog, drainMs, worst: s.max, median: s.median, p99: s.p99,
  };
  console.log(`b. offered ${total} frames in ${offeredS.toFixed(1)} s = ${r.offeredRate.toFixed(0)} frames/s; received ${ledger.got}`);
  console.log(`b. lost ${r.lost}, duplicated ${r.dup}, reordered ${r.reordered}, unexpected ${r.unexpected}; largest backlog sampled ${maxBacklog} events; last event ${fmt(drainMs)} ms after the last frame was offered`);
  console.log(`b. latency under load: median ${fmt(s.median)} ms, p99 ${fmt(s.p99)} ms, worst ${fmt(s.max)} ms`);
  return r;
}

/** c. Worker stopped through CDP, then one frame. @param {Ctx} ctx @param {{runs: number, tag?: string, hop?: string}} o */
async function cold({ h, pbx, ledger }, { runs, tag = 'c', hop = HOP }) {
  const prefix = `chrome-extension://${h.extensionId}/`;
  const page = h.context.pages()[0] || (await h.context.newPage());
  const cdp = await h.context.newCDPSession(page);
  /** @type {Map<string, string>} versionId -> runningStatus of our worker's versions */
  const status = new Map();
  let stops = 0; // transitions to "stopped" seen
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
    for (const v of e.versions) {
      if (!v.scriptURL.startsWith(prefix)) continue;
      if (v.runningStatus === 'stopped' && status.get(v.versionId) !== 'stopped') stops++;
      status.set(v.versionId, v.runningStatus);
    }
  });
  await cdp.send('ServiceWorker.enable');
  const running = () => [...status].filter(([, s]) => s === 'running' || s === 'starting').map(([id]) => id);
  console.log(`${tag}. ${hop}`);
  console.log(`${tag}. method: CDP ServiceWorker.stopWorker on the extension worker's running version; verified by its runningStatus turning "stopped", and 500 ms later still stopped with no service_worker target (Target.getTargets); then one ring frame`);
  ledger.reset();
  /** @type {number[]} */
  const lat = [];
  for (let i = 0; i < runs; i++) {
    // A page with unacknowledged messages wakes a stopped worker at once: stop again then.
    for (let attempt = 1; ; attempt++) {
      await sleep(1000); // the previous frame's bookkeeping (storage, ack) is done
      // A frame that does not pass the worker (the floor's direct route) does not start it.
      if (!running().length) await cdp.send('ServiceWorker.startWorker', { scopeURL: prefix });
      const ids = await waitFor(() => (running().length ? running() : null), 5000, 'a running worker');
      const before = stops;
      for (const versionId of ids) await cdp.send('ServiceWorker.stopWorker', { versionId });
      await waitFor(() => stops > before, 5000, 'worker stopped');
      await sleep(500);
      if (!running().length && !(await h.workerRunning())) break;
      console.log(`${tag}. run ${i + 1}: the worker started again within 500 ms without a frame (stop attempt ${attempt}); stopping it again`);
      if (attempt === 30) throw new Error('the worker keeps starting again without a frame');
    }
    const l = 400000 + i, c = 410000 + i;
    const ms = await ledger.wait(ledger.send(pbx, ring(l, c), c, 'offered'), 15000);
    lat.push(ms);
    console.log(`${tag}. run ${i + 1}: worker stopped -> ring frame -> CALL_EVENT at connector ${fmt(ms)} ms (worker running again: ${running().length > 0})`);
    await ledger.wait(ledger.send(pbx, hangUp(l), c, 'ended'), 15000);
  }
  await cdp.detach();
  const s = summary(lat);
  console.log(`${tag}. cold start over ${s.n} stops: median ${fmt(s.median)} ms, max ${fmt(s.max)} ms; lost ${ledger.lost()}, duplicated ${ledger.dup}, reordered ${ledger.reordered}`);
  return s;
}

module.exports = { latency, load, cold, dialing };
