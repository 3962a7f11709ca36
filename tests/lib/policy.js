// Administrator policy for the tests. Debian's Chromium reads
// /etc/chromium/policies/managed/*.json; the extension's settings go under
// `3rdparty.extensions.<id>` (its storage.managed_schema). Writing there needs root.
'use strict';
const fs = require('node:fs');
const crypto = require('node:crypto');

const POLICY_DIR = '/etc/chromium/policies/managed';

// Chrome's id for an unpacked extension: sha256 of its absolute path, a–p for 0–f.
/** @param {string} dir */
function unpackedId(dir) {
  const hex = crypto.createHash('sha256').update(fs.realpathSync(dir)).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
}

const canWrite = (() => {
  try { fs.mkdirSync(POLICY_DIR, { recursive: true }); fs.accessSync(POLICY_DIR, fs.constants.W_OK); return true; } catch (_) { return false; }
})();

module.exports = { POLICY_DIR, canWrite, unpackedId };
