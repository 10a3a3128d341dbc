#!/usr/bin/env bash
# Installs the CosmJS packages that the relayer's cross-check test runs
# (relayer/tests/cosmjs_vectors.rs), exactly as locked in package-lock.json.
# Idempotent: skips `npm ci` while node_modules matches the lock file, and
# installs Debian's nodejs/npm only when node is missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  echo "relayer/tests/cosmjs/setup.sh: installing nodejs and npm (Debian)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

stamp=node_modules/.wevalue-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d node_modules/@cosmjs/proto-signing ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
echo "relayer/tests/cosmjs: CosmJS installed ($(node --version))" >&2
