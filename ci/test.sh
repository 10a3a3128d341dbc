#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
# setup, fmt, clippy, wasm build + export check + cosmwasm-check, unit,
# multi-test and VM tests, the suite, the relayer and the devnet scenario on
# a real wasmd localnet, schema drift, TypeScript clients, and the gas benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
start=$(date +%s)
step() { log "== $* (t+$(( $(date +%s) - start ))s)"; }

step setup
ci/setup.sh

step "cargo fmt --check"
host_fmt --all -- --check

step "cargo clippy -D warnings"
host_clippy --workspace --all-targets --locked -- -D warnings

step "relayer: production crates link no cw-multi-test"
ci/relayer-deps.sh

step "wasm artifacts"
ci/build-wasm.sh

step "cargo test (unit, multi-test, VM)"
mkdir -p target
# Every test binary runs (--no-fail-fast), so one failure shows with all the others.
status=0
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test.log || status=$?
passed=$(grep -Eo '^test result: .* ([0-9]+) passed' target/test.log | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '^test result: .* ([0-9]+) failed' target/test.log | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
if [ "$status" -ne 0 ]; then
  echo "tests: ${passed} passed, ${failed} failed" >&2
  exit "$status"
fi

step "the suite on a real chain (wasmd localnet, CosmJS)"
ci/localnet-test.sh

step "the relayer on a real chain (wasmd localnet)"
ci/relayer-localnet-test.sh

step "the devnet scenario on a real chain (relayer processes on a wasmd localnet)"
ci/devnet-localnet-test.sh

step "cross-chain settlement on two real chains (wasmd + Hermes)"
ci/ibc-localnet-test.sh

step "the web app: Vite build, Playwright in Debian's Chromium on a fresh localnet"
ci/web-test.sh

step "schema drift"
ci/schema.sh
if [ -n "$(git status --porcelain -- schema)" ]; then
  git status --short -- schema >&2
  echo "schema/ is out of date: run ci/schema.sh and commit the result" >&2
  exit 1
fi

step "TypeScript clients from schema/"
ci/ts-check.sh

step "gas benchmarks"
ci/bench.sh

step "done in $(( $(date +%s) - start ))s"
echo "tests: ${passed} passed, ${failed} failed"
