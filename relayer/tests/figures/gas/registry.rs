//! data-registry on wasmd: a listing created, updated and retired, and
//! rated after a purchase through the payment channel (and revised).

use anyhow::{anyhow, Result};
use cosmwasm_std::Binary;
use relayer::chain::find_attr;
use serde_json::{json, Value};
use wevalue_voucher::sign::VoucherSigner;

use super::{channel_ids, exec, instantiate, send, voucher, Rows, BUYER, DEPLOYER, DEPOSIT, PAYEE};
use crate::net::Chain;

fn listing(title: &str, denom: &str, price: &str) -> Value {
    json!({ "create_listing": {
        "title": title, "description": "PM2.5 every minute", "category": "air-quality",
        "sensor_type": "pm2.5", "unit": "ug/m3",
        "location": { "latitude": "45.0703", "longitude": "7.6869" },
        "price": { "asset": { "native": denom }, "amount": price, "model": "per_message" },
        "metadata_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "endpoint": "wss://sensors.turin.example/air",
        "terms": { "license": "CC-BY-4.0", "terms_hash": "07".repeat(32) }
    }})
}

pub async fn rows(chain: &Chain, rows: &mut Rows, pc: &str, ed: &VoucherSigner) -> Result<()> {
    let denom = chain.net.denom.clone();
    let code = chain.store(DEPLOYER, "data-registry").await?;
    let seller = chain.client(PAYEE);
    let reg = instantiate(
        &chain.client(DEPLOYER),
        code,
        json!({ "owner": null, "listing_deposit": null,
        "curation_registry": null, "purchase_verifier": pc, "min_rating_units": 1 }),
        "figures registry",
    )
    .await?;
    let out = send(
        &seller,
        vec![exec(
            &reg,
            listing("PM2.5 at Porta Nuova", &denom, "10"),
            vec![],
        )?],
    )
    .await?;
    rows.add("data-registry create_listing", &out, "19,819 – 19,908");
    let id: u64 = find_attr(&out.events, "wasm", "listing_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no listing_id"))?;
    let update = json!({ "update_listing": { "id": id, "update": { "title": null, "description": null,
        "category": null, "sensor_type": null, "unit": null, "location": null,
        "price": { "asset": { "native": denom }, "amount": "12", "model": "per_message" },
        "metadata_cid": null, "endpoint": null, "terms": null } } });
    let out = send(&seller, vec![exec(&reg, update, vec![])?]).await?;
    rows.add(
        "data-registry update_listing (new price, re-indexed)",
        &out,
        "19,730 – 19,829",
    );
    let other = send(
        &seller,
        vec![exec(&reg, listing("Retired", &denom, "10"), vec![])?],
    )
    .await?;
    let other_id: u64 = find_attr(&other.events, "wasm", "listing_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no listing_id"))?;
    let out = send(
        &seller,
        vec![exec(
            &reg,
            json!({ "retire_listing": { "id": other_id } }),
            vec![],
        )?],
    )
    .await?;
    rows.add("data-registry retire_listing", &out, "13,013 – 13,113");
    // A purchase of the listing: a channel naming it, claimed by the seller.
    let buyer = chain.client(BUYER);
    let open = json!({ "open": { "payee": chain.address(PAYEE), "pubkey": Binary::from(ed.public_key()),
        "scheme": "ed25519", "challenge_period": null, "listing": { "registry": reg, "listing_id": id } } });
    let ch = channel_ids(
        &send(
            &buyer,
            vec![exec(pc, open, cosmwasm_std::coins(DEPOSIT, &denom))?],
        )
        .await?,
    )[0];
    let claim = json!({ "claim": { "channel_id": ch,
        "voucher": voucher(ed, &chain.net.chain_id, pc, ch, 120)?, "preimage": null, "payout": null } });
    send(&seller, vec![exec(pc, claim, vec![])?]).await?;
    let rate = |score: u8| {
        exec(
            &reg,
            json!({ "rate": { "id": id, "score": score, "review_cid": null } }),
            vec![],
        )
    };
    let out = send(&buyer, vec![rate(5)?]).await?;
    rows.add(
        "data-registry rate, first (purchase checked)",
        &out,
        "19,006",
    );
    let out = send(&buyer, vec![rate(4)?]).await?;
    rows.add("data-registry rate, revision", &out, "18,992");
    Ok(())
}
