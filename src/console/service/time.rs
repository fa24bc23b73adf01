//! The console's clock, moved by the test-clock controls, and the tick that follows it:
//! everything due is performed, then the dial tests whose slot passed.
//!
//! A clock control settles every product and waits for each (a hanging merchant holds it up
//! for as long as its timeout); the wall-clock tick never waits for a busy product: each
//! product is ticked on its own task, and one already busy is left to whoever holds it.

use std::sync::Arc;

use futures_util::future::join_all;

use crate::console::live::Live;
use crate::console::service::dial::{DIAL_CATCH_UP, DIAL_INTERVAL_MS};
use crate::console::service::{ConsoleError, ProductLock, Service};
use crate::console::vocab::DialReason;
use crate::protocol::UnixMillis;
use crate::transport::wire;

impl Service {
    /// Moves the clock forward by `by` ms and performs what falls due, product by product.
    pub(crate) async fn advance(&self, by: i64) -> Result<(), ConsoleError> {
        self.move_clock(|clock| clock.advance(by))?;
        self.catch_up().await
    }

    /// Jumps the clock to the next scheduled delivery, expiry or dial test.
    pub(crate) async fn next_event(&self) -> Result<Option<UnixMillis>, ConsoleError> {
        let mut next: Option<UnixMillis> = None;
        for lock in self.locks() {
            let mut live = lock.lock().await;
            if let Some(due) = live.engine.next_due() {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        let has_cases = self
            .product_ids()
            .into_iter()
            .any(|p| self.writer().debug_cases(p).is_ok_and(|c| !c.is_empty()));
        if has_cases {
            let dial = UnixMillis(*self.next_dial.lock().await);
            next = Some(next.map_or(dial, |n| n.min(dial)));
        }
        if let Some(to) = next {
            self.move_clock(|clock| clock.advance_to(to, wire::wall_clock()))?;
            self.catch_up().await?;
        }
        Ok(next)
    }

    /// Freezes or thaws the clock.
    pub(crate) fn set_frozen(&self, frozen: bool) -> Result<(), ConsoleError> {
        self.move_clock(|clock| clock.set_frozen(frozen, wire::wall_clock()))
    }

    fn move_clock(
        &self,
        change: impl FnOnce(&mut crate::console::clock::ConsoleClock),
    ) -> Result<(), ConsoleError> {
        let text = {
            let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
            change(&mut clock);
            serde_json::to_string(&*clock).unwrap_or_default()
        };
        self.writer().set_meta("clock", &text)?;
        Ok(())
    }

    fn locks(&self) -> Vec<ProductLock> {
        self.products_read().values().cloned().collect()
    }

    /// Brings every product up to now, waiting for each, then runs the dial tests that fell
    /// due.
    async fn catch_up(&self) -> Result<(), ConsoleError> {
        let settled = join_all(self.locks().into_iter().map(|lock| async move {
            let mut live = lock.lock().await;
            self.settle_if_due(&mut live).await
        }))
        .await;
        settled.into_iter().collect::<Result<(), _>>()?;
        let slots = self.take_dial_slots().await?;
        let dialled = join_all(self.locks().into_iter().map(|lock| {
            let slots = slots.clone();
            async move {
                let mut live = lock.lock().await;
                self.dial(&mut live, &slots).await
            }
        }))
        .await;
        dialled.into_iter().collect()
    }

    /// The wall-clock tick: each product on its own task, so that a merchant that hangs holds
    /// up only its own product. A busy product is skipped (whoever holds it settles it); a
    /// product with a dial test due waits for its turn on its own task. Each task logs its
    /// own failure; the handles are returned for whoever wants to wait.
    pub async fn tick(
        self: &Arc<Self>,
    ) -> Result<Vec<tokio::task::JoinHandle<Result<(), ConsoleError>>>, ConsoleError> {
        let slots = Arc::new(self.take_dial_slots().await?);
        let mut tasks = Vec::new();
        for lock in self.locks() {
            let (service, slots) = (self.clone(), slots.clone());
            tasks.push(tokio::spawn(async move {
                let mut live = if slots.is_empty() {
                    match lock.try_lock_owned() {
                        Ok(live) => live,
                        Err(_) => return Ok(()),
                    }
                } else {
                    lock.lock_owned().await
                };
                let ticked = match service.settle_if_due(&mut live).await {
                    Ok(()) => service.dial(&mut live, &slots).await,
                    Err(error) => Err(error),
                };
                if let Err(error) = &ticked {
                    tracing::error!(product = live.id(), %error, "tick");
                }
                ticked
            }));
        }
        Ok(tasks)
    }

    /// Settles a product when something of it fell due by now, or was left in flight: a
    /// second in which nothing happens writes no journal entry.
    async fn settle_if_due(&self, live: &mut Live) -> Result<(), ConsoleError> {
        let now = self.now();
        let due = !live.pending.is_empty() || live.engine.next_due().is_some_and(|due| due <= now);
        if due {
            self.settle(live).await?;
        }
        Ok(())
    }

    /// The dial slots that passed since the last tick (at most [`DIAL_CATCH_UP`] of them),
    /// taken once: the schedule moves on at once.
    async fn take_dial_slots(&self) -> Result<Vec<UnixMillis>, ConsoleError> {
        let mut next = self.next_dial.lock().await;
        let now = self.now().0;
        let mut slots = Vec::new();
        while *next <= now {
            slots.push(UnixMillis(*next));
            *next += DIAL_INTERVAL_MS;
        }
        if !slots.is_empty() {
            self.writer().set_meta("dial.next", &next.to_string())?;
        }
        let skip = slots.len().saturating_sub(DIAL_CATCH_UP);
        Ok(slots.split_off(skip))
    }

    /// Runs a product's dial tests for the slots given, when it has saved cases.
    async fn dial(&self, live: &mut Live, slots: &[UnixMillis]) -> Result<(), ConsoleError> {
        if slots.is_empty() || self.writer().debug_cases(live.id())?.is_empty() {
            return Ok(());
        }
        for slot in slots {
            self.replay_cases_of(live, DialReason::Dial, Some(*slot))
                .await?;
        }
        Ok(())
    }
}
