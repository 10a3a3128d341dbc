#!/usr/bin/env bash
# The main job: set up the toolchain, build the deployable artifacts (their
# checksums are the code checksums the devnet records), then run
# `relayer devnet`: a chain, the whole suite, the relayer services and the
# smart-city scenario end to end, with a report. Arguments go to `devnet`
# (e.g. `ci/main.sh --serve`, `ci/main.sh --vouchers 20000`).
#
# The chain is the embedded one unless `--chain localnet` is given: then a
# fresh single-node wasmd localnet is started first (`ci/localnet.sh reset`,
# `up city`; state in $WEVALUE_LOCALNET_DIR, default .localnet, ports shifted
# by $WEVALUE_LOCALNET_PORT_OFFSET) and stopped when the job ends, pass or
# fail; the devnet's relayer instances then run as separate processes.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

chain=embedded
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --chain=*) chain="${args[$i]#--chain=}" ;;
    --chain) chain="${args[$((i + 1))]:-}" ;;
  esac
done
case "$chain" in
  embedded | localnet) ;;
  *) die "--chain must be embedded or localnet (got '$chain')" ;;
esac

ci/setup.sh
ci/build-wasm.sh
log "checksums (artifacts/checksums.txt)"
cat artifacts/checksums.txt
# Built before any chain starts, so compile time is not chain time.
cargo build --release --locked -p relayer
if [ "$chain" = localnet ]; then
  export WEVALUE_LOCALNET_DIR="${WEVALUE_LOCALNET_DIR:-$PWD/.localnet}"
  log "a fresh wasmd localnet ($WEVALUE_LOCALNET_DIR)"
  ci/localnet.sh reset
  trap 'ci/localnet.sh down || true' EXIT
  ci/localnet.sh up city
fi
log "relayer devnet --chain $chain"
"$TARGET_DIR/release/relayer" devnet "$@"
