//! The one result model of a run — scenarios → steps → exchanges and check outcomes — built
//! from the runner's records and the conformance verdicts. Every renderer (terminal, JUnit,
//! JSON, snapshots) reads this and nothing else. Exchanges are normalised here, once, so that
//! every renderer shows the same aliases and redactions.

use serde::Serialize;

use crate::transport::wire::Destination;

use crate::conformance::{CheckVerdict, StepVerdict, console_check};
use crate::deliver::Performed;
use crate::marketplace::clock::since;
use crate::marketplace::{Finding, Rule, Span, Transport};
use crate::open_api::MerchantCall;
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::{AccessKey, UnixMillis};
use crate::report::diagnosis::{Diagnosis, diagnose};
use crate::report::normalize::Normalizer;
use crate::scenario::format::model::Step;
use crate::scenario::profile::redactions::Redactions;
use crate::scenario::result::{Exchange, ScenarioRun};

/// The version of the JSON report's schema (`docs/report-format.md`).
pub(crate) const REPORT_VERSION: u32 = 1;

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Schema version.
    pub(crate) version: u32,
    /// The kgsim version that wrote it.
    pub(crate) kgsim: String,
    /// The target, as the user named it (`embedded reference merchant` when none).
    pub(crate) target: String,
    /// The product profile the run used.
    pub(crate) profile: ProfileSummary,
    /// One cause that explains most failures, when there is one.
    pub(crate) diagnosis: Option<Diagnosis>,
    /// Every scenario, in file order.
    pub scenarios: Vec<ScenarioReport>,
    /// Totals.
    pub(crate) summary: Summary,
}

/// The profile, as far as a reader needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ProfileSummary {
    /// v1 or v2.
    pub(crate) protocol: String,
    /// Billing mode.
    pub(crate) billing: String,
    /// encryptType.
    pub(crate) encrypt_type: String,
    /// Optional interfaces implemented.
    pub(crate) interfaces: Vec<String>,
    /// `saas`, `license-code` or `online-license`.
    pub(crate) product: String,
    /// Whether the product receives the Kit syncs (联营).
    pub(crate) kit: bool,
    /// Whether every order is notified to an order-notification address.
    pub(crate) order_notify: bool,
}

impl ProfileSummary {
    /// `v2, period billing, encryptType 1`, with the product type, Kit and notification when
    /// they apply: the report's header.
    pub(crate) fn describe(&self) -> String {
        let mut text = format!("{}, ", self.protocol);
        if self.product != "saas" {
            text.push_str(&format!("{} ", self.product));
        }
        text.push_str(&format!(
            "{} billing, encryptType {}",
            self.billing, self.encrypt_type
        ));
        if self.kit {
            text.push_str(", Kit");
        }
        if self.order_notify {
            text.push_str(", order notification");
        }
        text
    }

    /// The snapshot directory of the profile: `v1-period`, `v2-license-code-period`, and
    /// `+notify` when every transcript carries the order notifications.
    pub(crate) fn snapshot_dir(&self) -> String {
        let mut dir = self.protocol.clone();
        if self.product != "saas" {
            dir.push('-');
            dir.push_str(&self.product);
        }
        dir.push('-');
        dir.push_str(&self.billing);
        if self.order_notify {
            dir.push_str("+notify");
        }
        dir
    }
}

/// Totals of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    /// Scenarios in the run.
    pub(crate) scenarios: usize,
    /// Passed.
    pub(crate) passed: usize,
    /// Failed.
    pub(crate) failed: usize,
    /// Skipped (not applicable to the profile).
    pub(crate) skipped: usize,
    /// Failed check outcomes.
    pub(crate) failed_checks: usize,
    /// Exchanges judged.
    pub(crate) exchanges: usize,
    /// Virtual time covered, summed over scenarios, in milliseconds.
    pub(crate) virtual_ms: i64,
    /// Wall time of the run, in milliseconds (varies from run to run).
    pub(crate) wall_ms: u64,
}

/// A scenario's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Every check passed.
    Passed,
    /// At least one check failed.
    Failed,
    /// Not applicable to the profile.
    Skipped,
}

/// One scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioReport {
    /// Its name.
    pub(crate) name: String,
    /// Its file.
    pub(crate) file: String,
    /// Its tags.
    pub(crate) tags: Vec<String>,
    /// The verdict.
    pub(crate) status: Status,
    /// Why it was skipped.
    pub(crate) skip_reason: Option<String>,
    /// Virtual time covered, in milliseconds.
    pub(crate) virtual_ms: i64,
    /// Wall time taken, in milliseconds (varies from run to run).
    pub(crate) wall_ms: u64,
    /// Its steps.
    pub(crate) steps: Vec<StepReport>,
    /// Outcomes about the scenario as a whole (the snapshot check).
    pub(crate) outcomes: Vec<OutcomeReport>,
    /// Its transcript's snapshot, when snapshots are compared.
    pub(crate) snapshot: Option<SnapshotReport>,
}

/// How a scenario's transcript compared with its accepted snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SnapshotReport {
    /// The snapshot file, relative to the snapshot directory.
    pub(crate) file: String,
    /// `matched`, `changed`, `new` (no accepted transcript yet) or `updated` (written).
    pub(crate) state: String,
    /// Whether a pending transcript was written for review.
    pub(crate) pending: bool,
}

impl ScenarioReport {
    /// Every outcome with the step it belongs to (`None` for scenario-level outcomes).
    pub(crate) fn all_outcomes(
        &self,
    ) -> impl Iterator<Item = (Option<&StepReport>, &OutcomeReport)> {
        self.steps
            .iter()
            .flat_map(|s| s.outcomes.iter().map(move |o| (Some(s), o)))
            .chain(self.outcomes.iter().map(|o| (None, o)))
    }

    /// Every failure that counts, in step order.
    pub fn failures(&self) -> impl Iterator<Item = (Option<&StepReport>, &OutcomeReport)> {
        self.all_outcomes().filter(|(_, o)| o.counts())
    }

    /// Failures that are consequences of an earlier one, in step order.
    pub(crate) fn consequences(
        &self,
    ) -> impl Iterator<Item = (Option<&StepReport>, &OutcomeReport)> {
        self.all_outcomes()
            .filter(|(_, o)| !o.passed && o.consequence_of.is_some())
    }

    /// Recomputes the verdict after outcomes were added (the snapshot check).
    pub(crate) fn settle(&mut self) {
        if self.status != Status::Skipped {
            self.status = if self.failures().next().is_some() {
                Status::Failed
            } else {
                Status::Passed
            };
        }
    }
}

/// One step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// 1-based step number.
    pub(crate) number: usize,
    /// Its line in the scenario file.
    pub(crate) line: usize,
    /// What it did (`purchase as order`, `advance 3h`).
    pub(crate) action: String,
    /// Virtual time since the scenario started when it began, in milliseconds.
    pub(crate) at_ms: i64,
    /// The same in calendar terms (`+1mo15d`), stable whatever date the run starts on.
    pub(crate) at: String,
    /// Why it could not be performed.
    pub(crate) blocked: Option<String>,
    /// Check outcomes: expectations, then failed always-on checks.
    pub(crate) outcomes: Vec<OutcomeReport>,
    /// The attempts performed during the step.
    pub(crate) exchanges: Vec<ExchangeReport>,
    /// For a step with `copies:`: how the copies were sent.
    pub(crate) together: Option<TogetherReport>,
    /// The merchant's calls to the open APIs reported with this step (an `await`'s).
    pub(crate) merchant_calls: Vec<MerchantCallReport>,
}

/// One call the merchant made to the open APIs, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct MerchantCallReport {
    /// `query-order`, `usage-push`, `license-activate`, …
    pub(crate) api: String,
    /// `GET /path?query`, normalised.
    pub(crate) request: String,
    /// The request body, normalised (empty for a GET).
    pub(crate) body: String,
    /// The HTTP status answered.
    pub(crate) status: u16,
    /// The answer, normalised.
    pub(crate) answer: String,
    /// The checks the call broke, as ids.
    pub(crate) findings: Vec<String>,
}

/// How a step's copies went out: per round, staged on connections opened beforehand and
/// completed at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TogetherReport {
    /// Copies per round.
    pub(crate) copies: u32,
    /// Rounds (a fresh order each for a purchase).
    pub(crate) rounds: u32,
    /// The widest gap, over all rounds, between the first and the last copy of a round
    /// leaving kgsim, in microseconds (varies from run to run).
    pub(crate) widest_spread_us: Option<u64>,
}

impl TogetherReport {
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

    /// `20 copies × 5 rounds, each round completed within 0.31 ms`.
    pub(crate) fn describe(&self) -> String {
        let spread = self.widest_spread_us.map_or_else(String::new, |us| {
            format!(", each round completed within {:.2} ms", us as f64 / 1000.0)
        });
        format!(
            "{} copies × {} round(s) sent together{spread}",
            self.copies, self.rounds
        )
    }
}

/// One check outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeReport {
    /// Check id.
    pub check: String,
    /// Passed or not.
    pub(crate) passed: bool,
    /// Scenario file.
    pub(crate) file: String,
    /// Scenario line.
    pub(crate) line: usize,
    /// What happened.
    pub(crate) message: String,
    /// Expected.
    pub(crate) expected: String,
    /// Got.
    pub(crate) got: String,
    /// Index of the exchange within the step, when one.
    pub(crate) exchange: Option<usize>,
    /// The earlier failure this one follows from; such failures do not count.
    pub(crate) consequence_of: Option<String>,
    /// Further detail (the unified diff of a changed transcript).
    pub(crate) detail: Option<String>,
}

impl OutcomeReport {
    /// Whether this is a failure of its own.
    pub(crate) fn counts(&self) -> bool {
        !self.passed && self.consequence_of.is_none()
    }
}

/// One attempt, normalised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ExchangeReport {
    /// Virtual time since the scenario started, in milliseconds.
    pub(crate) at_ms: i64,
    /// The same in calendar terms (`+1mo15d`).
    pub(crate) at: String,
    /// Call number within the scenario.
    pub(crate) call: usize,
    /// Attempt number of the call.
    pub(crate) attempt: u32,
    /// The activity as the protocol names it.
    pub(crate) activity: String,
    /// Scenario faults applied.
    pub(crate) fault: Option<String>,
    /// GET or POST, when sent.
    pub(crate) method: Option<String>,
    /// Where it went, when not to the production address itself: a Kit sub-path
    /// (`/produceAPI/v2/tenantSync`), or `order-notification address`.
    pub(crate) to: Option<String>,
    /// Request fields (query, then body), normalised.
    pub(crate) request: Vec<(String, String)>,
    /// What came back.
    pub(crate) response: Option<ResponseReport>,
    /// What the transport saw instead of an answer.
    pub(crate) transport: Option<String>,
    /// `accepted`, `provisioning`, or `rejected`.
    pub(crate) verdict: String,
    /// Console rules broken, as check ids.
    pub(crate) findings: Vec<String>,
    /// Wall time of the exchange, in milliseconds (varies from run to run).
    pub(crate) elapsed_ms: u64,
}

/// An HTTP answer, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ResponseReport {
    /// HTTP status.
    pub(crate) status: u16,
    /// Content-Type.
    pub(crate) content_type: Option<String>,
    /// Body-Sign (V1): `valid`, `missing`, `malformed` or `wrong`; absent for V2.
    pub(crate) body_sign: Option<String>,
    /// The body, normalised; strings over 4 KiB and anything past 64 KiB are elided, with a
    /// marker counting the bytes left out.
    pub(crate) body: String,
    /// The body's size as received, in bytes.
    pub(crate) body_bytes: usize,
}

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

fn outcome(outcome: &CheckVerdict, file: &str, normalizer: &Normalizer) -> OutcomeReport {
    OutcomeReport {
        check: outcome.check.id().to_owned(),
        passed: outcome.passed,
        file: file.to_owned(),
        line: outcome.at.line,
        message: normalizer.text(&outcome.message),
        expected: normalizer.text(&outcome.expected),
        got: normalizer.text(&outcome.got),
        exchange: outcome.exchange,
        consequence_of: outcome.consequence_of.as_ref().map(ToString::to_string),
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
            .any(|s| s.outcomes.iter().any(OutcomeReport::counts));
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
            skip_reason: run.skipped.clone(),
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
        diagnosis: None,
        scenarios,
        summary,
    };
    report.diagnosis = diagnose(&report);
    report
}

impl Report {
    /// Whether every applicable scenario passed.
    pub(crate) fn conformant(&self) -> bool {
        self.summary.failed == 0
    }

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
        self.diagnosis = diagnose(self);
    }
}
