//! kgsim — a local Huawei Cloud KooGallery (华为云云商店) marketplace on a virtual clock, and a
//! conformance harness for the merchants who sell SaaS products there.
//!
//! A fake marketplace drives a merchant's production interface through scripted scenarios —
//! purchase, duplicate resend, renewal, expiry, freeze/unfreeze, release, upgrade, the
//! 3-hour retry schedule, forged requests — and reports conformance check by check.
//!
//! Module map (arrows point one way: each module uses only those before it):
//!
//! | module | concern |
//! |---|---|
//! | [`protocol`] | the wire format: activities, messages, signatures, encryption, result codes; no clock, no I/O |
//! | [`marketplace`] | the simulated marketplace: orders, instances, lifecycle, retries, virtual clock, outcome classification |
//! | [`scenario`] | the YAML scenario format, its loader with diagnostics, and the runner that performs HTTP |
//! | [`conformance`] | the check registry |
//! | [`report`] | the result model and its renderers |
//! | [`cli`] | command-line parsing and wiring |
//! | [`merchant`] | the reference merchant; depends on `protocol` only |

pub mod cli;
pub mod conformance;
pub mod marketplace;
pub mod merchant;
pub mod protocol;
pub mod report;
pub mod scenario;
