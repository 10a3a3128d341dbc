//! `Suite`: a multi-test app with the value contract, a cw20 token and a
//! set of test oracles with real secp256k1 / ed25519 keys, plus helpers
//! named after what they do (queries, actions, `*_err` variants).

use cosmwasm_std::{coin, to_json_binary, Addr, Binary, Coin, Empty, Uint128};
use cw20::{Cw20Coin, Cw20ExecuteMsg};
use cw_multi_test::{App, AppResponse, ContractWrapper, Executor};
use k256::ecdsa::signature::hazmat::PrehashSigner;
use sha2::{Digest, Sha256};
use value_contract::msg::{
    Assignment, AttestationsResponse, ClaimableResponse, DurationOverrides, Durations, ExecuteMsg,
    InstantiateMsg, MatchingResponse, OffersResponse, OracleMemberMsg, OracleSetMsg,
    OracleSignature, ParticipantValue, QueryMsg, ReceiveMsg, Report, SignBytesResponse, TaskParams,
    TaskResponse, TemplateMsg,
};
use value_contract::state::{KeyScheme, TaskKind, TaskStatus};
use value_contract::ContractError;
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};

pub const DENOM: &str = "ucity";
pub const CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
/// The offer deposit of the suite's templates.
pub const DEPOSIT: u128 = 10;
/// Every phase lasts this long in the suite's templates.
pub const PHASE: u64 = 100;

pub fn value_contract() -> Box<dyn cw_multi_test::Contract<Empty>> {
    Box::new(
        ContractWrapper::new(
            value_contract::contract::execute,
            value_contract::contract::instantiate,
            value_contract::contract::query,
        )
        .with_migrate(value_contract::contract::migrate),
    )
}

pub fn cw20_contract() -> Box<dyn cw_multi_test::Contract<Empty>> {
    Box::new(ContractWrapper::new(
        cw20_base::contract::execute,
        cw20_base::contract::instantiate,
        cw20_base::contract::query,
    ))
}

/// A test oracle key.
pub enum OracleKey {
    Secp(k256::ecdsa::SigningKey),
    Ed(ed25519_zebra::SigningKey),
}

pub struct TestOracle {
    pub addr: Addr,
    pub key: OracleKey,
}

impl TestOracle {
    pub fn new(addr: Addr, seed: u8, ed: bool) -> Self {
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        bytes[31] = seed.wrapping_add(1);
        let key = if ed {
            OracleKey::Ed(ed25519_zebra::SigningKey::from(bytes))
        } else {
            OracleKey::Secp(k256::ecdsa::SigningKey::from_bytes(&bytes.into()).unwrap())
        };
        Self { addr, key }
    }

    pub fn member(&self) -> OracleMemberMsg {
        let (pubkey, scheme) = match &self.key {
            OracleKey::Secp(k) => (
                k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
                KeyScheme::Secp256k1,
            ),
            OracleKey::Ed(k) => (
                <[u8; 32]>::from(ed25519_zebra::VerificationKey::from(k)).to_vec(),
                KeyScheme::Ed25519,
            ),
        };
        OracleMemberMsg {
            address: self.addr.to_string(),
            pubkey: Binary::from(pubkey),
            scheme,
        }
    }

    pub fn sign(&self, digest: &[u8]) -> Binary {
        match &self.key {
            OracleKey::Secp(k) => {
                let sig: k256::ecdsa::Signature = k.sign_prehash(digest).unwrap();
                Binary::from(sig.to_bytes().to_vec())
            }
            OracleKey::Ed(k) => Binary::from(<[u8; 64]>::from(k.sign(digest)).to_vec()),
        }
    }
}

pub fn template(kind: TaskKind) -> TemplateMsg {
    let (metric, unit) = match kind {
        TaskKind::Competition => ("kwh_saved", "kWh"),
        TaskKind::Bounty => ("bench_repainted", "bench"),
        TaskKind::PerUnit => ("bikes_moved", "bike"),
        TaskKind::Crowdfunding => ("project_progress", "%"),
    };
    TemplateMsg {
        name: format!("{kind:?} template"),
        kind,
        metric: metric.to_string(),
        unit: unit.to_string(),
        asset: None,
        durations: Durations {
            funding: PHASE,
            matching: PHASE,
            acceptance: PHASE,
            execution: PHASE,
            verification: PHASE,
            dispute: PHASE,
        },
        min_quorum: 1,
        tolerance_bps: 500,
        max_participants: 64,
        offer_deposit: Uint128::new(DEPOSIT),
    }
}

pub fn params(goal: u128, target: u128, max_participants: u32) -> TaskParams {
    TaskParams {
        title: "Neighbourhood task".to_string(),
        description_cid: CID.to_string(),
        asset: AssetInfoUnchecked::Native(DENOM.to_string()),
        funding_goal: Uint128::new(goal),
        target: Uint128::new(target),
        max_participants,
        bond: Uint128::zero(),
        durations: DurationOverrides::default(),
    }
}

pub struct SuiteBuilder {
    oracles: usize,
    threshold: u32,
    ed25519: bool,
    funded: Vec<String>,
}

impl Default for SuiteBuilder {
    fn default() -> Self {
        Self {
            oracles: 3,
            threshold: 2,
            ed25519: false,
            funded: vec![],
        }
    }
}

impl SuiteBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_oracles(mut self, n: usize, threshold: u32) -> Self {
        self.oracles = n;
        self.threshold = threshold;
        self
    }

    pub fn with_ed25519(mut self) -> Self {
        self.ed25519 = true;
        self
    }

    /// Gives these accounts 1,000,000,000 ucity and cw20 tokens.
    pub fn with_funded(mut self, names: &[&str]) -> Self {
        self.funded.extend(names.iter().map(|s| s.to_string()));
        self
    }

    pub fn build(self) -> Suite {
        let mut app = App::default();
        let owner = app.api().addr_make("owner");
        let funded: Vec<Addr> = self.funded.iter().map(|n| app.api().addr_make(n)).collect();
        app.init_modules(|router, _, storage| {
            for addr in &funded {
                router
                    .bank
                    .init_balance(storage, addr, vec![coin(1_000_000_000, DENOM)])
                    .unwrap();
            }
        });
        let cw20_id = app.store_code(cw20_contract());
        let token = app
            .instantiate_contract(
                cw20_id,
                owner.clone(),
                &cw20_base::msg::InstantiateMsg {
                    name: "City Token".to_string(),
                    symbol: "CITY".to_string(),
                    decimals: 6,
                    initial_balances: funded
                        .iter()
                        .map(|a| Cw20Coin {
                            address: a.to_string(),
                            amount: Uint128::new(1_000_000_000),
                        })
                        .collect(),
                    mint: None,
                    marketing: None,
                },
                &[],
                "token",
                None,
            )
            .unwrap();
        let oracles: Vec<TestOracle> = (0..self.oracles)
            .map(|i| {
                let addr = app.api().addr_make(&format!("oracle{i}"));
                TestOracle::new(addr, i as u8, self.ed25519)
            })
            .collect();
        let code_id = app.store_code(value_contract());
        let contract = app
            .instantiate_contract(
                code_id,
                owner.clone(),
                &InstantiateMsg {
                    owner: None,
                    oracles: Some(OracleSetMsg {
                        members: oracles.iter().map(TestOracle::member).collect(),
                        threshold: self.threshold,
                    }),
                },
                &[],
                "value-contract",
                Some(owner.to_string()),
            )
            .unwrap();
        Suite {
            app,
            contract,
            owner,
            token,
            oracles,
            code_id,
            config_version: 1,
            next_round: 1,
        }
    }
}

pub struct Suite {
    pub app: App,
    pub contract: Addr,
    pub owner: Addr,
    pub token: Addr,
    pub oracles: Vec<TestOracle>,
    pub code_id: u64,
    pub config_version: u32,
    pub next_round: u64,
}

pub fn err(e: anyhow::Error) -> ContractError {
    e.downcast().expect("a value-contract ContractError")
}

impl Suite {
    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }

    pub fn wait(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.height += seconds.div_ceil(5).max(1);
            b.time = b.time.plus_seconds(seconds);
        });
    }

    // ------------------------------------------------------------- actions

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
        funds: &[Coin],
    ) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(sender.clone(), self.contract.clone(), msg, funds)
            .map_err(err)
    }

    pub fn create_template(&mut self, t: TemplateMsg) -> u64 {
        let owner = self.owner.clone();
        let res = self
            .execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
            .unwrap();
        attr(&res, "template_id").parse().unwrap()
    }

    pub fn create_task_err(
        &mut self,
        template_id: u64,
        params: TaskParams,
    ) -> Result<u64, ContractError> {
        let creator = self.addr("creator");
        let res = self.execute(
            &creator,
            &ExecuteMsg::CreateTask {
                template_id,
                params,
            },
            &[],
        )?;
        Ok(attr(&res, "task_id").parse().unwrap())
    }

    pub fn create_task(&mut self, template_id: u64, params: TaskParams) -> u64 {
        self.create_task_err(template_id, params).unwrap()
    }

    pub fn contribute_err(
        &mut self,
        sponsor: &str,
        task_id: u64,
        amount: u128,
    ) -> Result<AppResponse, ContractError> {
        let sponsor = self.addr(sponsor);
        self.execute(
            &sponsor,
            &ExecuteMsg::Contribute { task_id },
            &[coin(amount, DENOM)],
        )
    }

    pub fn contribute(&mut self, sponsor: &str, task_id: u64, amount: u128) {
        self.contribute_err(sponsor, task_id, amount).unwrap();
    }

    pub fn send_cw20(
        &mut self,
        from: &str,
        amount: u128,
        hook: &ReceiveMsg,
    ) -> Result<AppResponse, ContractError> {
        let from = self.addr(from);
        self.app
            .execute_contract(
                from,
                self.token.clone(),
                &Cw20ExecuteMsg::Send {
                    contract: self.contract.to_string(),
                    amount: Uint128::new(amount),
                    msg: to_json_binary(hook).unwrap(),
                },
                &[],
            )
            .map_err(err)
    }

    /// Submits an offer with the task's deposit (natively, or through the
    /// cw20 hook for a cw20 task).
    pub fn offer_err(
        &mut self,
        participant: &str,
        task_id: u64,
        price: u128,
        capacity: u32,
        min_units: u32,
    ) -> Result<u64, ContractError> {
        let terms = self.task(task_id).terms;
        let deposit = terms.offer_deposit.u128();
        let price = Uint128::new(price);
        let res = match terms.asset {
            AssetInfo::Native(denom) => {
                let p = self.addr(participant);
                self.execute(
                    &p,
                    &ExecuteMsg::SubmitOffer {
                        task_id,
                        price,
                        capacity,
                        min_units,
                        reputation_ref: None,
                    },
                    &[coin(deposit, denom)],
                )?
            }
            AssetInfo::Cw20(_) => self.send_cw20(
                participant,
                deposit,
                &ReceiveMsg::SubmitOffer {
                    task_id,
                    price,
                    capacity,
                    min_units,
                    reputation_ref: None,
                },
            )?,
        };
        Ok(attr(&res, "offer_id").parse().unwrap())
    }

    /// Withdraws `participant`'s offer; returns the deposit paid back.
    pub fn withdraw_err(&mut self, participant: &str, task_id: u64) -> Result<u128, ContractError> {
        let p = self.addr(participant);
        let res = self.execute(&p, &ExecuteMsg::WithdrawOffer { task_id }, &[])?;
        Ok(attr(&res, "deposit_returned").parse().unwrap())
    }

    pub fn withdraw(&mut self, participant: &str, task_id: u64) -> u128 {
        self.withdraw_err(participant, task_id).unwrap()
    }

    pub fn offer(
        &mut self,
        participant: &str,
        task_id: u64,
        price: u128,
        capacity: u32,
        min_units: u32,
    ) -> u64 {
        self.offer_err(participant, task_id, price, capacity, min_units)
            .unwrap()
    }

    pub fn propose_err(
        &mut self,
        task_id: u64,
        assignments: Vec<Assignment>,
    ) -> Result<AppResponse, ContractError> {
        let solver = self.addr("solver");
        self.execute(
            &solver,
            &ExecuteMsg::ProposeMatching {
                task_id,
                assignments,
            },
            &[],
        )
    }

    pub fn confirm_err(
        &mut self,
        participant: &str,
        task_id: u64,
        bond: u128,
    ) -> Result<AppResponse, ContractError> {
        let p = self.addr(participant);
        let funds = if bond == 0 {
            vec![]
        } else {
            vec![coin(bond, DENOM)]
        };
        self.execute(&p, &ExecuteMsg::Confirm { task_id }, &funds)
    }

    pub fn confirm(&mut self, participant: &str, task_id: u64, bond: u128) {
        self.confirm_err(participant, task_id, bond).unwrap();
    }

    pub fn attest_err(
        &mut self,
        oracle: usize,
        task_id: u64,
        values: &[(&str, u128)],
    ) -> Result<AppResponse, ContractError> {
        let sender = self.oracles[oracle].addr.clone();
        let values = self.values(values);
        self.execute(
            &sender,
            &ExecuteMsg::Attest {
                task_id,
                values,
                evidence_cid: CID.to_string(),
            },
            &[],
        )
    }

    pub fn attest(&mut self, oracle: usize, task_id: u64, values: &[(&str, u128)]) {
        self.attest_err(oracle, task_id, values).unwrap();
    }

    /// Participant values sorted the way reports require.
    pub fn values(&self, values: &[(&str, u128)]) -> Vec<ParticipantValue> {
        let mut v: Vec<ParticipantValue> = values
            .iter()
            .map(|(name, value)| ParticipantValue {
                participant: self.addr(name).to_string(),
                value: Uint128::new(*value),
            })
            .collect();
        v.sort_by(|a, b| a.participant.cmp(&b.participant));
        v
    }

    /// A report for `task_id` with the suite's chain, contract and version.
    pub fn report(&mut self, task_id: u64, values: &[(&str, u128)]) -> Report {
        let round = self.next_round;
        self.next_round += 1;
        Report {
            chain_id: self.app.block_info().chain_id,
            contract: self.contract.to_string(),
            task_id,
            config_version: self.config_version,
            round,
            evidence_cid: CID.to_string(),
            values: self.values(values),
        }
    }

    /// The digest of a report, computed from the `report_sign_bytes` query.
    pub fn digest(&self, r: &Report) -> Binary {
        let res: SignBytesResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.contract,
                &QueryMsg::ReportSignBytes {
                    task_id: r.task_id,
                    config_version: r.config_version,
                    round: r.round,
                    evidence_cid: r.evidence_cid.clone(),
                    values: r.values.clone(),
                },
            )
            .unwrap();
        assert_eq!(
            res.digest.to_vec(),
            Sha256::digest(res.bytes.as_slice()).to_vec()
        );
        res.digest
    }

    pub fn sign(&self, report: &Report, signers: &[usize]) -> Vec<OracleSignature> {
        let digest = self.digest(report);
        signers
            .iter()
            .map(|i| OracleSignature {
                oracle_index: *i as u32,
                signature: self.oracles[*i].sign(&digest),
            })
            .collect()
    }

    pub fn submit_report_err(
        &mut self,
        task_id: u64,
        report: Report,
        signatures: Vec<OracleSignature>,
    ) -> Result<AppResponse, ContractError> {
        let relayer = self.addr("relayer");
        self.execute(
            &relayer,
            &ExecuteMsg::SubmitReport {
                task_id,
                report,
                signatures,
            },
            &[],
        )
    }

    pub fn advance(&mut self, task_id: u64) {
        let anyone = self.addr("keeper");
        self.execute(&anyone, &ExecuteMsg::Advance { task_id }, &[])
            .unwrap();
    }

    pub fn claim_err(&mut self, who: &str, task_id: u64) -> Result<AppResponse, ContractError> {
        let who = self.addr(who);
        self.execute(&who, &ExecuteMsg::Claim { task_id }, &[])
    }

    pub fn claim(&mut self, who: &str, task_id: u64) -> u128 {
        let before = self.balance(who);
        self.claim_err(who, task_id).unwrap();
        self.balance(who) - before
    }

    pub fn refund_err(&mut self, who: &str, task_id: u64) -> Result<AppResponse, ContractError> {
        let who = self.addr(who);
        self.execute(&who, &ExecuteMsg::Refund { task_id }, &[])
    }

    pub fn refund(&mut self, who: &str, task_id: u64) -> u128 {
        let before = self.balance(who);
        self.refund_err(who, task_id).unwrap();
        self.balance(who) - before
    }

    pub fn void_err(&mut self, sender: &Addr, task_id: u64) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            &ExecuteMsg::Void {
                task_id,
                reason: "meter tampering reported".to_string(),
            },
            &[],
        )
    }

    // ------------------------------------------------------------- queries

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app
            .wrap()
            .query_wasm_smart(&self.contract, msg)
            .unwrap()
    }

    pub fn task(&self, id: u64) -> TaskResponse {
        self.query(&QueryMsg::Task { id })
    }

    pub fn status(&self, id: u64) -> TaskStatus {
        self.task(id).status
    }

    pub fn matching(&self, task_id: u64) -> MatchingResponse {
        self.query(&QueryMsg::Matching {
            task_id,
            start_after: None,
            limit: Some(30),
        })
    }

    pub fn offers(&self, task_id: u64) -> OffersResponse {
        self.query(&QueryMsg::Offers {
            task_id,
            start_after: None,
            limit: Some(30),
        })
    }

    pub fn attestations(&self, task_id: u64, participant: &str) -> AttestationsResponse {
        self.query(&QueryMsg::Attestations {
            task_id,
            participant: self.addr(participant).to_string(),
            start_after: None,
            limit: None,
        })
    }

    pub fn claimable(&self, task_id: u64, who: &str) -> ClaimableResponse {
        self.query(&QueryMsg::Claimable {
            task_id,
            address: self.addr(who).to_string(),
        })
    }

    pub fn balance(&self, name: &str) -> u128 {
        self.app
            .wrap()
            .query_balance(self.addr(name), DENOM)
            .unwrap()
            .amount
            .u128()
    }

    pub fn contract_balance(&self) -> u128 {
        self.app
            .wrap()
            .query_balance(&self.contract, DENOM)
            .unwrap()
            .amount
            .u128()
    }

    pub fn cw20_balance(&self, addr: &Addr) -> u128 {
        let res: cw20::BalanceResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.token,
                &cw20::Cw20QueryMsg::Balance {
                    address: addr.to_string(),
                },
            )
            .unwrap();
        res.balance.u128()
    }
}

pub fn attr(res: &AppResponse, key: &str) -> String {
    res.events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
        .unwrap_or_else(|| panic!("no attribute {key}"))
}
