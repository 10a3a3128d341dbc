//! Pure transaction building: messages as protobuf `Any`, gas and fee,
//! SIGN_MODE_DIRECT signing, and CheckTx results as typed errors. No I/O, so
//! it is tested byte for byte against CosmJS.

use std::io::Write;
use std::str::FromStr;

use cosmrs::cosmwasm::{MsgExecuteContract, MsgInstantiateContract, MsgStoreCode};
use cosmrs::proto::prost::Message;
use cosmrs::tendermint::chain::Id as ChainId;
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin as SdkCoin, Denom};
use cosmwasm_std::Coin;
use flate2::write::GzEncoder;
use relayer_core::chain::{ChainMsg, ChainResult};
use relayer_core::error::{SDK_CODESPACE, SDK_WRONG_SEQUENCE};
use relayer_core::ChainError;

use crate::keys::Signer;

pub(crate) fn signer_err(e: impl std::fmt::Display) -> ChainError {
    ChainError::Signer(e.to_string())
}

pub(crate) fn account_id(address: &str) -> ChainResult<AccountId> {
    AccountId::from_str(address).map_err(|e| ChainError::InvalidAddress {
        address: address.to_string(),
        reason: e.to_string(),
    })
}

fn sdk_coins(funds: &[Coin]) -> ChainResult<Vec<SdkCoin>> {
    // The SDK requires coins sorted by denom.
    let mut sorted = funds.to_vec();
    sorted.sort_by(|a, b| a.denom.cmp(&b.denom));
    sorted
        .iter()
        .map(|c| {
            Ok(SdkCoin {
                denom: Denom::from_str(&c.denom).map_err(signer_err)?,
                amount: c.amount.u128(),
            })
        })
        .collect()
}

/// Encodes a [`ChainMsg`] as a protobuf `Any` from `sender`.
pub fn msg_to_any(msg: &ChainMsg, sender: &str) -> ChainResult<Any> {
    let sender = account_id(sender)?;
    match msg {
        ChainMsg::Execute {
            contract,
            msg,
            funds,
        } => MsgExecuteContract {
            sender,
            contract: account_id(contract)?,
            msg: msg.as_bytes().to_vec(),
            funds: sdk_coins(funds)?,
        }
        .to_any(),
        ChainMsg::Instantiate {
            code_id,
            msg,
            funds,
            label,
            admin,
        } => MsgInstantiateContract {
            sender,
            admin: admin.as_deref().map(account_id).transpose()?,
            code_id: *code_id,
            label: Some(label.clone()),
            msg: msg.as_bytes().to_vec(),
            funds: sdk_coins(funds)?,
        }
        .to_any(),
        ChainMsg::StoreCode { wasm } => return store_code_any(sender.as_ref(), wasm.as_slice()),
        ChainMsg::BankSend { to_address, amount } => cosmrs::bank::MsgSend {
            from_address: sender,
            to_address: account_id(to_address)?,
            amount: sdk_coins(amount)?,
        }
        .to_any(),
        ChainMsg::IbcTransfer {
            source_channel,
            token,
            receiver,
            memo,
            timeout_timestamp_nanos,
        } => {
            if token.amount.is_zero() || receiver.is_empty() || *timeout_timestamp_nanos == 0 {
                return Err(ChainError::Signer(
                    "MsgTransfer needs an amount, a receiver and a timeout".into(),
                ));
            }
            return Ok(transfer_any(
                sender.as_ref(),
                source_channel,
                token,
                receiver,
                memo,
                *timeout_timestamp_nanos,
            ));
        }
        ChainMsg::Instantiate2 {
            code_id,
            msg,
            funds,
            label,
            admin,
            salt,
        } => {
            let mut sorted = funds.to_vec();
            sorted.sort_by(|a, b| a.denom.cmp(&b.denom));
            let proto = cosmrs::proto::cosmwasm::wasm::v1::MsgInstantiateContract2 {
                sender: sender.to_string(),
                admin: admin.clone().unwrap_or_default(),
                code_id: *code_id,
                label: label.clone(),
                msg: msg.as_bytes().to_vec(),
                funds: sorted
                    .iter()
                    .map(|c| cosmrs::proto::cosmos::base::v1beta1::Coin {
                        denom: c.denom.clone(),
                        amount: c.amount.to_string(),
                    })
                    .collect(),
                salt: salt.to_vec(),
                fix_msg: false,
            };
            return Ok(Any {
                type_url: "/cosmwasm.wasm.v1.MsgInstantiateContract2".into(),
                value: proto.encode_to_vec(),
            });
        }
    }
    .map_err(signer_err)
}

/// ICS-20 `MsgTransfer` (ibc-go v10: fields 1 to 8). ibc-go's proto types
/// are not in cosmrs, and the message is small, so it is encoded field by
/// field as prost's derive would (proto3: default values omitted; the
/// timeout height is left unset, only the timestamp is used).
fn transfer_any(
    sender: &str,
    source_channel: &str,
    token: &Coin,
    receiver: &str,
    memo: &str,
    timeout_timestamp_nanos: u64,
) -> Any {
    use cosmrs::proto::prost::encoding::{message, string, uint64};
    let coin = cosmrs::proto::cosmos::base::v1beta1::Coin {
        denom: token.denom.clone(),
        amount: token.amount.to_string(),
    };
    let mut value = Vec::new();
    for (tag, field) in [(1, "transfer"), (2, source_channel)] {
        string::encode(tag, &field.to_string(), &mut value);
    }
    message::encode(3, &coin, &mut value);
    for (tag, field) in [(4, sender), (5, receiver)] {
        string::encode(tag, &field.to_string(), &mut value);
    }
    if timeout_timestamp_nanos != 0 {
        uint64::encode(7, &timeout_timestamp_nanos, &mut value);
    }
    if !memo.is_empty() {
        string::encode(8, &memo.to_string(), &mut value);
    }
    Any {
        type_url: "/ibc.applications.transfer.v1.MsgTransfer".into(),
        value,
    }
}

/// `MsgStoreCode` with gzip-compressed wasm (wasmd accepts gzip and it
/// roughly thirds the tx size).
pub fn store_code_any(sender: &str, wasm: &[u8]) -> ChainResult<Any> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(wasm)
        .and_then(|_| gz.finish())
        .map_err(|e| ChainError::Signer(format!("gzip: {e}")))
        .and_then(|bytes| {
            MsgStoreCode {
                sender: account_id(sender)?,
                wasm_byte_code: bytes,
                instantiate_permission: None,
            }
            .to_any()
            .map_err(signer_err)
        })
}

/// Gas limit from a simulation: `ceil(simulated × multiplier)`, refused above `max_gas`.
pub fn gas_limit(simulated: u64, multiplier: f64, max_gas: u64) -> ChainResult<u64> {
    let estimated = (simulated as f64 * multiplier).ceil() as u64;
    if estimated > max_gas {
        return Err(ChainError::GasAboveMax {
            estimated,
            max: max_gas,
        });
    }
    Ok(estimated)
}

/// The fee for a gas limit: `ceil(gas_limit × gas_price)` of `denom`. A zero
/// fee carries no coin at all: the SDK rejects zero-amount coins.
pub fn fee_for(gas_limit: u64, gas_price: f64, denom: &str) -> ChainResult<Fee> {
    let amount = (gas_limit as f64 * gas_price).ceil() as u128;
    if amount == 0 {
        return Ok(Fee {
            amount: vec![],
            gas_limit,
            payer: None,
            granter: None,
        });
    }
    Ok(Fee::from_amount_and_gas(
        SdkCoin {
            denom: Denom::from_str(denom).map_err(signer_err)?,
            amount,
        },
        gas_limit,
    ))
}

/// Everything signing produced, for vectors and broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedParts {
    /// `TxBody` bytes.
    pub body_bytes: Vec<u8>,
    /// `AuthInfo` bytes.
    pub auth_info_bytes: Vec<u8>,
    /// `SignDoc` bytes (what is signed).
    pub sign_bytes: Vec<u8>,
    /// 64-byte r‖s secp256k1 signature (low-s, RFC 6979).
    pub signature: Vec<u8>,
    /// `TxRaw` bytes.
    pub tx_bytes: Vec<u8>,
}

/// Builds and signs a tx (SIGN_MODE_DIRECT) that no block above
/// `timeout_height` may include (0 = no timeout). Deterministic: the same
/// inputs give the same bytes as CosmJS's `DirectSecp256k1HdWallet`.
#[allow(clippy::too_many_arguments)]
pub fn sign_tx(
    signer: &Signer,
    chain_id: &str,
    account_number: u64,
    sequence: u64,
    msgs: Vec<Any>,
    memo: &str,
    fee: Fee,
    timeout_height: u64,
) -> ChainResult<SignedParts> {
    let timeout =
        cosmrs::tendermint::block::Height::try_from(timeout_height).map_err(signer_err)?;
    let body = Body::new(msgs, memo, timeout);
    let auth_info = SignerInfo::single_direct(Some(signer.public_key()), sequence).auth_info(fee);
    let chain_id = ChainId::try_from(chain_id.to_string()).map_err(signer_err)?;
    let doc = SignDoc::new(&body, &auth_info, &chain_id, account_number).map_err(signer_err)?;
    let body_bytes = doc.body_bytes.clone();
    let auth_info_bytes = doc.auth_info_bytes.clone();
    let sign_bytes = doc.clone().into_bytes().map_err(signer_err)?;
    let raw = doc.sign(signer.signing_key()).map_err(signer_err)?;
    let tx_bytes = raw.to_bytes().map_err(signer_err)?;
    let proto =
        cosmrs::proto::cosmos::tx::v1beta1::TxRaw::decode(tx_bytes.as_slice()).map_err(|e| {
            ChainError::Decode {
                what: "own TxRaw",
                reason: e.to_string(),
            }
        })?;
    Ok(SignedParts {
        body_bytes,
        auth_info_bytes,
        sign_bytes,
        signature: proto.signatures.first().cloned().unwrap_or_default(),
        tx_bytes,
    })
}

/// Maps a `broadcast_tx_sync` (CheckTx) result to our errors by its typed
/// codespace and code: `sdk`/32 (`ErrWrongSequence`) is a sequence mismatch
/// (the log only adds the numbers), anything else non-zero a rejection.
pub fn check_broadcast(hash: &str, codespace: &str, code: u32, log: &str) -> ChainResult<()> {
    match (codespace, code) {
        (_, 0) => Ok(()),
        (SDK_CODESPACE, SDK_WRONG_SEQUENCE) => Err(parse_sequence_mismatch(log).unwrap_or(
            ChainError::SequenceMismatch {
                expected: 0,
                got: 0,
            },
        )),
        _ => Err(ChainError::Rejected {
            hash: hash.to_string(),
            codespace: codespace.to_string(),
            code,
            log: log.to_string(),
        }),
    }
}

/// Parses wasmd's "account sequence mismatch, expected 5, got 4".
pub fn parse_sequence_mismatch(log: &str) -> Option<ChainError> {
    let rest = &log[log.find("expected ")? + "expected ".len()..];
    let expected: u64 = rest
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let got_at = rest.find("got ")? + "got ".len();
    let got: u64 = rest[got_at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some(ChainError::SequenceMismatch { expected, got })
}

/// The registered error descriptions a simulation's error text ends with,
/// and their codespace and code (wasmd's `x/wasm/types/errors.go`, the
/// SDK's `types/errors`).
const SIMULATION_ERRORS: &[(&str, &str, u32)] = &[
    ("execute wasm contract failed", "wasm", 5),
    ("instantiate wasm contract failed", "wasm", 4),
    ("migrate wasm contract failed", "wasm", 11),
    ("insufficient funds", SDK_CODESPACE, 5),
    ("out of gas", SDK_CODESPACE, 11),
    ("insufficient fee", SDK_CODESPACE, 13),
    (
        "incorrect account sequence",
        SDK_CODESPACE,
        SDK_WRONG_SEQUENCE,
    ),
];

/// A failed `Simulate` query as a typed error. The node answers a gRPC
/// query's failure as `sdk`/6 ("unknown request") with the original error's
/// text, so the original codespace and code are recovered from the
/// registered description the text ends with (`...: execute wasm contract
/// failed [keeper.go:452] with gas used: '96314'` is `wasm`/5); any other
/// answer keeps its own codespace and code.
pub fn simulation_error(code: u32, codespace: &str, log: &str) -> ChainError {
    let (codespace, code) = match (codespace, code) {
        (SDK_CODESPACE, 6) => {
            let text = log.split(" with gas used").next().unwrap_or(log);
            let text = text.split(" [").next().unwrap_or(text).trim_end();
            SIMULATION_ERRORS
                .iter()
                .find(|(desc, _, _)| text.ends_with(desc))
                .map(|(_, space, code)| (*space, *code))
                .unwrap_or((SDK_CODESPACE, 6))
        }
        other => other,
    };
    if (codespace, code) == (SDK_CODESPACE, SDK_WRONG_SEQUENCE) {
        return parse_sequence_mismatch(log).unwrap_or(ChainError::SequenceMismatch {
            expected: 0,
            got: 0,
        });
    }
    ChainError::TxFailed {
        hash: "simulation".into(),
        codespace: codespace.to_string(),
        code,
        log: log.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulation_errors_keep_their_origin() {
        // wasmd v0.61.14's answer to a contract error at simulation.
        let log = "rpc error: code = Unknown desc = failed to execute message; message index: 0: listing 999 not found: execute wasm contract failed [CosmWasm/wasmd/x/wasm/keeper/keeper.go:452] with gas used: '96314': unknown request";
        let e = simulation_error(6, "sdk", log);
        assert!(
            matches!(&e, ChainError::TxFailed { codespace, code: 5, .. } if codespace == "wasm"),
            "{e}"
        );
        let funds = simulation_error(6, "sdk", "rpc error: code = Unknown desc = 10ustake is smaller than 20ustake: insufficient funds with gas used: '1': unknown request");
        assert!(
            matches!(&funds, ChainError::TxFailed { codespace, code: 5, .. } if codespace == "sdk"),
            "{funds}"
        );
        let seq = simulation_error(
            6,
            "sdk",
            "account sequence mismatch, expected 5, got 4: incorrect account sequence",
        );
        assert!(
            matches!(
                seq,
                ChainError::SequenceMismatch {
                    expected: 5,
                    got: 4
                }
            ),
            "{seq}"
        );
        let other = simulation_error(6, "sdk", "something else: unknown request");
        assert!(
            matches!(&other, ChainError::TxFailed { codespace, code: 6, .. } if codespace == "sdk"),
            "{other}"
        );
        let direct = simulation_error(5, "wasm", "x");
        assert!(
            matches!(&direct, ChainError::TxFailed { codespace, code: 5, .. } if codespace == "wasm")
        );
    }
}
