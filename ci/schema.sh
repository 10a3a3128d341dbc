#!/usr/bin/env bash
# Regenerates schema/<contract>.json from each contract's message types.
# All schema writers are built in one workspace build (the same feature
# resolution as the tests, so nothing is compiled again), then run.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
mkdir -p schema
cargo build --workspace --bins --examples --locked --quiet
for name in $CONTRACTS; do
  "$TARGET_DIR/debug/$name-schema"
done
