//! The KooGallery wire format, and nothing else.
//!
//! Activities and their typed requests and responses with the spec's required flags and
//! maximum lengths; V1 `authToken`, `Body-Sign` and AES field encryption; V2 query and Kit
//! signatures; the usage-push and API Gateway signatures the marketplace's open APIs use;
//! result codes; the secret-key type.
//!
//! No clock and no I/O: where time matters (`timeStamp`, the V2 freshness window) the instant
//! is a parameter. Every signing and encryption function is tested against the fixed vectors
//! in `fixtures/vectors.json`.

pub(crate) mod activity;
pub(crate) mod answers;
pub(crate) mod apigw;
pub(crate) mod billing;
pub(crate) mod codes;
pub(crate) mod digest;
pub mod encoding;
pub(crate) mod enumerations;
pub mod fields;
pub(crate) mod identity;
pub(crate) mod json_ref;
pub(crate) mod open_api;
pub(crate) mod request;
pub(crate) mod secret;
pub(crate) mod time;
pub(crate) mod usage_push;
pub mod v1;
pub mod v2;
pub(crate) mod verdict;

#[cfg(test)]
pub(crate) mod test_vectors;

pub use activity::{Activity, InterfaceType, Protocol};
pub use billing::{BillingMode, Period};
pub(crate) use codes::ResultCode;
pub(crate) use request::Request;
pub use secret::AccessKey;
pub use time::UnixMillis;
