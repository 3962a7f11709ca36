#!/usr/bin/env bash
# Runs every test: builds dist/ (./build.sh), installs Debian's Chromium and ChromeDriver
# if missing, then
#   1. the core under wasm-bindgen-test in headless Chromium (page, worker, service worker),
#   2. the extension end to end: Playwright drives Chromium with dist/ against simulated
#      3CX PBX, DATEV connector and PestRoutes middleware on loopback,
#   3. the core natively (`cargo test --tests`), last, so the final line is its count.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/tools.sh

./build.sh
ensure_chromium

log "core in headless Chromium (wasm-bindgen-test)"
cargo test --target wasm32-unknown-unknown -p cti-core --features browser-tests \
    --test wasm_browser --test wasm_worker --test wasm_service_worker

log "extension end to end in Chromium (Playwright)"
node --test --test-concurrency=1 --test-reporter=spec tests/

log "core natively"
cargo test --tests
