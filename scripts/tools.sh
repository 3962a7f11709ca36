# Sourced by build.sh and test.sh: installs what the build and the tests need, says what it
# installs, skips whatever is already there, and stops with the reason when a step fails.
# Everything comes from the package registries this project may use (crates.io, npm,
# Debian).

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# `cargo install` puts programs in $CARGO_INSTALL_ROOT/bin (default: $CARGO_HOME/bin).
export PATH="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin:$PATH"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root (or sudo) for: $*"; fi
}

ensure_rust_target() {
    command -v rustup >/dev/null || die "rustup not found: install Rust with rustup (https://rustup.rs), it provides the wasm32 target"
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        log "adding Rust target wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown || die "rustup could not add the wasm32-unknown-unknown target (see above)"
    fi
}

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
    local want have=""
    want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
    [ -n "$want" ] || die "Cargo.lock names no wasm-bindgen version"
    if command -v wasm-bindgen >/dev/null 2>&1; then have=$(wasm-bindgen --version | awk '{print $2}') || have=""; fi
    if [ "$have" != "$want" ]; then
        command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
        log "installing wasm-bindgen-cli $want (found: ${have:-none}) into ${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}; takes a few minutes"
        # Not --locked: the registry mirror lacks a version its lock file names.
        cargo install wasm-bindgen-cli --version "$want" || die "cargo install wasm-bindgen-cli $want failed (see above)"
        have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}') || have=""
        [ "$have" = "$want" ] || die "wasm-bindgen $want was installed but the one on PATH is ${have:-missing}"
    fi
}

# node_modules as package-lock.json says (binaryen's wasm-opt, esbuild, playwright-core, ws,
# jQuery UI, TypeScript, ESLint).
ensure_npm() {
    command -v npm >/dev/null || die "npm not found: install Node.js 20 or newer"
    # Installed means: every locked package at its version, except optional ones for another
    # system or CPU, which npm leaves out (esbuild's binaries for other platforms).
    if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null &&
       ! node -e 'const a=require("./package-lock.json").packages,b=require("./node_modules/.package-lock.json").packages;const other=(p)=>p.optional&&((p.os&&!p.os.includes(process.platform))||(p.cpu&&!p.cpu.includes(process.arch)));for(const k in a){if(k&&!(other(a[k])&&!b[k])&&(!b[k]||b[k].version!==a[k].version))process.exit(1)}' 2>/dev/null; then
        log "installing npm packages (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed (see above)"
    fi
}

# Debian's Chromium, ChromeDriver and its language packs (the German UI tests need de.pak;
# Playwright's own browser download cannot work here). $CHROMIUM names another browser
# binary (the tests' harness reads it too); its language packs are then its own affair.
ensure_chromium() {
    if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || ! command -v chromedriver >/dev/null ||
       { [ -z "${CHROMIUM:-}" ] && [ ! -f /usr/lib/chromium/locales/de.pak ]; }; then
        log "installing Debian's chromium, chromium-driver and chromium-l10n"
        command -v apt-get >/dev/null || die "apt-get not found: install Chromium and ChromeDriver (Debian packages chromium, chromium-driver, chromium-l10n)"
        as_root apt-get update -qq || die "apt-get update failed (see above)"
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver chromium-l10n >/dev/null ||
            die "apt-get could not install chromium, chromium-driver and chromium-l10n (see above)"
    fi
}
