#!/usr/bin/env bash
# The web app, built and tested as a person would use it: npm ci, clients
# generated from schema/, strict type-check (app, clients and tests), unit
# tests of the pure parts (node:test), Vite
# build with the bundle size printed, a fresh wasmd localnet with the suite
# deployed and seeded (web/scripts/deploy-web.mjs), the seller's daemon
# (`relayer run`: the SDPP gateway serving one listing from a simulated
# sensor, and its watchtower), and the Playwright specs in web/e2e driving
# Debian's Chromium against the app served by web/scripts/serve.mjs.
# Screenshots go to target/web-screenshots/, the bundle table to
# target/web-bundle.md, the daemon's log to target/web-seller.log. Every
# missing piece fails the run. The daemon and the chain are stopped on
# exit, pass or fail.
# Ports: the localnet's, shifted by WEVALUE_LOCALNET_PORT_OFFSET (default 0);
# the app on 8080, the gateway on 8091 and the watchtower on 8092, plus the
# same offset.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
t0=$(date +%s)
stamp() { log "web: $* (t+$(( $(date +%s) - t0 ))s)"; }

[ -x /usr/bin/chromium ] || die "Debian's chromium is missing (/usr/bin/chromium): run ci/setup.sh"
[ -x "$WASMD" ] || die "wasmd is missing ($WASMD): run ci/setup.sh"
for c in $CONTRACTS; do
  [ -f "artifacts/$c.wasm" ] || die "artifacts/$c.wasm is missing: run ci/build-wasm.sh"
done

# Playwright must not try to download its own browsers (it cannot here).
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm_ci web
stamp "clients from schema/"
(cd web && npm run --silent codegen)
stamp "type-check (strict): app, clients, browser tests"
(cd web && npx tsc --noEmit -p tsconfig.json && npx tsc --noEmit -p tsconfig.e2e.json)
stamp "unit tests (geohash, vote commitment, error reading, SDPP against the reference test vectors)"
(cd web && npm run --silent test:unit)
stamp "vite build"
mkdir -p "$TARGET_DIR"
(cd web && npx vite build --logLevel warn)
node web/scripts/bundle-size.mjs --markdown "$TARGET_DIR/web-bundle.md"
stamp "the seller's daemon (cargo build -p relayer)"
cargo build -p relayer --quiet
relayer="$TARGET_DIR/debug/relayer"

export WEVALUE_LOCALNET_DIR="$TARGET_DIR/localnet-web"
export WEVALUE_WEB_TARGET="$TARGET_DIR"
stamp "fresh localnet ($WEVALUE_LOCALNET_DIR, port offset ${WEVALUE_LOCALNET_PORT_OFFSET:-0})"
ci/localnet.sh reset >/dev/null 2>&1 || true
seller_pid=""
cleanup() {
  if [ -n "$seller_pid" ]; then kill "$seller_pid" 2>/dev/null || true; wait "$seller_pid" 2>/dev/null || true; fi
  ci/localnet.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT
ci/localnet.sh up city
stamp "deploy and seed the suite"
node web/scripts/deploy-web.mjs
stamp "the seller's daemon: SDPP gateway + watchtower (log: $TARGET_DIR/web-seller.log)"
"$relayer" run --config "$WEVALUE_LOCALNET_DIR/seller/relayer.toml" >"$TARGET_DIR/web-seller.log" 2>&1 &
seller_pid=$!
gateway_port=$(( 8091 + ${WEVALUE_LOCALNET_PORT_OFFSET:-0} ))
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$gateway_port") 2>/dev/null && break
  kill -0 "$seller_pid" 2>/dev/null || { tail -n 30 "$TARGET_DIR/web-seller.log" >&2; die "the seller's daemon exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$gateway_port") 2>/dev/null || die "the gateway did not listen on $gateway_port within 60 s"
stamp "Playwright (Debian chromium)"
rm -rf "$TARGET_DIR/web-screenshots" "$TARGET_DIR/web-test-results"
status=0
(cd web && npx playwright test) || status=$?
results="$TARGET_DIR/web-test-results/results.json"
[ -f "$results" ] || die "Playwright wrote no results ($results)"
python3 - "$results" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print(f"web-e2e: {s['expected']} passed, {s['unexpected'] + s.get('flaky', 0)} failed")
if s["expected"] == 0 or s.get("skipped", 0):
    sys.exit(f"web e2e: {s['expected']} passed, {s.get('skipped', 0)} skipped: every spec must run")
PY
[ "$status" -eq 0 ] || die "browser tests failed (screenshots and traces in $TARGET_DIR/web-test-results)"
stamp "done; screenshots in $TARGET_DIR/web-screenshots"
