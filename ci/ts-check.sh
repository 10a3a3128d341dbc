#!/usr/bin/env bash
# Generates a TypeScript client for every contract from schema/ with
# @cosmwasm/ts-codegen and type-checks it (tsc --noEmit, strict): a message
# name that breaks the generated client (an execute and a query variant with
# the same name, say) fails here. Nothing generated is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
npm_ci web
(cd web && npm run --silent codegen && npm run --silent typecheck:clients)
log "TypeScript clients generated from schema/ type-check"
