#!/usr/bin/env bash
# Regenerates schema/<contract>.json from each contract's message types.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
mkdir -p schema
for name in $CONTRACTS; do
  has_entry_points "$name" || continue
  cargo run --locked --quiet -p "$name" --bin schema
done
