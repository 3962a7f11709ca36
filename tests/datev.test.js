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

/** @type {import('./lib/harness').Harness} */
let h;
/** @type {Pbx} */
let pbx;
/** @type {Connector} */
let conn;
/** @type {import('playwright-core').Page} */
let page;

before(async () => { h = await launch(); });
after(async () => { await h.close(); });

beforeEach(async () => {
  pbx = await new Pbx({ extension: EXT }).start();
  conn = await new Connector({ port: PORT }).start();
  page = await h.openWebClient(pbx);
  await waitFor(() => conn.hellos().length > 0 && conn.client, 15000, 'HELLO');
});

afterEach(async () => {
  // The WebClient never writes on its socket, and neither may the extension.
  assert.deepEqual(pbx.socketWrites, [], 'nothing written on the WebClient socket');
  // Hang up whatever the test left, so the next test's connector hears only its own calls.
  pbx.hangUpAll();
  await sleep(200);
  await page.close();
  await pbx.stop();
  await conn.stop();
});

/** @param {number} id @param {number} callId @param {string} number @param {boolean} [incoming] */
const ring = (id, callId, number, incoming = true) => ({ action: 2, id, callId, state: P.State.Ringing, incoming, callerId: number });
/** The destinations of the RequestMakeCalls the PBX got from anyone but the page's own code. */
const dialled = () => pbx.requestsOf(119).map((r) => r.makeCall?.destination);
/** Call control the PBX got: dials, hang-ups, the WebClient's own WebRTC calls. */
const control = () => pbx.requests.filter((r) => [115, 116, 117, 118, 119, 164].includes(Number(r.messageId)));

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

/** @param {any[]} [list] */
const evs = (list) => conn.events(list);
/** @param {number} n @param {string} [what] */
async function settle(n, what) {
  await waitFor(() => evs().length >= n, 8000, what || `${n} events`);
  await sleep(300); // nothing more may follow
}

test('inbound missed', async () => {
  pbx.legs18([ring(30, 8, '+49892222222')]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 30 }]);
  await settle(2);
  assert.deepEqual(evs(), ['8 offered inbound +49892222222', '8 ended inbound +49892222222']);
  assert.equal(conn.received.at(-1).call.reason, 'unknown');
});

test('outbound answered and outbound unanswered', async () => {
  pbx.legs18([{ action: 2, id: 40, callId: 11, state: P.State.Dialing, incoming: false, callerId: '+49893333333' }]);
  await sleep(100);
  pbx.legs18([{ action: 3, id: 40, state: P.State.Ringing }]);
  await sleep(100);
  pbx.legs18([{ action: 3, id: 40, state: P.State.Connected }]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 40 }]);
  pbx.legs18([{ action: 2, id: 41, callId: 12, state: P.State.Dialing, incoming: false, callerId: '+49894444444' }]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 41 }]);
  await settle(6);
  assert.deepEqual(evs(), [
    '11 dialing outbound +49893333333', '11 ringing outbound +49893333333', '11 connected outbound +49893333333', '11 ended outbound +49893333333',
    '12 dialing outbound +49894444444', '12 ended outbound +49894444444',
  ]);
  const ends = conn.received.filter((m) => m.call && m.call.state === 'ended').map((m) => m.call.reason);
  assert.deepEqual(ends, ['hangup', 'unknown']);
});

test('a three-leg queue call is one call that ends with its last leg', async () => {
  pbx.legs18([ring(28, 7, '+4930111'), ring(29, 7, '+4930111'), ring(30, 7, '+4930111')].map((l) => ({ ...l, action: 1 })));
  await sleep(100);
  pbx.legs18([{ action: 3, id: 29, state: P.State.Connected }]);
  pbx.legs18([{ action: 4, id: 28 }, { action: 4, id: 30 }]);
  await sleep(300);
  assert.deepEqual(evs(), ['7 offered inbound +4930111', '7 connected inbound +4930111'], 'still talking after two legs went');
  pbx.legs18([{ action: 4, id: 29 }]);
  await settle(3);
  assert.deepEqual(evs(), ['7 offered inbound +4930111', '7 connected inbound +4930111', '7 ended inbound +4930111']);
});

test('two calls at once', async () => {
  pbx.legs18([ring(50, 20, '+4940111')]);
  pbx.legs18([{ action: 2, id: 51, callId: 21, state: P.State.Dialing, incoming: false, callerId: '+4940222' }]);
  pbx.legs18([{ action: 3, id: 50, state: P.State.Connected }]);
  pbx.legs18([{ action: 3, id: 51, state: P.State.Connected }]);
  pbx.legs18([{ action: 4, id: 51 }]);
  pbx.legs18([{ action: 4, id: 50 }]);
  await settle(6);
  assert.deepEqual(evs(), [
    '20 offered inbound +4940111', '21 dialing outbound +4940222', '20 connected inbound +4940111',
    '21 connected outbound +4940222', '21 ended outbound +4940222', '20 ended inbound +4940111',
  ]);
});

test('DIAL with the desk phone the WebClient selected: its RequestMakeCall, POSTed like the WebClient', async () => {
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '+49 89 555-0100' });
  await settle(1, 'the dialled call');
  const [r] = pbx.requestsOf(119);
  assert.deepEqual(r.makeCall, {
    destination: '+49895550100', deviceId: `sip:${EXT}@192.168.1.50:5060;transport=udp`, enableCallControl: true,
    useIntercomToSource: undefined,
  }, 'the desk phone is the first device of the WebClient\'s list when nothing is stored');
  assert.equal(r.headers.myphonesession, '<session>', 'with the page\'s session key');
  assert.equal(r.answer?.messageId, 261);
  assert.deepEqual(evs(), ['90 dialing outbound +49 89 555-0100'], 'as DATEV wrote the number');
  assert.deepEqual(pbx.pageDials, []);
});

test('DIAL with the WebClient\'s softphone selected goes through its dialer, confirmed when it shows the number', async () => {
  await page.evaluate(() => /** @type {any} */ (window).__selectDevice('3CX WebRTC proxy'));
  await sleep(1500); // the content script looks at the stored choice every second
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '+49895550111' });
  await settle(1, 'the call dialled through the WebClient dialer');
  assert.deepEqual(pbx.pageDials, ['+49895550111'], 'the WebClient placed it itself (WebRTC)');
  assert.deepEqual(dialled(), [], 'no RequestMakeCall for the softphone');
  assert.deepEqual(evs(), ['90 dialing outbound +49895550111']);
});

test('DROP ends the call through its own leg', async () => {
  pbx.legs18([ring(60, 30, '+4960111'), ring(61, 30, '+4960111')]);
  pbx.legs18([{ action: 3, id: 61, state: P.State.Connected }]);
  pbx.legs18([{ action: 4, id: 60 }]); // the queue stops ringing the other phone
  await settle(2);
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DROP', callId: '30' });
  await settle(3);
  assert.deepEqual(pbx.requestsOf(115).map((r) => r.dropCall), [{ localConnectionId: 61, isLocal: true, actionIfRinging: 1 }],
    'as the WebClient hangs up: the leg, IsLocal, RA_Busy');
  assert.deepEqual(evs(), ['30 offered inbound +4960111', '30 connected inbound +4960111', '30 ended inbound +4960111']);
  assert.equal(conn.received.at(-1).call.reason, 'hangup');
});

test('connector restarted in mid-call: the new connector gets the call caught up, and its end', async () => {
  pbx.legs18([ring(70, 40, '+4970111')]);
  pbx.legs18([{ action: 3, id: 70, state: P.State.Connected }]);
  await settle(2);
  await conn.stop();
  pbx.legs18([ring(71, 41, '+4970222')]); // rings while the connector is away
  await sleep(500);
  conn = await new Connector({ port: PORT }).start();
  await waitFor(() => conn.hellos().length > 0, 40000, 'reconnect');
  await settle(2);
  assert.equal(conn.received[0].type, 'HELLO');
  // Call 40 is answered: `connected` alone (no caller popup for a call in progress);
  // call 41 still rings.
  assert.deepEqual(evs(), ['40 connected inbound +4970111', '41 offered inbound +4970222']);
  pbx.legs18([{ action: 4, id: 70 }, { action: 4, id: 71 }]);
  await settle(4);
  assert.deepEqual(evs().slice(2), ['40 ended inbound +4970111', '41 ended inbound +4970222']);
  assert.deepEqual(conn.log, []);
});

test('a call that ends while the connector is away still reaches DATEV, caught up', async () => {
  await conn.stop();
  pbx.legs18([ring(72, 42, '+4970333')]);
  pbx.legs18([{ action: 3, id: 72, state: P.State.Connected }]);
  pbx.legs18([{ action: 4, id: 72 }]);
  await sleep(300);
  conn = await new Connector({ port: PORT }).start();
  await settle(2);
  assert.deepEqual(evs(), ['42 connected inbound +4970333', '42 ended inbound +4970333'], 'answered, and over');
  assert.deepEqual(conn.log, [], 'nothing dropped by the connector');
  assert.deepEqual(conn.datev.calls.map((c) => `${c.direction} ${c.number} ${c.result}`), ['inbound +4970333 answered']);
});

test('a call that ends while the connector is closing its socket still reaches it after the reconnect', async () => {
  pbx.legs18([ring(74, 44, '+4970444')]);
  pbx.legs18([{ action: 3, id: 74, state: P.State.Connected }]);
  await settle(2);
  // The connector's Close has arrived, the connection has not ended yet: the socket is
  // CLOSING, and what is sent on it now goes nowhere.
  conn.closeAndHold(1500);
  await sleep(200);
  pbx.legs18([{ action: 4, id: 74 }]);
  await waitFor(() => conn.sessions >= 2 && conn.hellos().length >= 2, 40000, 'reconnect');
  await sleep(1500); // what the extension held comes right behind the HELLO_ACK
  // A connector closes its socket when it stops: the next session is taken to be a new
  // run of it, which gets the call caught up (answered, and over).
  assert.deepEqual(evs(), ['44 offered inbound +4970444', '44 connected inbound +4970444',
    '44 connected inbound +4970444', '44 ended inbound +4970444']);
  assert.deepEqual(conn.log, [], 'nothing dropped by the connector');
});

test('service worker stopped in mid-call: no event lost, duplicated or reordered', async () => {
  pbx.legs18([ring(80, 50, '+4980111')]);
  await settle(1);
  await h.stopWorker();
  pbx.legs18([{ action: 3, id: 80, state: P.State.Connected }]);
  await settle(2);
  await h.stopWorker();
  pbx.legs18([{ action: 4, id: 80 }]);
  await settle(3);
  assert.deepEqual(evs(), ['50 offered inbound +4980111', '50 connected inbound +4980111', '50 ended inbound +4980111']);
  assert.equal(conn.sessions, 1, 'the connector link itself never dropped');
});

test('service worker stopped while idle: a DIAL still dials', async () => {
  await h.stopWorker();
  await sleep(1000);
  assert.equal(await h.workerRunning(), false);
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '0891234' });
  await settle(1, 'the dialled call');
  assert.deepEqual(dialled(), ['0891234']);
});

test('offscreen document closed while the worker is stopped: it comes back, and a DIAL dials', async () => {
  const hellos = conn.hellos().length;
  await h.stopWorker();
  await sleep(500);
  await h.closeOffscreen();
  // Nothing else happens: the page, whose port closed with the document, asks for a new
  // one; the worker, started for that, opens it; the new document greets the connector.
  await waitFor(() => conn.hellos().length > hellos && conn.client, 15000, 'HELLO from a new document');
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '0897777' });
  await settle(1, 'the dialled call');
  assert.deepEqual(dialled(), ['0897777']);
});

test('forged frames from page scripts and other origins are ignored', async () => {
  const forged = Array.from(P.extensionInfo({ list18: { action: 3, items: [ring(90, 99, '+4999999')] } }));
  // A page script imitating the content script's port hand-over, and posting frames.
  await page.evaluate((bytes) => {
    const ch = new MessageChannel();
    window.postMessage({ __ctiBridgePort: true }, '*', [ch.port2]);
    const buf = Uint8Array.from(bytes).buffer;
    ch.port1.postMessage({ t: 'frame', socket: 1, ts: Date.now(), buf });
    window.postMessage({ t: 'frame', socket: 1, ts: Date.now(), buf }, '*');
    window.postMessage({ type: 'frame', pageId: 'x', seq: 1, bytes: Uint8Array.from(bytes) }, '*');
  }, forged);
  // Another origin (localhost instead of 127.0.0.1) opening the WebClient socket itself.
  const other = await h.context.newPage();
  await other.goto(`http://localhost:${pbx.port}/other`);
  await other.evaluate(() => new Promise((r) => { const ws = new WebSocket(`ws://${location.host}/ws/webclient?x=1`); ws.binaryType = 'arraybuffer'; ws.onopen = r; }));
  const framesBefore = await page.evaluate(() => window.__received);
  pbx.legs18([ring(91, 98, '+4998888')]);
  await settle(1);
  await waitFor(async () => (await page.evaluate(() => window.__received)) > framesBefore, 3000, 'the page got the frame too');
  await other.close();
  assert.deepEqual(evs(), ['98 offered inbound +4998888'], 'only the real frame, once');
  pbx.legs18([{ action: 4, id: 91 }]);
  await settle(2);
});

test('malformed frames and malformed connector messages change nothing', async () => {
  const good = P.extensionInfo({ list18: { action: 3, items: [ring(95, 60, '+4995111')] } });
  pbx.send(Uint8Array.from([0xff, 0xff, 0xff]));
  pbx.send(good.subarray(0, good.length - 3));          // truncated
  pbx.send(Uint8Array.from([]));
  pbx.send(P.otherFrame(122, 2000));
  pbx.send(good);
  await settle(1);
  assert.deepEqual(evs(), ['60 offered inbound +4995111']);
  for (const bad of [
    '{not json', '[]', JSON.stringify({ v: 2, type: 'COMMAND', cmd: 'DIAL', number: '1' }),
    JSON.stringify({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '089;DROP' }),
    JSON.stringify({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '' }),
    JSON.stringify({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '1'.repeat(200) }),
    JSON.stringify({ v: 1, type: 'COMMAND', cmd: 'REBOOT' }),
    JSON.stringify({ v: 1, type: 'COMMAND', cmd: 'DROP', callId: 'no-such-call' }),
    JSON.stringify({ v: 1, type: 'HELLO_ACK', port: 99999 }),
  ]) {
    conn.send(bad);
    await sleep(1100); // stay under the rate limit: each message gets its own chance
  }
  assert.deepEqual(control(), [], 'nothing dialled or dropped');
  assert.equal(conn.sessions, 1, 'the link stayed up');
  pbx.legs18([{ action: 3, id: 95, state: P.State.Connected }]);
  await settle(2);
  pbx.legs18([{ action: 4, id: 95 }]);
  await settle(3);
  assert.deepEqual(evs(), ['60 offered inbound +4995111', '60 connected inbound +4995111', '60 ended inbound +4995111']);
});

test('a double-clicked DIAL dials once; two numbers 300 ms apart dial twice, in order', async () => {
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '0891111' });
  await sleep(150);
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '089 1111' });
  await settle(1);
  await sleep(1500);
  assert.deepEqual(dialled(), ['0891111'], 'a double click is one dial');
  await sleep(1000); // past the double-click window
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '0892222' });
  await sleep(300);
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '0893333' });
  await waitFor(() => dialled().length >= 3, 5000, 'both dials');
  await sleep(500);
  assert.deepEqual(dialled(), ['0891111', '0892222', '0893333']);
});

test('blocked prefixes are never dialled; commands with no WebClient tab are refused', async () => {
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '0900 123456' });
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '+49 137 99' });
  await sleep(1500);
  assert.deepEqual(control(), [], 'no premium-rate or mass-call number dialled');
  const status = await h.status();
  assert.equal(status.notes.filter((/** @type {any} */ n) => n.text.key === 'noteBlocked').length, 2, 'shown in the popup');
  await page.close();
  await sleep(300);
  conn.send({ v: 1, type: 'COMMAND', cmd: 'DIAL', number: '0893333' });
  await sleep(1500);
  assert.equal(control().length, 0);
  const later = await h.status();
  assert.equal(later.notes[0].text.key, 'noteNoTab');
  page = await h.openWebClient(pbx); // for afterEach
});

test('frames the page could not hold while the extension was down are counted, and the popup says so', async () => {
  await page.close();
  const w = await h.worker();
  // The offscreen document cannot be opened for a while (see ui.test.js): the page's hook
  // holds the WebClient's first frames, up to 512 messages, and counts the rest.
  await w.evaluate(() => {
    const g = /** @type {any} */ (globalThis);
    g.realCreate = chrome.offscreen.createDocument;
    chrome.offscreen.createDocument = () => Promise.reject(new Error('test: refused'));
  });
  await h.closeOffscreen();
  page = await h.openWebClient(pbx, { trust: false }); // trusted already (beforeEach)
  pbx.legs18([ring(28, 7, '+4930777')]);
  for (let i = 0; i < 598; i++) pbx.legs18([{ action: 3, id: 28, state: P.State.Ringing }]);
  pbx.legs18([{ action: 3, id: 28, state: P.State.Connected }]);
  await sleep(2000); // 600 small frames on loopback: all in the page long before this
  // What the hook passed on: the socket's open, its START, the answers to the page's own
  // requests that are state (201 MyExtensionInfo, 227 the softphone's endpoint; the other
  // answers stay in the page), and every binary frame; it holds 512 of them.
  const seen = await page.evaluate(() => {
    const win = /** @type {any} */ (window);
    const state = win.__wc.posts.filter((/** @type {any} */ p) => p.answer === 201 || p.answer === 227).length;
    return 2 + state + win.__received;
  });
  await w.evaluate(() => { chrome.offscreen.createDocument = /** @type {any} */ (globalThis).realCreate; });
  const lost = async () => ((await h.status())?.notes || []).filter((/** @type {any} */ n) => n.text.key === 'noteFramesLost');
  await waitFor(async () => (await lost()).length > 0, 20000, 'the notice');
  assert.deepEqual((await lost()).map((/** @type {any} */ n) => n.text.args), [[String(seen - 512)]]);
  await settle(1);
  // The WebClient's own RequestMyInfo was answered after the PBX had pushed every frame:
  // its answer (the operator's state, read first, as the WebClient reads it) says the call
  // is up, and a connector session that never had it gets it caught up.
  assert.deepEqual(evs(), ['7 connected inbound +4930777'], 'the call as its state tells');
});

test('a connector that does not acknowledge HELLO gets it again, then a fresh socket', async () => {
  await conn.stop();
  conn = await new Connector({ port: PORT, ackHello: false }).start();
  await waitFor(() => conn.hellos().length >= 3, 20000, 'three HELLOs');
  assert.equal(conn.sessions, 1, 'all three on the first socket');
  assert.deepEqual(conn.events(), [], 'no CALL_EVENT before HELLO_ACK');
  conn.ackHello = true;
  // The port that never acknowledged is skipped for one round: backoff 4 s, a round over
  // the other ports (probes time out after 1.5 s), backoff 8 s, then this port again:
  // about 15 s, more on a loaded machine.
  await waitFor(() => conn.sessions >= 2 && conn.client, 30000, 'a new socket');
  pbx.legs18([ring(98, 75, '+4998222')]);
  await settle(1);
  assert.deepEqual(evs(), ['75 offered inbound +4998222']);
  assert.ok(!conn.log.includes('CALL_EVENT before HELLO'));
});

test('popup shows the WebClient, the connector state and the calls', async () => {
  pbx.legs18([ring(97, 70, '+4997111')]);
  await settle(1);
  const popup = await h.popup();
  await waitFor(async () => (await popup.textContent('#connector .value')) === `Connected on port ${PORT}`, 5000, 'connector row');
  assert.match(String(await popup.textContent('#webclient .value')), new RegExp(`^Extension ${EXT} on `));
  // Numbers are masked in the popup too.
  assert.match(String(await popup.textContent('#calls')), /Incoming · \+49\*+11 · Ringing/);
  await popup.close();
  pbx.legs18([{ action: 4, id: 97 }]);
  await settle(2);
});
