#!/usr/bin/env bash
# The main job: set up the toolchain, build the deployable artifacts (their
# checksums are the code checksums the devnet records), then run
# `relayer devnet`: a chain, the whole suite, the relayer services and the
# smart-city scenario end to end, with a report. Arguments go to `devnet`
# (e.g. `ci/main.sh --serve`, `ci/main.sh --vouchers 20000`).
#
# The chain is the embedded one unless `--chain localnet` is given: then a
# fresh two-chain wasmd localnet is started first (`ci/localnet.sh reset`,
# `up all`: wevalue-city-1, wevalue-hub-1 and an ICS-20 channel created by
# Hermes, built on first use; state in $WEVALUE_LOCALNET_DIR, default
# .localnet, ports shifted by $WEVALUE_LOCALNET_PORT_OFFSET) and stopped
# when the job ends, pass or fail; the devnet's relayer instances then run
# as separate processes and the scenario gains its cross-chain steps (a
# hub-funded channel, a payout on the hub). The web app (web/) is built too
# and served against the devnet's chain and deployment
# (web/scripts/serve.mjs on 127.0.0.1:8080 + the port offset): without
# `--serve` the job shows that it answers (index, config.json, first-load
# files and figures) and stops; with `--serve` the chains, relayers and app
# stay up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

chain=embedded
serve=no
state_dir=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --chain=*) chain="${args[$i]#--chain=}" ;;
    --chain) chain="${args[$((i + 1))]:-}" ;;
    --serve) serve=yes ;;
    --state-dir=*) state_dir="${args[$i]#--state-dir=}" ;;
    --state-dir) state_dir="${args[$((i + 1))]:-}" ;;
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
if [ "$chain" != localnet ]; then
  log "relayer devnet --chain $chain"
  exec "$TARGET_DIR/release/relayer" devnet "$@"
fi

log "the web app: clients from schema/, vite build"
npm_ci web
(cd web && npm run --silent codegen && npx vite build --logLevel warn)
node web/scripts/bundle-size.mjs

export WEVALUE_LOCALNET_DIR="${WEVALUE_LOCALNET_DIR:-$PWD/.localnet}"
if [ -z "$state_dir" ]; then
  state_dir="$WEVALUE_LOCALNET_DIR/devnet"
  args+=(--state-dir "$state_dir")
fi
web_port=$(( 8080 + ${WEVALUE_LOCALNET_PORT_OFFSET:-0} ))
web_url="http://127.0.0.1:$web_port/"
web_pid=""
cleanup() {
  if [ -n "$web_pid" ]; then kill "$web_pid" 2>/dev/null || true; wait "$web_pid" 2>/dev/null || true; fi
  ci/localnet.sh down || true
}
log "a fresh two-chain wasmd localnet ($WEVALUE_LOCALNET_DIR)"
ci/localnet.sh reset
trap cleanup EXIT
ci/localnet.sh up all
# Served from now on; config.json answers once the devnet has deployed.
node web/scripts/serve.mjs --port "$web_port" --devnet "$state_dir" &
web_pid=$!
log "relayer devnet --chain localnet (web app at $web_url)"
if [ "$serve" = yes ]; then
  # The app's URL and figures once the devnet has deployed; the devnet then
  # keeps everything up until Ctrl-C.
  node web/scripts/first-load.mjs "$web_url" --wait 900 &
  "$TARGET_DIR/release/relayer" devnet "${args[@]}"
else
  "$TARGET_DIR/release/relayer" devnet "${args[@]}"
  node web/scripts/first-load.mjs "$web_url" --wait 10
fi
