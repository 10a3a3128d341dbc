#![doc = include_str!("../README.md")]

pub mod admin;
pub mod claim;
pub mod close;
pub mod contract;
mod error;
pub mod ibc;
pub mod listing;
pub mod migrations;
pub mod msg;
pub mod open;
pub mod query;
mod responses;
pub mod state;
pub mod voucher;

pub use crate::error::ContractError;
