// Values the extension reads from storage it does not fully control, end to end in real
// Chromium with the built dist/:
// - who the operator is comes from the WebClient page's own storage, which the page
//   controls: an odd value there (far too long, or a lone surrogate, which JSON text cannot
//   carry) costs that one field, never the extension and domain that HELLO and the
//   connector's port depend on;
// - the extension's local storage holds more than settings (the pinned origin, the last
//   good port, what an earlier version left): none of that can set the settings aside.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');

const EXT = '57';
const PORT = 19800 + Number(EXT);
// The simulated WebClient stores the operator's name after this script runs; this makes
// that write store a hostile name instead: a lone surrogate, then 5,000 characters.
const HOSTILE_NAME = `
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (k, v) {
    return setItem.call(this, k, k === 'yourname' ? '\\uD800' + 'x'.repeat(5000) : v);
  };`;

/** @type {import('./lib/harness').Harness} */
let h;
/** @type {Pbx} */
let pbx;
/** @type {Connector} */
let conn;

before(async () => {
  h = await launch();
  pbx = await new Pbx({ extension: EXT, headScript: HOSTILE_NAME }).start();
  conn = await new Connector({ port: PORT }).start();
});
after(async () => {
  await h.close();
  await pbx.stop();
  await conn.stop();
});

test('a hostile name in the WebClient\'s storage: HELLO still has the extension and domain', async () => {
  const page = await h.openWebClient(pbx);
  const stored = await page.evaluate(() => localStorage.getItem('yourname'));
  assert.equal(stored?.length, 5001, 'the page stored the hostile name');
  await waitFor(() => conn.hellos().length > 0, 15000, 'HELLO');
  const hello = conn.hellos()[0];
  assert.equal(hello.extension, EXT);
  assert.equal(hello.domain, 'pbx.test');
  await page.close();
});

test('a large key that is not a setting in local storage: the settings still apply', async () => {
  const page = await h.openWebClient(pbx); // configures the PBX's origin, and waits for it
  const second = 'https://second.example';
  await h.settings({ leftOver: 'x'.repeat(1_100_000), webclientOrigins: [pbx.origin, second] });
  await waitFor(async () => {
    const status = await h.status();
    return status && status.trust.configured.includes(second) && status.trust.configured.includes(pbx.origin);
  }, 10000, 'both origins configured');
  await page.close();
});
