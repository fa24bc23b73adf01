//! The one result model of a run — scenarios → steps → exchanges and check verdicts — that
//! every renderer (terminal, JUnit, JSON, snapshots) reads and nothing else. Plain data:
//! [`crate::report::build`] makes it from the runner's records and the conformance verdicts,
//! normalising exchanges once, so that every renderer shows the same aliases and redactions.

use serde::Serialize;

/// The version of the JSON report's schema (`docs/report-format.md`).
pub(crate) const REPORT_VERSION: u32 = 2;

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
    /// The run's verdict.
    pub(crate) verdict: RunVerdict,
    /// One cause that explains most failures, when there is one.
    pub(crate) diagnosis: Option<Diagnosis>,
    /// Every scenario, in file order.
    pub scenarios: Vec<ScenarioReport>,
    /// Totals.
    pub(crate) summary: Summary,
    /// Which transitions of the product's lifecycle the scenarios exercised.
    pub(crate) coverage: crate::report::coverage::Coverage,
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
    /// Skipped (not applicable to the profile, or not configured).
    pub(crate) skipped: usize,
    /// Skipped although the product's kind requires them, for want of configuration: the
    /// run is incomplete.
    pub(crate) incomplete: usize,
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
    /// Skipped although the product's kind requires it (configuration missing).
    pub(crate) incomplete: bool,
    /// Virtual time covered, in milliseconds.
    pub(crate) virtual_ms: i64,
    /// Wall time taken, in milliseconds (varies from run to run).
    pub(crate) wall_ms: u64,
    /// Its steps.
    pub(crate) steps: Vec<StepReport>,
    /// Outcomes about the scenario as a whole (the snapshot check).
    pub(crate) outcomes: Vec<CheckReport>,
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
    pub(crate) fn all_outcomes(&self) -> impl Iterator<Item = (Option<&StepReport>, &CheckReport)> {
        self.steps
            .iter()
            .flat_map(|s| s.outcomes.iter().map(move |o| (Some(s), o)))
            .chain(self.outcomes.iter().map(|o| (None, o)))
    }

    /// Every failure that counts, in step order.
    pub fn failures(&self) -> impl Iterator<Item = (Option<&StepReport>, &CheckReport)> {
        self.all_outcomes().filter(|(_, o)| o.counts())
    }

    /// Advisory checks that did not pass, in step order.
    pub(crate) fn advice(&self) -> impl Iterator<Item = (Option<&StepReport>, &CheckReport)> {
        self.all_outcomes().filter(|(_, o)| o.is_advice())
    }

    /// Failures that are consequences of an earlier one, in step order.
    pub(crate) fn consequences(&self) -> impl Iterator<Item = (Option<&StepReport>, &CheckReport)> {
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
    pub(crate) outcomes: Vec<CheckReport>,
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
pub struct CheckReport {
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
    /// A check whose failure only advises: reported, never counted.
    pub(crate) advisory: bool,
    /// Further detail (the unified diff of a changed transcript).
    pub(crate) detail: Option<String>,
}

impl CheckReport {
    /// Whether this is a failure of its own.
    pub(crate) fn counts(&self) -> bool {
        !self.passed && self.consequence_of.is_none() && !self.advisory
    }

    /// Whether this is advice not taken (an advisory check that did not pass).
    pub(crate) fn is_advice(&self) -> bool {
        !self.passed && self.advisory
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
    /// The request body's `Content-Type`, when it had one (the form each interface's page
    /// shows: `application/json;charset=utf8`, or `…charset=utf-8` for the notification).
    pub(crate) content_type: Option<String>,
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

/// One cause that explains most of a run's failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Diagnosis {
    /// The checks it shows up as, the main one first.
    pub(crate) checks: Vec<String>,
    /// What happened, with the counts.
    pub(crate) summary: String,
    /// The most likely mistake.
    pub(crate) likely_cause: String,
    /// What to run or change to pin it down.
    pub(crate) next_step: String,
    /// The failed scenarios it explains.
    pub(crate) scenarios: usize,
    /// What every exchange of an explained scenario shows.
    #[serde(skip)]
    pub(crate) symptom: Symptom,
}

/// What every exchange of a scenario the diagnosis explains shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Symptom {
    /// Nothing in particular.
    #[default]
    None,
    /// This resultCode.
    Code(String),
    /// This console check's finding.
    Finding(String),
}

/// What a run concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum RunVerdict {
    /// Every scenario the product's kind requires ran, and every one that ran passed.
    #[serde(rename = "conformant")]
    Conformant,
    /// Nothing failed, but scenarios the product's kind requires did not run for want of
    /// configuration: no verdict on what they check.
    #[serde(rename = "incomplete")]
    Incomplete,
    /// At least one scenario failed.
    #[serde(rename = "not conformant")]
    NotConformant,
}

impl RunVerdict {
    /// The verdict of these totals.
    pub(crate) fn of(summary: &Summary) -> Self {
        if summary.failed > 0 {
            Self::NotConformant
        } else if summary.incomplete > 0 {
            Self::Incomplete
        } else {
            Self::Conformant
        }
    }
}
