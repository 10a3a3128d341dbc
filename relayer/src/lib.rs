//! Placeholder: the relayer core is built by issue 6 and its services and the
//! `devnet` main job by issue 7. This crate compiles so the workspace is
//! complete; nothing here pretends to work.
