//! Root-cause attribution: which failures count, and which only follow from an earlier one.
//!
//! A broken merchant usually breaks one rule, and much of what follows fails too: an order
//! never opens because every answer had the wrong Content-Type, so the expiry scenario cannot
//! expire it, and so on. Reporting all of it buries the cause — but hiding a second, real
//! defect behind the first is worse. So a failure is a consequence only when it follows
//! causally:
//!
//! 1. a console rule about the form of an answer (status, Content-Type, JSON, Body-Sign,
//!    timeout, …) always counts;
//! 2. a check of the merchant's answer to a request kgsim sent on purpose to be refused — a
//!    forged, tampered, stale, parameter-less or unknown request (the `security` family) —
//!    never follows from an earlier step: whatever state the marketplace was in, the answer
//!    is the merchant's own;
//! 3. any other failure of a step follows from an earlier one only when the step needed what
//!    that failure withheld: it refers to a capture (an order, an instance, an enterprise)
//!    made or acted on by a step that failed ([`StepCauses::new`]'s `withheld`);
//! 4. inside a step, a content expectation (result code, same or different instance,
//!    credentials, listing) follows from a call whose answer withheld that content (no
//!    answer, a broken connection, a status other than 200, no JSON, a refusal, a missing
//!    field: [`Rule::withholds_content`]) — a readable answer with a badly named header or a
//!    wrong Content-Type still has content to judge;
//! 5. a field rule (missing or over-long field, undecryptable credentials) on an answer that
//!    said 000000 where the step expected an error is a consequence of accepting the request;
//! 6. a state expectation (order, instance, attempts, timing) follows from what the step
//!    needed, or else from the step's own first failure; a step that could not be performed
//!    follows from what it needed, or else from any earlier failure.
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
    /// The failure of an earlier step that withheld what this step needs (a capture it
    /// refers to was made or acted on by a step that failed).
    withheld: Option<Cause>,
    /// The first counting failure of any earlier step.
    earlier: Option<Cause>,
    /// Whether the step's requests were sent to be refused (rule 2).
    probe: bool,
    /// Calls of this step whose answer broke a form rule, with that rule's cause.
    broken_calls: BTreeMap<usize, Cause>,
    /// The calls a counting result-code expectation failed on, and its cause.
    wrong_result: Option<(Vec<usize>, Cause)>,
}

impl StepCauses {
    /// Attribution for step `step` (1-based): `withheld` is the earlier failure that withheld
    /// what the step needs, `earlier` the first failure of any earlier step, `probe` whether
    /// the step's result is judged under the `security` family.
    pub(crate) fn new(
        step: usize,
        withheld: Option<Cause>,
        earlier: Option<Cause>,
        probe: bool,
    ) -> Self {
        Self {
            step,
            withheld,
            earlier,
            probe,
            ..Self::default()
        }
    }

    /// What an earlier step withheld, unless this step's answers are judged on their own.
    fn needed(&self) -> Option<Cause> {
        if self.probe {
            None
        } else {
            self.withheld.clone()
        }
    }

    fn here(&self, check: CheckId) -> Cause {
        Cause {
            check,
            step: self.step,
            note: None,
        }
    }

    /// Rules 1, 3 and 5 for a console finding on `call`. `accepted_wrongly`: the call
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
            (Rule::ResultCode, _) => self.needed(),
            _ => None,
        };
        if cause.is_none() && rule.withholds_content() {
            let here = self.here(check);
            self.broken_calls.entry(call).or_insert(here);
        }
        cause
    }

    /// Rules 2 to 4 for a failed content expectation on `failing_calls`; a counting result-code
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
            .needed()
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

    /// Rule 6 for a failed state expectation, after the step's content was judged:
    /// `first_here` is the first counting failure of this step.
    pub(crate) fn state(&self, first_here: Option<CheckId>) -> Option<Cause> {
        self.withheld
            .clone()
            .or_else(|| first_here.map(|check| self.here(check)))
    }

    /// Rule 6 for a step that could not be performed: what it needed, or else any earlier
    /// failure (something earlier kept it from running).
    pub(crate) fn blocked(&self) -> Option<Cause> {
        self.withheld.clone().or_else(|| self.earlier.clone())
    }

    /// What an earlier step withheld from this one (a missing open-API call follows from it).
    pub(crate) fn withheld(&self) -> Option<Cause> {
        self.withheld.clone()
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

    /// A step that needs what `withheld` withheld, after `earlier`.
    fn step(n: usize, withheld: Option<Cause>, earlier: Option<Cause>) -> StepCauses {
        StepCauses::new(n, withheld, earlier, false)
    }

    #[test]
    fn rule_1_form_rules_always_count() {
        let body_sign = cause(CheckId::ConsoleBodySign, 1);
        let mut causes = step(2, Some(body_sign.clone()), Some(body_sign));
        for (rule, check) in [
            (Rule::ContentType, CheckId::ConsoleContentType),
            (Rule::BodySign, CheckId::ConsoleBodySign),
            (Rule::Timeout, CheckId::ConsoleTimeout),
        ] {
            assert_eq!(causes.console(rule, check, 7, None), None, "{rule:?}");
        }
    }

    #[test]
    fn rule_2_a_probe_is_judged_on_its_own_answer() {
        let body_sign = cause(CheckId::ConsoleBodySign, 1);
        let mut probe = StepCauses::new(3, Some(body_sign.clone()), Some(body_sign), true);
        assert_eq!(
            probe.content(CheckId::SecurityMissingParameter, true, &[4]),
            None,
            "the merchant answered the request kgsim sent: its own defect"
        );
        assert_eq!(
            probe.console(Rule::ResultCode, CheckId::ConsoleResultCode, 4, None),
            None
        );
    }

    #[test]
    fn rule_3_an_earlier_failure_counts_against_a_step_only_when_it_withheld_what_the_step_needs() {
        let earlier = cause(CheckId::ConsoleBodySign, 1);
        // The step needs nothing the failure withheld: its own failures count.
        let mut independent = step(3, None, Some(earlier.clone()));
        assert_eq!(
            independent.content(CheckId::IdempotencySameInstance, false, &[5]),
            None
        );
        assert_eq!(
            independent.console(Rule::ResultCode, CheckId::ConsoleResultCode, 5, None),
            None
        );
        // It renews the instance the failed purchase never opened.
        let mut dependent = step(3, Some(earlier.clone()), Some(earlier.clone()));
        assert_eq!(
            dependent.content(CheckId::LifecycleAccepted, true, &[5]),
            Some(earlier.clone())
        );
        assert_eq!(
            dependent.console(Rule::ResultCode, CheckId::ConsoleResultCode, 5, None),
            Some(earlier)
        );
    }

    #[test]
    fn rule_4_content_follows_a_call_whose_answer_withheld_it() {
        let mut causes = step(2, None, None);
        causes.console(Rule::Timeout, CheckId::ConsoleTimeout, 7, None);
        assert_eq!(
            causes.content(CheckId::IdempotencySameInstance, false, &[7]),
            Some(cause(CheckId::ConsoleTimeout, 2))
        );
        assert_eq!(
            causes.content(CheckId::IdempotencySameInstance, false, &[7, 8]),
            None,
            "call 8 broke nothing: the failure is its own"
        );
        // A readable answer with a badly named header still has content to judge.
        let mut causes = step(2, None, None);
        causes.console(Rule::BodySign, CheckId::ConsoleBodySign, 7, None);
        assert_eq!(
            causes.content(CheckId::SecurityMissingParameter, true, &[7]),
            None
        );
        // A wrong result code explains the instance the answer lacked.
        let mut causes = step(1, None, None);
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
    fn rule_5_field_rules_on_a_wrongly_accepted_request_follow_from_accepting_it() {
        let mut causes = step(1, None, None);
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
    fn rule_6_state_follows_what_was_needed_or_the_steps_own_failure() {
        let causes = step(4, None, Some(cause(CheckId::ConsoleJsonBody, 2)));
        assert_eq!(causes.state(None), None, "nothing needed was withheld");
        assert_eq!(
            causes.state(Some(CheckId::ConsoleTimeout)),
            Some(cause(CheckId::ConsoleTimeout, 4))
        );
        let causes = step(4, Some(cause(CheckId::ConsoleJsonBody, 2)), None);
        assert_eq!(
            causes.state(Some(CheckId::ConsoleTimeout)),
            Some(cause(CheckId::ConsoleJsonBody, 2))
        );
        // A step that could not run follows from anything earlier.
        let causes = step(4, None, Some(cause(CheckId::ConsoleJsonBody, 2)));
        assert_eq!(causes.blocked(), Some(cause(CheckId::ConsoleJsonBody, 2)));
    }
}
