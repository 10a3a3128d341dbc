//! Entry points: each destructures its message and forwards to `execute`,
//! `listing`, `challenge`, `voting`, `params`, `query` or `migrations`.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
use crate::{challenge, execute as exec, listing, migrations, params, query as q, voting};

pub const CONTRACT_NAME: &str = concat!("crates.io:wevalue-", env!("CARGO_PKG_NAME"));
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    exec::instantiate(deps, env, info, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Receive(wrapper) => exec::receive(deps, env, info, wrapper),
        ExecuteMsg::Apply { subject, data } => {
            let amount = exec::native_payment(deps.as_ref(), &info)?;
            listing::apply(deps, env, info.sender, amount, subject, data)
        }
        ExecuteMsg::Deposit { subject } => {
            let amount = exec::native_payment(deps.as_ref(), &info)?;
            listing::deposit(deps, info.sender, amount, subject)
        }
        ExecuteMsg::Withdraw { subject, amount } => listing::withdraw(deps, info, subject, amount),
        ExecuteMsg::InitExit { subject } => listing::init_exit(deps, env, info, subject),
        ExecuteMsg::FinalizeExit { subject } => listing::finalize_exit(deps, env, info, subject),
        ExecuteMsg::Challenge { subject, reason } => {
            let amount = exec::native_payment(deps.as_ref(), &info)?;
            challenge::challenge(deps, env, info.sender, amount, subject, reason)
        }
        ExecuteMsg::UpdateStatus { subject } => listing::update_status(deps, env, info, subject),
        ExecuteMsg::DepositVotingTokens {} => {
            let amount = exec::native_payment(deps.as_ref(), &info)?;
            voting::deposit_voting_tokens(deps, info.sender, amount)
        }
        ExecuteMsg::WithdrawVotingTokens { amount } => {
            voting::withdraw_voting_tokens(deps, env, info, amount)
        }
        ExecuteMsg::CommitVote {
            poll_id,
            commitment,
            weight,
        } => voting::commit_vote(deps, env, info, poll_id, commitment, weight),
        ExecuteMsg::RevealVote {
            poll_id,
            choice,
            salt,
        } => voting::reveal_vote(deps, env, info, poll_id, choice, salt),
        ExecuteMsg::ClaimReward { poll_id } => voting::claim_reward(deps, info, poll_id),
        ExecuteMsg::UpdateParams(update) => params::update_params(deps, env, info, update),
        ExecuteMsg::SweepDust { recipient } => exec::sweep_dust(deps, info, recipient),
        ExecuteMsg::UpdateOwnership(action) => exec::update_ownership(deps, env, info, action),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::IsListed { subject } => to_json_binary(&q::is_listed(deps, env, subject)?)?,
        QueryMsg::Config {} => to_json_binary(&q::config(deps, env)?)?,
        QueryMsg::Params {} => to_json_binary(&q::params(deps)?)?,
        QueryMsg::Listing { subject } => to_json_binary(&q::listing(deps, env, subject)?)?,
        QueryMsg::Listings { start_after, limit } => {
            to_json_binary(&q::listings(deps, env, start_after, limit)?)?
        }
        QueryMsg::Poll { poll_id } => to_json_binary(&q::poll(deps, poll_id)?)?,
        QueryMsg::Polls { start_after, limit } => {
            to_json_binary(&q::polls(deps, start_after, limit)?)?
        }
        QueryMsg::ChallengeInfo { poll_id } => to_json_binary(&q::challenge_info(deps, poll_id)?)?,
        QueryMsg::Voter { address } => to_json_binary(&q::voter(deps, env, address)?)?,
        QueryMsg::Voters { start_after, limit } => {
            to_json_binary(&q::voters(deps, env, start_after, limit)?)?
        }
        QueryMsg::Vote { poll_id, voter } => to_json_binary(&q::vote(deps, poll_id, voter)?)?,
        QueryMsg::ClaimableReward { poll_id, voter } => {
            to_json_binary(&q::claimable_reward(deps, poll_id, voter)?)?
        }
        QueryMsg::Reputation { subject } => to_json_binary(&q::reputation(deps, env, subject)?)?,
        QueryMsg::Commitment {
            poll_id,
            voter,
            choice,
            salt,
        } => to_json_binary(&q::commitment(deps, env, poll_id, voter, choice, salt)?)?,
        QueryMsg::Ownership {} => to_json_binary(&cw_ownable::get_ownership(deps.storage)?)?,
    })
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    migrations::migrate(deps, env)
}
