// The simulated connector (tests/lib/connector.js, tests/lib/datev.js) against a plain
// WebSocket client, no browser: each quirk it models from the real connector's C# source,
// on the wire and in what DATEV ends up with.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { WebSocket } = require('ws');
const { Connector, buildDial, preferredPort } = require('./lib/connector');
const { normalize } = require('./lib/datev');

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @template T @param {() => T} fn @param {number} ms @param {string} what @returns {Promise<NonNullable<T>>} */
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return /** @type {NonNullable<T>} */ (v);
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

/** A free loopback port. @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => resolve(a.port));
    });
  });
}

/** A WebSocket client that records what it gets. @param {number} port */
function client(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  /** @type {string[]} */
  const texts = [];
  ws.on('message', (d) => texts.push(String(d)));
  ws.on('error', () => {});
  const c = {
    ws, texts,
    opened: new Promise((resolve) => ws.once('open', () => resolve(Date.now()))),
    closed: new Promise((resolve) => ws.once('close', (code) => resolve(code))),
    /** @param {object} m */
    send(m) { ws.send(JSON.stringify(m)); },
    /** @param {string} ext */
    async hello(ext) {
      await c.opened;
      const n = texts.length;
      c.send({ v: 1, type: 'HELLO', extension: ext, identity: '3CX WebClient' });
      await until(() => texts.length > n, 2000, 'HELLO_ACK');
      return JSON.parse(texts[n]);
    },
    /** @param {string} id @param {string} state @param {string} direction @param {string} number */
    ev(id, state, direction, number) {
      c.send({ v: 1, type: 'CALL_EVENT', ts: 1, call: { id, direction, remoteNumber: number, remoteName: '', state, reason: '' }, context: { extension: '101' } });
    },
    close() { ws.close(); return c.closed; },
  };
  return c;
}

/**
 * A raw TCP request: what came back and how the connection ended.
 * @param {number} port @param {string | Buffer} data @param {number} ms how long to wait
 * @returns {Promise<{error: string | null, got: Buffer, ended: boolean, at: number}>}
 */
function raw(port, data, ms) {
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const got = [];
    const sock = net.connect(port, '127.0.0.1');
    let error = /** @type {string | null} */ (null), ended = false;
    const done = () => { clearTimeout(t); sock.destroy(); resolve({ error, got: Buffer.concat(got), ended, at: Date.now() }); };
    const t = setTimeout(done, ms);
    sock.on('connect', () => sock.write(data));
    sock.on('data', (d) => got.push(d));
    sock.on('error', (e) => { error = /** @type {any} */ (e).code; done(); });
    sock.on('close', () => { ended = true; done(); });
  });
}

const GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

test('HELLO_ACK: the connector\'s own extension, the bound port, ready always; CALL_EVENT before HELLO and unknown types are logged', async () => {
  const port = await freePort();
  const conn = await new Connector({ port, extension: '42' }).start();
  try {
    const c = client(port);
    await c.opened;
    c.ev('1', 'offered', 'inbound', '+4930111');
    c.send({ v: 1, type: 'PING' });
    await until(() => conn.log.length >= 2, 2000, 'two log lines');
    assert.deepEqual(conn.log, ['CALL_EVENT before HELLO', 'unknown type PING']);
    await c.hello('101');
    assert.equal(c.texts[0], `{"v":1,"type":"HELLO_ACK","bridgeVersion":"1.0","extension":"42","port":${port},"ready":true}`);
    assert.equal(conn.extension, '42', 'never compared, never replaced');
    // Keys and values are matched case-insensitively, numbers read as their text, `ts` ignored.
    c.ws.send('{"V":1,"Type":"call_event","ts":"garbage","CALL":{"ID":7,"Direction":"INBOUND","remoteNumber":"+4930222","State":"Offered"}}');
    await until(() => conn.datev.calls.length === 1, 2000, 'the call at DATEV');
    assert.equal(conn.datev.calls[0].direction, 'inbound');
    assert.equal(conn.datev.calls[0].number, '+4930222');
    await c.close();
  } finally { await conn.stop(); }

  // An empty extension adopts the first HELLO's and keeps it (saved: also after a restart).
  const conn2 = await new Connector({ port }).start();
  try {
    const a = client(port);
    assert.equal((await a.hello('101')).extension, '101');
    await a.close();
    await sleep(600);
    const b = client(port);
    assert.equal((await b.hello('102')).extension, '101', 'the first one stays');
    await b.close();
    await conn2.restart();
    const d = client(port);
    assert.equal((await d.hello('103')).extension, '101', 'kept across a restart');
    await d.close();
  } finally { await conn2.stop(); }
});

test('ports: 127.0.0.1 only, base + extension preferred, else the range walk; extension 0 has none', async () => {
  assert.equal(preferredPort('1005', 19800), 20805);
  assert.equal(preferredPort('0', 19800), 0);
  assert.equal(preferredPort('', 19800), 0);
  assert.equal(preferredPort('99999', 19800), 0);
  const base = await freePort();
  const blocker = net.createServer().listen(base, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const conn = await new Connector({ portBase: base, portRange: 3 }).start();
  try {
    assert.equal(conn.port, base + 1, 'the walk skips a port in use');
    const listener = await until(() => conn.listener, 100, 'the listener');
    assert.equal(/** @type {net.AddressInfo} */ (listener.address()).address, '127.0.0.1');
    const c = client(conn.port);
    await c.hello('7');
    await c.close();
    await conn.restart(); // the adopted extension now gives a preferred port
    assert.equal(conn.port, base + 7);
    const r = await raw(conn.port, GET, 1000);
    assert.match(r.got.toString(), /^HTTP\/1\.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK$/);
  } finally {
    await conn.stop();
    blocker.close();
  }
});

test('two layers: a reconnect forgets only the socket layer; a re-announced call is a second DATEV call, the first stays listed', async () => {
  const port = await freePort();
  const conn = await new Connector({ port }).start();
  try {
    let c = client(port);
    await c.hello('101');
    c.ev('A', 'offered', 'inbound', '+4930111');
    c.ev('A', 'offered', 'inbound', '+4930111');   // debounced
    c.ev('A', 'connected', 'inbound', '+4930111');
    await until(() => conn.datev.calls[0]?.states.length === 2, 2000, 'connected at DATEV');
    assert.deepEqual(conn.log, ['duplicate offered for A']);
    assert.equal(conn.datev.popups.length, 1);
    await c.close();
    await sleep(600); // the pause after a client

    c = client(port);
    await c.hello('101');
    c.ev('B', 'ended', 'inbound', '+4930999');     // never seen on this socket: dropped
    c.ev('A', 'offered', 'inbound', '+4930111');   // what an extension re-announcing does
    c.ev('A', 'connected', 'inbound', '+4930111');
    c.ev('A', 'ended', 'inbound', '+4930111');
    await until(() => conn.datev.calls[1]?.result, 2000, 'the second DATEV call ended');
    const [first, second] = conn.datev.calls;
    assert.ok(first.id !== second.id, 'a new numeric id');
    assert.deepEqual([first.result, first.listed, first.states], [null, true, ['Ringing', 'Connected']]);
    assert.deepEqual([second.result, second.listed, second.states], ['answered', false, ['Ringing', 'Connected', 'Disconnected']]);
    assert.equal(conn.datev.popups.length, 2, 'a second caller popup');
    assert.deepEqual(conn.datev.listed(), [first]);
    assert.equal(conn.datev.journalBlocked(), true, 'journals refused while the orphan is listed');
    assert.ok(conn.log.includes('ended for unknown call B'));

    // `ended` clears the active call but not the last state: a second `ended` is a
    // duplicate; the same id ringing again is a third DATEV call.
    c.ev('A', 'ended', 'inbound', '+4930111');
    c.ev('A', 'offered', 'inbound', '+4930111');
    c.ev('A', 'ended', 'inbound', '+4930111');
    await until(() => conn.datev.calls[2]?.result, 2000, 'a third DATEV call');
    assert.equal(conn.datev.calls[2].result, 'missed', 'missed: it never saw connected (reason plays no part)');
    assert.ok(conn.log.includes('duplicate ended for A'));
    await c.close();
  } finally { await conn.stop(); }
});

test('stale calls leave the list after 4 h without DATEV being told; restart() empties both layers, ids from 1', async () => {
  const port = await freePort();
  let now = Date.parse('2030-01-07T09:00:00');
  const conn = await new Connector({ port, now: () => now, contacts: [{ number: '030 1234 5678', id: 'K1', name: 'Kunde' }] }).start();
  try {
    let c = client(port);
    await c.hello('101');
    c.ev('A', 'offered', 'inbound', '+493012345678');
    c.ev('A', 'connected', 'inbound', '+493012345678');
    await until(() => conn.datev.calls[0]?.states.length === 2, 2000, 'connected');
    await c.close();
    await sleep(600);
    c = client(port);
    await c.hello('101');
    c.ev('A', 'offered', 'inbound', '+493012345678');
    c.ev('A', 'connected', 'inbound', '+493012345678');
    c.ev('A', 'ended', 'inbound', '+493012345678');
    await until(() => conn.datev.calls[1]?.result, 2000, 'ended');
    // The contact is found by the last 10 digits (030… and +4930… agree there).
    const entry = conn.datev.history[0];
    assert.equal(entry.contact?.id, 'K1', 'a call with a DATEV contact is in the call history');
    assert.deepEqual(conn.datev.journalPopups, [], 'no journal popup with the default settings');
    assert.equal(conn.datev.submitJournal(entry, 'called back'), 'blocked');
    now += 240 * 60000 - 1000;
    conn.cleanup();
    assert.equal(conn.datev.listed().length, 1, 'not yet');
    now += 2000;
    conn.cleanup();
    assert.deepEqual(conn.datev.listed(), []);
    assert.equal(conn.datev.calls[0].removed, 'stale');
    assert.equal(conn.datev.calls[0].result, null, 'DATEV was never told it ended');
    assert.equal(conn.datev.submitJournal(entry, 'called back'), 'sent');
    assert.equal(conn.datev.journal.length, 1);

    c.ev('B', 'offered', 'inbound', '+4930222');
    await until(() => conn.datev.listed().length === 1, 2000, 'B listed');
    const idB = conn.datev.listed()[0].id;
    await c.close();
    await conn.restart();
    assert.deepEqual(conn.datev.listed(), []);
    assert.equal(conn.datev.calls.find((x) => x.id === idB && x.run === 1)?.removed, 'restart');
    c = client(port);
    await c.hello('101');
    c.ev('C', 'offered', 'inbound', '+4930333');
    await until(() => conn.datev.listed().length === 1, 2000, 'C listed');
    assert.equal(conn.datev.listed()[0].id, 1, 'numeric ids start at 1 again');
    await c.close();
  } finally { await conn.stop(); }
});

test('DATEV dial: DIAL without sync id; linked by the normalised number on the first RINGBACK of a new call only', async () => {
  assert.equal(normalize('+49 89 1234567'), '49891234567');
  assert.equal(normalize('0049 89 1234567'), '49891234567');
  assert.equal(normalize('089 1234567'), '0891234567');
  assert.equal(normalize('0049'), '0049', 'a 00 is cut only from more than 4 characters');
  const port = await freePort();
  let now = Date.now();
  const conn = await new Connector({ port, now: () => now }).start();
  try {
    assert.equal(conn.datevDial('+4989111', 's0'), null, 'refused: no HELLO yet');
    assert.deepEqual(conn.log, ['DATEV Dial: not connected']);
    const c = client(port);
    await c.hello('101');
    const text = conn.datevDial('+49 89 1234567', 'sync-1');
    assert.equal(text, '{"v":1,"type":"COMMAND","cmd":"DIAL","number":"+49 89 1234567"}');
    await until(() => c.texts.length === 2, 2000, 'the DIAL');
    assert.equal(c.texts[1], text);
    assert.equal(conn.datev.pending().length, 1);
    // What arrives as +49… links; the same number as 089… would not.
    c.ev('1', 'dialing', 'outbound', '+49891234567');
    c.ev('1', 'ringing', 'outbound', '+49891234567'); // Ringback → Ringback: logged invalid
    await until(() => conn.log.some((l) => l.includes('invalid transition Ringback -> Ringback')), 2000, 'the invalid transition');
    const linked = conn.datev.calls[0];
    assert.deepEqual([linked.linked, linked.syncId, linked.created], [true, 'sync-1', 'dial']);
    assert.deepEqual(conn.datev.pending(), []);

    conn.datevDial('+49 89 7654321', 'sync-2');
    c.ev('2', 'dialing', 'outbound', '0897654321');
    // A first event without a number: the number that comes later is not matched.
    conn.datevDial('+49 89 5550000', 'sync-3');
    c.ev('3', 'dialing', 'outbound', '');
    c.ev('3', 'ringing', 'outbound', '+49895550000');
    await until(() => conn.datev.calls.length === 3, 2000, 'two more calls');
    const [, two, three] = conn.datev.calls;
    assert.deepEqual([two.linked, two.syncId, two.number], [false, null, '0897654321']);
    assert.deepEqual([three.linked, three.number], [false, null]);
    assert.equal(conn.datev.popups.length, 0, 'no popup for outbound calls by default');
    assert.deepEqual(conn.datev.pending().map((p) => p.syncId), ['sync-2', 'sync-3']);
    // Pending dials go after StalePendingTimeoutSeconds (300).
    now += 301000;
    conn.cleanup();
    assert.deepEqual(conn.datev.pending(), []);
    await c.close();
  } finally { await conn.stop(); }
});

test('DATEV drop: names the last active call, not the one DATEV meant; nothing for a call from before a reconnect', async () => {
  const port = await freePort();
  const conn = await new Connector({ port }).start();
  try {
    let c = client(port);
    await c.hello('101');
    c.ev('x1', 'offered', 'inbound', '+4930111');
    c.ev('x2', 'dialing', 'outbound', '+4930222');
    await until(() => conn.datev.calls.length === 2, 2000, 'two calls');
    const first = conn.datev.calls[0];
    assert.equal(conn.datevDrop(first.datevCallId), '{"v":1,"type":"COMMAND","cmd":"DROP","callId":"x2"}');
    await c.close();
    await sleep(600);
    c = client(port);
    await c.hello('101');
    assert.equal(conn.datevDrop(first.datevCallId), null);
    assert.ok(conn.log.includes(`DATEV Drop: no call handle for ${first.id}`));
    assert.equal(conn.datevDrop('no-such-call'), null);
    await c.close();
  } finally { await conn.stop(); }
});

test('COMMAND texts escape only backslash, quote, newline, carriage return and tab', () => {
  const text = buildDial('a"b\\c\nd\re\tf\u0001g');
  assert.equal(text, '{"v":1,"type":"COMMAND","cmd":"DIAL","number":"a\\"b\\\\c\\nd\\re\\tf\u0001g"}');
  assert.throws(() => JSON.parse(text), 'a raw control character: not JSON');
  assert.equal(buildDial('1', 's"1'), '{"v":1,"type":"COMMAND","cmd":"DIAL","number":"1","context":{"syncId":"s\\"1"}}');
});

test('one client at a time: probes and a second client wait unanswered until the first has gone and 500 ms more', async () => {
  const port = await freePort();
  const conn = await new Connector({ port }).start();
  try {
    const a = client(port);
    await a.hello('101');
    // Ping is answered with Pong.
    const pong = new Promise((r) => a.ws.once('pong', r));
    a.ws.ping();
    await pong;
    const probe = raw(port, GET, 3000);
    await sleep(50);
    const b = client(port);
    let bOpen = 0;
    void b.opened.then((t) => { bOpen = t; });
    await sleep(400);
    assert.equal(bOpen, 0, 'no 101 for the second client');
    assert.equal(conn.probes, 0, 'the probe is not read');
    assert.equal(conn.connections, 3, 'but the connections were taken');
    const code = await a.close();
    assert.equal(code, 1005, 'our Close is answered with an empty Close');
    const gone = Date.now();
    const p = await probe;
    assert.match(p.got.toString(), /OK$/, 'the waiting probe is answered after all');
    assert.ok(p.at - gone >= 450, `probe answered ${p.at - gone} ms after the client left`);
    await b.opened;
    assert.ok(bOpen - gone >= 450, `second client served ${bOpen - gone} ms after the first left`);
    assert.equal(conn.sessions, 2);
    await b.close();
  } finally { await conn.stop(); }
});

test('a frame over 1 MiB drops the connection without a Close frame; 1 MiB exactly is read', async () => {
  const port = await freePort();
  const conn = await new Connector({ port }).start();
  try {
    const a = client(port);
    await a.hello('101');
    const big = JSON.stringify({ v: 1, type: 'NOOP', pad: '' });
    a.ws.send(big.slice(0, -2) + 'x'.repeat((1 << 20) - big.length) + '"}');
    await until(() => conn.log.includes('unknown type NOOP'), 5000, 'the 1 MiB message read');
    await a.close();
    await sleep(600);
    // A hand-made handshake and a header announcing 1 MiB + 1.
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const hs = `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const sock = net.connect(port, '127.0.0.1');
    /** @type {Buffer[]} */
    const got = [];
    sock.on('data', (d) => got.push(d));
    sock.on('error', () => {});
    const ended = new Promise((r) => sock.on('close', r));
    sock.write(hs);
    await until(() => Buffer.concat(got).includes('\r\n\r\n'), 2000, 'the 101');
    const head = Buffer.concat(got);
    assert.match(head.toString(), /^HTTP\/1\.1 101 /);
    const before = head.length;
    const h = Buffer.alloc(14);
    h[0] = 0x81; h[1] = 0x80 | 127;
    h.writeUInt32BE(0, 2); h.writeUInt32BE((1 << 20) + 1, 6);
    sock.write(h);
    await ended;
    assert.equal(Buffer.concat(got).length, before, 'nothing after the 101: no Close frame');
    assert.ok(conn.log.includes(`frame of ${(1 << 20) + 1} bytes: connection dropped without a Close frame`));
  } finally { await conn.stop(); }
});

test('Auto mode: detection windows, the port closed between them; HELLO_ACK at once, events dropped until the contacts load', async () => {
  const port = await freePort();
  const t0 = Date.now();
  const conn = await new Connector({ port, mode: 'auto', windowMs: 400, contactsLoadMs: 500, retryMs: 600 }).start();
  try {
    // Window at start (0–400 ms): probes answered, then refused while the contacts load,
    // then the retry loop's windows (900–1300, 1900–2300, …).
    assert.match((await raw(port, GET, 1000)).got.toString(), /OK$/);
    await sleep(450 - (Date.now() - t0));
    assert.equal((await raw(port, GET, 1000)).error, 'ECONNREFUSED', 'between windows');
    await until(() => conn.phase === 'window', 1500, 'the next window');
    assert.ok(Date.now() - t0 >= 850, 'after the contacts loaded');
    assert.match((await raw(port, GET, 1000)).got.toString(), /OK$/);
    await until(() => conn.phase === 'between', 1000, 'that window over');
    assert.equal((await raw(port, GET, 1000)).error, 'ECONNREFUSED');
    await conn.stop();

    // A client in the first window: acknowledged as in explicit mode, but its events stop
    // at the socket layer until the contacts load.
    await conn.start();
    const c = client(port);
    const ack = await c.hello('101');
    assert.deepEqual(ack, { v: 1, type: 'HELLO_ACK', bridgeVersion: '1.0', extension: '101', port, ready: true });
    assert.equal(conn.phase, 'detected');
    assert.equal((await raw(port, GET, 500)).error, 'ECONNREFUSED', 'the listener stopped with the detection');
    assert.equal(conn.datevDial('+4930999', 's'), null, 'DATEV cannot dial yet');
    c.ev('A', 'offered', 'inbound', '+4930111');
    c.ev('B', 'offered', 'inbound', '+4930222');
    await until(() => conn.log.filter((l) => l.startsWith('not passed on')).length === 2, 2000, 'two dropped');
    await until(() => conn.wired, 2000, 'contacts loaded');
    c.ev('A', 'offered', 'inbound', '+4930111');   // same state: debounced, DATEV never hears of A ringing
    c.ev('A', 'connected', 'inbound', '+4930111'); // unknown to DATEV: a record without popup
    c.ev('A', 'ended', 'inbound', '+4930111');
    c.ev('B', 'ended', 'inbound', '+4930222');     // B missed: DATEV never knew it
    await until(() => conn.log.some((l) => l.startsWith('DATEV: ended for unknown call')), 2000, 'B ignored');
    assert.deepEqual(conn.datev.calls.map((x) => [x.created, x.result]), [['connected', 'answered']]);
    assert.deepEqual(conn.datev.popups, []);
    assert.ok(conn.log.includes('duplicate offered for A'));
    // Still refused during the detected session; 1 s after it, the connector listens for good.
    assert.equal((await raw(port, GET, 500)).error, 'ECONNREFUSED');
    await c.close();
    await sleep(300);
    assert.equal((await raw(port, GET, 500)).error, 'ECONNREFUSED', 'the second after the session');
    await until(() => conn.phase === 'run' && conn.listener, 2000, 'listening again');
    assert.match((await raw(port, GET, 1000)).got.toString(), /OK$/);
  } finally { await conn.stop(); }
});

test('Auto mode: a client that does not greet keeps the window and is dropped at its end', async () => {
  const port = await freePort();
  const conn = await new Connector({ port, mode: 'auto', windowMs: 300, contactsLoadMs: 10000 }).start();
  try {
    const c = client(port);
    await c.opened;
    const probe = raw(port, GET, 1000);
    const code = await c.closed;
    assert.equal(code, 1006, 'closed without a Close frame');
    const r = await probe;
    assert.ok(r.error === 'ECONNRESET' || r.ended, String(r.error));
    assert.equal(r.got.length, 0, 'the probe behind it got no answer (reset with the listener)');
    assert.equal(conn.phase, 'loading');
  } finally { await conn.stop(); }
});

test('closeAndHold: the session is over for the connector at once; the next client after the pause', async () => {
  const port = await freePort();
  const conn = await new Connector({ port }).start();
  try {
    const a = client(port);
    await a.hello('101');
    a.ev('A', 'offered', 'inbound', '+4930111');
    await until(() => conn.datev.calls.length === 1, 2000, 'the call');
    conn.closeAndHold(800);
    assert.equal(conn.client, null);
    const b = client(port);
    await b.hello('101');
    b.ev('A', 'offered', 'inbound', '+4930111');
    await until(() => conn.datev.calls.length === 2, 2000, 'the call again: a second DATEV call');
    await b.close();
    await a.closed;
  } finally { await conn.stop(); }
});

test('a connection from another Windows session is closed without an answer', async () => {
  const port = await freePort();
  const conn = await new Connector({ port, foreignSession: true }).start();
  try {
    const r = await raw(port, GET, 1000);
    assert.deepEqual([r.error, r.got.length, r.ended], [null, 0, true]);
    assert.equal(conn.probes, 0);
  } finally { await conn.stop(); }
});
