//! The console-parity family: every exchange of every step judged by the rules the seller
//! console's debug page applies (spec V1 §1 FAQ, V2 §8.3), whether or not the scenario asks.

use std::collections::BTreeMap;

use crate::checks::CheckId;
use crate::conformance::CheckVerdict;
use crate::conformance::attribute::StepCauses;
use crate::marketplace::Rule;
use crate::scenario::format::model::Step;
use crate::scenario::result::{CallFacts, StepRun};

/// The check a console rule reports under; `None` for what the scenario did on purpose.
pub(crate) fn console_check(rule: Rule) -> Option<CheckId> {
    Some(match rule {
        Rule::Reachable => CheckId::ConsoleReachable,
        Rule::Timeout => CheckId::ConsoleTimeout,
        Rule::Transport => CheckId::ConsoleTransport,
        Rule::HttpStatus => CheckId::ConsoleHttpStatus,
        Rule::ContentType => CheckId::ConsoleContentType,
        Rule::JsonBody => CheckId::ConsoleJsonBody,
        Rule::BodySign => CheckId::ConsoleBodySign,
        Rule::ResultCode => CheckId::ConsoleResultCode,
        Rule::MandatoryFields => CheckId::ConsoleMandatoryFields,
        Rule::FieldLength => CheckId::ConsoleFieldLength,
        Rule::AppInfoDecrypt => CheckId::ConsoleAppInfoDecrypt,
        Rule::QueryListing => CheckId::ConsoleQueryListing,
        Rule::Injected => return None,
    })
}

/// What the console checks of a step need to know about its expectations.
pub(crate) struct StepExpectations<'a> {
    /// The calls the step's content expectations judge, by id.
    pub(crate) own_calls: BTreeMap<usize, &'a CallFacts>,
    /// Whether the step states the result it expects (then it owns the result-code verdict
    /// of its own calls).
    pub(crate) states_result: bool,
    /// Whether that result is an error (a request the merchant must refuse).
    pub(crate) expects_error: bool,
    /// The check the step's result expectation reports under.
    pub(crate) result_check: CheckId,
}

/// Judges every exchange of a step; failed rules become outcomes, attributed.
pub(crate) fn judge_exchanges(
    step: &Step,
    run: &StepRun,
    expectations: &StepExpectations<'_>,
    causes: &mut StepCauses,
) -> Vec<CheckVerdict> {
    let mut outcomes = Vec::new();
    for (index, exchange) in run.exchanges.iter().enumerate() {
        let performed = &exchange.performed;
        let call = performed.delivery.call.0;
        let own = expectations.own_calls.get(&call);
        for finding in &performed.judgement.findings {
            let rule = finding.rule();
            let Some(check) = console_check(rule) else {
                continue;
            };
            if rule == Rule::ResultCode && expectations.states_result && own.is_some() {
                continue;
            }
            let accepted_wrongly = (expectations.expects_error
                && own.is_some_and(|c| c.answered_success()))
            .then_some(expectations.result_check);
            let consequence_of = causes.console(rule, check, call, accepted_wrongly);
            let request = &performed.delivery.request;
            outcomes.push(CheckVerdict {
                check,
                passed: false,
                at: step.at,
                message: format!(
                    "{} (attempt {} of {})",
                    finding.message(),
                    performed.delivery.attempt,
                    request
                        .activity()
                        .wire_name(request.protocol())
                        .unwrap_or("?")
                ),
                expected: finding.expected(),
                got: finding.got(),
                exchange: Some(index),
                consequence_of,
            });
        }
    }
    if step.faults.copies > 1 {
        name_lost_copies(&mut outcomes, run.exchanges.len(), step.faults.copies);
    }
    outcomes
}

/// When some of the copies sent at once were refused or reset while the others were
/// answered, the first transport finding says so with the count — a capacity limit, not an
/// idempotency failure (the copies that were answered are judged for idempotency).
fn name_lost_copies(outcomes: &mut [CheckVerdict], sent: usize, copies: u32) {
    let lost = |o: &&mut CheckVerdict| {
        matches!(
            o.check,
            CheckId::ConsoleTransport | CheckId::ConsoleReachable
        )
    };
    let count = outcomes.iter_mut().filter(|o| lost(o)).count();
    if count == 0 || count >= sent {
        return;
    }
    if let Some(first) = outcomes.iter_mut().find(|o| lost(o)) {
        first.message = format!(
            "{count} of {sent} simultaneous connections were refused or reset while the others \
             were answered: the listen backlog or worker pool is smaller than {copies} — {}",
            first.message
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(index: usize) -> CheckVerdict {
        CheckVerdict {
            check: CheckId::ConsoleTransport,
            passed: false,
            at: Default::default(),
            message: "the connection broke: reset".into(),
            expected: String::new(),
            got: String::new(),
            exchange: Some(index),
            consequence_of: None,
        }
    }

    #[test]
    fn copies_partly_reset_are_named_with_their_count() {
        let mut outcomes: Vec<CheckVerdict> = (0..7).map(transport).collect();
        name_lost_copies(&mut outcomes, 20, 20);
        assert!(
            outcomes[0].message.starts_with(
                "7 of 20 simultaneous connections were refused or reset while the others were answered: the listen backlog or worker pool is smaller than 20"
            ),
            "{}",
            outcomes[0].message
        );
        assert_eq!(outcomes[1].message, "the connection broke: reset");
        // All of them lost: a transport failure, not a capacity limit.
        let mut all: Vec<CheckVerdict> = (0..20).map(transport).collect();
        name_lost_copies(&mut all, 20, 20);
        assert_eq!(all[0].message, "the connection broke: reset");
    }
}
