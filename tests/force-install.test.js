// The release path, as an office gets it: scripts/release.js packs dist/ (the store zip, a
// signed CRX3, update.xml, SHA256SUMS), and Chromium installs the CRX from an update server
// on 127.0.0.1 because a policy file says so (ExtensionInstallForcelist), without
// --load-extension and without a click; the policy's settings apply and are locked, a call
// reaches the connector, and a newer version on the server replaces it and keeps what the
// operator set. Also: dist/ loaded unpacked has the id of its manifest's key, the same as
// the CRX that the build's key makes. The CRXs of the force-install test are signed with a
// throw-away key made here, never the developer's. Writing the policy needs root (reported
// as skipped otherwise); the file is removed afterwards, also when the test fails.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { unzipSync } = require('fflate');
const { launch, waitFor, sleep, DIST } = require('./lib/harness');
const { Pbx } = require('./lib/pbx');
const { Connector } = require('./lib/connector');
const { POLICY_DIR, canWrite, keyId, idOf } = require('./lib/policy');
const P = require('./lib/proto');

const ROOT = path.resolve(__dirname, '..');
const RELEASE = path.join(ROOT, 'scripts', 'release.js');
const POLICY_FILE = path.join(POLICY_DIR, 'cti-bridge-force-install-test.json');
const EXT = '47';
// Not 19800 + EXT: the extension tries only this port when it came by policy.
const BRIDGE_PORT = 19947;

/** @type {string[]} */
const temps = [];
/** @param {string} what */
const tempDir = (what) => { const d = fs.mkdtempSync(path.join(os.tmpdir(), `cti-${what}-`)); temps.push(d); return d; };
const removePolicy = () => fs.rmSync(POLICY_FILE, { force: true });
// A policy left behind would force-install a test extension into every Chromium on the
// machine: removed also when the process ends another way than through `after`.
process.on('exit', removePolicy);
after(() => {
  removePolicy();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

/** A throw-away RSA 2048 key in a file, as an administrator's would be. */
function throwAwayKey() {
  const file = path.join(tempDir('key'), 'key.pem');
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return file;
}

/**
 * Runs scripts/release.js as build.sh does. @param {string[]} args
 * @param {Record<string, string | undefined>} [env]
 */
function release(args, env = process.env) {
  const r = spawnSync(process.execPath, [RELEASE, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.status, 0, `release.js ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** Protocol buffer fields of `buf` (length-delimited ones only, as crx3.proto's are). @param {Buffer} buf */
function pbFields(buf) {
  /** @type {Array<[number, Buffer]>} */
  const out = [];
  let pos = 0;
  const varint = () => {
    let v = 0, mul = 1, b;
    do { b = buf[pos++]; v += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
    return v;
  };
  while (pos < buf.length) {
    const tag = varint();
    assert.equal(tag % 8, 2, 'only length-delimited fields in a CRX3 header');
    const len = varint();
    out.push([Math.floor(tag / 8), buf.subarray(pos, pos + len)]);
    pos += len;
  }
  return out;
}

/**
 * Reads a CRX3 file independently of release.js and checks its signature as Chrome does:
 * the proof's key must hash to crx_id and have signed the header data and the zip.
 * @param {Buffer} crx
 */
function readCrx(crx) {
  assert.equal(crx.subarray(0, 4).toString('latin1'), 'Cr24');
  assert.equal(crx.readUInt32LE(4), 3, 'CRX version 3');
  const headerLen = crx.readUInt32LE(8);
  const header = pbFields(crx.subarray(12, 12 + headerLen));
  const zip = crx.subarray(12 + headerLen);
  const proofs = header.filter(([f]) => f === 2).map(([, b]) => Object.fromEntries(pbFields(b)));
  const signedData = header.find(([f]) => f === 10000)?.[1];
  assert.ok(signedData, 'signed_header_data');
  assert.equal(proofs.length, 1, 'one sha256_with_rsa proof');
  const crxId = Object.fromEntries(pbFields(signedData))[1];
  const { 1: publicKey, 2: signature } = proofs[0];
  assert.ok(crypto.createHash('sha256').update(publicKey).digest().subarray(0, 16).equals(crxId), 'crx_id is the proof key\'s hash');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(signedData.length);
  const signed = Buffer.concat([Buffer.from('CRX3 SignedData\x00', 'latin1'), len, signedData, zip]);
  assert.ok(crypto.verify('sha256', signed, { key: publicKey, format: 'der', type: 'spki' }, signature), 'the signature verifies');
  return { id: idOf(publicKey), publicKey: publicKey.toString('base64'), zip };
}

/** The manifest inside a zip. @param {Uint8Array} zip @returns {Record<string, any>} */
const manifestIn = (zip) => JSON.parse(Buffer.from(unzipSync(zip, { filter: (f) => f.name === 'manifest.json' })['manifest.json']).toString('utf8'));

/** The files of dist/ and their bytes, '/'-separated paths. @param {string} dir */
function treeOf(dir, rel = '') {
  /** @type {Record<string, Buffer>} */
  const out = {};
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, treeOf(dir, r));
    else out[r] = fs.readFileSync(path.join(dir, r));
  }
  return out;
}

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const distManifest = () => JSON.parse(fs.readFileSync(path.join(DIST, 'manifest.json'), 'utf8'));

/** The version after `v`: its last number plus one. @param {string} v */
const bump = (v) => v.replace(/\d+$/, (n) => String(Number(n) + 1));

/**
 * A folder on an http server on 127.0.0.1, as an office's update server; `dir` can be
 * switched while it runs. Records the paths asked for.
 * @param {string} dir
 */
async function updateServer(dir) {
  const s = {
    dir,
    /** @type {string[]} */
    requests: [],
    base: '',
    server: http.createServer((req, res) => {
      const name = path.basename(new URL(req.url || '/', 'http://x').pathname);
      s.requests.push(name);
      const file = path.join(s.dir, name);
      if (!name || !fs.existsSync(file)) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'Content-Type': name.endsWith('.xml') ? 'text/xml' : 'application/x-chrome-extension' });
      res.end(fs.readFileSync(file));
    }),
  };
  await new Promise((resolve) => s.server.listen(0, '127.0.0.1', () => resolve(undefined)));
  s.base = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (s.server.address()).port}/`;
  return s;
}

test('release files: a store zip without key, a CRX3 signed by the key it names, update.xml and sums; the same bytes again', () => {
  assert.ok(fs.existsSync(path.join(DIST, 'manifest.json')), 'dist/ is built (./build.sh)');
  const key = throwAwayKey();
  const tracked = sha256(fs.readFileSync(path.join(ROOT, 'manifest.json')));
  const before = sha256(fs.readFileSync(path.join(DIST, 'manifest.json')));
  const base = 'https://updates.example.test/cti-bridge/';
  const v = bump(distManifest().version);
  const [a, b] = [tempDir('rel-a'), tempDir('rel-b')];
  for (const out of [a, b]) release(['pack', '--dist', DIST, '--key', key, '--out', out, '--update-url', base, '--version', v]);
  const names = fs.readdirSync(a).sort();
  assert.deepEqual(names, [`cti-bridge-${v}-store.zip`, `cti-bridge-${v}.crx`, 'SHA256SUMS', 'update.xml'].sort());
  for (const n of names) assert.ok(fs.readFileSync(path.join(a, n)).equals(fs.readFileSync(path.join(b, n))), `${n} is the same byte for byte`);

  const crx = fs.readFileSync(path.join(a, `cti-bridge-${v}.crx`));
  const { id, publicKey, zip } = readCrx(crx);
  const pub = crypto.createPublicKey(fs.readFileSync(key)).export({ type: 'spki', format: 'der' }).toString('base64');
  assert.equal(publicKey, pub, 'signed with the key given');
  assert.equal(id, keyId(pub));
  const dist = distManifest();
  const inCrx = manifestIn(zip);
  assert.equal(inCrx.key, pub, 'the CRX\'s manifest names its key');
  assert.equal(inCrx.update_url, `${base}update.xml`, 'and where its updates are');
  assert.equal(inCrx.version, v, 'the version given, not manifest.json\'s');
  const { key: _k, update_url: _u, version: _v, ...rest } = inCrx;
  const { key: _dk, version: _dv, ...distRest } = dist;
  assert.deepEqual(rest, distRest, 'otherwise dist/\'s manifest');
  const store = fs.readFileSync(path.join(a, `cti-bridge-${v}-store.zip`));
  const inStore = manifestIn(store);
  assert.equal('key' in inStore, false, 'the stores refuse a manifest with "key"');
  assert.equal('update_url' in inStore, false, 'and one with an update_url of its own');
  assert.deepEqual(inStore, { ...distRest, version: v });
  // Every other file as it is in dist/.
  const files = treeOf(DIST);
  for (const z of [store, zip]) {
    const entries = unzipSync(z);
    assert.deepEqual(Object.keys(entries).sort(), Object.keys(files).sort());
    for (const [n, bytes] of Object.entries(files)) if (n !== 'manifest.json') assert.ok(Buffer.from(entries[n]).equals(bytes), n);
  }
  const xml = fs.readFileSync(path.join(a, 'update.xml'), 'utf8');
  assert.match(xml, new RegExp(`<app appid='${id}'>`));
  assert.match(xml, new RegExp(`codebase='${base}cti-bridge-${v}\\.crx' version='${v.replace(/\./g, '\\.')}' hash_sha256='${sha256(crx)}'`));
  const sums = fs.readFileSync(path.join(a, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split('  ').reverse());
  assert.deepEqual(Object.fromEntries(sums), Object.fromEntries(names.filter((n) => n !== 'SHA256SUMS').map((n) => [n, sha256(fs.readFileSync(path.join(a, n)))])));
  assert.equal(sha256(fs.readFileSync(path.join(ROOT, 'manifest.json'))), tracked, 'manifest.json untouched');
  assert.equal(sha256(fs.readFileSync(path.join(DIST, 'manifest.json'))), before, 'dist/ untouched');
});

test('dist/ loaded unpacked has the id of its manifest\'s key, the same as the CRX the build\'s key makes', async () => {
  const { key } = distManifest();
  assert.equal(typeof key, 'string', 'dist/manifest.json has a "key" (./build.sh writes it)');
  const id = keyId(key);
  // The key build.sh took: CTI_SIGNING_KEY, else the development key (which release.js
  // would make if it were missing: then dist/ was built with a key this PC lacks).
  const devKey = require(RELEASE).devKeyPath();
  assert.ok(process.env.CTI_SIGNING_KEY || fs.existsSync(devKey), `no CTI_SIGNING_KEY and no ${devKey}: dist/ was built with a key this PC does not have; run ./build.sh`);
  const out = tempDir('rel-dist');
  release(['pack', '--dist', DIST, '--out', out, '--update-url', 'https://updates.example.test/cti-bridge/']);
  const crx = readCrx(fs.readFileSync(path.join(out, `cti-bridge-${distManifest().version}.crx`)));
  assert.equal(crx.publicKey, key, 'the CRX is signed with the key dist/ names');
  assert.equal(crx.id, id);
  const h = await launch();
  try {
    // What Chromium itself calls the extension: the host of its worker's URL.
    const hosts = h.context.serviceWorkers().map((w) => new URL(w.url())).filter((u) => u.protocol === 'chrome-extension:').map((u) => u.host);
    assert.deepEqual(hosts, [id]);
    assert.equal(h.extensionId, id, 'the harness computes the same id');
  } finally {
    await h.close();
  }
});

/**
 * Chromium as the harness starts it, but without --load-extension: the extension comes by
 * policy only. Playwright's own --disable-extensions would keep it out, and
 * --disable-background-networking stops Chrome's extension updater, which fetches the
 * force-listed CRX (with either one, nothing was fetched).
 * @param {string} profile
 */
function browser(profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    ignoreDefaultArgs: ['--disable-extensions', '--disable-background-networking'],
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** @param {import('playwright-core').BrowserContext} context @param {string} id */
const workerOf = (context, id) => waitFor(() => context.serviceWorkers().find((w) => new URL(w.url()).host === id), 30000, `the extension ${id} running`);

/**
 * The options page: the policy's fields locked and saying why, the operator's own value
 * shown and editable.
 * @param {import('playwright-core').BrowserContext} context @param {string} id @param {string} origin
 */
async function checkOptions(context, id, origin) {
  const page = await context.newPage();
  try {
    await page.goto(`chrome-extension://${id}/options.html`);
    for (const name of ['webclientOrigins', 'bridgePort', 'extensionNumber']) {
      await waitFor(() => page.isDisabled(`input[name=${name}]`), 15000, `${name} locked by the policy`);
      assert.equal(await page.textContent(`label:has(input[name=${name}]) small.admin`), 'Set by your administrator', name);
    }
    assert.equal(await page.inputValue('input[name=bridgePort]'), String(BRIDGE_PORT));
    assert.equal(await page.inputValue('input[name=extensionNumber]'), EXT);
    assert.match(await page.inputValue('input[name=webclientOrigins]'), new RegExp(origin.replace(/[.:/]/g, '\\$&')));
    assert.equal(await page.isDisabled('select[name=dialMethod]'), false, 'what the policy leaves alone stays the operator\'s');
    assert.equal(await page.inputValue('select[name=dialMethod]'), 'request');
  } finally {
    await page.close();
  }
}

/**
 * Waits until the policy's settings reach the extension: Chrome registers its
 * managed_schema when it installs it, and gives the policy's values about 3 s later
 * (measured). The options page reads them once, when it opens.
 * @param {import('playwright-core').Worker} w
 */
const policyApplied = (w) => waitFor(async () => {
  const managed = await w.evaluate(() => chrome.storage.managed.get(null));
  return managed.bridgePort === BRIDGE_PORT && managed.extensionNumber === EXT && managed.webclientOrigins;
}, 20000, 'the policy\'s settings in storage.managed');

/**
 * Waits for the connector's `n`th CALL_EVENT; says what it got when they do not come.
 * @param {Connector} conn @param {number} n
 */
async function connectorEvents(conn, n) {
  try {
    await waitFor(() => conn.events().length >= n, 8000, `${n} CALL_EVENTs`);
  } catch (e) {
    throw new Error(`${/** @type {Error} */ (e).message}; the connector got ${JSON.stringify(conn.events())}, logged ${JSON.stringify(conn.log)}`, { cause: e });
  }
  await sleep(300); // nothing more may follow
}

/** @param {number} id @param {number} callId @param {string} number */
const ring = (id, callId, number) => ({ action: 2, id, callId, state: P.State.Ringing, incoming: true, callerId: number });

test('force-installed by policy from an update server: the policy\'s settings, a call, and an update that keeps the operator\'s', {
  skip: !canWrite && `cannot write ${POLICY_DIR} (not root)`, timeout: 120_000,
}, async (t) => {
  const t0 = Date.now();
  const key = throwAwayKey();
  const v1Dir = tempDir('v1');
  const v2Dir = tempDir('v2');
  const server = await updateServer(v1Dir);
  const v1 = distManifest().version;
  const v2 = bump(v1);
  release(['pack', '--dist', DIST, '--key', key, '--out', v1Dir, '--update-url', server.base]);
  release(['pack', '--dist', DIST, '--key', key, '--out', v2Dir, '--update-url', server.base, '--version', v2]);
  const id = readCrx(fs.readFileSync(path.join(v1Dir, `cti-bridge-${v1}.crx`))).id;
  assert.notEqual(id, keyId(distManifest().key), 'not the developer\'s key');
  const pbx = await new Pbx({ extension: EXT }).start();
  const conn = await new Connector({ port: BRIDGE_PORT }).start();
  const profile = tempDir('profile');
  /** @type {import('playwright-core').BrowserContext | null} */
  let context = null;
  try {
    fs.writeFileSync(POLICY_FILE, JSON.stringify({
      ExtensionInstallForcelist: [`${id};${server.base}update.xml`],
      // Chrome keeps DevTools away from extensions installed by policy (this policy's
      // default), and so Playwright: without it, the extension's worker cannot be seen.
      DeveloperToolsAvailability: 1,
      '3rdparty': { extensions: { [id]: { webclientOrigins: [pbx.origin], bridgePort: BRIDGE_PORT, extensionNumber: EXT } } },
    }));
    const launched = Date.now();
    context = await browser(profile);
    let w = await workerOf(context, id);
    t.diagnostic(`installed by policy ${Date.now() - launched} ms after the browser started (${Date.now() - t0} ms into the test)`);
    assert.ok(server.requests.includes(`cti-bridge-${v1}.crx`), 'fetched from the update server');
    const self = await w.evaluate(() => chrome.management.getSelf());
    assert.equal(self.installType, 'admin', 'installed by policy');
    assert.equal(self.version, v1);
    await w.evaluate(() => chrome.storage.local.set({ dialMethod: 'request' }));
    await policyApplied(w);
    t.diagnostic(`the policy's settings applied ${Date.now() - launched} ms after the browser started`);
    await checkOptions(context, id, pbx.origin);

    // A call, as in datev.test.js: the policy's port and trusted origin are the only ones.
    const page = await context.newPage();
    await page.goto(`${pbx.origin}/webclient/`);
    await waitFor(() => conn.hellos().length > 0 && conn.client, 15000, 'HELLO on the policy\'s port');
    assert.equal(conn.hellos()[0].extension, EXT);
    pbx.legs18([ring(28, 7, '+49891111111')]);
    await sleep(100);
    pbx.legs18([{ action: 3, id: 28, state: P.State.Connected }]);
    await sleep(100);
    pbx.legs18([{ action: 4, id: 28 }]);
    await connectorEvents(conn, 3);
    assert.deepEqual(conn.events(), ['7 offered inbound +49891111111', '7 connected inbound +49891111111', '7 ended inbound +49891111111']);

    // A newer version on the server. Chrome fetches it and, since the extension is not
    // idle (its offscreen document stays open as long as the browser runs), keeps it
    // until the next browser start (or a reload of the extension), telling the extension
    // through runtime.onUpdateAvailable; an office PC's next browser start is the restart
    // below.
    server.dir = v2Dir;
    const asked = Date.now();
    const offered = await w.evaluate(() => new Promise((resolve) => {
      setTimeout(() => resolve('no update within 30 s'), 30000);
      chrome.runtime.onUpdateAvailable.addListener((d) => resolve(d.version));
      chrome.runtime.requestUpdateCheck().then((r) => { if (r.status !== 'update_available') resolve(`update check: ${r.status}`); });
    }));
    assert.equal(offered, v2);
    await waitFor(async () => (await w.evaluate(() => chrome.storage.session.get('updateReady'))).updateReady === v2,
      5000, 'the popup told that the update waits for the browser\'s restart');
    t.diagnostic(`version ${v2} fetched and waiting ${Date.now() - asked} ms after the update check`);
    assert.ok(server.requests.includes(`cti-bridge-${v2}.crx`));
    await page.close().catch(() => {});
    const hellos = conn.hellos().length;
    await context.close();
    const restarted = Date.now();
    context = await browser(profile);
    w = await workerOf(context, id);
    assert.equal(await w.evaluate(() => chrome.runtime.getManifest().version), v2, 'the new version runs after the browser start');
    t.diagnostic(`version ${v2} running ${Date.now() - restarted} ms after the browser started again`);
    assert.equal((await w.evaluate(() => chrome.management.getSelf())).installType, 'admin');
    assert.deepEqual(await w.evaluate(() => chrome.storage.local.get('dialMethod')), { dialMethod: 'request' }, 'the operator\'s value kept');
    await policyApplied(w);
    await checkOptions(context, id, pbx.origin);

    // The new version reaches the connector too: a new session (it may start before the
    // WebClient tab opens: the stored state names the WebClient's operator).
    const page2 = await context.newPage();
    await page2.goto(`${pbx.origin}/webclient/`);
    await waitFor(() => pbx.connected > 0, 5000, 'the WebClient\'s socket');
    await waitFor(() => conn.hellos().length > hellos && conn.client, 15000, 'HELLO from the new version');
    const before = conn.events().length;
    pbx.legs18([ring(30, 8, '+49892222222')]);
    await sleep(100);
    pbx.legs18([{ action: 4, id: 30 }]);
    await connectorEvents(conn, before + 2);
    assert.deepEqual(conn.events().slice(before), ['8 offered inbound +49892222222', '8 ended inbound +49892222222']);
    t.diagnostic(`whole test ${Date.now() - t0} ms`);
  } finally {
    if (context) await context.close().catch(() => {});
    removePolicy();
    await pbx.stop();
    await conn.stop();
    server.server.closeAllConnections();
    await new Promise((resolve) => server.server.close(() => resolve(undefined)));
  }
});
