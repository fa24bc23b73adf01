//! The scenario format: the typed model, the schema tables every key and value is checked
//! against, the span-keeping YAML tree, the decoder with its diagnostics, and the built-in
//! suite. Pure: no clock, no I/O, no async.

pub mod builtin;
pub mod decode;
pub mod diagnostics;
pub mod model;
pub mod schema;
pub mod yaml;
