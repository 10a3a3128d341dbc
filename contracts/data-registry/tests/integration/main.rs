//! Multi-test integration tests of the data registry, one binary with a
//! module per feature.

mod admin;
mod curation;
mod listings;
mod mocks;
mod paging;
mod proptests;
mod queries;
mod ratings;
mod suite;
mod validation;
