#!/usr/bin/env bash
# Installs everything the build and tests need; safe to run again (each step
# checks before it installs). Debian packages: Debian's Rust with the std
# sources (the wasm32 target is built from them with build-std, since
# `rustup target add` cannot download here), a wasm linker and wasm-opt.
# Cargo tools: cosmwasm-check, the same VM version the tests embed.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_debs=()
for pkg in $DEBIAN_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_debs+=("$pkg")
done
if [ ${#need_debs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_debs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null
fi

# The host toolchain runs tests, fmt and clippy.
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    log "adding rustup component $comp"
    rustup component add "$comp"
  fi
done

if ! cargo install --list | grep -q "^cosmwasm-check v$COSMWASM_CHECK_VERSION:"; then
  log "installing cosmwasm-check $COSMWASM_CHECK_VERSION (compiles wasmer: a few minutes)"
  cargo install --locked --quiet "cosmwasm-check@$COSMWASM_CHECK_VERSION"
fi
# CosmJS, for the relayer's byte-for-byte signing cross-check (npm ci,
# skipped while node_modules matches the lock file).
relayer/tests/cosmjs/setup.sh

log "setup complete: $(/usr/bin/rustc --version), $(wasm-opt --version), cosmwasm-check $COSMWASM_CHECK_VERSION"
