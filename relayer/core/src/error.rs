//! Typed errors, one enum per concern; the binary adds context with anyhow.

use std::path::PathBuf;

use thiserror::Error;

/// The Cosmos SDK's own ABCI codespace.
pub const SDK_CODESPACE: &str = "sdk";
/// `sdk` code 19: the tx is already in the mempool cache.
pub const SDK_TX_IN_MEMPOOL_CACHE: u32 = 19;
/// `sdk` code 32: account sequence mismatch.
pub const SDK_WRONG_SEQUENCE: u32 = 32;
/// `sdk` code 5: insufficient funds (the fee or the funds sent).
pub const SDK_INSUFFICIENT_FUNDS: u32 = 5;
/// `sdk` code 11: out of gas.
pub const SDK_OUT_OF_GAS: u32 = 11;
/// `sdk` code 13: fee below the node's minimum gas price.
pub const SDK_INSUFFICIENT_FEE: u32 = 13;
/// `sdk` code 20: the node's mempool is full.
pub const SDK_MEMPOOL_FULL: u32 = 20;
/// `sdk` code 30: the tx's `timeout_height` has passed.
pub const SDK_TX_TIMEOUT_HEIGHT: u32 = 30;
/// The wasm module's codespace: every code in it is about a contract
/// (`wasm`/5 "execute wasm contract failed", /4 instantiate, /9 query, ...).
pub const WASM_CODESPACE: &str = "wasm";

/// Why a chain refused or failed a transaction, from its ABCI codespace and
/// code (a code alone is ambiguous: `sdk`/5 is insufficient funds, `wasm`/5
/// a contract that failed). It decides what the outbox does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureClass {
    /// The fee is below the node's minimum or its mempool is full: retried
    /// with backoff and alerted; never a reason to give up on the effect.
    Fee,
    /// The signer cannot pay: retried with backoff and alerted.
    Funds,
    /// The gas limit was too low: signed again with a fresh estimate, alerted.
    OutOfGas,
    /// The tx's `timeout_height` passed: its fate is looked up in the blocks.
    Expired,
    /// The contract refused the message (codespace `wasm`, or a simulation
    /// the contract failed): recorded and retried a bounded number of times.
    Contract,
    /// Anything else (a malformed tx, a wrong chain id or signature): final.
    Permanent,
}

impl FailureClass {
    /// Classifies an ABCI result by codespace and code.
    pub fn of(codespace: &str, code: u32) -> Self {
        match (codespace, code) {
            (SDK_CODESPACE, SDK_INSUFFICIENT_FEE | SDK_MEMPOOL_FULL) => FailureClass::Fee,
            (SDK_CODESPACE, SDK_INSUFFICIENT_FUNDS) => FailureClass::Funds,
            (SDK_CODESPACE, SDK_OUT_OF_GAS) => FailureClass::OutOfGas,
            (SDK_CODESPACE, SDK_TX_TIMEOUT_HEIGHT) => FailureClass::Expired,
            (WASM_CODESPACE, _) => FailureClass::Contract,
            _ => FailureClass::Permanent,
        }
    }

    /// The stored and metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Fee => "fee",
            FailureClass::Funds => "funds",
            FailureClass::OutOfGas => "out_of_gas",
            FailureClass::Expired => "expired",
            FailureClass::Contract => "contract",
            FailureClass::Permanent => "permanent",
        }
    }

    /// Parses [`FailureClass::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "fee" => FailureClass::Fee,
            "funds" => FailureClass::Funds,
            "out_of_gas" => FailureClass::OutOfGas,
            "expired" => FailureClass::Expired,
            "contract" => FailureClass::Contract,
            "permanent" => FailureClass::Permanent,
            _ => return None,
        })
    }

    /// Fee, funds and gas: the operator's to fix (an alert), the effect's
    /// to retry; never a reason to drop what the tx was for.
    pub fn is_operational(self) -> bool {
        matches!(
            self,
            FailureClass::Fee | FailureClass::Funds | FailureClass::OutOfGas
        )
    }
}

/// Failures talking to a chain (either backend).
#[derive(Debug, Error)]
pub enum ChainError {
    /// The account sequence in the signed tx does not match the chain's.
    #[error("account sequence mismatch: expected {expected}, got {got}")]
    SequenceMismatch {
        /// Sequence the chain expects next.
        expected: u64,
        /// Sequence the transaction carried.
        got: u64,
    },
    /// The chain ran the transaction (or its simulation) and it failed.
    #[error("tx {hash} failed with code {code} (codespace {codespace}): {log}")]
    TxFailed {
        /// Transaction hash (upper-case hex; `simulation` for a simulation).
        hash: String,
        /// ABCI codespace (`sdk`, `wasm`, ...).
        codespace: String,
        /// ABCI code within the codespace.
        code: u32,
        /// The chain's log / contract error.
        log: String,
    },
    /// The chain refused the transaction before running it (CheckTx).
    #[error("tx {hash} rejected by the node with code {code} (codespace {codespace}): {log}")]
    Rejected {
        /// Transaction hash.
        hash: String,
        /// ABCI codespace (`sdk`, `wasm`, ...).
        codespace: String,
        /// ABCI code within the codespace.
        code: u32,
        /// The node's log.
        log: String,
    },
    /// The transaction was broadcast but not seen in a block in time.
    #[error("tx {hash} not included within {secs}s")]
    InclusionTimeout {
        /// Transaction hash.
        hash: String,
        /// How long we waited.
        secs: u64,
    },
    /// Simulated gas times the multiplier exceeds the configured ceiling.
    #[error("estimated gas {estimated} exceeds max_gas {max}")]
    GasAboveMax {
        /// Gas after the multiplier.
        estimated: u64,
        /// Configured ceiling.
        max: u64,
    },
    /// A smart query failed in the contract or was malformed.
    #[error("query on {contract} failed: {reason}")]
    Query {
        /// Contract address.
        contract: String,
        /// Contract or node error.
        reason: String,
    },
    /// A contract name not in the registry or not deployed.
    #[error("unknown contract {name}")]
    UnknownContract {
        /// The name asked for.
        name: String,
    },
    /// No code with this id on the chain.
    #[error("no code with id {code_id}")]
    UnknownCode {
        /// Code id.
        code_id: u64,
    },
    /// No contract at this address.
    #[error("no contract at {address}")]
    NoContract {
        /// Address.
        address: String,
    },
    /// A height the chain has not produced (or has pruned).
    #[error("block {height} not available (latest {latest})")]
    BlockUnavailable {
        /// Requested height.
        height: u64,
        /// Latest height.
        latest: u64,
    },
    /// A height the node no longer keeps (pruned); `earliest` is the lowest it has.
    #[error("block {height} was pruned (earliest available {earliest})")]
    BlockPruned {
        /// Requested height.
        height: u64,
        /// Lowest height still available.
        earliest: u64,
    },
    /// The node has the block but not its results (pruned or discarded
    /// ABCI responses): its events are lost, a gap for event followers.
    #[error("results of block {height} are missing: {reason}")]
    BlockMissing {
        /// Height.
        height: u64,
        /// The node's message.
        reason: String,
    },
    /// An address that is not valid bech32 for the chain's prefix.
    #[error("invalid address {address}: {reason}")]
    InvalidAddress {
        /// The string given.
        address: String,
        /// Why it failed.
        reason: String,
    },
    /// Key derivation or signing failed.
    #[error("signer: {0}")]
    Signer(String),
    /// The node answered something we could not decode.
    #[error("decoding {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Decoder message.
        reason: String,
    },
    /// Transport (HTTP/RPC) failure.
    #[error("rpc: {0}")]
    Rpc(String),
    /// The embedded chain's thread stopped.
    #[error("embedded chain stopped")]
    ChainStopped,
    /// Anything the JSON layer refused.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl ChainError {
    /// Failures that say nothing about the tx itself (transport, a node
    /// behind or restarting, a tx not yet included): worth retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ChainError::Rpc(_)
                | ChainError::InclusionTimeout { .. }
                | ChainError::BlockUnavailable { .. }
        )
    }

    /// Errors worth retrying after refetching state (sequence races, transient transport).
    pub fn is_sequence_mismatch(&self) -> bool {
        matches!(self, ChainError::SequenceMismatch { .. })
    }

    /// What kind of refusal a failed or rejected tx (or simulation) is;
    /// `None` for errors that say nothing about the tx (transport, decoding).
    pub fn failure_class(&self) -> Option<FailureClass> {
        match self {
            ChainError::TxFailed {
                codespace, code, ..
            }
            | ChainError::Rejected {
                codespace, code, ..
            } => Some(FailureClass::of(codespace, *code)),
            // The ceiling is ours, and a contract whose estimate exceeds it
            // is refused the way a contract error is (bounded retries).
            ChainError::GasAboveMax { .. } => Some(FailureClass::Contract),
            _ => None,
        }
    }

    /// Worth retrying with backoff: transient, a sequence race, or a fee,
    /// funds or gas problem the operator is alerted to.
    pub fn is_retryable(&self) -> bool {
        self.is_transient()
            || self.is_sequence_mismatch()
            || self
                .failure_class()
                .is_some_and(FailureClass::is_operational)
    }

    /// CheckTx said the node already holds this tx (`sdk` code 19,
    /// `ErrTxInMempoolCache`, or CometBFT's JSON-RPC error "tx already
    /// exists in cache", which the Cosmos backend maps to it): ours,
    /// broadcast before.
    pub fn is_already_in_mempool(&self) -> bool {
        matches!(self, ChainError::Rejected { codespace, code: SDK_TX_IN_MEMPOOL_CACHE, .. } if codespace == SDK_CODESPACE)
    }
}

/// Failures of the SQLite state store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("sqlite ({context}): {source}")]
    Sqlite {
        /// What we were doing.
        context: &'static str,
        /// The driver error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer relayer.
    #[error("database schema version {found} is newer than this relayer's {supported}")]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Highest version we know.
        supported: u32,
    },
    /// An outbox entry with this key exists with different messages.
    #[error("idempotency key {key} already used for a different payload")]
    KeyConflict {
        /// Idempotency key.
        key: String,
    },
    /// A row that should exist does not.
    #[error("outbox entry {id} not found")]
    NotFound {
        /// Row id.
        id: i64,
    },
    /// The migration runner failed.
    #[error("migrating the database: {0}")]
    Migration(String),
    /// An operator asked to abandon an entry that is already final.
    #[error("outbox entry {id} is already {status}")]
    NotOpen {
        /// Row id.
        id: i64,
        /// Its status.
        status: &'static str,
    },
    /// An operator asked to retry an entry that has not failed.
    #[error("outbox entry {id} is {status}; only failed entries are retried")]
    NotFailed {
        /// Row id.
        id: i64,
        /// Its status.
        status: &'static str,
    },
    /// A blocking store task panicked or was cancelled.
    #[error("store task: {0}")]
    Task(String),
    /// A group commit failed or its writer stopped; nothing of the batch
    /// was acknowledged.
    #[error("group commit ({context}): {reason}")]
    Batch {
        /// What the batch was doing.
        context: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A stored value failed to decode.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt {
        /// Table name.
        table: &'static str,
        /// Why.
        reason: String,
    },
}

/// Extension to attach context to rusqlite results (for store modules).
pub trait SqlContext<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite { context, source })
    }
}

/// Configuration problems; every variant names the field.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// Config path.
        path: PathBuf,
        /// IO error.
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax or shape error (unknown field, wrong type); the message
    /// names the key and shows the line.
    #[error("{path}: {message}")]
    Parse {
        /// Config path (or `<string>`).
        path: String,
        /// toml's message, which names the offending key.
        message: String,
    },
    /// A value outside its allowed range.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// Dotted path of the field, e.g. `chain.cosmos.gas_multiplier`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A required field is missing for the selected mode.
    #[error("missing `{field}`: {reason}")]
    Missing {
        /// Dotted path of the field.
        field: String,
        /// Why it is needed.
        reason: String,
    },
    /// A secret could not be found.
    #[error("secret `{field}`: {reason}")]
    Secret {
        /// Field that names the secret's source.
        field: String,
        /// What went wrong.
        reason: String,
    },
}

/// Deployment failures.
#[derive(Debug, Error)]
pub enum DeployError {
    /// Spec file problems.
    #[error("deploy spec {path}: {reason}")]
    Spec {
        /// Spec path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A contract name that the registry does not know.
    #[error("contract `{name}` is not in the relayer's contract registry (known: {known})")]
    UnknownCode {
        /// The name.
        name: String,
        /// Registered names.
        known: String,
    },
    /// A `${contract:...}` reference to an instance not deployed before it.
    #[error("instance `{instance}` refers to `{missing}`, which is not deployed before it")]
    UnresolvedReference {
        /// Instance with the reference.
        instance: String,
        /// Name referred to.
        missing: String,
    },
    /// The wasm artifact is missing (Cosmos backend needs the bytes).
    #[error("artifact {path}: {reason}")]
    Artifact {
        /// Path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Reading or writing the deployment JSON.
    #[error("deployment file {path}: {reason}")]
    File {
        /// Path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The deploy journal (an outbox) could not finish a step.
    #[error("deploy journal: {0}")]
    Journal(String),
    /// The chain failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
}
