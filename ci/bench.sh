#!/usr/bin/env bash
# Benchmarks that print figures: each contract's `<contract>-gas` example runs
# its optimized artifact in cosmwasm-vm and prints a gas table (and whether
# the targets are met); the relayer prints its embedded-chain throughput,
# the watchtower its voucher accept rate and settlement gas, the solver its
# solve times.
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
log "watchtower benchmark: HTTP accept rate, gas per settled voucher (embedded chain)"
"$TARGET_DIR/debug/examples/watchtower_bench" 2000 4 | tee target/bench/watchtower.md
log "matching solver benchmark: contract-maximum instances (64 offers)"
"$TARGET_DIR/debug/examples/solver_bench" 5 | tee target/bench/solver.md
