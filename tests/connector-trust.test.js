// Only the connector that answers for our extension is believed (issue 8): a local
// squatter on the preferred port that acknowledges HELLO for another extension gets no
// CALL_EVENT and cannot make the line dial; a configured bridgePort is the only port tried.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor, sleep } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');
const P = require('./lib/proto');

const EXT = '61';
const PREFERRED = 19800 + Number(EXT);   // where the squatter sits
const IN_RANGE = PREFERRED + 1;          // the real connector, found by the range search
const CONFIGURED = 21000 + Number(EXT);  // the real connector, when the administrator says so

const dial = (/** @type {string} */ number) => ({ v: 1, type: 'COMMAND', cmd: 'DIAL', number });
/** @param {number} id @param {number} callId @param {string} number */
const ring = (id, callId, number) => ({ action: 2, id, callId, state: P.State.Ringing, incoming: true, callerId: number });

/** @type {import('./lib/harness').Harness} */
let h;
before(async () => { h = await launch(); });
after(async () => { await h.close(); });

/** The link state as the popup shows it (the connector row of the worker's status). */
async function linkStatus() {
  const status = await h.status();
  const row = status && status.rows.connector;
  if (!row) return {};
  const [a, b] = row.text.args;
  switch (row.text.key) {
    case 'linkForeign': return { state: 'searching', foreign: { port: Number(a), extension: b } };
    case 'linkReady': return { state: 'ready', port: Number(a) };
    case 'linkConnecting': return { state: 'connecting', port: Number(a) };
    default: return { state: row.text.key };
  }
}

test('a squatter acknowledging another extension gets nothing and cannot dial', async () => {
  const pbx = await new Pbx({ extension: EXT }).start();
  const squatter = await new Connector({
    port: PREFERRED, ackExtension: '99',
    beforeAck: [dial('0900111111')], afterAck: [dial('0900222222')],
  }).start();
  const real = await new Connector({ port: IN_RANGE }).start();
  const page = await h.openWebClient(pbx);
  try {
    // The status names the port and the extension it answered for, while the search goes on.
    const seen = await waitFor(async () => { const s = await linkStatus(); return s.foreign && s; }, 15000, 'foreign status');
    assert.deepEqual(seen.foreign, { port: PREFERRED, extension: '99' });
    assert.notEqual(seen.state, 'ready');
    await waitFor(() => real.hellos().length > 0 && real.client, 20000, 'HELLO to the real connector');
    await waitFor(async () => (await linkStatus()).state === 'ready', 5000, 'ready');
    assert.equal((await linkStatus()).port, IN_RANGE);
    const lastGood = await (await h.worker()).evaluate(async () => (await chrome.storage.local.get('lastGoodPort')).lastGoodPort);
    assert.equal(lastGood, IN_RANGE, 'only the matching connector is remembered');

    pbx.legs18([ring(20, 5, '+4961111111')]);
    await waitFor(() => real.events().length >= 1, 5000, 'the call at the real connector');
    real.send(dial('0891234'));
    await waitFor(() => pbx.requestsOf(119).length >= 1, 5000, "the real connector's DIAL");
    await sleep(1000);
    assert.ok(squatter.hellos().length >= 1, 'the squatter was asked');
    assert.deepEqual(squatter.events(), [], 'no CALL_EVENT to the squatter');
    assert.deepEqual(pbx.requestsOf(119).map((c) => c.makeCall && c.makeCall.destination), ['0891234'],
      "the squatter's DIALs were not carried out");
    assert.deepEqual(real.events(), ['5 offered inbound +4961111111', '90 dialing outbound 0891234']);
  } finally {
    pbx.hangUpAll();
    await sleep(200);
    await page.close();
    await pbx.stop();
    await squatter.stop();
    await real.stop();
  }
});

test('a configured bridgePort is the only port probed', async () => {
  await h.settings({ bridgePort: CONFIGURED });
  await sleep(500); // the link restarts on the new port before anyone listens elsewhere
  const pbx = await new Pbx({ extension: EXT }).start();
  const preferred = await new Connector({ port: PREFERRED }).start();
  const lastGood = await new Connector({ port: IN_RANGE }).start();
  const other = await new Connector({ port: PREFERRED + 2 }).start();
  const real = await new Connector({ port: CONFIGURED }).start();
  const page = await h.openWebClient(pbx);
  try {
    await waitFor(() => real.hellos().length > 0 && real.client, 35000, 'HELLO on the configured port');
    pbx.legs18([ring(21, 6, '+4961222222')]);
    await waitFor(() => real.events().length >= 1, 5000, 'the call on the configured port');
    await sleep(500);
    assert.deepEqual(real.events(), ['6 offered inbound +4961222222']);
    assert.equal(preferred.probes + lastGood.probes + other.probes, 0, 'no other port probed');
    assert.equal((await linkStatus()).port, CONFIGURED);
  } finally {
    pbx.hangUpAll();
    await sleep(200);
    await page.close();
    await h.settings({ bridgePort: 0 });
    await pbx.stop();
    for (const c of [preferred, lastGood, other, real]) await c.stop();
  }
});

test('a process on the connector port that sends a 40 MB text: one log line, not copied into the core', async () => {
  await h.settings({ bridgePort: CONFIGURED });
  await sleep(500); // the link restarts on the new port before anyone listens there
  const pbx = await new Pbx({ extension: EXT }).start();
  // 20 million UTF-16 units, 40 MB in UTF-8: copied into the module, it would take three
  // times its length of linear memory there (wasm-bindgen's worst case), which stays grown.
  const huge = 'é'.repeat(20 << 20);
  /** @type {string[]} */
  const refused = [];
  const stopListening = await h.docConsole((line) => { if (line.includes('refused')) refused.push(line); });
  const memory = "import('./wasm/cti_core.js').then((m) => m.default()).then((w) => w.memory.buffer.byteLength)";
  const start = await h.docEval(memory);
  // Listening only now: the link, which keeps the last identity, may be probing already.
  const real = await new Connector({ port: CONFIGURED, beforeAck: [huge] }).start();
  const page = await h.openWebClient(pbx);
  try {
    await waitFor(() => refused.length > 0, 35000, 'the refusal');
    assert.match(refused[0], new RegExp(`port ${CONFIGURED}: message of \\d+ bytes or more refused`));
    // The HELLO_ACK behind it is taken: the link works.
    pbx.legs18([ring(22, 7, '+4961333333')]);
    await waitFor(() => real.events().length >= 1, 10000, 'the call');
    const grown = (await h.docEval(memory)) - start;
    assert.ok(grown < 4 << 20, `the core's memory grew by ${grown} bytes`);
    assert.equal(refused.length, 1, refused.join('\n'));
  } finally {
    stopListening();
    pbx.hangUpAll();
    await sleep(200);
    await page.close();
    await h.settings({ bridgePort: 0 });
    await pbx.stop();
    await real.stop();
  }
});

test('a connector that sends a number as a JSON number and a call id with a line break: refused, and logged masked', async () => {
  await h.settings({ bridgePort: CONFIGURED });
  await sleep(500);
  const pbx = await new Pbx({ extension: EXT }).start();
  /** @type {string[]} */
  const refused = [];
  const stopListening = await h.docConsole((line) => { if (line.includes('refused')) refused.push(line); });
  const real = await new Connector({
    port: CONFIGURED,
    afterAck: [
      { v: 1, type: 'COMMAND', cmd: 'DIAL', number: 4961987654321 },
      { v: 1, type: 'COMMAND', cmd: 'DROP', callId: '7\n1001 AAAA' },
    ],
  }).start();
  const page = await h.openWebClient(pbx);
  try {
    await waitFor(() => refused.length >= 2, 35000, 'two refusals');
    assert.match(refused[0], /bad field `number`: expected a string, got 49\*+21/);
    assert.match(refused[1], /bad field `callId`: control characters/);
    for (const line of refused) assert.ok(!line.includes('987654') && !line.includes('\n'), line);
    await sleep(500);
    assert.deepEqual([...pbx.requestsOf(119), ...pbx.requestsOf(115)], [], 'nothing dialled or dropped');
  } finally {
    stopListening();
    await page.close();
    await h.settings({ bridgePort: 0 });
    await pbx.stop();
    await real.stop();
  }
});
