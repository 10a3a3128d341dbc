//! Placeholder: the token-curated-registry contract is built by issue 4. This crate
//! compiles so the workspace is complete; it exports no entry points and
//! nothing here pretends to work.
