//! The library entry point: run scenarios against a merchant, judge every run, build the one
//! report, and compare it with the accepted snapshots. `kgsim run` is this plus flags and
//! rendering; tests call it directly.

use std::sync::Arc;
use std::time::Instant;

use crate::conformance::evaluate;
use crate::marketplace::settings::{InterfaceKeys, KitSettings};
use crate::marketplace::transitions::Lifecycle;
use crate::open_api::{Book, Scope};
use crate::protocol::{AccessKey, UnixMillis};
use crate::report::build::{ReportContext, build};
use crate::report::coverage::Coverage;
use crate::report::model::{ProfileSummary, Report};
use crate::report::snapshot::Snapshots;
use crate::scenario::format::model::Scenario;
use crate::scenario::profile::Profile;
use crate::scenario::profile::redactions::Redactions;
use crate::scenario::result::ScenarioRun;
use crate::scenario::run::runner::{OpenApiLink, RunContext, SERVE_OPEN_APIS};
use crate::scenario::run::suite;
use crate::transport::Client;

/// Everything one suite run needs.
#[derive(Debug, Clone)]
pub struct SuiteRun {
    /// What the product is.
    pub(crate) profile: Profile,
    /// The access key the merchant verifies with.
    pub(crate) key: AccessKey,
    /// How to reach the merchant.
    pub(crate) client: Client,
    /// How reports name the target.
    pub(crate) target_name: String,
    /// The scenarios, in report order.
    pub(crate) scenarios: Vec<Arc<Scenario>>,
    /// Seed for order and business ids.
    pub(crate) seed: u64,
    /// Where every scenario's virtual clock starts (`None`: now).
    pub(crate) start: Option<UnixMillis>,
    /// Scenarios run at once.
    pub(crate) jobs: usize,
    /// Where transcripts are compared, if they are.
    pub(crate) snapshots: Option<Snapshots>,
    /// Answer fields redacted from transcripts (volatile values).
    pub(crate) redactions: Redactions,
    /// The open APIs the merchant calls, when they are served.
    pub(crate) open_api: Option<OpenApiLink>,
    /// The keys bound to the Kit, License-code and notification interfaces.
    pub(crate) keys: InterfaceKeys,
    /// 联营: the Kit's settings.
    pub(crate) kit: Option<KitSettings>,
    /// The merchant's login callback, for the login scenarios.
    pub(crate) login_url: Option<String>,
    /// What a scenario skipped for want of the open APIs tells the user to do.
    pub(crate) serve_open_apis: &'static str,
}

impl SuiteRun {
    /// A run of `scenarios` with the defaults: a fixed seed of 0 is not used — every run
    /// draws its own — the clock starts now, 16 scenarios at once, no snapshots.
    pub fn new(
        profile: Profile,
        key: AccessKey,
        client: Client,
        scenarios: Vec<Arc<Scenario>>,
    ) -> Self {
        Self {
            target_name: client.target().to_string(),
            profile,
            key,
            client,
            scenarios,
            seed: rand::random(),
            start: None,
            jobs: suite::DEFAULT_JOBS,
            snapshots: None,
            redactions: Redactions::default(),
            open_api: None,
            keys: InterfaceKeys::default(),
            kit: None,
            login_url: None,
            serve_open_apis: SERVE_OPEN_APIS,
        }
    }

    /// Has the merchant's open-API calls answered from `book`, which other runs share (the
    /// console's): this run publishes under scopes from `first_scope` on and counts only the
    /// calls naming what it published.
    pub(crate) fn share_open_apis(&mut self, book: Book, first_scope: Scope) {
        self.open_api = Some(OpenApiLink::scoped(book, None, first_scope, true));
    }
}

/// The scenarios matching any of `patterns` (all of them when there is none), in order; the
/// message when none does.
pub(crate) fn select(
    scenarios: Vec<Arc<Scenario>>,
    patterns: &[String],
) -> Result<Vec<Arc<Scenario>>, String> {
    let selected: Vec<_> = scenarios
        .into_iter()
        .filter(|s| patterns.is_empty() || patterns.iter().any(|p| suite::matches(s, p)))
        .collect();
    if selected.is_empty() {
        let quoted: Vec<String> = patterns.iter().map(|p| format!("`{p}`")).collect();
        let matching = if quoted.is_empty() {
            String::new()
        } else {
            format!(" matches {}", quoted.join(", "))
        };
        return Err(format!("no scenario to run{matching}"));
    }
    Ok(selected)
}

impl SuiteRun {
    /// What every scenario of the run shares.
    pub(crate) fn context(&self) -> RunContext {
        RunContext {
            profile: self.profile.clone(),
            key: self.key.clone(),
            client: self.client.clone(),
            seed: self.seed,
            start: self.start,
            open_api: self.open_api.clone(),
            keys: self.keys.clone(),
            kit: self.kit.clone(),
            login_url: self.login_url.clone(),
            serve_open_apis: self.serve_open_apis,
        }
    }

    /// What the product may be sent, by its kind and the interfaces it implements.
    pub(crate) fn lifecycle(&self) -> Lifecycle {
        Lifecycle::new(self.profile.kind(), self.profile.implemented())
    }
}

/// How long a merchant kgsim cannot see into must first have made no open-API call before
/// the run ends (doubled each time it makes one within the span: [`crate::open_api::Book::leftovers`]).
const LEFTOVER_QUIET: std::time::Duration = std::time::Duration::from_millis(50);
/// The longest the run waits for that quiet.
const LEFTOVER_MOST: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs, judges and reports; `on_done` is told as each scenario finishes (a progress bar).
/// The only error is one writing snapshots.
pub async fn run_suite(
    run: SuiteRun,
    on_done: &(dyn Fn(&ScenarioRun) + Sync),
) -> std::io::Result<Report> {
    let started = Instant::now();
    let context = run.context();
    let lifecycle = run.lifecycle();
    let runs = suite::run_all(&run.scenarios, &context, run.jobs, on_done).await;
    let leftovers = match &run.open_api {
        // kgsim's own merchant says when it owes no call: nothing to wait out.
        Some(link) if link.merchant_owes.is_some() => {
            let _ = tokio::time::timeout(LEFTOVER_MOST, link.merchant_done()).await;
            let now = std::time::Duration::ZERO;
            link.leftovers(now, now).await
        }
        // Only a merchant that called at all is waited for, until it has been quiet a while.
        Some(link) if link.was_called() => link.leftovers(LEFTOVER_QUIET, LEFTOVER_MOST).await,
        _ => Vec::new(),
    };
    let verdicts: Vec<_> = runs.iter().map(evaluate).collect();
    let profile = &run.profile;
    let report_context = ReportContext {
        target: run.target_name,
        profile: ProfileSummary {
            protocol: profile.protocol.to_string(),
            billing: profile.billing.to_string(),
            encrypt_type: profile.encrypt_type.to_string(),
            interfaces: profile
                .implemented()
                .declared()
                .iter()
                .map(|i| i.slug().to_owned())
                .collect(),
            product: profile.product.to_string(),
            kit: profile.kit.enabled,
            order_notify: profile.order_notify.is_some(),
        },
        key: run.key,
        encrypt_type: profile.encrypt_type,
        redactions: run.redactions,
        wall_ms: started.elapsed().as_millis() as u64,
    };
    let mut report = build(&runs, &verdicts, &report_context);
    report.coverage = Coverage::of(
        &lifecycle,
        runs.iter()
            .flat_map(|r| &r.steps)
            .flat_map(|s| &s.transitions),
    );
    if let Some(entry) = crate::report::leftovers::report(&leftovers, &runs) {
        report.scenarios.push(entry);
        report.settle();
        report.summary.scenarios = report.scenarios.len();
    }
    if let Some(snapshots) = &run.snapshots {
        snapshots.check(&mut report)?;
    }
    Ok(report)
}
