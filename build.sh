#!/usr/bin/env bash
# Builds the unpacked extension into dist/ (load it from chrome://extensions with
# "Load unpacked"). Installs the Rust wasm target, wasm-bindgen-cli and npm tools first
# when they are missing.
#
#   ./build.sh [--key KEY.pem]                      dist/ only
#   ./build.sh --release [--key KEY.pem] [--update-url URL] [--version V]
#                                                   dist/, then release/: the store zip, the
#                                                   signed CRX, update.xml and SHA256SUMS
#
# dist/manifest.json carries the signing key's public half ("key"), so the unpacked folder
# has the same id as the CRX on every PC. The key: --key, else $CTI_SIGNING_KEY, else a
# development key made once outside the project (scripts/release.js says where). The
# update server's folder: --update-url, else $CTI_UPDATE_URL, else the README's
# placeholder https://updates.example.com/cti-bridge/. The version is manifest.json's;
# --version V packs another one (manifest.json and dist/ stay as they are).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/tools.sh

release=0 key="" update_url="" version=""
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --release) release=1 ;;
        --key|--update-url|--version)
            [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (./build.sh --help)"
            case "$1" in --key) key=$2 ;; --update-url) update_url=$2 ;; --version) version=$2 ;; esac
            shift ;;
        --key=*) key=${1#*=} ;;
        --update-url=*) update_url=${1#*=} ;;
        --version=*) version=${1#*=} ;;
        -h|--help) usage ;;
        *) die "unknown argument $1 (./build.sh --help)" ;;
    esac
    shift
done
if [ "$release" = 0 ] && { [ -n "$update_url" ] || [ -n "$version" ]; }; then
    die "--update-url and --version are for --release builds"
fi
command -v node >/dev/null || die "node not found: install Node.js 20 or newer"
# A bad key, URL or version stops the build now, not after the compile.
node scripts/release.js check ${key:+--key "$key"} ${update_url:+--update-url "$update_url"} ${version:+--version "$version"}

ensure_rust_target
ensure_wasm_bindgen
ensure_npm

log "compiling the core to WebAssembly"
cargo build --quiet --profile wasm --lib --target wasm32-unknown-unknown -p cti-core
# Where cargo put it: CARGO_TARGET_DIR or a cargo config may move the target directory.
target_dir=$(cargo metadata --format-version 1 --no-deps --quiet |
    node -e 'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => process.stdout.write(JSON.parse(s).target_directory))')
raw="$target_dir/wasm32-unknown-unknown/wasm/cti_core.wasm"
[ -f "$raw" ] || die "the build left no $raw"

rm -rf dist
mkdir -p dist/wasm
wasm-bindgen --target web --out-dir dist/wasm --out-name cti_core "$raw"
# The generated types are for the type check (tsconfig.json), not for the browser; they
# stay in ./target whatever cargo's target directory is.
rm -rf target/wasm-types && mkdir -p target/wasm-types/wasm && mv dist/wasm/*.d.ts target/wasm-types/wasm/
bindgen_size=$(stat -c %s dist/wasm/cti_core_bg.wasm)
# binaryen from npm (Debian's wasm-opt 108 breaks the externref table).
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    dist/wasm/cti_core_bg.wasm -o dist/wasm/cti_core_bg.wasm
cp manifest.json dist/
cp -r extension/. dist/

# The service worker ships as one classic script (manifest.json declares no "type":
# "module"): a stopped worker that Chrome starts loads one file instead of a graph of
# modules, and starts sooner as a classic script than as a module (measured in pairs while
# the worker was still on the frame's path: about 5 and 10 ms, tests/bench figure c; now
# it serves the document's stores and status, off that path). The sources stay one module
# per browser role; the pages (popup, options,
# offscreen) still import the modules they share. The glue's `import.meta.url` fallback is
# never taken (worker-doc.js passes the .wasm's URL), so its warning is silenced. The
# modules were strict; the script stays strict because tsconfig.json's "strict" makes
# esbuild put "use strict" first, which is checked below.
node_modules/.bin/esbuild dist/worker.js --bundle --format=iife --tsconfig=tsconfig.json \
    --log-level=warning --log-override:empty-import-meta=silent \
    --allow-overwrite --outfile=dist/worker.js
[ "$(head -n 1 dist/worker.js)" = '"use strict";' ] || die "dist/worker.js is not strict mode: esbuild did not put \"use strict\" first"
rm dist/worker-*.js dist/screenpop.js

# The key's public half into dist/manifest.json: a fixed id instead of one derived from
# the folder's path. It prints the id.
node scripts/release.js stamp --dist dist ${key:+--key "$key"}

opt_size=$(stat -c %s dist/wasm/cti_core_bg.wasm)
log "wasm size: $opt_size bytes optimised (wasm-opt -Oz), $bindgen_size bytes before"
log "extension ready to load unpacked: $(pwd)/dist"

if [ "$release" = 1 ]; then
    node scripts/release.js pack --dist dist --out release ${key:+--key "$key"} \
        ${update_url:+--update-url "$update_url"} ${version:+--version "$version"}
    log "release files in $(pwd)/release (upload the -store.zip to the stores; serve the .crx and update.xml from the update URL)"
fi
