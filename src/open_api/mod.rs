//! The marketplace's open APIs, served and judged: query-order, usage push (new and old),
//! License 2.0 activate / heartbeat / software-usage-info and the file-stream upload, on the
//! real hosts' paths so that a merchant only changes its base URL (spec:
//! koogallery-v2-kit-license.md §4.3, §4.6, §6, §7).
//!
//! [`book`] holds what the APIs know (the marketplace's orders, instances and License codes,
//! published by the scenario runner, and the MOCK data of [`mock`]) and every call the
//! merchant made with the checks it broke; [`server`] routes and answers; [`auth`] checks
//! signatures as the gateway does; [`ops`] are the operations; [`tls`] generates the CA for
//! HTTPS. Depends on `protocol` and the check registry only.

pub(crate) mod auth;
pub(crate) mod book;
pub(crate) mod mock;
pub(crate) mod ops;
pub(crate) mod server;
pub(crate) mod tls;

/// The identity-centre domain tenantSync announces when the open APIs (and with them the
/// identity centre) are not served: a reserved name, so that a merchant's login fails
/// visibly rather than reaching a real host.
pub(crate) const IDENTITY_UNSERVED: &str = "https://identity.kgsim.invalid";

pub use auth::Keys;
pub(crate) use book::{Book, MerchantCall, Scope};
pub(crate) use server::{Running, StartError, start};
