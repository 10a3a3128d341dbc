#!/usr/bin/env bash
# The suite on a real chain: a fresh single-node wasmd localnet (its own
# state under target/, so a developer's .localnet is left alone), the
# optimized artifacts stored and instantiated, and each contract's main flow
# driven through CosmJS with exact balance and error checks
# (web/scripts/localnet-suite.mjs). Gas per operation goes to
# target/localnet-gas.md. The chain is stopped on exit, pass or fail.
# Needs: ci/setup.sh (wasmd, web/node_modules) and ci/build-wasm.sh (artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

[ -x "$WASMD" ] || die "wasmd is missing ($WASMD): run ci/setup.sh"
[ -d web/node_modules/@cosmjs/cosmwasm ] || die "web/node_modules is missing: run ci/setup.sh"
for c in $CONTRACTS $REFERENCE_CONTRACTS; do
  [ -f "artifacts/$c.wasm" ] || die "artifacts/$c.wasm is missing: run ci/build-wasm.sh"
done
export WEVALUE_LOCALNET_DIR="$TARGET_DIR/localnet-test"
ci/localnet.sh reset >/dev/null 2>&1 || true
trap 'ci/localnet.sh down >/dev/null 2>&1 || true' EXIT
ci/localnet.sh up city
node web/scripts/localnet-suite.mjs --report "$TARGET_DIR/localnet-gas.md"
