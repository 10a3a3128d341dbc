#![doc = include_str!("../README.md")]

mod codec;
pub mod contract;
mod error;
pub mod execute;
pub mod migrations;
pub mod msg;
pub mod query;
pub mod state;
pub mod validate;

pub use crate::error::ContractError;
