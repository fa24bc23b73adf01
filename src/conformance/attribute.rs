//! Root-cause attribution: which failures count, and which only follow from an earlier one.
//!
//! A broken merchant usually breaks one rule, and everything after it fails too: an order
//! never opens because every answer had the wrong Content-Type, so the expiry scenario cannot
//! expire it, and so on. Reporting all of it buries the cause, so failures are attributed as
//! a compiler suppresses cascading errors:
//!
//! 1. a console rule about the form of an answer (status, Content-Type, JSON, Body-Sign,
//!    timeout, …) always counts;
//! 2. a content expectation (result code, same or different instance, credentials, listing)
//!    counts, unless an earlier step already failed or the calls it fails on broke a form
//!    rule (an answer that never arrived has no content to judge) or answered the wrong code;
//! 3. a field rule (missing or over-long field, undecryptable credentials) on an answer that
//!    said 000000 where the step expected an error is a consequence of accepting the request;
//! 4. a `console.result-code` finding counts unless an earlier step already failed;
//! 5. a state expectation (order, instance, attempts, timing) and a step that could not be
//!    performed count only when nothing failed before them.
//!
//! Consequences stay in the report, marked with their cause, but do not count.

use std::collections::BTreeMap;
use std::fmt;

use crate::checks::CheckId;
use crate::marketplace::Rule;

/// The failure a later one follows from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// The check that failed first.
    pub(crate) check: CheckId,
    /// Its 1-based step.
    pub(crate) step: usize,
    /// Why the later failure follows from it, when that needs saying.
    pub(crate) note: Option<&'static str>,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.note {
            None => write!(f, "{} at step {}", self.check, self.step),
            Some(note) => write!(f, "{} ({note})", self.check),
        }
    }
}

/// The attribution state of one step: what failed before it, and what failed in it so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepCauses {
    /// 1-based step number.
    step: usize,
    /// The first counting failure of an earlier step.
    earlier: Option<Cause>,
    /// Calls of this step whose answer broke a form rule, with that rule's cause.
    broken_calls: BTreeMap<usize, Cause>,
    /// The calls a counting result-code expectation failed on, and its cause.
    wrong_result: Option<(Vec<usize>, Cause)>,
}

impl StepCauses {
    /// Attribution for step `step` (1-based) after the earlier steps' root cause.
    pub(crate) fn new(step: usize, earlier: Option<Cause>) -> Self {
        Self {
            step,
            earlier,
            ..Self::default()
        }
    }

    fn here(&self, check: CheckId) -> Cause {
        Cause {
            check,
            step: self.step,
            note: None,
        }
    }

    /// Rules 1, 3 and 4 for a console finding on `call`. `accepted_wrongly`: the call
    /// answered 000000 although the step expected an error, judged under `result_check`.
    pub(crate) fn console(
        &mut self,
        rule: Rule,
        check: CheckId,
        call: usize,
        accepted_wrongly: Option<CheckId>,
    ) -> Option<Cause> {
        let cause = match (rule, accepted_wrongly) {
            (rule, Some(result_check)) if rule.is_about_fields() => Some(Cause {
                check: result_check,
                step: self.step,
                note: Some("the merchant accepted a request it should have refused"),
            }),
            (Rule::ResultCode, _) => self.earlier.clone(),
            _ => None,
        };
        if cause.is_none() {
            let here = self.here(check);
            self.broken_calls.entry(call).or_insert(here);
        }
        cause
    }

    /// Rule 2 for a failed content expectation on `failing_calls`; a counting result-code
    /// failure is remembered, so that the instance a wrong answer lacked is not blamed again.
    pub(crate) fn content(
        &mut self,
        check: CheckId,
        is_result: bool,
        failing_calls: &[usize],
    ) -> Option<Cause> {
        let all_in = |calls: &[usize]| {
            !failing_calls.is_empty() && failing_calls.iter().all(|c| calls.contains(c))
        };
        let broken: Vec<usize> = self.broken_calls.keys().copied().collect();
        let cause = self
            .earlier
            .clone()
            .or_else(|| {
                all_in(&broken)
                    .then(|| self.broken_calls.get(&failing_calls[0]).cloned())
                    .flatten()
            })
            .or_else(|| {
                self.wrong_result
                    .as_ref()
                    .filter(|(calls, _)| all_in(calls))
                    .map(|(_, cause)| cause.clone())
            });
        if is_result && cause.is_none() {
            self.wrong_result = Some((failing_calls.to_vec(), self.here(check)));
        }
        cause
    }

    /// Rule 5 for a failed state expectation or a blocked step, after the step's content
    /// was judged: `first_here` is the first counting failure of this step.
    pub(crate) fn state(&self, first_here: Option<CheckId>) -> Option<Cause> {
        self.earlier
            .clone()
            .or_else(|| first_here.map(|check| self.here(check)))
    }

    /// The cause a blocked step follows from.
    pub(crate) fn earlier(&self) -> Option<Cause> {
        self.earlier.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(check: CheckId, step: usize) -> Cause {
        Cause {
            check,
            step,
            note: None,
        }
    }

    #[test]
    fn form_rules_always_count_and_mark_their_calls() {
        let mut causes = StepCauses::new(2, Some(cause(CheckId::ConsoleTimeout, 1)));
        assert_eq!(
            causes.console(Rule::ContentType, CheckId::ConsoleContentType, 7, None),
            None
        );
        // A content expectation failing on that call follows from the earlier step first…
        assert_eq!(
            causes.content(CheckId::IdempotencySameInstance, false, &[7]),
            Some(cause(CheckId::ConsoleTimeout, 1))
        );
        // …and, with no earlier failure, from the broken answer.
        let mut causes = StepCauses::new(2, None);
        causes.console(Rule::ContentType, CheckId::ConsoleContentType, 7, None);
        assert_eq!(
            causes.content(CheckId::IdempotencySameInstance, false, &[7]),
            Some(cause(CheckId::ConsoleContentType, 2))
        );
        assert_eq!(
            causes.content(CheckId::IdempotencySameInstance, false, &[7, 8]),
            None,
            "call 8 broke nothing: the failure is its own"
        );
    }

    #[test]
    fn result_codes_follow_an_earlier_step_only() {
        let mut first = StepCauses::new(1, None);
        assert_eq!(
            first.console(Rule::ResultCode, CheckId::ConsoleResultCode, 0, None),
            None
        );
        let mut later = StepCauses::new(3, Some(cause(CheckId::ConsoleBodySign, 1)));
        assert_eq!(
            later.console(Rule::ResultCode, CheckId::ConsoleResultCode, 0, None),
            Some(cause(CheckId::ConsoleBodySign, 1))
        );
    }

    #[test]
    fn field_rules_on_a_wrongly_accepted_request_follow_from_accepting_it() {
        let mut causes = StepCauses::new(1, None);
        let got = causes.console(
            Rule::MandatoryFields,
            CheckId::ConsoleMandatoryFields,
            0,
            Some(CheckId::SecurityForgedSignature),
        );
        assert_eq!(
            got.map(|c| c.to_string()),
            Some(
                "security.forged-signature (the merchant accepted a request it should have refused)"
                    .into()
            )
        );
        assert_eq!(
            causes.console(
                Rule::HttpStatus,
                CheckId::ConsoleHttpStatus,
                0,
                Some(CheckId::SecurityForgedSignature)
            ),
            None,
            "a form rule counts whatever was expected"
        );
    }

    #[test]
    fn a_wrong_result_explains_the_instance_it_lacked() {
        let mut causes = StepCauses::new(1, None);
        assert_eq!(
            causes.content(CheckId::LifecycleAccepted, true, &[0, 1]),
            None
        );
        assert_eq!(
            causes.content(CheckId::IdempotencySameInstance, false, &[1]),
            Some(cause(CheckId::LifecycleAccepted, 1))
        );
    }

    #[test]
    fn state_follows_anything_earlier() {
        let causes = StepCauses::new(4, None);
        assert_eq!(causes.state(None), None);
        assert_eq!(
            causes.state(Some(CheckId::ConsoleTimeout)),
            Some(cause(CheckId::ConsoleTimeout, 4))
        );
        let causes = StepCauses::new(4, Some(cause(CheckId::ConsoleJsonBody, 2)));
        assert_eq!(
            causes.state(Some(CheckId::ConsoleTimeout)),
            Some(cause(CheckId::ConsoleJsonBody, 2))
        );
    }
}
