//! Gas of the registry's operations on the optimized wasm in cosmwasm-vm,
//! and the check that resolving a challenge and one voter's claim cost the
//! same with 10 and with 1,000 voters (no loop over voters).
//!
//! Run with `cargo run -p token-curated-registry --example token-curated-registry-gas` after
//! `ci/build-wasm.sh token-curated-registry cw20-base`.

use cosmwasm_std::{coins, Addr, Binary, Uint128};
use token_curated_registry::msg::{
    CommitmentResponse, ExecuteMsg, InstantiateMsg, ParamsUpdate, QueryMsg,
};
use token_curated_registry::state::{Choice, Params};
use wevalue_common::asset::AssetInfoUnchecked;
use wevalue_common::curation::CurationQueryMsg;
use wevalue_vm_harness::{
    check_target, cw20_transfer_baseline, Gas, GasTable, VmContract, BLOCK_SECONDS,
};

const DENOM: &str = "ucity";
const MIN: u128 = 1_000_000;
const APPLY: u64 = 3_600;
const COMMIT: u64 = 3_600;
const REVEAL: u64 = 3_600;
const CID: &str = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";

fn registry() -> VmContract {
    let mut vm = VmContract::new("token-curated-registry");
    let owner = vm.user_addr("owner");
    vm.instantiate(
        &owner,
        &[],
        &InstantiateMsg {
            owner: None,
            stake: AssetInfoUnchecked::Native(DENOM.into()),
            params: Params {
                min_deposit: Uint128::new(MIN),
                apply_stage_secs: APPLY,
                commit_stage_secs: COMMIT,
                reveal_stage_secs: REVEAL,
                dispensation_pct: 50,
                vote_quorum_pct: 50,
                exit_delay_secs: COMMIT + REVEAL,
                deposit_grace_secs: 7 * 24 * 3_600,
                // Low enough that the 10-voter and the 1,000-voter
                // resolutions both count the survival (same writes).
                min_survival_weight: Uint128::new(1_000),
                unrevealed_penalty_pct: 10,
            },
        },
    )
    .expect("instantiates");
    vm
}

fn advance(vm: &mut VmContract, secs: u64) {
    vm.advance_blocks(secs.div_ceil(BLOCK_SECONDS));
}

fn ok(vm: &mut VmContract, sender: &Addr, funds: u128, msg: &ExecuteMsg) -> Gas {
    let funds = if funds == 0 {
        vec![]
    } else {
        coins(funds, DENOM)
    };
    vm.execute(sender, &funds, msg)
        .unwrap_or_else(|e| panic!("{msg:?} failed: {e}"))
        .gas
}

fn salt(i: usize) -> Binary {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Binary::from(s.to_vec())
}

struct Cycle {
    apply: Gas,
    update_listed: Gas,
    challenge: Gas,
    deposit_votes: Gas,
    commit: Gas,
    reveal: Gas,
    resolve: Gas,
    claim_first: Gas,
    claim_last: Gas,
    withdraw_votes: Gas,
    is_listed: Gas,
}

/// One listing challenged and voted on by `n` voters (all but every fourth
/// voting keep), resolved, then the first and last winning voters claim.
fn cycle(n: usize) -> Cycle {
    let mut vm = registry();
    let seller = vm.user_addr("seller");
    let challenger = vm.user_addr("challenger");
    let apply = ok(
        &mut vm,
        &seller,
        2 * MIN,
        &ExecuteMsg::Apply {
            subject: seller.to_string(),
            data: CID.into(),
        },
    );
    advance(&mut vm, APPLY);
    let update = ExecuteMsg::UpdateStatus {
        subject: seller.to_string(),
    };
    let update_listed = ok(&mut vm, &challenger, 0, &update);
    let (_, is_listed): (serde_json::Value, Gas) = vm
        .query(&CurationQueryMsg::IsListed {
            subject: seller.to_string(),
        })
        .unwrap();
    let out = vm
        .execute(
            &challenger,
            &coins(MIN, DENOM),
            &ExecuteMsg::Challenge {
                subject: seller.to_string(),
                reason: CID.into(),
            },
        )
        .unwrap();
    let challenge = out.gas;
    let poll_id: u64 = out.attr("poll_id").unwrap().parse().unwrap();
    let voters: Vec<Addr> = (0..n)
        .map(|i| vm.user_addr(&format!("voter-{i}")))
        .collect();
    let choice = |i: usize| {
        if i % 4 == 3 {
            Choice::Remove
        } else {
            Choice::Keep
        }
    };
    let (mut deposit_votes, mut commit, mut reveal) =
        (Gas::default(), Gas::default(), Gas::default());
    for (i, v) in voters.iter().enumerate() {
        deposit_votes = ok(
            &mut vm,
            v,
            1_000 + i as u128,
            &ExecuteMsg::DepositVotingTokens {},
        );
        let (c, _): (CommitmentResponse, Gas) = vm
            .query(&QueryMsg::Commitment {
                poll_id,
                voter: v.to_string(),
                choice: choice(i),
                salt: salt(i),
            })
            .unwrap();
        commit = ok(
            &mut vm,
            v,
            0,
            &ExecuteMsg::CommitVote {
                poll_id,
                commitment: c.commitment,
                weight: Uint128::new(1_000 + i as u128),
            },
        );
    }
    advance(&mut vm, COMMIT);
    for (i, v) in voters.iter().enumerate() {
        reveal = ok(
            &mut vm,
            v,
            0,
            &ExecuteMsg::RevealVote {
                poll_id,
                choice: choice(i),
                salt: salt(i),
            },
        );
    }
    advance(&mut vm, REVEAL);
    let resolve = ok(&mut vm, &challenger, 0, &update);
    let winners: Vec<&Addr> = voters
        .iter()
        .enumerate()
        .filter(|(i, _)| choice(*i) == Choice::Keep)
        .map(|(_, v)| v)
        .collect();
    let claim_first = ok(&mut vm, winners[0], 0, &ExecuteMsg::ClaimReward { poll_id });
    for v in &winners[1..winners.len() - 1] {
        ok(&mut vm, v, 0, &ExecuteMsg::ClaimReward { poll_id });
    }
    let claim_last = ok(
        &mut vm,
        winners[winners.len() - 1],
        0,
        &ExecuteMsg::ClaimReward { poll_id },
    );
    let withdraw_votes = ok(
        &mut vm,
        &voters[0],
        0,
        &ExecuteMsg::WithdrawVotingTokens {
            amount: Uint128::new(1_000),
        },
    );
    Cycle {
        apply,
        update_listed,
        challenge,
        deposit_votes,
        commit,
        reveal,
        resolve,
        claim_first,
        claim_last,
        withdraw_votes,
        is_listed,
    }
}

fn commit_msg(vm: &mut VmContract, poll_id: u64, voter: &Addr, i: usize) -> ExecuteMsg {
    let (c, _): (CommitmentResponse, Gas) = vm
        .query(&QueryMsg::Commitment {
            poll_id,
            voter: voter.to_string(),
            choice: Choice::Keep,
            salt: salt(i),
        })
        .unwrap();
    ExecuteMsg::CommitVote {
        poll_id,
        commitment: c.commitment,
        weight: Uint128::new(1_000),
    }
}

/// Applies for `seller` and challenges it at once; returns the poll id.
fn challenged(vm: &mut VmContract, seller: &Addr, challenger: &Addr) -> u64 {
    ok(
        vm,
        seller,
        MIN,
        &ExecuteMsg::Apply {
            subject: seller.to_string(),
            data: CID.into(),
        },
    );
    let out = vm
        .execute(
            challenger,
            &coins(MIN, DENOM),
            &ExecuteMsg::Challenge {
                subject: seller.to_string(),
                reason: CID.into(),
            },
        )
        .unwrap();
    out.attr("poll_id").unwrap().parse().unwrap()
}

struct Hardening {
    /// A commit that first settles a lapsed, unrevealed lock (a forfeit).
    commit_settling_forfeit: Gas,
    /// A withdrawal that settles a lapsed, unrevealed lock.
    withdraw_settling_forfeit: Gas,
    /// `update_params` raising `min_deposit` (announces the increase).
    raise_min_deposit: Gas,
}

/// The paths the hardening added: forfeits settled lazily, and an
/// announced increase of the minimum deposit.
fn hardening() -> Hardening {
    let mut vm = registry();
    let owner = vm.user_addr("owner");
    let challenger = vm.user_addr("challenger");
    let voters = [vm.user_addr("voter-a"), vm.user_addr("voter-b")];
    let sellers = [vm.user_addr("seller-1"), vm.user_addr("seller-2")];
    let first = challenged(&mut vm, &sellers[0], &challenger);
    for (i, v) in voters.iter().enumerate() {
        ok(&mut vm, v, 2_000, &ExecuteMsg::DepositVotingTokens {});
        let msg = commit_msg(&mut vm, first, v, i);
        ok(&mut vm, v, 0, &msg);
    }
    // Nobody reveals: both locks lapse unrevealed.
    advance(&mut vm, COMMIT + REVEAL);
    let second = challenged(&mut vm, &sellers[1], &challenger);
    let msg = commit_msg(&mut vm, second, &voters[0], 2);
    let commit_settling_forfeit = ok(&mut vm, &voters[0], 0, &msg);
    let withdraw_settling_forfeit = ok(
        &mut vm,
        &voters[1],
        0,
        &ExecuteMsg::WithdrawVotingTokens {
            amount: Uint128::new(1_000),
        },
    );
    let raise_min_deposit = ok(
        &mut vm,
        &owner,
        0,
        &ExecuteMsg::UpdateParams(ParamsUpdate {
            min_deposit: Some(Uint128::new(2 * MIN)),
            ..Default::default()
        }),
    );
    Hardening {
        commit_settling_forfeit,
        withdraw_settling_forfeit,
        raise_min_deposit,
    }
}

fn main() {
    let small = cycle(10);
    let large = cycle(1_000);
    let mut table =
        GasTable::new("token-curated-registry (optimized wasm, cosmwasm-vm 2.2.10, wasmd gas)");
    table.add("apply (native deposit)", small.apply);
    table.add("update_status: application → listed", small.update_listed);
    table.add("is_listed query", small.is_listed);
    table.add("challenge", small.challenge);
    table.add("deposit_voting_tokens", small.deposit_votes);
    table.add("commit_vote", small.commit);
    table.add("reveal_vote", small.reveal);
    let r10 = table.add("resolve (update_status), 10 voters", small.resolve);
    let r1000 = table.add("resolve (update_status), 1,000 voters", large.resolve);
    let c10 = table.add("claim_reward, first voter, 10 voters", small.claim_first);
    let c1000 = table.add("claim_reward, first voter, 1,000 voters", large.claim_first);
    table.add(
        "claim_reward, last voter (moves dust), 1,000 voters",
        large.claim_last,
    );
    table.add("withdraw_voting_tokens", small.withdraw_votes);
    let h = hardening();
    table.add(
        "commit_vote settling a lapsed unrevealed vote (forfeit)",
        h.commit_settling_forfeit,
    );
    table.add(
        "withdraw_voting_tokens settling a lapsed unrevealed vote",
        h.withdraw_settling_forfeit,
    );
    table.add("update_params raising min_deposit", h.raise_min_deposit);
    table.add("cw20-base transfer (baseline)", cw20_transfer_baseline());
    println!("{}", table.to_markdown());
    let mut all = true;
    all &= check_target(
        "resolve gas, 1,000 voters / 10 voters",
        r1000.sdk() as f64 / r10.sdk() as f64,
        1.1,
    );
    all &= check_target(
        "one voter's claim gas, 1,000 voters / 10 voters",
        c1000.sdk() as f64 / c10.sdk() as f64,
        1.1,
    );
    if !all {
        std::process::exit(1);
    }
}
