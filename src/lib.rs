//! kgsim — a local Huawei Cloud KooGallery (华为云云商店) marketplace on a virtual clock, and a
//! conformance harness for the merchants who sell SaaS products there.
//!
//! A fake marketplace drives a merchant's production interface through scripted scenarios —
//! purchase, duplicate resend, renewal, expiry, freeze/unfreeze, release, upgrade, the
//! 3-hour retry schedule, forged requests — and reports conformance check by check.
//!
//! Module map, lowest layer first; a module imports only from the layers below it
//! (`tests/it/house.rs` checks this):
//!
//! | module | concern |
//! |---|---|
//! | [`slug`] | one mechanism for enums with a text name: their values, `slug()`, `Display`, `FromStr` |
//! | [`protocol`] | the wire format: activities, messages, signatures, encryption, result codes; no clock, no I/O |
//! | [`checks`] | the check registry: every check id with its rationale and spec section |
//! | [`fsio`] | capped reads of user files, atomic writes of outputs |
//! | [`marketplace`] | the simulated marketplace: orders, instances, lifecycle, retries, virtual clock, the console's judgement of an answer; pure and synchronous |
//! | [`open_api`] | the marketplace's open APIs the merchant calls (query-order, usage push, License, upload): served, judged, logged; beside `marketplace` |
//! | [`transport`] | signing at send time, edits and tampering around it, and the one HTTP client every caller uses |
//! | [`deliver`] | one attempt signed, sent, judged and cut down; the one batch loop that runs an engine until an instant, reporting to an observer |
//! | [`scenario`] | the YAML format and its decoder, the product profile, the runner that performs scenarios through [`deliver`], and what a run produced |
//! | [`conformance`] | the check registry (typed ids), the checks, root-cause attribution |
//! | [`report`] | one result model; terminal, JUnit, JSON and snapshot renderers; redaction |
//! | [`load`] | load mode: bursts of purchases judged by the console checks |
//! | [`pipeline`] | the library entry point: run → judge → report → snapshots |
//! | [`console`] | `kgsim serve`: the local seller console — SQLite state, pages, JSON API, test clock |
//! | [`cli`] | command-line parsing and wiring; only [`cli::main`] is public |
//! | [`merchant`] | the reference merchant; depends on `protocol` (and `slug`) only |

pub mod checks;
pub mod conformance;
pub mod console;
pub mod deliver;
pub mod explore;
pub mod fsio;
#[doc(hidden)]
pub mod fuzzing;
pub mod load;
pub mod marketplace;
pub mod merchant;
pub mod open_api;
pub mod pipeline;
pub mod protocol;
pub mod report;
pub mod reproduce;
pub mod scenario;
pub mod slug;
pub mod transport;

pub mod cli;
