# Shared settings for the ci/ scripts (sourced, not run).
DEBIAN_PACKAGES="rustc-web cargo-web rust-web-src lld-22 binaryen python3"
COSMWASM_CHECK_VERSION="2.2.10"
CAPABILITIES="$(tr -d '[:space:]' < ci/capabilities.txt)"
# Contracts that are built to wasm (a crate whose lib exports entry points).
CONTRACTS="data-registry payment-channel token-curated-registry value-contract"
# Reference contract from crates.io, built the same way for gas comparisons.
REFERENCE_CONTRACTS="cw20-base"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

log() { printf '\033[1m[%s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*" >&2; }

# A contract is built only once its crate exports entry points; placeholder
# crates (contracts not built yet) are reported and skipped.
has_entry_points() {
  grep -rqs "entry_point" "contracts/$1/src"
}
