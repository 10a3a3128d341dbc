#!/usr/bin/env bash
# The main job until the relayer's `devnet` lands: set up the toolchain,
# build the deployable artifacts, and print their sizes, checksums and the
# gas each contract uses in cosmwasm-vm.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
ci/setup.sh
ci/build-wasm.sh
log "checksums (artifacts/checksums.txt)"
cat artifacts/checksums.txt
ci/bench.sh
