//! SaaS V1: GET requests authenticated by `authToken`, responses signed with `Body-Sign`,
//! sensitive fields encrypted with AES-CBC (spec: koogallery-saas-v1.md).

pub mod auth_token;
pub mod body_sign;
pub mod crypto;
pub(crate) mod extend_params;
pub mod messages;
pub(crate) mod query_memo;
