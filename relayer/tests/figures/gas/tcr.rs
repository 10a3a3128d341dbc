//! The token-curated registry on wasmd, as its VM benchmark's 10-voter
//! cycle: an application listed, then challenged and voted on by 10 voters
//! (every fourth votes remove) with commit and reveal windows of a few
//! seconds, resolved, and a winner's reward claimed; plus a commit that
//! first settles the forfeit of a lapsed, unrevealed vote.

use anyhow::{anyhow, ensure, Result};
use cosmwasm_std::Binary;
use futures_util::future::try_join_all;
use relayer::chain::{self, find_attr, TxClient, TxOutcome};
use relayer::cosmos::CosmosClient;
use serde_json::{json, Value};

use super::{exec, instantiate, past, send, Rows};
use crate::net::Chain;

const OWNER: u32 = 40;
const SELLER: u32 = 41;
const CHALLENGER: u32 = 42;
/// Sellers of the forfeit scenario's two polls.
const LAPSED_SELLERS: [u32; 2] = [43, 44];
/// The voter who commits to the first of those polls and never reveals.
const LAPSED_VOTER: u32 = 60;
/// Ten voters: 50 to 59.
const VOTERS: u32 = 50;
const N: u32 = 10;
/// Accounts the caller funds.
pub const ACCOUNTS: &[u32] = &[
    OWNER, SELLER, CHALLENGER, 43, 44, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60,
];

const MIN: u128 = 1_000_000;
/// Stage lengths in seconds: long enough for ten parallel commits (one or
/// two blocks of ~300 ms), short enough to keep the run short.
const APPLY: u64 = 1;
const COMMIT: u64 = 5;
const REVEAL: u64 = 5;
const CID: &str = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
const SECOND: u128 = 1_000_000_000;

fn choice(i: u32) -> &'static str {
    if i % 4 == 3 {
        "remove"
    } else {
        "keep"
    }
}

fn salt(i: u32) -> Binary {
    let mut s = [0u8; 32];
    s[..4].copy_from_slice(&i.to_be_bytes());
    Binary::from(s.to_vec())
}

fn poll_id(out: &TxOutcome) -> Result<u64> {
    find_attr(&out.events, "wasm", "poll_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no poll_id in the challenge's events"))
}

/// The voter's commitment as the contract computes it, then its commit.
async fn commit(c: &CosmosClient, tcr: &str, poll: u64, i: u32, weight: u128) -> Result<TxOutcome> {
    let q = json!({ "commitment": { "poll_id": poll, "voter": c.sender(),
        "choice": choice(i), "salt": salt(i) } });
    let r: Value = chain::query_smart(c, tcr, &q).await?;
    let msg = json!({ "commit_vote": { "poll_id": poll, "commitment": r["commitment"],
        "weight": weight.to_string() } });
    send(c, vec![exec(tcr, msg, vec![])?]).await
}

pub async fn rows(chain: &Chain, rows: &mut Rows) -> Result<()> {
    let denom = chain.net.denom.clone();
    let coins = |n: u128| cosmwasm_std::coins(n, &denom);
    let owner = chain.client(OWNER);
    let code = chain.store(OWNER, "token-curated-registry").await?;
    let tcr = instantiate(
        &owner,
        code,
        json!({ "owner": null, "stake": { "native": denom }, "params": {
            "min_deposit": MIN.to_string(), "apply_stage_secs": APPLY,
            "commit_stage_secs": COMMIT, "reveal_stage_secs": REVEAL,
            "dispensation_pct": 50, "vote_quorum_pct": 50,
            "exit_delay_secs": COMMIT + REVEAL, "deposit_grace_secs": 7 * 24 * 3_600,
            "min_survival_weight": "1000", "unrevealed_penalty_pct": 10 } }),
        "figures tcr",
    )
    .await?;
    let tcr = tcr.as_str();
    let voters: Vec<_> = (VOTERS..VOTERS + N).map(|i| chain.client(i)).collect();
    let lapsed_voter = chain.client(LAPSED_VOTER);
    let seller = chain.client(SELLER);
    let challenger = chain.client(CHALLENGER);
    let apply = |c: &CosmosClient, deposit: u128| {
        exec(
            tcr,
            json!({ "apply": { "subject": c.sender(), "data": CID } }),
            coins(deposit),
        )
    };

    // Voting tokens deposited and the applications made, all at once.
    let deposits = try_join_all((0..N).map(|i| {
        let msg = exec(
            tcr,
            json!({ "deposit_voting_tokens": {} }),
            coins(1_000 + u128::from(i)),
        );
        let c = &voters[i as usize];
        async move { send(c, vec![msg?]).await }
    }));
    let lapsed_deposit = async {
        let msg = exec(tcr, json!({ "deposit_voting_tokens": {} }), coins(2_000))?;
        send(&lapsed_voter, vec![msg]).await
    };
    let lapsed_sellers: Vec<_> = LAPSED_SELLERS.iter().map(|i| chain.client(*i)).collect();
    let lapsed_applies = try_join_all(
        lapsed_sellers
            .iter()
            .map(|c| async move { send(c, vec![apply(c, MIN)?]).await }),
    );
    let (_, _, _, applied) = tokio::try_join!(deposits, lapsed_deposit, lapsed_applies, async {
        send(&seller, vec![apply(&seller, 2 * MIN)?]).await
    })?;
    rows.add("tcr apply (native deposit)", &applied, "12,644");

    // The forfeit scenario's first poll: one vote committed, never revealed.
    let challenge = |subject: &str| {
        exec(
            tcr,
            json!({ "challenge": { "subject": subject, "reason": CID } }),
            coins(MIN),
        )
    };
    let lapsed_poll =
        poll_id(&send(&challenger, vec![challenge(lapsed_sellers[0].sender())?]).await?)?;
    commit(&lapsed_voter, tcr, lapsed_poll, 0, 2_000).await?;

    let update = || {
        exec(
            tcr,
            json!({ "update_status": { "subject": seller.sender() } }),
            vec![],
        )
    };
    // A second past each stage's end: an update simulated as soon as the
    // latest block's time reached the end was once refused as too early.
    past(
        chain,
        chain.block_time(applied.height).await? + u128::from(APPLY + 1) * SECOND,
    )
    .await?;
    let out = send(&challenger, vec![update()?]).await?;
    rows.add("tcr update_status (application → listed)", &out, "10,849");

    let out = send(&challenger, vec![challenge(seller.sender())?]).await?;
    rows.add("tcr challenge", &out, "33,051");
    let poll = poll_id(&out)?;
    let opened = chain.block_time(out.height).await?;
    let commits = try_join_all(
        voters
            .iter()
            .zip(0..N)
            .map(|(c, i)| commit(c, tcr, poll, i, 1_000 + u128::from(i))),
    )
    .await?;
    rows.add("tcr commit_vote", &commits[0], "15,241");

    past(chain, opened + u128::from(COMMIT + 1) * SECOND).await?;
    let reveals = try_join_all(voters.iter().zip(0..N).map(|(c, i)| async move {
        let msg =
            json!({ "reveal_vote": { "poll_id": poll, "choice": choice(i), "salt": salt(i) } });
        send(c, vec![exec(tcr, msg, vec![])?]).await
    }))
    .await?;
    rows.add("tcr reveal_vote", &reveals[0], "16,281");

    past(chain, opened + u128::from(COMMIT + REVEAL + 1) * SECOND).await?;
    let out = send(&challenger, vec![update()?]).await?;
    rows.add("tcr resolve (update_status), 10 voters", &out, "20,070");
    let listed: Value = chain::query_smart(
        &*challenger,
        tcr,
        &json!({ "is_listed": { "subject": seller.sender() } }),
    )
    .await?;
    ensure!(
        listed["listed"] == json!(true),
        "the kept seller is not listed: {listed}"
    );
    let out = send(
        &voters[0],
        vec![exec(
            tcr,
            json!({ "claim_reward": { "poll_id": poll } }),
            vec![],
        )?],
    )
    .await?;
    rows.add("tcr claim_reward (one voter), 10 voters", &out, "16,360");

    // The first poll's reveal stage is over: a commit to a new poll first
    // settles the lapsed vote's forfeit.
    let second = poll_id(&send(&challenger, vec![challenge(lapsed_sellers[1].sender())?]).await?)?;
    let out = commit(&lapsed_voter, tcr, second, 1, 1_000).await?;
    // 10% of the 2,000 committed.
    ensure!(
        find_attr(&out.events, "wasm", "forfeited") == Some("200"),
        "no forfeit settled: {:?}",
        find_attr(&out.events, "wasm", "forfeited")
    );
    rows.add(
        "tcr commit_vote settling an unrevealed vote's forfeit",
        &out,
        "20,357",
    );
    Ok(())
}
