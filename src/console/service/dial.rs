//! The debug page and the dial tests: one case signed and shown as curl (生成请求命令), sent
//! and saved (调测并保存用例); every saved case replayed twice a day and after a product edit,
//! and the rule that freezes trading after five failing days.

use crate::console::journal::Entry;
use crate::console::service::{AttemptOutcome, ConsoleError, Service};
use crate::marketplace::CallState;
use crate::protocol::UnixMillis;
use crate::transport::wire::{self, Wire};

/// How far apart the scheduled dial tests run: the platform replays saved cases twice a day.
pub(super) const DIAL_INTERVAL_MS: i64 = 12 * 3_600_000;
/// Consecutive days of failed dial tests after which trading is frozen and the product hidden.
const DIAL_FREEZE_DAYS: usize = 5;
/// Missed dial slots run after a jump of the clock, at most (ten days' worth).
pub(super) const DIAL_CATCH_UP: usize = 20;

/// A debug case's result: what was sent and how it was judged.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DebugOutcome {
    /// The signed request, as a curl command.
    pub curl: String,
    /// How the attempt ended.
    pub outcome: Option<AttemptOutcome>,
    /// The saved case's id, when saved.
    pub case_id: Option<i64>,
}

/// A replay of every saved case.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DialOutcome {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Whether the product's trading is frozen after it.
    pub trading_frozen: bool,
}

impl Service {
    /// The debug page: one case of an interface, signed and shown as curl; sent and judged
    /// when `send`, and saved as a dial-test case when `save`.
    pub async fn debug(
        &mut self,
        product: i64,
        activity: &str,
        variant: usize,
        send: bool,
        save: bool,
    ) -> Result<DebugOutcome, ConsoleError> {
        if !send {
            return self.preview(product, activity, variant);
        }
        self.settle(product).await?;
        let entry = Entry::DebugCase {
            activity: activity.to_owned(),
            variant,
            replay: false,
        };
        let applied = self.record(product, &entry, &[])?;
        let performed = self.settle_performed(product).await?;
        let call = applied.calls.first().copied();
        let mine = performed
            .iter()
            .find(|(p, _)| Some(p.delivery.call) == call);
        let curl = mine
            .and_then(|(p, _)| Some(curl(p.url.as_deref()?, p.wire.as_ref()?)))
            .unwrap_or_default();
        let outcome = mine.map(|(_, o)| o.clone());
        let case_id = if save {
            let verdict = outcome.as_ref().map_or("rejected", |o| o.verdict.as_str());
            Some(self.writer.save_debug_case(
                product,
                activity,
                variant as i64,
                self.now().0,
                verdict,
            )?)
        } else {
            None
        };
        Ok(DebugOutcome {
            curl,
            outcome,
            case_id,
        })
    }

    /// "生成请求命令": the signed request of a case, without sending it.
    fn preview(
        &self,
        product: i64,
        activity: &str,
        variant: usize,
    ) -> Result<DebugOutcome, ConsoleError> {
        let live = self.live(product)?;
        let parsed = activity
            .parse()
            .map_err(|_| ConsoleError::Invalid(format!("unknown interface {activity}")))?;
        let mut ids = crate::marketplace::ids::Ids::new(rand::random());
        let request = crate::marketplace::requests::debug_request(
            live.engine.settings(),
            &mut ids,
            parsed,
            variant,
            self.now(),
        )
        .ok_or_else(|| {
            ConsoleError::Invalid(format!(
                "{activity} has no debug case {variant} in this protocol"
            ))
        })?;
        let key = live.engine.settings().key_for(parsed.interface_type());
        let wire = wire::sign_now(&request, key, &wire::Edit::default(), None);
        Ok(DebugOutcome {
            curl: curl(&live.client.url_of(&wire), &wire),
            outcome: None,
            case_id: None,
        })
    }

    /// Replays every saved case of a product: a scheduled dial test (`dial`) or the check
    /// the platform runs after a product edit (`replay`, "replay all").
    pub async fn replay_cases(
        &mut self,
        product: i64,
        reason: &str,
        at: UnixMillis,
    ) -> Result<DialOutcome, ConsoleError> {
        self.settle(product).await?;
        let cases = self.writer.debug_cases(product)?;
        let mut calls = Vec::new();
        for (case, activity, variant) in &cases {
            let entry = Entry::DebugCase {
                activity: activity.clone(),
                variant: *variant as usize,
                replay: true,
            };
            let applied = self.record(product, &entry, &[])?;
            calls.push((*case, applied.calls.first().copied()));
        }
        self.settle(product).await?;
        let live = self.live(product)?;
        let verdicts: Vec<(i64, String)> = calls
            .into_iter()
            .map(|(case, call)| {
                let passed =
                    call.is_some_and(|c| live.engine.call(c).state == CallState::Succeeded);
                (
                    case,
                    if passed { "accepted" } else { "rejected" }.to_owned(),
                )
            })
            .collect();
        let failed = verdicts.iter().filter(|(_, v)| v != "accepted").count();
        self.writer
            .record_dial_run(product, at.0, &day_of(at), reason, &verdicts)?;
        let frozen = self.apply_dial_rule(product, reason, failed == 0)?;
        Ok(DialOutcome {
            passed: verdicts.len() - failed,
            failed,
            trading_frozen: frozen,
        })
    }

    /// Five consecutive days with a failed dial test freeze trading and hide the product; a
    /// clean replay of every case (the check after a product edit) lifts it.
    fn apply_dial_rule(
        &mut self,
        product: i64,
        reason: &str,
        clean: bool,
    ) -> Result<bool, ConsoleError> {
        let live = self.live(product)?;
        let mut frozen = live.row.trading_frozen;
        if reason == "dial" {
            let days = self.writer.dial_days(product, DIAL_FREEZE_DAYS as u32)?;
            let consecutive = days.len() == DIAL_FREEZE_DAYS
                && days.iter().all(|(_, failed)| *failed)
                && days.windows(2).all(|w| previous_day(&w[0].0) == w[1].0);
            frozen |= consecutive;
        } else if clean {
            frozen = false;
        }
        if frozen != live.row.trading_frozen {
            self.writer.set_trading_frozen(product, frozen)?;
            if let Some(live) = self.products.get_mut(&product) {
                live.row.trading_frozen = frozen;
            }
        }
        Ok(frozen)
    }
}

/// A signed request as a curl command (the debug page's "生成请求命令").
fn curl(url: &str, wire: &Wire) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut parts = vec![format!("curl -X {} {}", wire.method.as_str(), quote(url))];
    for (name, value) in &wire.headers {
        parts.push(format!("-H {}", quote(&format!("{name}: {value}"))));
    }
    if let Some(body) = &wire.body {
        parts.push(format!("-H {}", quote("Content-Type: application/json")));
        parts.push(format!("--data {}", quote(body)));
    }
    parts.join(" \\\n  ")
}

/// The next dial slot after `now`: 00:00 and 12:00 Beijing time (UTC+8).
pub(super) fn next_dial_slot(now: UnixMillis) -> i64 {
    const SHIFT: i64 = 8 * 3_600_000;
    ((now.0 + SHIFT).div_euclid(DIAL_INTERVAL_MS) + 1) * DIAL_INTERVAL_MS - SHIFT
}

/// The Beijing-time day an instant falls on, `YYYY-MM-DD`.
pub(super) fn day_of(at: UnixMillis) -> String {
    let mut day = UnixMillis(at.0 + 8 * 3_600_000).to_dashed_seconds();
    day.truncate(10);
    day
}

/// The day before a `YYYY-MM-DD` day.
fn previous_day(day: &str) -> String {
    UnixMillis::parse_compact(&format!("{}000000", day.replace('-', "")))
        .map(|t| day_of(UnixMillis(t.0 - 86_400_000 - 8 * 3_600_000)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_slots_are_midnight_and_noon_in_beijing() {
        // 2024-01-01 00:00:00 UTC is 08:00 in Beijing: the next slot is 12:00 Beijing, 04:00 UTC.
        let now = UnixMillis(1_704_067_200_000);
        assert_eq!(next_dial_slot(now), 1_704_067_200_000 + 4 * 3_600_000);
        assert_eq!(day_of(now), "2024-01-01");
        assert_eq!(day_of(UnixMillis(now.0 + 16 * 3_600_000)), "2024-01-02");
        assert_eq!(previous_day("2024-03-01"), "2024-02-29");
        assert_eq!(previous_day("2024-01-01"), "2023-12-31");
    }
}
