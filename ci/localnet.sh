#!/usr/bin/env bash
# A local network of real wasmd chains on loopback, for the tests and the
# main job.
#
#   ci/localnet.sh up [city|hub|all]   start (default: city); reuses chains already up
#   ci/localnet.sh down                stop the chains this script started (by pid)
#   ci/localnet.sh status              heights, endpoints, pids
#   ci/localnet.sh reset               down, then delete the chains' state
#
# With both chains up, `up` also creates (once) the ICS-20 transfer channel
# between them with Hermes.
#
# Chains (ports on 127.0.0.1, all shifted by WEVALUE_LOCALNET_PORT_OFFSET):
#   wevalue-city-1  the city chain: staking denom ustake; RPC 26657, gRPC 9090
#   wevalue-hub-1   the settlement hub: staking denom uhub and a stable denom
#                   ustable; RPC 26757, gRPC 9190
# Blocks every ~300 ms, tx indexer on, a minimum gas price, and the test-only
# actors of ci/localnet/accounts.json funded on both chains. State, logs and
# pids live in .localnet/ (ignored by git). `up` returns once each chain has
# produced a block and prints the endpoints; .localnet/localnet.json
# describes them for the tests and the relayer.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

ROOT="${WEVALUE_LOCALNET_DIR:-$PWD/.localnet}"
ACCOUNTS=ci/localnet/accounts.json
GAS_PRICE_CITY="0.025ustake"
GAS_PRICE_HUB="0.025uhub"
FUND="100000000000"   # per actor and denom (100,000 whole tokens)
# Shifts every port (RPC, P2P, gRPC, API, Hermes), so two localnets from
# different state folders can run side by side (tests in parallel worktrees).
PORT_OFFSET="${WEVALUE_LOCALNET_PORT_OFFSET:-0}"
[[ "$PORT_OFFSET" =~ ^[0-9]+$ ]] && [ "$PORT_OFFSET" -lt 30000 ] ||
  die "WEVALUE_LOCALNET_PORT_OFFSET must be a number below 30000 (got '$PORT_OFFSET')"

chain_param() { # chain field
  case "$1:$2" in
    city:id) echo wevalue-city-1 ;; hub:id) echo wevalue-hub-1 ;;
    city:denom) echo ustake ;; hub:denom) echo uhub ;;
    city:extra) echo "" ;; hub:extra) echo ustable ;;
    city:gas) echo "$GAS_PRICE_CITY" ;; hub:gas) echo "$GAS_PRICE_HUB" ;;
    city:port) echo 26600 ;; hub:port) echo 26700 ;;
    *) die "unknown chain parameter $1:$2" ;;
  esac
}
rpc_port() { echo $(( $(chain_param "$1" port) + 57 + PORT_OFFSET )); }
p2p_port() { echo $(( $(chain_param "$1" port) + 56 + PORT_OFFSET )); }
grpc_port() { case $1 in city) echo $(( 9090 + PORT_OFFSET )) ;; hub) echo $(( 9190 + PORT_OFFSET )) ;; esac; }
api_port() { case $1 in city) echo $(( 1317 + PORT_OFFSET )) ;; hub) echo $(( 1417 + PORT_OFFSET )) ;; esac; }
home_of() { echo "$ROOT/$(chain_param "$1" id)"; }
pid_of() { cat "$(home_of "$1")/wasmd.pid" 2>/dev/null || true; }

running() { # chain: our process alive
  local pid; pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q wasmd "/proc/$pid/cmdline" 2>/dev/null
}
height() { # chain: latest height, empty when unreachable
  curl -sf --max-time 2 "http://127.0.0.1:$(rpc_port "$1")/status" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["sync_info"]["latest_block_height"])' 2>/dev/null || true
}

wasmd_() { "$WASMD" "$@"; }

init_chain() { # chain
  local c=$1 id denom extra home
  id=$(chain_param "$c" id); denom=$(chain_param "$c" denom); extra=$(chain_param "$c" extra)
  home=$(home_of "$c")
  rm -rf "$home"; mkdir -p "$home"
  wasmd_ init "wevalue-$c" --chain-id "$id" --default-denom "$denom" --home "$home" >/dev/null 2>&1
  # Every actor funded in the staking denom (and the hub's stable denom),
  # written into the genesis in one pass (52 CLI calls take a minute).
  python3 ci/localnet/fund.py "$home/config/genesis.json" "$ACCOUNTS" "$FUND" "$denom" $extra
  local vmn
  vmn=$(python3 -c 'import json,sys; print(next(a["mnemonic"] for a in json.load(open(sys.argv[1]))["actors"] if a["name"]=="validator"))' "$ACCOUNTS")
  echo "$vmn" | wasmd_ keys add validator --recover --keyring-backend test --home "$home" >/dev/null 2>&1
  wasmd_ genesis gentx validator "10000000000$denom" --chain-id "$id" --keyring-backend test --home "$home" >/dev/null 2>&1
  wasmd_ genesis collect-gentxs --home "$home" >/dev/null 2>&1
  python3 ci/localnet/patch.py "$home" "$c" "$(rpc_port "$c")" "$(p2p_port "$c")" \
    "$(grpc_port "$c")" "$(api_port "$c")" "$(chain_param "$c" gas)"
}

start_chain() { # chain
  local c=$1 home; home=$(home_of "$c")
  if running "$c"; then log "$(chain_param "$c" id) already running (pid $(pid_of "$c"))"; return; fi
  # Another node on our ports (a localnet from another state folder, say)
  # would answer the readiness check in our place.
  if [ -n "$(height "$c")" ]; then
    die "port $(rpc_port "$c") already serves a chain this localnet did not start ($ROOT): stop it first (e.g. ci/localnet.sh down with its WEVALUE_LOCALNET_DIR)"
  fi
  [ -f "$home/config/genesis.json" ] || init_chain "$c"
  log "starting $(chain_param "$c" id)"
  # setsid: its own session, so `down` (and CI) can stop it by pid alone.
  setsid "$WASMD" start --home "$home" >"$home/wasmd.log" 2>&1 < /dev/null &
  echo $! > "$home/wasmd.pid"
}

await_chain() { # chain
  local c=$1 start h; start=$(date +%s%N)
  for _ in $(seq 1 600); do
    h=$(height "$c")
    if [ -n "$h" ] && [ "$h" -ge 1 ]; then
      log "$(chain_param "$c" id) at height $h after $(( ($(date +%s%N) - start) / 1000000 )) ms"
      return 0
    fi
    running "$c" || { tail -n 30 "$(home_of "$c")/wasmd.log" >&2; die "$(chain_param "$c" id) exited (log above)"; }
    sleep 0.1
  done
  tail -n 30 "$(home_of "$c")/wasmd.log" >&2
  die "$(chain_param "$c" id) produced no block in 60 s"
}

describe() {
  python3 - "$ROOT" "$ACCOUNTS" "$@" <<'PY'
import json, sys
root, accounts, chains = sys.argv[1], sys.argv[2], sys.argv[3:]
info = {"chains": {}, "accounts": accounts}
for c in chains:
    name, cid, denom, rpc, grpc, gas = c.split(":")
    info["chains"][name] = {"chain_id": cid, "denom": denom, "rpc": f"http://127.0.0.1:{rpc}",
                            "grpc": f"http://127.0.0.1:{grpc}", "gas_price": gas,
                            "home": f"{root}/{cid}"}
json.dump(info, open(f"{root}/localnet.json", "w"), indent=2)
PY
}

# The IBC transfer channel between the two chains, created once with Hermes
# (clients, connection, channel handshake) and recorded in
# .localnet/hermes/channel.json. Relaying packets afterwards is the job of
# the relayer daemon's supervised `hermes start`, not of this script.
HERMES_HOME="$ROOT/hermes"
hermes_() { "$HERMES" --config "$HERMES_HOME/config.toml" "$@"; }
ibc_channel() {
  ci/install-hermes.sh >/dev/null
  mkdir -p "$HERMES_HOME/keys"
  sed -e "s#@HOME@#$HERMES_HOME#g" -e "s#@REST_PORT@#$(( 3000 + PORT_OFFSET ))#g" -e "s#@TELEMETRY_PORT@#$(( 3001 + PORT_OFFSET ))#g" \
    -e "s#@CITY_RPC@#$(rpc_port city)#g" -e "s#@CITY_GRPC@#$(grpc_port city)#g" \
    -e "s#@HUB_RPC@#$(rpc_port hub)#g" -e "s#@HUB_GRPC@#$(grpc_port hub)#g" \
    ci/localnet/hermes.toml.in > "$HERMES_HOME/config.toml"
  if [ -f "$HERMES_HOME/channel.json" ]; then return 0; fi
  local mn="$HERMES_HOME/hermes.mnemonic"
  python3 -c 'import json,sys; print(next(a["mnemonic"] for a in json.load(open(sys.argv[1]))["actors"] if a["name"]=="hermes"))' "$ACCOUNTS" > "$mn"
  chmod 600 "$mn"
  for id in wevalue-city-1 wevalue-hub-1; do
    hermes_ keys add --chain "$id" --mnemonic-file "$mn" --overwrite >/dev/null
  done
  log "creating the IBC transfer channel (clients, connection, channel handshake)"
  local t0 out; t0=$(date +%s)
  # Hermes prints its JSON result last on stdout (and exits non-zero on failure).
  out=$(hermes_ --json create channel --a-chain wevalue-city-1 --b-chain wevalue-hub-1 \
    --a-port transfer --b-port transfer --new-client-connection --yes 2>"$HERMES_HOME/create.log" | tail -n 1) || true
  python3 - "$out" "$HERMES_HOME/channel.json" <<'PY' || { tail -n 20 "$HERMES_HOME/create.log" >&2; die "hermes could not create the channel"; }
import json, sys
res = json.loads(sys.argv[1])
assert res.get("status") == "success", res
r = res["result"]
a, b = r["a_side"], r["b_side"]
# Hermes' result names no chain: a is the city (--a-chain), b the hub.
json.dump({"city": {"chain_id": "wevalue-city-1", "client_id": a["client_id"], "connection_id": a["connection_id"],
                    "port_id": a["port_id"], "channel_id": a["channel_id"]},
           "hub": {"chain_id": "wevalue-hub-1", "client_id": b["client_id"], "connection_id": b["connection_id"],
                   "port_id": b["port_id"], "channel_id": b["channel_id"]}},
          open(sys.argv[2], "w"), indent=2)
PY
  log "channel created in $(( $(date +%s) - t0 ))s: $(tr -d '\n ' < "$HERMES_HOME/channel.json")"
}

chains_of() { case "${1:-city}" in city) echo city ;; hub) echo hub ;; all) echo "city hub" ;; *) die "unknown chain '$1' (city|hub|all)" ;; esac; }

cmd=${1:-status}
case "$cmd" in
  up)
    [ -x "$WASMD" ] || die "wasmd is not installed: run ci/setup.sh (it builds $WASMD)"
    mkdir -p "$ROOT"
    t0=$(date +%s%N)
    sel=$(chains_of "${2:-city}")
    for c in $sel; do start_chain "$c"; done
    for c in $sel; do await_chain "$c"; done
    if running city && running hub; then ibc_channel; fi
    args=()
    for c in city hub; do
      running "$c" && args+=("$c:$(chain_param "$c" id):$(chain_param "$c" denom):$(rpc_port "$c"):$(grpc_port "$c"):$(chain_param "$c" gas)")
    done
    describe "${args[@]}"
    if [ -f "$HERMES_HOME/channel.json" ]; then
      python3 - "$ROOT/localnet.json" "$HERMES_HOME" <<'PY'
import json, sys
path, home = sys.argv[1], sys.argv[2]
info = json.load(open(path))
info["ibc"] = {"transfer": json.load(open(f"{home}/channel.json")), "hermes_config": f"{home}/config.toml"}
json.dump(info, open(path, "w"), indent=2)
PY
    fi
    log "localnet up in $(( ($(date +%s%N) - t0) / 1000000 )) ms: $ROOT/localnet.json"
    ;;
  down)
    for c in city hub; do
      pid=$(pid_of "$c")
      if running "$c"; then
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        log "stopped $(chain_param "$c" id) (pid $pid)"
      fi
      rm -f "$(home_of "$c")/wasmd.pid"
    done
    ;;
  status)
    for c in city hub; do
      if running "$c"; then
        echo "$(chain_param "$c" id): running (pid $(pid_of "$c")), height $(height "$c"), rpc http://127.0.0.1:$(rpc_port "$c")"
      else
        echo "$(chain_param "$c" id): stopped"
      fi
    done
    ;;
  reset)
    "$0" down
    rm -rf "$ROOT"
    ;;
  *) die "usage: ci/localnet.sh up [city|hub|all] | down | status | reset" ;;
esac
