//! The console's clock: wall time by default — retries really come hourly — with test-clock
//! controls, as Stripe's test clocks have them: advance by a duration, jump to the next
//! scheduled event, freeze and thaw. The clock is an offset from wall time (or a frozen
//! instant), kept in the database so a restart resumes at the same virtual time.

use crate::protocol::UnixMillis;

/// The console's notion of now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ConsoleClock {
    /// Added to wall time.
    pub(crate) offset_ms: i64,
    /// When frozen, the instant it stands at.
    pub(crate) frozen_at: Option<i64>,
}

impl ConsoleClock {
    /// Now, given the wall time.
    pub(crate) fn now(&self, wall: UnixMillis) -> UnixMillis {
        match self.frozen_at {
            Some(at) => UnixMillis(at),
            None => UnixMillis(wall.0.saturating_add(self.offset_ms)),
        }
    }

    /// Moves the clock forward (never back) by `by` milliseconds.
    pub(crate) fn advance(&mut self, by: i64) {
        let by = by.max(0);
        match &mut self.frozen_at {
            Some(at) => *at = at.saturating_add(by),
            None => self.offset_ms = self.offset_ms.saturating_add(by),
        }
    }

    /// Moves the clock forward to `to` (nothing when `to` is already past).
    pub(crate) fn advance_to(&mut self, to: UnixMillis, wall: UnixMillis) {
        let by = to.0.saturating_sub(self.now(wall).0);
        self.advance(by);
    }

    /// Stops the clock at the current instant, or lets it run on from there.
    pub(crate) fn set_frozen(&mut self, frozen: bool, wall: UnixMillis) {
        let now = self.now(wall);
        if frozen {
            self.frozen_at = Some(now.0);
        } else if let Some(at) = self.frozen_at.take() {
            self.offset_ms = at - wall.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WALL: UnixMillis = UnixMillis(1_700_000_000_000);

    #[test]
    fn runs_with_wall_time_and_advances_by_an_offset() {
        let mut clock = ConsoleClock::default();
        assert_eq!(clock.now(WALL), WALL);
        clock.advance(3_600_000);
        assert_eq!(clock.now(WALL.plus_ms(10)), WALL.plus_ms(3_600_010));
        clock.advance(-5);
        assert_eq!(clock.now(WALL), WALL.plus_ms(3_600_000), "never goes back");
    }

    #[test]
    fn a_frozen_clock_stands_still_until_thawed_and_resumes_where_it_stood() {
        let mut clock = ConsoleClock::default();
        clock.set_frozen(true, WALL);
        assert_eq!(clock.now(WALL.plus_ms(60_000)), WALL);
        clock.advance(1000);
        assert_eq!(clock.now(WALL.plus_ms(60_000)), WALL.plus_ms(1000));
        clock.set_frozen(false, WALL.plus_ms(60_000));
        assert_eq!(clock.now(WALL.plus_ms(60_000)), WALL.plus_ms(1000));
        assert_eq!(clock.now(WALL.plus_ms(61_000)), WALL.plus_ms(2000));
        clock.advance_to(WALL.plus_ms(500), WALL.plus_ms(61_000));
        assert_eq!(clock.now(WALL.plus_ms(61_000)), WALL.plus_ms(2000));
    }
}
