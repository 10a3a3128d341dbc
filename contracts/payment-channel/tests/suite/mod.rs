//! A cw-multi-test suite for the payment channel: a builder, actions with
//! `*_err` variants, queries and assertions. Each test file includes it with
//! `mod suite;`, so not every helper is used everywhere.
#![allow(dead_code)]

use cosmwasm_std::{
    coin, to_json_binary, Addr, BlockInfo, Coin, Empty, HexBinary, Timestamp, Uint128,
};
use cw20::{Cw20Coin, Cw20ExecuteMsg};
use cw_multi_test::{App, AppBuilder, AppResponse, Contract, ContractWrapper, Executor};
use payment_channel::msg::{
    BatchClaim, ChannelResponse, ConfigResponse, ExecuteMsg, Hashlock, InstantiateMsg, ListingRef,
    OpenChannel, Payout, QueryMsg, ReceiveMsg, ReservesResponse, SignBytesResponse, SignedVoucher,
};
use payment_channel::ContractError;
use wevalue_common::asset::AssetInfo;
use wevalue_common::purchase::{PaidForListingResponse, TotalPaidResponse};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

pub const DENOM: &str = "ucity";
pub const PREFIX: &str = "cosmwasm";
pub const DAY: u64 = 24 * 3600;

pub fn channel_contract() -> Box<dyn Contract<Empty>> {
    Box::new(
        ContractWrapper::new(
            payment_channel::contract::execute,
            payment_channel::contract::instantiate,
            payment_channel::contract::query,
        )
        .with_migrate(payment_channel::contract::migrate)
        .with_reply(payment_channel::contract::reply),
    )
}

pub fn cw20_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(
        cw20_base::contract::execute,
        cw20_base::contract::instantiate,
        cw20_base::contract::query,
    ))
}

/// A deterministic voucher key for `label`.
pub fn signer(scheme: VoucherScheme, label: &str) -> VoucherSigner {
    let secret = wevalue_voucher::sha256(label.as_bytes());
    VoucherSigner::from_secret(scheme, secret, PREFIX).expect("valid secret")
}

pub struct SuiteBuilder {
    chain_id: String,
    min_challenge_period: u64,
    max_challenge_period: u64,
    max_batch_size: Option<u32>,
    funded: Vec<&'static str>,
}

impl Default for SuiteBuilder {
    fn default() -> Self {
        Self {
            chain_id: "wevalue-test-1".into(),
            min_challenge_period: 3600,
            max_challenge_period: 30 * DAY,
            max_batch_size: None,
            funded: vec!["buyer", "buyer2", "hub", "seller", "seller2", "stranger"],
        }
    }
}

impl SuiteBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn chain_id(mut self, chain_id: &str) -> Self {
        self.chain_id = chain_id.into();
        self
    }

    pub fn max_batch_size(mut self, n: u32) -> Self {
        self.max_batch_size = Some(n);
        self
    }

    pub fn build(self) -> Suite {
        let chain_id = self.chain_id.clone();
        let funded = self.funded.clone();
        let mut app = AppBuilder::new()
            .with_block(BlockInfo {
                height: 1_000,
                time: Timestamp::from_seconds(1_700_000_000),
                chain_id,
            })
            .build(|router, api, storage| {
                for label in &funded {
                    router
                        .bank
                        .init_balance(
                            storage,
                            &api.addr_make(label),
                            vec![coin(1_000_000_000, DENOM), coin(1_000_000_000, "uother")],
                        )
                        .expect("funds");
                }
            });
        let owner = app.api().addr_make("owner");
        let code = app.store_code(channel_contract());
        let contract = app
            .instantiate_contract(
                code,
                owner.clone(),
                &InstantiateMsg {
                    owner: None,
                    min_challenge_period: self.min_challenge_period,
                    max_challenge_period: self.max_challenge_period,
                    max_batch_size: self.max_batch_size,
                },
                &[],
                "payment-channel",
                Some(owner.to_string()),
            )
            .expect("instantiates");
        let cw20_code = app.store_code(cw20_contract());
        let initial_balances = funded
            .iter()
            .map(|l| Cw20Coin {
                address: app.api().addr_make(l).to_string(),
                amount: Uint128::new(1_000_000_000),
            })
            .collect();
        let token = app
            .instantiate_contract(
                cw20_code,
                owner.clone(),
                &cw20_base::msg::InstantiateMsg {
                    name: "City Token".into(),
                    symbol: "CITY".into(),
                    decimals: 6,
                    initial_balances,
                    mint: None,
                    marketing: None,
                },
                &[],
                "city-token",
                None,
            )
            .expect("cw20 instantiates");
        // The owner accepts the city token for channels.
        app.execute_contract(
            owner.clone(),
            contract.clone(),
            &ExecuteMsg::UpdateAllowlists {
                add_cw20s: vec![token.to_string()],
                remove_cw20s: vec![],
                add_ibc_channels: vec![],
                remove_ibc_channels: vec![],
            },
            &[],
        )
        .expect("accepts the cw20");
        Suite {
            app,
            contract,
            owner,
            token,
            code,
        }
    }
}

pub struct Suite {
    pub app: App,
    pub contract: Addr,
    pub owner: Addr,
    pub token: Addr,
    pub code: u64,
}

pub fn err(e: anyhow::Error) -> ContractError {
    e.downcast().expect("a ContractError")
}

fn attr(res: &AppResponse, key: &str) -> Option<String> {
    res.events
        .iter()
        .filter(|e| e.ty == "wasm")
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
}

pub fn open_msg(
    payee: &Addr,
    signer: &VoucherSigner,
    challenge_period: Option<u64>,
) -> OpenChannel {
    OpenChannel {
        payee: payee.to_string(),
        pubkey: signer.public_key().into(),
        scheme: signer.scheme(),
        challenge_period,
        listing: None,
    }
}

impl Suite {
    pub fn addr(&self, label: &str) -> Addr {
        self.app.api().addr_make(label)
    }

    pub fn chain_id(&self) -> String {
        self.app.block_info().chain_id
    }

    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    pub fn advance(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.time = b.time.plus_seconds(seconds);
            b.height += seconds / 5 + 1;
        });
    }

    pub fn exec(
        &mut self,
        sender: &str,
        msg: &ExecuteMsg,
        funds: &[Coin],
    ) -> Result<AppResponse, ContractError> {
        let sender = self.addr(sender);
        self.app
            .execute_contract(sender, self.contract.clone(), msg, funds)
            .map_err(err)
    }

    // ------------------------------------------------------------ actions

    /// Opens a native channel from `payer` to `payee`, signed by `signer`.
    pub fn open_native_err(
        &mut self,
        payer: &str,
        payee: &str,
        signer: &VoucherSigner,
        funds: &[Coin],
    ) -> Result<u64, ContractError> {
        let msg = ExecuteMsg::Open(open_msg(&self.addr(payee), signer, None));
        let res = self.exec(payer, &msg, funds)?;
        Ok(attr(&res, "channel_id")
            .expect("channel id")
            .parse()
            .unwrap())
    }

    pub fn open_native(
        &mut self,
        payer: &str,
        payee: &str,
        signer: &VoucherSigner,
        amount: u128,
    ) -> u64 {
        self.open_native_err(payer, payee, signer, &[coin(amount, DENOM)])
            .expect("opens")
    }

    /// Opens a native channel buying `listing_id` of `registry`.
    pub fn open_for_listing(
        &mut self,
        payer: &str,
        payee: &str,
        signer: &VoucherSigner,
        funds: &[Coin],
        registry: &str,
        listing_id: u64,
    ) -> Result<u64, ContractError> {
        let mut open = open_msg(&self.addr(payee), signer, None);
        open.listing = Some(ListingRef {
            registry: self.addr(registry).to_string(),
            listing_id,
        });
        let res = self.exec(payer, &ExecuteMsg::Open(open), funds)?;
        Ok(attr(&res, "channel_id")
            .expect("channel id")
            .parse()
            .unwrap())
    }

    pub fn open_cw20_err(
        &mut self,
        payer: &str,
        payee: &str,
        signer: &VoucherSigner,
        amount: u128,
    ) -> Result<u64, ContractError> {
        let msg = ReceiveMsg::Open(open_msg(&self.addr(payee), signer, None));
        let res = self
            .app
            .execute_contract(
                self.addr(payer),
                self.token.clone(),
                &Cw20ExecuteMsg::Send {
                    contract: self.contract.to_string(),
                    amount: Uint128::new(amount),
                    msg: to_json_binary(&msg).unwrap(),
                },
                &[],
            )
            .map_err(err)?;
        Ok(attr(&res, "channel_id")
            .expect("channel id")
            .parse()
            .unwrap())
    }

    pub fn open_cw20(
        &mut self,
        payer: &str,
        payee: &str,
        signer: &VoucherSigner,
        amount: u128,
    ) -> u64 {
        self.open_cw20_err(payer, payee, signer, amount)
            .expect("opens")
    }

    pub fn top_up_cw20(
        &mut self,
        payer: &str,
        id: u64,
        amount: u128,
    ) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(
                self.addr(payer),
                self.token.clone(),
                &Cw20ExecuteMsg::Send {
                    contract: self.contract.to_string(),
                    amount: Uint128::new(amount),
                    msg: to_json_binary(&ReceiveMsg::TopUp { channel_id: id }).unwrap(),
                },
                &[],
            )
            .map_err(err)
    }

    pub fn top_up(
        &mut self,
        payer: &str,
        id: u64,
        funds: &[Coin],
    ) -> Result<AppResponse, ContractError> {
        self.exec(payer, &ExecuteMsg::TopUp { channel_id: id }, funds)
    }

    /// A voucher signed for this chain, this contract and channel `id`.
    pub fn voucher(&self, signer: &VoucherSigner, id: u64, amount: u128) -> SignedVoucher {
        self.voucher_with(signer, id, amount, None, None)
    }

    pub fn voucher_with(
        &self,
        signer: &VoucherSigner,
        id: u64,
        amount: u128,
        hashlock: Option<Hashlock>,
        expiry: Option<u64>,
    ) -> SignedVoucher {
        let fields = Voucher {
            chain_id: self.chain_id(),
            contract: self.contract.to_string(),
            channel_id: id,
            amount: Uint128::new(amount),
            hashlock,
            expiry,
        };
        SignedVoucher {
            amount: Uint128::new(amount),
            hashlock,
            expiry,
            signature: signer.sign(&fields).expect("signs").to_vec().into(),
        }
    }

    pub fn claim(
        &mut self,
        sender: &str,
        id: u64,
        voucher: SignedVoucher,
    ) -> Result<AppResponse, ContractError> {
        self.claim_with(sender, id, voucher, None, None)
    }

    pub fn claim_with(
        &mut self,
        sender: &str,
        id: u64,
        voucher: SignedVoucher,
        preimage: Option<HexBinary>,
        payout: Option<Payout>,
    ) -> Result<AppResponse, ContractError> {
        self.exec(
            sender,
            &ExecuteMsg::Claim {
                channel_id: id,
                voucher,
                preimage,
                payout,
            },
            &[],
        )
    }

    pub fn claim_batch(
        &mut self,
        sender: &str,
        claims: Vec<BatchClaim>,
    ) -> Result<AppResponse, ContractError> {
        self.claim_batch_with(sender, claims, None)
    }

    pub fn claim_batch_with(
        &mut self,
        sender: &str,
        claims: Vec<BatchClaim>,
        payout: Option<Payout>,
    ) -> Result<AppResponse, ContractError> {
        self.exec(sender, &ExecuteMsg::ClaimBatch { claims, payout }, &[])
    }

    pub fn lodge(
        &mut self,
        sender: &str,
        id: u64,
        voucher: SignedVoucher,
    ) -> Result<AppResponse, ContractError> {
        self.exec(
            sender,
            &ExecuteMsg::LodgeVoucher {
                channel_id: id,
                voucher,
            },
            &[],
        )
    }

    pub fn close(
        &mut self,
        sender: &str,
        id: u64,
        voucher: Option<SignedVoucher>,
    ) -> Result<AppResponse, ContractError> {
        self.exec(
            sender,
            &ExecuteMsg::Close {
                channel_id: id,
                voucher,
                preimage: None,
                payout: None,
            },
            &[],
        )
    }

    pub fn start_close(&mut self, sender: &str, id: u64) -> Result<AppResponse, ContractError> {
        self.exec(sender, &ExecuteMsg::StartClose { channel_id: id }, &[])
    }

    pub fn finalize(&mut self, sender: &str, id: u64) -> Result<AppResponse, ContractError> {
        self.exec(sender, &ExecuteMsg::Finalize { channel_id: id }, &[])
    }

    pub fn authorize_watchtower(
        &mut self,
        payee: &str,
        tower: &str,
    ) -> Result<AppResponse, ContractError> {
        let watchtower = self.addr(tower).to_string();
        self.exec(payee, &ExecuteMsg::AuthorizeWatchtower { watchtower }, &[])
    }

    pub fn revoke_watchtower(
        &mut self,
        payee: &str,
        tower: &str,
    ) -> Result<AppResponse, ContractError> {
        let watchtower = self.addr(tower).to_string();
        self.exec(payee, &ExecuteMsg::RevokeWatchtower { watchtower }, &[])
    }

    // ------------------------------------------------------------ queries

    pub fn config(&self) -> ConfigResponse {
        self.query(&QueryMsg::Config {}).unwrap()
    }

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> Result<T, String> {
        self.app
            .wrap()
            .query_wasm_smart(&self.contract, msg)
            .map_err(|e| e.to_string())
    }

    pub fn channel(&self, id: u64) -> ChannelResponse {
        self.query(&QueryMsg::Channel { channel_id: id }).unwrap()
    }

    pub fn sign_bytes(&self, id: u64, amount: u128) -> SignBytesResponse {
        self.query(&QueryMsg::VoucherSignBytes {
            channel_id: id,
            amount: Uint128::new(amount),
            hashlock: None,
            expiry: None,
        })
        .unwrap()
    }

    pub fn total_paid(&self, payer: &str, payee: &str, asset: AssetInfo) -> u128 {
        let r: TotalPaidResponse = self
            .query(&QueryMsg::TotalPaid {
                payer: self.addr(payer).to_string(),
                payee: self.addr(payee).to_string(),
                asset,
            })
            .unwrap();
        r.total.u128()
    }

    /// What `payee` redeemed on `payer`'s channels for `listing_id` of `registry`.
    pub fn paid_for_listing(
        &self,
        payer: &str,
        payee: &str,
        registry: &str,
        listing_id: u64,
    ) -> Vec<(AssetInfo, u128)> {
        let r: PaidForListingResponse = self
            .query(&QueryMsg::PaidForListing {
                payer: self.addr(payer).to_string(),
                payee: self.addr(payee).to_string(),
                registry: self.addr(registry).to_string(),
                listing_id,
            })
            .unwrap();
        r.paid
            .into_iter()
            .map(|a| (a.info, a.amount.u128()))
            .collect()
    }

    /// The channel record as stored (with its claim page and slot).
    pub fn stored_channel(&self, id: u64) -> payment_channel::state::Channel {
        let key = payment_channel::state::CHANNELS.key(id);
        let raw = self
            .app
            .wrap()
            .query_wasm_raw(&self.contract, key.to_vec())
            .unwrap()
            .expect("channel record");
        cosmwasm_std::from_json(raw).unwrap()
    }

    /// A claim page as stored; `None` if no claim wrote it yet.
    pub fn stored_page(&self, page: u64) -> Option<Vec<Uint128>> {
        let key = payment_channel::state::PAGES.key(page);
        self.app
            .wrap()
            .query_wasm_raw(&self.contract, key.to_vec())
            .unwrap()
            .map(|raw| cosmwasm_std::from_json(raw).unwrap())
    }

    pub fn balance(&self, who: &Addr) -> u128 {
        self.app
            .wrap()
            .query_balance(who, DENOM)
            .unwrap()
            .amount
            .u128()
    }

    pub fn balance_of(&self, label: &str) -> u128 {
        self.balance(&self.addr(label))
    }

    pub fn cw20_balance(&self, who: &Addr) -> u128 {
        let r: cw20::BalanceResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.token,
                &cw20::Cw20QueryMsg::Balance {
                    address: who.to_string(),
                },
            )
            .unwrap();
        r.balance.u128()
    }

    pub fn native(&self) -> AssetInfo {
        AssetInfo::Native(DENOM.into())
    }

    pub fn cw20(&self) -> AssetInfo {
        AssetInfo::Cw20(self.token.clone())
    }

    // ------------------------------------------------------------ assertions

    /// The contract holds exactly what its open channels still owe, per
    /// asset: sum over channels of (deposit - claimed); and it reserves the
    /// deposits of the channels not closed (no IBC credits here).
    pub fn assert_conserved(&self, channels: u64) {
        let (mut native, mut cw20) = (0u128, 0u128);
        let (mut native_reserved, mut cw20_reserved) = (0u128, 0u128);
        for id in 1..=channels {
            let c = self.channel(id);
            let reserved = if c.status == payment_channel::msg::ChannelStatus::Closed {
                0
            } else {
                c.deposit.u128()
            };
            match c.asset {
                AssetInfo::Native(_) => {
                    native += c.balance.u128();
                    native_reserved += reserved;
                }
                AssetInfo::Cw20(_) => {
                    cw20 += c.balance.u128();
                    cw20_reserved += reserved;
                }
            }
        }
        for (asset, reserved, held) in [
            (self.native(), native_reserved, native),
            (self.cw20(), cw20_reserved, cw20),
        ] {
            let r: ReservesResponse = self.query(&QueryMsg::Reserves { asset }).unwrap();
            assert_eq!(r.reserved.u128(), reserved, "reserved vs open deposits");
            assert_eq!(r.balance.u128(), held);
            assert_eq!(r.sweepable.u128(), 0);
        }
        assert_eq!(
            self.balance(&self.contract),
            native,
            "native balance vs bookkeeping"
        );
        assert_eq!(
            self.cw20_balance(&self.contract),
            cw20,
            "cw20 balance vs bookkeeping"
        );
    }
}
