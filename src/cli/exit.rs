//! Exit codes, one meaning each, shared by every command, and the failure type that carries
//! which of them an error means.

use std::process::ExitCode;

/// Conformant, or the signature verified.
pub(crate) const OK: u8 = 0;
/// Not conformant, or a signature/decryption mismatch.
pub(crate) const MISMATCH: u8 = 1;
/// Invalid command line, scenario or profile (clap also exits 2 on a usage error).
pub(crate) const USAGE: u8 = 2;
/// Could not run or could not record the run: port in use, target unreachable before any
/// scenario started, an unreadable key file, an unwritable report or snapshot path.
pub(crate) const COULD_NOT_RUN: u8 = 3;

/// The text for `--help`.
pub(crate) const HELP: &str = "Exit codes: 0 conformant / signature valid, 1 not conformant / \
                               mismatch, 2 invalid command line, scenario or profile, 3 could \
                               not run or record the run.";

/// Why a command stopped before its verdict.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line, a scenario or a profile is wrong: the user must change what they
    /// asked for (exit 2).
    Usage(anyhow::Error),
    /// Something kept the run from happening or from being recorded (exit 3).
    CouldNotRun(anyhow::Error),
    /// The reason was already printed (scenario diagnostics); only the code remains.
    Reported(u8),
}

/// What a command returns: its exit code, or why it stopped.
pub(crate) type Exit = Result<u8, Failure>;

impl From<anyhow::Error> for Failure {
    /// An error with no explicit kind is about what the user asked for.
    fn from(error: anyhow::Error) -> Self {
        Self::Usage(error)
    }
}

impl From<std::io::Error> for Failure {
    /// Writing the command's output failed: the run could not be recorded.
    fn from(error: std::io::Error) -> Self {
        Self::CouldNotRun(error.into())
    }
}

/// Marks an error with its exit code.
pub(crate) trait Kind<T> {
    /// Exit 2: the user must change what they asked for.
    fn usage(self) -> Result<T, Failure>;
    /// Exit 3: the run could not happen or be recorded.
    fn could_not_run(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> Kind<T> for Result<T, E> {
    fn usage(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Usage(e.into()))
    }

    fn could_not_run(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::CouldNotRun(e.into()))
    }
}

/// Prints a failure (once, as `error: …` with its causes) and returns its exit code.
pub(crate) fn report(failure: Failure) -> u8 {
    match failure {
        Failure::Usage(error) => {
            eprintln!("error: {error:#}");
            USAGE
        }
        Failure::CouldNotRun(error) => {
            eprintln!("error: {error:#}");
            COULD_NOT_RUN
        }
        Failure::Reported(code) => code,
    }
}

/// Converts a code to the process's exit status.
pub(crate) fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
