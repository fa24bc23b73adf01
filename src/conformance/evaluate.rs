//! Judging a run step by step: the step's content expectations first (the result code before
//! the rest), then the console checks of its exchanges, then its state expectations — each
//! failure attributed by [`crate::conformance::attribute`].

use std::collections::HashMap;

use crate::checks::{CheckId, Family};
use crate::conformance::attribute::{Cause, StepCauses};
use crate::conformance::console::{StepExpectations, judge_exchanges};
use crate::conformance::verdict::{CheckVerdict, StepVerdict};
use crate::conformance::{Judged, answers, state};
use crate::scenario::format::model::{Expect, Expectation, ResultExpectation, Step};
use crate::scenario::result::{CallFacts, ScenarioRun, StepFacts, StepRun};

/// The check an expectation reports under when the step names none; `copies` is how many
/// identical copies the step sends at once.
pub(crate) fn default_check(expect: &Expect, copies: u32) -> CheckId {
    match expect {
        Expect::Result(_) => CheckId::LifecycleAccepted,
        Expect::SameInstance(_) => CheckId::IdempotencySameInstance,
        Expect::DifferentInstance(_) => CheckId::IdempotencyDistinctOrders,
        Expect::SameAppInfo(_) => CheckId::IdempotencySameAppInfo,
        // Copies sent at once must converge on one instance; one order's billing items must
        // each get their own (orderId + productId is the key, spec V1 §4.1).
        Expect::DistinctInstances(_) if copies > 1 => CheckId::IdempotencyConcurrent,
        Expect::DistinctInstances(_) => CheckId::IdempotencyDistinctOrders,
        Expect::Order(_) => CheckId::LifecycleOrderState,
        Expect::Instance(_) => CheckId::LifecycleInstanceState,
        Expect::Attempts(_) | Expect::AttemptTimes(_) | Expect::SettledAfter(_) => {
            CheckId::RetrySchedule
        }
        Expect::Listed(_) => CheckId::LifecycleQuery,
    }
}

/// Whether an expectation is about the content of the merchant's answers (judged directly on
/// them) rather than about the marketplace's state (which follows from whether the console
/// accepted the answers).
fn is_content(expect: &Expect) -> bool {
    match expect {
        Expect::Result(_)
        | Expect::SameInstance(_)
        | Expect::DifferentInstance(_)
        | Expect::SameAppInfo(_)
        | Expect::DistinctInstances(_)
        | Expect::Listed(_) => true,
        Expect::Order(_)
        | Expect::Instance(_)
        | Expect::Attempts(_)
        | Expect::AttemptTimes(_)
        | Expect::SettledAfter(_) => false,
    }
}

/// Judges every step of a run. A capture is spoiled by the first failure of a step that made
/// it or acted on it; a later step that needs a spoiled capture follows from that failure.
pub(crate) fn evaluate(run: &ScenarioRun) -> Vec<StepVerdict> {
    let mut verdicts: Vec<StepVerdict> = Vec::new();
    let mut root: Option<Cause> = None;
    let mut spoiled: HashMap<&str, Cause> = HashMap::new();
    for (index, (step, step_run)) in run.scenario.steps.iter().zip(&run.steps).enumerate() {
        let needs = step.references();
        let withheld = needs.iter().find_map(|name| spoiled.get(name)).cloned();
        let probe = step.check.is_some_and(|c| c.family() == Family::Security);
        let causes = StepCauses::new(index + 1, withheld.clone(), root.clone(), probe);
        let verdict = evaluate_step(step, step_run, causes);
        let failed_here = verdict.failures().next().map(|o| Cause {
            check: o.check,
            step: index + 1,
            note: None,
        });
        // A step that failed spoils what it touched; a step that acted on something spoiled
        // captures something spoiled.
        if let Some(cause) = failed_here.clone().or(withheld) {
            for name in needs.into_iter().chain(step.capture.as_deref()) {
                spoiled.entry(name).or_insert_with(|| cause.clone());
            }
        }
        if root.is_none() {
            root = failed_here;
        }
        verdicts.push(verdict);
    }
    verdicts
}

/// The calls a step's content expectations judge: its own, or its subject's with `of:`.
fn judged_calls<'r>(step: &Step, facts: &'r StepFacts) -> &'r [CallFacts] {
    match (&step.subject, &facts.subject) {
        (Some(_), Some(subject)) => &subject.calls,
        _ => &facts.calls,
    }
}

fn step_expectations<'r>(step: &Step, facts: &'r StepFacts) -> StepExpectations<'r> {
    let result = step.expect.iter().find_map(|e| match &e.expect {
        Expect::Result(wanted) => Some(wanted),
        _ => None,
    });
    StepExpectations {
        own_calls: judged_calls(step, facts)
            .iter()
            .map(|c| (c.id, c))
            .collect(),
        states_result: result.is_some(),
        expects_error: result.is_some_and(|wanted| match wanted {
            ResultExpectation::OneOf(codes) => !codes.iter().any(|c| c.is_success()),
            ResultExpectation::Rejected => true,
        }),
        result_check: step.check.unwrap_or(CheckId::LifecycleAccepted),
    }
}

fn blocked(step: &Step, reason: &str, causes: &StepCauses) -> StepVerdict {
    StepVerdict {
        outcomes: vec![CheckVerdict {
            check: CheckId::ScenarioStep,
            passed: false,
            at: step.at,
            message: format!(
                "the `{}` step could not be performed: {reason}",
                step.action.keyword()
            ),
            expected: "the step runs".into(),
            got: reason.to_owned(),
            exchange: None,
            consequence_of: causes.blocked(),
        }],
        judged: 0,
    }
}

fn evaluate_step(step: &Step, run: &StepRun, mut causes: StepCauses) -> StepVerdict {
    if let Some(reason) = &run.blocked {
        return blocked(step, reason, &causes);
    }
    let expectations = step_expectations(step, &run.facts);
    let console = judge_exchanges(step, run, &expectations, &mut causes);
    // The result code is judged first: a call that answered the wrong code cannot also be
    // blamed for the instance or credentials it then did not return.
    let mut content: Vec<(usize, &Expectation)> = step
        .expect
        .iter()
        .enumerate()
        .filter(|(_, e)| is_content(&e.expect))
        .collect();
    content.sort_by_key(|(_, e)| !matches!(e.expect, Expect::Result(_)));
    let mut placed: Vec<(usize, CheckVerdict)> = Vec::new();
    for (order, expectation) in content {
        let (mut outcome, failing_calls) = judge(step, expectation, &run.facts);
        if !outcome.passed {
            let is_result = matches!(expectation.expect, Expect::Result(_));
            outcome.consequence_of = causes.content(outcome.check, is_result, &failing_calls);
        }
        placed.push((order, outcome));
    }
    let first_here = console
        .iter()
        .chain(placed.iter().map(|(_, o)| o))
        .find(|o| o.counts())
        .map(|o| o.check);
    for (order, expectation) in step.expect.iter().enumerate() {
        if is_content(&expectation.expect) {
            continue;
        }
        let (mut outcome, _) = judge(step, expectation, &run.facts);
        if !outcome.passed {
            outcome.consequence_of = causes.state(first_here);
        }
        placed.push((order, outcome));
    }
    placed.sort_by_key(|(order, _)| *order);
    let mut outcomes: Vec<CheckVerdict> = placed.into_iter().map(|(_, o)| o).collect();
    outcomes.extend(console);
    outcomes.extend(crate::conformance::open_api::judge(
        step,
        run,
        causes.withheld().as_ref(),
    ));
    StepVerdict {
        outcomes,
        judged: run.exchanges.len(),
    }
}

/// Judges one expectation; returns its outcome and the calls it failed on.
fn judge(step: &Step, expectation: &Expectation, facts: &StepFacts) -> (CheckVerdict, Vec<usize>) {
    let calls = judged_calls(step, facts);
    let subject = facts.subject.clone().unwrap_or_default();
    let judged: Judged = match &expectation.expect {
        Expect::Result(wanted) => answers::result(calls, wanted),
        Expect::SameInstance(r) => answers::same_instance(calls, facts, r),
        Expect::DifferentInstance(r) => answers::different_instance(calls, facts, r),
        Expect::SameAppInfo(r) => answers::same_app_info(calls, facts, r),
        Expect::DistinctInstances(n) => answers::distinct_instances(calls, *n),
        Expect::Listed(n) => answers::listed(calls, *n),
        Expect::Order(wanted) => state::order(&subject, wanted),
        Expect::Instance(wanted) => state::instance(&subject, wanted),
        Expect::Attempts(n) => state::attempts(&subject, *n),
        Expect::AttemptTimes(times) => state::attempt_times(&subject, times),
        Expect::SettledAfter(span) => state::settled_after(&subject, *span),
    };
    let outcome = CheckVerdict {
        check: step
            .check
            .unwrap_or_else(|| default_check(&expectation.expect, step.faults.copies)),
        passed: judged.passed,
        at: expectation.at,
        message: judged.message,
        expected: judged.expected,
        got: judged.got,
        exchange: None,
        consequence_of: None,
    };
    (outcome, judged.failing_calls)
}
