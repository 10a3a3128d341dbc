#!/usr/bin/env python3
"""Patches a freshly initialised wasmd home for the localnet.

usage: patch.py HOME CHAIN RPC_PORT P2P_PORT GRPC_PORT API_PORT MIN_GAS_PRICE

config.toml (CometBFT 0.38): loopback ports, ~300 ms blocks, kv tx indexer,
RPC open to browsers (CORS),
no pprof or Prometheus listener (two chains would collide on their ports).
app.toml (Cosmos SDK 0.53): minimum gas price, gRPC on loopback, REST off.
genesis.json: short governance periods, wasm uploads open to everybody.
"""
import json
import re
import sys

home, chain, rpc, p2p, grpc, api, gas = sys.argv[1:8]


def set_keys(path, changes):
    """changes: {(section, key): value-literal}; section "" is the top."""
    lines = open(path).read().split("\n")
    section = ""
    seen = set()
    for i, line in enumerate(lines):
        m = re.match(r"^\[([^\]]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*=", line)
        if m and (section, m.group(1)) in changes:
            lines[i] = f"{m.group(1)} = {changes[(section, m.group(1))]}"
            seen.add((section, m.group(1)))
    missing = set(changes) - seen
    if missing:
        sys.exit(f"patch.py: {path}: keys not found: {sorted(missing)}")
    open(path, "w").write("\n".join(lines))


set_keys(f"{home}/config/config.toml", {
    ("", "proxy_app"): '"tcp://127.0.0.1:0"',
    ("", "moniker"): f'"wevalue-{chain}"',
    ("rpc", "laddr"): f'"tcp://127.0.0.1:{rpc}"',
    ("rpc", "pprof_laddr"): '""',
    # The web app calls the RPC from the browser (another origin).
    ("rpc", "cors_allowed_origins"): '["*"]',
    ("rpc", "max_body_bytes"): "4000000",
    ("p2p", "laddr"): f'"tcp://127.0.0.1:{p2p}"',
    ("p2p", "addr_book_strict"): "false",
    ("p2p", "allow_duplicate_ip"): "true",
    ("mempool", "max_tx_bytes"): "4194304",
    ("consensus", "timeout_propose"): '"500ms"',
    ("consensus", "timeout_commit"): '"300ms"',
    ("tx_index", "indexer"): '"kv"',
    ("instrumentation", "prometheus"): "false",
})
set_keys(f"{home}/config/app.toml", {
    ("", "minimum-gas-prices"): f'"{gas}"',
    ("api", "enable"): "false",
    ("api", "address"): f'"tcp://127.0.0.1:{api}"',
    ("grpc", "enable"): "true",
    ("grpc", "address"): f'"127.0.0.1:{grpc}"',
})

path = f"{home}/config/genesis.json"
genesis = json.load(open(path))
state = genesis["app_state"]
gov = state["gov"]["params"]
gov["voting_period"] = "20s"
gov["expedited_voting_period"] = "10s"
wasm = state["wasm"]["params"]
wasm["code_upload_access"] = {"permission": "Everybody", "addresses": []}
wasm["instantiate_default_permission"] = "Everybody"
json.dump(genesis, open(path, "w"), indent=1)
