//! Scenarios: what a scenario file says ([`format`]), what the product is ([`profile`]), and
//! how a scenario is performed against a merchant ([`run`]), what a run produced
//! ([`result`], which the checks and the reports read), and what the open APIs know of a
//! marketplace ([`publish`], shared with the console).
//!
//! [`format`] is pure (no tokio, no HTTP, no file system); [`run`] drives the marketplace
//! engine through [`crate::transport`].

pub mod format;
pub mod profile;
pub(crate) mod publish;
pub(crate) mod result;
pub(crate) mod run;
pub(crate) mod sources;
