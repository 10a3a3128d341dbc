//! The cross-chain steps (localnet only; the embedded chain has no IBC):
//! a buyer whose money lives on the settlement hub (`wevalue-hub-1`) funds
//! a payment channel on the city chain with one ICS-20 transfer whose memo
//! asks for a destination callback, pays a seller per message, and the
//! seller's own relayer settles with `claim_batch` and an IBC payout to the
//! seller's hub address: its watchtower claims, its settlement bridge
//! follows the packet to its acknowledgement, and the Hermes it supervises
//! relays both ways. Both chains' balances are checked to the unit.
//!
//! The payout is the seller's own relayer, not the city's: the contract pays
//! a claim out over IBC only to the channel's payee signing it (the
//! watchtower's `payout` applies to the signer's own channels).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::{Coin, Uint128};
use serde::Serialize;
use serde_json::{json, Value};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

use super::localnet::Hub;
use super::net::{check, Net};
use super::relayers::{IbcPayout, Instance, Relayers, Roles};
use super::report::Figures;
use super::scenario::CID;
use super::streaming::post_voucher;
use super::DevnetError;
use relayer_bridge::{BridgeConfig, HermesConfig, PayoutRecord, PayoutStatus, PayoutStore};
use relayer_core::chain::{self, find_attr, ChainMsg, ChainStatus, TxOutcome};
use relayer_core::store::Store;
use relayer_watchtower::http::VoucherRequest;
use relayer_watchtower::PayoutConfig;

/// The seller paid out on the hub (its own relayer instance, same name).
pub const HUB_SELLER: &str = "meter-seller";
/// The buyer whose money lives on the hub.
pub const HUB_BUYER: &str = "hub-buyer";
/// What the hub buyer sends over (hub base units).
const HUB_DEPOSIT: u128 = 2_000_000;
/// Price per meter reading, in hub base units.
const PRICE: u128 = 250;
/// Readings the hub buyer pays for, one voucher each.
const READINGS: u128 = 40;
/// Packet timeouts of the deposit and the payout (the hub's clock).
const TIMEOUT_SECS: u64 = 600;
/// The longest wait for a packet to be relayed and acknowledged.
const IBC_PATIENCE: Duration = Duration::from_secs(180);

/// A native balance on the hub, before and after the cross-chain steps.
#[derive(Clone, Debug, Serialize)]
pub struct HubBalance {
    /// Actor label.
    pub actor: String,
    /// Denom (the hub's own).
    pub denom: String,
    /// Before the hub deposit.
    pub before: u128,
    /// After the payout's acknowledgement.
    pub after: u128,
    /// Fees the actor paid on the hub in between.
    pub fees: u128,
}

/// What the cross-chain steps measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CrossChain {
    /// The hub's chain id.
    pub hub_chain_id: String,
    /// The hub's own denom (deposited, and paid out as itself again).
    pub hub_denom: String,
    /// Transfer channel: the city's end, the hub's end.
    pub channels: (String, String),
    /// The hub money's denom on the city chain (`ibc/…`).
    pub city_denom: String,
    /// The channel the hub transfer opened.
    pub channel_id: u64,
    /// Deposited by the transfer (hub base units).
    pub deposit: u128,
    /// Settled by the seller's claim and paid out on the hub.
    pub settled: u128,
    /// The payout's outcome as the bridge recorded it (`delivered`).
    pub payout_status: String,
    /// Blocks and seconds from the claim to its acknowledgement on the city chain.
    pub payout_latency: (u64, f64),
    /// Seconds from the hub transfer to the channel opened on the city chain.
    pub deposit_secs: f64,
    /// Hub balances of the hub buyer and the seller.
    pub hub_balances: Vec<HubBalance>,
}

fn scenario_err(e: impl std::fmt::Display) -> DevnetError {
    DevnetError::Scenario(e.to_string())
}

/// The fee a hub tx paid in `denom`, from its `tx.fee` event.
fn fee_in(outcome: &TxOutcome, denom: &str) -> u128 {
    find_attr(&outcome.events, "tx", "fee")
        .and_then(|fee| {
            fee.split(',')
                .find_map(|coin| coin.trim().strip_suffix(denom)?.parse::<u128>().ok())
        })
        .unwrap_or(0)
}

/// Polls `f` every 250 ms until it returns `Some`, for at most `limit`.
async fn until<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> Result<T, DevnetError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, DevnetError>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        if start.elapsed() > limit {
            return Err(DevnetError::Check(format!("{what}: not within {limit:?}")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The seller's relayer: watchtower paying its claims out to its hub
/// address, the bridge following them, Hermes supervised by the bridge.
fn ibc_roles(net: &Net, hub: &Hub, seller: &str, receiver: &str) -> Roles {
    Roles {
        watch_payees: vec![seller.to_string()],
        solver: false,
        oracle: None,
        ibc_payout: Some(IbcPayout {
            payout: PayoutConfig::Ibc {
                channel: hub.city_channel.clone(),
                receiver: receiver.to_string(),
                timeout_seconds: TIMEOUT_SECS,
            },
            bridge: BridgeConfig {
                enabled: true,
                poll_interval_ms: net.timing.service_poll_ms,
                clear_after_seconds: 10,
                overdue_after_seconds: 60,
                hermes: Some(HermesConfig {
                    binary: hub.hermes.clone(),
                    config: hub.hermes_config.clone(),
                    restart_min_ms: 500,
                    restart_max_ms: 10_000,
                    chain_id: net.chain_id.clone(),
                }),
                ..BridgeConfig::default()
            },
        }),
    }
}

/// The cross-chain steps; their figures go into `figures.cross_chain`.
pub(super) async fn run(
    net: &mut Net,
    relayers: &mut Relayers,
    state_dir: &std::path::Path,
    seed: u64,
    figures: &mut Figures,
) -> Result<(), DevnetError> {
    let localnet = net
        .localnet()
        .ok_or_else(|| scenario_err("the cross-chain steps need the localnet"))?;
    let hub = localnet.hub.clone();
    let hub_buyer = localnet.hub_client(HUB_BUYER)?;
    let hub_seller = localnet.hub_client(HUB_SELLER)?;
    let city_denom = payment_channel::ibc::deposit::ibc_denom(&format!(
        "transfer/{}/{}",
        hub.city_channel, hub.fee_denom
    ));
    let receiver = hub_seller.signer_address().to_string();
    let payer = net.actor(HUB_BUYER).await?;
    let seller = net.addr(HUB_SELLER)?;
    let contract = net.contract("payment-channel")?;

    net.step("The seller starts its own relayer, paying claims out on the hub (watchtower with an IBC payout, settlement bridge, supervised Hermes)")
        .await?;
    net.exec(
        "deployer",
        "payment-channel",
        &json!({ "update_allowlists": { "add_ibc_channels": [hub.city_channel] } }),
        vec![],
    )
    .await?;
    let roles = ibc_roles(net, &hub, &seller, &receiver);
    let mut instance = Instance::new(net, HUB_SELLER, state_dir, seed, roles).await?;
    instance.start().await?;
    let (api, db) = (instance.voucher_api, instance.db.clone());
    let log = instance.log_file().map(|l| l.display().to_string());
    relayers.instances.push(instance);
    net.watch_services(relayers.instances.iter().map(|i| i.db.clone()).collect());
    net.note(format!(
        "payment channel allowlists {} (transfer to {}); {HUB_SELLER}'s relayer pays out to {receiver} on {}; Hermes {} with {} (log {})",
        hub.city_channel,
        hub.chain_id,
        hub.chain_id,
        hub.hermes.display(),
        hub.hermes_config.display(),
        log.unwrap_or_default()
    ));

    net.step("The seller lists a smart-meter stream priced in hub money")
        .await?;
    net.exec(
        HUB_SELLER,
        "data-registry",
        &json!({ "create_listing": {
            "title": "Smart meters, San Salvario (paid from the hub)",
            "description": "electricity-meter every minute",
            "category": "energy",
            "sensor_type": "electricity-meter",
            "unit": "kWh",
            "location": { "latitude": "45.0560", "longitude": "7.6840" },
            "price": { "asset": { "native": city_denom }, "amount": PRICE.to_string(), "model": "per_message" },
            "metadata_cid": CID,
            "endpoint": format!("wss://{HUB_SELLER}.devnet.local/sdpp/electricity-meter-hub"),
            "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) }
        } }),
        vec![],
    )
    .await?;
    net.note(format!(
        "{PRICE} {city_denom} per message ({} on {} arriving over {})",
        hub.fee_denom, hub.chain_id, hub.city_channel
    ));

    net.step("A hub buyer funds a channel on the city chain with one ICS-20 transfer (destination callback)")
        .await?;
    let buyer_hub_before = hub_buyer
        .balance(hub_buyer.signer_address(), &hub.fee_denom)
        .await?;
    let seller_hub_before = hub_seller.balance(&receiver, &hub.fee_denom).await?;
    // The payer proves on the city chain that the hub sender is its own.
    net.exec(
        HUB_BUYER,
        "payment-channel",
        &json!({ "authorize_hub_sender": {
            "channel": hub.city_channel, "sender": hub_buyer.signer_address()
        } }),
        vec![],
    )
    .await?;
    let secret = wevalue_voucher::sha256(format!("devnet-{seed}-hub-buyer-voucher-key").as_bytes());
    let key =
        VoucherSigner::from_secret(VoucherScheme::Ed25519, secret, "wasm").map_err(scenario_err)?;
    let memo = json!({
        "dest_callback": { "address": contract, "gas_limit": "500000" },
        "payment_channel": { "open": { "payer": payer, "channel": {
            "payee": seller,
            "pubkey": cosmwasm_std::Binary::from(key.public_key()),
            "scheme": "ed25519",
            "challenge_period": null,
        }}}
    });
    let hub_now = hub_buyer.latest_block().await?.time_nanos;
    let sent_at = Instant::now();
    let transfer = chain::submit(
        hub_buyer.as_ref(),
        &[ChainMsg::IbcTransfer {
            source_channel: hub.hub_channel.clone(),
            token: Coin::new(HUB_DEPOSIT, &hub.fee_denom),
            receiver: contract.clone(),
            memo: memo.to_string(),
            timeout_timestamp_nanos: hub_now + TIMEOUT_SECS * 1_000_000_000,
        }],
        "",
        Duration::from_secs(60),
    )
    .await
    .map_err(|source| DevnetError::Tx {
        actor: format!("{HUB_BUYER} on {}", hub.chain_id),
        contract: format!("transfer {}", hub.hub_channel),
        source: Box::new(source),
    })?;
    let transfer_fee = fee_in(&transfer, &hub.fee_denom);
    let opened: Value = until("the hub-funded channel", IBC_PATIENCE, || {
        let net = &*net;
        let payer = payer.clone();
        async move {
            let r: Value = net
                .query(
                    "payment-channel",
                    &json!({ "channels_by_payer": { "payer": payer, "start_after": null, "limit": 10 } }),
                )
                .await?;
            Ok(r["channels"].as_array().and_then(|c| c.first().cloned()))
        }
    })
    .await?;
    let deposit_secs = sent_at.elapsed().as_secs_f64();
    let channel = opened["id"]
        .as_u64()
        .ok_or_else(|| DevnetError::Check(format!("the opened channel has no id: {opened}")))?;
    check(
        opened["payee"] == seller.as_str()
            && opened["deposit"] == HUB_DEPOSIT.to_string()
            && opened["asset"]["native"] == city_denom.as_str(),
        || format!("channel {channel} should be {HUB_DEPOSIT} {city_denom} to {seller}: {opened}"),
    )?;
    net.note(format!(
        "{HUB_DEPOSIT} {} sent on {} (tx {}, height {}, fee {transfer_fee} {}); channel #{channel} opened for {payer} by the contract's destination callback {deposit_secs:.1} s later",
        hub.fee_denom, hub.chain_id, transfer.hash, transfer.height, hub.fee_denom
    ));

    net.step("The hub buyer pays per reading; the seller's relayer claims and pays out on the hub, followed to the acknowledgement")
        .await?;
    let http = reqwest::Client::new();
    let chain_id = net.chain_id.clone();
    for n in 1..=READINGS {
        let voucher = Voucher {
            chain_id: chain_id.clone(),
            contract: contract.clone(),
            channel_id: channel,
            amount: Uint128::new(n * PRICE),
            hashlock: None,
            expiry: None,
        };
        let signature = key.sign(&voucher).map_err(scenario_err)?;
        let request = VoucherRequest {
            channel_id: channel,
            amount: voucher.amount,
            hashlock: None,
            expiry: None,
            signature: signature.to_vec().into(),
            preimage: None,
        };
        post_voucher(&http, api, &request).await?;
    }
    let owed = READINGS * PRICE;
    let payouts = PayoutStore::open(&Arc::new(Store::open(&db)?), &chain_id, &contract)?;
    let record: PayoutRecord = until("the payout's acknowledgement", IBC_PATIENCE, || {
        let payouts = &payouts;
        async move {
            let list = payouts
                .list(None, None, 10)
                .await
                .map_err(|e| scenario_err(format!("bridge store: {e}")))?;
            Ok(list
                .into_iter()
                .find(|p| p.status != PayoutStatus::InFlight))
        }
    })
    .await?;
    check(record.status == PayoutStatus::Delivered, || {
        format!("the payout should be delivered: {record:?}")
    })?;
    check(
        record.amount == owed && record.receiver == receiver && record.denom == city_denom,
        || format!("the payout should be {owed} {city_denom} to {receiver}: {record:?}"),
    )?;
    let info: Value = net
        .query(
            "payment-channel",
            &json!({ "channel": { "channel_id": channel } }),
        )
        .await?;
    check(info["claimed"] == owed.to_string(), || {
        format!("channel {channel} should have {owed} claimed: {info}")
    })?;
    let credit: Value = net
        .query(
            "payment-channel",
            &json!({ "credit": { "payee": seller, "denom": city_denom } }),
        )
        .await?;
    check(credit["amount"] == "0", || {
        format!("a delivered payout leaves no credit: {credit}")
    })?;

    // Both balances on the hub, to the unit: the seller receives exactly
    // the settled amount (the voucher denom goes home as the hub's own);
    // the buyer paid the deposit and its transfer's fee.
    let buyer_hub_after = hub_buyer
        .balance(hub_buyer.signer_address(), &hub.fee_denom)
        .await?;
    let seller_hub_after = hub_seller.balance(&receiver, &hub.fee_denom).await?;
    check(seller_hub_after == seller_hub_before + owed, || {
        format!(
            "{HUB_SELLER} on the hub: {seller_hub_before} → {seller_hub_after} {}, expected +{owed}",
            hub.fee_denom
        )
    })?;
    check(
        buyer_hub_after + HUB_DEPOSIT + transfer_fee == buyer_hub_before,
        || {
            format!(
                "{HUB_BUYER} on the hub: {buyer_hub_before} → {buyer_hub_after} {}, expected -{HUB_DEPOSIT} - {transfer_fee} fee",
                hub.fee_denom
            )
        },
    )?;
    let (blocks, secs) = (
        record.latency_blocks().unwrap_or(0),
        record.latency_seconds().unwrap_or(0.0),
    );
    net.note(format!(
        "{READINGS} vouchers, {owed} {city_denom} claimed in city block {} and sent over {} as packet {}; acknowledged in block {} (+{blocks} blocks, {secs:.1} s); {receiver} received {owed} {} on {}",
        record.sent_height,
        record.ibc_channel,
        record.sequence,
        record.settled_height.unwrap_or(0),
        hub.fee_denom,
        hub.chain_id
    ));
    figures.cross_chain = Some(CrossChain {
        hub_chain_id: hub.chain_id.clone(),
        hub_denom: hub.fee_denom.clone(),
        channels: (hub.city_channel.clone(), hub.hub_channel.clone()),
        city_denom,
        channel_id: channel,
        deposit: HUB_DEPOSIT,
        settled: owed,
        payout_status: record.status.as_str().to_string(),
        payout_latency: (blocks, secs),
        deposit_secs,
        hub_balances: vec![
            HubBalance {
                actor: HUB_BUYER.into(),
                denom: hub.fee_denom.clone(),
                before: buyer_hub_before,
                after: buyer_hub_after,
                fees: transfer_fee,
            },
            HubBalance {
                actor: HUB_SELLER.into(),
                denom: hub.fee_denom.clone(),
                before: seller_hub_before,
                after: seller_hub_after,
                fees: 0,
            },
        ],
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use relayer_core::chain::{Attribute, Event};

    #[test]
    fn a_hub_fee_is_read_in_the_hubs_denom() {
        let outcome = |fee: &str| TxOutcome {
            hash: "H".into(),
            height: 3,
            code: 0,
            codespace: String::new(),
            log: String::new(),
            gas_used: 90,
            gas_wanted: 120,
            events: vec![Event {
                ty: "tx".into(),
                attributes: vec![Attribute {
                    key: "fee".into(),
                    value: fee.into(),
                }],
            }],
        };
        assert_eq!(fee_in(&outcome("3017uhub"), "uhub"), 3_017);
        assert_eq!(fee_in(&outcome("5ustable,3017uhub"), "uhub"), 3_017);
        assert_eq!(fee_in(&outcome("3017ustake"), "uhub"), 0);
    }
}
