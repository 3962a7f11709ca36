// e. The shipped .wasm's size, and where the bytes are (twiggy). dist's module has no
// names (wasm-opt --strip-debug), so twiggy reads a copy built from the same compiler
// output with build.sh's wasm-opt flags plus -g: the same code, with function names.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { DIST } = require('../lib/harness');

const ROOT = path.resolve(__dirname, '..', '..');
const TWIGGY_VERSION = '0.8.0';
const TWIGGY_ROOT = path.join(ROOT, 'target', 'tools', `twiggy-${TWIGGY_VERSION}`);
const RAW = path.join(ROOT, 'target', 'wasm32-unknown-unknown', 'wasm', 'cti_core.wasm');
// Kept equal to build.sh's wasm-opt line, with -g instead of --strip-debug.
const OPT_FLAGS = ['-Oz', '-g', '--strip-producers', '--enable-bulk-memory', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue'];

/** @param {string} cmd @param {string[]} args @param {object} [opts] */
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

/** twiggy from $TWIGGY, target/tools, PATH, or installed into target/tools (once). @returns {string | null} */
function twiggy() {
  const local = path.join(TWIGGY_ROOT, 'bin', 'twiggy');
  for (const t of [process.env.TWIGGY, local, 'twiggy']) {
    if (!t) continue;
    try { run(t, ['--version']); return t; } catch (_) { /* next */ }
  }
  if (process.env.BENCH_TWIGGY === '0') { console.log('e. twiggy: not found, install skipped (BENCH_TWIGGY=0)'); return null; }
  console.log(`e. twiggy: not found; installing ${TWIGGY_VERSION} into ${path.relative(ROOT, TWIGGY_ROOT)} (once, a few minutes)`);
  try {
    run('cargo', ['install', 'twiggy', '--version', TWIGGY_VERSION, '--locked', '-j', '1'], {
      env: { ...process.env, CARGO_INSTALL_ROOT: TWIGGY_ROOT, CARGO_TARGET_DIR: path.join(os.tmpdir(), 'cti-twiggy-build') },
    });
    return local;
  } catch (e) {
    const err = /** @type {{stderr?: string, message: string}} */ (e);
    console.log(`e. twiggy: cannot be installed: ${(err.stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
}

function sizeBench() {
  const file = path.join(DIST, 'wasm', 'cti_core_bg.wasm');
  const shipped = fs.statSync(file).size;
  console.log(`e. dist/wasm/cti_core_bg.wasm (wasm-opt -Oz, stripped): ${shipped} bytes = ${(shipped / 1000).toFixed(1)} KB`);
  const t = twiggy();
  if (!t) return { shipped };
  if (!fs.existsSync(RAW)) { console.log(`e. twiggy: ${path.relative(ROOT, RAW)} is missing (run ./build.sh)`); return { shipped }; }
  if (fs.statSync(RAW).mtimeMs > fs.statSync(file).mtimeMs) console.log('e. warning: the compiler output is newer than dist/ (run ./build.sh): twiggy may not show the shipped code');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cti-twiggy-'));
  try {
    run('wasm-bindgen', ['--target', 'web', '--out-dir', dir, '--out-name', 'cti_core', RAW]);
    const named = path.join(dir, 'named.wasm');
    run(path.join(ROOT, 'node_modules', '.bin', 'wasm-opt'), [...OPT_FLAGS, path.join(dir, 'cti_core_bg.wasm'), '-o', named]);
    const size = fs.statSync(named).size;
    console.log(`e. twiggy ${TWIGGY_VERSION} on a copy with names (build.sh's wasm-opt flags, -g instead of --strip-debug): ${size} bytes; `
      + 'its "function names" subsection is what dist/ strips, the rest is the shipped code');
    for (const [label, extra] of /** @type {Array<[string, string[]]>} */ ([['retained', ['--retained']], ['shallow', []]])) {
      console.log(`e. twiggy top -n 15${extra.map((x) => ` ${x}`).join('')} (top 15 items by ${label} size):`);
      const table = run(t, ['top', '-n', '15', ...extra, named]);
      for (const line of table.trimEnd().split('\n')) console.log(`e.   ${line}`);
    }
  } catch (e) {
    console.log(`e. twiggy: failed: ${/** @type {Error} */ (e).message.split('\n')[0]}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { shipped };
}

module.exports = { sizeBench };
