// Trust boundaries, end to end in real Chromium with the built dist/: only the operator's
// WebClient origin is believed, no page script can take the hook's channel, oversized and
// flooding input changes nothing else, and a dying offscreen document loses no event.
// Hostile pages live on a real second https origin (*.test mapped to 127.0.0.1).
'use strict';
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor, sleep } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');
const { testCertificate, TEST_HOST_ARGS } = require('./lib/tls');
const P = require('./lib/proto');

const EXT = '56';
const PORT = 19800 + Number(EXT);
/** @type {any} */ let h;
/** @type {any} */ let conn;
/** @type {any[]} */ const cleanup = [];

before(async () => {
  h = await launch({ args: TEST_HOST_ARGS });
  conn = await new Connector({ port: PORT }).start();
});
after(async () => {
  await h.close();
  await conn.stop().catch(() => {});
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

/** @param {any} opts */
async function pbxOn(opts) {
  const pbx = await new Pbx({ extension: EXT, tls: testCertificate(), ...opts }).start();
  cleanup.push(() => pbx.stop());
  return pbx;
}

/** @param {any} pbx @param {{trust?: boolean}} [o] */
async function open(pbx, o) {
  const page = await h.openWebClient(pbx, o);
  cleanup.push(() => page.close());
  return page;
}

async function status() {
  const w = await h.worker();
  return (await w.evaluate(() => chrome.storage.session.get('status'))).status;
}

const ring = (/** @type {number} */ id, /** @type {number} */ callId, /** @type {string} */ number) =>
  ({ action: 2, id, callId, state: P.State.Ringing, incoming: true, callerId: number });

test('a WebClient look-alike on another https origin changes nothing', async () => {
  const real = await pbxOn({ host: 'pbx.test' });
  await open(real); // trusted by configuration, as an administrator sets it
  await waitFor(() => conn.hellos().length > 0 && conn.client, 15000, 'HELLO');
  const evil = await pbxOn({ host: 'evil.test', extension: '666' });
  await open(evil, { trust: false });
  await waitFor(() => evil.connected > 0, 5000, 'look-alike socket');
  evil.legs18([ring(11, 901, '+49900666666')]);
  await sleep(800);
  assert.deepEqual(conn.events(), [], 'no made-up call reached DATEV');
  assert.ok(conn.hellos().every((/** @type {any} */ m) => m.extension === EXT), 'identity from the real WebClient only');
  const st = await status();
  assert.ok(st.notes.some((/** @type {any} */ n) => n.text.key === 'noteLookalike' && n.text.args[0] === evil.origin), 'the popup names the origin');
  // The look-alike spoke last; DATEV's DIAL still goes to the real WebClient.
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '+49891234567' });
  await waitFor(() => real.requestsOf(119).length > 0, 5000, 'DIAL at the real WebClient');
  assert.equal(evil.requests.filter((/** @type {any} */ r) => r.messageId === 119 || r.messageId === 115).length, 0, 'nothing sent to the look-alike');
  real.hangUpAll();
  await sleep(300);
});

test('trust on first use pins the first WebClient origin; a look-alike after it is refused', async () => {
  await h.settings({ webclientOrigins: [] });
  const w = await h.worker();
  await w.evaluate(() => chrome.runtime.sendMessage({ kind: 'forgetPinnedOrigin' }).catch(() => {}));
  const real = await pbxOn({ host: 'pbx.test' });
  await waitFor(async () => (await status()).trust.configured.length === 0, 5000, 'no configured origins');
  await open(real, { trust: false });
  await waitFor(async () => (await status()).trust.pinned === real.origin, 5000, 'pinned');
  const evil = await pbxOn({ host: 'evil.test' });
  await open(evil, { trust: false });
  const seen = conn.events().length;
  evil.legs18([ring(12, 902, '+49900777777')]);
  real.legs18([ring(13, 903, '+49891000000')]);
  await waitFor(() => conn.events().length > seen, 5000, 'the real call');
  await sleep(500);
  assert.deepEqual(conn.events().slice(seen), ['903 offered inbound +49891000000']);
  real.hangUpAll();
  await sleep(300);
});

// The page's own scripts try to take or replace the hook's private channel.
const THIEF = `
  window.__stolen = 0;
  const ch = new MessageChannel();
  ch.port1.onmessage = () => { window.__stolen++; };
  window.__fakePort = ch.port1;
  addEventListener('cti-bridge-port', () => { window.__stolen++; }, true);
  window.dispatchEvent(new MessageEvent('cti-bridge-port', { ports: [ch.port2] }));
  addEventListener('message', (e) => { if (e.ports && e.ports.length) window.__stolen++; }, true);
`;

test('a page script cannot take the hook channel or forge frames through it', async () => {
  const pbx = await pbxOn({ host: 'pbx.test', headScript: THIEF });
  const page = await open(pbx);
  await waitFor(() => conn.client, 15000, 'connector session');
  const seen = conn.events().length;
  // A forged frame pushed into the port the page made: the hook never took it.
  const forged = [...P.extensionInfo({ list18: { action: 3, items: [ring(14, 904, '+49900888888')] } })];
  await page.evaluate((/** @type {number[]} */ bytes) => {
    const buf = new Uint8Array(bytes).buffer;
    /** @type {any} */ (window).__fakePort.postMessage({ kind: 'frame', socket: 1, ts: Date.now(), buf }, [buf]);
  }, forged);
  pbx.legs18([ring(15, 905, '+49891222222')]);
  await waitFor(() => conn.events().length > seen, 5000, 'the real call');
  await sleep(500);
  assert.deepEqual(conn.events().slice(seen), ['905 offered inbound +49891222222']);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__stolen), 0, 'nothing reached the page\'s listeners');
  pbx.hangUpAll();
  await sleep(300);
});

test('an oversized frame and a flood of frames: no link flap, the next call arrives within 1 s', async () => {
  const pbx = await pbxOn({ host: 'pbx.test' });
  await open(pbx);
  await waitFor(() => conn.client, 15000, 'connector session');
  const sessions = conn.sessions;
  const seen = conn.events().length;
  pbx.legs18([{ ...ring(16, 906, '+49891333333'), name: 'N'.repeat(2 << 20) }]);
  for (let i = 0; i < 3000; i++) pbx.send(P.otherFrame(227, 200));
  await sleep(200);
  const sent = Date.now();
  pbx.legs18([ring(17, 907, '+49891444444')]);
  await waitFor(() => conn.events().slice(seen).includes('907 offered inbound +49891444444'), 5000, 'the next call');
  const took = Date.now() - sent;
  assert.ok(took < 1000, `the next call took ${took} ms`);
  assert.equal(conn.sessions, sessions, 'the connector link did not flap');
  assert.ok(!conn.events().slice(seen).some((/** @type {string} */ e) => e.startsWith('906 ')), 'the oversized frame was refused');
  assert.equal((await status()).notes[0].text.key, 'noteTooLarge');
  pbx.hangUpAll();
  await sleep(300);
});

test('the offscreen document closed while the connector is down: the call still reaches the connector, caught up', async () => {
  const pbx = await pbxOn({ host: 'pbx.test' });
  await open(pbx);
  await waitFor(() => conn.client, 15000, 'connector session');
  await conn.stop();
  await waitFor(async () => (await status()).rows.connector.level !== 'ok', 2000, 'the popup shows the link down within 2 s');
  pbx.legs18([ring(18, 908, '+49891555555')]);
  await sleep(200);
  pbx.legs18([{ action: 3, id: 18, state: P.State.Connected }]);
  await sleep(200);
  // Chrome closes (or crashes) the offscreen document.
  const page = h.context.pages()[0] || (await h.context.newPage());
  const cdp = await h.context.newCDPSession(page);
  const { targetInfos } = await cdp.send('Target.getTargets');
  const doc = targetInfos.find((/** @type {any} */ t) => t.url.endsWith('/offscreen.html'));
  assert.ok(doc, 'offscreen document found');
  await cdp.send('Target.closeTarget', { targetId: doc.targetId });
  await cdp.detach();
  pbx.legs18([{ action: 4, id: 18 }]);
  await sleep(300);
  conn = await new Connector({ port: PORT }).start();
  await waitFor(() => conn.events().length >= 2, 20000, 'the call after the connector came back');
  await sleep(500);
  // A new run of the connector: the call it never had, answered and over.
  assert.deepEqual(conn.events(), ['908 connected inbound +49891555555', '908 ended inbound +49891555555']);
  assert.deepEqual(conn.datev.calls.map((/** @type {any} */ c) => `${c.number} ${c.result}`), ['+49891555555 answered']);
});
