//! Query handlers. Lists are paginated by channel id (or address) with
//! `start_after` and `limit` (default 10, max 30).

use cosmwasm_std::{Addr, Deps, Env, Order, Timestamp, Uint128};
use cw_storage_plus::{Bound, Map};
use wevalue_common::asset::AssetInfo;
use wevalue_common::pagination::page_limit;
use wevalue_common::purchase::TotalPaidResponse;
use wevalue_voucher::{adr036_sign_doc, sha256, Hashlock, SignedPayload, VoucherScheme};

use crate::error::ContractError;
use crate::listing;
use crate::msg::{
    ChannelResponse, ChannelsResponse, ConfigResponse, CreditResponse, Cw20AllowlistResponse,
    HubSender, HubSendersResponse, IbcChannelsResponse, PayoutResponse, ReservesResponse,
    SignBytesResponse, SignedVoucher, WatchtowersResponse,
};
use crate::state::{
    claimed, load_page, slot_amount, Page, BY_PAYEE, BY_PAYER, CHANNELS, CONFIG, CREDITS, CW20S,
    HUB_SENDERS, IBC_CHANNELS, MAX_OPEN_PER_PAIR, PAID, PAIRS, PAIR_OPEN, PAIR_PENDING, PAYOUTS,
    WATCHTOWERS,
};
use crate::voucher::{adr036_signer, payload, signed_fields};

pub fn config(deps: Deps) -> Result<ConfigResponse, ContractError> {
    let c = CONFIG.load(deps.storage)?;
    Ok(ConfigResponse {
        min_challenge_period: c.min_challenge_period,
        max_challenge_period: c.max_challenge_period,
        max_batch_size: c.max_batch_size,
    })
}

pub fn channel(deps: Deps, id: u64) -> Result<ChannelResponse, ContractError> {
    let c = CHANNELS
        .may_load(deps.storage, id)?
        .ok_or(ContractError::ChannelNotFound { id })?;
    let claimed = claimed(deps.storage, &c)?;
    let listing = c
        .listing
        .map(|group| listing::info(deps.storage, group))
        .transpose()?;
    Ok(ChannelResponse {
        id,
        balance: c.balance(claimed),
        status: c.status(),
        deposit: c.deposit,
        claimed,
        accepted: c.slot.is_some(),
        hold_until: c.hold_until.map(Timestamp::from_seconds),
        listing,
        payer: c.payer,
        payee: c.payee,
        asset: c.asset,
        pubkey: c.pubkey,
        scheme: c.scheme,
        challenge_period: c.challenge_period,
    })
}

fn channels_by(
    deps: Deps,
    index: Map<(&Addr, u64), cosmwasm_std::Empty>,
    owner: &str,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<ChannelsResponse, ContractError> {
    let owner = deps.api.addr_validate(owner)?;
    let channels = index
        .prefix(&owner)
        .keys(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|id| channel(deps, id?))
        .collect::<Result<_, _>>()?;
    Ok(ChannelsResponse { channels })
}

pub fn channels_by_payer(
    deps: Deps,
    payer: String,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<ChannelsResponse, ContractError> {
    channels_by(deps, BY_PAYER, &payer, start_after, limit)
}

pub fn channels_by_payee(
    deps: Deps,
    payee: String,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<ChannelsResponse, ContractError> {
    channels_by(deps, BY_PAYEE, &payee, start_after, limit)
}

pub fn total_paid(
    deps: Deps,
    payer: String,
    payee: String,
    asset: AssetInfo,
) -> Result<TotalPaidResponse, ContractError> {
    let payer = deps.api.addr_validate(&payer)?;
    let payee = deps.api.addr_validate(&payee)?;
    let Some(pair) = PAIRS.may_load(deps.storage, (&payer, &payee, &asset.key()))? else {
        return Ok(TotalPaidResponse {
            total: Uint128::zero(),
        });
    };
    // Closed channels, plus at most MAX_OPEN_PER_PAIR open ones (from their
    // claim pages, each read once), minus IBC payouts not yet acknowledged.
    let mut total = PAID.may_load(deps.storage, pair)?.unwrap_or_default();
    let mut pages: Vec<(u64, Page)> = vec![];
    for entry in PAIR_OPEN
        .prefix(pair)
        .range(deps.storage, None, None, Order::Ascending)
        .take(MAX_OPEN_PER_PAIR)
    {
        let (_, slot) = entry?;
        // Not accepted yet: nothing claimed.
        let Some((page, slot)) = slot else {
            continue;
        };
        let amount = match pages.iter().find(|(id, _)| *id == page) {
            Some((_, amounts)) => slot_amount(amounts, slot),
            None => {
                let amounts = load_page(deps.storage, page)?;
                let amount = slot_amount(&amounts, slot);
                pages.push((page, amounts));
                amount
            }
        };
        total = total.checked_add(amount)?;
    }
    let pending = PAIR_PENDING
        .may_load(deps.storage, pair)?
        .unwrap_or_default();
    Ok(TotalPaidResponse {
        total: total.saturating_sub(pending),
    })
}

pub fn voucher_sign_bytes(
    deps: Deps,
    env: Env,
    id: u64,
    amount: Uint128,
    hashlock: Option<Hashlock>,
    expiry: Option<u64>,
) -> Result<SignBytesResponse, ContractError> {
    let c = CHANNELS
        .may_load(deps.storage, id)?
        .ok_or(ContractError::ChannelNotFound { id })?;
    let voucher = SignedVoucher {
        amount,
        hashlock,
        expiry,
        signature: Default::default(),
    };
    let sign_bytes = signed_fields(&env, id, &voucher).sign_bytes();
    let (adr036_sign_doc, adr036_signer) = match c.scheme {
        VoucherScheme::Adr036 => {
            let signer = adr036_signer(deps.api, &c.pubkey)?;
            (
                Some(adr036_sign_doc(signer.as_str(), &sign_bytes)),
                Some(signer),
            )
        }
        _ => (None, None),
    };
    let signed_message = match payload(deps.api, &env, id, &c, &voucher)? {
        SignedPayload::Secp256k1Digest(d) => d.to_vec(),
        SignedPayload::Ed25519Message(m) => m,
    };
    debug_assert!(c.scheme != VoucherScheme::Secp256k1 || signed_message == sha256(&sign_bytes));
    Ok(SignBytesResponse {
        sign_bytes: sign_bytes.into(),
        signed_message: signed_message.into(),
        adr036_sign_doc,
        adr036_signer,
    })
}

pub fn watchtowers(
    deps: Deps,
    payee: String,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<WatchtowersResponse, ContractError> {
    let payee = deps.api.addr_validate(&payee)?;
    let start = start_after
        .map(|a| deps.api.addr_validate(&a))
        .transpose()?;
    let watchtowers = WATCHTOWERS
        .prefix(&payee)
        .keys(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .collect::<Result<_, _>>()?;
    Ok(WatchtowersResponse { watchtowers })
}

pub fn payout(deps: Deps, id: u64) -> Result<PayoutResponse, ContractError> {
    let p = PAYOUTS
        .may_load(deps.storage, id)?
        .ok_or(ContractError::PayoutNotFound { id })?;
    Ok(PayoutResponse {
        id,
        channel_id: p.channel_id,
        payee: p.payee,
        amount: cosmwasm_std::Coin::new(p.amount, p.denom),
        ibc_channel: p.ibc_channel,
        sequence: p.sequence.unwrap_or_default(),
        receiver: p.receiver,
        timeout: p.timeout,
        confirmed: p.confirmed,
    })
}

pub fn credit(deps: Deps, payee: String, denom: String) -> Result<CreditResponse, ContractError> {
    let payee = deps.api.addr_validate(&payee)?;
    let amount = CREDITS
        .may_load(deps.storage, (&payee, &denom))?
        .unwrap_or_default();
    Ok(CreditResponse { amount })
}

pub fn hub_senders(
    deps: Deps,
    payer: String,
    start_after: Option<HubSender>,
    limit: Option<u32>,
) -> Result<HubSendersResponse, ContractError> {
    let payer = deps.api.addr_validate(&payer)?;
    let start = start_after
        .as_ref()
        .map(|s| Bound::exclusive((s.channel.as_str(), s.sender.as_str())));
    let senders = HUB_SENDERS
        .sub_prefix(&payer)
        .keys(deps.storage, start, None, Order::Ascending)
        .take(page_limit(limit))
        .map(|k| k.map(|(channel, sender)| HubSender { channel, sender }))
        .collect::<Result<_, _>>()?;
    Ok(HubSendersResponse { senders })
}

pub fn accepted_cw20s(
    deps: Deps,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<Cw20AllowlistResponse, ContractError> {
    let start = start_after
        .map(|a| deps.api.addr_validate(&a))
        .transpose()?;
    let cw20s = CW20S
        .keys(
            deps.storage,
            start.as_ref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .collect::<Result<_, _>>()?;
    Ok(Cw20AllowlistResponse { cw20s })
}

pub fn ibc_channels(
    deps: Deps,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<IbcChannelsResponse, ContractError> {
    let channels = IBC_CHANNELS
        .keys(
            deps.storage,
            start_after.as_deref().map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .collect::<Result<_, _>>()?;
    Ok(IbcChannelsResponse { channels })
}

pub fn reserves(deps: Deps, env: Env, asset: AssetInfo) -> Result<ReservesResponse, ContractError> {
    let (balance, reserved, sweepable) = crate::admin::reserves(deps, &env, &asset)?;
    Ok(ReservesResponse {
        balance,
        reserved,
        sweepable,
    })
}
