// 3CX WebClient ↔ DATEV connector, end to end in real Chromium with the built dist/.
'use strict';
const { test, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor, sleep } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');
const P = require('./lib/proto');

const EXT = '55';                 // preferred connector port 19855, inside the range
const PORT = 19800 + Number(EXT);

let h, pbx, conn, page;

before(async () => { h = await launch(); });
after(async () => { await h.close(); });

beforeEach(async () => {
  pbx = await new Pbx({ extension: EXT }).start();
  conn = await new Connector({ port: PORT }).start();
  page = await h.openWebClient(pbx);
  await waitFor(() => conn.hellos().length > 0 && conn.client, 15000, 'HELLO');
});

afterEach(async () => {
  await page.close();
  await pbx.stop();
  await conn.stop();
});

const ring = (id, callId, number, incoming = true) => ({ action: 2, id, callId, state: P.State.Ringing, incoming, callerId: number });

test('HELLO carries the extension from wc.provision, never the session query', async () => {
  const hello = conn.hellos()[0];
  assert.equal(hello.v, 1);
  assert.equal(hello.extension, EXT);
  assert.equal(hello.identity, '3CX WebClient');
  assert.equal(hello.domain, 'pbx.test');
  assert.ok(!h.logs.some((l) => l.includes('SESSION-SECRET')));
});

test('inbound answered', async () => {
  pbx.legs18([ring(28, 7, '+49891111111')]);
  await sleep(100);
  pbx.legs18([{ action: 3, id: 28, state: P.State.Connected }]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 28 }]);
  await waitFor(() => conn.events().length >= 3, 5000, 'three events');
  await sleep(300);
  assert.deepEqual(conn.events(), ['7 offered inbound +49891111111', '7 connected inbound +49891111111', '7 ended inbound +49891111111']);
  assert.equal(conn.received.filter((m) => m.type === 'CALL_EVENT')[2].call.reason, 'hangup');
});
