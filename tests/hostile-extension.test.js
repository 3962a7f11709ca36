// Another extension in the same browser, end to end in real Chromium with the built dist/:
// it knows our id and every message shape (they are in our source), and tries the three
// doors our own contexts use: the WebClient page's port, the offscreen document's port
// and the popup's messages. Chrome delivers another extension's messages only to
// onConnectExternal/onMessageExternal, which the extension does not listen on, so none of
// it may reach the core: no call for DATEV, no dial at the PBX, no forgotten pin.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch, waitFor, sleep } = require('./lib/harness');
const { unpackedId } = require('./lib/policy');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');
const { testCertificate, TEST_HOST_ARGS } = require('./lib/tls');
const P = require('./lib/proto');

const EXT = '58';
const PORT = 19800 + Number(EXT);
const EVIL_NUMBER = '+49900666666';
/** @type {any} */ let h;
/** @type {any} */ let conn;
/** @type {any} */ let pbx;
/** @type {string} */ let evilDir;

before(async () => {
  evilDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-evil-ext-'));
  fs.writeFileSync(path.join(evilDir, 'manifest.json'), JSON.stringify({
    manifest_version: 3, name: 'A neighbour', version: '1.0',
    // As ours, so that Chrome does not refuse its messages on the format alone.
    message_serialization: 'structured_clone',
    background: { service_worker: 'evil.js' },
  }));
  fs.writeFileSync(path.join(evilDir, 'evil.js'), '// driven by the test through its worker\n');
  h = await launch({ args: TEST_HOST_ARGS, extensions: [evilDir] });
  conn = await new Connector({ port: PORT }).start();
  pbx = await new Pbx({ extension: EXT, host: 'pbx.test', tls: testCertificate() }).start();
});
after(async () => {
  await h.close();
  await conn.stop().catch(() => {});
  await pbx.stop().catch(() => {});
  fs.rmSync(evilDir, { recursive: true, force: true });
});

test('another extension cannot drive the extension through its ports or messages', async () => {
  const page = await h.openWebClient(pbx);
  await waitFor(() => conn.hellos().length > 0 && conn.client, 15000, 'HELLO');
  const first = await h.status();
  assert.ok(first.trust.configured.includes(pbx.origin));

  const evilId = unpackedId(evilDir);
  const evil = h.context.serviceWorkers().find((/** @type {any} */ w) => new URL(w.url()).host === evilId)
    || await h.context.waitForEvent('serviceworker', { predicate: (/** @type {any} */ w) => new URL(w.url()).host === evilId });
  const ring = [...P.extensionInfo({ list18: { action: 3, items: [{ action: 2, id: 31, callId: 931, state: P.State.Ringing, incoming: true, callerId: EVIL_NUMBER }] } })];
  const tried = await evil.evaluate(async (/** @type {any} */ a) => {
    /** @param {string} name @param {any[]} msgs */
    const port = (name, msgs) => new Promise((resolve) => {
      /** @type {any[]} */
      const got = [];
      const p = chrome.runtime.connect(a.id, { name });
      p.onMessage.addListener((m) => got.push(m));
      p.onDisconnect.addListener(() => resolve({ closed: true, error: chrome.runtime.lastError?.message, got }));
      for (const m of msgs) {
        try { p.postMessage(m); } catch (_) { /* the port may be gone already */ }
      }
      setTimeout(() => resolve({ closed: false, got }), 2000);
    });
    /** @param {any} m */
    const send = (m) => chrome.runtime.sendMessage(a.id, m).then((r) => ({ reply: r }), (e) => ({ error: e.message }));
    const frames = [{ seq: 2, ts: Date.now(), bytes: a.ring }];
    return {
      page: await port('webclient', [
        { kind: 'login', pageId: 'evil', seq: 1, identity: { extension: '666', domain: 'evil.test', webclientVersion: '', userName: '' } },
        { kind: 'frames', pageId: 'evil', frames },
        // The messages added for lost frames, the WebClient's session and requests, and
        // the answers to ours: a made-up loss, a made-up end of the session, a made-up
        // state answer, a made-up device choice, made-up failures of a dial.
        { kind: 'lost', pageId: 'evil', seq: 900 },
        { kind: 'session', pageId: 'evil', seq: 901, started: false },
        { kind: 'exchange', pageId: 'evil', seq: 902, ts: Date.now(), request: null, status: 200, answer: a.ring },
        { kind: 'device', pageId: 'evil', seq: 903, choice: '"3CX WebRTC proxy"' },
        { kind: 'answer', token: 1, status: 401, body: null, why: 'made up' },
        { kind: 'dialed', token: 1, ok: false, why: 'made up' },
        { kind: 'stale', token: 1, choice: '' },
      ]),
      link: await port('link', [{ kind: 'command', command: { kind: 'dial', number: a.number } }]),
      forget: await send({ kind: 'forgetPinnedOrigin' }),
      diag: await send({ kind: 'diagFetch' }),
    };
  }, { id: h.extensionId, ring, number: EVIL_NUMBER });

  // Chrome tells the neighbour that nobody listens; nothing of ours answers it.
  for (const p of [tried.page, tried.link]) {
    assert.equal(p.closed, true, 'the port is closed at once');
    assert.deepEqual(p.got, [], 'no verdict, no limits, no status');
  }
  assert.match(String(tried.forget.error), /Receiving end does not exist/);
  assert.match(String(tried.diag.error), /Receiving end does not exist/, 'no diagnostics file');

  await sleep(800);
  assert.deepEqual(conn.events(), [], 'no made-up call reached DATEV');
  assert.ok(conn.hellos().every((/** @type {any} */ m) => m.extension === EXT), 'identity from the real WebClient only');
  assert.equal(pbx.requests.filter((/** @type {any} */ r) => r.messageId === 119 || r.messageId === 115).length, 0, 'no dial at the PBX');
  const last = await h.status();
  assert.deepEqual(last.trust, first.trust, 'trust unchanged');
  const madeUp = ['noteFramesLost', 'noteDialerFailed', 'noteDialFailed', 'noteSessionOver'];
  assert.deepEqual(last.notes.filter((/** @type {any} */ n) => madeUp.includes(n.text.key)), [],
    'no made-up loss, ended session or failed dial in the popup');
  assert.equal(last.rows.webclient.text.key, first.rows.webclient.text.key, 'the WebClient row unchanged');

  // The real WebClient still works.
  pbx.legs18([{ action: 2, id: 12, callId: 912, state: P.State.Ringing, incoming: true, callerId: '+49891234567' }]);
  await waitFor(() => conn.events().length > 0, 5000, 'the real call at DATEV');
  pbx.hangUpAll();
  await page.close();
});
