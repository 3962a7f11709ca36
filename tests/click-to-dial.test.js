// Click-to-dial from PestRoutes, end to end in real Chromium with the built dist/: a
// click on a phone number or a tel: link in a PestRoutes page (https on a
// *.pestroutes.com host, mapped to 127.0.0.1) places the call through the simulated
// PBX with RequestMakeCall, as DATEV's DIAL does; switched off in the options, the
// page's own links work as before and nothing is dialled.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, sleep } = require('./lib/harness');
const { webClientStage } = require('./lib/webclient');
const { PestRoutesPage } = require('./lib/pestroutes-page');
const { testCertificate, TEST_HOST_ARGS } = require('./lib/tls');

const EXT = '64';
/** @type {any} */ let stage;
/** @type {import('./lib/harness').Harness} */ let h;
/** @type {any} */ let pbx;
/** @type {any} */ let conn;
/** @type {PestRoutesPage} */ let pr;

before(async () => {
  pr = await new PestRoutesPage().start({ tls: testCertificate(), host: 'office.pestroutes.com' });
  stage = await webClientStage(EXT, { args: TEST_HOST_ARGS });
  ({ h, pbx, conn } = stage);
});

after(async () => {
  await stage?.stop();
  await pr.stop();
});

const dialled = () => pbx.requestsOf(119).map((/** @type {any} */ c) => c.makeCall.destination);

test('a click on a phone number or a tel: link in PestRoutes dials through the WebClient', async () => {
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  await tab.click('.customer-phone');
  await waitFor(() => dialled().length === 1, 5000, 'the first call');
  assert.deepEqual(dialled(), ['5551234567']);
  await waitFor(() => conn.events().some((/** @type {string} */ e) => e.endsWith('dialing outbound 5551234567')), 5000, 'DATEV hears of it');
  await sleep(1100); // the WebClient takes one request at a time: the core spaces them
  await tab.click('#mobile');
  await waitFor(() => dialled().length === 2, 5000, 'the second call');
  assert.equal(dialled()[1], '+15559876543');
  // Text that is not a phone number, and a page script's synthetic click, dial nothing.
  await tab.click('#notes');
  await tab.evaluate(() => /** @type {HTMLElement} */ (document.querySelector('.customer-phone')).click());
  await sleep(1500);
  assert.equal(dialled().length, 2);
  assert.equal(tab.url(), pr.url, 'the tel: link did not navigate');
  await tab.close();
  pbx.hangUpAll();
});

test('a PestRoutes page that loads while the offscreen document is gone: click-to-dial waits for it', async () => {
  // As after a browser start, or a crash of the document: no WebClient page asks for the
  // document, the worker is stopped, the document closed. The page's question wakes the
  // worker, which opens the document; the page asks again until it answers.
  for (const p of h.context.pages()) if (p.url().startsWith(pbx.origin)) await p.close();
  await h.stopWorkerAndDocument();
  await waitFor(() => !conn.client, 5000, 'the old document\'s connector session closed');
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  await h.openWebClient(pbx, { trust: false });
  await waitFor(() => conn.client, 15000, 'connector session from the new document');
  await sleep(1100); // the core spaces requests to the WebClient (the previous test's)
  const count = dialled().length;
  await tab.click('.customer-phone');
  await waitFor(() => dialled().length === count + 1, 5000, 'the call');
  assert.equal(dialled()[count], '5551234567');
  await sleep(3500); // longer than a click is ever sent again: it was dialled once
  assert.equal(dialled().length, count + 1);
  assert.equal(tab.url(), pr.url, 'the tel: link did not navigate');
  await tab.close();
  pbx.hangUpAll();
});

test('switched off in the options: nothing is dialled', async () => {
  await h.settings({ clickToDial: false });
  await sleep(500);
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  const count = dialled().length;
  await tab.click('.customer-phone');
  await sleep(1500);
  assert.equal(dialled().length, count);
  await tab.close();
  await h.settings({ clickToDial: true });
});

test('switched off while a PestRoutes page is open: its clicks are its own again at once', async () => {
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  // The page's own handler, behind the extension's: it hears a click only when the
  // extension lets the click through.
  await tab.evaluate(() => {
    /** @type {any} */ (window).clicks = 0;
    document.addEventListener('click', (ev) => { ev.preventDefault(); /** @type {any} */ (window).clicks++; });
  });
  await sleep(500); // the page's question answered: click-to-dial on
  await tab.click('#notes'); // not a number: the page's
  assert.equal(await tab.evaluate(() => /** @type {any} */ (window).clicks), 1);
  await h.settings({ clickToDial: false });
  await sleep(1000);
  const count = dialled().length;
  await tab.click('.customer-phone');
  await waitFor(async () => (await tab.evaluate(() => /** @type {any} */ (window).clicks)) === 2, 3000, 'the click reached the page');
  await sleep(500);
  assert.equal(dialled().length, count, 'nothing dialled');
  await h.settings({ clickToDial: true });
  await sleep(1000);
  await tab.click('.customer-phone');
  await waitFor(() => dialled().length === count + 1, 5000, 'on again: the call');
  assert.equal(await tab.evaluate(() => /** @type {any} */ (window).clicks), 2, 'and the page did not see that click');
  await tab.close();
  pbx.hangUpAll();
});
