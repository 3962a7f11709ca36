// A self-signed certificate for the test hosts (*.test), made with openssl once per run,
// so hostile cases can use real second https origins (Chromium maps *.test to 127.0.0.1
// with --host-resolver-rules and accepts the certificate with --ignore-certificate-errors).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

/** @type {{key: string, cert: string} | null} */
let made = null;

function testCertificate() {
  if (made) return made;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=pbx.test', '-addext', 'subjectAltName=DNS:*.test,DNS:pbx.test,DNS:evil.test,DNS:*.pestroutes.com'], { stdio: 'ignore' });
  made = { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
  fs.rmSync(dir, { recursive: true, force: true });
  return made;
}

/** Chromium arguments that make *.test and *.pestroutes.com resolve to 127.0.0.1 and accept the test certificate. */
const TEST_HOST_ARGS = ['--host-resolver-rules=MAP *.test 127.0.0.1, MAP *.pestroutes.com 127.0.0.1', '--ignore-certificate-errors'];

module.exports = { testCertificate, TEST_HOST_ARGS };
