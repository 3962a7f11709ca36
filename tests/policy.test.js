// Administrator policy: settings pushed through Chrome policy (storage.managed_schema)
// win over the operator's own and show greyed out in the popup. Debian's Chromium reads
// /etc/chromium/policies/managed/, so this test writes a policy file there (root only)
// for the extension's id and removes it afterwards.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, waitFor, DIST } = require('./lib/harness');
const { POLICY_DIR, canWrite, unpackedId } = require('./lib/policy');

const POLICY_FILE = path.join(POLICY_DIR, 'cti-bridge-test.json');

/** @type {import('./lib/harness').Harness} */
let h;
before(async () => {
  if (!canWrite) return;
  fs.writeFileSync(POLICY_FILE, JSON.stringify({
    '3rdparty': { extensions: { [unpackedId(DIST)]: { dialDelay: 1234, dialMethod: 'tel', webclientOrigins: ['https://pbx.example.com', 'not an origin'] } } },
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
  await w.evaluate(() => chrome.storage.local.set({ dialDelay: 500, dialMethod: 'auto', extensionNumber: '42' }));
  // The options page has the core loaded; settings.js reads the stores through it.
  const opts = await h.options();
  const { values, managedKeys } = await waitFor(async () => {
    const r = await opts.evaluate(async () => (await import(chrome.runtime.getURL('settings.js'))).load());
    return r.managedKeys.length ? r : null;
  }, 10000, 'managed settings');
  await opts.close();
  assert.deepEqual(managedKeys.sort(), ['dialDelay', 'dialMethod', 'webclientOrigins']);
  assert.equal(values.dialDelay, 1234);
  assert.equal(values.dialMethod, 'tel');
  assert.deepEqual(values.webclientOrigins, ['https://pbx.example.com'], 'a bad entry is dropped, not trusted');
  assert.equal(values.extensionNumber, '42', 'what policy leaves alone stays the operator\'s');
  const popup = await h.options();
  await waitFor(async () => popup.isDisabled('input[name=dialDelay]'), 5000, 'greyed out');
  assert.equal(await popup.inputValue('input[name=dialDelay]'), '1234');
  assert.equal(await popup.isDisabled('input[name=extensionNumber]'), false);
  assert.equal(await popup.textContent('label:has(input[name=dialDelay]) small.admin'), 'Set by your administrator',
    'the page says why the field is locked');
  await popup.close();
});
