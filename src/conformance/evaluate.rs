//! Judging a scenario run: the always-on console-parity checks on every exchange, and each
//! step's expectations against the facts the runner recorded.

use std::collections::{BTreeMap, BTreeSet};

use crate::marketplace::Span;
use crate::scenario::model::{Expect, Expectation, Location, ResultExpectation, Step};
use crate::scenario::runner::{CallFacts, ScenarioRun, StepFacts, StepRun};

/// One check's verdict on one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The check id.
    pub check: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// The scenario line it came from.
    pub at: Location,
    /// What the rule says, for this case.
    pub message: String,
    /// What was expected.
    pub expected: String,
    /// What came back.
    pub got: String,
    /// The exchange (index within the step) it concerns, if one.
    pub exchange: Option<usize>,
    /// For a failure caused by an earlier one: which (`console.timeout at step 2`). Such a
    /// failure is reported but not counted, so that a broken merchant shows its root cause.
    pub consequence_of: Option<String>,
}

impl Outcome {
    /// Whether this is a failure of its own (not passed, not a consequence).
    pub fn counts(&self) -> bool {
        !self.passed && self.consequence_of.is_none()
    }
}

/// The verdicts of one step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepVerdict {
    /// Every outcome, expectations first, then the always-on checks that failed.
    pub outcomes: Vec<Outcome>,
    /// How many exchanges the always-on checks judged.
    pub judged: usize,
}

impl StepVerdict {
    /// The failures that count (consequences of earlier failures excluded).
    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.counts())
    }
}

/// The check an expectation reports under when the step names none.
pub fn default_check(expect: &Expect) -> &'static str {
    match expect {
        Expect::Result(_) => "lifecycle.accepted",
        Expect::SameInstance(_) => "idempotency.same-instance",
        Expect::DifferentInstance(_) => "idempotency.distinct-orders",
        Expect::SameAppInfo(_) => "idempotency.same-app-info",
        Expect::DistinctInstances(_) => "idempotency.concurrent",
        Expect::Order(_) => "lifecycle.order-state",
        Expect::Instance(_) => "lifecycle.instance-state",
        Expect::Attempts(_) | Expect::AttemptTimes(_) | Expect::SettledAfter(_) => "retry.schedule",
        Expect::Listed(_) => "lifecycle.query",
    }
}

/// Whether an expectation is about the content of the merchant's answers (judged directly on
/// them) rather than about the marketplace's state (which follows from whether the console
/// accepted the answers).
fn is_content(expect: &Expect) -> bool {
    matches!(
        expect,
        Expect::Result(_)
            | Expect::SameInstance(_)
            | Expect::DifferentInstance(_)
            | Expect::SameAppInfo(_)
            | Expect::DistinctInstances(_)
            | Expect::Listed(_)
    )
}

/// Judges every step of a run.
///
/// Failures are attributed to their root cause, as a compiler suppresses cascading errors:
///
/// 1. a console rule about the form of an answer (status, Content-Type, JSON, Body-Sign,
///    timeout, …) always counts;
/// 2. a content expectation (result code, same or different instance, credentials, listing)
///    counts, unless an earlier step already failed or the calls it fails on broke a form
///    rule (an answer that never arrived has no content to judge);
/// 3. a field rule (missing or over-long field, undecryptable credentials) on an answer that
///    said 000000 where the step expected an error is a consequence of accepting the request;
/// 4. a `console.result-code` finding counts unless an earlier step already failed;
/// 5. a state expectation (order, instance, attempts, timing) and a step that could not be
///    performed count only when nothing failed before them.
///
/// Consequences stay in the report, marked with their cause, but do not count.
pub fn evaluate(run: &ScenarioRun) -> Vec<StepVerdict> {
    let mut verdicts: Vec<StepVerdict> = Vec::new();
    let mut root: Option<String> = None;
    for (index, (step, step_run)) in run.scenario.steps.iter().zip(&run.steps).enumerate() {
        let verdict = evaluate_step(step, step_run, root.as_deref());
        if root.is_none() {
            root = verdict
                .failures()
                .next()
                .map(|o| format!("{} at step {}", o.check, index + 1));
        }
        verdicts.push(verdict);
    }
    verdicts
}

/// A judged expectation and the calls it failed on.
struct Judged {
    outcome: Outcome,
    failing_calls: Vec<usize>,
}

fn evaluate_step(step: &Step, run: &StepRun, earlier: Option<&str>) -> StepVerdict {
    let mut verdict = StepVerdict::default();
    if let Some(reason) = &run.blocked {
        verdict.outcomes.push(Outcome {
            check: "scenario.step",
            passed: false,
            at: step.at,
            message: format!(
                "the `{}` step could not be performed: {reason}",
                step.action.keyword()
            ),
            expected: "the step runs".into(),
            got: reason.clone(),
            exchange: None,
            consequence_of: earlier.map(str::to_owned),
        });
        return verdict;
    }
    let result_expectation = step.expect.iter().find_map(|e| match &e.expect {
        Expect::Result(wanted) => Some(wanted),
        _ => None,
    });
    let expects_error = result_expectation.is_some_and(|wanted| match wanted {
        ResultExpectation::OneOf(codes) => !codes.iter().any(|c| c == "000000"),
        ResultExpectation::Rejected => true,
    });
    // The calls the step's content expectations judge: its own, or its subject's with `of:`.
    let judged_calls = match (&step.subject, &run.facts.subject) {
        (Some(_), Some(subject)) => &subject.calls,
        _ => &run.facts.calls,
    };
    let own_calls: BTreeMap<usize, &CallFacts> = judged_calls.iter().map(|c| (c.id, c)).collect();
    let result_check = step.check.unwrap_or("lifecycle.accepted");

    // The always-on console checks, on every exchange of the step. A call that broke one
    // (its answer unreadable, malformed, or an error code) is noted, so that expectations
    // about its content are not blamed on it twice.
    let mut console = Vec::new();
    let mut broken_calls: BTreeMap<usize, String> = BTreeMap::new();
    for (index, exchange) in run.exchanges.iter().enumerate() {
        verdict.judged += 1;
        let performed = &exchange.performed;
        let call = performed.delivery.call.0;
        for finding in &performed.judgement.findings {
            let rule = finding.rule();
            // What the scenario did on purpose is not the merchant's fault.
            let injected = (performed.fault.fail_before_send && rule == "reachable")
                || (performed.fault.drop_response && rule == "timeout");
            // A step that states the result it expects owns the result-code judgement.
            let owned = result_expectation.is_some()
                && rule == "result-code"
                && own_calls.contains_key(&call);
            if injected || owned {
                continue;
            }
            let check = crate::conformance::console_check(rule);
            let answer_kind = matches!(
                rule,
                "mandatory-fields" | "field-length" | "app-info-decrypt"
            );
            let accepted_wrongly = own_calls
                .get(&call)
                .is_some_and(|c| c.final_code.as_deref() == Some("000000"));
            let consequence_of = if answer_kind && expects_error && accepted_wrongly {
                Some(format!(
                    "{result_check} (the merchant accepted a request it should have refused)"
                ))
            } else if rule == "result-code" {
                earlier.map(str::to_owned)
            } else {
                None
            };
            if consequence_of.is_none() {
                // The call broke a rule: its content cannot also be judged against it.
                broken_calls
                    .entry(call)
                    .or_insert_with(|| format!("{check} at step {}", run.index + 1));
            }
            console.push(Outcome {
                check,
                passed: false,
                at: step.at,
                message: format!(
                    "{} (attempt {} of {})",
                    finding.message(),
                    performed.delivery.attempt,
                    performed
                        .delivery
                        .request
                        .activity()
                        .wire_name(performed.delivery.request.protocol())
                        .unwrap_or("?")
                ),
                expected: finding.expected(),
                got: finding.got(),
                exchange: Some(index),
                consequence_of,
            });
        }
    }

    // Content expectations first, then state expectations, which follow from everything
    // before them.
    let mut expectations: Vec<(usize, Outcome)> = Vec::new();
    // The result code is judged first: a call that answered the wrong code cannot also be
    // blamed for the instance or credentials it then did not return.
    let mut content: Vec<(usize, &Expectation)> = step
        .expect
        .iter()
        .enumerate()
        .filter(|(_, e)| is_content(&e.expect))
        .collect();
    content.sort_by_key(|(_, e)| !matches!(e.expect, Expect::Result(_)));
    let mut wrong_result: Option<(Vec<usize>, String)> = None;
    for (order, expectation) in content {
        let Judged {
            mut outcome,
            failing_calls,
        } = judge_expectation(step, expectation, &run.facts);
        if !outcome.passed {
            let all_in = |calls: &[usize]| {
                !failing_calls.is_empty() && failing_calls.iter().all(|c| calls.contains(c))
            };
            let broken: Vec<usize> = broken_calls.keys().copied().collect();
            outcome.consequence_of = earlier
                .map(str::to_owned)
                .or_else(|| all_in(&broken).then(|| broken_calls[&failing_calls[0]].clone()))
                .or_else(|| {
                    wrong_result
                        .as_ref()
                        .filter(|(calls, _)| all_in(calls))
                        .map(|(_, cause)| cause.clone())
                });
            if matches!(expectation.expect, Expect::Result(_)) && outcome.consequence_of.is_none() {
                wrong_result = Some((
                    failing_calls,
                    format!("{} at step {}", outcome.check, run.index + 1),
                ));
            }
        }
        expectations.push((order, outcome));
    }
    let first_here = console
        .iter()
        .chain(expectations.iter().map(|(_, o)| o))
        .find(|o| o.counts())
        .map(|o| format!("{} at step {}", o.check, run.index + 1));
    for (order, expectation) in step
        .expect
        .iter()
        .enumerate()
        .filter(|(_, e)| !is_content(&e.expect))
    {
        let Judged { mut outcome, .. } = judge_expectation(step, expectation, &run.facts);
        if !outcome.passed {
            outcome.consequence_of = earlier.map(str::to_owned).or_else(|| first_here.clone());
        }
        expectations.push((order, outcome));
    }
    expectations.sort_by_key(|(order, _)| *order);
    verdict
        .outcomes
        .extend(expectations.into_iter().map(|(_, o)| o));
    verdict.outcomes.extend(console);
    verdict
}

fn judged(
    check: &'static str,
    at: Location,
    passed: bool,
    message: String,
    expected: String,
    got: String,
    failing_calls: Vec<usize>,
) -> Judged {
    Judged {
        outcome: Outcome {
            check,
            passed,
            at,
            message,
            expected,
            got,
            exchange: None,
            consequence_of: None,
        },
        failing_calls,
    }
}

fn describe_code(call: &CallFacts) -> String {
    match (&call.final_code, call.final_rule) {
        (Some(code), _) => code.clone(),
        (None, Some(rule)) => format!("no usable answer (console.{rule})"),
        (None, None) => "no attempt made yet".into(),
    }
}

fn list(spans: &[Span]) -> String {
    format!(
        "[{}]",
        spans
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn judge_expectation(step: &Step, expectation: &Expectation, facts: &StepFacts) -> Judged {
    let check = step
        .check
        .unwrap_or_else(|| default_check(&expectation.expect));
    let at = expectation.at;
    let subject = facts.subject.clone().unwrap_or_default();
    let make = |passed, message: String, expected: String, got: String, failing: Vec<usize>| {
        judged(check, at, passed, message, expected, got, failing)
    };
    let no_calls = || {
        make(
            false,
            "the step made no call to judge".into(),
            "a call".into(),
            "none".into(),
            Vec::new(),
        )
    };
    // Content expectations judge the step's own calls, or the subject's when `of:` names one.
    let calls: &[CallFacts] = if step.subject.is_some() {
        &subject.calls
    } else {
        &facts.calls
    };
    match &expectation.expect {
        Expect::Result(wanted) => {
            if calls.is_empty() {
                return no_calls();
            }
            let expected = match wanted {
                ResultExpectation::OneOf(codes) => codes.join(" or "),
                ResultExpectation::Rejected => "any code but 000000".into(),
            };
            let matches = |code: &str| match wanted {
                ResultExpectation::OneOf(codes) => codes.iter().any(|w| w == code),
                ResultExpectation::Rejected => code != "000000",
            };
            let wrong: Vec<&CallFacts> = calls
                .iter()
                .filter(|c| !c.final_code.as_deref().is_some_and(&matches))
                .collect();
            let got = wrong
                .first()
                .map_or_else(|| describe_code(&calls[0]), |c| describe_code(c));
            let message = match wrong.first() {
                None => format!("every call answered {expected} ({} call(s))", calls.len()),
                Some(call) => format!(
                    "{} of {} call(s) did not answer {expected} (first: {})",
                    wrong.len(),
                    calls.len(),
                    call.activity.slug()
                ),
            };
            make(
                wrong.is_empty(),
                message,
                expected,
                got,
                wrong.iter().map(|c| c.id).collect(),
            )
        }
        Expect::SameInstance(reference) => {
            let wanted = facts
                .captures
                .get(&reference.name)
                .map(|c| c.instance_ids.clone())
                .unwrap_or_default();
            if wanted.is_empty() {
                return make(
                    false,
                    format!("`{}` never got an instance to compare with", reference.name),
                    "an instanceId".into(),
                    "none".into(),
                    Vec::new(),
                );
            }
            if calls.is_empty() {
                return no_calls();
            }
            let mut mismatches: Vec<(usize, String, String)> = Vec::new();
            for call in calls {
                let expected_id = call
                    .expected_instance
                    .clone()
                    .filter(|id| wanted.contains(id))
                    .unwrap_or_else(|| wanted[0].clone());
                match call.returned_ids.last() {
                    Some(id) if *id == expected_id => {}
                    Some(id) => mismatches.push((call.id, expected_id, id.clone())),
                    None => mismatches.push((
                        call.id,
                        expected_id,
                        format!("no instanceId ({})", describe_code(call)),
                    )),
                }
            }
            match mismatches.first() {
                None => make(
                    true,
                    format!("every resend returned the instance of `{}`", reference.name),
                    wanted[0].clone(),
                    wanted[0].clone(),
                    Vec::new(),
                ),
                Some((_, expected, got)) => make(
                    false,
                    format!(
                        "{} of {} resend(s) did not return the instanceId of `{}`",
                        mismatches.len(),
                        calls.len(),
                        reference.name
                    ),
                    expected.clone(),
                    got.clone(),
                    mismatches.iter().map(|m| m.0).collect(),
                ),
            }
        }
        Expect::DifferentInstance(reference) => {
            let earlier = facts
                .captures
                .get(&reference.name)
                .map(|c| c.instance_ids.clone())
                .unwrap_or_default();
            let returned: Vec<(usize, String)> = calls
                .iter()
                .filter_map(|c| c.returned_ids.last().map(|id| (c.id, id.clone())))
                .collect();
            if returned.is_empty() {
                let ids = calls.iter().map(|c| c.id).collect();
                return make(
                    false,
                    "no call returned an instanceId".into(),
                    format!("an instanceId other than `{}`'s", reference.name),
                    "none".into(),
                    ids,
                );
            }
            let shared: Vec<usize> = returned
                .iter()
                .filter(|(_, id)| earlier.contains(id))
                .map(|(c, _)| *c)
                .collect();
            make(
                shared.is_empty(),
                format!(
                    "the new order's instanceId {} `{}`'s",
                    if shared.is_empty() {
                        "differs from"
                    } else {
                        "is"
                    },
                    reference.name
                ),
                format!("not {}", earlier.join(", ")),
                returned
                    .iter()
                    .map(|(_, id)| id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                shared,
            )
        }
        Expect::SameAppInfo(reference) => {
            let wanted = facts
                .captures
                .get(&reference.name)
                .map(|c| c.credentials.clone())
                .unwrap_or_default();
            let render = |creds: &[(String, String)]| {
                creds
                    .iter()
                    .map(|(k, v)| format!("{k}={}", if k == "password" { "[password]" } else { v }))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let differing: Vec<&CallFacts> =
                calls.iter().filter(|c| c.credentials != wanted).collect();
            let passed = !wanted.is_empty() && !calls.is_empty() && differing.is_empty();
            let got = differing
                .first()
                .map_or_else(|| render(&wanted), |c| render(&c.credentials));
            let message = match differing.first() {
                _ if wanted.is_empty() => format!(
                    "`{}` returned no credentials to compare with",
                    reference.name
                ),
                Some(call) => {
                    let field = call
                        .credentials
                        .iter()
                        .zip(&wanted)
                        .find(|(a, b)| a != b)
                        .map_or("appInfo", |(a, _)| a.0.as_str());
                    format!("a resend's {field} differs from `{}`'s", reference.name)
                }
                None => format!("every resend returned `{}`'s appInfo", reference.name),
            };
            let failing = if wanted.is_empty() {
                calls.iter().map(|c| c.id).collect()
            } else {
                differing.iter().map(|c| c.id).collect()
            };
            make(passed, message, render(&wanted), got, failing)
        }
        Expect::DistinctInstances(wanted) => {
            let ids: BTreeSet<&String> = calls.iter().flat_map(|c| c.returned_ids.iter()).collect();
            let got = ids.len() as u32;
            let failing = if got == *wanted {
                Vec::new()
            } else {
                calls.iter().map(|c| c.id).collect()
            };
            make(
                got == *wanted,
                format!(
                    "{} call(s) returned {got} distinct instanceId(s)",
                    calls.len()
                ),
                wanted.to_string(),
                got.to_string(),
                failing,
            )
        }
        Expect::Listed(wanted) => {
            let got = calls.first().and_then(|c| c.listed);
            let passed = got == Some(*wanted as usize);
            make(
                passed,
                format!(
                    "queryInstance listed {}",
                    got.map_or_else(|| "nothing".to_owned(), |n| format!("{n} instance(s)"))
                ),
                wanted.to_string(),
                got.map_or_else(|| "no listing".to_owned(), |n| n.to_string()),
                if passed {
                    Vec::new()
                } else {
                    calls.iter().map(|c| c.id).collect()
                },
            )
        }
        Expect::Order(state) => {
            let got = subject.order_state.unwrap_or("none");
            make(
                got == state,
                format!("the order of `{}` is {got}", subject.name),
                state.clone(),
                got.to_owned(),
                Vec::new(),
            )
        }
        Expect::Instance(state) => {
            let got = subject.instance_state.unwrap_or("none");
            make(
                got == state,
                format!("the instance of `{}` is {got}", subject.name),
                state.clone(),
                got.to_owned(),
                Vec::new(),
            )
        }
        Expect::Attempts(wanted) => {
            let got = subject.calls.first().map_or(0, |c| {
                c.attempts.iter().filter(|(_, r)| r.is_some()).count() as u32
            });
            make(
                got == *wanted,
                format!("the first call of `{}` made {got} attempt(s)", subject.name),
                wanted.to_string(),
                got.to_string(),
                Vec::new(),
            )
        }
        Expect::AttemptTimes(wanted) => {
            let got: Vec<Span> = subject
                .calls
                .first()
                .map(|c| {
                    c.attempts
                        .iter()
                        .filter(|(_, r)| r.is_some())
                        .map(|(t, _)| *t)
                        .collect()
                })
                .unwrap_or_default();
            make(
                got == *wanted,
                format!("attempts of `{}` were due at {}", subject.name, list(&got)),
                list(wanted),
                list(&got),
                Vec::new(),
            )
        }
        Expect::SettledAfter(wanted) => {
            let got = subject
                .settled_after
                .map_or_else(|| "not settled".to_owned(), |s| s.to_string());
            make(
                subject.settled_after == Some(*wanted),
                format!("the order of `{}` settled after {got}", subject.name),
                wanted.to_string(),
                got,
                Vec::new(),
            )
        }
    }
}
