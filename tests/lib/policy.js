// Administrator policy for the tests. Debian's Chromium reads
// /etc/chromium/policies/managed/*.json; the extension's settings go under
// `3rdparty.extensions.<id>` (its storage.managed_schema). Writing there needs root.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const POLICY_DIR = '/etc/chromium/policies/managed';

/** Chrome's id from bytes: the first 16 bytes of their sha256 in hex, a–p for 0–f. @param {Buffer | string} bytes */
function idOf(bytes) {
  const hex = crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

/** The id of a manifest's `key` (base64 DER SubjectPublicKeyInfo). @param {string} key */
const keyId = (key) => idOf(Buffer.from(key, 'base64'));

/**
 * Chrome's id for an extension loaded unpacked from `dir`: that of its manifest's `key`
 * when it has one (build.sh writes the signing key's into dist/, so dist/ has the CRX's id
 * on every PC), else derived from the folder's absolute path (the bench's bare relay, a
 * hostile neighbour).
 * @param {string} dir
 */
function unpackedId(dir) {
  const { key } = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return typeof key === 'string' ? keyId(key) : idOf(fs.realpathSync(dir));
}

const canWrite = (() => {
  try { fs.mkdirSync(POLICY_DIR, { recursive: true }); fs.accessSync(POLICY_DIR, fs.constants.W_OK); return true; } catch (_) { return false; }
})();

module.exports = { POLICY_DIR, canWrite, unpackedId, keyId, idOf };
