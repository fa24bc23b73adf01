//! Explorations from the console: `kgsim explore`'s seeded random walks against a product's
//! production address, in the background, on engines of their own (the product's live state
//! and lock are untouched), followed live, and what they find kept with the product — the
//! shrunk scenario, which a suite run replays.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::console::service::runs::EXPLORATION_JOBS;
use crate::console::service::{ConsoleError, Service};
use crate::console::store::ExplorationRow;
use crate::explore::write::{Header, scenario};
use crate::explore::{Budget, Exploration, Outcome, Progress};
use crate::marketplace::kind::ProductType;
use crate::transport::wire::wall_clock;

/// The most steps one exploration may take from the console.
pub(crate) const MOST_STEPS: usize = 100_000;

/// Where a live exploration stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct ExploreProgress {
    /// Steps performed.
    pub(crate) steps: usize,
    /// Steps asked for.
    pub(crate) budget: usize,
    /// Exchanges with the merchant.
    pub(crate) exchanges: usize,
    /// Lifecycle transitions exercised so far.
    pub(crate) exercised: usize,
    /// Transitions in the product's lifecycle table.
    pub(crate) transitions: usize,
}

/// The live explorations, each with the channel its progress goes out on (closed when it
/// ends).
#[derive(Default)]
pub(crate) struct LiveExplorations(Mutex<HashMap<i64, watch::Sender<ExploreProgress>>>);

impl LiveExplorations {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Sender<ExploreProgress>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Service {
    /// Starts exploring a product in the background (`seed` drawn when omitted); returns the
    /// exploration's id.
    pub(crate) fn start_exploration(
        self: &Arc<Self>,
        product: i64,
        seed: Option<u64>,
        steps: usize,
    ) -> Result<i64, ConsoleError> {
        if !(1..=MOST_STEPS).contains(&steps) {
            return Err(ConsoleError::Invalid(format!(
                "steps: {steps} is outside 1..={MOST_STEPS}"
            )));
        }
        let mut suite = self.suite_for(product, Vec::new())?;
        if suite.profile.product == ProductType::LicenseCode {
            return Err(ConsoleError::Invalid(
                "a License-code product's walks enter each code into the merchant's software, \
                 whose address the console does not know: explore it with `kgsim explore \
                 --software-url URL`"
                    .into(),
            ));
        }
        let seed = seed.unwrap_or_else(rand::random);
        let id = self
            .writer()
            .start_exploration(product, wall_clock().0, seed, steps)?;
        self.share_open_apis(&mut suite, product, EXPLORATION_JOBS + id);
        let lifecycle = suite.lifecycle();
        let (sender, _) = watch::channel(ExploreProgress {
            budget: steps,
            transitions: lifecycle.table().len(),
            ..ExploreProgress::default()
        });
        self.explorations.map().insert(id, sender.clone());
        let exploration = Exploration {
            context: suite.context(),
            lifecycle,
            seed,
            ids: suite.seed,
            budget: Budget { steps, time: None },
        };
        let header = HeaderParts {
            kind: suite.profile.kind(),
            declared: suite.profile.implemented().declared().to_vec(),
            replay: format!(
                "Replay on the console's exploration page, or kgsim run FILE --target {} --protocol {} --billing {}",
                suite.target_name, suite.profile.protocol, suite.profile.billing
            ),
        };
        let service = self.clone();
        tokio::spawn(async move {
            let watched = service.clone();
            let task = tokio::spawn(async move {
                let on_progress = |p: Progress| {
                    sender.send_modify(|shown| {
                        shown.steps = p.steps;
                        shown.exchanges = p.exchanges;
                        shown.exercised = p.exercised;
                    });
                };
                let outcome = exploration.run(&on_progress).await;
                let ended = ended_row(id, product, seed, &outcome, &header);
                if let Err(error) = service.writer().finish_exploration(&ended) {
                    tracing::error!(%error, id, "exploration: could not record it");
                }
            });
            if let Err(error) = task.await {
                tracing::error!(%error, id, "exploration: its task failed");
                let _ = watched.writer().interrupt_explorations(Some(id));
            }
            // Dropping the sender ends every watcher's stream.
            watched.explorations.map().remove(&id);
        });
        Ok(id)
    }

    /// A live exploration's progress; `None` once it ended.
    pub(crate) fn exploration_progress(&self, id: i64) -> Option<watch::Receiver<ExploreProgress>> {
        self.explorations
            .map()
            .get(&id)
            .map(watch::Sender::subscribe)
    }

    /// Replays an exploration's shrunk scenario as a suite run of the product; returns the
    /// run's id.
    pub(crate) fn replay_exploration(
        self: &Arc<Self>,
        exploration: &ExplorationRow,
    ) -> Result<i64, ConsoleError> {
        let Some(text) = &exploration.scenario else {
            return Err(ConsoleError::Invalid(format!(
                "exploration {} found nothing to replay",
                exploration.exploration_id
            )));
        };
        let file = format!("explore/exploration-{}.yaml", exploration.exploration_id);
        let decoded = crate::scenario::format::decode::decode(&file, text).map_err(|problems| {
            ConsoleError::Invalid(format!("the shrunk scenario no longer loads: {problems:?}"))
        })?;
        self.launch_run(
            exploration.product_id,
            vec![Arc::new(decoded)],
            &format!(
                "the scenario exploration {} found",
                exploration.exploration_id
            ),
            &[],
        )
    }
}

/// What the shrunk scenario's header says beside the finding.
struct HeaderParts {
    kind: crate::marketplace::kind::ProductKind,
    declared: Vec<crate::protocol::Activity>,
    replay: String,
}

/// The row of an exploration that ended.
fn ended_row(
    id: i64,
    product: i64,
    seed: u64,
    outcome: &Outcome,
    header: &HeaderParts,
) -> ExplorationRow {
    let finding = outcome.finding.as_ref();
    ExplorationRow {
        exploration_id: id,
        product_id: product,
        started_at: 0,
        finished_at: Some(wall_clock().0),
        status: "finished".into(),
        seed: seed.to_string(),
        budget: 0,
        walks: outcome.walks as i64,
        steps: outcome.steps as i64,
        exchanges: outcome.exchanges as i64,
        coverage: Some(outcome.coverage.render()),
        check_id: finding.map(|f| f.failure.check.id().to_owned()),
        message: finding.map(|f| f.failure.message.clone()),
        scenario: finding.map(|f| {
            scenario(
                &f.steps,
                &Header {
                    seed,
                    check: f.failure.check.id(),
                    message: &f.failure.message,
                    walk_length: f.walk_length,
                    replay: &header.replay,
                    kind: header.kind,
                    declared: &header.declared,
                },
            )
        }),
        note: (!outcome.model_errors.is_empty()).then(|| {
            format!(
                "kgsim bug: steps the engine refused: {}",
                outcome.model_errors.join("; ")
            )
        }),
    }
}
