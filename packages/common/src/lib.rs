//! Interface types shared by the WeValue contracts and the relayer.
//!
//! * [`asset`]: a native coin or a cw20 token, with transfer helpers.
//! * [`curation`]: the query a registry answers to say whether a subject is
//!   listed (implemented by the token-curated registry, called by the data
//!   registry before it accepts a listing).
//! * [`purchase`]: the query a payment contract answers to say how much a
//!   payer has paid a payee (implemented by the payment channel, called by
//!   the data registry before it accepts a rating).
//! * [`pagination`]: the `start_after` + `limit` convention (default 10,
//!   max 30) every paginated query uses.
//! * [`migration`]: the cw2 guard every `migrate` entry point runs, which
//!   refuses another contract's state and downgrades.
//! * [`ownership`]: the `update_ownership` handler every contract shares.

pub mod asset;
pub mod curation;
pub mod migration;
pub mod ownership;
pub mod pagination;
pub mod purchase;

pub use asset::{Asset, AssetError, AssetInfo};
