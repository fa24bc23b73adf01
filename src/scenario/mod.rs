//! Scenarios: the YAML format, its loader with `file:line:col` diagnostics, and the async
//! runner that performs each delivery over HTTP against the merchant.
//!
//! [`wire`] signs requests at send time, [`http`] calls the target with a timeout, a body
//! cap and no redirects, and [`perform`] drives the marketplace engine against it.

pub mod builtin;
pub mod diagnostics;
pub mod http;
pub mod http1;
pub mod load;
pub mod loadgen;
pub mod model;
pub mod perform;
pub mod profile;
pub mod runner;
pub mod schema;
pub mod suite;
pub mod wire;
pub mod yaml;
