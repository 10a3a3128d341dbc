//! The Cosmos backend: a wasmd chain over CometBFT JSON-RPC with cosmrs 0.22
//! and tendermint-rpc 0.40.
//!
//! * Keys: BIP39 mnemonic, coin type 118 ([`keys`]).
//! * Txs: SIGN_MODE_DIRECT; gas = simulate × `gas_multiplier`, refused above
//!   `max_gas`; fee = ceil(gas × `gas_price`). Broadcast with
//!   `broadcast_tx_sync`, then poll `/tx` until included or timed out. The
//!   account sequence is refetched before each signature, and
//!   `relayer_core::chain::submit` retries once on a mismatch (wasmd code 32).
//! * Queries: ABCI `/cosmwasm.wasm.v1.Query/SmartContractState`, `Code`,
//!   `ContractInfo`, auth `Account`, bank `Balance`.
//! * Events: `/block` (for tx hashes) and `/block_results` per height,
//!   decoded in the configured CometBFT dialect (0.34 base64 attributes,
//!   0.37, 0.38 `finalize_block_events`).
//!
//! * Health: [`health`] checks the node (chain id, CometBFT version and
//!   dialect, tx indexing, minimum gas price) and the signer's account.
//!
//! The pure parts (messages, fees, sign doc, signature, tx bytes, RPC
//! decoding) are free functions so they are tested without a node: against
//! CosmJS vectors and against recorded CometBFT responses.

pub mod client;
pub mod health;
pub mod keys;
pub mod rpc;
pub mod tx;

pub use client::{CosmosClient, CosmosOptions};
pub use health::{compat_of_version, price_in, NodeHealth};
pub use keys::{
    generate_mnemonic, hd_path, load_mnemonic, parse_mnemonic, take_env_secret, Keyring, Signer,
};
pub use rpc::{
    block_error, block_events, block_tx_outcome, broadcast_error, convert_events, decode_abci,
    is_tx_not_found, node_error, parse_lowest_height, tx_outcome, RpcCompat, TX_IN_CACHE,
};
pub use tx::{
    check_broadcast, fee_for, gas_limit, msg_to_any, parse_sequence_mismatch, sign_tx,
    simulation_error, store_code_any, SignedParts,
};
