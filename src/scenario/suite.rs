//! Finding, loading, filtering and running many scenarios: the built-in suite embedded in
//! the binary, or files and directories given on the command line; concurrency sized for
//! I/O-bound work against a possibly slow merchant, not for the core count.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::scenario::diagnostics::{FileProblems, Problem, SourceFile};
use crate::scenario::load::load;
use crate::scenario::model::Scenario;
use crate::scenario::runner::{RunContext, ScenarioRun, run_scenario};

/// The built-in suite: every file of `scenarios/`, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = crate::scenario::builtin::FILES;

/// The default number of scenarios run at once: enough to keep a slow merchant busy, since
/// the work is waiting on sockets, not computing.
pub const DEFAULT_JOBS: usize = 16;

/// Loaded scenarios, and the problems of the files that did not load.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Scenarios, sorted by file.
    pub scenarios: Vec<Arc<Scenario>>,
    /// One entry per file with problems.
    pub problems: Vec<FileProblems>,
}

fn load_one(name: &str, text: &str, checks: &[&'static str], loaded: &mut Loaded) {
    match load(name, text, checks) {
        Ok(scenario) => loaded.scenarios.push(Arc::new(scenario)),
        Err(problems) => loaded.problems.push(problems),
    }
}

/// The built-in suite.
pub fn builtin(checks: &[&'static str]) -> Loaded {
    let mut loaded = Loaded::default();
    for (name, text) in BUILTIN {
        load_one(name, text, checks, &mut loaded);
    }
    loaded
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let is_yaml = entry.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if entry.is_dir() || is_yaml {
                collect(&entry, files)?;
            }
        }
    } else {
        files.push(path.to_owned());
    }
    Ok(())
}

/// Loads scenario files and directories (recursively, `*.yaml` and `*.yml`).
pub fn load_paths(paths: &[PathBuf], checks: &[&'static str]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut files = Vec::new();
    for path in paths {
        if let Err(error) = collect(path, &mut files) {
            let name = path.display().to_string();
            let file = SourceFile::new(&name, "");
            let problem = Problem::new(
                &file,
                file.span(0, 0),
                format!("cannot read {name}: {error}"),
                "here",
            );
            loaded.problems.push(FileProblems {
                file: name,
                problems: vec![problem],
            });
        }
    }
    files.sort();
    files.dedup();
    for file in files {
        let name = file.display().to_string();
        match std::fs::read_to_string(&file) {
            Ok(text) => load_one(&name, &text, checks, &mut loaded),
            Err(error) => {
                let source = SourceFile::new(&name, "");
                let problem = Problem::new(
                    &source,
                    source.span(0, 0),
                    format!("cannot read {name}: {error}"),
                    "here",
                )
                .with_help("scenario files are UTF-8 YAML");
                loaded.problems.push(FileProblems {
                    file: name,
                    problems: vec![problem],
                });
            }
        }
    }
    loaded
}

/// Whether a scenario matches a `--filter` pattern: `tag:NAME` matches a tag; otherwise a
/// case-insensitive substring of the name or the file path, where `*` matches anything.
pub fn matches(scenario: &Scenario, pattern: &str) -> bool {
    if let Some(tag) = pattern.strip_prefix("tag:") {
        return scenario.tags.iter().any(|t| t == tag);
    }
    let pattern = pattern.to_lowercase();
    let haystacks = [
        scenario.name.to_lowercase(),
        scenario.file.to_string_lossy().to_lowercase(),
    ];
    haystacks.iter().any(|hay| glob_contains(hay, &pattern))
}

fn glob_contains(hay: &str, pattern: &str) -> bool {
    let mut rest = hay;
    for part in pattern.split('*').filter(|p| !p.is_empty()) {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Runs scenarios, at most `jobs` at once; results come back in the scenarios' order.
/// `on_done` is told as each finishes (for a progress bar).
pub async fn run_all(
    scenarios: &[Arc<Scenario>],
    context: &RunContext,
    jobs: usize,
    on_done: &(dyn Fn(&ScenarioRun) + Sync),
) -> Vec<ScenarioRun> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, scenario) in scenarios.iter().enumerate() {
        let (scenario, context, semaphore) = (scenario.clone(), context.clone(), semaphore.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (index, run_scenario(scenario, &context).await)
        });
    }
    let mut runs: Vec<Option<ScenarioRun>> = vec![None; scenarios.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, run)) = joined {
            on_done(&run);
            runs[index] = Some(run);
        }
    }
    runs.into_iter()
        .zip(scenarios)
        .map(|(run, scenario)| {
            run.unwrap_or_else(|| ScenarioRun {
                scenario: scenario.clone(),
                skipped: Some("internal error: the scenario's task ended abnormally".into()),
                steps: Vec::new(),
                virtual_span: crate::marketplace::Span::ZERO,
                start: crate::protocol::UnixMillis(0),
                wall: std::time::Duration::ZERO,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str, file: &str, tags: &[&str]) -> Scenario {
        Scenario {
            file: file.into(),
            name: name.into(),
            description: None,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            applies: Default::default(),
            steps: vec![],
        }
    }

    #[test]
    fn filters_by_substring_glob_and_tag() {
        let s = scenario(
            "Duplicate resend",
            "scenarios/idempotency/resend.yaml",
            &["listing"],
        );
        assert!(matches(&s, "resend"));
        assert!(matches(&s, "DUPLICATE"));
        assert!(matches(&s, "idempotency/*.yaml"));
        assert!(matches(&s, "tag:listing"));
        assert!(!matches(&s, "tag:security"));
        assert!(!matches(&s, "expiry"));
    }

    #[test]
    fn the_builtin_suite_loads_and_lists_every_file() {
        let loaded = builtin(&crate::conformance::registry::ids());
        if let Some(problems) = loaded.problems.first() {
            panic!(
                "{}",
                crate::scenario::diagnostics::render(
                    problems,
                    crate::scenario::diagnostics::Style::Plain
                )
            );
        }
        let mut on_disk = Vec::new();
        collect(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")),
            &mut on_disk,
        )
        .unwrap();
        let on_disk: Vec<String> = on_disk
            .iter()
            .map(|p| {
                p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap()
                    .to_string_lossy()
                    .trim_start_matches('/')
                    .to_owned()
            })
            .collect();
        let embedded: Vec<&str> = BUILTIN.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            embedded, on_disk,
            "src/scenario/builtin.rs must embed exactly the files of scenarios/"
        );
    }
}
