#!/usr/bin/env bash
# The web app, built and tested as a person would use it: npm ci, clients
# generated from schema/, strict type-check (app, clients and tests), unit
# tests of the pure parts (node:test), Vite
# build with the bundle size printed, a fresh wasmd localnet with the suite
# deployed and seeded (web/scripts/deploy-web.mjs), and the Playwright specs
# in web/e2e driving Debian's Chromium against the app served by
# web/scripts/serve.mjs. Screenshots go to target/web-screenshots/, the
# bundle table to target/web-bundle.md. Every missing piece fails the run.
# The chain is stopped on exit, pass or fail.
# Ports: the localnet's, shifted by WEVALUE_LOCALNET_PORT_OFFSET (default 0);
# the app on 8080 + the same offset.
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
stamp "unit tests (geohash, vote commitment, error reading)"
(cd web && npm run --silent test:unit)
stamp "vite build"
mkdir -p "$TARGET_DIR"
(cd web && npx vite build --logLevel warn)
node web/scripts/bundle-size.mjs --markdown "$TARGET_DIR/web-bundle.md"

export WEVALUE_LOCALNET_DIR="$TARGET_DIR/localnet-web"
export WEVALUE_WEB_TARGET="$TARGET_DIR"
stamp "fresh localnet ($WEVALUE_LOCALNET_DIR, port offset ${WEVALUE_LOCALNET_PORT_OFFSET:-0})"
ci/localnet.sh reset >/dev/null 2>&1 || true
trap 'ci/localnet.sh down >/dev/null 2>&1 || true' EXIT
ci/localnet.sh up city
stamp "deploy and seed the suite"
node web/scripts/deploy-web.mjs
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
