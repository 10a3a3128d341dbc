#!/usr/bin/env bash
# The relayer on a real chain: a fresh single-node wasmd localnet of its own
# (state under target/, every port shifted by WEVALUE_LOCALNET_PORT_OFFSET,
# 1000 unless set, so it never meets a developer's or another worktree's
# localnet), then the relayer's localnet tests (relayer/tests/localnet.rs,
# `#[ignore]`d in a plain `cargo test`) with `-- --ignored`: the outbox's
# timeout heights and re-signing, "already in cache", errors by codespace,
# finalize_block_events, the health check; SDPP end to end; 20 seeded
# SIGKILL trials of a seller's daemon (relayer/tests/trials); the localnet
# figures (relayer/tests/figures, target/localnet-figures.md). A missing
# wasmd, artifact or chain is a failure, not a skip. The chain is stopped on exit, pass or fail.
# Needs: ci/setup.sh (wasmd) and ci/build-wasm.sh (artifacts).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

[ -x "$WASMD" ] || die "wasmd is missing ($WASMD): run ci/setup.sh"
[ -f artifacts/data-registry.wasm ] || die "artifacts/data-registry.wasm is missing: run ci/build-wasm.sh"
export WEVALUE_LOCALNET_DIR="$TARGET_DIR/relayer-localnet-test"
export WEVALUE_LOCALNET_PORT_OFFSET="${WEVALUE_LOCALNET_PORT_OFFSET:-1000}"
# Built before the chain starts, so compile time is not chain time.
cargo test --locked -p relayer --test localnet --test localnet_sdpp --test trials --test figures --no-run
ci/localnet.sh reset >/dev/null 2>&1 || true
trap 'ci/localnet.sh down >/dev/null 2>&1 || true' EXIT
ci/localnet.sh up city
cargo test --locked -p relayer --test localnet -- --ignored --test-threads 8
cargo test --locked -p relayer --test localnet_sdpp -- --ignored --test-threads 4  # SDPP end to end: seller daemon and `relayer buy` as processes, SIGKILL of the daemon
cargo test --locked -p relayer --test trials -- --ignored --nocapture  # 20 seeded SIGKILL trials of a seller's daemon (watchtower + oracle), one summary line each
cargo test --locked -p relayer --test figures -- --ignored --nocapture  # figures: gas on wasmd vs the VM estimates, claim_batch per voucher, close defence and oracle latency in blocks, outbox txs per block (target/localnet-figures.md)
