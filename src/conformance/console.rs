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
    outcomes
}
