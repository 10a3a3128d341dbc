//! Placeholder: the value-contract contract is built by issue 5. This crate
//! compiles so the workspace is complete; it exports no entry points and
//! nothing here pretends to work.
