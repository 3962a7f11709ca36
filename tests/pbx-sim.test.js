// Proves the simulated 3CX PBX and its WebClient-like page (tests/lib/pbx.js) against the
// facts of /work/shared/spec/3cx-webclient.md and the real WebClient's Internal.js: first with
// plain HTTP / WebSocket clients, then with Debian's Chromium and no extension at all.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { WebSocket } = require('ws');
const { chromium } = require('playwright-core');
const { Pbx } = require('./lib/pbx');
const P = require('./lib/proto');

const OCTET = 'application/octet-stream';
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @template T
 * @param {() => T | Promise<T>} fn @param {number} ms @param {string} what @returns {Promise<NonNullable<T>>}
 */
async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return /** @type {NonNullable<T>} */ (v);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A socket client that keeps what it gets. @param {Pbx} pbx @param {string} [key] @param {string} [pass] */
function socket(pbx, key = pbx.sessionKey, pass = pbx.session.pass) {
  const ws = new WebSocket(`ws://127.0.0.1:${pbx.port}/ws/webclient?sessionId=${key}&pass=${pass}`);
  /** @type {Array<string | Uint8Array>} */
  const got = [];
  ws.on('message', (d, binary) => got.push(binary ? new Uint8Array(/** @type {Buffer} */ (d)) : String(d)));
  const closed = new Promise((r) => ws.on('close', r));
  return { ws, got, closed, frames: () => got.filter((m) => typeof m !== 'string').map((m) => P.answer(/** @type {Uint8Array} */ (m))) };
}

/** The WebClient's headers (module 30871). @param {Pbx} pbx */
const headers = (pbx) => ({ Accept: OCTET, 'Content-Type': OCTET, MyPhoneSession: pbx.sessionKey, 'ngsw-bypass': 'bypass' });

/**
 * @param {Pbx} pbx @param {Uint8Array} body @param {Record<string, string>} [h] @param {string} [method]
 * @returns {Promise<{status: number, bytes: Uint8Array}>}
 */
async function post(pbx, body, h = headers(pbx), method = 'POST') {
  const res = await fetch(`${pbx.origin}/MyPhone/MPWebService.asmx`, { method, headers: h, body: method === 'POST' ? new Blob([Uint8Array.from(body)]) : undefined });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** The answer's decoded GenericMessage. @param {Pbx} pbx @param {Uint8Array} body */
async function ask(pbx, body) {
  const r = await post(pbx, body);
  assert.equal(r.status, 200);
  return P.answer(r.bytes);
}

test('socket: START and Groups, ADDP, NOT AUTH / STOP; frames written there are recorded and ignored', async () => {
  const pbx = await new Pbx({ addpMs: 40 }).start();
  try {
    const c = socket(pbx);
    await waitFor(() => c.got.includes('ADDP'), 2000, 'ADDP');
    assert.equal(c.got[0], 'START', 'START first');
    const [groups] = c.frames();
    assert.equal(groups.messageId, 208);
    assert.equal(groups.payload && groups.payload.FromLocalPbx, true, 'the local PBX\'s Groups (the WebClient waits for them)');
    assert.equal(pbx.connected, 1);

    // Written on the socket: recorded, nothing happens.
    const desk = /** @type {import('./lib/pbx').Device} */ (pbx.regs.get(1));
    c.ws.send(P.makeCall({ destination: '0891234', deviceId: desk.contact, enableCallControl: true }));
    c.ws.send('{"dial":"0891234"}');
    await waitFor(() => pbx.socketWrites.length === 2, 2000, 'socket writes');
    assert.equal(pbx.socketWrites[0].binary, true);
    assert.equal(/** @type {any} */ (pbx.socketWrites[0].decoded).makeCall.destination, '0891234');
    assert.equal(pbx.socketWrites[1].data, '{"dial":"0891234"}');
    await sleep(100);
    assert.equal(pbx.legs.size, 0, 'no call started');
    assert.equal(c.frames().length, 1, 'nothing pushed in answer');

    // A wrong key: the channel is cancelled.
    const bad = socket(pbx, 'nope', 'nope');
    await bad.closed;
    assert.deepEqual(bad.got, ['NOT AUTH']);

    // STOP ends the session: the socket closes, POSTs with its key are refused.
    const oldKey = pbx.sessionKey;
    pbx.endSession('STOP');
    await c.closed;
    assert.equal(c.got.at(-1), 'STOP');
    const body = P.message(102);
    assert.equal((await post(pbx, body, { ...headers(pbx), MyPhoneSession: oldKey })).status, 401);
    pbx.expiredAnswer = 403;
    assert.equal((await post(pbx, body, { ...headers(pbx), MyPhoneSession: oldKey })).status, 403);
    pbx.expiredAnswer = 'logininfo';
    const li = await post(pbx, body, { ...headers(pbx), MyPhoneSession: oldKey });
    assert.equal(li.status, 200);
    assert.deepEqual(P.answer(li.bytes).payload, { IsAuthenticated: false, ValidationMessage: 'Session expired' });
    const again = socket(pbx, oldKey, 'PASS-SECRET');
    await again.closed;
    assert.deepEqual(again.got, ['NOT AUTH'], 'an ended session cannot connect again');

    // A new session; NOT AUTH ends it the same way. No ADDP: the client hears nothing more.
    pbx.newSession();
    const d = socket(pbx);
    await waitFor(() => d.got.includes('START'), 2000, 'START of the new session');
    pbx.pauseAddp = true;
    const n = d.got.length;
    await sleep(150);
    assert.equal(d.got.length, n, 'no ADDP while paused');
    pbx.endSession('NOT AUTH');
    await d.closed;
    assert.equal(d.got.at(-1), 'NOT AUTH');
    assert.ok(!JSON.stringify(pbx.rejected).includes(oldKey), 'the key is not kept');
  } finally {
    await pbx.stop();
  }
});

test('POST endpoint: method, session header, content type, failHttp; headers recorded without the key', async () => {
  const pbx = await new Pbx().start();
  try {
    const body = P.message(102);
    assert.equal((await post(pbx, body, headers(pbx), 'GET')).status, 405);
    const { MyPhoneSession: _, ...noSession } = headers(pbx);
    assert.equal((await post(pbx, body, noSession)).status, 401);
    assert.equal((await post(pbx, body, { ...headers(pbx), MyPhoneSession: 'SESSION-SECRET-forged' })).status, 401);
    assert.equal((await post(pbx, body, { ...headers(pbx), 'Content-Type': 'text/plain' })).status, 415);
    assert.equal(pbx.requests.length, 0, 'none of those was decoded');
    assert.deepEqual(pbx.rejected.map((r) => r.status), [405, 401, 401, 415]);

    const ok = await post(pbx, body);
    assert.equal(ok.status, 200);
    const [r] = pbx.requests;
    assert.equal(r.messageId, 102);
    assert.equal(r.headers.accept, OCTET);
    assert.equal(r.headers['content-type'], OCTET);
    assert.equal(r.headers['ngsw-bypass'], 'bypass');
    assert.equal(r.headers.myphonesession, '<session>');

    pbx.failHttp = 401;
    assert.equal((await post(pbx, body)).status, 401, 'failHttp answers every POST');
    pbx.failHttp = null;
    const seen = JSON.stringify([pbx.requests, pbx.rejected]);
    assert.ok(!seen.includes(pbx.sessionKey) && !seen.includes('SESSION-SECRET'), 'the session key is never kept');
  } finally {
    await pbx.stop();
  }
});

test('RequestMyInfo is answered with MyExtensionInfo FullUpdate: fields 1, 2, 3, 7, 8, 9, 18, 20', async () => {
  const pbx = await new Pbx({
    extension: '204',
    connections18: [{ id: 31, callId: 9, state: P.State.Connected, incoming: true, callerId: '+49891111111' }],
    connections20: [{ id: 77, callId: 12, state: P.State.Ringing, incoming: true, callerId: '+4930222', ownerDn: '205' }],
  }).start();
  try {
    const r = await post(pbx, P.message(102));
    const info = P.fields(P.fields(r.bytes)[201][0]);
    for (const f of [1, 2, 3, 7, 8, 9, 18, 20]) assert.ok(info[f], `field ${f}`);
    const { messageId, payload } = P.answer(r.bytes);
    assert.equal(messageId, 201);
    const p = /** @type {Record<string, any>} */ (payload);
    assert.equal(p.Action, P.Action.FullUpdate);
    assert.equal(p.Number, '204');
    assert.equal(p.FirstName, 'Erika');
    assert.equal(p.LastName, 'Operator');
    assert.equal(p.ActiveDevices.Action, P.Action.FullUpdate);
    assert.deepEqual(p.ActiveDevices.Items.map((/** @type {any} */ d) => d.UserAgent), ['Yealink SIP-T46S 66.86.0.15', '3CX WebRTC proxy', '3CX Push Service']);
    assert.equal(p.ActiveDevices.Items[0].Contact, 'sip:204@192.168.1.50:5060;transport=udp');
    assert.ok(p.ActiveDevices.Items[0].ExpiresAt.Year >= 2024);
    assert.deepEqual(p.Connections.Items.map((/** @type {any} */ c) => [c.Id, c.State, c.OtherPartyCallerId]), [[31, 3, '+49891111111']]);
    assert.deepEqual(p.OtherConnections.Items.map((/** @type {any} */ c) => [c.Id, c.OwnerDn]), [[77, '205']]);

    // The other state requests of START get their state too.
    assert.equal((await ask(pbx, P.message(122))).messageId, 210);
    assert.equal((await ask(pbx, P.message(131))).messageId, 218);
    const ep = await ask(pbx, P.message(163, { register: true, NeedsRegistration: false }));
    assert.equal(ep.messageId, 227);
    assert.equal(ep.payload && ep.payload.isWebRTCEnpointRegistered, true);
    assert.equal((await ask(pbx, P.message(500))).messageId, 244);
    assert.equal((await ask(pbx, P.message(104, { Count: 2 }))).messageId, 202);
    const nope = await ask(pbx, P.message(999));
    assert.deepEqual([nope.messageId, nope.payload && nope.payload.Success], [207, false]);
  } finally {
    await pbx.stop();
  }
});

test('strict decoding: a known field with the wrong wire type is refused as protobuf-net would', async () => {
  const pbx = await new Pbx().start();
  try {
    const desk = /** @type {import('./lib/pbx').Device} */ (pbx.regs.get(1));
    // The seed's layout: field 3 as a bool where the PBX expects the DeviceID string.
    const seed = await ask(pbx, P.message(119, P.raw([[1, 'string', '0891234'], [3, 'varint', 1]])));
    assert.equal(seed.messageId, 207);
    const a = /** @type {Record<string, any>} */ (seed.payload);
    assert.equal(a.Success, false);
    assert.equal(a.ErrorCode, P.ErrorCode.ExceptionOccured);
    assert.match(a.Message, /^Invalid wire-type \(Varint\)/);
    assert.equal(a.ExceptionType, 'ProtoBuf.ProtoException');
    assert.equal(pbx.legs.size, 0);
    assert.match(String(pbx.requests.at(-1)?.error), /Invalid wire-type/);

    const badId = await ask(pbx, P.raw([[1, 'string', '119']]));
    assert.deepEqual([badId.messageId, badId.payload && badId.payload.Success], [207, false], 'MessageId must be a varint');
    const truncated = P.makeCall({ destination: '0891234', deviceId: desk.contact, enableCallControl: true });
    const cut = await ask(pbx, truncated.subarray(0, truncated.length - 4));
    assert.deepEqual([cut.messageId, cut.payload && cut.payload.Success], [207, false], 'a truncated message');

    // Unknown fields are skipped: the request goes through.
    const extra = await ask(pbx, P.message(119, P.raw([[1, 'string', '0891234'], [3, 'string', desk.contact], [4, 'varint', 1], [9, 'varint', 5]])));
    assert.equal(extra.messageId, 261);
    assert.equal(extra.payload && extra.payload.Success, true);
  } finally {
    await pbx.stop();
  }
});

test('call control: RequestMakeCall (261 and a Dialing leg pushed), RequestDropCall (207), the knobs', async () => {
  const pbx = await new Pbx().start();
  try {
    const c = socket(pbx);
    await waitFor(() => c.frames().length >= 1, 2000, 'the socket');
    const desk = /** @type {import('./lib/pbx').Device} */ (pbx.regs.get(1));
    const made = await ask(pbx, P.makeCall({ destination: '0891234', deviceId: desk.contact, enableCallControl: true }));
    assert.equal(made.messageId, 261);
    const leg = /** @type {Record<string, any>} */ (made.payload).LocalConnectionId;
    assert.equal(made.payload && made.payload.Success, true);
    const push = await waitFor(() => c.frames().find((f) => f.messageId === 201), 2000, 'the new leg');
    const info = /** @type {Record<string, any>} */ (push.payload);
    assert.equal(info.Action, P.Action.Updated);
    assert.equal(info.Connections.Action, P.Action.Updated);
    const item = info.Connections.Items[0];
    assert.deepEqual([item.Action, item.Id, item.State, item.IsIncoming, item.OtherPartyCallerId, item.DeviceContact],
      [P.Action.Inserted, leg, P.State.Dialing, false, '0891234', desk.contact]);
    assert.deepEqual(pbx.requests.at(-1)?.makeCall, { destination: '0891234', useIntercomToSource: undefined, deviceId: desk.contact, enableCallControl: true });
    const rights = await ask(pbx, P.message(124, { LocalConnectionId: leg }));
    assert.ok(rights.payload && rights.payload.ConnectionCapabilities > 0);

    const unknown = await ask(pbx, P.makeCall({ destination: '0891234', deviceId: 'sip:1005@10.9.9.9', enableCallControl: true }));
    assert.deepEqual([unknown.messageId, unknown.payload && unknown.payload.Success], [207, false], 'a DeviceID no registration has');
    const none = await ask(pbx, P.makeCall({ destination: '0891234', enableCallControl: true }));
    assert.deepEqual([none.messageId, none.payload && none.payload.Success], [207, false], 'no DeviceID');

    const dropped = await ask(pbx, P.dropCall({ localConnectionId: leg, isLocal: true, actionIfRinging: P.RejectAction.Busy }));
    assert.deepEqual([dropped.messageId, dropped.payload && dropped.payload.Success], [207, true]);
    await waitFor(() => c.frames().some((f) => f.payload && f.payload.Connections && f.payload.Connections.Items.some((/** @type {any} */ i) => i.Id === leg && i.Action === P.Action.Deleted)), 2000, 'the deletion');
    assert.deepEqual(pbx.requests.at(-1)?.dropCall, { localConnectionId: leg, isLocal: true, actionIfRinging: 1 });
    const again = await ask(pbx, P.dropCall({ localConnectionId: leg, isLocal: true, actionIfRinging: 1 }));
    assert.deepEqual([again.payload && again.payload.Success, again.payload && again.payload.Message], [false, 'Invalid connection Id']);

    pbx.refuseRequests = true;
    const refused = await ask(pbx, P.makeCall({ destination: '0891234', deviceId: desk.contact, enableCallControl: true }));
    assert.deepEqual([refused.messageId, refused.payload && refused.payload.Success, refused.payload && refused.payload.ErrorCode], [207, false, 9]);
    pbx.refuseRequests = false;

    pbx.honourCommands = false;
    const frames = c.frames().length;
    const quiet = await ask(pbx, P.makeCall({ destination: '0895555', deviceId: desk.contact, enableCallControl: true }));
    assert.deepEqual([quiet.messageId, quiet.payload && quiet.payload.Success], [261, true]);
    await sleep(100);
    assert.equal(c.frames().length, frames, 'success, and nothing started');
    assert.equal(pbx.legs.size, 0);
    pbx.honourCommands = true;

    pbx.answerDelayMs = 150;
    const t0 = Date.now();
    await ask(pbx, P.message(131));
    assert.ok(Date.now() - t0 >= 140, 'answerDelayMs');
    pbx.answerDelayMs = 0;

    // Pushes for tests: a colleague's call (20), registrations (9), MyWebRTCEndpoint (227).
    pbx.legs20([{ action: 2, id: 80, callId: 3, state: P.State.Ringing, incoming: true, callerId: '+4940111', ownerDn: '1006' }]);
    pbx.registrations([{ id: 4, action: 2, userAgent: 'Snom D785', contact: 'sip:1005@192.168.1.51:5060' }]);
    pbx.webrtcEndpoint({ registered: true, deviceContact: 'sip:1005@127.0.0.1:5483', calls: [{ action: 2, id: 5, sdpType: P.SdpType.Offer, number: '+4940111' }] });
    await waitFor(() => c.frames().some((f) => f.messageId === 227), 2000, 'the 227 push');
    const last = c.frames().slice(-3);
    assert.equal(last[0].payload && last[0].payload.OtherConnections.Items[0].OwnerDn, '1006');
    assert.equal(last[1].payload && last[1].payload.ActiveDevices.Items[0].UserAgent, 'Snom D785');
    assert.equal(last[2].payload && last[2].payload.Items[0].otherPartyNumber, '+4940111');
    assert.ok(pbx.regs.has(4));
    c.ws.close();
  } finally {
    await pbx.stop();
  }
});

// ---- the page, in Chromium without any extension ----

/** @type {import('playwright-core').Browser} */
let browser;
test.before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
test.after(async () => { if (browser) await browser.close(); });

// Counts calls of WebSocket.prototype.send in the page, before the WebClient's script runs.
const COUNT_SENDS = 'window.__sends = 0; { const s = WebSocket.prototype.send; WebSocket.prototype.send = function (d) { window.__sends++; return s.call(this, d); }; }';

/** @param {ConstructorParameters<typeof Pbx>[0]} [opts] */
async function pageOn(opts = {}) {
  const pbx = await new Pbx({ headScript: COUNT_SENDS, ...opts }).start();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pbx.origin}/webclient/`);
  await waitFor(() => page.evaluate(() => /** @type {any} */ (window).__wc.state().initiated), 5000, 'the session up');
  return {
    pbx, page,
    /** @returns {Promise<any>} */ state: () => page.evaluate(() => /** @type {any} */ (window).__wc.state()),
    /** @returns {Promise<any[]>} */ placed: () => page.evaluate(() => /** @type {any} */ (window).__wc.placed),
    async close() {
      assert.deepEqual(pbx.socketWrites, [], 'nothing written on the socket');
      assert.equal(await page.evaluate(() => /** @type {any} */ (window).__sends), 0, 'WebSocket.send never called');
      await context.close();
      await pbx.stop();
    },
  };
}

/** @param {import('playwright-core').Page} page @param {string} value */
async function dialerShows(page, value) {
  await waitFor(() => page.evaluate((v) => {
    const i = /** @type {HTMLInputElement | null} */ (document.querySelector('#wc-dialer-input'));
    return !!i && i.value === v && document.activeElement === i;
  }, value), 3000, `the dialer showing ${value}`);
}

test('page: on START it POSTs its state requests with the WebClient\'s headers and takes the answers as pushes', async () => {
  const s = await pageOn();
  try {
    const ids = s.pbx.requests.map((r) => r.messageId);
    assert.equal(ids[0], 122, 'RequestGetSystemParameters first (concat)');
    assert.deepEqual(ids.slice(1, 6).sort(), [102, 104, 131, 163, 500]);
    for (const r of s.pbx.requests) {
      assert.equal(r.headers.accept, OCTET);
      assert.equal(r.headers['content-type'], OCTET);
      assert.equal(r.headers['ngsw-bypass'], 'bypass');
      assert.equal(r.headers.myphonesession, '<session>');
    }
    assert.deepEqual(s.pbx.requestsOf(163)[0].payload, { register: true, NeedsRegistration: false });
    const st = await s.state();
    assert.equal(st.number, '1005', 'the RequestMyInfo answer was applied');
    assert.equal(st.registrations.length, 3);
    // Pushes after START are merged into that state.
    s.pbx.legs18([{ action: 2, id: 40, callId: 4, state: P.State.Ringing, incoming: true, callerId: '+4989777' }]);
    await waitFor(async () => (await s.state()).calls.some((/** @type {any} */ c) => c.Id === 40), 2000, 'the pushed leg');
    s.pbx.legs20([{ action: 2, id: 41, callId: 5, state: P.State.Ringing, incoming: true, callerId: '+4989888', ownerDn: '1006' }]);
    await waitFor(async () => (await s.state()).otherCalls.length === 1, 2000, 'the colleague\'s leg');
    assert.equal((await s.state()).calls.length, 1, 'field 20 is not the operator\'s');
    s.pbx.hangUpAll();
    await waitFor(async () => (await s.state()).calls.length === 0, 2000, 'no calls');
    assert.ok(await s.page.evaluate(() => window.__received) >= 4, 'pushes counted');
    const devices = await s.page.evaluate(() => /** @type {any} */ (window).__wc.devices().map((/** @type {any} */ d) => d.UserAgent));
    assert.deepEqual(devices, ['Yealink SIP-T46S 66.86.0.15', '3CX WebRTC proxy', '3CX Push Service'], 'other devices, then WebRTC, then 3CX ones');
  } finally {
    await s.close();
  }
});

test('page: #/call?phone= opens the dialer; Enter dials with the desk phone (RequestMakeCall, its Contact); hang-up by hand', async () => {
  const s = await pageOn();
  try {
    const desk = /** @type {import('./lib/pbx').Device} */ (s.pbx.regs.get(1));
    await s.page.evaluate(() => { location.hash = '#/call?phone=' + encodeURIComponent('tel:+49 89 1234'); });
    await dialerShows(s.page, '+49 89 1234');
    await s.page.keyboard.press('Enter');
    await waitFor(() => s.pbx.requestsOf(124).length === 1, 3000, 'RequestMakeCall and the leg\'s rights');
    const [mc] = s.pbx.requestsOf(119);
    assert.deepEqual(mc.makeCall, { destination: '+49891234', useIntercomToSource: undefined, deviceId: desk.contact, enableCallControl: true });
    assert.deepEqual(s.pbx.pageDials, [], 'not a WebRTC call');
    const leg = /** @type {Record<string, any>} */ (mc.answer && mc.answer.payload).LocalConnectionId;
    await waitFor(async () => (await s.state()).calls.some((/** @type {any} */ c) => c.Id === leg && c.State === P.State.Dialing), 2000, 'the leg in the page');
    assert.equal((await s.state()).dialer.value, '', 'the dialer is emptied after the call');

    // No second call while one is dialling (isNewCallAllowed).
    await s.page.evaluate(() => /** @type {any} */ (window).__dialByHand('0897'));
    assert.equal(s.pbx.requestsOf(119).length, 1);
    assert.equal((await s.placed()).at(-1).refused, 'a call is being set up');

    assert.equal(await s.page.evaluate((id) => /** @type {any} */ (window).__hangUpByHand(id), leg), 'ok');
    assert.deepEqual(s.pbx.requestsOf(115)[0].dropCall, { localConnectionId: leg, isLocal: true, actionIfRinging: 1 });
    await waitFor(async () => (await s.state()).calls.length === 0, 2000, 'the leg gone');
    assert.equal(await s.page.evaluate(() => /** @type {any} */ (window).__hangUpByHand(999)), 'Invalid connection Id');

    // Angular decodes "+" in a query as a space: an unencoded + is lost.
    await s.page.evaluate(() => { location.hash = '#/dialer?phone=+4930123'; });
    await dialerShows(s.page, ' 4930123');
    await s.page.click('#wc-dialer-call');
    await waitFor(() => s.pbx.requestsOf(119).length === 2, 3000, 'the second call');
    assert.equal(s.pbx.requestsOf(119)[1].makeCall?.destination, '4930123');
  } finally {
    await s.close();
  }
});

test('page: with the softphone selected a tel: link and Enter make a page dial (164), and hang-up terminates it', async () => {
  const s = await pageOn();
  try {
    await s.page.evaluate(() => /** @type {any} */ (window).__selectDevice('3CX WebRTC proxy'));
    assert.equal(await s.page.evaluate(() => localStorage.getItem('wc.1005__selectedphonedevice')), '"3CX WebRTC proxy"');
    const clickTel = () => s.page.evaluate(() => {
      const a = document.createElement('a');
      a.href = 'tel:0897777';
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
    await clickTel();
    await dialerShows(s.page, '0897777');
    await s.page.keyboard.press('Enter');
    await waitFor(() => s.pbx.pageDials.length === 1, 3000, 'the page dial');
    assert.deepEqual(s.pbx.pageDials, ['0897777']);
    assert.equal(s.pbx.requestsOf(119).length, 0, 'no RequestMakeCall for the softphone');
    const offer = /** @type {Record<string, any>} */ (s.pbx.requestsOf(164)[0].payload);
    assert.deepEqual([offer.Id, offer.sdpType, offer.destinationNumber], [0, P.SdpType.Offer, '0897777']);
    assert.match(offer.sdp, /^v=0/);
    const leg = await waitFor(async () => (await s.state()).calls.find((/** @type {any} */ c) => c.State === P.State.Dialing), 2000, 'the leg');
    assert.equal(await s.page.evaluate((id) => /** @type {any} */ (window).__hangUpByHand(id), leg.Id), 'ok');
    const term = /** @type {Record<string, any>} */ (s.pbx.requestsOf(164)[1].payload);
    assert.equal(term.sdpType, P.SdpType.Terminate, 'its own WebRTC call ends with 164 terminate');
    assert.equal(s.pbx.requestsOf(115).length, 0);
    await waitFor(async () => (await s.state()).calls.length === 0, 2000, 'the leg gone');

    // honourPageDials = false: the dialog works, nothing starts. The same tel: link again
    // opens the dialer again (the hash is the same).
    s.pbx.honourPageDials = false;
    assert.equal((await s.state()).dialer.value, '', 'emptied after the call');
    await clickTel();
    await dialerShows(s.page, '0897777');
    await s.page.keyboard.press('Enter');
    await waitFor(() => s.pbx.pageDials.length === 2, 3000, 'the second page dial');
    await sleep(100);
    assert.equal((await s.state()).calls.length, 0);

    // A stored agent that is not registered falls back to the first of the list: the desk phone.
    await s.page.evaluate(() => /** @type {any} */ (window).__selectDevice({ userAgent: 'Gone Phone', ipAddress: '10.0.0.9' }));
    assert.equal(await s.page.evaluate(() => /** @type {any} */ (window).__wc.selected().UserAgent), 'Yealink SIP-T46S 66.86.0.15');
  } finally {
    await s.close();
  }
});

test('page: the stale dialer shows the previous number first; Enter too early redials it', async () => {
  const s = await pageOn({ staleDialer: true, staleDialerMs: 600, selectedDevice: { userAgent: 'Yealink SIP-T46S 66.86.0.15', ipAddress: '192.168.1.50' } });
  try {
    await s.page.evaluate(() => /** @type {any} */ (window).__dialByHand('0891111'));
    await waitFor(() => s.pbx.requestsOf(119).length === 1, 3000, 'the first call');
    s.pbx.hangUpAll();
    await waitFor(async () => (await s.state()).calls.length === 0, 2000, 'no calls');

    await s.page.evaluate(() => { location.hash = '#/call?phone=0892222'; });
    await dialerShows(s.page, '0891111');
    await s.page.keyboard.press('Enter');
    await waitFor(() => s.pbx.requestsOf(119).length === 2, 3000, 'the redial');
    assert.equal(s.pbx.requestsOf(119)[1].makeCall?.destination, '0891111', 'the quirk: the previous number');
    s.pbx.hangUpAll();
    await waitFor(async () => (await s.state()).calls.length === 0, 2000, 'no calls');

    await s.page.evaluate(() => { location.hash = '#/dialer?phone=0893333'; });
    await dialerShows(s.page, '0891111');
    await dialerShows(s.page, '0893333');
    await s.page.keyboard.press('Enter');
    await waitFor(() => s.pbx.requestsOf(119).length === 3, 3000, 'the third call');
    assert.equal(s.pbx.requestsOf(119)[2].makeCall?.destination, '0893333');
  } finally {
    await s.close();
  }
});

test('page: after NOT AUTH a page with reconnect takes a new session and asks for its state again', async () => {
  const s = await pageOn({ reconnect: true, addpMs: 200 });
  try {
    const first = s.pbx.requests.length;
    s.pbx.endSession('NOT AUTH');
    await waitFor(async () => { const st = await s.state(); return st.reconnects === 1 && st.initiated; }, 5000, 'the new session');
    assert.equal(s.pbx.connected, 1);
    assert.ok(s.pbx.requests.slice(first).some((r) => r.messageId === 102 && r.headers.myphonesession === '<session>'));
    // Silence for 2 x ADDP: the page drops the socket (and reconnects).
    s.pbx.pauseAddp = true;
    await waitFor(async () => (await s.state()).reconnects === 2, 5000, 'the watchdog');
    s.pbx.pauseAddp = false;
  } finally {
    await s.close();
  }
});
