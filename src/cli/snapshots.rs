//! `kgsim snapshots review|accept|reject`: decide on transcripts a run left pending.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::cli::exit::{self, Exit};
use crate::report::snapshot::{self, accepted_path};

/// Where the snapshots are, and which pending transcripts to act on.
#[derive(Debug, Args)]
pub(crate) struct Selection {
    /// The snapshot directory.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub(crate) snapshots: PathBuf,
    /// Pending files (`*.snap.pending`) to act on; every pending one when none are named.
    pub(crate) files: Vec<PathBuf>,
}

/// What to do with pending transcripts.
#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotsCommand {
    /// Show each pending transcript: new, or a unified diff against the accepted one.
    Review(Selection),
    /// Accept pending transcripts: they become the snapshots.
    Accept(Selection),
    /// Reject pending transcripts: they are deleted and the snapshots kept.
    Reject(Selection),
}

fn selected(selection: &Selection) -> Vec<PathBuf> {
    if selection.files.is_empty() {
        snapshot::pending(&selection.snapshots)
    } else {
        selection.files.clone()
    }
}

fn review(path: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let current = std::fs::read_to_string(path)?;
    let accepted = accepted_path(path);
    match std::fs::read_to_string(&accepted) {
        Ok(old) => {
            writeln!(out, "changed: {}", accepted.display())?;
            write!(out, "{}", snapshot::diff(&old, &current))?;
        }
        Err(_) => {
            writeln!(out, "new: {}", accepted.display())?;
            for line in current.lines() {
                writeln!(out, "+{line}")?;
            }
        }
    }
    writeln!(out)?;
    Ok(())
}

/// Runs `kgsim snapshots …`.
pub(crate) fn run(command: &SnapshotsCommand, out: &mut dyn Write) -> Exit {
    match command {
        SnapshotsCommand::Review(selection) => {
            let pending = selected(selection);
            for path in &pending {
                review(path, out)?;
            }
            writeln!(
                out,
                "{} pending transcript(s); `kgsim snapshots accept` or `reject` them",
                pending.len()
            )?;
        }
        SnapshotsCommand::Accept(selection) => {
            for path in selected(selection) {
                writeln!(out, "accepted: {}", snapshot::accept(&path)?.display())?;
            }
        }
        SnapshotsCommand::Reject(selection) => {
            for path in selected(selection) {
                snapshot::reject(&path)?;
                writeln!(out, "rejected: {}", path.display())?;
            }
        }
    }
    Ok(exit::OK)
}
