//! The one batch loop: the engine hands out the deliveries due at its next instant, they are
//! performed concurrently, and their judgements fed back in delivery order — until a given
//! instant. Whoever drives it (the scenario runner, the console) watches through an
//! [`Observer`]: a batch taken before anything is sent, each completion, each task lost.
//! The loop has no policy of its own for a lost task: the observer says what it means.

use tokio::task::JoinSet;

use crate::deliver::attempt::{
    AttemptFault, Done, EngineView, Performed, perform, perform_together,
};
use crate::deliver::cut;
use crate::marketplace::{Delivery, Marketplace, Transport};
use crate::protocol::UnixMillis;
use crate::transport::Client;

/// Where a batch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The engine moved its clock to `until` (or to the instant the batch fell due before
    /// it) and handed the batch out; an empty batch says the clock moved and nothing is due.
    Fresh {
        /// The instant the engine was run to.
        until: UnixMillis,
    },
    /// Deliveries handed out earlier and not completed (a console restarted with attempts
    /// in flight, or tasks an observer chose to leave pending), sent again.
    Again,
}

/// One attempt completed: the engine has its judgement.
#[derive(Debug)]
pub struct Completed {
    /// The attempt, its answer cut down to the report's budget.
    pub(crate) performed: Performed,
    /// The answer exactly as received, when the observer keeps it
    /// ([`Observer::keeps_received`]).
    pub(crate) received: Option<Transport>,
}

/// What a lost task — an attempt whose task ended without a result, which only a bug in
/// kgsim can cause — means to the observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostTask {
    /// Judge the attempt as if this had come back, and complete it.
    Judge(Transport),
    /// Leave it pending: the loop ends after this batch and hands it back.
    LeavePending,
}

/// Watches the loop. Every method may fail; the loop then stops at once with the error.
pub trait Observer {
    /// What a failing observer reports.
    type Error;

    /// Whether completions carry the answer as received (the console journals those
    /// bytes), besides the cut record every observer gets.
    fn keeps_received(&self) -> bool {
        false
    }

    /// A batch was taken, before anything of it is sent.
    fn batch_taken(
        &mut self,
        engine: &Marketplace,
        taken: Taken,
        batch: &[Delivery],
    ) -> Result<(), Self::Error> {
        let _ = (engine, taken, batch);
        Ok(())
    }

    /// The marketplace side of one attempt (the scenario's faults; none by default).
    fn fault(&mut self, delivery: &Delivery) -> AttemptFault {
        let _ = delivery;
        AttemptFault::default()
    }

    /// An attempt completed; the engine already took its judgement.
    fn completed(&mut self, engine: &Marketplace, completed: Completed) -> Result<(), Self::Error>;

    /// An attempt's task was lost.
    fn task_lost(
        &mut self,
        engine: &Marketplace,
        delivery: &Delivery,
    ) -> Result<LostTask, Self::Error>;
}

/// Runs the engine until `until`, delivering each batch through `client`; returns the
/// deliveries the observer left pending (none unless a task was lost).
pub async fn run_until<O: Observer>(
    engine: &mut Marketplace,
    client: &Client,
    until: UnixMillis,
    observer: &mut O,
) -> Result<Vec<Delivery>, O::Error> {
    resume(engine, client, Vec::new(), until, observer).await
}

/// [`run_until`], sending `pending` — deliveries handed out earlier and never completed —
/// first.
pub async fn resume<O: Observer>(
    engine: &mut Marketplace,
    client: &Client,
    mut pending: Vec<Delivery>,
    until: UnixMillis,
    observer: &mut O,
) -> Result<Vec<Delivery>, O::Error> {
    let view = EngineView::of(engine);
    loop {
        let batch = if pending.is_empty() {
            let batch = engine.next_batch(until);
            observer.batch_taken(engine, Taken::Fresh { until }, &batch)?;
            batch
        } else {
            let batch = std::mem::take(&mut pending);
            observer.batch_taken(engine, Taken::Again, &batch)?;
            batch
        };
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let faults: Vec<AttemptFault> = batch.iter().map(|d| observer.fault(d)).collect();
        let slots = perform_batch(&view, client, &batch, &faults, observer.keeps_received()).await;
        let taken = Batch {
            deliveries: batch,
            faults,
            slots,
        };
        pending = complete_batch(engine, &view, taken, observer)?;
        if !pending.is_empty() {
            return Ok(pending);
        }
    }
}

/// A batch as performed: each delivery, its fault, and its result (none when its task was
/// lost).
struct Batch {
    deliveries: Vec<Delivery>,
    faults: Vec<AttemptFault>,
    slots: Vec<Option<Done>>,
}

/// Completes a performed batch in delivery order: each judgement goes to the engine, then
/// to the observer; a lost task is what the observer says it is. Returns the deliveries it
/// left pending.
fn complete_batch<O: Observer>(
    engine: &mut Marketplace,
    view: &EngineView,
    batch: Batch,
    observer: &mut O,
) -> Result<Vec<Delivery>, O::Error> {
    let mut pending = Vec::new();
    let Batch {
        deliveries,
        faults,
        mut slots,
    } = batch;
    for ((delivery, fault), slot) in deliveries.into_iter().zip(faults).zip(slots.iter_mut()) {
        let done = match slot.take() {
            Some(done) => done,
            None => match observer.task_lost(engine, &delivery)? {
                LostTask::Judge(transport) => lost(view, delivery, fault, transport),
                LostTask::LeavePending => {
                    pending.push(delivery);
                    continue;
                }
            },
        };
        let Done {
            performed,
            received,
        } = done;
        engine.complete(&performed.delivery, &performed.judgement);
        observer.completed(
            engine,
            Completed {
                performed,
                received,
            },
        )?;
    }
    Ok(pending)
}

/// Performs one batch concurrently: copies that must arrive together as one group, every
/// other attempt on its own task. A slot stays empty when its task was lost.
async fn perform_batch(
    view: &EngineView,
    client: &Client,
    batch: &[Delivery],
    faults: &[AttemptFault],
    keep_received: bool,
) -> Vec<Option<Done>> {
    let mut tasks = JoinSet::new();
    let mut group = Vec::new();
    for (index, (delivery, fault)) in batch.iter().zip(faults).enumerate() {
        if fault.together && !fault.fail_before_send {
            group.push((index, delivery.clone(), fault.clone()));
            continue;
        }
        let (view, client) = (view.clone(), client.clone());
        let (delivery, fault) = (delivery.clone(), fault.clone());
        tasks.spawn(async move {
            let done = perform(&view, &client, delivery, fault, keep_received).await;
            vec![(index, done)]
        });
    }
    if !group.is_empty() {
        let (view, client) = (view.clone(), client.clone());
        tasks.spawn(async move { perform_together(&view, &client, group, keep_received).await });
    }
    let mut slots: Vec<Option<Done>> = batch.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        for (index, done) in joined.into_iter().flatten() {
            slots[index] = Some(done);
        }
    }
    slots
}

/// A lost attempt judged as the observer said.
fn lost(view: &EngineView, delivery: Delivery, fault: AttemptFault, transport: Transport) -> Done {
    let mut judgement = view.judge(&delivery, &transport);
    cut::cut_judgement(&mut judgement);
    Done {
        performed: Performed {
            judgement,
            delivery,
            fault,
            url: None,
            wire: None,
            sent: None,
            facts: cut::AnswerFacts::default(),
            spread: None,
        },
        received: Some(transport),
    }
}

/// An observer that keeps every attempt and completes a lost one as broken: what tests and
/// simple drivers need.
#[derive(Debug, Default)]
pub struct Collect {
    /// Every completed attempt, in completion order.
    pub performed: Vec<Performed>,
}

impl Observer for Collect {
    type Error = std::convert::Infallible;

    fn completed(&mut self, _: &Marketplace, completed: Completed) -> Result<(), Self::Error> {
        self.performed.push(completed.performed);
        Ok(())
    }

    fn task_lost(&mut self, _: &Marketplace, _: &Delivery) -> Result<LostTask, Self::Error> {
        Ok(LostTask::Judge(broken()))
    }
}

/// What a lost task is judged as by observers that judge it at all.
pub(crate) fn broken() -> Transport {
    Transport::Broken("internal error: the attempt's task ended abnormally".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplace::{CallState, PurchaseSpec, Settings};
    use crate::protocol::{AccessKey, Protocol};

    /// A V1 purchase's first delivery, handed out by the engine.
    fn handed_out() -> (Marketplace, EngineView, Batch) {
        let mut engine = Marketplace::new(
            Settings::new(Protocol::V1, AccessKey::new("k")),
            UnixMillis(1_795_000_000_000),
            7,
        );
        engine.purchase(&PurchaseSpec::default());
        let until = engine.now();
        let deliveries = engine.next_batch(until);
        assert_eq!(deliveries.len(), 1);
        let view = EngineView::of(&engine);
        let batch = Batch {
            faults: vec![AttemptFault::default()],
            slots: vec![None],
            deliveries,
        };
        (engine, view, batch)
    }

    /// Leaves every lost task pending, as the console does.
    struct LeaveIt(usize);

    impl Observer for LeaveIt {
        type Error = std::convert::Infallible;

        fn completed(&mut self, _: &Marketplace, _: Completed) -> Result<(), Self::Error> {
            self.0 += 1;
            Ok(())
        }

        fn task_lost(&mut self, _: &Marketplace, _: &Delivery) -> Result<LostTask, Self::Error> {
            Ok(LostTask::LeavePending)
        }
    }

    #[test]
    fn a_lost_task_judged_broken_completes_the_attempt_as_a_failure() {
        let (mut engine, view, batch) = handed_out();
        let call = batch.deliveries[0].call;
        let mut collect = Collect::default();
        let Ok(pending) = complete_batch(&mut engine, &view, batch, &mut collect);
        assert!(pending.is_empty());
        assert_eq!(collect.performed.len(), 1);
        assert!(!collect.performed[0].judgement.accepted());
        // The call is not lost either: its retry is scheduled.
        assert_eq!(engine.call(call).state, CallState::Scheduled);
        assert_eq!(engine.call(call).attempts.len(), 1);
        assert!(engine.next_due().is_some());
    }

    #[test]
    fn a_lost_task_left_pending_is_handed_back_and_the_engine_keeps_waiting() {
        let (mut engine, view, batch) = handed_out();
        let delivery = batch.deliveries[0].clone();
        let mut leave = LeaveIt(0);
        let Ok(pending) = complete_batch(&mut engine, &view, batch, &mut leave);
        assert_eq!(pending, vec![delivery.clone()]);
        assert_eq!(leave.0, 0, "nothing completed");
        assert!(
            engine.call(delivery.call).attempts[0].result
                == crate::marketplace::engine::AttemptResult::Pending,
            "the attempt is still in flight for the engine"
        );
    }
}
