//! The suite's contracts as the embedded chain runs them: each contract
//! crate's entry points wrapped for cw-multi-test, by registry name. This is
//! the one place contract execution code is linked into the relayer.

use cosmwasm_std::{Checksum, Empty};
use cw_multi_test::{Contract, ContractWrapper};

/// Builds the native (cw-multi-test) implementation, carrying the checksum
/// the embedded chain should report for it.
pub type NativeConstructor = fn(Checksum) -> Box<dyn Contract<Empty>>;

/// Wraps a contract crate's entry points (`instantiate`, `execute`, `query`,
/// `migrate` in `$module`) into a cw-multi-test contract.
macro_rules! native {
    ($module:path) => {{
        fn build(checksum: Checksum) -> Box<dyn Contract<Empty>> {
            use $module as m;
            Box::new(
                ContractWrapper::new(m::execute, m::instantiate, m::query)
                    .with_migrate(m::migrate)
                    .with_checksum(checksum),
            )
        }
        build
    }};
}

/// Native implementations by the names of `relayer_core::contracts::REGISTRY`.
const NATIVES: &[(&str, NativeConstructor)] = &[
    ("data-registry", native!(data_registry::contract)),
    (
        "token-curated-registry",
        native!(token_curated_registry::contract),
    ),
    ("payment-channel", native!(payment_channel::contract)),
    ("value-contract", native!(value_contract::contract)),
    ("cw20-base", native!(cw20_base::contract)),
];

/// The native implementation of a registered contract.
pub fn native(name: &str) -> Option<NativeConstructor> {
    NATIVES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}
