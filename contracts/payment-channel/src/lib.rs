//! Placeholder: the payment-channel contract is built by issue 3. This crate
//! compiles so the workspace is complete; it exports no entry points and
//! nothing here pretends to work.
