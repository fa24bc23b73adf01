//! What running a scenario produced: each step with its exchanges, the facts its
//! expectations are judged on, and what an `await` or `login` established. The runner
//! ([`crate::scenario::run`]) writes these; [`crate::conformance`] judges them and
//! [`crate::report`] renders them — neither needs the runner itself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::deliver::Performed;
use crate::marketplace::{Rule, Span};
use crate::open_api::MerchantCall;
use crate::protocol::{Activity, ResultCode, UnixMillis};
use crate::scenario::format::model::{AwaitedCall, Scenario};

/// One scenario's run.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The scenario.
    pub(crate) scenario: Arc<Scenario>,
    /// Why it did not run, when it did not.
    pub(crate) skipped: Option<Skip>,
    /// Its steps.
    pub(crate) steps: Vec<StepRun>,
    /// Virtual time it covered.
    pub(crate) virtual_span: Span,
    /// Where its virtual clock started (the wall clock at its start).
    pub(crate) start: UnixMillis,
    /// Wall time it took.
    pub(crate) wall: Duration,
}

/// Why a scenario did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skip {
    /// What the user reads: the reason, and the flag or setting that would run it.
    pub(crate) reason: String,
    /// Whether the run is incomplete without it: the product's kind requires what the
    /// scenario checks and only configuration the user did not give kept it from running (or
    /// kgsim failed). A scenario that does not apply to the product, or that checks a
    /// feature the user did not enable, is skipped and the run can still be conformant.
    pub(crate) incomplete: bool,
}

impl Skip {
    /// Does not apply to the product, or checks a feature not enabled.
    pub(crate) fn not_applicable(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            incomplete: false,
        }
    }

    /// Required for the product, not run for want of configuration (or by kgsim's fault).
    pub(crate) fn incomplete(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            incomplete: true,
        }
    }
}

/// One step's run.
#[derive(Debug, Clone)]
pub(crate) struct StepRun {
    /// Index in the scenario.
    pub(crate) index: usize,
    /// Virtual time since the scenario started, when the step began.
    pub(crate) at: Span,
    /// Every attempt performed during the step (retries of earlier calls included).
    pub(crate) exchanges: Vec<Exchange>,
    /// What the expectations are judged on.
    pub(crate) facts: StepFacts,
    /// Why the step's action could not be performed, if it could not.
    pub(crate) blocked: Option<String>,
    /// The merchant's open-API calls reported with this step (an `await` step's).
    pub(crate) merchant_calls: Vec<MerchantCall>,
    /// What an `await` step waited for, and whether it came.
    pub(crate) awaited: Option<AwaitOutcome>,
    /// The lifecycle transitions the step made: one per instance it acted on, and one per
    /// instance whose state a timer changed meanwhile.
    pub(crate) transitions: Vec<Transition>,
}

/// One instance's move through the lifecycle table
/// ([`crate::marketplace::transitions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The state before (`none` for a purchase).
    pub(crate) from: &'static str,
    /// What happened.
    pub(crate) event: crate::marketplace::transitions::Event,
    /// The state after.
    pub(crate) to: &'static str,
}

/// How an `await` step ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AwaitOutcome {
    /// What it waited for.
    pub(crate) call: AwaitedCall,
    /// Whether the merchant made the call in time.
    pub(crate) came: bool,
    /// How long it waited at most.
    pub(crate) within: Span,
    /// What else the wait established (the same License uploaded twice, …).
    pub(crate) facts: Vec<AwaitFact>,
    /// What stood in the way, when the wait could not start as planned (a login callback
    /// that did not answer).
    pub(crate) note: Option<String>,
}

/// A judged fact an `await` (or `login`) established besides the awaited call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AwaitFact {
    /// The check.
    pub(crate) check: crate::checks::CheckId,
    /// Whether it held.
    pub(crate) passed: bool,
    /// What the rule says here.
    pub(crate) message: String,
    /// What was expected.
    pub(crate) expected: String,
    /// What came.
    pub(crate) got: String,
}

/// One performed attempt, placed in virtual time.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// Virtual time since the scenario started.
    pub(crate) at: Span,
    /// The attempt.
    pub(crate) performed: Performed,
}

/// What a step's expectations are judged on.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepFacts {
    /// The step's own calls.
    pub(crate) calls: Vec<CallFacts>,
    /// The subject of order/instance/attempt expectations.
    pub(crate) subject: Option<SubjectFacts>,
    /// Every capture so far, by name.
    pub(crate) captures: BTreeMap<String, CaptureFacts>,
}

/// A call as it stands at the end of a step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallFacts {
    /// Its number in the scenario.
    pub(crate) id: usize,
    /// The activity.
    pub(crate) activity: Activity,
    /// Each attempt's due time after the first, and whether the console accepted it.
    pub(crate) attempts: Vec<(Span, Option<bool>)>,
    /// resultCode of the last performed attempt, when it answered with one.
    pub(crate) final_code: Option<String>,
    /// The first console rule the last performed attempt broke.
    pub(crate) final_rule: Option<Rule>,
    /// instanceIds of accepted answers.
    pub(crate) returned_ids: Vec<String>,
    /// The instanceId the marketplace holds for the call's instance.
    pub(crate) expected_instance: Option<String>,
    /// Decrypted (V1) or clear (V2) credentials of the last accepted answer, by field name.
    pub(crate) credentials: Vec<(String, String)>,
    /// How many instances the last accepted queryInstance answer listed.
    pub(crate) listed: Option<usize>,
    /// The order the call's instance belongs to (each round of a step has its own).
    pub(crate) order: Option<String>,
}

impl CallFacts {
    /// Whether the last performed attempt answered 000000.
    pub(crate) fn answered_success(&self) -> bool {
        self.final_code.as_deref() == Some(ResultCode::Success.as_str())
    }
}

/// The order, instance and first calls an expectation's subject stands for.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct SubjectFacts {
    /// The subject's name (capture) or the step's action.
    pub(crate) name: String,
    /// The order's state.
    pub(crate) order_state: Option<&'static str>,
    /// How long after it was placed the order settled.
    pub(crate) settled_after: Option<Span>,
    /// The instance's state.
    pub(crate) instance_state: Option<&'static str>,
    /// The subject's calls.
    pub(crate) calls: Vec<CallFacts>,
}

/// What a capture stands for, for same/different comparisons.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct CaptureFacts {
    /// The instanceIds the marketplace holds for its instances.
    pub(crate) instance_ids: Vec<String>,
    /// Credentials of its first accepted answer.
    pub(crate) credentials: Vec<(String, String)>,
}
