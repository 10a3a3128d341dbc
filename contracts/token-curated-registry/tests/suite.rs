//! A `Suite` over cw-multi-test: the registry with a native or cw20 stake,
//! funded users, actions, `*_err` variants and queries.
#![allow(dead_code)]

use cosmwasm_std::{coins, to_json_binary, Addr, Binary, Empty, HexBinary, Timestamp, Uint128};
use cw20::{Cw20Coin, Cw20ExecuteMsg, MinterResponse};
use cw_multi_test::{App, AppResponse, BankSudo, Contract, ContractWrapper, Executor, SudoMsg};
use token_curated_registry::commitment::commitment;
use token_curated_registry::msg::{
    ChallengeInfoResponse, ClaimableResponse, ConfigResponse, ExecuteMsg, InstantiateMsg,
    ListingResponse, ListingsResponse, ParamsUpdate, PollResponse, PollsResponse, QueryMsg,
    ReceiveMsg, ReputationResponse, VoterResponse, VotersResponse,
};
use token_curated_registry::state::{Choice, Params};
use token_curated_registry::ContractError;
use wevalue_common::asset::AssetInfoUnchecked;
use wevalue_common::curation::IsListedResponse;

pub const DENOM: &str = "ucity";
pub const MIN_DEPOSIT: u128 = 1_000;
pub const APPLY: u64 = 600;
pub const COMMIT: u64 = 300;
pub const REVEAL: u64 = 300;
pub const EXIT_DELAY: u64 = 900;
pub const GRACE: u64 = 1_800;
/// Revealed weight a poll needs for a survival to count.
pub const MIN_SURVIVAL: u128 = 500;
/// Share of an unrevealed vote's weight it forfeits.
pub const PENALTY_PCT: u8 = 10;
/// What every user starts with.
pub const FUNDS: u128 = 1_000_000;

pub fn tcr_contract() -> Box<dyn Contract<Empty>> {
    Box::new(
        ContractWrapper::new(
            token_curated_registry::contract::execute,
            token_curated_registry::contract::instantiate,
            token_curated_registry::contract::query,
        )
        .with_migrate(token_curated_registry::contract::migrate),
    )
}

pub fn cw20_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(
        cw20_base::contract::execute,
        cw20_base::contract::instantiate,
        cw20_base::contract::query,
    ))
}

pub fn default_params() -> Params {
    Params {
        min_deposit: Uint128::new(MIN_DEPOSIT),
        apply_stage_secs: APPLY,
        commit_stage_secs: COMMIT,
        reveal_stage_secs: REVEAL,
        dispensation_pct: 50,
        vote_quorum_pct: 50,
        exit_delay_secs: EXIT_DELAY,
        deposit_grace_secs: GRACE,
        min_survival_weight: Uint128::new(MIN_SURVIVAL),
        unrevealed_penalty_pct: PENALTY_PCT,
    }
}

/// A valid CIDv0 that differs per `n`.
pub fn cid(n: u8) -> String {
    let c = char::from(b"123456789abcdefghijk"[(n % 20) as usize]);
    format!("Qm{}", c.to_string().repeat(44))
}

pub fn salt(n: u8) -> Binary {
    Binary::from(vec![n; 32])
}

pub struct SuiteBuilder {
    params: Params,
    cw20: bool,
    users: Vec<&'static str>,
}

impl Default for SuiteBuilder {
    fn default() -> Self {
        Self {
            params: default_params(),
            cw20: false,
            users: vec!["alice", "bob", "carol", "dave", "erin", "frank"],
        }
    }
}

impl SuiteBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    pub fn with_cw20(mut self) -> Self {
        self.cw20 = true;
        self
    }

    pub fn build(self) -> Suite {
        let mut app = App::default();
        let owner = app.api().addr_make("owner");
        let users: Vec<Addr> = self.users.iter().map(|u| app.api().addr_make(u)).collect();
        let tcr_code = app.store_code(tcr_contract());
        let (stake, token) = if self.cw20 {
            let code = app.store_code(cw20_contract());
            let token = app
                .instantiate_contract(
                    code,
                    owner.clone(),
                    &cw20_base::msg::InstantiateMsg {
                        name: "City token".into(),
                        symbol: "CITY".into(),
                        decimals: 6,
                        initial_balances: users
                            .iter()
                            .map(|u| Cw20Coin {
                                address: u.to_string(),
                                amount: Uint128::new(FUNDS),
                            })
                            .collect(),
                        mint: Some(MinterResponse {
                            minter: owner.to_string(),
                            cap: None,
                        }),
                        marketing: None,
                    },
                    &[],
                    "city",
                    None,
                )
                .unwrap();
            (AssetInfoUnchecked::Cw20(token.to_string()), Some(token))
        } else {
            for u in &users {
                app.sudo(SudoMsg::Bank(BankSudo::Mint {
                    to_address: u.to_string(),
                    amount: coins(FUNDS, DENOM),
                }))
                .unwrap();
            }
            (AssetInfoUnchecked::Native(DENOM.into()), None)
        };
        let tcr = app
            .instantiate_contract(
                tcr_code,
                owner.clone(),
                &InstantiateMsg {
                    owner: None,
                    stake,
                    params: self.params,
                },
                &[],
                "tcr",
                Some(owner.to_string()),
            )
            .unwrap();
        Suite {
            app,
            tcr,
            owner,
            token,
            tcr_code,
        }
    }
}

pub struct Suite {
    pub app: App,
    pub tcr: Addr,
    pub owner: Addr,
    pub token: Option<Addr>,
    pub tcr_code: u64,
}

pub type Res = cw_multi_test::error::AnyResult<AppResponse>;

/// The contract error of a failed call.
pub fn contract_err(res: Res) -> ContractError {
    res.expect_err("call should fail")
        .downcast::<ContractError>()
        .expect("a ContractError")
}

impl Suite {
    pub fn addr(&self, label: &str) -> Addr {
        self.app.api().addr_make(label)
    }

    pub fn now(&self) -> Timestamp {
        self.app.block_info().time
    }

    pub fn advance(&mut self, secs: u64) {
        self.app.update_block(|b| {
            b.time = b.time.plus_seconds(secs);
            b.height += secs.div_ceil(5);
        });
    }

    /// Gives `who` stake tokens (for users the builder did not fund).
    pub fn mint(&mut self, who: &Addr, amount: u128) {
        match self.token.clone() {
            Some(token) => {
                self.app
                    .execute_contract(
                        self.owner.clone(),
                        token,
                        &Cw20ExecuteMsg::Mint {
                            recipient: who.to_string(),
                            amount: Uint128::new(amount),
                        },
                        &[],
                    )
                    .unwrap();
            }
            None => {
                self.app
                    .sudo(SudoMsg::Bank(BankSudo::Mint {
                        to_address: who.to_string(),
                        amount: coins(amount, DENOM),
                    }))
                    .unwrap();
            }
        }
    }

    /// Sends stake with a message: a cw20 `send` with the hook, or the
    /// equivalent native message with the coins attached.
    pub fn pay(&mut self, sender: &Addr, amount: u128, hook: ReceiveMsg) -> Res {
        match self.token.clone() {
            Some(token) => self.app.execute_contract(
                sender.clone(),
                token,
                &Cw20ExecuteMsg::Send {
                    contract: self.tcr.to_string(),
                    amount: Uint128::new(amount),
                    msg: to_json_binary(&hook).unwrap(),
                },
                &[],
            ),
            None => {
                let msg = match hook {
                    ReceiveMsg::Apply { subject, data } => ExecuteMsg::Apply { subject, data },
                    ReceiveMsg::Deposit { subject } => ExecuteMsg::Deposit { subject },
                    ReceiveMsg::Challenge { subject, reason } => {
                        ExecuteMsg::Challenge { subject, reason }
                    }
                    ReceiveMsg::DepositVotingTokens {} => ExecuteMsg::DepositVotingTokens {},
                };
                let funds = if amount == 0 {
                    vec![]
                } else {
                    coins(amount, DENOM)
                };
                self.app
                    .execute_contract(sender.clone(), self.tcr.clone(), &msg, &funds)
            }
        }
    }

    pub fn exec(&mut self, sender: &Addr, msg: ExecuteMsg) -> Res {
        self.app
            .execute_contract(sender.clone(), self.tcr.clone(), &msg, &[])
    }

    pub fn apply(&mut self, sender: &Addr, subject: &str, amount: u128) -> Res {
        self.pay(
            sender,
            amount,
            ReceiveMsg::Apply {
                subject: subject.into(),
                data: cid(1),
            },
        )
    }

    /// Applies for the sender's own address.
    pub fn apply_self(&mut self, sender: &Addr, amount: u128) -> Res {
        let subject = sender.to_string();
        self.apply(sender, &subject, amount)
    }

    pub fn top_up(&mut self, sender: &Addr, subject: &str, amount: u128) -> Res {
        self.pay(
            sender,
            amount,
            ReceiveMsg::Deposit {
                subject: subject.into(),
            },
        )
    }

    pub fn withdraw(&mut self, sender: &Addr, subject: &str, amount: u128) -> Res {
        self.exec(
            sender,
            ExecuteMsg::Withdraw {
                subject: subject.into(),
                amount: Uint128::new(amount),
            },
        )
    }

    pub fn init_exit(&mut self, sender: &Addr, subject: &str) -> Res {
        self.exec(
            sender,
            ExecuteMsg::InitExit {
                subject: subject.into(),
            },
        )
    }

    pub fn finalize_exit(&mut self, sender: &Addr, subject: &str) -> Res {
        self.exec(
            sender,
            ExecuteMsg::FinalizeExit {
                subject: subject.into(),
            },
        )
    }

    pub fn challenge(&mut self, sender: &Addr, subject: &str, amount: u128) -> Res {
        self.pay(
            sender,
            amount,
            ReceiveMsg::Challenge {
                subject: subject.into(),
                reason: cid(2),
            },
        )
    }

    /// Challenges with the default stake and returns the new poll id.
    pub fn challenge_ok(&mut self, sender: &Addr, subject: &str) -> u64 {
        self.challenge_ok_with(sender, subject, MIN_DEPOSIT)
    }

    /// Challenges with `stake` and returns the new poll id.
    pub fn challenge_ok_with(&mut self, sender: &Addr, subject: &str, stake: u128) -> u64 {
        let res = self.challenge(sender, subject, stake).unwrap();
        attr(&res, "poll_id").parse().unwrap()
    }

    pub fn update(&mut self, subject: &str) -> Res {
        let anyone = self.addr("anyone");
        self.exec(
            &anyone,
            ExecuteMsg::UpdateStatus {
                subject: subject.into(),
            },
        )
    }

    pub fn deposit_votes(&mut self, sender: &Addr, amount: u128) -> Res {
        self.pay(sender, amount, ReceiveMsg::DepositVotingTokens {})
    }

    pub fn withdraw_votes(&mut self, sender: &Addr, amount: u128) -> Res {
        self.exec(
            sender,
            ExecuteMsg::WithdrawVotingTokens {
                amount: Uint128::new(amount),
            },
        )
    }

    pub fn commitment_for(
        &self,
        poll_id: u64,
        voter: &Addr,
        choice: Choice,
        salt: &[u8],
    ) -> HexBinary {
        commitment(
            &self.app.block_info().chain_id,
            &self.tcr,
            poll_id,
            voter,
            choice,
            salt,
        )
    }

    pub fn commit(
        &mut self,
        voter: &Addr,
        poll_id: u64,
        choice: Choice,
        n: u8,
        weight: u128,
    ) -> Res {
        let commitment = self.commitment_for(poll_id, voter, choice, salt(n).as_slice());
        self.exec(
            voter,
            ExecuteMsg::CommitVote {
                poll_id,
                commitment,
                weight: Uint128::new(weight),
            },
        )
    }

    pub fn reveal(&mut self, voter: &Addr, poll_id: u64, choice: Choice, n: u8) -> Res {
        self.exec(
            voter,
            ExecuteMsg::RevealVote {
                poll_id,
                choice,
                salt: salt(n),
            },
        )
    }

    pub fn claim(&mut self, voter: &Addr, poll_id: u64) -> Res {
        self.exec(voter, ExecuteMsg::ClaimReward { poll_id })
    }

    pub fn update_params(&mut self, sender: &Addr, update: ParamsUpdate) -> Res {
        self.exec(sender, ExecuteMsg::UpdateParams(update))
    }

    // Queries

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app.wrap().query_wasm_smart(&self.tcr, msg).unwrap()
    }

    pub fn is_listed(&self, subject: &str) -> bool {
        let r: IsListedResponse = self.query(&QueryMsg::IsListed {
            subject: subject.into(),
        });
        r.listed
    }

    pub fn listing(&self, subject: &str) -> ListingResponse {
        self.query(&QueryMsg::Listing {
            subject: subject.into(),
        })
    }

    pub fn has_listing(&self, subject: &str) -> bool {
        self.app
            .wrap()
            .query_wasm_smart::<ListingResponse>(
                &self.tcr,
                &QueryMsg::Listing {
                    subject: subject.into(),
                },
            )
            .is_ok()
    }

    pub fn listings(&self, start_after: Option<String>, limit: Option<u32>) -> ListingsResponse {
        self.query(&QueryMsg::Listings { start_after, limit })
    }

    pub fn poll(&self, poll_id: u64) -> PollResponse {
        self.query(&QueryMsg::Poll { poll_id })
    }

    pub fn polls(&self, start_after: Option<u64>) -> PollsResponse {
        self.query(&QueryMsg::Polls {
            start_after,
            limit: Some(30),
        })
    }

    pub fn challenge_info(&self, poll_id: u64) -> ChallengeInfoResponse {
        self.query(&QueryMsg::ChallengeInfo { poll_id })
    }

    pub fn voter(&self, who: &Addr) -> VoterResponse {
        self.query(&QueryMsg::Voter {
            address: who.to_string(),
        })
    }

    pub fn voters(&self, start_after: Option<String>) -> VotersResponse {
        self.query(&QueryMsg::Voters {
            start_after,
            limit: Some(30),
        })
    }

    pub fn claimable(&self, poll_id: u64, who: &Addr) -> u128 {
        let r: ClaimableResponse = self.query(&QueryMsg::ClaimableReward {
            poll_id,
            voter: who.to_string(),
        });
        r.amount.u128()
    }

    pub fn reputation(&self, subject: &str) -> ReputationResponse {
        self.query(&QueryMsg::Reputation {
            subject: subject.into(),
        })
    }

    pub fn config(&self) -> ConfigResponse {
        self.query(&QueryMsg::Config {})
    }

    pub fn params(&self) -> Params {
        self.query(&QueryMsg::Params {})
    }

    /// Stake-token balance of `who`.
    pub fn balance(&self, who: &Addr) -> u128 {
        match &self.token {
            Some(token) => {
                let r: cw20::BalanceResponse = self
                    .app
                    .wrap()
                    .query_wasm_smart(
                        token,
                        &cw20::Cw20QueryMsg::Balance {
                            address: who.to_string(),
                        },
                    )
                    .unwrap();
                r.balance.u128()
            }
            None => self
                .app
                .wrap()
                .query_balance(who, DENOM)
                .unwrap()
                .amount
                .u128(),
        }
    }

    /// The registry's own stake-token balance.
    pub fn held(&self) -> u128 {
        self.balance(&self.tcr)
    }

    /// Σ listing deposits + Σ open challenge stakes + Σ voter balances
    /// (with their pending forfeits) + Σ unclaimed rewards + dust + settled
    /// forfeits, summed page by page from the queries.
    pub fn bookkeeping(&self) -> u128 {
        let config = self.config();
        let mut total = config.dust.u128() + config.forfeited.u128();
        let mut after = None;
        loop {
            let page = self.listings(after.clone(), Some(30)).listings;
            if page.is_empty() {
                break;
            }
            total += page.iter().map(|l| l.deposit.u128()).sum::<u128>();
            after = page.last().map(|l| l.subject.clone());
        }
        let mut after = None;
        loop {
            let page = self.polls(after).polls;
            if page.is_empty() {
                break;
            }
            for p in &page {
                if p.outcome.is_none() {
                    total += self.challenge_info(p.poll_id).stake.u128();
                }
                total += (p.reward_pool - p.reward_claimed).u128();
            }
            after = page.last().map(|p| p.poll_id);
        }
        let mut after = None;
        loop {
            let page = self.voters(after).voters;
            if page.is_empty() {
                break;
            }
            total += page
                .iter()
                .map(|v| v.balance + v.forfeit)
                .sum::<Uint128>()
                .u128();
            after = page.last().map(|v| v.address.to_string());
        }
        total
    }

    pub fn assert_conserved(&self) {
        assert_eq!(self.held(), self.bookkeeping(), "balance != bookkeeping");
    }
}

pub fn attr(res: &AppResponse, key: &str) -> String {
    res.events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("no attribute {key}"))
        .value
        .clone()
}
