//! kgsim's integration tests: one binary, a module per area, helpers in `support`.
#![expect(clippy::unwrap_used, reason = "test helpers fail loudly by unwrapping")]

mod check_failures;
mod cli_signatures;
mod console;
mod console_browser;
mod console_debug;
mod console_explore;
mod console_runs;
mod diagnostics;
mod differential;
mod exit_codes;
mod explore;
mod fault_matrix;
mod hostile;
mod house;
mod independent;
mod independent_client;
mod independent_joint;
mod independent_merchant;
mod inferences;
mod lifecycle;
mod load;
mod merchant_probe;
mod open_api;
mod readme;
mod reports;
mod reproduce;
mod support;
