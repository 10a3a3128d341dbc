//! What the gateway reads on chain, through the core's read capability:
//! the listing it serves (seller, price, terms, status) and the buyer's
//! channel (payee, asset, deposit, scheme, key, open and not closing).

use data_registry::msg::{ListingInfo, QueryMsg as RegistryQuery};
use data_registry::state::ListingStatus;
use payment_channel::msg::{ChannelResponse, ChannelStatus, QueryMsg as ChannelQuery};
use relayer_core::chain::{query_smart, ChainReader};
use relayer_core::ChainError;
use wevalue_sdpp::handshake::{ChannelRef, Hex, Scheme, Terms};
use wevalue_sdpp::{BuyerConfig, Price, PricingModel};

/// A listing as the gateway serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub id: u64,
    pub seller: String,
    pub price: Price,
    pub terms: Terms,
    pub active: bool,
    pub endpoint: String,
    pub category: String,
    pub geohash: String,
}

impl Listing {
    /// A buyer's session settings for this listing over `channel`: the
    /// listing's seller, terms and price, no spend cap, 64 KiB payloads,
    /// paying at half the credit window or after 1 s without a chunk. Callers
    /// change what differs with struct update syntax.
    pub fn buyer_config(
        &self,
        chain_id: &str,
        registry: &str,
        channel: ChannelRef,
        deposit: u128,
    ) -> BuyerConfig {
        BuyerConfig {
            chain_id: chain_id.into(),
            registry: registry.into(),
            listing_id: self.id,
            seller: self.seller.clone(),
            terms: self.terms.clone(),
            price: self.price.clone(),
            channel,
            deposit,
            max_amount: None,
            max_payload: 65_536,
            pay_at_percent: 50,
            idle_pay_ms: 1_000,
        }
    }

    /// The listing's pricing model.
    pub fn model(&self) -> PricingModel {
        self.price.model
    }
}

/// Why a listing cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{0}")]
    Chain(#[from] ChainError),
    #[error("not found")]
    NotFound,
    #[error("unusable on chain: {0}")]
    Invalid(String),
}

fn not_found(e: ChainError) -> LookupError {
    match e {
        ChainError::Query { reason, .. } if reason.contains("not found") => LookupError::NotFound,
        e => LookupError::Chain(e),
    }
}

/// Converts the registry's listing to SDPP's view (same price JSON).
pub fn listing_from(info: ListingInfo) -> Result<Listing, LookupError> {
    let price: Price = serde_json::to_value(&info.price)
        .and_then(serde_json::from_value)
        .map_err(|e| LookupError::Invalid(format!("price: {e}")))?;
    let hash: [u8; 32] = info
        .terms
        .terms_hash
        .as_slice()
        .try_into()
        .map_err(|_| LookupError::Invalid("terms hash is not 32 bytes".into()))?;
    Ok(Listing {
        id: info.id,
        seller: info.seller.into_string(),
        price,
        terms: Terms {
            license: info.terms.license,
            terms_hash: Hex(hash),
        },
        active: info.status == ListingStatus::Active,
        endpoint: info.endpoint,
        category: info.category,
        geohash: info.location.geohash,
    })
}

/// Reads a listing.
pub async fn listing(
    chain: &dyn ChainReader,
    registry: &str,
    id: u64,
) -> Result<Listing, LookupError> {
    let info: ListingInfo = query_smart(chain, registry, &RegistryQuery::Listing { id })
        .await
        .map_err(not_found)?;
    listing_from(info)
}

/// A channel as the gateway checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: u64,
    pub payer: String,
    pub payee: String,
    /// `{"native": denom}` or `{"cw20": address}`, as the registry writes assets.
    pub asset: serde_json::Value,
    pub pubkey: Vec<u8>,
    pub scheme: Scheme,
    pub deposit: u128,
    pub claimed: u128,
    pub open: bool,
    /// The listing the channel names, if any: (registry, listing id).
    pub listing: Option<(String, u64)>,
}

/// Reads a channel.
pub async fn channel(
    chain: &dyn ChainReader,
    contract: &str,
    id: u64,
) -> Result<Channel, LookupError> {
    let c: ChannelResponse =
        query_smart(chain, contract, &ChannelQuery::Channel { channel_id: id })
            .await
            .map_err(not_found)?;
    let scheme: Scheme = serde_json::to_value(c.scheme)
        .and_then(serde_json::from_value)
        .map_err(|e| LookupError::Invalid(format!("scheme: {e}")))?;
    Ok(Channel {
        id: c.id,
        payer: c.payer.into_string(),
        payee: c.payee.into_string(),
        asset: serde_json::to_value(&c.asset)
            .map_err(|e| LookupError::Invalid(format!("asset: {e}")))?,
        pubkey: c.pubkey.to_vec(),
        scheme,
        deposit: c.deposit.u128(),
        claimed: c.claimed.u128(),
        open: c.status == ChannelStatus::Open,
        listing: c.listing.map(|l| (l.registry.into_string(), l.listing_id)),
    })
}

/// Why a channel cannot pay for a listing (the CHANNEL_INVALID or
/// CHANNEL_IN_USE reason), or `None` if it can.
pub fn refuse_channel(
    channel: &Channel,
    listing: &Listing,
    registry: &str,
) -> Option<(wevalue_sdpp::ErrorCode, String)> {
    use wevalue_sdpp::ErrorCode::{ChannelInUse, ChannelInvalid};
    if channel.payee != listing.seller {
        return Some((
            ChannelInvalid,
            format!(
                "channel {} pays {}, not the seller {}",
                channel.id, channel.payee, listing.seller
            ),
        ));
    }
    let asset = serde_json::to_value(&listing.price.asset).unwrap_or_default();
    if channel.asset != asset {
        return Some((
            ChannelInvalid,
            format!(
                "channel {} holds {}, the listing is priced in {}",
                channel.id, channel.asset, asset
            ),
        ));
    }
    if !channel.open {
        return Some((
            ChannelInvalid,
            format!("channel {} is closing or closed", channel.id),
        ));
    }
    if channel.deposit <= channel.claimed {
        return Some((
            ChannelInvalid,
            format!("channel {} has nothing left to pay with", channel.id),
        ));
    }
    match &channel.listing {
        Some((r, l)) if r != registry || *l != listing.id => Some((
            ChannelInUse,
            format!("channel {} buys listing {l} of {r}", channel.id),
        )),
        _ => None,
    }
}
