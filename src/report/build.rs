//! Building a run's report: each scenario run with its verdicts, its exchanges normalised
//! once, the merchant's open-API calls in a stable order, the totals and the run-level
//! diagnosis.

use crate::transport::wire::Destination;

use crate::conformance::{CheckVerdict, StepVerdict, console_check};
use crate::deliver::Performed;
use crate::marketplace::clock::since;
use crate::marketplace::{Finding, Rule, Span, Transport};
use crate::open_api::MerchantCall;
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::{AccessKey, UnixMillis};
use crate::report::diagnosis::diagnose;
use crate::report::model::{
    CheckReport, ExchangeReport, MerchantCallReport, ProfileSummary, REPORT_VERSION, Report,
    ResponseReport, RunVerdict, ScenarioReport, Status, StepReport, Summary, TogetherReport,
};
use crate::report::normalize::Normalizer;
use crate::scenario::format::model::Step;
use crate::scenario::profile::redactions::Redactions;
use crate::scenario::result::{Exchange, ScenarioRun};

/// What a report needs besides the runs.
#[derive(Debug, Clone)]
pub(crate) struct ReportContext {
    /// The target as named.
    pub(crate) target: String,
    /// The profile.
    pub(crate) profile: ProfileSummary,
    /// The key, to show encrypted fields decrypted.
    pub(crate) key: AccessKey,
    /// The declared encryptType.
    pub(crate) encrypt_type: EncryptType,
    /// Answer fields redacted from transcripts.
    pub(crate) redactions: Redactions,
    /// Wall time of the run.
    pub(crate) wall_ms: u64,
}

/// A step's open-API calls, normalised, in an order that does not depend on when they
/// arrived: by API, then by what they asked.
fn merchant_calls(calls: &[MerchantCall], normalizer: &Normalizer) -> Vec<MerchantCallReport> {
    let mut reports: Vec<MerchantCallReport> = calls
        .iter()
        .map(|call| normalizer.merchant_call(call))
        .collect();
    reports.sort_by(|a, b| (&a.api, &a.request, &a.body).cmp(&(&b.api, &b.request, &b.body)));
    reports
}

/// The step's action in a few words.
fn describe_action(step: &Step) -> String {
    use crate::scenario::format::model::{Action, Advance};
    let mut text = step.action.keyword().to_owned();
    match &step.action {
        Action::Advance(Advance::Span(span)) => text.push_str(&format!(" {span}")),
        Action::Advance(Advance::Period(period)) => text.push_str(&format!(" {period}")),
        Action::Resend(r)
        | Action::RefundRenewal(r)
        | Action::Upgrade(r)
        | Action::Freeze(r)
        | Action::Unfreeze(r)
        | Action::Arrears(r)
        | Action::Recharge(r)
        | Action::ExhaustQuota(r)
        | Action::Expire(r)
        | Action::Unsubscribe(r)
        | Action::ChangeCheck(r)
        | Action::EnterLicense(r)
        | Action::Restart(r) => text.push_str(&format!(" {}", r.name)),
        Action::Await(awaited) => {
            text.push_str(&format!(
                " {} of {}",
                awaited.call.label(),
                awaited.call.subject().name
            ));
        }
        Action::Renew { instance, .. } | Action::ConvertTrial { instance, .. } => {
            text.push_str(&format!(" {}", instance.name));
        }
        Action::Send { activity, instance } => {
            text.push_str(&format!(
                " {} about {}",
                activity.slug(),
                instance
                    .as_ref()
                    .map_or("an unknown instance", |r| r.name.as_str())
            ));
        }
        _ => {}
    }
    if let Some(name) = &step.capture {
        text.push_str(&format!(" as {name}"));
    }
    text
}

/// How the V1 `Body-Sign` of an answer fared (`None` for V2, which has none).
fn body_sign_state(performed: &Performed) -> Option<String> {
    if performed.delivery.request.protocol() != crate::protocol::Protocol::V1 {
        return None;
    }
    let finding = performed
        .judgement
        .findings
        .iter()
        .find(|f| f.rule() == Rule::BodySign);
    Some(
        match finding {
            None => "valid",
            Some(Finding::BodySignMissing) => "missing",
            Some(Finding::BodySignWrong { .. }) => "wrong",
            Some(Finding::BodySignWrongCase(_)) => "wrong-case",
            Some(Finding::BodySignDuplicate(_)) => "duplicated",
            Some(_) => "malformed",
        }
        .to_owned(),
    )
}

/// What came back, normalised: the answer, or what the transport saw instead.
fn what_came_back(
    performed: &Performed,
    normalizer: &Normalizer,
) -> (Option<ResponseReport>, Option<String>) {
    let decrypted: Vec<(String, String)> = performed
        .judgement
        .answer
        .as_ref()
        .map(|a| {
            a.decrypted
                .iter()
                .map(|d| (d.path.clone(), d.plaintext.clone()))
                .collect()
        })
        .unwrap_or_default();
    match performed.sent.as_ref().map(|s| &s.transport) {
        Some(Transport::Answered(raw)) => {
            let response = ResponseReport {
                status: raw.status,
                content_type: raw.header("content-type").map(str::to_owned),
                body_sign: body_sign_state(performed),
                body: normalizer.body(&raw.body, &decrypted),
                body_bytes: performed.facts.body_bytes,
            };
            let dropped = performed
                .fault
                .drop_response
                .then(|| "answer dropped by the scenario".to_owned());
            (Some(response), dropped)
        }
        Some(Transport::TimedOut) => (None, Some("no answer within the timeout".to_owned())),
        Some(Transport::Unreachable(why) | Transport::Broken(why)) => {
            (None, Some(normalizer.text(why)))
        }
        Some(Transport::NotSent | Transport::Dropped) | None => (
            None,
            Some("not sent: failed before sending by the scenario".to_owned()),
        ),
    }
}

fn exchange(
    performed: &Performed,
    at: Span,
    start: UnixMillis,
    normalizer: &Normalizer,
) -> ExchangeReport {
    let judgement = &performed.judgement;
    let (response, transport) = what_came_back(performed, normalizer);
    let request = &performed.delivery.request;
    ExchangeReport {
        at_ms: at.as_millis(),
        at: since(start, start.plus_ms(at.as_millis())),
        call: performed.delivery.call.0 + 1,
        attempt: performed.delivery.attempt,
        activity: request
            .activity()
            .wire_name(request.protocol())
            .unwrap_or("?")
            .to_owned(),
        fault: performed.fault.describe(),
        method: performed
            .wire
            .as_ref()
            .map(|w| w.method.as_str().to_owned()),
        content_type: performed
            .wire
            .as_ref()
            .and_then(|w| w.content_type.map(str::to_owned)),
        to: performed.wire.as_ref().and_then(|w| match w.to {
            Destination::Production => None,
            Destination::SubPath(path) => Some(path.to_owned()),
            Destination::Notify => Some("order-notification address".to_owned()),
        }),
        request: normalizer.request(performed),
        response,
        transport,
        verdict: match (judgement.accepted(), judgement.provisioning) {
            (true, true) => "provisioning".into(),
            (true, false) => "accepted".into(),
            (false, _) => "rejected".into(),
        },
        findings: judgement
            .findings
            .iter()
            .filter_map(|f| console_check(f.rule()))
            .map(|check| check.id().to_owned())
            .collect(),
        elapsed_ms: performed
            .sent
            .as_ref()
            .map_or(0, |s| s.elapsed.as_millis() as u64),
    }
}

fn outcome(outcome: &CheckVerdict, file: &str, normalizer: &Normalizer) -> CheckReport {
    CheckReport {
        check: outcome.check.id().to_owned(),
        passed: outcome.passed,
        file: file.to_owned(),
        line: outcome.at.line,
        message: normalizer.text(&outcome.message),
        expected: normalizer.text(&outcome.expected),
        got: normalizer.text(&outcome.got),
        exchange: outcome.exchange,
        consequence_of: outcome.consequence_of.as_ref().map(ToString::to_string),
        advisory: outcome.check.advisory(),
        detail: None,
    }
}

/// Builds the report of a run from its scenario runs and their verdicts.
pub(crate) fn build(
    runs: &[ScenarioRun],
    verdicts: &[Vec<StepVerdict>],
    context: &ReportContext,
) -> Report {
    let mut scenarios = Vec::new();
    for (run, steps_verdicts) in runs.iter().zip(verdicts) {
        let file = run.scenario.file.display().to_string();
        let normalizer =
            Normalizer::for_run(run, &context.key, context.encrypt_type, &context.redactions);
        let steps: Vec<StepReport> = run
            .scenario
            .steps
            .iter()
            .zip(&run.steps)
            .zip(steps_verdicts)
            .map(|((step, step_run), verdict)| StepReport {
                number: step_run.index + 1,
                line: step.at.line,
                action: describe_action(step),
                at_ms: step_run.at.as_millis(),
                at: since(run.start, run.start.plus_ms(step_run.at.as_millis())),
                blocked: step_run.blocked.as_ref().map(|b| normalizer.text(b)),
                outcomes: verdict
                    .outcomes
                    .iter()
                    .map(|o| outcome(o, &file, &normalizer))
                    .collect(),
                exchanges: step_run
                    .exchanges
                    .iter()
                    .map(|e| exchange(&e.performed, e.at, run.start, &normalizer))
                    .collect(),
                together: TogetherReport::of(step, &step_run.exchanges),
                merchant_calls: merchant_calls(&step_run.merchant_calls, &normalizer),
            })
            .collect();
        let failed = steps
            .iter()
            .any(|s| s.outcomes.iter().any(CheckReport::counts));
        scenarios.push(ScenarioReport {
            name: run.scenario.name.clone(),
            file,
            tags: run.scenario.tags.clone(),
            status: if run.skipped.is_some() {
                Status::Skipped
            } else if failed {
                Status::Failed
            } else {
                Status::Passed
            },
            skip_reason: run.skipped.as_ref().map(|s| s.reason.clone()),
            incomplete: run.skipped.as_ref().is_some_and(|s| s.incomplete),
            virtual_ms: run.virtual_span.as_millis(),
            wall_ms: run.wall.as_millis() as u64,
            steps,
            outcomes: Vec::new(),
            snapshot: None,
        });
    }
    let count = |status| scenarios.iter().filter(|s| s.status == status).count();
    let summary = Summary {
        scenarios: scenarios.len(),
        passed: count(Status::Passed),
        failed: count(Status::Failed),
        skipped: count(Status::Skipped),
        incomplete: scenarios.iter().filter(|s| s.incomplete).count(),
        failed_checks: scenarios.iter().map(|s| s.failures().count()).sum(),
        exchanges: scenarios
            .iter()
            .flat_map(|s| &s.steps)
            .map(|s| s.exchanges.len())
            .sum(),
        virtual_ms: scenarios.iter().map(|s| s.virtual_ms).sum(),
        wall_ms: context.wall_ms,
    };
    let mut report = Report {
        version: REPORT_VERSION,
        kgsim: env!("CARGO_PKG_VERSION").to_owned(),
        target: context.target.clone(),
        profile: context.profile.clone(),
        verdict: RunVerdict::of(&summary),
        diagnosis: None,
        scenarios,
        summary,
        coverage: Default::default(),
    };
    report.diagnosis = diagnose(&report);
    report
}

impl Report {
    /// Recomputes verdicts and totals after outcomes were added (the snapshot check).
    pub(crate) fn settle(&mut self) {
        for scenario in &mut self.scenarios {
            scenario.settle();
        }
        let count = |status| self.scenarios.iter().filter(|s| s.status == status).count();
        self.summary.passed = count(Status::Passed);
        self.summary.failed = count(Status::Failed);
        self.summary.skipped = count(Status::Skipped);
        self.summary.failed_checks = self.scenarios.iter().map(|s| s.failures().count()).sum();
        self.verdict = RunVerdict::of(&self.summary);
        self.diagnosis = diagnose(self);
    }
}

impl TogetherReport {
    /// How a step's copies went out, when it sent several.
    fn of(step: &Step, exchanges: &[Exchange]) -> Option<Self> {
        (step.faults.copies > 1).then(|| TogetherReport {
            copies: step.faults.copies,
            rounds: step.faults.rounds.max(1),
            widest_spread_us: exchanges
                .iter()
                .filter_map(|e| e.performed.spread)
                .max()
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        })
    }
}
