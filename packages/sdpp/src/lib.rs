#![doc = include_str!("../README.md")]

pub mod auth;
pub mod buyer;
pub mod code;
#[cfg(feature = "voucher")]
pub mod crypto;
pub mod frame;
pub mod handshake;
pub mod pricing;
pub mod seller;
pub mod session;

pub use auth::{ChannelSigner, ChannelVerifier, GatewaySigner, GatewayVerifier, SignatureError};
pub use buyer::{BuyerConfig, BuyerEvent, BuyerSession, BuyerStream};
pub use code::ErrorCode;
pub use frame::{decode, decode_prefix, DecodeError, EncodeError, Frame, FrameType};
pub use handshake::{Accept, Hello, Offer};
pub use pricing::{Amount, Asset, Price, PricingModel};
pub use seller::{Blocked, SellerConfig, SellerEvent, SellerSession, SellerStream, SendError};
pub use session::{ConfigError, Phase, Position, SessionError};

/// The protocol version named in every handshake message.
pub const PROTOCOL: &str = "sdpp/1";
/// The WebSocket subprotocol (`Sec-WebSocket-Protocol`) a client offers and
/// a server must select.
pub const SUBPROTOCOL: &str = "sdpp.1";
