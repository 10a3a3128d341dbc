#!/usr/bin/env bash
# Installs wasmd (the chain node the localnet runs) into a per-user tools
# cache, once per version: `go mod download` of the pinned module (its
# go.mod has `replace` directives, so `go install pkg@version` refuses it),
# then `go build ./cmd/wasmd` in a writable copy. wasmvm's Go module ships
# the prebuilt libwasmvm, so no Rust build of the VM is needed. Nothing of
# wasmd's source enters the repository.
#
# Usage: ci/install-wasmd.sh   (prints the binary's path on stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

[ -x "$WASMD" ] && "$WASMD" version >/dev/null 2>&1 && { echo "$WASMD"; exit 0; }
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || die "Go is needed to build wasmd (the machine's Go 1.26 lives in /usr/local/go)"
GO=$(command -v go || echo /usr/local/go/bin/go)
# The machine's own Go builds it; never fetch another toolchain.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=1

SONIC_VERSION=v1.15.5
log "building wasmd $WASMD_VERSION (go mod download + go build; several minutes)"
start=$(date +%s)
dir=$("$GO" mod download -json "github.com/CosmWasm/wasmd@$WASMD_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
src="$TOOLS_DIR/src/wasmd-$WASMD_VERSION"
rm -rf "$src" && mkdir -p "$src" && cp -r "$dir/." "$src/" && chmod -R u+w "$src"
mkdir -p "$(dirname "$WASMD")"
# wasmd pins bytedance/sonic v1.14.2 (indirect, via gin), which does not
# compile with Go 1.26 (`undefined: GoMapIterator`); v1.15 supports it.
(cd "$src" && "$GO" get "github.com/bytedance/sonic@$SONIC_VERSION" >/dev/null 2>&1 && "$GO" mod download && "$GO" build -trimpath \
  -ldflags "-X github.com/cosmos/cosmos-sdk/version.Name=wasm -X github.com/cosmos/cosmos-sdk/version.AppName=wasmd -X github.com/cosmos/cosmos-sdk/version.Version=$WASMD_VERSION" \
  -o "$WASMD.tmp" ./cmd/wasmd)
# libwasmvm is linked from the module cache by rpath: keep a copy beside the
# binary so a cleaned module cache does not break it.
lib=$(find "$("$GO" env GOMODCACHE)/github.com/!cosm!wasm" -path '*wasmvm/v3@*' -name 'libwasmvm.x86_64.so' -print -quit)
if [ -n "$lib" ]; then cp "$lib" "$(dirname "$WASMD")/"; fi
mv "$WASMD.tmp" "$WASMD"
chmod -R u+w "$src" && rm -rf "$src"
"$WASMD" version >/dev/null 2>&1 || die "wasmd built but does not run: $("$WASMD" version 2>&1 | tail -n 3)"
log "wasmd $("$WASMD" version 2>&1) built in $(( $(date +%s) - start ))s: $WASMD"
echo "$WASMD"
