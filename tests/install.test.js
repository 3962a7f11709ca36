// The install path of build.sh and test.sh (scripts/tools.sh), run the way a fresh PC
// runs it: a PATH that has Rust, Node and the system tools but none of the project's tools,
// an empty CARGO_INSTALL_ROOT, a project copy without node_modules. Each install step must
// install what is missing, and each failure must say why.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const TOOLS = path.join(ROOT, 'scripts', 'tools.sh');

/** A bin folder with only the named programs (links to the real ones). @param {string[]} names */
function binWith(names) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-bin-'));
  for (const name of names) {
    const real = execFileSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    fs.symlinkSync(real, path.join(dir, name));
  }
  return dir;
}

/**
 * Runs one install function of tools.sh in `cwd` with exactly this PATH.
 * @param {string} fn @param {{cwd?: string, pathDirs: string[], env?: Record<string, string>}} o
 */
function run(fn, { cwd = ROOT, pathDirs, env = {} }) {
  const r = spawnSync('/bin/bash', ['-c', `set -euo pipefail; . "${TOOLS}"; ${fn}`], {
    cwd,
    encoding: 'utf8',
    // stdin not a socket: bash would take that for a remote shell and read ~/.bashrc,
    // which puts the developer's own tool folders back on PATH.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { HOME: os.homedir(), PATH: pathDirs.join(':'), ...env },
    timeout: 20 * 60 * 1000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const SYSTEM = ['/usr/bin', '/bin'];
const wantBindgen = /name = "wasm-bindgen"\nversion = "([^"]+)"/.exec(fs.readFileSync(path.join(ROOT, 'Cargo.lock'), 'utf8'))?.[1];

test('no cargo on PATH: the wasm-bindgen step says why', () => {
  const bin = binWith(['node', 'npm']);
  const r = run('ensure_wasm_bindgen', { pathDirs: [bin, '/bin'], env: { CARGO_INSTALL_ROOT: fs.mkdtempSync(path.join(os.tmpdir(), 'cti-root-')) } });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /error: cargo not found: install Rust/);
});

test('no apt-get and no Chromium: the Chromium step says why', () => {
  const r = run('ensure_chromium', { pathDirs: [binWith(['id'])], env: { CHROMIUM: '/nonexistent/chromium' } });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /error: apt-get not found/);
});

test('a failing apt-get stops with the reason', () => {
  // Pretend Chromium is missing (no chromedriver on PATH) and apt-get fails.
  const stub = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-apt-'));
  fs.writeFileSync(path.join(stub, 'apt-get'), '#!/bin/sh\necho "E: Unable to locate package chromium" >&2\nexit 100\n', { mode: 0o755 });
  const r = run('ensure_chromium', { pathDirs: [stub, binWith(['id'])], env: { CHROMIUM: '/nonexistent/chromium' } });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /error: apt-get update failed|error: apt-get could not install chromium/);
});

test('npm packages are installed into a project without node_modules', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-npm-'));
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  const r = run('ensure_npm', { cwd: dir, pathDirs: [binWith(['node', 'npm']), ...SYSTEM] });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /installing npm packages \(npm ci\)/);
  const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
  const installed = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'playwright-core', 'package.json'), 'utf8'));
  assert.equal(installed.version, lock.packages['node_modules/playwright-core'].version);
  // A second run skips what is there.
  const again = run('ensure_npm', { cwd: dir, pathDirs: [binWith(['node', 'npm']), ...SYSTEM] });
  assert.equal(again.code, 0);
  assert.doesNotMatch(again.out, /installing/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('wasm-bindgen-cli is installed into an empty CARGO_INSTALL_ROOT at the version in Cargo.lock', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-root-'));
  // Rust (cargo, rustc, rustup) and a C toolchain, but no wasm-bindgen anywhere on PATH.
  const bin = binWith(['cargo', 'rustc', 'rustup']);
  const r = run('ensure_wasm_bindgen', { pathDirs: [bin, ...SYSTEM], env: { CARGO_INSTALL_ROOT: root } });
  assert.equal(r.code, 0, r.out.slice(-2000));
  assert.match(r.out, new RegExp(`installing wasm-bindgen-cli ${wantBindgen} \\(found: none\\)`));
  const v = execFileSync(path.join(root, 'bin', 'wasm-bindgen'), ['--version'], { encoding: 'utf8' });
  assert.equal(v.trim(), `wasm-bindgen ${wantBindgen}`);
  // Found on the next run through CARGO_INSTALL_ROOT, and not installed again.
  const again = run('ensure_wasm_bindgen', { pathDirs: [bin, ...SYSTEM], env: { CARGO_INSTALL_ROOT: root } });
  assert.equal(again.code, 0);
  assert.doesNotMatch(again.out, /installing/);
  fs.rmSync(root, { recursive: true, force: true });
});
