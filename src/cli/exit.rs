//! Exit codes, one meaning each, shared by every command.

use std::process::ExitCode;

/// Conformant, or the signature verified.
pub const OK: u8 = 0;
/// Not conformant, or a signature/decryption mismatch.
pub const MISMATCH: u8 = 1;
/// Invalid scenario, profile or usage (clap also exits 2 on a usage error).
pub const USAGE: u8 = 2;
/// Could not run (port in use, target unreachable before any scenario started).
pub const COULD_NOT_RUN: u8 = 3;

/// The text for `--help`.
pub const HELP: &str = "Exit codes: 0 conformant / signature valid, 1 not conformant / mismatch, \
                        2 invalid scenario, profile or usage, 3 could not run.";

/// Converts a code to the process's exit status.
pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
