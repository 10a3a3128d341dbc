#!/usr/bin/env bash
# Cross-chain settlement on two real chains: a fresh localnet of its own
# (wevalue-city-1 + wevalue-hub-1, wasmd; state under target/, every port
# shifted by WEVALUE_LOCALNET_PORT_OFFSET, 1500 unless set), the ICS-20
# channel created by Hermes, then relayer/tests/ibc (`#[ignore]`d in a plain
# `cargo test`) with `-- --ignored --test-threads 1` (the tests share
# Hermes' key): a watchtower's IBC payout arriving on the hub, a timed-out
# payout credited back once, a hub deposit through a destination callback.
# Hermes is built on first use (ci/install-hermes.sh). A missing wasmd,
# Hermes, artifact or chain is a failure, not a skip. The chains are stopped
# on exit, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

[ -x "$WASMD" ] || die "wasmd is missing ($WASMD): run ci/setup.sh"
[ -f artifacts/payment-channel.wasm ] || die "artifacts/payment-channel.wasm is missing: run ci/build-wasm.sh"
ci/install-hermes.sh >/dev/null
export WEVALUE_HERMES="$HERMES"
export WEVALUE_LOCALNET_DIR="$TARGET_DIR/ibc-localnet-test"
export WEVALUE_LOCALNET_PORT_OFFSET="${WEVALUE_LOCALNET_PORT_OFFSET:-1500}"
# Built before the chains start, so compile time is not chain time.
cargo build --locked -p relayer --bin relayer
cargo test --locked -p relayer --test ibc --no-run
ci/localnet.sh reset >/dev/null 2>&1 || true
trap 'ci/localnet.sh down >/dev/null 2>&1 || true' EXIT
ci/localnet.sh up all
cargo test --locked -p relayer --test ibc -- --ignored --test-threads 1 --nocapture
