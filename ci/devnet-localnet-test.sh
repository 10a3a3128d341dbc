#!/usr/bin/env bash
# The main job's scenario on real chains, as CI runs it: the debug-built
# `relayer devnet --chain localnet` on a fresh two-chain wasmd localnet of
# its own (wevalue-city-1 and wevalue-hub-1 with an ICS-20 channel created
# by Hermes, which ci/localnet.sh builds on first use; state under target/,
# ports shifted by WEVALUE_LOCALNET_PORT_OFFSET, 1300 unless set), with the
# relayer instances as separate OS processes and few vouchers. The devnet
# checks every step on chain and exits non-zero on any failure; this script
# then checks the report's figures (the solver's bike matching used, one
# oracle report per task, the streamed messages settled, the hub-funded
# channel paid out on the hub to the unit) and prints how long the run took.
# A missing wasmd, artifact or broker is a failure, not a skip. The chains
# are stopped on exit, pass or fail. Needs: ci/setup.sh and ci/build-wasm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

[ -x "$WASMD" ] || die "wasmd is missing ($WASMD): run ci/setup.sh"
[ -f artifacts/checksums.txt ] || die "artifacts/checksums.txt is missing: run ci/build-wasm.sh"
export WEVALUE_LOCALNET_DIR="$TARGET_DIR/devnet-localnet-test"
export WEVALUE_LOCALNET_PORT_OFFSET="${WEVALUE_LOCALNET_PORT_OFFSET:-1300}"
VOUCHERS="${DEVNET_VOUCHERS:-200}"
# Built before the chain starts, so compile time is not chain time.
cargo build --locked -p relayer
ci/localnet.sh reset >/dev/null 2>&1 || true
trap 'ci/localnet.sh down >/dev/null 2>&1 || true' EXIT
ci/localnet.sh up all
report="$WEVALUE_LOCALNET_DIR/devnet-report.json"
t0=$(date +%s)
"$TARGET_DIR/debug/relayer" devnet --chain localnet --vouchers "$VOUCHERS" \
  --state-dir "$WEVALUE_LOCALNET_DIR/devnet" --report-json "$report"
took=$(( $(date +%s) - t0 ))
python3 - "$report" "$VOUCHERS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2]); f = r["figures"]
def need(ok, what):
    if not ok:
        sys.exit(f"devnet report: {what}")
need(r["chain_id"] == "wevalue-city-1", f"chain {r['chain_id']}")
need(len(r["steps"]) == 21, f"{len(r['steps'])} steps, expected 21 (17 and 4 cross-chain)")
need((f["messages_delivered"], f["messages_paid"], f["messages_settled"]) == (n, n, n),
     f"delivered/paid/settled {f['messages_delivered']}/{f['messages_paid']}/{f['messages_settled']}, expected {n}")
need(f["bikes_rule"] == [8, 340000] and f["bikes_matched"] == [38, 1980000],
     f"bike matching rule {f['bikes_rule']}, solver {f['bikes_matched']}")
need(f["bikes_moved_paid"] == [37, 1920000], f"bikes moved/paid {f['bikes_moved_paid']}")
need(f["oracle_reports"] == 2, f"{f['oracle_reports']} oracle reports")
need(f["stale_closes_defended"] == 1, "no stale close defended")
# Cross-chain: the hub buyer paid the deposit and its transfer's fee; the
# seller received exactly the settled amount on the hub; the payout was
# acknowledged as delivered.
x = f["cross_chain"]
need(x is not None, "no cross-chain figures")
need(x["payout_status"] == "delivered" and x["settled"] > 0, f"payout {x['payout_status']}, settled {x['settled']}")
hb = {b["actor"]: b for b in x["hub_balances"]}
buyer, seller = hb["hub-buyer"], hb["meter-seller"]
need(buyer["before"] - buyer["after"] == x["deposit"] + buyer["fees"] and buyer["fees"] > 0,
     f"hub buyer {buyer}, deposit {x['deposit']}")
need(seller["after"] - seller["before"] == x["settled"], f"hub seller {seller}, settled {x['settled']}")
need(x["city_denom"].startswith("ibc/"), f"hub money on the city chain is {x['city_denom']}")
# Gas from the chain's tx results: the deploy's txs (from its journal) too.
need(r["steps"][0]["txs"] >= 10 and r["steps"][0]["gas"] > 0, f"deploy step {r['steps'][0]}")
need(sum(s["txs"] for s in r["steps"]) > 50 and all(s["gas"] > 0 for s in r["steps"] if s["txs"]),
     "a step with txs but no gas")
PY
log "devnet on the two-chain wasmd localnet: OK in ${took}s (heights $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["start_height"], "to", r["end_height"])' "$report"))"
