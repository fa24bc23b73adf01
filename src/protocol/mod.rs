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

pub mod activity;
pub mod answers;
pub mod apigw;
pub mod billing;
pub mod codes;
pub mod digest;
pub mod encoding;
pub mod fields;
pub mod identity;
pub mod openapi;
pub mod request;
pub mod secret;
pub mod time;
pub mod usage_push;
pub mod v1;
pub mod v2;
pub mod verdict;

#[cfg(test)]
pub(crate) mod test_vectors;

pub use activity::{Activity, InterfaceType, Protocol};
pub use billing::{BillingMode, Period};
pub use codes::ResultCode;
pub use request::Request;
pub use secret::AccessKey;
pub use time::UnixMillis;
