#!/usr/bin/env bash
# Builds every contract to optimized wasm in artifacts/, then checks each one:
# its exports (instantiate/execute/query/migrate must be there) and
# cosmwasm-check against the chain capabilities in ci/capabilities.txt.
#
# Toolchain: Debian's Rust (rustc-web) with the std sources, building std for
# wasm32 (build-std) and linking with wasm-ld by absolute path (ci/lib.sh).
# One toolchain everywhere, so the checksums are the same on every machine.
#
# Usage: ci/build-wasm.sh [contract ...]   (default: all, plus cw20-base)
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($CONTRACTS $REFERENCE_CONTRACTS)
fi

export CARGO_TARGET_DIR="$PWD/target/wasm"
check_wasm_toolchain

mkdir -p artifacts
built=()
for name in "${targets[@]}"; do
  log "build $name"
  if [[ " $REFERENCE_CONTRACTS " == *" $name "* ]]; then
    # A crates.io contract: cargo's build-std cannot build a dependency with
    # -p, so build a copy of its published source as its own workspace, with
    # our lockfile so it uses the same dependency versions.
    manifest=$(cargo metadata --format-version 1 --locked | python3 -c "
import json, sys
print(next(p['manifest_path'] for p in json.load(sys.stdin)['packages'] if p['name'] == '$name'))")
    src="$CARGO_TARGET_DIR/reference/$name"
    rm -rf "$src" && mkdir -p "$src" && cp -r "$(dirname "$manifest")/." "$src/"
    printf '\n[workspace]\n' >> "$src/Cargo.toml"
    cp Cargo.lock "$src/Cargo.lock"
    wasm_cargo build --release --lib --manifest-path "$src/Cargo.toml"
  else
    # One cargo invocation per contract: building several together would
    # unify features, and a `library` feature enabled by one would strip
    # another's entry points.
    wasm_cargo build --release --locked --lib -p "$name"
  fi
  raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/${name//-/_}.wasm"
  wasm-opt -Os --strip-debug --strip-producers "$raw" -o "artifacts/$name.wasm"
  built+=("$name")
done

log "check exports"
for name in "${built[@]}"; do
  python3 ci/check-exports.py "artifacts/$name.wasm" instantiate execute query migrate
done

log "cosmwasm-check (capabilities: $CAPABILITIES)"
files=()
for name in "${built[@]}"; do files+=("artifacts/$name.wasm"); done
cosmwasm-check --available-capabilities "$CAPABILITIES" "${files[@]}"

# Checksums and sizes of everything in artifacts/ (earlier builds included).
(cd artifacts && sha256sum -- *.wasm > checksums.txt)
{
  printf '| artifact | size (bytes) | size (KiB) | of 800 KiB limit |\n|---|---:|---:|---:|\n'
  for f in artifacts/*.wasm; do
    s=$(stat -c %s "$f")
    awk -v n="$(basename "$f")" -v s="$s" 'BEGIN { printf "| %s | %d | %.1f | %.1f%% |\n", n, s, s / 1024, s * 100 / 819200 }'
  done
} > artifacts/sizes.md
cat artifacts/sizes.md
log "artifacts ready: ${built[*]}"
