//! The console's clock, moved by the test-clock controls, and the tick that follows it:
//! everything due is performed, then the dial tests whose slot passed.

use crate::console::service::dial::{DIAL_CATCH_UP, DIAL_INTERVAL_MS};
use crate::console::service::{ConsoleError, Service};
use crate::protocol::UnixMillis;
use crate::transport::wire;

impl Service {
    /// Moves the clock forward by `by` ms and performs what falls due.
    pub async fn advance(&mut self, by: i64) -> Result<(), ConsoleError> {
        self.clock.advance(by);
        self.save_clock()?;
        self.tick().await
    }

    /// Jumps the clock to the next scheduled delivery, expiry or dial test.
    pub async fn next_event(&mut self) -> Result<Option<UnixMillis>, ConsoleError> {
        let mut next: Option<UnixMillis> = None;
        for live in self.products.values_mut() {
            if let Some(due) = live.engine.next_due() {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        let has_cases = self
            .products
            .keys()
            .any(|p| self.writer.debug_cases(*p).is_ok_and(|c| !c.is_empty()));
        if has_cases {
            let dial = UnixMillis(self.next_dial);
            next = Some(next.map_or(dial, |n| n.min(dial)));
        }
        if let Some(to) = next {
            self.clock.advance_to(to, wire::wall_clock());
            self.save_clock()?;
            self.tick().await?;
        }
        Ok(next)
    }

    /// Freezes or thaws the clock.
    pub fn set_frozen(&mut self, frozen: bool) -> Result<(), ConsoleError> {
        self.clock.set_frozen(frozen, wire::wall_clock());
        self.save_clock()
    }

    fn save_clock(&mut self) -> Result<(), ConsoleError> {
        let text = serde_json::to_string(&self.clock).unwrap_or_default();
        self.writer.set_meta("clock", &text)?;
        Ok(())
    }

    /// Brings every product up to now, then runs the dial tests that fell due.
    pub async fn tick(&mut self) -> Result<(), ConsoleError> {
        for product in self.product_ids() {
            if self.has_due(product) {
                self.settle(product).await?;
            }
        }
        self.record_merchant_calls()?;
        let now = self.now().0;
        let mut slots = Vec::new();
        while self.next_dial <= now {
            slots.push(self.next_dial);
            self.next_dial += DIAL_INTERVAL_MS;
        }
        self.writer
            .set_meta("dial.next", &self.next_dial.to_string())?;
        let skip = slots.len().saturating_sub(DIAL_CATCH_UP);
        for slot in slots.into_iter().skip(skip) {
            for product in self.product_ids() {
                if !self.writer.debug_cases(product)?.is_empty() {
                    self.replay_cases(product, "dial", UnixMillis(slot)).await?;
                }
            }
        }
        Ok(())
    }
}
