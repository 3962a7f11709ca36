#!/usr/bin/env bash
# Runs every test: builds dist/ (./build.sh), installs Debian's Chromium and ChromeDriver
# if missing, then
#   1. static checks: cargo fmt, clippy (native and wasm32), the JS type check (tsc) and
#      lint (eslint) over extension/, tests/ and scripts/; any finding fails the run,
#   2. the core under wasm-bindgen-test in headless Chromium (page, worker, service worker),
#   3. the install path and the extension end to end: Playwright drives Chromium with dist/
#      against simulated 3CX PBX, DATEV connector and PestRoutes middleware on loopback,
#   4. the core natively (`cargo test --tests`), last, so the final line is its count.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/tools.sh

./build.sh
ensure_chromium

log "static checks: rustfmt, clippy, tsc, eslint"
cargo fmt --check
cargo clippy -q --all-targets -- -D warnings
# The wasm32 build includes the browser test suites, so their helpers are linted too.
cargo clippy -q --all-targets --target wasm32-unknown-unknown -p cti-core --features browser-tests -- -D warnings
node_modules/.bin/tsc -p tsconfig.json
node_modules/.bin/tsc -p tests/tsconfig.json
node_modules/.bin/eslint --max-warnings 0 extension tests scripts eslint.config.js

log "core in headless Chromium (wasm-bindgen-test)"
cargo test --target wasm32-unknown-unknown -p cti-core --features browser-tests \
    --test wasm_browser --test wasm_worker --test wasm_service_worker

log "install path, and the extension end to end in Chromium (Playwright)"
node --test --test-concurrency=1 --test-reporter=spec tests/

log "core natively"
cargo test --tests
