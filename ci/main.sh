#!/usr/bin/env bash
# The main job: set up the toolchain, build the deployable artifacts (their
# checksums are the code checksums the devnet records), then run
# `relayer devnet`: the embedded chain, the whole suite, the relayer services
# and the smart-city scenario end to end, with a report. Arguments go to
# `devnet` (e.g. `ci/main.sh --serve`, `ci/main.sh --vouchers 20000`).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
ci/setup.sh
ci/build-wasm.sh
log "checksums (artifacts/checksums.txt)"
cat artifacts/checksums.txt
log "relayer devnet"
cargo run --release --locked -p relayer -- devnet "$@"
