#!/usr/bin/env bash
# Gas benchmarks: each contract's `vm_bench` example runs its optimized
# artifact in cosmwasm-vm and prints a gas table (and whether the targets
# are met). Needs artifacts/ (ci/build-wasm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
mkdir -p target/bench
for name in $CONTRACTS; do
  [ -f "contracts/$name/examples/vm_bench.rs" ] || continue
  log "gas benchmark: $name"
  cargo run --locked --quiet -p "$name" --example vm_bench | tee "target/bench/$name.md"
done
