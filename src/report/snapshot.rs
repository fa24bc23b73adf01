//! Snapshots: each scenario's normalised transcript kept under a directory, compared on every
//! run. A changed transcript fails the `snapshot` check with a unified diff and is left
//! pending (`.snap.pending`) for `kgsim snapshots review|accept|reject`; `--update-snapshots`
//! accepts every transcript of the run at once. Under `CI=true` nothing is written unless
//! asked.

use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::report::model::{CheckReport, ProfileSummary, Report, SnapshotReport};
use crate::report::transcript;

/// The extension of an accepted snapshot.
pub(crate) const ACCEPTED: &str = "snap";
/// The extension of a transcript waiting for review.
pub(crate) const PENDING: &str = "snap.pending";

/// What a run may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Leave new and changed transcripts pending for review (the default).
    Pending,
    /// Accept every transcript of the run (`--update-snapshots`).
    Update,
    /// Write nothing (`CI=true`); only compare.
    ReadOnly,
}

/// Where snapshots live and what a run may do to them.
#[derive(Debug, Clone)]
pub(crate) struct Snapshots {
    /// The directory (`snapshots/` by default).
    pub(crate) dir: PathBuf,
    /// What the run may write.
    pub(crate) mode: Mode,
}

/// The snapshot file of a scenario file for a profile:
/// `<dir>/<protocol>[-<product>]-<billing>[+notify]/<name>.snap`, where the built-in suite's
/// `scenarios/` prefix is dropped.
pub(crate) fn path_for(dir: &Path, profile: &ProfileSummary, scenario_file: &str) -> PathBuf {
    let relative = scenario_file.trim_start_matches("./");
    let relative = relative.strip_prefix("scenarios/").unwrap_or(relative);
    let stem = relative
        .strip_suffix(".yaml")
        .or_else(|| relative.strip_suffix(".yml"))
        .unwrap_or(relative);
    let mut path = dir.join(profile.snapshot_dir());
    for part in stem.split(['/', '\\']).filter(|p| !p.is_empty()) {
        path.push(if part == ".." { "_" } else { part });
    }
    path.set_extension(ACCEPTED);
    path
}

/// The pending file beside an accepted snapshot path.
pub(crate) fn pending_path(accepted: &Path) -> PathBuf {
    accepted.with_extension(PENDING)
}

/// A unified diff from the accepted transcript to this run's.
pub(crate) fn diff(accepted: &str, current: &str) -> String {
    TextDiff::from_lines(accepted, current)
        .unified_diff()
        .context_radius(2)
        .header("accepted", "this run")
        .to_string()
}

/// Writes a transcript whole or not at all, so that a full disk never leaves a truncated
/// snapshot behind (let alone an accepted one).
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    crate::fsio::write_atomic(path, text.as_bytes())
}

/// The prefix of a response body line in a transcript.
const BODY_LINE: &str = "  <   ";

/// When every changed line of a diff is the value of the same answer field in both
/// transcripts, the JSON paths of those fields: values that change from run to run, which
/// `--redact PATH` keeps out of the transcript. `None` when anything else changed.
pub(crate) fn volatile_paths(accepted: &str, current: &str) -> Option<Vec<String>> {
    let old: Vec<&str> = accepted.lines().collect();
    let new: Vec<&str> = current.lines().collect();
    let mut paths = std::collections::BTreeSet::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
        let (tag, before, after) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => continue,
            similar::DiffTag::Replace if before.len() == after.len() => {}
            _ => return None,
        }
        for (o, n) in before.zip(after) {
            let (old_key, new_key) = (field_name(old[o])?, field_name(new[n])?);
            if old_key != new_key {
                return None;
            }
            paths.insert(body_path(&new, n)?);
        }
    }
    (!paths.is_empty()).then(|| paths.into_iter().collect())
}

/// The JSON text of a response body line, if it is one.
fn body_json(line: &str) -> Option<&str> {
    line.strip_prefix(BODY_LINE)
}

fn indent(json: &str) -> usize {
    json.len() - json.trim_start().len()
}

/// `"name": value` → `name`.
fn field_name(line: &str) -> Option<&str> {
    let json = body_json(line)?.trim_start();
    let rest = json.strip_prefix('"')?;
    let (name, value) = rest.split_once("\": ")?;
    (!value.is_empty()).then_some(name)
}

/// The dotted path of the field on line `at`, from the enclosing objects' names (arrays are
/// walked by a redaction, so they add nothing).
fn body_path(lines: &[&str], at: usize) -> Option<String> {
    let mut names = vec![field_name(lines[at])?.to_owned()];
    let mut depth = indent(body_json(lines[at])?);
    for line in lines[..at].iter().rev() {
        let json = body_json(line)?;
        if indent(json) >= depth {
            continue;
        }
        depth = indent(json);
        if let Some(name) = field_name(line) {
            names.push(name.to_owned());
        }
        if depth == 0 {
            break;
        }
    }
    names.reverse();
    Some(names.join("."))
}

impl Snapshots {
    /// Compares every scenario's transcript with its snapshot, adds the `snapshot` outcomes
    /// to the report and writes what the mode allows.
    pub(crate) fn check(&self, report: &mut Report) -> std::io::Result<()> {
        let profile = report.profile.clone();
        for scenario in report
            .scenarios
            .iter_mut()
            .filter(|s| s.skip_reason.is_none() && s.file != crate::report::leftovers::FILE)
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
                let compared = Compared {
                    path: &path,
                    accepted: accepted.as_deref().unwrap_or_default(),
                    current: &current,
                };
                let outcome = compared.outcome(&scenario.file, passed, root_cause);
                scenario.outcomes.push(outcome);
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

/// A transcript compared with its accepted snapshot.
struct Compared<'a> {
    path: &'a Path,
    accepted: &'a str,
    current: &'a str,
}

impl Compared<'_> {
    /// The `snapshot` outcome: matched, or changed with a diff, a count of changed lines and,
    /// when only answer values changed, the `--redact` that would keep them out.
    fn outcome(&self, file: &str, passed: bool, root_cause: Option<String>) -> CheckReport {
        let detail = (!passed).then(|| diff(self.accepted, self.current));
        let changed = detail.as_ref().map_or(0, |d| {
            d.lines()
                .filter(|l| {
                    (l.starts_with('+') || l.starts_with('-'))
                        && !l.starts_with("+++")
                        && !l.starts_with("---")
                })
                .count()
        });
        let hint = (!passed)
            .then(|| volatile_paths(self.accepted, self.current))
            .flatten()
            .map(|paths| redact_hint(&paths))
            .unwrap_or_default();
        let path = self.path.display();
        CheckReport {
            check: "snapshot".to_owned(),
            passed,
            file: file.to_owned(),
            line: 1,
            message: if passed {
                format!("the transcript matches {path}")
            } else {
                format!("the transcript differs from the accepted snapshot {path}")
            },
            expected: "the accepted transcript".to_owned(),
            got: if passed {
                "the same".to_owned()
            } else {
                format!("{changed} changed line(s); review with `kgsim snapshots review`{hint}")
            },
            exchange: None,
            consequence_of: if passed { None } else { root_cause },
            advisory: false,
            detail,
        }
    }
}

/// `; only answer values changed — … --redact appInfo.userName …`.
fn redact_hint(paths: &[String]) -> String {
    let flags: Vec<String> = paths.iter().map(|p| format!("--redact {p}")).collect();
    let quoted: Vec<String> = paths.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        "; only answer values changed — if they change on every run, `{}` (or `redact = [{}]` \
         under [snapshots] in the profile) keeps them out of the transcript",
        flags.join(" "),
        quoted.join(", ")
    )
}

/// Every pending transcript under a directory, sorted.
pub(crate) fn pending(dir: &Path) -> Vec<PathBuf> {
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
pub(crate) fn accepted_path(pending: &Path) -> PathBuf {
    let text = pending.to_string_lossy();
    PathBuf::from(
        text.strip_suffix(&format!(".{PENDING}"))
            .map_or_else(|| text.to_string(), |base| format!("{base}.{ACCEPTED}")),
    )
}

/// Accepts a pending transcript: it becomes the snapshot.
pub(crate) fn accept(pending: &Path) -> std::io::Result<PathBuf> {
    let accepted = accepted_path(pending);
    std::fs::rename(pending, &accepted)?;
    Ok(accepted)
}

/// Rejects a pending transcript: it is deleted and the snapshot kept.
pub(crate) fn reject(pending: &Path) -> std::io::Result<()> {
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
            product: "saas".into(),
            kit: false,
            order_notify: false,
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
    fn changed_answer_values_name_the_paths_to_redact() {
        let before = "step 1\n  < 200 application/json\n  <   {\n  <     \"appInfo\": {\n  <       \"userName\": \"admin-1\",\n  <       \"password\": \"[password]\"\n  <     },\n  <     \"info\": [\n  <       {\n  <         \"memo\": \"a\"\n  <       }\n  <     ]\n  <   }\n";
        let after = before
            .replace("admin-1", "admin-2")
            .replace("\"a\"", "\"b\"");
        assert_eq!(
            volatile_paths(before, &after),
            Some(vec!["appInfo.userName".to_owned(), "info.memo".to_owned()])
        );
        let request_changed = before.replace("step 1", "step 2");
        assert_eq!(volatile_paths(before, &request_changed), None);
        let key_changed = before.replace("\"userName\"", "\"user\"");
        assert_eq!(volatile_paths(before, &key_changed), None);
        assert_eq!(volatile_paths(before, before), None);
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
