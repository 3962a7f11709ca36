// A hostile or broken PestRoutes middleware, end to end in real Chromium with the built
// dist/: `retry: 0` with streams closed at once must not become a hot loop, and a 50 MB
// `data` line must neither stop the stream nor disturb the DATEV link that shares the
// offscreen document with it.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, sleep } = require('./lib/harness');
const { Middleware } = require('./lib/middleware');
const { webClientStage } = require('./lib/webclient');
const P = require('./lib/proto');

const EXT = '61';
/** @type {any} */ let stage;
/** @type {import('./lib/harness').Harness} */ let h;
/** @type {Middleware} */ let mw;
/** @type {any} */ let pbx;
/** @type {any} */ let conn;

before(async () => {
  mw = await new Middleware({ secret: 'S3CRET-hostile' }).start();
  stage = await webClientStage(EXT);
  ({ h, pbx, conn } = stage);
});

after(async () => {
  await stage?.stop();
  await mw.stop().catch(() => {});
});

test('retry: 0 and streams closed at once: at most a handful of requests in 10 s', async () => {
  mw.hostile = 'closeAtOnce';
  const seen = mw.sseRequests;
  await h.settings({ extensionNumber: EXT, serverAddress: `127.0.0.1:${mw.port}`, sharedSecret: 'S3CRET-hostile' });
  await waitFor(() => mw.sseRequests > seen, 10000, 'the first request');
  const first = mw.sseRequests;
  await sleep(10000);
  const requests = mw.sseRequests - first + 1;
  assert.ok(requests <= 5, `${requests} requests in 10 s`);
  assert.ok(requests >= 2, `the stream is retried (${requests} requests in 10 s)`);
  mw.hostile = null;
});

test('a 50 MB data line: the DATEV link stays up, the stream goes on', async () => {
  const sessions = conn.sessions;
  const seen = conn.events().length;
  let took = -1;
  // Halfway through the line (25 MB read, the rest to come), a call reaches the connector.
  mw.atHalf = async () => {
    const sent = Date.now();
    pbx.legs18([{ action: 2, id: 61, callId: 961, state: P.State.Ringing, incoming: true, callerId: '+49891616161' }]);
    await waitFor(() => conn.events().slice(seen).includes('961 offered inbound +49891616161'), 5000, 'the call during the line');
    took = Date.now() - sent;
  };
  mw.hostile = 'hugeData';
  for (const s of mw.streams) s.res.destroy();
  // The backoff of the test before may delay the next stream.
  await waitFor(() => mw.hugeDone !== null, 40000, 'a stream with the huge line');
  mw.hostile = null;
  await mw.hugeDone;
  assert.ok(took >= 0 && took < 1000, `the call during the line took ${took} ms`);
  // The same stream is still up: the next event is read and popped.
  const streams = mw.sseRequests;
  const pops = ((await h.status()).pops || []).length;
  await mw.notify({ agent: EXT, customerID: '4242' });
  await waitFor(async () => ((await h.status()).pops || []).length > pops, 10000, 'the next screen-pop');
  assert.equal(mw.sseRequests, streams, 'no new stream was needed');
  assert.equal(conn.sessions, sessions, 'the connector link did not flap');
  pbx.hangUpAll();
  await waitFor(() => conn.events().slice(seen).includes('961 ended inbound +49891616161'), 5000, 'the call ended');
});
