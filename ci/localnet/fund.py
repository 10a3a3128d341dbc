#!/usr/bin/env python3
"""Funds every actor of accounts.json in a fresh genesis.

usage: fund.py GENESIS ACCOUNTS AMOUNT DENOM [DENOM...]

Adds a BaseAccount, a balance of AMOUNT in each denom, and the supply, as
`wasmd genesis add-genesis-account` would for each actor.
"""
import json
import sys

path, accounts_path, amount = sys.argv[1:4]
denoms = sorted(sys.argv[4:])
genesis = json.load(open(path))
state = genesis["app_state"]
auth, bank = state["auth"]["accounts"], state["bank"]
known = {a["address"] for a in auth}
actors = json.load(open(accounts_path))["actors"]
for actor in actors:
    addr = actor["address"]
    if addr in known:
        sys.exit(f"fund.py: {addr} is already in the genesis")
    auth.append({"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": addr,
                 "pub_key": None, "account_number": str(len(auth)), "sequence": "0"})
    bank["balances"].append({"address": addr,
                             "coins": [{"denom": d, "amount": amount} for d in denoms]})
supply = {c["denom"]: int(c["amount"]) for c in bank["supply"]}
for d in denoms:
    supply[d] = supply.get(d, 0) + int(amount) * len(actors)
bank["supply"] = [{"denom": d, "amount": str(v)} for d, v in sorted(supply.items())]
json.dump(genesis, open(path, "w"), indent=1)
