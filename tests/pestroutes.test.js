// PestRoutes screen-pop, end to end in real Chromium with the built dist/: the
// middleware's event stream in, the customer's record opened in the PestRoutes tab.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor, sleep } = require('./lib/harness');
const { Middleware } = require('./lib/middleware');
const { PestRoutesPage } = require('./lib/pestroutes-page');

const AGENT = '101';
/** @type {import('./lib/harness').Harness} */
let h;
/** @type {Middleware} */
let mw;
/** @type {PestRoutesPage} */
let pr;

async function streamUp(agent = AGENT) {
  await waitFor(() => mw.agentStreams(agent) === 1, 20000, `stream for agent ${agent}`);
}

function prTabs() {
  return h.context.pages().filter((p) => p.url().startsWith(pr.url));
}

// The outcomes as the popup words them in English (the status names them by message key).
const OUTCOME = {
  popOpened: 'opened', popNoResult: 'no result', popNoSearchBox: 'no search box on the page',
  popNoAddress: 'no PestRoutes address configured',
};

/** The recent screen-pops as the worker publishes them for the popup, newest first. @returns {Promise<any[]>} */
async function recentPops() {
  const status = await h.status();
  return ((status && status.pops) || []).map((/** @type {any} */ p) =>
    ({ ...p, outcome: /** @type {Record<string, string>} */ (OUTCOME)[p.outcome.key] || p.outcome.key }));
}

/** @param {number} count @param {string} [what] */
async function popOutcome(count, what) {
  return waitFor(async () => {
    const list = await recentPops();
    return list.length >= count && list[0];
  }, 15000, what || `screen-pop ${count}`);
}

let pops = 0;

before(async () => {
  mw = await new Middleware({ secret: 'S3CRET-abcdef' }).start();
  pr = await new PestRoutesPage().start();
  h = await launch();
  await h.settings({ extensionNumber: AGENT, serverAddress: `127.0.0.1:${mw.port}`, sharedSecret: 'S3CRET-abcdef', pestroutesUrl: pr.url });
  await streamUp();
});

after(async () => {
  await h.close();
  await mw.stop().catch(() => {});
  await pr.stop();
});

test('notify opens the right record in the open PestRoutes tab', async () => {
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  const r = await mw.notify({ customerID: '12345', phone: '5551234567', agent: AGENT });
  assert.equal(r.delivered, 1);
  await waitFor(async () => (await tab.textContent('#record')) === 'Customer 12345', 10000, 'record opened');
  const pop = await popOutcome(++pops);
  assert.equal(pop.outcome, 'opened');
  assert.equal(prTabs().length, 1, 'no second tab');
  await tab.close();
});

test('notify with no PestRoutes tab opens one and then the record', async () => {
  assert.equal(prTabs().length, 0);
  await mw.notify({ customerID: '', phone: '+1 555-987-6543', agent: AGENT });
  const tab = await waitFor(() => prTabs()[0], 10000, 'PestRoutes tab');
  await waitFor(async () => (await tab.textContent('#record')) === 'Customer 777', 15000, 'record opened');
  assert.equal((await popOutcome(++pops)).outcome, 'opened');
  await tab.close();
});

test('an unknown phone number gives "no result"', async () => {
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  await mw.notify({ phone: '5550000000', agent: AGENT });
  assert.equal((await popOutcome(++pops, 'no result')).outcome, 'no result');
  assert.equal(await tab.textContent('#record'), 'no customer open');
  const popup = await h.popup();
  await waitFor(async () => String(await popup.textContent('#pops')).includes('No customer found'), 5000, 'popup shows the outcome');
  assert.match(String(await popup.textContent('#pestroutes .value')), /Connected as agent 101/);
  await popup.close();
  const options = await h.options();
  await waitFor(async () => (await options.getAttribute('input[name=sharedSecret]', 'placeholder')) !== '', 5000, 'options loaded');
  assert.equal(await options.inputValue('input[name=sharedSecret]'), '', 'the secret is never shown back');
  await options.close();
  await tab.close();
});

test('malformed events and hostile values are ignored with a log line', async () => {
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  await tab.evaluate(() => { window.pwned = false; });
  mw.raw(AGENT, 'event: openCustomer\r\ndata: {not json\r\n\r\n');
  mw.raw(AGENT, 'event: somethingElse\r\ndata: {}\r\n\r\n');
  mw.raw(AGENT, ': a comment\r\ngarbage line without colon\r\n\r\n');
  mw.push(AGENT, 'openCustomer', { type: 'openCustomer', customerID: "1');window.pwned=true;//", phone: '', agent: AGENT });
  mw.push(AGENT, 'openCustomer', { type: 'openCustomer', customerID: '', phone: '555\u00001234567', agent: AGENT });
  mw.push(AGENT, 'openCustomer', { type: 'openCustomer', customerID: '9'.repeat(500), phone: '', agent: AGENT });
  mw.push(AGENT, 'openCustomer', { type: 'openCustomer', customerID: '12345', phone: '', agent: '999' });
  await sleep(1500);
  const list = await recentPops();
  assert.equal(list.length, pops, 'no screen-pop for any of them');
  assert.equal(await tab.evaluate(() => window.pwned), false);
  assert.equal(await tab.textContent('#record'), 'no customer open');
  // The stream is still up: the next real event works.
  await mw.notify({ customerID: '777', agent: AGENT });
  await waitFor(async () => (await tab.textContent('#record')) === 'Customer 777', 10000, 'record opened');
  ++pops;
  await tab.close();
});

test('server restart: the stream comes back and the next notify works', async () => {
  const port = mw.port;
  await mw.stop(); // sends pode.close
  await sleep(500);
  mw = await new Middleware({ secret: 'S3CRET-abcdef', port }).start();
  await streamUp();
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  await mw.notify({ customerID: '12345', agent: AGENT });
  await waitFor(async () => (await tab.textContent('#record')) === 'Customer 12345', 10000, 'record opened');
  ++pops;
  await tab.close();
});

test('service worker stopped and idle for more than 30 s: the next notify still opens the record', async () => {
  const tab = await h.context.newPage();
  await tab.goto(pr.url);
  await h.stopWorker();
  await sleep(31000);
  assert.equal(mw.agentStreams(AGENT), 1, 'the stream stayed up');
  await mw.notify({ customerID: '777', agent: AGENT });
  await waitFor(async () => (await tab.textContent('#record')) === 'Customer 777', 15000, 'record opened');
  ++pops;
  await tab.close();
});

test('no PestRoutes address configured is shown as such', async () => {
  await h.settings({ pestroutesUrl: '' });
  await sleep(300);
  await mw.notify({ customerID: '12345', agent: AGENT });
  assert.equal((await popOutcome(++pops)).outcome, 'no PestRoutes address configured');
  await h.settings({ pestroutesUrl: pr.url });
});

test('a page without the search box is reported', async () => {
  await h.settings({ pestroutesUrl: `${pr.url}blank` });
  const tab = await h.context.newPage();
  await tab.goto(`${pr.url}blank`);
  await sleep(300);
  await mw.notify({ customerID: '12345', agent: AGENT });
  assert.equal((await popOutcome(++pops)).outcome, 'no search box on the page');
  await tab.close();
  await h.settings({ pestroutesUrl: pr.url });
});

test('wrong secret: forbidden state, and no reconnect storm', async () => {
  const seen = mw.sseRequests;
  await h.settings({ sharedSecret: 'wrong-secret' });
  const popup = await h.popup();
  await waitFor(async () => String(await popup.textContent('#pestroutes .value')).includes('Refused: check the shared secret'), 10000, 'forbidden shown');
  await sleep(5000);
  assert.ok(mw.sseRequests - seen <= 2, `${mw.sseRequests - seen} requests in 5 s`);
  assert.equal(mw.agentStreams(AGENT), 0);
  await popup.close();
  // Fixing the secret brings the stream back at once.
  await h.settings({ sharedSecret: 'S3CRET-abcdef' });
  await streamUp();
});

test('settings saved from the options page reach the stream', async () => {
  const popup = await h.options();
  await waitFor(async () => (await popup.inputValue('input[name=extensionNumber]')) === AGENT, 5000, 'options loaded');
  await popup.fill('input[name=extensionNumber]', '102');
  await popup.click('button[type=submit]');
  await waitFor(async () => (await popup.textContent('#saved')) === 'Saved', 5000, 'saved');
  await waitFor(() => mw.agentStreams('102') === 1 && mw.agentStreams(AGENT) === 0, 20000, 'stream as agent 102');
  await popup.fill('input[name=extensionNumber]', '10x');
  // Checked as you type: the message shows and Save cannot be clicked.
  await waitFor(async () => (await popup.textContent('label:has(input[name=extensionNumber]) small.error')) === 'Digits only, at most 10', 5000, 'refused');
  assert.equal(await popup.isDisabled('button[type=submit]'), true);
  const w = await h.worker();
  assert.equal((await w.evaluate(() => chrome.storage.local.get('extensionNumber'))).extensionNumber, '102', 'nothing stored');
  await popup.fill('input[name=extensionNumber]', AGENT);
  await popup.click('button[type=submit]');
  await streamUp();
  await popup.close();
});
