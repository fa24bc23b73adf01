//! Shrinking a failing walk to the fewest steps that still fail the same check first: delta
//! debugging over the steps (Zeller's ddmin: drop ever smaller chunks while the failure
//! stays), then simpler values — faults left out, trials bought as plain purchases — and
//! finally the instance-state expectations stated again for what is left.
//!
//! Every candidate is a fresh walk against the same merchant with ids of its own; one the
//! engine refuses (a renewal of an instance whose purchase was dropped) is simply not a
//! reproduction.

use std::collections::HashSet;
use std::sync::Arc;

use crate::checks::CheckId;
use crate::explore::{Exploration, Failure, first_failure, scenario_of, walk};
use crate::scenario::format::model::{Action, Expect, Faults, Step};
use crate::scenario::run::runner::Session;

/// At most this many candidate walks are run.
const MOST_RUNS: usize = 400;
/// Candidate walks take ids from here on, far from the exploration's walks.
const CANDIDATE_IDS: u64 = 1 << 40;

/// The steps with what no longer holds taken out: expectations about a purchase that was
/// dropped, and the instance states (stated again at the end). `None` when a step acts on a
/// purchase that is no longer there.
///
/// A License code must stay entered and activated before anything is sent about it: without
/// that the merchant rightly answers 000003, which would pass for the failure being shrunk.
fn repaired(steps: &[Step]) -> Option<Vec<Step>> {
    let entering = steps
        .iter()
        .any(|s| matches!(s.action, Action::EnterLicense(_)));
    let mut named: HashSet<String> = HashSet::new();
    let (mut entered, mut activated) = (HashSet::new(), HashSet::new());
    let mut repaired = Vec::with_capacity(steps.len());
    for step in steps {
        let refs = step.action.references();
        if refs.iter().any(|r| !named.contains(r.name.as_str())) {
            return None;
        }
        match &step.action {
            Action::EnterLicense(r) => {
                entered.insert(r.name.clone());
            }
            Action::Await(awaited) if !entered.contains(&awaited.call.subject().name) => {
                return None;
            }
            Action::Await(awaited) => {
                activated.insert(awaited.call.subject().name.clone());
            }
            _ if entering && refs.iter().any(|r| !activated.contains(&r.name)) => return None,
            _ => {}
        }
        let mut step = step.clone();
        step.expect.retain(|e| match &e.expect {
            Expect::Instance(_) => false,
            Expect::SameInstance(r) | Expect::DifferentInstance(r) => {
                named.contains(r.name.as_str())
            }
            _ => true,
        });
        if let Some(name) = &step.capture {
            named.insert(name.clone());
        }
        repaired.push(step);
    }
    Some(repaired)
}

/// The candidates run so far, and the check they must fail.
struct Trials<'a> {
    exploration: &'a Exploration,
    check: CheckId,
    runs: usize,
}

impl Trials<'_> {
    /// Runs `steps` (already repaired) as a fresh walk with ids of its own, stating each
    /// step's instance-state expectation when `state` says so; its first failure, or `None`
    /// when the engine refused a step.
    async fn walk_again(&mut self, steps: &mut [Step], state: bool) -> Option<Option<Failure>> {
        self.runs += 1;
        let context = self
            .exploration
            .context_for(CANDIDATE_IDS + self.runs as u64);
        let mut session = Session::start(&scenario_of(Vec::new()), &context);
        for step in steps.iter_mut() {
            if session.push(step).await.blocked.is_some() {
                return None;
            }
            if state {
                step.expect.extend(walk::state_expectation(step, &session));
            }
        }
        let run = session.finish(Arc::new(scenario_of(steps.to_vec())));
        Some(first_failure(&run))
    }

    /// Runs `steps`; when they fail `check` first, the steps up to the failure and the
    /// failure.
    async fn reproduce(&mut self, steps: &[Step]) -> Option<(Vec<Step>, Failure)> {
        if self.runs >= MOST_RUNS {
            return None;
        }
        let mut steps = repaired(steps)?;
        let failure = self
            .walk_again(&mut steps, false)
            .await
            .flatten()
            .filter(|f| f.check == self.check)?;
        steps.truncate(failure.step + 1);
        Some((steps, failure))
    }

    /// ddmin: removes chunks of steps, halving the chunk size when none can go.
    async fn fewer_steps(
        &mut self,
        mut steps: Vec<Step>,
        mut failure: Failure,
    ) -> (Vec<Step>, Failure) {
        let mut chunks = 2;
        while steps.len() >= 2 {
            let size = steps.len().div_ceil(chunks);
            let mut reduced = false;
            for start in (0..steps.len()).step_by(size) {
                let candidate: Vec<Step> = steps[..start]
                    .iter()
                    .chain(&steps[(start + size).min(steps.len())..])
                    .cloned()
                    .collect();
                if let Some((shorter, failed)) = self.reproduce(&candidate).await {
                    (steps, failure) = (shorter, failed);
                    chunks = (chunks - 1).max(2);
                    reduced = true;
                    break;
                }
            }
            if !reduced {
                if chunks >= steps.len() {
                    break;
                }
                chunks = (chunks * 2).min(steps.len());
            }
        }
        (steps, failure)
    }

    /// Simpler values, one step at a time: no faults, no trial.
    async fn simpler_values(
        &mut self,
        mut steps: Vec<Step>,
        mut failure: Failure,
    ) -> (Vec<Step>, Failure) {
        for index in 0..steps.len() {
            for simplify in [without_faults, without_trial] {
                let Some(simpler) = simplify(&steps[index]) else {
                    continue;
                };
                let mut candidate = steps.clone();
                candidate[index] = simpler;
                if let Some((kept, failed)) = self.reproduce(&candidate).await {
                    if kept.len() == steps.len() {
                        (steps, failure) = (kept, failed);
                    }
                }
            }
        }
        (steps, failure)
    }
}

/// The step without its marketplace-side faults (and the expectation that only the copies
/// made), when it has any and is not a probe.
fn without_faults(step: &Step) -> Option<Step> {
    if step.faults == Faults::default() || step.check.is_some() {
        return None;
    }
    let mut simpler = step.clone();
    simpler.faults = Faults::default();
    simpler
        .expect
        .retain(|e| !matches!(e.expect, Expect::DistinctInstances(_)));
    Some(simpler)
}

/// A trial purchase as a plain one.
fn without_trial(step: &Step) -> Option<Step> {
    let Action::Purchase { trial: true, .. } = step.action else {
        return None;
    };
    let mut simpler = step.clone();
    if let Action::Purchase { trial, .. } = &mut simpler.action {
        *trial = false;
    }
    Some(simpler)
}

/// Shrinks a failing walk; returns the shortest walk found, its failure and how many
/// candidates ran.
pub(crate) async fn shrink(
    exploration: &Exploration,
    steps: Vec<Step>,
    failure: Failure,
) -> (Vec<Step>, Failure, usize) {
    let mut trials = Trials {
        exploration,
        check: failure.check,
        runs: 0,
    };
    let (steps, failure) = match trials.reproduce(&steps).await {
        Some((steps, failure)) => {
            let (steps, failure) = trials.fewer_steps(steps, failure).await;
            trials.simpler_values(steps, failure).await
        }
        // Not reproducible on a fresh walk (it depended on what an earlier walk left at the
        // merchant): the walk as it failed.
        None => (steps, failure),
    };
    let (steps, failure) = with_states(&mut trials, steps, failure).await;
    (steps, failure, trials.runs)
}

/// The instance-state expectations stated again for the shrunk walk, kept when it still
/// fails the same check first with them.
async fn with_states(
    trials: &mut Trials<'_>,
    steps: Vec<Step>,
    failure: Failure,
) -> (Vec<Step>, Failure) {
    let Some(mut stated) = repaired(&steps) else {
        return (steps, failure);
    };
    match trials.walk_again(&mut stated, true).await.flatten() {
        Some(again) if again.check == failure.check && again.step + 1 == stated.len() => {
            (stated, again)
        }
        _ => (steps, failure),
    }
}
