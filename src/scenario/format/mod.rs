//! The scenario format: the typed model, the schema tables every key and value is checked
//! against, the span-keeping YAML tree, the decoder with its diagnostics, and the built-in
//! suite. Pure: no clock, no I/O, no async.

pub(crate) mod builtin;
pub mod decode;
pub mod diagnostics;
pub(crate) mod model;
pub(crate) mod schema;
pub mod yaml;
