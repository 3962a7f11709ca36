# Sourced by build.sh and test.sh: installs what the build and the tests need, and skips
# whatever is already there. Everything comes from the package registries this project
# may use (crates.io, npm, Debian).

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*"; return 1; fi
}

ensure_rust_target() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        log "adding Rust target wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown
    fi
}

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
    local want have
    want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
    have=""
    if command -v wasm-bindgen >/dev/null 2>&1; then have=$(wasm-bindgen --version | awk '{print $2}') || have=""; fi
    if [ "$have" != "$want" ]; then
        log "installing wasm-bindgen-cli $want (found: ${have:-none}); takes a few minutes"
        # Not --locked: the registry mirror lacks a version its lock file names.
        cargo install wasm-bindgen-cli --version "$want"
    fi
}

# node_modules as package-lock.json says (binaryen's wasm-opt, playwright-core, ws, jQuery UI).
ensure_npm() {
    if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null &&
       ! node -e 'const a=require("./package-lock.json").packages,b=require("./node_modules/.package-lock.json").packages;for(const k in a){if(k&&(!b[k]||b[k].version!==a[k].version))process.exit(1)}' 2>/dev/null; then
        log "installing npm packages (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error
    fi
}

# Debian's Chromium and ChromeDriver (Playwright's own browser download cannot work here).
ensure_chromium() {
    if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null; then
        log "installing Debian's chromium and chromium-driver"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
}
