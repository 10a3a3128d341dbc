#!/usr/bin/env bash
# Benchmarks that print figures: each contract's `<contract>-gas` example runs
# its optimized artifact in cosmwasm-vm and prints a gas table (and whether
# the targets are met); the relayer's prints its embedded-chain throughput.
# Needs artifacts/ (ci/build-wasm.sh). Everything is built in one workspace
# build (the same feature resolution as the tests), then run.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
mkdir -p target/bench
cargo build --workspace --bins --examples --locked --quiet
for name in $CONTRACTS; do
  [ -f "contracts/$name/examples/vm_bench.rs" ] || continue
  log "gas benchmark: $name"
  "$TARGET_DIR/debug/examples/$name-gas" | tee "target/bench/$name.md"
done
log "throughput benchmark: relayer (embedded chain)"
"$TARGET_DIR/debug/examples/bench_embedded" | tee target/bench/relayer.md
