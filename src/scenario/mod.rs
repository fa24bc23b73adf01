//! Scenarios: what a scenario file says ([`format`]), what the product is ([`profile`]), and
//! how a scenario is performed against a merchant ([`run`]).
//!
//! [`format`] is pure (no tokio, no HTTP, no file system); [`run`] drives the marketplace
//! engine through [`crate::transport`].

pub mod format;
pub mod profile;
pub mod run;
pub mod sources;
