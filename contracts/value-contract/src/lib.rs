#![doc = include_str!("../README.md")]

pub mod acceptance;
pub mod agreement;
pub mod contract;
mod error;
pub mod funding;
pub mod keys;
pub mod lifecycle;
pub mod matching;
pub mod migrations;
pub mod msg;
pub mod oracle;
pub mod query;
pub mod settlement;
pub mod state;
pub mod templates;

pub use crate::error::ContractError;
