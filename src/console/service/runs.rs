//! Suite runs from the console: the built-in suite (or the named scenarios, or the product's
//! own folder) against the product's production address with the product's kind, in the
//! background, on engines of its own — exactly what `kgsim run` does, through the same
//! [`crate::pipeline::run_suite`]; the product's live state is not touched and its lock is
//! never taken, so a run and the buyer's actions do not wait for each other.
//!
//! While a run is live its finished scenarios are kept in memory and announced on a channel
//! (the run page's server-sent events); when it finishes, its reports, scenarios and
//! transcripts are written in one transaction. Each transcript is compared with the
//! product's accepted one: the first of a scenario is accepted as it is, a different one is
//! kept with its diff for the user to accept or reject.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

use crate::console::product::{ProductSpec, Resolved};
use crate::console::service::{ConsoleError, Service};
use crate::console::store::{FinishedRun, RunCounts, RunScenarioRow};
use crate::marketplace::Span;
use crate::open_api::Scope;
use crate::pipeline::{SuiteRun, run_suite};
use crate::report::model::{Report, RunVerdict, ScenarioReport, Status};
use crate::scenario::format::diagnostics::{Style, render};
use crate::scenario::format::model::Scenario;
use crate::scenario::profile::{Overrides, Profile};
use crate::scenario::result::ScenarioRun;
use crate::transport::Client;
use crate::transport::wire::wall_clock;

/// What a scenario skipped for want of the open APIs tells the console's user.
const SERVE_OPEN_APIS: &str = "start `kgsim serve` with --openapi-listen ADDRESS";

/// Scopes of suite runs and explorations in the console's open-API book sit above every
/// product's (a product publishes under its id): bit 62, the product in bits 40–61, the job
/// in bits 12–39 (an exploration's with bit 39 set), and 4,096 scenarios or walks per job.
const RUN_SCOPES: Scope = 1 << 62;

/// The first open-API scope of a job (a run, or an exploration: [`EXPLORATION_JOBS`] + id).
fn first_scope(product: i64, job: i64) -> Scope {
    RUN_SCOPES | ((product as Scope & 0x3f_ffff) << 40) | ((job as Scope & 0xfff_ffff) << 12)
}

/// Explorations' jobs, beside the runs' in [`first_scope`].
pub(super) const EXPLORATION_JOBS: i64 = 1 << 27;

/// The product a scope belongs to: a product's own scope is its id, a suite run's carries it.
pub(crate) fn product_of_scope(scope: Scope) -> Option<i64> {
    match scope {
        0 => None,
        s if s & RUN_SCOPES != 0 => Some(((s >> 40) & 0x3f_ffff) as i64),
        s => Some(s as i64),
    }
}

/// A scenario of a live run, as the run's API and page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct ScenarioLine {
    /// Its file.
    pub(crate) file: String,
    /// Its name.
    pub(crate) name: String,
    /// `passed`, `failed` or `skipped`.
    pub(crate) status: String,
}

/// Something that happened to a live run (the run page's events).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunEvent {
    /// The run.
    pub(crate) run_id: i64,
    /// The scenario that finished; none when the run did.
    pub(crate) scenario: Option<ScenarioLine>,
    /// Scenarios finished so far.
    pub(crate) done: usize,
    /// Scenarios in the run.
    pub(crate) total: usize,
}

/// The live runs: what each has finished, and the channel their events go out on.
pub(crate) struct LiveRuns {
    progress: Mutex<HashMap<i64, (Vec<ScenarioLine>, usize)>>,
    events: broadcast::Sender<RunEvent>,
}

impl Default for LiveRuns {
    fn default() -> Self {
        Self {
            progress: Mutex::new(HashMap::new()),
            events: broadcast::channel(256).0,
        }
    }
}

impl LiveRuns {
    fn progress(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (Vec<ScenarioLine>, usize)>> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a finished scenario and announces it.
    fn scenario_done(&self, run: i64, line: ScenarioLine) {
        let (done, total) = {
            let mut progress = self.progress();
            let Some((lines, total)) = progress.get_mut(&run) else {
                return;
            };
            lines.push(line.clone());
            (lines.len(), *total)
        };
        let _ = self.events.send(RunEvent {
            run_id: run,
            scenario: Some(line),
            done,
            total,
        });
    }

    /// Forgets a run that ended, and announces that it did.
    fn ended(&self, run: i64) {
        let (done, total) = self
            .progress()
            .remove(&run)
            .map_or((0, 0), |(lines, total)| (lines.len(), total));
        let _ = self.events.send(RunEvent {
            run_id: run,
            scenario: None,
            done,
            total,
        });
    }
}

/// The status of a scenario run as it finished (judged, before the report).
fn status_of(run: &ScenarioRun) -> Status {
    if run.skipped.is_some() {
        Status::Skipped
    } else if crate::conformance::evaluate(run)
        .iter()
        .all(|step| step.failures().next().is_none())
    {
        Status::Passed
    } else {
        Status::Failed
    }
}

/// A scenario's status as the API names it (the JSON report's names).
fn status_slug(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
    }
}

/// The profile `kgsim run` would be given for the product: its kind, the optional interfaces
/// it declares, timeout, Kit and order notification.
fn profile_of(spec: &ProductSpec, resolved: &Resolved) -> Profile {
    let settings = &resolved.settings;
    Profile::with_overrides(&Overrides {
        protocol: Some(settings.protocol),
        billing: Some(settings.billing),
        product: Some(settings.product),
        timeout: Some(Span::seconds(resolved.timeout.as_secs() as i64)),
        kit: Some(settings.kit.is_some()),
        kit_oaep_digest: settings.kit.as_ref().map(|k| k.digest),
        order_notify: spec.order_notify.clone(),
        interfaces: Some(
            spec.kind()
                .and_then(|kind| spec.declared(kind))
                .unwrap_or_default(),
        ),
        ..Overrides::default()
    })
}

/// The scenarios a run of the product takes: the product's folder or the built-in suite,
/// narrowed to `patterns`; and where they came from.
fn scenarios_for(
    spec: &ProductSpec,
    patterns: &[String],
) -> Result<(Vec<Arc<Scenario>>, String), ConsoleError> {
    let (loaded, source) = match &spec.scenarios {
        // A folder only: a file named here would have its lines quoted back in the errors.
        Some(folder) if !std::path::Path::new(folder).is_dir() => {
            return Err(ConsoleError::Invalid(format!(
                "the product's scenario folder `{folder}` is not a directory"
            )));
        }
        Some(folder) => (
            crate::scenario::sources::load_paths(&[PathBuf::from(folder)]),
            folder.clone(),
        ),
        None => (
            crate::scenario::sources::builtin(),
            "the built-in suite".to_owned(),
        ),
    };
    if !loaded.problems.is_empty() {
        let text: String = loaded
            .problems
            .iter()
            .map(|p| render(p, Style::Plain))
            .collect();
        return Err(ConsoleError::Invalid(format!(
            "the scenarios of {source} do not load:\n{text}"
        )));
    }
    let selected =
        crate::pipeline::select(loaded.scenarios, patterns).map_err(ConsoleError::Invalid)?;
    Ok((selected, source))
}

impl Service {
    /// Starts a suite run against a product in the background; returns its id.
    pub(crate) fn start_run(
        self: &Arc<Self>,
        product: i64,
        patterns: &[String],
    ) -> Result<i64, ConsoleError> {
        let (spec, _) = self.product_spec(product)?;
        let (scenarios, source) = scenarios_for(&spec, patterns)?;
        self.launch_run(product, scenarios, &source, patterns)
    }

    /// A product's request, and its settings as they resolve now.
    fn product_spec(&self, product: i64) -> Result<(ProductSpec, Resolved), ConsoleError> {
        let row = self
            .writer()
            .product(product)?
            .ok_or_else(|| ConsoleError::NotFound(format!("there is no product {product}")))?;
        let spec: ProductSpec = serde_json::from_str(&row.spec)
            .map_err(|e| ConsoleError::Invalid(format!("product {product}: {e}")))?;
        let resolved = spec.resolve(&self.key, &self.keys, &self.identity)?;
        Ok((spec, resolved))
    }

    /// What `kgsim run` would be given for the product and `scenarios`: its profile, the key,
    /// a client of its production address, its Kit; the open APIs are the caller's to share.
    pub(super) fn suite_for(
        &self,
        product: i64,
        scenarios: Vec<Arc<Scenario>>,
    ) -> Result<SuiteRun, ConsoleError> {
        let (spec, resolved) = self.product_spec(product)?;
        let client = Client::with_platform_trust(resolved.target.clone(), resolved.timeout)
            .map_err(|e| ConsoleError::Invalid(format!("TLS: {e}")))?;
        let client = match resolved.notify.clone() {
            Some(notify) => client.with_notify(notify),
            None => client,
        };
        let mut run = SuiteRun::new(
            profile_of(&spec, &resolved),
            self.key.clone(),
            client,
            scenarios,
        );
        run.target_name = spec.production_address;
        run.keys = self.keys.clone();
        run.kit = resolved.settings.kit;
        run.serve_open_apis = SERVE_OPEN_APIS;
        Ok(run)
    }

    /// Has the run's merchant calls answered by the console's open APIs, when they are
    /// served, under scopes of the job's own.
    pub(super) fn share_open_apis(&self, run: &mut SuiteRun, product: i64, job: i64) {
        if let Some(book) = &self.book {
            run.share_open_apis(book.clone(), first_scope(product, job));
        }
    }

    /// Starts a run of `scenarios` against a product in the background; returns its id.
    pub(crate) fn launch_run(
        self: &Arc<Self>,
        product: i64,
        scenarios: Vec<Arc<Scenario>>,
        source: &str,
        patterns: &[String],
    ) -> Result<i64, ConsoleError> {
        let needs_open_apis = scenarios.iter().any(|s| !s.applies.calls.is_empty());
        let note = (self.book.is_none() && needs_open_apis).then(|| {
            format!(
                "the open APIs are not served: the scenarios that need them are skipped ({SERVE_OPEN_APIS})"
            )
        });
        let total = scenarios.len();
        let mut run = self.suite_for(product, scenarios)?;
        let run_id = self.writer().start_suite_run(
            product,
            wall_clock().0,
            patterns,
            source,
            total,
            note.as_deref(),
        )?;
        self.share_open_apis(&mut run, product, run_id);
        self.runs.progress().insert(run_id, (Vec::new(), total));
        let service = self.clone();
        tokio::spawn(async move {
            let watched = service.clone();
            let task = tokio::spawn(async move { service.perform_run(product, run_id, run).await });
            if let Err(error) = task.await {
                // The run's task panicked (a kgsim bug): it never finished.
                tracing::error!(%error, run_id, "suite run: the run's task failed");
                if let Err(error) = watched.writer().interrupt_suite_run(run_id) {
                    tracing::error!(%error, run_id, "suite run: could not mark it interrupted");
                }
            }
            watched.runs.ended(run_id);
        });
        Ok(run_id)
    }

    /// Runs, then writes the run's reports, scenarios and transcripts.
    async fn perform_run(&self, product: i64, run_id: i64, run: SuiteRun) {
        let runs = &self.runs;
        let on_done = |scenario: &ScenarioRun| {
            runs.scenario_done(
                run_id,
                ScenarioLine {
                    file: scenario.scenario.file.display().to_string(),
                    name: scenario.scenario.name.clone(),
                    status: status_slug(status_of(scenario)).to_owned(),
                },
            );
        };
        let result = run_suite(run, &on_done).await;
        let finished = match result {
            Ok(report) => self.finished(product, &report),
            // Only writing snapshots fails, and a console run writes none.
            Err(error) => Err(ConsoleError::Invalid(error.to_string())),
        };
        let written = finished
            .and_then(|finished| Ok(self.writer().finish_suite_run(run_id, product, &finished)?));
        if let Err(error) = written {
            tracing::error!(error = %error.full_message(), run_id, "suite run: could not record it");
            let _ = self.writer().interrupt_suite_run(run_id);
        }
    }

    /// What a finished run writes: its verdict and totals, its reports, and each scenario
    /// with its transcript compared with the product's accepted one.
    fn finished(&self, product: i64, report: &Report) -> Result<FinishedRun, ConsoleError> {
        let json = serde_json::to_string_pretty(report)
            .map_err(|e| ConsoleError::Encode("the JSON report", e))?;
        let junit = crate::report::junit::render(report)
            .map_err(|e| ConsoleError::Invalid(format!("the JUnit report: {e}")))?;
        // The report's own totals, as its summary line and JSON give them.
        let summary = &report.summary;
        let mut counts = RunCounts {
            scenarios: summary.scenarios as i64,
            passed: summary.passed as i64,
            failed: summary.failed as i64,
            skipped: summary.skipped as i64,
            changed: 0,
        };
        // Read once: every scenario of the run is compared with them.
        let accepted = self.writer().accepted_transcripts(product)?;
        let mut scenarios = Vec::new();
        let mut first_transcripts = Vec::new();
        for (position, scenario) in report.scenarios.iter().enumerate() {
            let mut row = scenario_row(position, scenario);
            if let Some(transcript) = transcript_of(scenario, report) {
                let (state, diff) = match accepted.get(&scenario.file) {
                    None => {
                        first_transcripts.push((scenario.file.clone(), transcript.clone()));
                        ("new", None)
                    }
                    Some(kept) if *kept == transcript => ("matched", None),
                    Some(kept) => {
                        counts.changed += 1;
                        let diff = crate::report::snapshot::diff(kept, &transcript);
                        ("changed", Some(diff))
                    }
                };
                row.snapshot = Some(state.to_owned());
                row.diff = diff;
                row.transcript = Some(transcript);
            }
            scenarios.push(row);
        }
        Ok(FinishedRun {
            finished_at: wall_clock().0,
            verdict: verdict_slug(report.verdict).to_owned(),
            counts,
            report: json + "\n",
            junit,
            scenarios,
            first_transcripts,
        })
    }

    /// The scenarios a live run has finished and how many it has; `None` once it ended.
    pub(crate) fn run_progress(&self, run: i64) -> Option<(Vec<ScenarioLine>, usize)> {
        self.runs.progress().get(&run).cloned()
    }

    /// The live runs' events.
    pub(crate) fn run_events(&self) -> broadcast::Sender<RunEvent> {
        self.runs.events.clone()
    }

    /// Accepts or rejects a run's changed transcript.
    pub(crate) fn decide_transcript(
        &self,
        run: i64,
        file: &str,
        accepted: bool,
    ) -> Result<RunScenarioRow, ConsoleError> {
        self.writer()
            .decide_transcript(run, file, accepted)?
            .ok_or_else(|| ConsoleError::NotFound(format!("run {run} has no transcript of {file}")))
    }
}

/// The verdict as the API names it.
fn verdict_slug(verdict: RunVerdict) -> &'static str {
    match verdict {
        RunVerdict::Conformant => "conformant",
        RunVerdict::Incomplete => "incomplete",
        RunVerdict::NotConformant => "not-conformant",
    }
}

/// A scenario's row, before its transcript is compared.
fn scenario_row(position: usize, scenario: &ScenarioReport) -> RunScenarioRow {
    RunScenarioRow {
        position: position as i64,
        file: scenario.file.clone(),
        name: scenario.name.clone(),
        status: status_slug(scenario.status).to_owned(),
        skip_reason: scenario.skip_reason.clone(),
        failed_checks: scenario.failures().count() as i64,
        snapshot: None,
        text: crate::report::terminal::render_scenario(scenario),
        transcript: None,
        diff: None,
    }
}

/// The transcript of a scenario that ran (the open-API calls' entry has none).
fn transcript_of(scenario: &ScenarioReport, report: &Report) -> Option<String> {
    (scenario.skip_reason.is_none() && scenario.file != crate::report::leftovers::FILE)
        .then(|| crate::report::transcript::render(scenario, &report.profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_scopes_name_its_product_and_never_meet_a_products_own() {
        let scope = first_scope(7, 123);
        assert_eq!(product_of_scope(scope), Some(7));
        assert_eq!(product_of_scope(scope + 4095), Some(7));
        assert_eq!(product_of_scope(7), Some(7));
        assert_eq!(product_of_scope(0), None);
        assert!(scope > i64::MAX as Scope / 2);
        assert_ne!(first_scope(7, 124), scope);
        assert!(first_scope(7, 124) > scope + 4095);
    }
}
