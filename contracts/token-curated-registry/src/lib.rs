#![doc = include_str!("../README.md")]

pub mod challenge;
pub mod commitment;
pub mod contract;
mod error;
pub mod execute;
pub mod listing;
pub mod migrations;
pub mod msg;
pub mod params;
pub mod query;
pub mod state;
pub mod subject;
pub mod voting;

pub use crate::error::ContractError;
