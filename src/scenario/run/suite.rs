//! Filtering and running many scenarios, with concurrency sized for I/O-bound work against a
//! possibly slow merchant, not for the core count.

use std::sync::Arc;

use crate::scenario::format::model::Scenario;
use crate::scenario::result::{ScenarioRun, Skip};
use crate::scenario::run::runner::{RunContext, run_scenario};

/// The default number of scenarios run at once: enough to keep a slow merchant busy, since
/// the work is waiting on sockets, not computing.
pub(crate) const DEFAULT_JOBS: usize = 16;

/// Whether a scenario matches a `--filter` pattern: `tag:NAME` matches a tag; otherwise a
/// case-insensitive substring of the name or the file path, where `*` matches anything.
pub(crate) fn matches(scenario: &Scenario, pattern: &str) -> bool {
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
pub(crate) async fn run_all(
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
                skipped: Some(Skip::incomplete(
                    "internal error: the scenario's task ended abnormally",
                )),
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
}
