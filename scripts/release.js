#!/usr/bin/env node
// The extension's id and its release files, from the built dist/ and one RSA signing key.
//
//   node scripts/release.js stamp [--dist DIR] [--key PEM]
//     writes the key's public half into DIR/manifest.json ("key"), so Chrome gives the
//     unpacked folder the same id on every PC (build.sh does this for every build);
//   node scripts/release.js check [--key PEM] [--update-url URL] [--version V]
//     checks those options (build.sh, before it compiles anything);
//   node scripts/release.js pack [--dist DIR] [--key PEM] [--out DIR] [--update-url URL] [--version V]
//     writes into OUT (default release/; earlier release files there are replaced):
//       cti-bridge-V-store.zip  the upload for the Chrome Web Store and Edge Add-ons:
//                               dist/ without "key" (the Chrome Web Store refuses an
//                               upload whose manifest has one, "key field is not allowed
//                               in manifest"; a store gives the item its own id and signs
//                               it itself);
//       cti-bridge-V.crx        CRX3 signed with the key, for an office's own update server;
//       update.xml              the update manifest (gupdate) that points at that CRX;
//       SHA256SUMS              the three above (sha256sum -c SHA256SUMS).
//
// The key: --key, else $CTI_SIGNING_KEY, else a development key kept (and made once, with
// a loud warning) in ${XDG_CONFIG_HOME:-~/.config}/cti-bridge/, never in the project.
// The id is Chrome's: the first 16 bytes of sha256 over the public key (DER
// SubjectPublicKeyInfo), each hex digit 0-f written as a letter a-p.
// The same dist/ and key give the same bytes: files in a fixed order with fixed times and
// permissions, deflate in JavaScript (fflate, so no dependence on the zlib that a Node
// build carries), and RSA PKCS#1 v1.5 signatures, which are deterministic.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const ROOT = path.resolve(__dirname, '..');
const NAME = 'cti-bridge';
// The README's placeholder; --update-url or CTI_UPDATE_URL names the office's server.
const DEFAULT_UPDATE_URL = 'https://updates.example.com/cti-bridge/';
// 1980-01-01 00:00, the earliest time a zip entry can carry. Built from local fields,
// because zip stores local time: the entry reads the same in every time zone.
const ZIP_TIME = new Date(1980, 0, 1, 0, 0, 0);
// Made by Unix (3), a regular file readable by all (0o100644), so an unzip anywhere gives
// the same permissions whatever the umask of the machine that built it.
const ZIP_UNIX = 3;
const ZIP_MODE = 0o100644 * 0x10000;

const log = (/** @type {string} */ s) => process.stderr.write(`==> ${s}\n`);
class UsageError extends Error {}

/** @param {string} s @returns {never} */
function die(s) { throw new UsageError(s); }

/** The development key's place: outside the project, per user. */
function devKeyPath() {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'cti-bridge', 'dev-signing-key.pem');
}

/**
 * The signing key: the one given, else a development key (made when missing). Refuses a
 * key inside the project folder, where it could be committed or packed.
 * @param {string | undefined} given @param {{loud: boolean}} o
 * @returns {{key: crypto.KeyObject, file: string, dev: boolean}}
 */
function signingKey(given, { loud }) {
  let file = given || process.env.CTI_SIGNING_KEY || '';
  const dev = !file;
  if (dev) {
    file = devKeyPath();
    if (!fs.existsSync(file)) {
      const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // 'wx': never overwrite a key that appeared meanwhile (its id would change).
      fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      warn([`no signing key was given (--key or CTI_SIGNING_KEY): generated a DEVELOPMENT key`,
        `  ${file}`, '  (RSA 2048, mode 600). Its id is this PC\'s only.']);
    }
  }
  file = path.resolve(file);
  if (!fs.existsSync(file)) die(`signing key ${file} does not exist`);
  const real = fs.realpathSync(file);
  if (real === ROOT || real.startsWith(ROOT + path.sep)) die(`signing key ${file} is inside the project folder: keep it outside (it must never be committed or packed)`);
  if (fs.statSync(real).mode & 0o077) log(`warning: signing key ${file} is readable by other users (chmod 600 it)`);
  let key;
  try { key = crypto.createPrivateKey(fs.readFileSync(real)); } catch (e) { return die(`signing key ${file} is not a PEM private key: ${/** @type {Error} */ (e).message}`); }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048) die(`signing key ${file} is ${key.asymmetricKeyType} ${bits || ''}: Chrome's CRX3 signature needs an RSA key of 2048 bits or more`);
  if (dev && loud) {
    warn([`SIGNING WITH THE DEVELOPMENT KEY ${file}`,
      '  The CRX and its id belong to this PC. For an office, create one key and keep it safe',
      '  (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out /safe/place/key.pem),',
      '  then ./build.sh --release --key /safe/place/key.pem (or CTI_SIGNING_KEY=/safe/place/key.pem).',
      '  Every later version must be signed with the same key, or Chrome will not update it.']);
  }
  return { key, file, dev };
}

/** @param {string[]} lines */
function warn(lines) {
  const bar = '!'.repeat(78);
  process.stderr.write(`${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n`);
}

/** DER SubjectPublicKeyInfo of the key's public half. @param {crypto.KeyObject} key */
const publicDer = (key) => crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });

/** Chrome's extension id of a public key (DER SubjectPublicKeyInfo). @param {Buffer} der */
function extensionId(der) {
  return [...crypto.createHash('sha256').update(der).digest('hex').slice(0, 32)]
    .map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

/** A Chrome extension version: 1 to 4 numbers 0–65535, not all zero, no leading zeros. @param {string} v */
function checkVersion(v) {
  const parts = v.split('.');
  const ok = parts.length <= 4 && parts.every((p) => /^(0|[1-9]\d{0,4})$/.test(p) && Number(p) <= 65535) && parts.some((p) => p !== '0');
  if (!ok) die(`"${v}" is not a Chrome extension version (1 to 4 dot-separated integers 0-65535, e.g. 0.1.1)`);
  return v;
}

/** @param {string} dist */
function readManifest(dist) {
  const file = path.join(dist, 'manifest.json');
  if (!fs.existsSync(file)) die(`${file} is missing: run ./build.sh first`);
  return /** @type {Record<string, unknown>} */ (JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** @param {Record<string, unknown>} manifest */
const manifestBytes = (manifest) => Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);

/**
 * Every file under `dir` as [path with '/', bytes], sorted by path (byte order), so the
 * archive does not depend on the order the file system lists them in.
 * @param {string} dir @returns {Array<[string, Buffer]>}
 */
function filesOf(dir) {
  /** @type {Array<[string, Buffer]>} */
  const out = [];
  /** @param {string} rel */
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push([r, fs.readFileSync(path.join(dir, r))]);
      else die(`${path.join(dir, r)} is neither a file nor a folder`);
    }
  };
  walk('');
  return sorted(out);
}

/** By path, byte order (UTF-8), whatever the locale. @param {Array<[string, Buffer]>} files */
const sorted = (files) => files.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/**
 * A zip of `files` in their order, every entry with the same time and permissions.
 * @param {Array<[string, Buffer]>} files @returns {Buffer}
 */
function zip(files) {
  // Required here, not above: `check` runs before build.sh has installed node_modules.
  const { zipSync } = require('fflate');
  /** @type {import('fflate').Zippable} */
  const tree = {};
  for (const [name, data] of files) {
    // fflate writes entries in the object's key order, which JavaScript keeps as inserted
    // except for keys that look like array indices (those come first, by number).
    if (/^(0|[1-9]\d*)$/.test(name)) die(`a file named ${name} at the top of dist/ would change the archive's order`);
    tree[name] = [data, { level: 9, mtime: ZIP_TIME, os: ZIP_UNIX, attrs: ZIP_MODE }];
  }
  return Buffer.from(zipSync(tree));
}

// Protocol buffers, the few shapes crx3.proto needs: length-delimited fields only.
/** @param {number} n */
function varint(n) {
  const b = [];
  for (; n > 0x7f; n = Math.floor(n / 128)) b.push((n & 0x7f) | 0x80);
  b.push(n);
  return Buffer.from(b);
}
/** @param {number} field @param {Buffer} bytes */
const pbBytes = (field, bytes) => Buffer.concat([varint(field * 8 + 2), varint(bytes.length), bytes]);
/** @param {number} n */
const le32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };

/**
 * A CRX3 file (components/crx_file/crx3.proto): "Cr24", version 3, the header's length and
 * the header, then the zip. The header is a CrxFileHeader with one sha256_with_rsa proof
 * (field 2: AsymmetricKeyProof {1 public_key, 2 signature}) and signed_header_data (field
 * 10000: SignedData {1 crx_id}); the signature covers "CRX3 SignedData\0", the length of
 * signed_header_data (le32), signed_header_data and the zip.
 * @param {Buffer} zipBytes @param {crypto.KeyObject} key
 */
function crx3(zipBytes, key) {
  const pub = publicDer(key);
  const crxId = crypto.createHash('sha256').update(pub).digest().subarray(0, 16);
  const signedData = pbBytes(1, crxId);
  const signature = crypto.sign('sha256', Buffer.concat([Buffer.from('CRX3 SignedData\x00', 'latin1'), le32(signedData.length), signedData, zipBytes]), key);
  const header = Buffer.concat([pbBytes(2, Buffer.concat([pbBytes(1, pub), pbBytes(2, signature)])), pbBytes(10000, signedData)]);
  return Buffer.concat([Buffer.from('Cr24'), le32(3), le32(header.length), header, zipBytes]);
}

/**
 * Empties `out` of earlier release files, so it holds one release; a folder with anything
 * else in it (a mistyped --out naming the home folder) is refused, not emptied.
 * @param {string} out
 */
function clearOut(out) {
  fs.mkdirSync(out, { recursive: true });
  const entries = fs.readdirSync(out);
  const other = entries.filter((n) => !/^(cti-bridge-[^/]*\.(crx|zip)|update\.xml|SHA256SUMS)$/.test(n));
  if (other.length) die(`${out} holds other files than release files (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}): give an empty or release folder with --out`);
  for (const n of entries) fs.rmSync(path.join(out, n));
}

/** @param {string} s */
const xml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/**
 * The folder URL the CRX and update.xml are served from (…/update.xml is read as its folder).
 * @param {string} given
 */
function updateBase(given) {
  let u;
  try { u = new URL(given); } catch (_) { return die(`--update-url ${given} is not a URL`); }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') die(`--update-url ${given} is not http(s)`);
  if (u.search || u.hash) die(`--update-url ${given}: give the folder, without ? or #`);
  if (u.pathname.endsWith('.xml')) u.pathname = u.pathname.replace(/[^/]*$/, '');
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.href;
}

/**
 * Writes the key into dist/manifest.json; returns the id.
 * @param {{dist: string, key?: string}} o
 */
function stamp({ dist, key: given }) {
  const { key, file, dev } = signingKey(given, { loud: false });
  const manifest = readManifest(dist);
  const der = publicDer(key);
  manifest.key = der.toString('base64');
  fs.writeFileSync(path.join(dist, 'manifest.json'), manifestBytes(manifest));
  const id = extensionId(der);
  log(`extension id ${id} (${dev ? 'development key' : 'signing key'} ${file})`);
  return id;
}

/**
 * Writes the release files into `out` (emptied first); returns what it wrote.
 * @param {{dist: string, out: string, key?: string, updateUrl?: string, version?: string}} o
 */
function pack({ dist, out, key: given, updateUrl, version }) {
  const base = updateBase(updateUrl || process.env.CTI_UPDATE_URL || DEFAULT_UPDATE_URL);
  const updateXmlUrl = new URL('update.xml', base).href;
  const { key, file, dev } = signingKey(given, { loud: true });
  const der = publicDer(key);
  const id = extensionId(der);
  const manifest = readManifest(dist);
  // One version for everything: manifest.json's, or the one given (written into the
  // packed manifests only; manifest.json and dist/ stay as they are).
  const v = checkVersion(version || String(manifest.version ?? ''));
  manifest.version = v;
  const files = filesOf(dist).filter(([n]) => n !== 'manifest.json');
  /** dist/'s files with this manifest. @param {Record<string, unknown>} m */
  const withManifest = (m) => zip(sorted([['manifest.json', manifestBytes(m)], ...files]));
  const { key: _unused, ...storeManifest } = manifest;
  const storeZip = withManifest(storeManifest);
  // Chrome checks an extension from outside the store for updates at its manifest's
  // update_url (measured: without it, requestUpdateCheck said no_update and asked no
  // server; the policy's URL served the first install only), and the store refuses one:
  // so the CRX alone carries it.
  const crxZip = withManifest({ ...manifest, key: der.toString('base64'), update_url: updateXmlUrl });
  const crx = crx3(crxZip, key);
  const crxName = `${NAME}-${v}.crx`;
  const zipName = `${NAME}-${v}-store.zip`;
  const codebase = new URL(crxName, base).href;
  const sha = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
  const min = typeof manifest.minimum_chrome_version === 'string' ? ` prodversionmin='${xml(manifest.minimum_chrome_version)}'` : '';
  const updateXml = Buffer.from(`<?xml version='1.0' encoding='UTF-8'?>
<gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>
  <app appid='${id}'>
    <updatecheck codebase='${xml(codebase)}' version='${xml(v)}' hash_sha256='${sha(crx)}'${min} />
  </app>
</gupdate>
`);
  /** @type {Array<[string, Buffer]>} */
  const written = [[crxName, crx], [zipName, storeZip], ['update.xml', updateXml]];
  clearOut(out);
  for (const [n, b] of written) fs.writeFileSync(path.join(out, n), b, { mode: 0o644 });
  const sums = written.map(([n, b]) => `${sha(b)}  ${n}\n`).join('');
  fs.writeFileSync(path.join(out, 'SHA256SUMS'), sums, { mode: 0o644 });
  log(`release ${v} in ${out}${dev ? ' (DEVELOPMENT key)' : ''}:`);
  for (const line of sums.trimEnd().split('\n')) log(`  ${line}`);
  log(`extension id ${id} (key ${file})`);
  log(`update URL ${new URL('update.xml', base).href}${base === DEFAULT_UPDATE_URL ? ' (the placeholder: pass --update-url or CTI_UPDATE_URL)' : ''}`);
  log(`policy: ExtensionInstallForcelist "${id};${new URL('update.xml', base).href}", settings under 3rdparty.extensions.${id}`);
  return { id, version: v, dir: out, crx: path.join(out, crxName), zip: path.join(out, zipName), updateXml: path.join(out, 'update.xml') };
}

/**
 * Checks the options before anything is built, so a typo stops the build at once; reads
 * a key only when one is named (never makes the development key).
 * @param {{key?: string, updateUrl?: string, version?: string}} o
 */
function check({ key, updateUrl, version }) {
  if (updateUrl || process.env.CTI_UPDATE_URL) updateBase(updateUrl || process.env.CTI_UPDATE_URL || '');
  if (version) checkVersion(version);
  if (key || process.env.CTI_SIGNING_KEY) signingKey(key, { loud: false });
}

/** @param {string[]} argv */
function main(argv) {
  const [cmd, ...rest] = argv;
  /** @type {Record<string, string>} */
  const o = {};
  /** @type {Record<string, string[]>} */
  const known = { stamp: ['dist', 'key'], pack: ['dist', 'key', 'out', 'update-url', 'version'], check: ['key', 'update-url', 'version'] };
  if (!Object.hasOwn(known, cmd)) die(`usage: release.js stamp|pack|check [--dist DIR] [--key PEM] [--out DIR] [--update-url URL] [--version V]`);
  for (let i = 0; i < rest.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(rest[i]);
    if (!m || !known[cmd].includes(m[1])) die(`release.js ${cmd}: unknown argument ${rest[i]}`);
    const value = m[2] ?? rest[++i];
    if (value === undefined || value === '') die(`release.js ${cmd}: --${m[1]} needs a value`);
    o[m[1]] = value;
  }
  const dist = path.resolve(o.dist || path.join(ROOT, 'dist'));
  if (cmd === 'check') check({ key: o.key, updateUrl: o['update-url'], version: o.version });
  else if (cmd === 'stamp') stamp({ dist, key: o.key });
  else pack({ dist, out: path.resolve(o.out || path.join(ROOT, 'release')), key: o.key, updateUrl: o['update-url'], version: o.version });
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  }
}

module.exports = { extensionId, crx3, zip, pack, stamp, devKeyPath };
