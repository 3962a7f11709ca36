// What DATEV ends up with, end to end in real Chromium with the built dist/, against a
// connector simulator modelled on the real connector's C# source (tests/lib/connector.js,
// tests/lib/datev.js): its socket layer forgets calls when a socket closes, its DATEV layer
// keeps them for as long as it runs; it acknowledges HELLO with its own extension; it
// links DATEV's dial by the number of the call's first outbound event; in Auto mode it
// listens in windows and passes events on only once DATEV's contacts are loaded. Each test
// reads `conn.datev`: the calls DATEV got, which are still listed, which are linked.
'use strict';
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor, sleep } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');
const { msg } = require('./lib/ui');
const P = require('./lib/proto');

/** @type {import('./lib/harness').Harness} */ let h;
/** @type {Array<() => Promise<unknown>>} */ const cleanup = [];

before(async () => { h = await launch(); });
after(async () => { await h.close(); });
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

/** A PBX for `ext` with its WebClient open (the connector is the test's). @param {string} ext */
async function webclient(ext) {
  const pbx = await new Pbx({ extension: ext }).start();
  cleanup.push(() => pbx.stop());
  const page = await h.openWebClient(pbx);
  cleanup.push(() => page.close());
  // The WebClient has read its state (RequestMyInfo's answer): a call pushed from here on is
  // new to it. One pushed earlier is in that answer already, and the WebClient (and so the
  // extension) first sees it as it stands then, answered perhaps, with no ringing before.
  await waitFor(async () => (await h.status())?.rows?.webclient?.extra, 15000, 'the WebClient\'s state read');
  return { pbx, page };
}

/** @param {ConstructorParameters<typeof Connector>[0]} opts */
async function connector(opts) {
  const conn = await new Connector(opts).start();
  cleanup.push(() => conn.stop());
  return conn;
}

/** What DATEV holds, one line per call: direction, number, result, still listed. @param {Connector} conn */
const datev = (conn) => conn.datev.calls.map((c) => `${c.direction} ${c.number} ${c.result ?? 'open'}${c.listed ? ' listed' : ''}`);

const ring = (/** @type {number} */ id, /** @type {number} */ callId, /** @type {string} */ number) =>
  ({ action: 2, id, callId, state: P.State.Ringing, incoming: true, callerId: number });

test('an inbound and an outbound call are each one call in DATEV, with their numbers', async () => {
  const conn = await connector({ port: 19800 + 58 });
  const { pbx } = await webclient('58');
  await waitFor(() => conn.wired && conn.client, 15000, 'the connector session');
  pbx.legs18([ring(10, 1, '+4989100100')]);
  await sleep(100);
  pbx.legs18([{ action: 3, id: 10, state: P.State.Connected }]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 10 }]);
  pbx.legs18([{ action: 2, id: 11, callId: 2, state: P.State.Dialing, incoming: false, callerId: '0301234567' }]);
  await sleep(100);
  pbx.legs18([{ action: 3, id: 11, state: P.State.Ringing }]);
  await sleep(100);
  pbx.legs18([{ action: 3, id: 11, state: P.State.Connected }]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 11 }]);
  await waitFor(() => conn.datev.calls.filter((c) => c.result).length === 2, 5000, 'two finished calls');
  await sleep(300);
  assert.deepEqual(datev(conn), ['inbound +4989100100 answered', 'outbound 0301234567 answered']);
  assert.equal(conn.datev.popups.length, 1, 'one caller popup, for the inbound call');
  assert.deepEqual(conn.datev.listed(), []);
});

test('DATEV\'s DIAL of +49 89 1234567 is linked to its SyncID though the PBX writes 0891234567', async () => {
  const conn = await connector({ port: 19800 + 59 });
  const { pbx } = await webclient('59');
  pbx.spellNumber = (n) => n.replace(/^\+49/, '0');
  await waitFor(() => conn.wired && conn.client && conn.hellos().length > 0, 15000, 'the connector session, HELLO said');
  conn.datevDial('+49 89 1234567', 'datev-sync-42');
  await waitFor(() => conn.datev.calls.length === 1, 8000, 'the dialled call in DATEV');
  const [r] = pbx.requestsOf(119);
  assert.equal(r.makeCall?.destination, '+49891234567');
  assert.equal(pbx.legs.get(500)?.callerId, '0891234567', 'the PBX reports it in its own form');
  const [call] = conn.datev.calls;
  assert.equal(call.linked, true, 'DATEV recognised its own dial');
  assert.equal(call.syncId, 'datev-sync-42');
  assert.deepEqual(conn.datev.pending(), [], 'no dial left waiting');
  pbx.hangUpAll();
  await waitFor(() => call.result !== null, 5000, 'finished');
  assert.deepEqual(datev(conn), ['outbound +49 89 1234567 missed']);
});

test('the offscreen document restarted during a call: DATEV keeps one call, listed until the connector restarts', async () => {
  const conn = await connector({ port: 19800 + 60 });
  const { pbx } = await webclient('60');
  await waitFor(() => conn.wired && conn.client, 15000, 'the connector session');
  pbx.legs18([ring(20, 3, '+4989200200')]);
  pbx.legs18([{ action: 3, id: 20, state: P.State.Connected }]);
  await waitFor(() => conn.datev.calls.length === 1, 5000, 'the call in DATEV');
  const since = Date.now();
  await h.closeOffscreen();
  // The WebClient page brings a new document; its link greets the connector again.
  await waitFor(() => conn.sessions >= 2 && conn.client, 20000, 'a new session');
  const notes = await waitFor(async () => {
    const st = await h.status();
    const found = (st?.notes || []).filter((/** @type {any} */ n) => n.at >= since && n.text.key === 'noteLeftAlone');
    return found.length ? found : null;
  }, 10000, 'the popup says why the call stays open');
  assert.deepEqual(notes.map((/** @type {any} */ n) => n.text.args), [['1']]);
  pbx.legs18([{ action: 4, id: 20 }]);
  pbx.legs18([ring(21, 4, '+4989211211')]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 21 }]);
  await waitFor(() => conn.datev.calls.length === 2 && conn.datev.calls[1].result, 5000, 'the next call');
  await sleep(300);
  // No second call in DATEV for the first: announced again, it would have been one, and
  // its end could not have reached DATEV's first call anyway (the connector's socket layer
  // forgot it with the old socket). It stays listed until the connector restarts or 4 h
  // pass (README, "DATEV and the connector").
  assert.deepEqual(datev(conn), ['inbound +4989200200 open listed', 'inbound +4989211211 missed']);
  await conn.restart();
  assert.deepEqual(conn.datev.listed(), [], 'a connector restart clears it');
});

test('the connector restarted during a call: the new one gets it, and nothing stays listed', async () => {
  const conn = await connector({ port: 19800 + 61 });
  const { pbx } = await webclient('61');
  await waitFor(() => conn.wired && conn.client, 15000, 'the connector session');
  pbx.legs18([ring(30, 5, '+4989300300')]);
  pbx.legs18([{ action: 3, id: 30, state: P.State.Connected }]);
  await waitFor(() => conn.datev.calls.length === 1, 5000, 'the call in DATEV');
  await conn.restart(); // the process: both layers start empty
  await waitFor(() => conn.datev.calls.length === 2, 20000, 'the call in the new run');
  const [, again] = conn.datev.calls;
  assert.equal(again.created, 'connected', 'caught up as answered: no second caller popup');
  assert.equal(conn.datev.popups.length, 1);
  pbx.legs18([{ action: 4, id: 30 }]);
  await waitFor(() => again.result !== null, 5000, 'ended in the new run');
  assert.deepEqual(datev(conn), ['inbound +4989300300 open', 'inbound +4989300300 answered'],
    'the first run\'s entry was never finished: the connector went away with it');
  assert.deepEqual(conn.datev.listed(), []);
});

test('a connector set up for extension 102 is named as such, and works once accepted', async () => {
  // The operator is 101; the connector's settings say 102: it listens on 19902 and
  // acknowledges HELLO for 102.
  const conn = await connector({ port: 19902, extension: '102' });
  const { pbx } = await webclient('101');
  const popup = await h.popup();
  cleanup.push(() => popup.close());
  const named = msg('en', 'linkOtherExtension', ['19902', '102', '101']);
  await waitFor(async () => (await popup.textContent('#connector .value')) === named, 30000, `"${named}"`);
  assert.deepEqual(conn.events(), [], 'nothing sent to it');
  // The operator uses it as it is.
  await popup.click('#connector .action');
  await waitFor(() => conn.wired && conn.client && conn.hellos().length >= 2, 20000, 'accepted');
  await waitFor(async () => (await popup.textContent('#connector .value')) === msg('en', 'linkReadyAccepted', ['19902', '102']), 10000, 'connected, and said to whom');
  const stored = await (await h.worker()).evaluate(() => chrome.storage.local.get('connectorExtension'));
  assert.deepEqual(stored, { connectorExtension: '102' });
  pbx.legs18([ring(40, 6, '+4989400400')]);
  await waitFor(() => conn.datev.calls.length === 1, 5000, 'the call in DATEV');
  pbx.hangUpAll();
  await h.settings({ connectorExtension: '' });
});

test('a connector in Auto mode started 30 s after the browser gets every call that begins once it is ready', async () => {
  const { pbx } = await webclient('62');
  await sleep(30000);
  // Auto mode: 8 s windows every 38 s until a first HELLO; HELLO_ACK at once, but events
  // reach DATEV only once its contacts are loaded (here after 5 s instead of up to 2 min).
  const conn = await connector({ port: 19800 + 62, mode: 'auto', contactsLoadMs: 5000 });
  const opened = Date.now();
  await waitFor(() => conn.hellos().length > 0, 10000, 'found in its first window');
  console.log(`# found ${Date.now() - opened} ms after its window opened`);
  await waitFor(() => conn.wired, 20000, 'contacts loaded');
  pbx.legs18([ring(50, 7, '+4989500500')]);
  await sleep(100);
  pbx.legs18([{ action: 3, id: 50, state: P.State.Connected }]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 50 }]);
  pbx.legs18([ring(51, 8, '+4989511511')]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 51 }]);
  await waitFor(() => conn.datev.calls.filter((c) => c.result).length === 2, 5000, 'both calls in DATEV');
  assert.deepEqual(datev(conn), ['inbound +4989500500 answered', 'inbound +4989511511 missed']);
  // Gentle meanwhile: probes every few seconds, not a storm.
  assert.ok(conn.connections < 40, `${conn.connections} connections to the connector's port`);
});
