#!/usr/bin/env bash
# Installs Hermes (the IBC relayer, `ibc-relayer-cli`) once per version: its
# published crate built with its own Cargo.lock (one dependency patched, see
# below) into ~/.cargo/bin/hermes; the build is cached in the tools folder.
# It is a large build (Hermes links the Namada and Penumbra chain support):
# half an hour or more on two cores, so `ci/setup.sh` does not run it;
# `ci/localnet.sh up all` does, the first time the two chains need their IBC
# channel.
#
# Build dependencies (Debian): protobuf-compiler and libprotobuf-dev (the
# well-known types, google/protobuf/*.proto; prost-build in namada_tx) and
# libclang-dev (bindgen in zstd-sys).
#
# Usage: ci/install-hermes.sh   (prints the binary's path on stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

if [ -x "$HERMES" ] && "$HERMES" version 2>/dev/null | grep -q "$HERMES_VERSION"; then
  echo "$HERMES"; exit 0
fi
missing=()
for pkg in protobuf-compiler libprotobuf-dev libclang-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  log "installing Debian packages for Hermes' build: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# `cargo install ibc-relayer-cli` cannot build offline: ibc-relayer enables
# penumbra-sdk-transaction's `download-proving-keys`, whose build script
# fetches Penumbra's proving keys from GitHub LFS (not reachable here). The
# keys are only loaded lazily for Penumbra chains, which we never configure, so
# Hermes is built from its published crate (and its own Cargo.lock) with that
# one dependency patched to skip the download.
log "installing hermes $HERMES_VERSION (ibc-relayer-cli from crates.io, Penumbra key download patched out; a long build)"
start=$(date +%s)
work="$TOOLS_DIR/hermes-$HERMES_VERSION-build"
src="$work/ibc-relayer-cli-$HERMES_VERSION"
mkdir -p "$work"
if [ ! -f "$src/Cargo.lock.published" ]; then
  rm -rf "$src"
  curl -sSfL "https://static.crates.io/crates/ibc-relayer-cli/ibc-relayer-cli-$HERMES_VERSION.crate" |
    tar xz -C "$work" || die "could not download ibc-relayer-cli $HERMES_VERSION from crates.io"
  cp "$src/Cargo.lock" "$src/Cargo.lock.published"
fi
(cd "$src" && cargo fetch --locked --quiet) || die "cargo fetch of Hermes' dependencies failed"
params=$(cd "$src" && cargo metadata --locked --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(next(p["manifest_path"] for p in m["packages"] if p["name"] == "penumbra-sdk-proof-params").rsplit("/", 1)[0])')
patched="$work/penumbra-sdk-proof-params"
if [ ! -d "$patched" ]; then
  cp -r "$params" "$patched.tmp"
  python3 - "$patched.tmp/build.rs" <<'PY' || die "penumbra-sdk-proof-params' build script changed: update the patch in ci/install-hermes.sh"
import sys
p = sys.argv[1]; s = open(p).read()
call = '#[cfg(feature = "download-proving-keys")]\n            download_proving_key(&f)?;'
if call not in s:
    sys.exit(1)
open(p, "w").write(s.replace(call, "// WeValue: no download (offline build; keys unused)"))
PY
  mv "$patched.tmp" "$patched"
fi
grep -q '^\[patch.crates-io\]' "$src/Cargo.toml" ||
  printf '\n[patch.crates-io]\npenumbra-sdk-proof-params = { path = "%s" }\n' "$patched" >> "$src/Cargo.toml"
# The patch changes one lock entry's source; every version stays as published.
(cd "$src" && cargo metadata --offline --format-version 1 >/dev/null) || die "could not apply the patch to Hermes' lock file"
python3 - "$src/Cargo.lock.published" "$src/Cargo.lock" <<'PY' || die "Hermes' dependency versions changed under the patch"
import re, sys
ver = lambda p: sorted(re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', open(p).read()))
sys.exit(0 if ver(sys.argv[1]) == ver(sys.argv[2]) else 1)
PY
# Hermes only relays between two loopback chains here, so the build trades
# peak speed for build time: no LTO, parallel codegen, opt-level 1, no debug
# info (the published profile's fat LTO alone is a large share of the build).
(cd "$src" && PROTOC=/usr/bin/protoc PROTOC_INCLUDE=/usr/include \
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
  cargo build --release --locked --quiet --bin hermes --target-dir "$work/target") >&2 \
  || die "building hermes $HERMES_VERSION failed (log above)"
install -m 0755 "$work/target/release/hermes" "$HERMES"
"$HERMES" version >/dev/null 2>&1 || die "hermes installed but does not run: $HERMES"
log "hermes $HERMES_VERSION installed in $(( $(date +%s) - start ))s: $HERMES"
echo "$HERMES"
