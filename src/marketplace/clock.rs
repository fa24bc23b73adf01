//! Virtual time: a span type for durations, and a timer queue that hands back what falls due
//! in order.
//!
//! Business time (expiry, retries, grace and retention) follows this clock; it is anchored at
//! the wall-clock start of a run and only moves when the runner advances it, so three hours
//! of retries play out in microseconds. Signing time is not kept here: the runner stamps
//! `timeStamp`/`timestamp` with the wall clock when it sends.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::fmt;
use std::str::FromStr;

use crate::protocol::UnixMillis;

/// A duration in milliseconds of virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub i64);

impl Span {
    /// Zero.
    pub const ZERO: Span = Span(0);

    /// `n` seconds.
    pub const fn seconds(n: i64) -> Self {
        Self(n * 1000)
    }

    /// `n` minutes.
    pub(crate) const fn minutes(n: i64) -> Self {
        Self(n * 60_000)
    }

    /// `n` hours.
    pub const fn hours(n: i64) -> Self {
        Self(n * 3_600_000)
    }

    /// `n` days.
    pub const fn days(n: i64) -> Self {
        Self(n * 86_400_000)
    }

    /// The span in milliseconds.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// The span between two instants (`to − from`).
    pub fn between(from: UnixMillis, to: UnixMillis) -> Self {
        Self(to.0 - from.0)
    }
}

impl fmt::Display for Span {
    /// The largest whole units, e.g. `2h`, `1d3h`, `90s`, `250ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        let mut rest = self.0.unsigned_abs();
        let mut text = String::new();
        for (unit, ms) in [
            ("d", 86_400_000u64),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
            ("ms", 1),
        ] {
            if rest >= ms {
                text.push_str(&format!("{}{unit}", rest / ms));
                rest %= ms;
            }
        }
        write!(f, "{sign}{text}")
    }
}

/// Where a run's business time starts: the wall clock, moved back to the 28th when it is later
/// in the month, so that calendar periods counted from it never clamp (31 Jan + 1 month is
/// 28 Feb, + 1 more is 28 Mar, not 31 Mar) and transcripts read the same whatever the date.
pub(crate) fn business_start(wall: UnixMillis) -> UnixMillis {
    let day = i64::from(wall.utc_day_of_month());
    if day <= 28 {
        wall
    } else {
        wall.plus_ms(-(day - 28) * 86_400_000)
    }
}

/// How long after `start` an instant is, in calendar terms: whole months first, then the
/// remaining span (`+1mo15d`, `+3h`, `+0s`). Stable whatever month a run starts in, unlike a
/// count of days, so transcripts of runs on different dates read the same.
pub(crate) fn since(start: UnixMillis, at: UnixMillis) -> String {
    if at < start {
        return format!("-{}", Span::between(at, start));
    }
    let mut months = 0;
    while start.plus_months(months + 1) <= at {
        months += 1;
    }
    let rest = Span::between(start.plus_months(months), at);
    match (months, rest.0) {
        (0, _) => format!("+{rest}"),
        (m, 0) => format!("+{m}mo"),
        (m, _) => format!("+{m}mo{rest}"),
    }
}

/// Not a duration such as `3h`, `30m`, `15d`, `1d12h`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a duration such as 3h, 30m, 90s, 15d or 1d12h")]
pub struct InvalidSpan(pub String);

impl FromStr for Span {
    type Err = InvalidSpan;

    /// Parses concatenated `<n><unit>` groups with units `ms`, `s`, `m`, `h`, `d`, `w`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || InvalidSpan(s.to_owned());
        let text = s.trim();
        if text.is_empty() {
            return Err(error());
        }
        let mut total: i64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(error)?;
            if digits == 0 {
                return Err(error());
            }
            let n: i64 = rest[..digits].parse().map_err(|_| error())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let ms = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 7 * 86_400_000,
                _ => return Err(error()),
            };
            total = n
                .checked_mul(ms)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(error)?;
            rest = &rest[unit_len..];
        }
        Ok(Self(total))
    }
}

/// A handle to a scheduled timer, to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TimerId(u64);

/// Timers ordered by due time; ties fall due in the order they were scheduled.
#[derive(Debug)]
pub(crate) struct TimerQueue<T> {
    heap: BinaryHeap<Reverse<(UnixMillis, TimerId)>>,
    payloads: std::collections::BTreeMap<TimerId, T>,
    cancelled: BTreeSet<TimerId>,
    next: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            payloads: Default::default(),
            cancelled: BTreeSet::new(),
            next: 0,
        }
    }
}

impl<T> TimerQueue<T> {
    /// Schedules `payload` at `due`.
    pub(crate) fn schedule(&mut self, due: UnixMillis, payload: T) -> TimerId {
        let id = TimerId(self.next);
        self.next += 1;
        self.heap.push(Reverse((due, id)));
        self.payloads.insert(id, payload);
        id
    }

    /// Cancels a timer; cancelling one that already fired does nothing.
    pub(crate) fn cancel(&mut self, id: TimerId) {
        if self.payloads.remove(&id).is_some() {
            self.cancelled.insert(id);
        }
    }

    /// The due time of the earliest live timer.
    pub(crate) fn next_due(&mut self) -> Option<UnixMillis> {
        self.skip_cancelled();
        self.heap.peek().map(|Reverse((due, _))| *due)
    }

    /// Removes and returns the earliest live timer if it is due at or before `until`.
    pub(crate) fn pop_due(&mut self, until: UnixMillis) -> Option<(UnixMillis, T)> {
        self.skip_cancelled();
        let Reverse((due, id)) = *self.heap.peek()?;
        if due > until {
            return None;
        }
        self.heap.pop();
        self.payloads.remove(&id).map(|payload| (due, payload))
    }

    /// Whether no live timer remains.
    #[cfg(test)]
    pub(crate) fn is_empty(&mut self) -> bool {
        self.next_due().is_none()
    }

    fn skip_cancelled(&mut self) {
        while let Some(Reverse((_, id))) = self.heap.peek() {
            if self.cancelled.remove(id) {
                self.heap.pop();
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_and_print() {
        assert_eq!("3h".parse(), Ok(Span::hours(3)));
        assert_eq!("1d12h".parse(), Ok(Span(36 * 3_600_000)));
        assert_eq!("250ms".parse(), Ok(Span(250)));
        assert_eq!("2w".parse(), Ok(Span::days(14)));
        for bad in ["", "h", "3", "3x", "-1h", "1.5h"] {
            assert!(bad.parse::<Span>().is_err(), "{bad}");
        }
        assert_eq!(Span(36 * 3_600_000 + 1500).to_string(), "1d12h1s500ms");
        assert_eq!(Span::ZERO.to_string(), "0s");
        assert_eq!(Span::hours(-2).to_string(), "-2h");
    }

    #[test]
    fn business_time_never_starts_after_the_28th() {
        let at = |text: &str| UnixMillis::parse_compact(text).unwrap();
        assert_eq!(
            business_start(at("20260115093000123")),
            at("20260115093000123")
        );
        assert_eq!(
            business_start(at("20260128235959999")),
            at("20260128235959999")
        );
        assert_eq!(
            business_start(at("20260131101010000")),
            at("20260128101010000")
        );
        assert_eq!(
            business_start(at("20260330000000000")),
            at("20260328000000000")
        );
    }

    #[test]
    fn since_counts_calendar_months_first() {
        let jan31 = UnixMillis::parse_compact("20260131000000").unwrap();
        assert_eq!(since(jan31, jan31), "+0s");
        assert_eq!(since(jan31, jan31.plus_ms(Span::hours(3).0)), "+3h");
        assert_eq!(since(jan31, jan31.plus_months(1)), "+1mo");
        assert_eq!(
            since(jan31, jan31.plus_months(1).plus_ms(Span::days(15).0)),
            "+1mo15d"
        );
        assert_eq!(since(jan31, jan31.plus_months(14)), "+14mo");
        assert_eq!(since(jan31.plus_ms(1000), jan31), "-1s");
    }

    #[test]
    fn timers_fall_due_in_time_order_with_ties_in_schedule_order() {
        let mut queue = TimerQueue::default();
        queue.schedule(UnixMillis(30), "c");
        queue.schedule(UnixMillis(10), "a");
        queue.schedule(UnixMillis(30), "d");
        queue.schedule(UnixMillis(20), "b");
        assert_eq!(queue.pop_due(UnixMillis(5)), None);
        let mut fired = vec![];
        while let Some((at, what)) = queue.pop_due(UnixMillis(100)) {
            fired.push((at.0, what));
        }
        assert_eq!(fired, vec![(10, "a"), (20, "b"), (30, "c"), (30, "d")]);
        assert!(queue.is_empty());
    }

    #[test]
    fn cancelled_timers_never_fire() {
        let mut queue = TimerQueue::default();
        let a = queue.schedule(UnixMillis(10), "a");
        queue.schedule(UnixMillis(20), "b");
        queue.cancel(a);
        queue.cancel(a);
        assert_eq!(queue.next_due(), Some(UnixMillis(20)));
        assert_eq!(queue.pop_due(UnixMillis(100)), Some((UnixMillis(20), "b")));
        assert_eq!(queue.pop_due(UnixMillis(100)), None);
    }
}
