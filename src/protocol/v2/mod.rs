//! SaaS V2: POST JSON requests signed in the query string, unsigned JSON answers, and the
//! joint-operation Kit header signature and sync bodies, the License notices and the order
//! notification (spec: koogallery-v2-kit-license.md §1–5).

pub mod canonical;
pub(crate) mod client_secret;
pub(crate) mod kit;
pub(crate) mod kit_sync;
pub(crate) mod license;
pub(crate) mod messages;
pub mod signature;
