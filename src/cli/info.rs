//! `kgsim validate`, `kgsim schema` and `kgsim checks`: commands for scenario authors.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::checks::CheckId;
use crate::cli::exit::{self, Exit, Kind as _};
use crate::cli::run::{load, report_problems};

/// Flags of `kgsim validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Scenario files or directories; the built-in suite when none.
    pub(crate) paths: Vec<PathBuf>,
}

/// Loads scenarios and reports every problem; exits 2 when there is one.
pub(crate) fn validate(args: &ValidateArgs, out: &mut dyn Write) -> Exit {
    let loaded = load(&args.paths);
    if report_problems(&loaded) {
        let count: usize = loaded
            .problems
            .iter()
            .map(|p| p.problems.len() + p.omitted)
            .sum();
        eprintln!("{count} problem(s) in {} file(s)", loaded.problems.len());
        return Ok(exit::USAGE);
    }
    writeln!(out, "ok: {} scenario(s)", loaded.scenarios.len())?;
    Ok(exit::OK)
}

/// Prints the JSON Schema of the scenario format.
pub(crate) fn schema(out: &mut dyn Write) -> Exit {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&crate::scenario::format::schema::json_schema())
            .could_not_run()?
    )?;
    Ok(exit::OK)
}

/// Lists every check with its rationale and spec section.
pub(crate) fn checks(out: &mut dyn Write) -> Exit {
    let mut family = None;
    for check in CheckId::ALL {
        if family != Some(check.family()) {
            writeln!(out, "{}", check.family().name())?;
            family = Some(check.family());
        }
        writeln!(
            out,
            "  {:<32} {} [{}]",
            check.id(),
            check.rationale(),
            check.spec()
        )?;
    }
    Ok(exit::OK)
}
