// Screenshots of the popup and the options page in English and German for the README
// (docs/popup-en.png, docs/popup-de.png, docs/options-en.png, docs/options-de.png).
// Not a test. Run after ./build.sh:  node tests/screenshots.js
'use strict';
const path = require('node:path');
const { launch } = require('./lib/harness');
const { sampleStatus } = require('./lib/ui');

const DOCS = path.resolve(__dirname, '..', 'docs');

/** @param {string} lang */
async function shoot(lang) {
  const h = await launch({ lang });
  try {
    const w = await h.worker();
    await w.evaluate((st) => Promise.all([
      chrome.storage.session.set({ status: st }),
      chrome.storage.local.set({
        extensionNumber: '101', serverAddress: 'crm.example.com:3000', sharedSecret: 'example-secret',
        pestroutesUrl: 'https://office.pestroutes.com/', webclientOrigins: ['https://pbx.example.com'],
      }),
    ]), sampleStatus());
    const popup = await h.popup();
    await popup.setViewportSize({ width: 404, height: 700 });
    await popup.locator('body').screenshot({ path: path.join(DOCS, `popup-${lang}.png`) });
    const options = await h.options();
    await options.setViewportSize({ width: 760, height: 900 });
    // Loaded: the stored values are in the form, and the recording's state is known.
    await options.waitForFunction(() => /** @type {HTMLInputElement} */ (document.querySelector('input[name=extensionNumber]')).value === '101' &&
      (document.querySelector('#diag-state')?.textContent || '') !== '');
    const height = await options.evaluate(() => document.documentElement.scrollHeight);
    await options.setViewportSize({ width: 760, height });
    await options.screenshot({ path: path.join(DOCS, `options-${lang}.png`) });
  } finally {
    await h.close();
  }
}

(async () => {
  for (const lang of ['en', 'de']) await shoot(lang);
  console.log(`screenshots written to ${DOCS}`);
})().catch((e) => { console.error(e); process.exit(1); });
