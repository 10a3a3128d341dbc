#!/usr/bin/env bash
# Installs everything the build and tests need, then proves the toolchain
# works; safe to run again (each step checks before it installs).
#
# - Debian packages: Debian's Rust with the std sources (the wasm32 target is
#   built from them with build-std, since `rustup target add` cannot
#   download here), LLVM's wasm linker and wasm-opt.
# - rustfmt and clippy for the host toolchain: rustup's components, or
#   Debian's rustfmt-web / rust-web-clippy when rustup cannot download them.
# - cosmwasm-check, the same VM version the tests embed.
# - CosmJS (npm), for the relayer's signing cross-check.
# It ends by building and linking a tiny wasm with the contracts' flags and
# fails with a message naming what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
apt_updated=""
apt_install() {
  local need=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
  done
  [ ${#need[@]} -gt 0 ] || return 0
  log "installing Debian packages: ${need[*]}"
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

apt_install $DEBIAN_PACKAGES

# The host toolchain runs tests, fmt and clippy. rustup may be unable to
# download components; Debian's builds of the same tools are the fallback
# (ci/lib.sh's host_fmt/host_clippy pick whichever works).
if ! cargo fmt --version >/dev/null 2>&1; then
  rustup component add rustfmt 2>/dev/null || apt_install rustfmt-web
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add clippy 2>/dev/null || apt_install rust-web-clippy
fi

if ! cargo install --list | grep -q "^cosmwasm-check v$COSMWASM_CHECK_VERSION:"; then
  log "installing cosmwasm-check $COSMWASM_CHECK_VERSION (compiles wasmer: a few minutes)"
  cargo install --locked --quiet "cosmwasm-check@$COSMWASM_CHECK_VERSION"
fi
# The chain node of the localnet (ci/localnet.sh): wasmd, built from the Go
# module proxy once per machine and version (ci/install-wasmd.sh).
ci/install-wasmd.sh >/dev/null
# Hermes (IBC) is a half-hour build that only the two-chain localnet needs:
# ci/install-hermes.sh, run by `ci/localnet.sh up all` on first use.

# CosmJS, for the relayer's byte-for-byte signing cross-check (npm ci,
# skipped while node_modules matches the lock file).
relayer/tests/cosmjs/setup.sh
# The web package: ts-codegen and TypeScript for the client check.
npm_ci web

# Prove the toolchain: every tool present, then a tiny wasm built and linked
# exactly as the contracts are (std from source, wasm-ld by path).
log "checking the toolchain"
check_wasm_toolchain
host_fmt --version >/dev/null 2>&1 || die "no rustfmt: neither rustup's component nor Debian's rustfmt-web works"
host_clippy --version >/dev/null 2>&1 || die "no clippy: neither rustup's component nor Debian's rust-web-clippy works"
probe_log="$TARGET_DIR/wasm-probe.log"
mkdir -p "$TARGET_DIR"
if ! (CARGO_TARGET_DIR="$TARGET_DIR/wasm-probe" wasm_cargo build --release --quiet \
  --manifest-path ci/wasm-probe/Cargo.toml) >"$probe_log" 2>&1; then
  cat "$probe_log" >&2
  die "the wasm toolchain cannot build and link a wasm library (log above); linker: $WASM_LINKER, rustc: $($WASM_RUSTC --version 2>&1)"
fi
probe="$TARGET_DIR/wasm-probe/wasm32-unknown-unknown/release/wasm_probe.wasm"
python3 ci/check-exports.py "$probe" probe >/dev/null || die "the probe wasm lacks its export"
wasm-opt -Os "$probe" -o "$TARGET_DIR/wasm-probe/probe.opt.wasm" || die "wasm-opt cannot read the probe wasm"

"$WASMD" version >/dev/null 2>&1 || die "wasmd ($WASMD) does not run: run ci/install-wasmd.sh and read its error"
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || die "mosquitto is missing (Debian package mosquitto)"
[ -x /usr/bin/chromium ] || die "chromium is missing (Debian package chromium)"

log "setup complete: $($WASM_RUSTC --version), $(wasm-opt --version), cosmwasm-check $COSMWASM_CHECK_VERSION, $(host_clippy --version), wasmd $("$WASMD" version 2>&1)"
