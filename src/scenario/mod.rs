//! Scenarios: the YAML format, its loader with `file:line:col` diagnostics, and the async
//! runner that performs each delivery over HTTP against the merchant.
//!
//! [`wire`] signs requests at send time, [`http`] calls the target with a timeout, a body
//! cap and no redirects, and [`perform`] drives the marketplace engine against it.

pub mod http;
pub mod perform;
pub mod wire;
