// PestRoutes host access, end to end in real Chromium with the built dist/: configured
// only by policy (nothing clicked), a screen-pop works on a *.pestroutes.com host; a
// middleware host the install did not grant shows a red row with a button asking for
// exactly that access. *.pestroutes.com and *.test resolve to 127.0.0.1 here.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, waitFor, DIST } = require('./lib/harness');
const { Middleware } = require('./lib/middleware');
const { PestRoutesPage } = require('./lib/pestroutes-page');
const { POLICY_DIR, canWrite, unpackedId } = require('./lib/policy');
const { testCertificate, TEST_HOST_ARGS } = require('./lib/tls');

const AGENT = '121';
const POLICY_FILE = path.join(POLICY_DIR, 'cti-bridge-pestroutes-test.json');
const ARGS = TEST_HOST_ARGS;

after(() => fs.rmSync(POLICY_FILE, { force: true }));

test('configured only by policy: a screen-pop on a *.pestroutes.com host works with no click', { skip: !canWrite && `cannot write ${POLICY_DIR} (not root)` }, async () => {
  const mw = await new Middleware({ secret: 'S3CRET-policy' }).start();
  const pr = await new PestRoutesPage().start({ tls: testCertificate(), host: 'office.pestroutes.com' });
  fs.writeFileSync(POLICY_FILE, JSON.stringify({
    '3rdparty': { extensions: { [unpackedId(DIST)]: {
      extensionNumber: AGENT, serverAddress: `127.0.0.1:${mw.port}`, sharedSecret: 'S3CRET-policy', pestroutesUrl: pr.url,
    } } },
  }));
  const h = await launch({ args: ARGS });
  try {
    await waitFor(() => mw.agentStreams(AGENT) === 1, 30000, 'the stream, from policy alone');
    await mw.notify({ customerID: '12345', phone: '5551234567', agent: AGENT });
    const tab = await waitFor(() => h.context.pages().find((p) => p.url().startsWith(pr.url)), 15000, 'the PestRoutes tab');
    await waitFor(async () => (await tab.textContent('#record')) === 'Customer 12345', 15000, 'the record opened');
    const status = await h.status();
    assert.equal(status.pops[0].outcome.key, 'popOpened');
    assert.equal(status.rows.pestroutes.level, 'ok');
  } finally {
    await h.close();
    fs.rmSync(POLICY_FILE, { force: true });
    await mw.stop();
    await pr.stop();
  }
});

test('a middleware host without access: red row, and a button asking for exactly that host', async () => {
  const mw = await new Middleware({ secret: 'S3CRET-grant' }).start();
  const h = await launch({ args: ARGS });
  try {
    const origin = `http://mw.test:${mw.port}`;
    await h.settings({ extensionNumber: AGENT, serverAddress: origin, sharedSecret: 'S3CRET-grant' });
    const row = await waitFor(async () => {
      const r = (await h.status()).rows.pestroutes;
      return r.level === 'bad' && r;
    }, 10000, 'the red row');
    assert.equal(row.text.key, 'streamNoAccess');
    assert.deepEqual(row.action, { kind: 'grantHosts', origins: [`${origin}/*`] });
    assert.equal(mw.sseRequests, 0, 'nothing is fetched without access');
    const popup = await h.popup();
    assert.equal(await popup.getAttribute('#pestroutes', 'class'), 'row bad');
    assert.equal(await popup.isVisible('#pestroutes .action'), true);
    assert.equal(await popup.textContent('#pestroutes .action'), 'Grant access');
    await popup.close();
  } finally {
    await h.close();
    await mw.stop();
  }
});
