//! Snapshots: each scenario's normalised transcript kept under a directory, compared on every
//! run. A changed transcript fails the `snapshot` check with a unified diff and is left
//! pending (`.snap.pending`) for `kgsim snapshots review|accept|reject`; `--update-snapshots`
//! accepts every transcript of the run at once. Under `CI=true` nothing is written unless
//! asked.

use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::report::model::{OutcomeReport, ProfileSummary, Report, SnapshotReport};
use crate::report::transcript;

/// The extension of an accepted snapshot.
pub const ACCEPTED: &str = "snap";
/// The extension of a transcript waiting for review.
pub const PENDING: &str = "snap.pending";

/// What a run may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Leave new and changed transcripts pending for review (the default).
    Pending,
    /// Accept every transcript of the run (`--update-snapshots`).
    Update,
    /// Write nothing (`CI=true`); only compare.
    ReadOnly,
}

/// Where snapshots live and what a run may do to them.
#[derive(Debug, Clone)]
pub struct Snapshots {
    /// The directory (`snapshots/` by default).
    pub dir: PathBuf,
    /// What the run may write.
    pub mode: Mode,
}

/// The snapshot file of a scenario file for a profile: `<dir>/<protocol>-<billing>/<name>.snap`,
/// where the built-in suite's `scenarios/` prefix is dropped.
pub fn path_for(dir: &Path, profile: &ProfileSummary, scenario_file: &str) -> PathBuf {
    let relative = scenario_file.trim_start_matches("./");
    let relative = relative.strip_prefix("scenarios/").unwrap_or(relative);
    let stem = relative
        .strip_suffix(".yaml")
        .or_else(|| relative.strip_suffix(".yml"))
        .unwrap_or(relative);
    let mut path = dir.join(format!("{}-{}", profile.protocol, profile.billing));
    for part in stem.split(['/', '\\']).filter(|p| !p.is_empty()) {
        path.push(if part == ".." { "_" } else { part });
    }
    path.set_extension(ACCEPTED);
    path
}

/// The pending file beside an accepted snapshot path.
pub fn pending_path(accepted: &Path) -> PathBuf {
    accepted.with_extension(PENDING)
}

/// A unified diff from the accepted transcript to this run's.
pub fn diff(accepted: &str, current: &str) -> String {
    TextDiff::from_lines(accepted, current)
        .unified_diff()
        .context_radius(2)
        .header("accepted", "this run")
        .to_string()
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

impl Snapshots {
    /// Compares every scenario's transcript with its snapshot, adds the `snapshot` outcomes
    /// to the report and writes what the mode allows.
    pub fn check(&self, report: &mut Report) -> std::io::Result<()> {
        let profile = report.profile.clone();
        for scenario in report
            .scenarios
            .iter_mut()
            .filter(|s| s.skip_reason.is_none())
        {
            let path = path_for(&self.dir, &profile, &scenario.file);
            let pending = pending_path(&path);
            let current = transcript::render(scenario, &profile);
            let accepted = std::fs::read_to_string(&path).ok();
            let root_cause = scenario.failures().next().map(|(step, o)| match step {
                Some(step) => format!("{} at step {}", o.check, step.number),
                None => o.check.clone(),
            });
            let (state, outcome) = match (&accepted, self.mode) {
                (Some(old), _) if *old == current => ("matched", Some(true)),
                (_, Mode::Update) => ("updated", None),
                (Some(_), _) => ("changed", Some(false)),
                (None, _) => ("new", None),
            };
            let mut wrote_pending = false;
            match (state, self.mode) {
                ("updated", _) => {
                    write(&path, &current)?;
                    let _ = std::fs::remove_file(&pending);
                }
                ("changed" | "new", Mode::Pending) => {
                    write(&pending, &current)?;
                    wrote_pending = true;
                }
                ("matched", Mode::Pending | Mode::Update) => {
                    let _ = std::fs::remove_file(&pending);
                }
                _ => {}
            }
            if let Some(passed) = outcome {
                let detail =
                    (!passed).then(|| diff(accepted.as_deref().unwrap_or_default(), &current));
                let changed = detail.as_ref().map_or(0, |d| {
                    d.lines()
                        .filter(|l| {
                            (l.starts_with('+') || l.starts_with('-'))
                                && !l.starts_with("+++")
                                && !l.starts_with("---")
                        })
                        .count()
                });
                scenario.outcomes.push(OutcomeReport {
                    check: "snapshot".to_owned(),
                    passed,
                    file: scenario.file.clone(),
                    line: 1,
                    message: if passed {
                        format!("the transcript matches {}", path.display())
                    } else {
                        format!(
                            "the transcript differs from the accepted snapshot {}",
                            path.display()
                        )
                    },
                    expected: "the accepted transcript".to_owned(),
                    got: if passed {
                        "the same".to_owned()
                    } else {
                        format!("{changed} changed line(s); review with `kgsim snapshots review`")
                    },
                    exchange: None,
                    consequence_of: if passed { None } else { root_cause },
                    detail,
                });
            }
            // Relative to the snapshot directory, so that a report does not depend on where it is.
            let file = path
                .strip_prefix(&self.dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            scenario.snapshot = Some(SnapshotReport {
                file,
                state: state.to_owned(),
                pending: wrote_pending,
            });
        }
        report.settle();
        Ok(())
    }
}

/// Every pending transcript under a directory, sorted.
pub fn pending(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.to_string_lossy().ends_with(&format!(".{PENDING}")) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// The accepted snapshot a pending transcript would replace.
pub fn accepted_path(pending: &Path) -> PathBuf {
    let text = pending.to_string_lossy();
    PathBuf::from(
        text.strip_suffix(&format!(".{PENDING}"))
            .map_or_else(|| text.to_string(), |base| format!("{base}.{ACCEPTED}")),
    )
}

/// Accepts a pending transcript: it becomes the snapshot.
pub fn accept(pending: &Path) -> std::io::Result<PathBuf> {
    let accepted = accepted_path(pending);
    std::fs::rename(pending, &accepted)?;
    Ok(accepted)
}

/// Rejects a pending transcript: it is deleted and the snapshot kept.
pub fn reject(pending: &Path) -> std::io::Result<()> {
    std::fs::remove_file(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> ProfileSummary {
        ProfileSummary {
            protocol: "v1".into(),
            billing: "period".into(),
            encrypt_type: "1".into(),
            interfaces: vec![],
        }
    }

    #[test]
    fn paths_drop_the_builtin_prefix_and_keep_others() {
        let dir = Path::new("snapshots");
        assert_eq!(
            path_for(dir, &profile(), "scenarios/retry/exhaustion.yaml"),
            PathBuf::from("snapshots/v1-period/retry/exhaustion.snap")
        );
        assert_eq!(
            path_for(dir, &profile(), "./my/own.yml"),
            PathBuf::from("snapshots/v1-period/my/own.snap")
        );
        assert_eq!(
            path_for(dir, &profile(), "../up/x.yaml"),
            PathBuf::from("snapshots/v1-period/_/up/x.snap")
        );
        let pending = pending_path(&path_for(dir, &profile(), "scenarios/a.yaml"));
        assert_eq!(pending, PathBuf::from("snapshots/v1-period/a.snap.pending"));
        assert_eq!(
            accepted_path(&pending),
            PathBuf::from("snapshots/v1-period/a.snap")
        );
    }

    #[test]
    fn diffs_are_unified() {
        let d = diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(
            d.contains("--- accepted") && d.contains("+++ this run") && d.contains("-b\n+B"),
            "{d}"
        );
    }
}
