#!/usr/bin/env bash
# Builds every contract to optimized wasm in artifacts/, then checks each one:
# its exports (instantiate/execute/query/migrate must be there) and
# cosmwasm-check against the chain capabilities in ci/capabilities.txt.
#
# Toolchain: this machine cannot `rustup target add wasm32-unknown-unknown`,
# so the default is Debian's Rust (rustc-web) with the std sources, building
# std for wasm32 (build-std) for the MVP CPU, which every wasmvm 2.x accepts.
# Where rustup has the wasm32 target installed, that is used instead.
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
RUSTFLAGS_WASM="-C target-cpu=mvp -C link-arg=-s"
if [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
  CARGO=(/usr/bin/cargo)
  export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
  EXTRA=(-Zbuild-std=std,panic_abort)
  # immediate-abort: a panic traps at once, so the panic formatting and
  # backtrace-demangling machinery of std (about 50 KiB) is not linked in.
  RUSTFLAGS_WASM="$RUSTFLAGS_WASM -C link-arg=--allow-undefined -Zunstable-options -Cpanic=immediate-abort"
elif rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  CARGO=(cargo)
  EXTRA=()
else
  echo "no wasm toolchain: run ci/setup.sh (installs rustc-web + rust-web-src)" >&2
  exit 1
fi

mkdir -p artifacts
built=()
for name in "${targets[@]}"; do
  if [[ " $CONTRACTS " == *" $name "* ]] && ! has_entry_points "$name"; then
    log "skip $name: placeholder crate without entry points"
    continue
  fi
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
    RUSTFLAGS="$RUSTFLAGS_WASM" "${CARGO[@]}" build --release --lib \
      --target wasm32-unknown-unknown "${EXTRA[@]}" --manifest-path "$src/Cargo.toml"
  else
    # One cargo invocation per contract: building several together would
    # unify features, and a `library` feature enabled by one would strip
    # another's entry points.
    RUSTFLAGS="$RUSTFLAGS_WASM" "${CARGO[@]}" build --release --locked --lib \
      --target wasm32-unknown-unknown "${EXTRA[@]}" -p "$name"
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
