//! `kgsim explore`: seeded random walks through a product's lifecycle, judged by the same
//! checks as `kgsim run`, and the first failure shrunk to a short scenario that replays it.
//!
//! A walk is a scenario written while it runs: [`walk::Walker`] picks each next step from
//! what the marketplace's engine says the instances are now, and the step is performed by
//! the same runner the suite uses ([`Session`]), so every exchange meets the console-parity,
//! idempotency, lifecycle and security checks of [`crate::conformance::evaluate`]. The first
//! failing check ends the walk; [`shrink`] then removes steps (delta debugging) and faults
//! while the same check still fails first, and [`write`] turns what is left into a scenario
//! file. Walks are numbered from the seed, each with ids of its own (drawn afresh for every
//! exploration), so the same seed, product and merchant give the same walks.

pub(crate) mod shrink;
pub(crate) mod walk;
pub(crate) mod write;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checks::CheckId;
use crate::conformance::evaluate;
use crate::marketplace::transitions::Lifecycle;
use crate::report::coverage::{Coverage, Tally};
use crate::scenario::format::model::Scenario;
use crate::scenario::result::Transition;
use crate::scenario::run::runner::{RunContext, Session};

/// Steps per walk: long enough for a third renewal after an upgrade of one of several
/// instances, short enough that a failure is found near its cause.
pub(crate) const WALK_STEPS: usize = 40;

/// How much to explore.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Marketplace events (steps) in all.
    pub steps: usize,
    /// Wall time, when bounded.
    pub time: Option<Duration>,
}

/// What an exploration needs.
pub(crate) struct Exploration {
    /// The run's shared context (product, key, client, open APIs).
    pub(crate) context: RunContext,
    /// What the product may be sent.
    pub(crate) lifecycle: Lifecycle,
    /// The seed every walk's choices derive from.
    pub(crate) seed: u64,
    /// The seed every walk's order ids and buyer derive from: drawn per exploration, so
    /// that two explorations with the same seed never send the same orderId to a merchant
    /// that remembers the first.
    pub(crate) ids: u64,
    /// The bound.
    pub(crate) budget: Budget,
}

/// Where an exploration stands, for a progress bar.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    /// Steps performed.
    pub(crate) steps: usize,
    /// Exchanges with the merchant.
    pub(crate) exchanges: usize,
    /// Transitions of the table exercised.
    pub(crate) exercised: usize,
    /// Transitions in the table.
    pub(crate) total: usize,
}

/// The first failing check of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The check.
    pub(crate) check: CheckId,
    /// Its message, expected and got.
    pub(crate) message: String,
    /// The step it failed at (0-based).
    pub(crate) step: usize,
}

/// A failure found and shrunk.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    /// The failure as the shrunk walk shows it.
    pub(crate) failure: Failure,
    /// Which walk (from 0) found it.
    pub(crate) walk: u64,
    /// The walk's steps up to the failure.
    pub(crate) walk_length: usize,
    /// The shrunk steps.
    pub(crate) steps: Vec<crate::scenario::format::model::Step>,
    /// How many candidate walks shrinking ran, and how long it took.
    pub(crate) shrink_runs: usize,
    /// Wall time of the shrinking.
    pub(crate) shrink_wall: Duration,
}

/// What an exploration found.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// Walks run.
    pub(crate) walks: u64,
    /// Steps performed (marketplace events).
    pub(crate) steps: usize,
    /// Exchanges with the merchant.
    pub(crate) exchanges: usize,
    /// Which transitions of the lifecycle were exercised.
    pub(crate) coverage: Coverage,
    /// The first failure, shrunk, if one was found.
    pub(crate) finding: Option<Finding>,
    /// Steps the engine refused: a disagreement between the walk's model and the engine,
    /// which is a kgsim bug (never a merchant's).
    pub(crate) model_errors: Vec<String>,
    /// Wall time of the walks (shrinking excluded).
    pub(crate) walk_wall: Duration,
}

/// splitmix64: the seed of walk `n` (and of each shrinking candidate's ids).
pub(crate) fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The scenario a walk's steps make (its name seeds nothing that matters: ids come from
/// the context's seed).
pub(crate) fn scenario_of(steps: Vec<crate::scenario::format::model::Step>) -> Scenario {
    Scenario {
        file: "explore/walk.yaml".into(),
        name: "explore walk".to_owned(),
        description: None,
        tags: vec!["explore".to_owned()],
        applies: Default::default(),
        steps,
    }
}

/// The first failing check of a run, judged as the suite judges it.
pub(crate) fn first_failure(run: &crate::scenario::result::ScenarioRun) -> Option<Failure> {
    evaluate(run)
        .iter()
        .enumerate()
        .find_map(|(step, verdict)| {
            verdict.failures().next().map(|failed| Failure {
                check: failed.check,
                message: format!(
                    "{} (expected {}, got {})",
                    failed.message, failed.expected, failed.got
                ),
                step,
            })
        })
}

/// One walk's result.
struct Walked {
    steps: Vec<crate::scenario::format::model::Step>,
    transitions: Vec<Transition>,
    exchanges: usize,
    failure: Option<Failure>,
    model_error: Option<String>,
}

impl Exploration {
    /// The context with its own seed, so that walk `n`'s orders and buyer are its own.
    pub(crate) fn context_for(&self, n: u64) -> RunContext {
        let mut context = self.context.clone();
        context.seed = mix(self.ids, n);
        context
    }

    async fn walk(&self, n: u64, length: usize) -> Walked {
        let context = self.context_for(n);
        let mut walker = walk::Walker::new(&self.lifecycle, mix(self.seed, n));
        let mut session = Session::start(&scenario_of(Vec::new()), &context);
        let mut steps = Vec::with_capacity(length);
        let mut model_error = None;
        for _ in 0..length {
            let mut step = walker.next(&mut session);
            let blocked = session.push(&step).await.blocked.clone();
            if let Some(why) = blocked {
                model_error = Some(format!("`{}` was refused: {why}", step.action.keyword()));
                steps.push(step);
                break;
            }
            step.expect.extend(walk::state_expectation(&step, &session));
            steps.push(step);
        }
        let run = session.finish(Arc::new(scenario_of(steps.clone())));
        let transitions = run
            .steps
            .iter()
            .flat_map(|s| s.transitions.iter().copied())
            .collect();
        let exchanges = run.steps.iter().map(|s| s.exchanges.len()).sum();
        let failure = model_error.is_none().then(|| first_failure(&run)).flatten();
        if let Some(failure) = &failure {
            steps.truncate(failure.step + 1);
        }
        Walked {
            steps,
            transitions,
            exchanges,
            failure,
            model_error,
        }
    }

    /// Explores until the budget is spent or a check fails; a failure is shrunk.
    pub(crate) async fn run(&self, on_progress: &(dyn Fn(Progress) + Sync)) -> Outcome {
        let started = Instant::now();
        let mut tally = Tally::default();
        let mut outcome = Outcome {
            walks: 0,
            steps: 0,
            exchanges: 0,
            coverage: tally.coverage(&self.lifecycle),
            finding: None,
            model_errors: Vec::new(),
            walk_wall: Duration::ZERO,
        };
        let out_of_time = || self.budget.time.is_some_and(|t| started.elapsed() >= t);
        while outcome.steps < self.budget.steps && !out_of_time() {
            let length = WALK_STEPS.min(self.budget.steps - outcome.steps);
            let walked = self.walk(outcome.walks, length).await;
            outcome.steps += walked.steps.len();
            outcome.exchanges += walked.exchanges;
            tally.add(&walked.transitions);
            outcome.coverage = tally.coverage(&self.lifecycle);
            on_progress(Progress {
                steps: outcome.steps,
                exchanges: outcome.exchanges,
                exercised: outcome.coverage.exercised,
                total: outcome.coverage.total,
            });
            outcome.walks += 1;
            if let Some(error) = walked.model_error {
                outcome.model_errors.push(error);
                continue;
            }
            if let Some(failure) = walked.failure {
                outcome.walk_wall = started.elapsed();
                let shrinking = Instant::now();
                let walk_length = walked.steps.len();
                let (steps, failure, shrink_runs) =
                    shrink::shrink(self, walked.steps, failure).await;
                outcome.finding = Some(Finding {
                    failure,
                    walk: outcome.walks - 1,
                    walk_length,
                    steps,
                    shrink_runs,
                    shrink_wall: shrinking.elapsed(),
                });
                return outcome;
            }
        }
        outcome.walk_wall = started.elapsed();
        outcome
    }
}
