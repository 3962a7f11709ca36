// Diagnostics an operator can send, end to end in real Chromium with the built dist/: a
// recording started on the options page, a call through the simulated PBX, the file
// saved as a download. The file holds no number or name in the clear (not in the report,
// not inside the frames), and the `replay` command on it gives the CALL_EVENTs the
// connector received, with the number and name masked.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { waitFor, sleep } = require('./lib/harness');
const { webClientStage } = require('./lib/webclient');
const { msg } = require('./lib/ui');
const P = require('./lib/proto');

const EXT = '63';
const NUMBER = '+49891357913';
const NAME = 'Erika Musterfrau';
const SECRET = 'S3cretPassw0rd';
/** @type {any} */ let stage;
/** @type {import('./lib/harness').Harness} */ let h;
/** @type {any} */ let pbx;
/** @type {any} */ let conn;

before(async () => {
  stage = await webClientStage(EXT);
  ({ h, pbx, conn } = stage);
});

after(() => stage?.stop());

/** @param {string} number */
const masked = (number) => `${number.slice(0, 3)}${'*'.repeat(number.length - 5)}${number.slice(-2)}`;

test('a diagnostics recording is masked and replays to the events the connector received', async () => {
  const o = await h.options();
  await waitFor(async () => (await o.textContent('#diag-state')) === msg('en', 'diagIdle'), 5000, 'idle');
  await o.selectOption('#diag-minutes', '5');
  // The duration is not a setting: choosing it shows no error and leaves Save as it was.
  assert.equal(await o.locator('small.error:not(:empty)').count(), 0, 'an error shown for the duration');
  assert.equal(await o.isDisabled('button[type=submit]'), false);
  await o.click('#diag-start');
  await waitFor(async () => String(await o.textContent('#diag-state')).startsWith('Recording until'), 5000, 'recording');
  // Frames before the recording are not in it; these are.
  const seen = conn.received.length;
  pbx.legs18([{ action: 2, id: 63, callId: 963, state: P.State.Ringing, incoming: true, callerId: NUMBER, name: NAME }]);
  await sleep(100);
  pbx.send(P.otherFrame(122, 64));
  pbx.legs18([{ action: 3, id: 63, state: P.State.Connected }]);
  await sleep(100);
  pbx.legs18([{ action: 4, id: 63 }]);
  await waitFor(() => conn.events(conn.received.slice(seen)).length === 3, 5000, 'three events');
  await o.click('#diag-stop');
  await waitFor(async () => String(await o.textContent('#diag-state')) === msg('en', 'diagDone', ['4']), 5000, 'done, 4 frames');

  const [download] = await Promise.all([o.waitForEvent('download'), o.click('#diag-save')]);
  const file = await download.path();
  const text = fs.readFileSync(file, 'utf8');
  // Nothing in the clear: not in the text, not inside any frame.
  const frames = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => Buffer.from(l.split(' ')[1], 'base64').toString('latin1'));
  assert.equal(frames.length, 4);
  for (const s of [text, ...frames]) {
    for (const secret of ['1357913', '891357', 'Erika', 'Musterfrau']) assert.ok(!s.includes(secret), `"${secret}" in the file`);
  }
  assert.match(text, /^# extension \d+\.\d+/m, 'the status report is in the file');
  assert.match(text, /^# connector: ok linkReady/m);

  const r = spawnSync('cargo', ['run', '-q', '-p', 'cti-core', '--bin', 'replay', '--', '--extension', EXT], {
    input: text, encoding: 'utf8', cwd: path.resolve(__dirname, '..'), stdio: ['pipe', 'pipe', 'pipe'],
  });
  assert.equal(r.status, 0, r.stderr);
  const replayed = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const got = conn.received.slice(seen).filter((/** @type {any} */ m) => m.type === 'CALL_EVENT');
  assert.deepEqual(
    replayed.map((m) => `${m.call.id} ${m.call.state} ${m.call.direction} ${m.call.remoteNumber} ${m.call.remoteName} ${m.ts}`),
    got.map((/** @type {any} */ m) => `${m.call.id} ${m.call.state} ${m.call.direction} ${masked(m.call.remoteNumber)} E. M. ${m.ts}`),
  );
  assert.equal(got[0].call.remoteName, NAME, 'the connector had the name in the clear');
  await o.close();
});

test('a recording holds the WebClient\'s own requests and answers while the operator dials and hangs up by hand, masked, and replay shows them', async () => {
  const page = h.context.pages().find((p) => p.url().startsWith(pbx.origin));
  assert.ok(page, 'the WebClient page');
  const o = await h.options();
  await o.click('#diag-start');
  await waitFor(async () => String(await o.textContent('#diag-state')).startsWith('Recording until'), 5000, 'recording');
  const seen = conn.received.length;
  // The operator dials with the WebClient (the desk phone selected there), then hangs up.
  await page.evaluate((n) => /** @type {any} */ (window).__dialByHand(n), NUMBER);
  await waitFor(() => conn.events(conn.received.slice(seen)).length === 1, 5000, 'dialing');
  const leg = [...pbx.legs.keys()].at(-1);
  assert.equal(await page.evaluate((id) => /** @type {any} */ (window).__hangUpByHand(id), leg), 'ok');
  await waitFor(() => conn.events(conn.received.slice(seen)).length === 2, 5000, 'ended');
  // A request of the WebClient's that is not about calls (its settings, its login) may
  // carry a password: it never leaves the page, recording or not.
  const key = [...pbx.sessions.keys()].at(-1);
  const inner = [0x0a, SECRET.length, ...Buffer.from(SECRET)];
  const body = [0x08, 108, 0xe2, 0x06, inner.length, ...inner]; // {1: 108, 108: {1: SECRET}}
  const status = await page.evaluate(([k, b]) => new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('POST', '/MyPhone/MPWebService.asmx');
    x.responseType = 'arraybuffer';
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.setRequestHeader('MyPhoneSession', String(k));
    x.onloadend = () => resolve(x.status);
    x.send(new Uint8Array(/** @type {number[]} */ (b)));
  }), [key, body]);
  assert.equal(status, 200);
  assert.equal(pbx.requestsOf(108).length, 1, 'the PBX got it');
  await o.click('#diag-stop');
  const [download] = await Promise.all([o.waitForEvent('download'), o.click('#diag-save')]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  await o.close();
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  const posts = lines.filter((l) => l.split(' ')[1] === 'POST');
  const answers = lines.filter((l) => l.split(' ')[1] === 'ANSWER');
  assert.ok(posts.length >= 2 && answers.length >= 2, `requests and answers recorded:\n${lines.join('\n')}`);
  const decoded = lines.map((l) => Buffer.from(l.split(' ').at(-1) || '', 'base64').toString('latin1')).join('\n');
  for (const secret of ['1357913', '891357', 'SESSION-SECRET', SECRET]) {
    assert.ok(!text.includes(secret) && !decoded.includes(secret), `"${secret}" in the file`);
  }
  const r = spawnSync('cargo', ['run', '-q', '-p', 'cti-core', '--bin', 'replay', '--', '--extension', EXT], {
    input: text, encoding: 'utf8', cwd: path.resolve(__dirname, '..'), stdio: ['pipe', 'pipe', 'pipe'],
  });
  assert.equal(r.status, 0, r.stderr);
  // What the WebClient sent and what the PBX answered, field by field, numbers masked.
  assert.match(r.stderr, new RegExp(`POST \\{1: 119, 119: \\{1: "${masked(NUMBER).replace(/[+*]/g, '\\$&')}", 3: "sip:${EXT}@192\\.168\\.1\\.50:5060;transport=udp", 4: 1\\}\\}`), r.stderr);
  assert.match(r.stderr, /ANSWER 200 \{1: 261, 261: \{1: 1, /, r.stderr);
  assert.match(r.stderr, /POST \{1: 115, 115: \{1: \d+, 2: 1, 3: 1\}\}/, r.stderr);
  assert.match(r.stderr, /ANSWER 200 \{1: 207, 207: \{1: 1\}\}/, r.stderr);
  assert.doesNotMatch(r.stderr, /\{1: 108\b/, 'the settings request is not in the file');
  const replayed = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((m) => `${m.call.state} ${m.call.remoteNumber}`);
  assert.deepEqual(replayed, [`dialing ${masked(NUMBER)}`, `ended ${masked(NUMBER)}`]);
});

test('call steps reach the console (the offscreen document\'s, where the core runs) only with debugLogging, and masked', async () => {
  /** @type {string[]} */
  const lines = [];
  const stopListening = await h.docConsole((line) => {
    if (/^\[3CX Bridge\] tab \d+: call /.test(line)) lines.push(line);
  });
  let leg = 80;
  /** One call, ringing and ended, through to the connector. */
  const call = async () => {
    const seen = conn.received.length, id = ++leg;
    pbx.legs18([{ action: 2, id, callId: 900 + id, state: P.State.Ringing, incoming: true, callerId: NUMBER, name: NAME }]);
    pbx.legs18([{ action: 4, id }]);
    await waitFor(() => conn.events(conn.received.slice(seen)).length === 2, 5000, 'two events');
  };
  try {
    await call();
    await sleep(500); // the lines follow their events a task later
    assert.equal(lines.length, 0, `quiet by default: ${lines.join(' | ')}`);
    await h.settings({ debugLogging: true });
    // The settings reach the core a moment later: calls until the lines appear.
    await waitFor(async () => { await call(); await sleep(100); return lines.length >= 2; }, 10000, 'console lines');
    for (const l of lines) {
      for (const secret of ['1357913', 'Erika', 'Musterfrau']) assert.ok(!l.includes(secret), `"${secret}" in "${l}"`);
    }
    assert.ok(lines.some((l) => l.includes(masked(NUMBER))), lines.join('\n'));
  } finally {
    stopListening();
    await h.settings({ debugLogging: false });
  }
});

test('the options page opened while the offscreen document is gone: diagnostics wait for it', async () => {
  // As after a crash of the document while the worker is stopped, and no WebClient page
  // to ask for a new one: the options page's question wakes the worker, which opens the
  // document; the page asks again until it answers.
  for (const p of h.context.pages()) if (p.url().startsWith(pbx.origin)) await p.close();
  await h.stopWorkerAndDocument();
  const o = await h.options();
  const answered = [msg('en', 'diagIdle'), msg('en', 'diagDone', ['4'])];
  await waitFor(async () => answered.includes(String(await o.textContent('#diag-state'))), 10000, 'the state, from the new document');
  await o.click('#diag-start');
  await waitFor(async () => String(await o.textContent('#diag-state')).startsWith('Recording until'), 5000, 'recording');
  await o.click('#diag-stop');
  await waitFor(async () => String(await o.textContent('#diag-state')) === msg('en', 'diagIdle'), 5000, 'stopped, nothing recorded');
  await o.close();
});
