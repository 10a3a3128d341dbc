//! The block pipeline of the embedded node: CheckTx into the mempool,
//! committing a block (delayed txs hold back their sender), DeliverTx through
//! cw-multi-test, and the wasmd-like gas estimate.

use cosmwasm_std::{Addr, BlockInfo, CosmosMsg, Empty, Timestamp, WasmMsg};
use relayer_core::chain::{
    tx_hash, Attribute, BlockEvents, ChainMsg, ChainResult, Event, TxEvents, TxOutcome,
};
use relayer_core::error::{SDK_CODESPACE, SDK_TX_IN_MEMPOOL_CACHE};
use relayer_core::ChainError;

use super::{now_nanos, Node};
use crate::faults::take;
use crate::EmbeddedTx;

fn convert_events(events: &[cosmwasm_std::Event]) -> Vec<Event> {
    events
        .iter()
        .map(|e| Event {
            ty: e.ty.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|a| Attribute {
                    key: a.key.clone(),
                    value: a.value.clone(),
                })
                .collect(),
        })
        .collect()
}

/// wasmd-like gas estimate (module docs): a base per tx and per message,
/// message bytes and emitted attributes.
fn estimate_gas(tx: &EmbeddedTx, events: &[Event]) -> u64 {
    let msg_bytes: usize = tx
        .msgs
        .iter()
        .map(|m| match m {
            ChainMsg::Execute { msg, .. }
            | ChainMsg::Instantiate { msg, .. }
            | ChainMsg::Instantiate2 { msg, .. } => msg.len(),
            ChainMsg::StoreCode { wasm } => wasm.len(),
            ChainMsg::IbcTransfer { memo, .. } => memo.len(),
            ChainMsg::BankSend { .. } => 0,
        })
        .sum();
    let attrs: usize = events.iter().map(|e| e.attributes.len()).sum();
    60_000 + 20_000 * tx.msgs.len() as u64 + 30 * msg_bytes as u64 + 10 * attrs as u64
}

impl Node {
    /// CheckTx: decode, chain id, sequence against the mempool state, duplicates.
    pub(super) fn check_tx(&mut self, bytes: &[u8]) -> ChainResult<()> {
        let hash = tx_hash(bytes);
        let tx: EmbeddedTx = serde_json::from_slice(bytes).map_err(|e| ChainError::Rejected {
            hash: hash.clone(),
            codespace: SDK_CODESPACE.into(),
            code: 2,
            log: format!("tx parse error: {e}"),
        })?;
        if self.txs.contains_key(&hash) || self.mempool.iter().any(|(h, _, _)| *h == hash) {
            return Err(ChainError::Rejected {
                hash,
                codespace: SDK_CODESPACE.into(),
                code: SDK_TX_IN_MEMPOOL_CACHE,
                log: "tx already exists in cache".into(),
            });
        }
        if tx.chain_id != self.options.chain_id {
            return Err(ChainError::Rejected {
                hash,
                codespace: SDK_CODESPACE.into(),
                code: 4,
                log: format!(
                    "signature verification failed: chain-id {} is not {}",
                    tx.chain_id, self.options.chain_id
                ),
            });
        }
        self.validate(&tx.sender)?;
        let expected = self.check_sequences.get(&tx.sender).copied().unwrap_or(0);
        if tx.sequence != expected {
            return Err(ChainError::SequenceMismatch {
                expected,
                got: tx.sequence,
            });
        }
        self.check_sequences.insert(tx.sender.clone(), expected + 1);
        let mut not_before = self.height + 1;
        if take(&mut self.faults.delay_count) {
            self.faults.counts.delayed_txs += 1;
            not_before += self.faults.delay_blocks;
        }
        self.mempool.push((hash, tx, not_before));
        Ok(())
    }

    pub(super) fn commit_block(&mut self) {
        let height = self.height + 1;
        self.time_nanos = now_nanos()
            .saturating_add(self.time_offset_nanos)
            .max(self.time_nanos + 1_000_000)
            .max(self.min_next_time);
        self.app.set_block(BlockInfo {
            height,
            time: Timestamp::from_nanos(self.time_nanos),
            chain_id: self.options.chain_id.clone(),
        });
        let mut txs = Vec::new();
        // A delayed tx holds back every later tx of its sender.
        let mut held = Vec::new();
        let mut blocked: std::collections::HashSet<String> = Default::default();
        let mut ready = Vec::new();
        for (hash, tx, not_before) in std::mem::take(&mut self.mempool) {
            if not_before > height || blocked.contains(&tx.sender) {
                blocked.insert(tx.sender.clone());
                held.push((hash, tx, not_before));
            } else {
                ready.push((hash, tx));
            }
        }
        self.mempool = held;
        for (index, (hash, tx)) in ready.into_iter().enumerate() {
            // The ante handler consumed the sequence whatever DeliverTx does.
            let next = self.sequences.get(&tx.sender).copied().unwrap_or(0) + 1;
            self.sequences.insert(tx.sender.clone(), next);
            let outcome = self.deliver(height, &hash, &tx);
            txs.push(TxEvents {
                hash: hash.clone(),
                index: index as u32,
                code: outcome.code,
                events: outcome.events.clone(),
            });
            if let Some(waiters) = self.waiters.remove(&hash) {
                for w in waiters {
                    let _ = w.send(Ok(outcome.clone()));
                }
            }
            self.txs.insert(hash, outcome);
        }
        // CheckTx state restarts from the committed state plus what is still
        // in the mempool, as after Commit and recheck.
        self.check_sequences = self.sequences.clone();
        for (_, tx, _) in &self.mempool {
            self.check_sequences
                .insert(tx.sender.clone(), tx.sequence + 1);
        }
        self.height = height;
        self.blocks.push_back(BlockEvents {
            height,
            time_nanos: self.time_nanos,
            txs,
            block_events: vec![],
        });
        while self.blocks.len() > self.options.retain_blocks.max(1) {
            self.blocks.pop_front();
        }
    }

    fn deliver(&mut self, height: u64, hash: &str, tx: &EmbeddedTx) -> TxOutcome {
        let mut outcome = TxOutcome {
            hash: hash.to_string(),
            height,
            code: 0,
            codespace: String::new(),
            log: String::new(),
            gas_used: 0,
            gas_wanted: tx.gas_limit,
            events: vec![],
        };
        if tx
            .msgs
            .iter()
            .any(|m| matches!(m, ChainMsg::StoreCode { .. }))
        {
            // Code is registered natively here (`CodeClient::store_code`).
            outcome.code = 6;
            outcome.codespace = relayer_core::error::SDK_CODESPACE.into();
            outcome.log = "the embedded chain stores code through CodeClient::store_code".into();
            return outcome;
        }
        if tx
            .msgs
            .iter()
            .any(|m| matches!(m, ChainMsg::IbcTransfer { .. }))
        {
            // An unknown message on a node: the SDK's "unknown request".
            outcome.code = 6;
            outcome.codespace = relayer_core::error::SDK_CODESPACE.into();
            outcome.log = "the embedded chain has no IBC: MsgTransfer needs a node".into();
            return outcome;
        }
        let msgs: Vec<CosmosMsg<Empty>> = tx
            .msgs
            .iter()
            .filter_map(|m| {
                Some(match m.clone() {
                    ChainMsg::Execute {
                        contract,
                        msg,
                        funds,
                    } => CosmosMsg::Wasm(WasmMsg::Execute {
                        contract_addr: contract,
                        msg: msg.into_bytes().into(),
                        funds,
                    }),
                    ChainMsg::Instantiate {
                        code_id,
                        msg,
                        funds,
                        label,
                        admin,
                    } => CosmosMsg::Wasm(WasmMsg::Instantiate {
                        admin,
                        code_id,
                        msg: msg.into_bytes().into(),
                        funds,
                        label,
                    }),
                    ChainMsg::Instantiate2 {
                        code_id,
                        msg,
                        funds,
                        label,
                        admin,
                        salt,
                    } => CosmosMsg::Wasm(WasmMsg::Instantiate2 {
                        admin,
                        code_id,
                        label,
                        msg: msg.into_bytes().into(),
                        funds,
                        salt,
                    }),
                    ChainMsg::BankSend { to_address, amount } => {
                        CosmosMsg::Bank(cosmwasm_std::BankMsg::Send { to_address, amount })
                    }
                    // Both refused above.
                    ChainMsg::StoreCode { .. } | ChainMsg::IbcTransfer { .. } => return None,
                })
            })
            .collect();
        // Refuse before running what the estimate already puts over the
        // limit (the ante handler's job on a real chain).
        let floor = estimate_gas(tx, &[]);
        if floor > tx.gas_limit {
            outcome.code = relayer_core::error::SDK_OUT_OF_GAS;
            outcome.codespace = relayer_core::error::SDK_CODESPACE.into();
            outcome.log = format!("out of gas: limit {}, needs at least {floor}", tx.gas_limit);
            outcome.gas_used = tx.gas_limit;
            return outcome;
        }
        let sender = Addr::unchecked(&tx.sender);
        match self.app.execute_multi(sender, msgs) {
            Ok(responses) => {
                let mut events = vec![Event {
                    ty: "tx".into(),
                    attributes: vec![Attribute {
                        key: "acc_seq".into(),
                        value: format!("{}/{}", tx.sender, tx.sequence),
                    }],
                }];
                for r in &responses {
                    events.extend(convert_events(&r.events));
                }
                outcome.gas_used = estimate_gas(tx, &events);
                outcome.events = events;
            }
            Err(e) => {
                // wasmd's "execute wasm contract failed".
                outcome.code = 5;
                outcome.codespace = relayer_core::error::WASM_CODESPACE.into();
                outcome.log = format!("{e:#}");
                outcome.gas_used = floor;
            }
        }
        outcome
    }
}
