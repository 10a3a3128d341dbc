#!/usr/bin/env bash
# Installs Hermes (the IBC relayer, `ibc-relayer-cli`) once per version, with
# `cargo install --locked`. It is a large build (Hermes links the Namada and
# Penumbra chain support as well): half an hour or more on two cores, so
# `ci/setup.sh` does not run it; `ci/localnet.sh up all` does, the first time
# the two chains need their IBC channel.
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
log "installing hermes $HERMES_VERSION (cargo install ibc-relayer-cli; a long build)"
start=$(date +%s)
PROTOC=/usr/bin/protoc PROTOC_INCLUDE=/usr/include cargo install --locked --quiet "ibc-relayer-cli@$HERMES_VERSION" --bin hermes >&2 \
  || die "cargo install ibc-relayer-cli@$HERMES_VERSION failed (log above)"
"$HERMES" version >/dev/null 2>&1 || die "hermes installed but does not run: $HERMES"
log "hermes $HERMES_VERSION installed in $(( $(date +%s) - start ))s: $HERMES"
echo "$HERMES"
