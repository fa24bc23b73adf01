//! What judging says: an expectation's verdict ([`Judged`]), one check's verdict on one step
//! ([`CheckVerdict`]), and a step's verdicts ([`StepVerdict`]) — the vocabulary every
//! family of checks and the reports share.

use crate::checks::CheckId;
use crate::conformance::attribute::Cause;
use crate::scenario::format::model::Location;

/// One check's verdict on one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckVerdict {
    /// The check.
    pub(crate) check: CheckId,
    /// Whether it passed.
    pub(crate) passed: bool,
    /// The scenario line it came from.
    pub(crate) at: Location,
    /// What the rule says, for this case.
    pub(crate) message: String,
    /// What was expected.
    pub(crate) expected: String,
    /// What came back.
    pub(crate) got: String,
    /// The exchange (index within the step) it concerns, if one.
    pub(crate) exchange: Option<usize>,
    /// For a failure caused by an earlier one: which. Such a failure is reported but not
    /// counted, so that a broken merchant shows its root cause.
    pub(crate) consequence_of: Option<Cause>,
}

impl CheckVerdict {
    /// Whether this is a failure of its own (not passed, not a consequence, not advice).
    pub(crate) fn counts(&self) -> bool {
        !self.passed && self.consequence_of.is_none() && !self.check.advisory()
    }
}

/// The verdicts of one step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct StepVerdict {
    /// Every outcome, expectations first (in the order written), then the always-on checks
    /// that failed.
    pub(crate) outcomes: Vec<CheckVerdict>,
    /// How many exchanges the always-on checks judged.
    pub(crate) judged: usize,
}

impl StepVerdict {
    /// The failures that count (consequences of earlier failures excluded).
    pub(crate) fn failures(&self) -> impl Iterator<Item = &CheckVerdict> {
        self.outcomes.iter().filter(|o| o.counts())
    }
}

/// An expectation's verdict before it is placed in its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judged {
    /// Whether it held.
    pub(crate) passed: bool,
    /// What happened.
    pub(crate) message: String,
    /// What was expected.
    pub(crate) expected: String,
    /// What came back.
    pub(crate) got: String,
    /// The calls (by id) it failed on.
    pub(crate) failing_calls: Vec<usize>,
}
