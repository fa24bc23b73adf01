//! kgsim's integration tests: one binary, a module per area, helpers in `support`.

mod cli_signatures;
mod support;
