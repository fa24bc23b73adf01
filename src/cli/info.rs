//! `kgsim validate`, `kgsim schema` and `kgsim checks`: commands for scenario authors.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::exit;
use crate::cli::run::{load, report_problems};
use crate::conformance::CHECKS;

/// Flags of `kgsim validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files or directories; the built-in suite when none.
    pub paths: Vec<PathBuf>,
}

/// Loads scenarios and reports every problem; exits 2 when there is one.
pub fn validate(args: &ValidateArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let loaded = load(&args.paths);
    if report_problems(&loaded) {
        let count: usize = loaded.problems.iter().map(|p| p.problems.len()).sum();
        eprintln!("{count} problem(s) in {} file(s)", loaded.problems.len());
        return Ok(exit::USAGE);
    }
    writeln!(out, "ok: {} scenario(s)", loaded.scenarios.len())?;
    Ok(exit::OK)
}

/// Prints the JSON Schema of the scenario format.
pub fn schema(out: &mut dyn Write) -> anyhow::Result<u8> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&crate::scenario::schema::json_schema())?
    )?;
    Ok(exit::OK)
}

/// Lists every check with its rationale and spec section.
pub fn checks(out: &mut dyn Write) -> anyhow::Result<u8> {
    let mut family = None;
    for check in CHECKS {
        if family != Some(check.family) {
            writeln!(out, "{}", check.family.name())?;
            family = Some(check.family);
        }
        writeln!(
            out,
            "  {:<32} {} [{}]",
            check.id, check.rationale, check.spec
        )?;
    }
    Ok(exit::OK)
}
