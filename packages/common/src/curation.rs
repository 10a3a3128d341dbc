//! The curation query interface.
//!
//! A registry that curates subjects (the token-curated registry curates data
//! sellers) answers [`CurationQueryMsg::IsListed`]. Its own `QueryMsg` must
//! contain a variant with the same name and fields so that this message
//! deserializes into it: `{"is_listed":{"subject":"..."}}`.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, QuerierWrapper, StdResult};

#[cw_serde]
#[derive(QueryResponses)]
pub enum CurationQueryMsg {
    /// Whether `subject` is currently listed (accepted and not removed).
    #[returns(IsListedResponse)]
    IsListed {
        /// The curated subject: a bech32 address for data sellers, or any
        /// string id the registry accepts.
        subject: String,
    },
}

#[cw_serde]
pub struct IsListedResponse {
    /// True only while the subject is listed; false for unknown, pending,
    /// challenged-and-removed or exited subjects.
    pub listed: bool,
}

/// Asks the registry at `registry` whether `subject` is listed.
pub fn query_is_listed(
    querier: &QuerierWrapper,
    registry: &Addr,
    subject: impl Into<String>,
) -> StdResult<bool> {
    let resp: IsListedResponse = querier.query_wasm_smart(
        registry,
        &CurationQueryMsg::IsListed {
            subject: subject.into(),
        },
    )?;
    Ok(resp.listed)
}
