// Benchmark (not a test): latency from a frame arriving in the WebClient page to its
// CALL_EVENT at the connector, over 1,000 calls, and the highest frame rate at which no
// event is lost. Real Chromium, the built dist/, simulated PBX and connector on loopback.
//   node tests/bench/latency.js [calls]
'use strict';
const { launch, waitFor, sleep } = require('../lib/harness');
const { Pbx } = require('../lib/pbx');
const { Connector } = require('../lib/connector');

const EXT = '77';
const CALLS = Number(process.argv[2] || 1000);

/** @param {number[]} sorted @param {number} p */
function pct(sorted, p) { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]; }

(async () => {
  const h = await launch();
  const pbx = await new Pbx({ extension: EXT }).start();
  const conn = await new Connector({ port: 19800 + Number(EXT) }).start();
  let page;
  try {
    page = await h.openWebClient(pbx);
    await waitFor(() => conn.hellos().length && conn.client, 15000, 'HELLO');
    // The event's ts is the page's receipt time of the frame (set by the page hook).
    /** @type {number[]} */
    const arrivals = [];
    /** @type {import('ws').WebSocket} */ (conn.client).on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.type === 'CALL_EVENT') arrivals.push(Date.now() - m.ts);
    });
    let leg = 1000, call = 5000;
    for (let i = 0; i < CALLS; i++) {
      const id = leg++, callId = call++;
      const want = arrivals.length + 2;
      pbx.legs18([{ action: 2, id, callId, state: 1, incoming: true, callerId: '+4989' + i }]);
      pbx.legs18([{ action: 4, id }]);
      await waitFor(() => arrivals.length >= want, 10000, `call ${i}`);
    }
    const lat = arrivals.slice().sort((a, b) => a - b);
    console.log(`latency page frame -> connector CALL_EVENT over ${CALLS} calls (${lat.length} events): median ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms, max ${lat.at(-1)} ms`);

    // Throughput: bursts at rising rates; a rate passes when every event arrives in order.
    let best = 0, paced = 0;
    for (const rate of [50, 100, 200, 400, 800, 1600]) {
      const n = Math.max(100, rate * 2); // frames in the burst (2 s worth)
      const start = conn.received.length;
      const t0 = Date.now();
      for (let i = 0; i < n / 2; i++) {
        const id = leg++, callId = call++;
        pbx.legs18([{ action: 2, id, callId, state: 1, incoming: true, callerId: '+4940' + i }]);
        pbx.legs18([{ action: 4, id }]);
        const due = t0 + ((i + 1) * 2 * 1000) / rate;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
      }
      let ok = true;
      try {
        await waitFor(() => conn.received.length - start >= n, 30000, `${rate} frames/s`);
      } catch (_) { ok = false; }
      const got = conn.received.slice(start).filter((m) => m.type === 'CALL_EVENT');
      const ordered = got.every((m, i) => i === 0 || Number(m.call.id) > Number(got[i - 1].call.id) || (m.call.id === got[i - 1].call.id));
      const secs = (Date.now() - t0) / 1000;
      const kept = secs <= (n / rate) * 1.25;
      console.log(`throughput: ${rate} frames/s offered, ${got.length}/${n} events in ${secs.toFixed(1)} s${ok && ordered ? '' : ' LOST OR REORDERED'}${kept ? ', kept pace' : ', queued (caught up later)'}`);
      if (!ok || !ordered) break;
      best = rate;
      if (kept) paced = rate;
    }
    console.log(`throughput: no event lost up to ${best} frames/s offered (the highest tried); kept pace up to ${paced} frames/s`);
  } finally {
    if (page) await page.close();
    await h.close();
    await pbx.stop();
    await conn.stop();
  }
})().catch((e) => { console.error(e); process.exit(1); });
