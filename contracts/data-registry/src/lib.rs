#![doc = include_str!("../README.md")]

pub mod codec;
pub mod config;
pub mod contract;
mod error;
pub mod execute;
pub mod migrations;
pub mod msg;
pub mod query;
pub mod rating;
pub mod state;
pub mod validate;

pub use crate::error::ContractError;
