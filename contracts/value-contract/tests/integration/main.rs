//! Multi-test integration tests of the value contract, one binary with a
//! module per feature.

mod lifecycle;
mod model;
mod oracles;
mod proptests;
mod security;
mod suite;
mod templates;
