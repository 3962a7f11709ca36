// Administrator policy: settings pushed through Chrome policy (storage.managed_schema)
// win over the operator's own and show greyed out in the popup. Debian's Chromium reads
// /etc/chromium/policies/managed/, so this test writes a policy file there (root only)
// for the extension's id and removes it afterwards.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, waitFor, sleep, DIST } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { POLICY_DIR, canWrite, unpackedId } = require('./lib/policy');

const POLICY_FILE = path.join(POLICY_DIR, 'cti-bridge-test.json');

/** @type {import('./lib/harness').Harness} */
let h;
before(async () => {
  if (!canWrite) return;
  fs.writeFileSync(POLICY_FILE, JSON.stringify({
    '3rdparty': { extensions: { [unpackedId(DIST)]: { connectorExtension: '102', dialMethod: 'tel', webclientOrigins: ['https://pbx.example.com', 'not an origin'] } } },
  }));
  h = await launch();
});

after(async () => {
  if (h) await h.close();
  fs.rmSync(POLICY_FILE, { force: true });
});

test('policy values win and are locked on the options page', { skip: !canWrite && `cannot write ${POLICY_DIR} (not root)` }, async () => {
  assert.equal(h.extensionId, unpackedId(DIST));
  const w = await h.worker();
  await w.evaluate(() => chrome.storage.local.set({ connectorExtension: '7', dialMethod: 'auto', extensionNumber: '42' }));
  // The options page has the core loaded; settings.js reads the stores through it.
  const opts = await h.options();
  const { values, managedKeys } = await waitFor(async () => {
    const r = await opts.evaluate(async () => (await import(chrome.runtime.getURL('settings.js'))).load());
    return r.managedKeys.length ? r : null;
  }, 10000, 'managed settings');
  await opts.close();
  assert.deepEqual(managedKeys.sort(), ['connectorExtension', 'dialMethod', 'webclientOrigins']);
  assert.equal(values.connectorExtension, '102');
  assert.equal(values.dialMethod, 'dialer', 'the name of earlier versions, read as today\'s');
  assert.deepEqual(values.webclientOrigins, ['https://pbx.example.com', 'not an origin'], 'a bad entry is kept, to be shown');
  const { trust } = await h.status();
  assert.deepEqual(trust.configured, ['https://pbx.example.com']);
  assert.deepEqual(trust.unusable, ['not an origin'], 'and is not trusted');
  assert.equal(values.extensionNumber, '42', 'what policy leaves alone stays the operator\'s');
  const popup = await h.options();
  await waitFor(async () => popup.isDisabled('input[name=connectorExtension]'), 5000, 'greyed out');
  assert.equal(await popup.inputValue('input[name=connectorExtension]'), '102');
  assert.equal(await popup.inputValue('select[name=dialMethod]'), 'dialer');
  assert.equal(await popup.isDisabled('input[name=extensionNumber]'), false);
  assert.equal(await popup.textContent('label:has(input[name=connectorExtension]) small.admin'), 'Set by your administrator',
    'the page says why the field is locked');
  await popup.close();
});

test('a policy list with no usable WebClient address trusts no page instead of the first one', { skip: !canWrite && `cannot write ${POLICY_DIR} (not root)` }, async () => {
  // Plain http on a LAN host (no WebClient is served there, and the content scripts do not
  // run there) and a typo: before, both were dropped and the first page that logged in
  // was trusted.
  await h.close();
  fs.writeFileSync(POLICY_FILE, JSON.stringify({
    '3rdparty': { extensions: { [unpackedId(DIST)]: { webclientOrigins: ['http://pbx.office.lan:5000', 'pbx.example.com'] } } },
  }));
  h = await launch();
  const pbx = await new Pbx({ extension: '31' }).start();
  try {
    await waitFor(async () => (await h.status())?.trust.unusable.length === 2, 15000, 'the policy applied');
    const page = await h.openWebClient(pbx, { trust: false });
    const st = await waitFor(async () => {
      const s = await h.status();
      return s.notes.some((/** @type {any} */ n) => n.text.key === 'noteLookalike' && n.text.args[0] === pbx.origin) ? s : null;
    }, 10000, 'the WebClient refused');
    assert.equal(st.trust.pinned, null, 'nothing pinned');
    assert.equal(st.rows.webclient.text.key, 'wcUnusable');
    assert.equal(st.badge.text, 'badgeTextProblem');
    const w = await h.worker();
    await waitFor(async () => (await w.evaluate(() => chrome.action.getBadgeText({}))) === '!', 5000, 'the red badge');
    await sleep(300);
    await page.close();
  } finally {
    await pbx.stop();
  }
});
