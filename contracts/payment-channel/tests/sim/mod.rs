//! A small chain around the contract's entry points (mock deps), for what
//! cw-multi-test cannot run: ICS-20 transfers with their reply and source
//! callbacks (acknowledgements, timeouts, lost callbacks), hub deposits with
//! a destination callback, cw20 `send`s, and tokens sent to the contract
//! directly. It keeps the bank and a cw20's balances, reverts a failed
//! call's state as wasmd does, and processes the messages a response
//! returns. Each test file includes it with `mod sim;`.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use cosmwasm_std::testing::{message_info, mock_env, MockApi, MockQuerier};
use cosmwasm_std::{
    from_json, to_json_binary, Addr, BankMsg, Binary, Coin, ContractResult, CosmosMsg, Empty, Env,
    IbcAckCallbackMsg, IbcAcknowledgement, IbcBasicResponse, IbcDestinationCallbackMsg,
    IbcEndpoint, IbcMsg, IbcPacket, IbcSourceCallbackMsg, IbcTimeout, IbcTimeoutCallbackMsg,
    MsgResponse, Order, OwnedDeps, Record, Reply, ReplyOn, Response, Storage, SubMsgResponse,
    SubMsgResult, SystemResult, Timestamp, Uint128, WasmMsg, WasmQuery,
};
use cw20::{Cw20ExecuteMsg, Cw20QueryMsg, Cw20ReceiveMsg};
use payment_channel::contract;
use payment_channel::msg::{ExecuteMsg, InstantiateMsg, QueryMsg, ReceiveMsg};
use payment_channel::ContractError;

/// The allowlisted ICS-20 channel on this chain, and its hub end.
pub const IBC_CHANNEL: &str = "channel-7";
pub const HUB_CHANNEL: &str = "channel-0";

/// A storage that can be copied, so a failed call can be reverted.
#[derive(Clone, Default)]
pub struct SimStorage(BTreeMap<Vec<u8>, Vec<u8>>);

impl Storage for SimStorage {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }

    fn range<'a>(
        &'a self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> Box<dyn Iterator<Item = Record> + 'a> {
        use std::ops::Bound;
        let lo = start.map_or(Bound::Unbounded, |s| Bound::Included(s.to_vec()));
        let hi = end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec()));
        if let (Bound::Included(l), Bound::Excluded(h)) = (&lo, &hi) {
            if l >= h {
                return Box::new(std::iter::empty());
            }
        }
        let iter = self
            .0
            .range::<Vec<u8>, _>((lo, hi))
            .map(|(k, v)| (k.clone(), v.clone()));
        match order {
            Order::Ascending => Box::new(iter),
            Order::Descending => Box::new(iter.rev()),
        }
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        self.0.insert(key.to_vec(), value.to_vec());
    }

    fn remove(&mut self, key: &[u8]) {
        self.0.remove(key);
    }
}

/// An ICS-20 packet the contract sent and nobody settled yet.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub packet: IbcPacket,
    pub denom: String,
    pub amount: u128,
}

/// What the counterparty (and the relayer) do with a packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fate {
    /// `{"result":"AQ=="}`: delivered.
    Success,
    /// `{"error":"…"}`: ICS-20 refunds.
    ErrorAck,
    /// `{}`: success for ibc-go, the tokens stay escrowed.
    EmptyAck,
    /// An acknowledgement that is neither result nor error.
    OddAck,
    /// Timed out on the counterparty's clock: ICS-20 refunds.
    Timeout,
}

impl Fate {
    pub fn refunds(self) -> bool {
        matches!(self, Fate::ErrorAck | Fate::Timeout)
    }
}

type Balances = BTreeMap<(String, String), u128>;

pub struct Sim {
    pub deps: OwnedDeps<SimStorage, MockApi, MockQuerier>,
    pub env: Env,
    pub owner: Addr,
    /// The accepted cw20 (its balances live here: it is simulated).
    pub token: Addr,
    pub bank: Balances,
    pub cw20: Rc<RefCell<BTreeMap<String, u128>>>,
    pub in_flight: Vec<InFlight>,
    next_sequence: u64,
}

/// The encoding of `MsgTransferResponse { sequence }`.
pub fn transfer_response(sequence: u64) -> Binary {
    let mut out = vec![0x08];
    let mut v = sequence;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    Binary::from(out)
}

impl Sim {
    pub fn new() -> Self {
        let deps = OwnedDeps {
            storage: SimStorage::default(),
            api: MockApi::default(),
            querier: MockQuerier::default(),
            custom_query_type: std::marker::PhantomData,
        };
        let mut env = mock_env();
        env.block.time = Timestamp::from_seconds(1_700_000_000);
        let owner = deps.api.addr_make("owner");
        let token = deps.api.addr_make("city-token");
        let mut sim = Sim {
            deps,
            env,
            owner: owner.clone(),
            token: token.clone(),
            bank: BTreeMap::new(),
            cw20: Rc::new(RefCell::new(BTreeMap::new())),
            in_flight: vec![],
            next_sequence: 1,
        };
        let cw20 = sim.cw20.clone();
        let token_addr = token.to_string();
        sim.deps.querier.update_wasm(move |q| match q {
            WasmQuery::Smart { contract_addr, msg } if *contract_addr == token_addr => {
                let Ok(Cw20QueryMsg::Balance { address }) = from_json(msg) else {
                    return SystemResult::Ok(ContractResult::Err("unsupported".into()));
                };
                let balance = cw20.borrow().get(&address).copied().unwrap_or_default();
                SystemResult::Ok(ContractResult::Ok(
                    to_json_binary(&cw20::BalanceResponse {
                        balance: Uint128::new(balance),
                    })
                    .unwrap(),
                ))
            }
            _ => SystemResult::Ok(ContractResult::Err("no such contract".into())),
        });
        let env = sim.env.clone();
        contract::instantiate(
            sim.deps.as_mut(),
            env,
            message_info(&owner, &[]),
            InstantiateMsg {
                owner: None,
                min_challenge_period: 3600,
                max_challenge_period: 7 * 24 * 3600,
                max_batch_size: None,
            },
        )
        .unwrap();
        sim.exec(
            &owner,
            &[],
            ExecuteMsg::UpdateAllowlists {
                add_cw20s: vec![token.to_string()],
                remove_cw20s: vec![],
                add_ibc_channels: vec![IBC_CHANNEL.into()],
                remove_ibc_channels: vec![],
            },
        )
        .unwrap();
        sim
    }

    pub fn addr(&self, label: &str) -> Addr {
        self.deps.api.addr_make(label)
    }

    pub fn contract(&self) -> Addr {
        self.env.contract.address.clone()
    }

    pub fn now(&self) -> u64 {
        self.env.block.time.seconds()
    }

    pub fn advance(&mut self, seconds: u64) {
        self.env.block.time = self.env.block.time.plus_seconds(seconds);
        self.env.block.height += seconds / 5 + 1;
    }

    pub fn balance(&self, who: &Addr, denom: &str) -> u128 {
        self.bank
            .get(&(who.to_string(), denom.to_string()))
            .copied()
            .unwrap_or_default()
    }

    pub fn cw20_balance(&self, who: &Addr) -> u128 {
        self.cw20
            .borrow()
            .get(who.as_str())
            .copied()
            .unwrap_or_default()
    }

    pub fn mint(&mut self, who: &Addr, denom: &str, amount: u128) {
        *self
            .bank
            .entry((who.to_string(), denom.to_string()))
            .or_default() += amount;
        self.sync_querier();
    }

    pub fn mint_cw20(&mut self, who: &Addr, amount: u128) {
        *self.cw20.borrow_mut().entry(who.to_string()).or_default() += amount;
    }

    fn move_coins(&mut self, from: &str, to: &str, denom: &str, amount: u128) {
        let key = (from.to_string(), denom.to_string());
        let have = self.bank.get(&key).copied().unwrap_or_default();
        assert!(
            have >= amount,
            "{from} sends {amount}{denom} but holds {have}: the contract paid out more than it holds"
        );
        self.bank.insert(key, have - amount);
        *self
            .bank
            .entry((to.to_string(), denom.to_string()))
            .or_default() += amount;
    }

    fn move_cw20(&mut self, from: &str, to: &str, amount: u128) {
        let mut cw20 = self.cw20.borrow_mut();
        let have = cw20.get(from).copied().unwrap_or_default();
        assert!(
            have >= amount,
            "{from} sends {amount} cw20 but holds {have}"
        );
        cw20.insert(from.to_string(), have - amount);
        *cw20.entry(to.to_string()).or_default() += amount;
    }

    /// The contract's bank balance, as its queries see it.
    fn sync_querier(&mut self) {
        let contract = self.contract().to_string();
        let coins: Vec<Coin> = self
            .bank
            .iter()
            .filter(|((who, _), amount)| *who == contract && **amount > 0)
            .map(|((_, denom), amount)| Coin::new(*amount, denom))
            .collect();
        self.deps.querier.bank.update_balance(contract, coins);
    }

    fn snapshot(
        &self,
    ) -> (
        SimStorage,
        Balances,
        BTreeMap<String, u128>,
        Vec<InFlight>,
        u64,
    ) {
        (
            self.deps.storage.clone(),
            self.bank.clone(),
            self.cw20.borrow().clone(),
            self.in_flight.clone(),
            self.next_sequence,
        )
    }

    fn restore(
        &mut self,
        s: (
            SimStorage,
            Balances,
            BTreeMap<String, u128>,
            Vec<InFlight>,
            u64,
        ),
    ) {
        self.deps.storage = s.0;
        self.bank = s.1;
        *self.cw20.borrow_mut() = s.2;
        self.in_flight = s.3;
        self.next_sequence = s.4;
        self.sync_querier();
    }

    /// Runs `call`; on error every state change is undone, as wasmd does.
    fn atomically<T>(
        &mut self,
        call: impl FnOnce(&mut Self) -> Result<T, ContractError>,
    ) -> Result<T, ContractError> {
        let before = self.snapshot();
        let out = call(self);
        if out.is_err() {
            self.restore(before);
        }
        out
    }

    /// Executes `msg` from `sender` with `funds` (taken from its bank
    /// balance), then the messages the contract returns.
    pub fn exec(
        &mut self,
        sender: &Addr,
        funds: &[Coin],
        msg: ExecuteMsg,
    ) -> Result<Response, ContractError> {
        self.atomically(|sim| {
            let contract = sim.contract().to_string();
            for c in funds {
                sim.move_coins(sender.as_str(), &contract, &c.denom, c.amount.u128());
            }
            sim.sync_querier();
            let env = sim.env.clone();
            let res = contract::execute(sim.deps.as_mut(), env, message_info(sender, funds), msg)?;
            sim.process(&res)?;
            Ok(res)
        })
    }

    /// A cw20 `send` of `amount` from `from` through the accepted token.
    pub fn send_cw20(
        &mut self,
        from: &Addr,
        amount: u128,
        msg: &ReceiveMsg,
    ) -> Result<Response, ContractError> {
        let token = self.token.clone();
        self.atomically(|sim| {
            let contract = sim.contract().to_string();
            sim.move_cw20(from.as_str(), &contract, amount);
            let env = sim.env.clone();
            let wrapped = ExecuteMsg::Receive(Cw20ReceiveMsg {
                sender: from.to_string(),
                amount: Uint128::new(amount),
                msg: to_json_binary(msg).unwrap(),
            });
            let res =
                contract::execute(sim.deps.as_mut(), env, message_info(&token, &[]), wrapped)?;
            sim.process(&res)?;
            Ok(res)
        })
    }

    /// What a contract that is not an accepted cw20 can do: call `receive`
    /// naming any sender without moving a token.
    pub fn fake_cw20_send(
        &mut self,
        caller: &Addr,
        named_sender: &Addr,
        amount: u128,
        msg: &ReceiveMsg,
    ) -> Result<Response, ContractError> {
        self.exec(
            caller,
            &[],
            ExecuteMsg::Receive(Cw20ReceiveMsg {
                sender: named_sender.to_string(),
                amount: Uint128::new(amount),
                msg: to_json_binary(msg).unwrap(),
            }),
        )
    }

    fn process(&mut self, res: &Response) -> Result<(), ContractError> {
        let contract = self.contract().to_string();
        for sub in &res.messages {
            match &sub.msg {
                CosmosMsg::Bank(BankMsg::Send { to_address, amount }) => {
                    assert_eq!(sub.reply_on, ReplyOn::Never);
                    for c in amount {
                        assert!(!c.amount.is_zero(), "zero transfer");
                        self.move_coins(&contract, to_address, &c.denom, c.amount.u128());
                    }
                }
                CosmosMsg::Wasm(WasmMsg::Execute {
                    contract_addr, msg, ..
                }) => {
                    assert_eq!(
                        *contract_addr,
                        self.token.to_string(),
                        "only the cw20 is called"
                    );
                    let Cw20ExecuteMsg::Transfer { recipient, amount } = from_json(msg).unwrap()
                    else {
                        panic!("unexpected cw20 message");
                    };
                    self.move_cw20(&contract, &recipient, amount.u128());
                }
                CosmosMsg::Ibc(IbcMsg::Transfer {
                    channel_id,
                    to_address,
                    amount,
                    timeout,
                    memo,
                }) => {
                    // ICS-20 escrows the tokens and sends packet `sequence`.
                    self.move_coins(
                        &contract,
                        "ics20-escrow",
                        &amount.denom,
                        amount.amount.u128(),
                    );
                    let sequence = self.next_sequence;
                    self.next_sequence += 1;
                    let data = serde_json::json!({
                        "denom": amount.denom, "amount": amount.amount,
                        "sender": contract, "receiver": to_address,
                        "memo": memo.clone().unwrap_or_default(),
                    });
                    let packet = IbcPacket::new(
                        serde_json::to_vec(&data).unwrap(),
                        IbcEndpoint {
                            port_id: "transfer".into(),
                            channel_id: channel_id.clone(),
                        },
                        IbcEndpoint {
                            port_id: "transfer".into(),
                            channel_id: HUB_CHANNEL.into(),
                        },
                        sequence,
                        timeout.clone(),
                    );
                    self.in_flight.push(InFlight {
                        packet,
                        denom: amount.denom.clone(),
                        amount: amount.amount.u128(),
                    });
                    assert_eq!(
                        sub.reply_on,
                        ReplyOn::Success,
                        "the payout needs its sequence"
                    );
                    #[allow(deprecated)]
                    let reply = Reply {
                        id: sub.id,
                        payload: sub.payload.clone(),
                        gas_used: 0,
                        result: SubMsgResult::Ok(SubMsgResponse {
                            events: vec![],
                            data: None,
                            msg_responses: vec![MsgResponse {
                                type_url: "/ibc.applications.transfer.v1.MsgTransferResponse"
                                    .into(),
                                value: transfer_response(sequence),
                            }],
                        }),
                    };
                    let env = self.env.clone();
                    let r = contract::reply(self.deps.as_mut(), env, reply)?;
                    assert!(r.messages.is_empty());
                }
                other => panic!("unexpected message {other:?}"),
            }
        }
        self.sync_querier();
        Ok(())
    }

    /// The relayer brings back packet `index` of the in-flight list with
    /// `fate`: ICS-20 refunds on an error or a timeout, then the callbacks
    /// middleware calls the contract; a failed callback is reverted alone
    /// (the acknowledgement stands), as ibc-go does.
    pub fn settle(&mut self, index: usize, fate: Fate) -> Result<IbcBasicResponse, ContractError> {
        let f = self.in_flight.remove(index);
        let contract = self.contract().to_string();
        if fate.refunds() {
            self.move_coins("ics20-escrow", &contract, &f.denom, f.amount);
        } else {
            self.move_coins("ics20-escrow", "counterparty", &f.denom, f.amount);
        }
        self.sync_querier();
        let msg = callback_msg(f.packet, fate);
        self.atomically(|sim| {
            let env = sim.env.clone();
            contract::ibc_source_callback(sim.deps.as_mut(), env, msg)
        })
    }

    /// Packet `index` ends with `fate` but its callback never runs (it ran
    /// out of the gas the memo asked for, or the middleware was missing).
    pub fn lose_callback(&mut self, index: usize, fate: Fate) -> InFlight {
        let f = self.in_flight.remove(index);
        let contract = self.contract().to_string();
        let to = if fate.refunds() {
            contract.as_str()
        } else {
            "counterparty"
        };
        self.move_coins("ics20-escrow", to, &f.denom, f.amount);
        self.sync_querier();
        f
    }

    /// A callback the chain delivers for `packet` (a replay, or a packet
    /// this contract never sent).
    pub fn callback(
        &mut self,
        packet: IbcPacket,
        fate: Fate,
    ) -> Result<IbcBasicResponse, ContractError> {
        self.atomically(|sim| {
            let env = sim.env.clone();
            contract::ibc_source_callback(sim.deps.as_mut(), env, callback_msg(packet, fate))
        })
    }

    /// An ICS-20 transfer from the hub arrives on `channel` with a
    /// destination callback: the transfer module credits `receiver` with
    /// the local denom of `hub_denom`, then the callback runs; if it fails
    /// the receive is reverted (error acknowledgement: refunded on the hub).
    pub fn hub_transfer(
        &mut self,
        channel: &str,
        hub_sender: &str,
        receiver: &str,
        hub_denom: &str,
        amount: u128,
        memo: &str,
    ) -> Result<IbcBasicResponse, ContractError> {
        let packet = hub_packet(channel, hub_sender, receiver, hub_denom, amount, memo);
        let local = payment_channel::ibc::deposit::receive_denom(&packet, hub_denom);
        self.atomically(|sim| {
            sim.mint(&Addr::unchecked(receiver), &local, amount);
            let env = sim.env.clone();
            let msg = IbcDestinationCallbackMsg {
                packet,
                ack: IbcAcknowledgement::new(br#"{"result":"AQ=="}"#.to_vec()),
            };
            contract::ibc_destination_callback(sim.deps.as_mut(), env, msg)
        })
    }

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: QueryMsg) -> Result<T, ContractError> {
        let bin = contract::query(self.deps.as_ref(), self.env.clone(), msg)?;
        Ok(from_json(bin).unwrap())
    }
}

impl Default for Sim {
    fn default() -> Self {
        Self::new()
    }
}

pub fn callback_msg(packet: IbcPacket, fate: Fate) -> IbcSourceCallbackMsg {
    let relayer = Addr::unchecked("relayer");
    let ack: &[u8] = match fate {
        Fate::Timeout => {
            return IbcSourceCallbackMsg::Timeout(IbcTimeoutCallbackMsg::new(packet, relayer))
        }
        Fate::Success => br#"{"result":"AQ=="}"#,
        Fate::ErrorAck => br#"{"error":"ABCI code: 1: error handling packet"}"#,
        Fate::EmptyAck => b"{}",
        Fate::OddAck => br#"{"status":"ok"}"#,
    };
    IbcSourceCallbackMsg::Acknowledgement(IbcAckCallbackMsg::new(
        IbcAcknowledgement::new(ack.to_vec()),
        packet,
        relayer,
    ))
}

/// The packet of an ICS-20 transfer from the hub's end of the channel.
pub fn hub_packet(
    channel: &str,
    hub_sender: &str,
    receiver: &str,
    hub_denom: &str,
    amount: u128,
    memo: &str,
) -> IbcPacket {
    let data = serde_json::json!({
        "denom": hub_denom, "amount": amount.to_string(),
        "sender": hub_sender, "receiver": receiver, "memo": memo,
    });
    IbcPacket::new(
        serde_json::to_vec(&data).unwrap(),
        IbcEndpoint {
            port_id: "transfer".into(),
            channel_id: HUB_CHANNEL.into(),
        },
        IbcEndpoint {
            port_id: "transfer".into(),
            channel_id: channel.into(),
        },
        1,
        IbcTimeout::with_timestamp(Timestamp::from_seconds(1_800_000_000)),
    )
}

/// Silences "unused" for helpers some test files do not need.
pub fn _unused(_: Empty) {}
