//! Helpers shared by `tests/vm.rs` and `examples/vm_bench.rs`: the value
//! contract's optimized artifact in cosmwasm-vm with secp256k1 oracles.

use cosmwasm_std::{coin, Addr, Binary, Coin, Uint128};
use k256::ecdsa::signature::hazmat::PrehashSigner;
use value_contract::msg::{
    DurationOverrides, Durations, ExecuteMsg, InstantiateMsg, OracleMemberMsg, OracleSetMsg,
    OracleSignature, ParticipantValue, QueryMsg, Report, SignBytesResponse, TaskParams,
    TemplateMsg,
};
use value_contract::state::{KeyScheme, TaskKind};
use wevalue_common::asset::AssetInfoUnchecked;
use wevalue_vm_harness::{Outcome, VmContract};

pub const DENOM: &str = "ucity";
pub const CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
/// Every phase lasts this many seconds (verification: ten times as long).
pub const PHASE: u64 = 10;
/// The offer deposit of the kit's templates.
pub const DEPOSIT: u128 = 100;

pub struct Kit {
    pub vm: VmContract,
    pub owner: Addr,
    pub oracles: Vec<(Addr, k256::ecdsa::SigningKey)>,
    pub round: u64,
}

impl Kit {
    /// Instantiates the artifact with `n` secp256k1 oracles and threshold `k`.
    pub fn new(n: usize, k: u32) -> Self {
        let mut vm = VmContract::new("value-contract");
        let owner = vm.user_addr("owner");
        let oracles: Vec<(Addr, k256::ecdsa::SigningKey)> = (0..n)
            .map(|i| {
                let mut secret = [7u8; 32];
                secret[31] = i as u8 + 1;
                (
                    vm.user_addr(&format!("oracle{i}")),
                    k256::ecdsa::SigningKey::from_bytes(&secret.into()).expect("valid key"),
                )
            })
            .collect();
        let members = Self::member_msgs(&oracles);
        vm.instantiate(
            &owner,
            &[],
            &InstantiateMsg {
                owner: None,
                oracles: Some(OracleSetMsg {
                    members,
                    threshold: k,
                }),
            },
        )
        .expect("instantiate");
        Self {
            vm,
            owner,
            oracles,
            round: 0,
        }
    }

    fn member_msgs(oracles: &[(Addr, k256::ecdsa::SigningKey)]) -> Vec<OracleMemberMsg> {
        oracles
            .iter()
            .map(|(addr, key)| OracleMemberMsg {
                address: addr.to_string(),
                pubkey: Binary::from(key.verifying_key().to_encoded_point(true).as_bytes()),
                scheme: KeyScheme::Secp256k1,
            })
            .collect()
    }

    /// The oracle set as `set_oracles` takes it.
    #[allow(dead_code)] // the gas benchmark's; `tests/vm.rs` does not rotate
    pub fn members(&self) -> Vec<OracleMemberMsg> {
        Self::member_msgs(&self.oracles)
    }

    pub fn exec(&mut self, sender: &Addr, funds: &[Coin], msg: &ExecuteMsg) -> Outcome {
        self.vm
            .execute(sender, funds, msg)
            .unwrap_or_else(|e| panic!("{msg:?} failed: {e}"))
    }

    pub fn wait(&mut self, seconds: u64) {
        self.vm.advance_blocks(seconds.div_ceil(5));
    }

    pub fn template(&mut self, kind: TaskKind, min_quorum: u32) -> (u64, Outcome) {
        let owner = self.owner.clone();
        let out = self.exec(
            &owner,
            &[],
            &ExecuteMsg::CreateTemplate(TemplateMsg {
                name: format!("{kind:?}"),
                kind,
                metric: "kwh_saved".to_string(),
                unit: "kWh".to_string(),
                asset: None,
                durations: Durations {
                    funding: PHASE,
                    matching: PHASE,
                    acceptance: PHASE,
                    execution: PHASE,
                    verification: 10 * PHASE,
                    dispute: PHASE,
                },
                min_quorum,
                tolerance_bps: 500,
                max_participants: 64,
                offer_deposit: Uint128::new(DEPOSIT),
            }),
        );
        (out.attr("template_id").unwrap().parse().unwrap(), out)
    }

    pub fn create_task(
        &mut self,
        template_id: u64,
        goal: u128,
        target: u128,
        max_participants: u32,
    ) -> (u64, Outcome) {
        let creator = self.vm.user_addr("creator");
        let out = self.exec(
            &creator,
            &[],
            &ExecuteMsg::CreateTask {
                template_id,
                params: TaskParams {
                    title: "Energy saving challenge, Via Roma".to_string(),
                    description_cid: CID.to_string(),
                    asset: AssetInfoUnchecked::Native(DENOM.to_string()),
                    funding_goal: Uint128::new(goal),
                    target: Uint128::new(target),
                    max_participants,
                    bond: Uint128::zero(),
                    durations: DurationOverrides::default(),
                },
            },
        );
        (out.attr("task_id").unwrap().parse().unwrap(), out)
    }

    pub fn contribute(&mut self, sponsor: &Addr, task_id: u64, amount: u128) -> Outcome {
        self.exec(
            sponsor,
            &[coin(amount, DENOM)],
            &ExecuteMsg::Contribute { task_id },
        )
    }

    pub fn offer(
        &mut self,
        participant: &Addr,
        task_id: u64,
        price: u128,
        capacity: u32,
    ) -> Outcome {
        self.exec(
            participant,
            &[coin(DEPOSIT, DENOM)],
            &ExecuteMsg::SubmitOffer {
                task_id,
                price: Uint128::new(price),
                capacity,
                min_units: 1,
                reputation_ref: None,
            },
        )
    }

    /// Values sorted by participant, as reports require.
    pub fn values(values: &[(Addr, u128)]) -> Vec<ParticipantValue> {
        let mut v: Vec<ParticipantValue> = values
            .iter()
            .map(|(p, value)| ParticipantValue {
                participant: p.to_string(),
                value: Uint128::new(*value),
            })
            .collect();
        v.sort_by(|a, b| a.participant.cmp(&b.participant));
        v
    }

    /// A report for the next round, signed by `signers` over the digest the
    /// contract's `report_sign_bytes` query returns.
    pub fn signed_report(
        &mut self,
        task_id: u64,
        values: &[(Addr, u128)],
        signers: &[usize],
    ) -> (Report, Vec<OracleSignature>) {
        self.round += 1;
        let values = Self::values(values);
        let (sb, _): (SignBytesResponse, _) = self
            .vm
            .query(&QueryMsg::ReportSignBytes {
                task_id,
                config_version: 1,
                round: self.round,
                evidence_cid: CID.to_string(),
                values: values.clone(),
            })
            .expect("sign bytes");
        let signatures = signers
            .iter()
            .map(|i| {
                let sig: k256::ecdsa::Signature = self.oracles[*i]
                    .1
                    .sign_prehash(sb.digest.as_slice())
                    .expect("signs");
                OracleSignature {
                    oracle_index: *i as u32,
                    signature: Binary::from(sig.to_bytes().to_vec()),
                }
            })
            .collect();
        let report = Report {
            chain_id: self.vm.block.chain_id.clone(),
            contract: self.vm.address.to_string(),
            task_id,
            config_version: 1,
            round: self.round,
            evidence_cid: CID.to_string(),
            values,
        };
        (report, signatures)
    }
}
