# Shared settings for the ci/ scripts (sourced, not run).
#
# The wasm toolchain is Debian's Rust (`rustc-web`, with the std sources from
# `rust-web-src`) because `rustup target add` cannot download on these
# machines: std is built for wasm32 with build-std. Its target spec names a
# linker `rust-lld` that no Debian package puts on PATH, so the linker is
# named explicitly: LLVM's wasm-ld from the `lld-22` package.
# Also: curl and rsync (scripts), mosquitto (the MQTT broker the data
# gateway reads), chromium (browser tests). Hermes' own build dependencies
# are installed by ci/install-hermes.sh.
DEBIAN_PACKAGES="rustc-web cargo-web rust-web-src lld-22 binaryen python3 curl rsync mosquitto chromium"
WASM_RUSTC=/usr/bin/rustc
WASM_CARGO=/usr/bin/cargo
WASM_RUST_SRC=/usr/lib/rustlib/src/rust/library
WASM_LINKER=/usr/bin/wasm-ld-22
COSMWASM_CHECK_VERSION="2.2.10"
HERMES_VERSION="1.13.2"
HERMES="$HOME/.cargo/bin/hermes"
CAPABILITIES="$(tr -d '[:space:]' < ci/capabilities.txt)"
# Contracts that are built to wasm.
CONTRACTS="data-registry payment-channel token-curated-registry value-contract"
# Reference contract from crates.io, built the same way for gas comparisons.
REFERENCE_CONTRACTS="cw20-base"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

log() { printf '\033[1m[%s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '\033[1;31merror: %s\033[0m\n' "$*" >&2; exit 1; }

# RUSTFLAGS for every wasm build (contracts and the setup probe):
# - the MVP CPU, which every wasmvm 2.x accepts;
# - the linker by absolute path (never a PATH accident);
# - immediate-abort: a panic traps at once, so std's panic formatting and
#   backtrace machinery (about 50 KiB) is not linked in.
WASM_RUSTFLAGS="-C target-cpu=mvp -C linker=$WASM_LINKER -C link-arg=-s -C link-arg=--allow-undefined -Zunstable-options -Cpanic=immediate-abort"

# wasm_cargo ARGS...: Debian's cargo/rustc building for wasm32 with build-std.
wasm_cargo() {
  RUSTC="$WASM_RUSTC" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$WASM_RUSTFLAGS" \
    "$WASM_CARGO" "$@" --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
}

# What the wasm build needs; prints each missing piece and fails if any is.
check_wasm_toolchain() {
  local missing=()
  [ -x "$WASM_RUSTC" ] || missing+=("$WASM_RUSTC (Debian package rustc-web)")
  [ -x "$WASM_CARGO" ] || missing+=("$WASM_CARGO (Debian package cargo-web)")
  [ -d "$WASM_RUST_SRC" ] || missing+=("$WASM_RUST_SRC (Debian package rust-web-src)")
  [ -x "$WASM_LINKER" ] || missing+=("$WASM_LINKER (Debian package lld-22)")
  command -v wasm-opt >/dev/null || missing+=("wasm-opt (Debian package binaryen)")
  command -v cosmwasm-check >/dev/null || missing+=("cosmwasm-check (cargo install cosmwasm-check@$COSMWASM_CHECK_VERSION)")
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'missing: %s\n' "${missing[@]}" >&2
    die "the wasm toolchain is incomplete: run ci/setup.sh"
  fi
}

# Host rustfmt/clippy: rustup's components where present, else Debian's
# rustfmt-web / rust-web-clippy, which belong to Debian's rustc (so clippy
# then builds with it, in its own target dir).
host_fmt() {
  if cargo fmt --version >/dev/null 2>&1; then
    cargo fmt "$@"
  else
    RUSTFMT=/usr/bin/rustfmt CARGO="$WASM_CARGO" /usr/bin/cargo-fmt fmt "$@"
  fi
}
host_clippy() {
  if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy "$@"
  else
    # Subcommands are looked up on PATH, where rustup's proxies come first:
    # call Debian's cargo-clippy by path (it finds clippy-driver beside it).
    RUSTC="$WASM_RUSTC" CARGO="$WASM_CARGO" CARGO_TARGET_DIR="$TARGET_DIR/debian" \
      /usr/bin/cargo-clippy clippy "$@"
  fi
}

# npm_ci DIR: installs DIR's npm packages exactly as locked; skipped while
# node_modules matches package-lock.json.
npm_ci() {
  local dir=$1 stamp want
  stamp="$dir/node_modules/.wevalue-lock.sha256"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
}

# Tools built from source once per machine and version (wasmd; hermes is a
# cargo install). Not in the repository, not on PATH: scripts use the paths.
TOOLS_DIR="${WEVALUE_TOOLS_DIR:-$HOME/.cache/wevalue/tools}"
WASMD_VERSION="v0.61.14"
WASMD="$TOOLS_DIR/wasmd-$WASMD_VERSION/bin/wasmd"
# wasmvm's libwasmvm is found by rpath in the Go module cache, or beside the
# binary (ci/install-wasmd.sh copies it there).
export LD_LIBRARY_PATH="$TOOLS_DIR/wasmd-$WASMD_VERSION/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
