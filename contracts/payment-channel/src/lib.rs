#![doc = include_str!("../README.md")]

pub mod contract;
mod error;
pub mod execute;
pub mod ibc;
pub mod migrations;
pub mod msg;
pub mod query;
pub mod state;
pub mod voucher;

pub use crate::error::ContractError;
