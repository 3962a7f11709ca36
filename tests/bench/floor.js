// f. The floor: what the browser allows on this machine for the extension's path. A bare
// relay extension (tests/bench/floor/) takes dist/'s hops with nothing on them: no core,
// no checks, no storage. The PBX's frames are sent as in a. and c.; a sink on loopback
// stands in for the connector and matches what arrives by its bytes. a.'s and c.'s
// targets are judged against dist/, this only says how much of each figure is the
// browser's own. It runs twice: first on the route dist/ had while its core was in the
// service worker (page hook -> MessageChannel -> content script -> runtime port -> service
// worker -> MessageChannel -> offscreen document -> WebSocket), then on the direct one
// that dist/ takes now (content script -> runtime port -> offscreen document, the worker
// not on the path).
'use strict';
const http = require('node:http');
const path = require('node:path');
const { WebSocketServer } = require('ws');
const { launch, waitFor } = require('../lib/harness');
const { Pbx } = require('../lib/pbx');
const { latency, cold } = require('./browser');
const { Ledger } = require('./measure');

const FLOOR = path.join(__dirname, 'floor');
const SINK_PORT = 19899; // floor/offscreen.js
const HOP = 'hop measured: PBX ws.send() in Node -> sink ws "message" in Node, both performance.now() in this one process '
  + '(loopback TCP, page hook, MessageChannel, content script, runtime port, worker, offscreen channel, sink socket; nothing done on the way)';
const HOP_DIRECT = 'hop measured: as f.a., without the worker on the path: runtime port from the content script to the offscreen document, sink socket '
  + '(in f.a direct the running worker holds the port too and receives each frame, as Chrome delivers to every listener; in f.c direct it is stopped)';

/** The benchmark's Ledger for a sink that receives the frames' own bytes: keyed by them. */
class BytesLedger extends Ledger {
  constructor() {
    super(null);
  }

  /** As Ledger.send, keyed by the frame itself. @param {Pbx} pbx @param {Uint8Array} frame */
  send(pbx, frame) {
    return this.sendAs(Buffer.from(frame).toString('hex'), pbx, frame);
  }

  /** @param {Buffer} bytes @param {number} at */
  arrivedBytes(bytes, at) {
    this.record(this.want.get(bytes.toString('hex')), at);
  }
}

/**
 * Runs a. and c. on the bare relay in its own browser (dist/ not loaded, so nothing else
 * competes for the CPUs), on dist/'s route and on the direct one.
 * @param {{calls: number, warmup: number, gapMs: number, runs: number}} o
 */
async function floor({ calls, warmup, gapMs, runs }) {
  const ledger = new BytesLedger();
  const server = http.createServer((_req, res) => { res.writeHead(404); res.end(); });
  const wss = new WebSocketServer({ server, maxPayload: 1 << 20 });
  let clients = 0;
  wss.on('connection', (ws) => {
    clients++;
    // Stamped before anything else, as the connector simulator stamps its messages.
    ws.on('message', (data) => ledger.arrivedBytes(/** @type {Buffer} */ (data), performance.now()));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(SINK_PORT, '127.0.0.1', () => resolve(undefined));
  });
  /** @type {import('../lib/harness').Harness | null} */
  let h = null;
  /** @type {Pbx | null} */
  let pbx = null;
  try {
    h = await launch({ ext: FLOOR });
    pbx = await new Pbx({ extension: '77' }).start();
    await waitFor(() => clients > 0, 15000, 'floor: the offscreen document at the sink');
    const ctx = { h, pbx, conn: /** @type {any} */ (null), ledger };
    console.log('f. the floor: a bare relay extension (tests/bench/floor/) on the hops dist/ had with its core in the worker, then on the direct route dist/ takes now; no core, no checks, no storage; a sink on loopback instead of the connector');
    let page = await h.openWebClient(pbx, { trust: false });
    const a = await latency(ctx, { calls, warmup, gapMs, tag: 'f.a', hop: HOP });
    const c = await cold(ctx, { runs, tag: 'f.c', hop: HOP });
    await page.close().catch(() => {});
    // The direct route second: once asked, the offscreen document keeps listening for
    // ports, and would hold the worker route's ports open across a worker stop.
    page = await h.openWebClient(pbx, { trust: false, hash: '#direct' });
    const directA = await latency(ctx, { calls, warmup, gapMs, tag: 'f.a direct', hop: HOP_DIRECT });
    const directC = await cold(ctx, { runs, tag: 'f.c direct', hop: HOP_DIRECT });
    await page.close().catch(() => {});
    return { a, c, directA, directC };
  } finally {
    if (h) await h.close();
    if (pbx) await pbx.stop();
    wss.close();
    server.close();
  }
}

module.exports = { floor };
