//! Scenarios: the YAML format, its loader with `file:line:col` diagnostics, and the async
//! runner that performs each delivery over HTTP against the merchant. Not yet filled.
