#!/usr/bin/env bash
# The relayer's production crates link no cw-multi-test: the core, the
# Cosmos backend and every service, with all their dependency kinds, and the
# binary built without its default `embedded` feature (the daemon for wasmd).
# The core and the Cosmos backend depend on no contract crate; the services
# use payment-channel's and value-contract's message types (`library`
# feature: no entry points). Fails naming the crate.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in relayer-core relayer-chain-cosmos relayer-watchtower relayer-gateway relayer-oracle relayer-solver; do
  if cargo tree --locked -p "$crate" --prefix none | grep -q '^cw-multi-test '; then
    echo "relayer-deps: $crate depends on cw-multi-test" >&2
    cargo tree --locked -p "$crate" -i cw-multi-test >&2 || true
    status=1
  fi
done
# The core and the Cosmos backend know no contract at all (the services use
# the message types of payment-channel and value-contract, `library` feature).
for crate in relayer-core relayer-chain-cosmos; do
  contracts=$(cargo tree --locked -p "$crate" --prefix none \
    | grep -E '^(payment-channel|value-contract|data-registry|token-curated-registry|cw20-base) ' | sort -u || true)
  if [ -n "$contracts" ]; then
    echo "relayer-deps: $crate depends on contract crates: $contracts" >&2
    status=1
  fi
done
if cargo tree --locked -p relayer --no-default-features -e normal,build --prefix none | grep -q '^cw-multi-test '; then
  echo "relayer-deps: the relayer binary without default features depends on cw-multi-test" >&2
  status=1
fi
# And the check would see it: the default build does link the embedded chain.
if ! cargo tree --locked -p relayer -e normal --prefix none | grep -q '^cw-multi-test '; then
  echo "relayer-deps: expected cw-multi-test in the default (embedded) build; is the check broken?" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "relayer-deps: no cw-multi-test in core, chain-cosmos, services or the --no-default-features binary; no contract crate in core or chain-cosmos"
exit "$status"
