// DIAL and DROP the way the 3CX WebClient itself makes them, end to end over https in real
// Chromium with the built dist/, against a PBX and WebClient page that behave like 3CX 20
// (tests/lib/pbx.js): requests are POSTed from the page on the WebClient's own channel with
// its session key, never written on its socket; the device chosen in the WebClient decides
// between a RequestMakeCall and the WebClient's dialer; answers decide at once; a colleague's
// call (MyExtensionInfo field 20) never reaches DATEV; the session key never leaves the page.
'use strict';
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor, sleep } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');
const { testCertificate, TEST_HOST_ARGS } = require('./lib/tls');
const { msg } = require('./lib/ui');
const P = require('./lib/proto');

const EXT = '57';
const PORT = 19800 + Number(EXT);
const DESK = `sip:${EXT}@192.168.1.50:5060;transport=udp`;
/** What must never leave the WebClient page. */
const SECRETS = ['SESSION-SECRET', 'PASS-SECRET'];

/** @type {import('./lib/harness').Harness} */ let h;
/** @type {Connector} */ let conn;
/** @type {Array<() => Promise<unknown>>} */ const cleanup = [];
/** Every line the offscreen document (where the core runs) wrote to its console. */
const docLines = /** @type {string[]} */ ([]);
/** @type {() => void} */ let stopConsole = () => {};

before(async () => {
  h = await launch({ args: TEST_HOST_ARGS });
  conn = await new Connector({ port: PORT }).start();
  await h.settings({ debugLogging: true }); // the console says as much as it ever does
  stopConsole = await h.docConsole((l) => docLines.push(l));
});
after(async () => {
  stopConsole();
  await h.close();
  await conn.stop();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

/** A PBX on https://pbx.test:PORT with its WebClient open and the connector session up.
 * @param {ConstructorParameters<typeof Pbx>[0]} [opts] */
async function stage(opts = {}) {
  // The WebClient's login leaves a cookie: requests must carry it, as the WebClient's do.
  const headScript = 'document.cookie = "wc-session=from-login; path=/; secure";';
  const pbx = await new Pbx({ extension: EXT, tls: testCertificate(), host: 'pbx.test', headScript, ...opts }).start();
  cleanup.push(async () => {
    assert.deepEqual(pbx.socketWrites, [], 'nothing is ever written on the WebClient socket');
    await pbx.stop();
  });
  const page = await h.openWebClient(pbx);
  cleanup.push(() => page.close());
  await waitFor(() => conn.client && conn.hellos().length > 0, 20000, 'connector session');
  // The WebClient asked for its state (RequestMyInfo) and the answer reached the core.
  await waitFor(async () => (await h.status())?.rows?.webclient?.extra, 10000, 'the device DIAL uses');
  return { pbx, page };
}

const events = (/** @type {number} */ since) => conn.events(conn.received.slice(since));
/** @param {string} number */
const dial = (number) => conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number });
/** The notices shown since `at`, as their keys. @param {number} at */
async function notices(at) {
  const st = await h.status();
  return (st?.notes || []).filter((/** @type {any} */ n) => n.at >= at).map((/** @type {any} */ n) => n.text);
}

test('a desk phone selected in the WebClient: DIAL is its RequestMakeCall, DROP its RequestDropCall', async () => {
  const { pbx } = await stage();
  const row = (await h.status()).rows.webclient;
  assert.deepEqual(row.extra, { key: 'dialViaPhone', args: ['Yealink SIP-T46S 66.86.0.15'] }, 'the popup names the device');
  const seen = conn.received.length;
  dial('+49 89 1234567');
  await waitFor(() => events(seen).length === 1, 5000, 'dialing');
  const [r] = pbx.requestsOf(119);
  assert.equal(r.makeCall?.deviceId, DESK);
  assert.equal(r.makeCall?.destination, '+49891234567');
  assert.equal(r.makeCall?.enableCallControl, true);
  assert.equal(r.headers.myphonesession, '<session>');
  assert.equal(r.headers['content-type'], 'application/octet-stream');
  assert.equal(r.headers.accept, 'application/octet-stream');
  assert.equal(r.headers['ngsw-bypass'], 'bypass');
  assert.match(String(r.headers.cookie || ''), /wc-session=/, 'the page\'s own cookies');
  assert.deepEqual(events(seen), ['90 dialing outbound +49 89 1234567']);
  // DROP of that call names its leg, as the WebClient hangs up.
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DROP', callId: '90' });
  await waitFor(() => events(seen).length === 2, 5000, 'ended');
  assert.deepEqual(pbx.requestsOf(115).map((q) => q.dropCall), [{ localConnectionId: 500, isLocal: true, actionIfRinging: 1 }]);
  assert.deepEqual(events(seen), ['90 dialing outbound +49 89 1234567', '90 ended outbound +49 89 1234567']);
});

test('the WebClient\'s softphone selected: DIAL goes through its dialer, never a dialer showing another number', async () => {
  // The dialer shows the number dialled last for a second first (the quirk upstream saw).
  const { pbx, page } = await stage({ selectedDevice: '3CX WebRTC proxy', staleDialer: true, staleDialerMs: 1000 });
  assert.equal((await h.status()).rows.webclient.extra.key, 'dialViaDialer');
  await page.evaluate(() => /** @type {any} */ (window).__dialByHand('0301111111'));
  await waitFor(() => pbx.pageDials.length === 1, 5000, 'the operator\'s own call');
  pbx.hangUpAll();
  await sleep(300);
  const seen = conn.received.length;
  dial('0892222222');
  await waitFor(() => events(seen).some((e) => e.includes('0892222222')), 8000, 'the dialled call');
  assert.deepEqual(pbx.pageDials, ['0301111111', '0892222222'], 'the number asked for, confirmed once it showed');
  assert.deepEqual(pbx.requestsOf(119), [], 'no RequestMakeCall for the WebClient\'s own softphone');
  pbx.hangUpAll();
});

test('a dialer that keeps showing another number is not confirmed, and the operator is told', async () => {
  const { pbx, page } = await stage({ selectedDevice: '3CX WebRTC proxy', staleDialer: true, staleDialerMs: null });
  await page.evaluate(() => /** @type {any} */ (window).__dialByHand('0303333333'));
  await waitFor(() => pbx.pageDials.length === 1, 5000, 'the operator\'s own call');
  pbx.hangUpAll();
  const at = Date.now();
  dial('0894444444');
  await waitFor(async () => (await notices(at)).some((/** @type {any} */ n) => n.key === 'noteDialerFailed'), 10000, 'the notice');
  assert.deepEqual(pbx.pageDials, ['0303333333'], 'the previous number was not dialled again, the new one not at all');
});

test('an operator who clicks elsewhere while the dialer opens gets no Enter pressed for them', async () => {
  const { pbx, page } = await stage({ selectedDevice: '3CX WebRTC proxy' });
  // The operator is typing in a field of the page: it takes the focus back whenever the
  // dialer opens, as a click into it would.
  await page.evaluate(() => {
    const field = document.body.appendChild(document.createElement('input'));
    field.id = 'operators-field';
    addEventListener('focusin', (e) => { if (e.target !== field) field.focus(); });
  });
  const at = Date.now();
  dial('0895555555');
  await waitFor(async () => (await notices(at)).some((/** @type {any} */ n) => n.key === 'noteDialerFailed'), 10000, 'the notice');
  assert.deepEqual(pbx.pageDials, [], 'nothing dialled');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'operators-field');
});

for (const lang of ['en', 'de']) {
  test(`a refused DIAL and an ended session each give one notice at once (${lang})`, async () => {
    const hl = await launch({ args: TEST_HOST_ARGS, lang });
    const c2 = await new Connector({ port: PORT + 20 }).start();
    const pbx = await new Pbx({ extension: String(Number(EXT) + 20), tls: testCertificate(), host: 'pbx.test' }).start();
    try {
      await hl.openWebClient(pbx);
      await waitFor(() => c2.client && c2.hellos().length > 0, 20000, 'connector session');
      await waitFor(async () => (await hl.status())?.rows?.webclient?.extra, 10000, 'devices');
      const popup = await hl.popup();
      const noteTexts = async () => popup.$$eval('#notes li', (lis) => lis.map((li) => li.textContent || ''));
      // Refused by the PBX (ErrorCode 9, NoPermission): one notice within a second; the
      // number is left in the WebClient's dialer for the operator (setting "auto").
      pbx.refuseRequests = true;
      let t0 = Date.now();
      c2.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '+49891234567' });
      const refused = msg(lang, 'noteDialNoPermissionDialer', ['+49*******67', 'No permission']);
      await waitFor(async () => (await noteTexts()).some((t) => t.endsWith(refused)), 1000, `"${refused}" within 1 s`);
      console.log(`# ${lang}: refused DIAL shown after ${Date.now() - t0} ms`);
      await sleep(3500);
      assert.equal((await noteTexts()).filter((t) => t.endsWith(refused)).length, 1, 'one notice');
      assert.deepEqual(pbx.pageDials, [], 'left in the dialer, not dialled');
      // The session is over (HTTP 401 to the request): one notice within a second.
      pbx.refuseRequests = false;
      pbx.failHttp = 401;
      t0 = Date.now();
      c2.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '+49897654321' });
      const over = msg(lang, 'noteSessionOver', [pbx.origin]);
      await waitFor(async () => (await noteTexts()).some((t) => t.endsWith(over)), 1000, `"${over}" within 1 s`);
      console.log(`# ${lang}: ended session shown after ${Date.now() - t0} ms`);
      assert.equal(await popup.textContent('#webclient .value'), msg(lang, 'wcSessionOver', [pbx.origin]));
      await popup.close();
    } finally {
      await hl.close();
      await pbx.stop();
      await c2.stop();
    }
  });
}

test('NOT AUTH on the socket ends the session: the row turns red and a DIAL fails at once', async () => {
  const { pbx } = await stage();
  const at = Date.now();
  pbx.endSession('NOT AUTH');
  await waitFor(async () => (await h.status()).rows.webclient.text.key === 'wcSessionOver', 3000, 'the red row');
  dial('0895555555');
  await sleep(1500);
  assert.deepEqual(pbx.requestsOf(119), [], 'nothing POSTed for a session that is over');
  assert.deepEqual((await notices(at)).map((/** @type {any} */ n) => n.key), ['noteSessionOver', 'noteSessionOver']);
});

test('a colleague\'s call (OtherConnections, field 20) never reaches the connector', async () => {
  const colleague = { action: 2, id: 700, callId: 300, state: P.State.Connected, incoming: true, callerId: '+4930700700' };
  const { pbx } = await stage({ connections20: [colleague] });
  const seen = conn.received.length;
  pbx.legs20([{ action: 2, id: 701, callId: 301, state: P.State.Ringing, incoming: true, callerId: '+4930701701' }]);
  pbx.legs18([{ action: 2, id: 702, callId: 302, state: P.State.Ringing, incoming: true, callerId: '+4930702702' }]);
  await waitFor(() => events(seen).length >= 1, 5000, 'the operator\'s own call');
  await sleep(500);
  assert.deepEqual(events(seen), ['302 offered inbound +4930702702']);
  assert.equal((await h.status()).calls.length, 1, 'the popup shows the operator\'s call only');
  pbx.hangUpAll();
});

test('a page script cannot make up what the WebClient saw: events it dispatches itself are not read', async () => {
  const { pbx, page } = await stage();
  const seen = conn.received.length;
  const made = P.extensionInfo({ list18: { action: 3, items: [{ action: 2, id: 710, callId: 310, state: P.State.Ringing, incoming: true, callerId: '+4930710710' }] } });
  await page.evaluate((bytes) => {
    // A socket the hook tracks (the WebClient's path on the page's own host), and a frame
    // on it that no server sent.
    const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws/webclient?sessionId=made-up');
    ws.dispatchEvent(new MessageEvent('message', { data: new Uint8Array(bytes).buffer }));
  }, [...made]);
  // The PBX's own call comes after: it reaches the connector, the made-up one never does.
  pbx.legs18([{ action: 2, id: 711, callId: 311, state: P.State.Ringing, incoming: true, callerId: '+4930711711' }]);
  await waitFor(() => events(seen).length >= 1, 5000, 'the PBX\'s call');
  await sleep(500);
  assert.deepEqual(events(seen), ['311 offered inbound +4930711711']);
  pbx.hangUpAll();
});

test('the session key never leaves the page: not to the connector, storage, the console or a diagnostics file', async () => {
  const { pbx, page } = await stage();
  // Record while the extension and the operator dial, so the file holds requests too.
  const o = await h.options();
  await o.click('#diag-start');
  await waitFor(async () => String(await o.textContent('#diag-state')).startsWith('Recording until'), 5000, 'recording');
  const seen = conn.received.length;
  dial('0896666666');
  await waitFor(() => events(seen).length === 1, 5000, 'dialing');
  await page.evaluate(() => /** @type {any} */ (window).__dialByHand('0897777777'));
  await sleep(500);
  await o.click('#diag-stop');
  const [download] = await Promise.all([o.waitForEvent('download'), o.click('#diag-save')]);
  const file = require('node:fs').readFileSync(await download.path(), 'utf8');
  await o.close();
  const w = await h.worker();
  const stores = await w.evaluate(async () => JSON.stringify([await chrome.storage.local.get(null), await chrome.storage.session.get(null)]));
  const places = {
    'connector traffic': JSON.stringify(conn.received),
    'storage.local and storage.session': stores,
    'the offscreen document\'s console': docLines.join('\n'),
    'the diagnostics file': file,
    'the diagnostics file, decoded': file.split('\n').filter((l) => l && !l.startsWith('#'))
      .map((l) => Buffer.from(l.split(' ').at(-1) || '', 'base64').toString('latin1')).join('\n'),
  };
  assert.ok(docLines.length > 0 && file.includes(' POST '), 'there was something to look at');
  for (const [where, text] of Object.entries(places)) {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} in ${where}`);
  }
  pbx.hangUpAll();
});
