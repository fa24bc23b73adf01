//! The debug page and the dial tests: one case signed and shown as curl (生成请求命令), sent
//! and saved (调测并保存用例); every saved case replayed twice a day and after a product edit,
//! and the rule that freezes trading after five failing days.

use crate::console::journal::{Entry, FieldEdits};
use crate::console::live::Live;
use crate::console::service::debug_form::case_request;
use crate::console::service::{AttemptOutcome, ConsoleError, Service};
use crate::console::vocab::{AttemptVerdict, DialReason};
use crate::marketplace::CallState;
use crate::protocol::UnixMillis;
use crate::transport::wire::{self, Wire};
use jiff::civil::Date;

/// How far apart the scheduled dial tests run: the platform replays saved cases twice a day.
pub(super) const DIAL_INTERVAL_MS: i64 = 12 * 3_600_000;
/// Consecutive days of failed dial tests after which trading is frozen and the product hidden.
const DIAL_FREEZE_DAYS: usize = 5;
/// Missed dial slots run after a jump of the clock, at most (ten days' worth).
pub(super) const DIAL_CATCH_UP: usize = 20;

/// A debug case's result: what was sent and how it was judged.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DebugOutcome {
    /// The signed request, as a curl command.
    pub(crate) curl: String,
    /// How the attempt ended.
    pub(crate) outcome: Option<AttemptOutcome>,
    /// The saved case's id, when saved.
    pub(crate) case_id: Option<i64>,
}

/// A replay of every saved case.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DialOutcome {
    /// Cases that passed.
    pub(crate) passed: usize,
    /// Cases that failed.
    pub(crate) failed: usize,
    /// Whether the product's trading is frozen after it.
    pub(crate) trading_frozen: bool,
}

impl Service {
    /// The debug page: one case of an interface with the form's `edits`, signed and shown
    /// as curl; sent and judged when `send`, and saved as a dial-test case when `save`.
    pub(crate) async fn debug(
        &self,
        product: i64,
        (activity, variant): (&str, usize),
        edits: &FieldEdits,
        send: bool,
        save: bool,
    ) -> Result<DebugOutcome, ConsoleError> {
        let lock = self.product(product)?;
        let mut live = lock.lock().await;
        if !send {
            return self.preview(&live, activity, variant, edits);
        }
        self.settle(&mut live).await?;
        let entry = Entry::DebugCase {
            activity: activity.to_owned(),
            variant,
            replay: false,
            edits: edits.clone(),
        };
        let applied = self.record(&mut live, &entry, &[])?;
        let performed = self.settle_performed(&mut live).await?;
        let call = applied.calls.first().copied();
        let mine = performed
            .iter()
            .find(|(p, _)| Some(p.delivery.call) == call);
        let curl = mine
            .and_then(|(p, _)| Some(curl(p.url.as_deref()?, p.wire.as_ref()?)))
            .unwrap_or_default();
        let outcome = mine.map(|(_, o)| o.clone());
        let case_id = if save {
            let verdict = outcome
                .as_ref()
                .map_or(AttemptVerdict::Rejected, |o| o.verdict);
            Some(self.save_case(product, (activity, variant), edits, verdict)?)
        } else {
            None
        };
        Ok(DebugOutcome {
            curl,
            outcome,
            case_id,
        })
    }

    /// Saves a debug case with the form's edits and the verdict of its first send; returns
    /// its id.
    pub(super) fn save_case(
        &self,
        product: i64,
        (activity, variant): (&str, usize),
        edits: &FieldEdits,
        verdict: AttemptVerdict,
    ) -> Result<i64, ConsoleError> {
        let stored = (!edits.is_empty())
            .then(|| serde_json::to_string(edits))
            .transpose()
            .map_err(|e| ConsoleError::Encode("a debug case's edits", e))?;
        Ok(self.writer().save_debug_case(
            product,
            activity,
            variant as i64,
            stored.as_deref(),
            self.now().0,
            verdict,
        )?)
    }

    /// "生成请求命令": the signed request of a case, without sending it.
    fn preview(
        &self,
        live: &Live,
        activity: &str,
        variant: usize,
        edits: &FieldEdits,
    ) -> Result<DebugOutcome, ConsoleError> {
        let parsed: crate::protocol::Activity = activity
            .parse()
            .map_err(|_| ConsoleError::Invalid(format!("unknown interface {activity}")))?;
        let settings = live.engine.settings();
        let request = case_request(settings, parsed, variant, self.now())?;
        let key = settings.key_for(parsed.interface_type());
        let form = wire::WireForm::of(settings, live.engine.calls().len(), 1);
        let wire = wire::sign_now(&request, key, &edits.to_edit(), None, form);
        Ok(DebugOutcome {
            curl: curl(&live.client.url_of(&wire), &wire),
            outcome: None,
            case_id: None,
        })
    }

    /// Replays every saved case of a product: a scheduled dial test (`dial`) or the check
    /// the platform runs after a product edit (`replay`, "replay all").
    pub(crate) async fn replay_cases(
        &self,
        product: i64,
        reason: DialReason,
        at: Option<UnixMillis>,
    ) -> Result<DialOutcome, ConsoleError> {
        let lock = self.product(product)?;
        let mut live = lock.lock().await;
        self.replay_cases_of(&mut live, reason, at).await
    }

    /// [`Service::replay_cases`] on a product already locked; `at` defaults to now.
    pub(super) async fn replay_cases_of(
        &self,
        live: &mut Live,
        reason: DialReason,
        at: Option<UnixMillis>,
    ) -> Result<DialOutcome, ConsoleError> {
        self.settle(live).await?;
        let at = at.unwrap_or_else(|| self.now());
        let product = live.id();
        let cases = self.writer().debug_cases(product)?;
        let mut calls = Vec::new();
        for case in &cases {
            let entry = Entry::DebugCase {
                activity: case.activity.clone(),
                variant: case.variant as usize,
                replay: true,
                edits: case
                    .edits
                    .as_deref()
                    .and_then(|text| serde_json::from_str(text).ok())
                    .unwrap_or_default(),
            };
            let applied = self.record(live, &entry, &[])?;
            calls.push((case.id, applied.calls.first().copied()));
        }
        self.settle(live).await?;
        let verdicts: Vec<(i64, AttemptVerdict)> = calls
            .into_iter()
            .map(|(case, call)| {
                let passed =
                    call.is_some_and(|c| live.engine.call(c).state == CallState::Succeeded);
                let verdict = if passed {
                    AttemptVerdict::Accepted
                } else {
                    AttemptVerdict::Rejected
                };
                (case, verdict)
            })
            .collect();
        let failed = verdicts
            .iter()
            .filter(|(_, v)| *v != AttemptVerdict::Accepted)
            .count();
        self.writer()
            .record_dial_run(product, at.0, day_of(at), reason, &verdicts)?;
        let frozen = self.apply_dial_rule(live, reason, failed == 0)?;
        Ok(DialOutcome {
            passed: verdicts.len() - failed,
            failed,
            trading_frozen: frozen,
        })
    }

    /// Five consecutive days with a failed dial test freeze trading and hide the product; a
    /// clean replay of every case (the check after a product edit) lifts it.
    fn apply_dial_rule(
        &self,
        live: &mut Live,
        reason: DialReason,
        clean: bool,
    ) -> Result<bool, ConsoleError> {
        let product = live.id();
        let mut frozen = live.row.trading_frozen;
        if reason == DialReason::Dial {
            let days = self.writer().dial_days(product, DIAL_FREEZE_DAYS as u32)?;
            let consecutive = days.len() == DIAL_FREEZE_DAYS
                && days.iter().all(|(_, failed)| *failed)
                && days
                    .windows(2)
                    .all(|w| w[0].0.yesterday().ok() == Some(w[1].0));
            frozen |= consecutive;
        } else if clean {
            frozen = false;
        }
        if frozen != live.row.trading_frozen {
            self.writer().set_trading_frozen(product, frozen)?;
            live.row.trading_frozen = frozen;
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
        let content_type = wire.content_type.unwrap_or("application/json");
        parts.push(format!(
            "-H {}",
            quote(&format!("Content-Type: {content_type}"))
        ));
        parts.push(format!("--data {}", quote(body)));
    }
    parts.join(" \\\n  ")
}

/// The next dial slot after `now`: 00:00 and 12:00 Beijing time (UTC+8).
pub(super) fn next_dial_slot(now: UnixMillis) -> i64 {
    let midnight = UnixMillis::start_of_beijing_day(now.beijing_date());
    [0, DIAL_INTERVAL_MS, 2 * DIAL_INTERVAL_MS]
        .into_iter()
        .map(|after| midnight.0 + after)
        .find(|slot| *slot > now.0)
        .unwrap_or(midnight.0 + 2 * DIAL_INTERVAL_MS)
}

/// The Beijing-time day an instant falls on.
pub(super) fn day_of(at: UnixMillis) -> Date {
    at.beijing_date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_slots_are_midnight_and_noon_in_beijing() {
        // 2024-01-01 00:00:00 UTC is 08:00 in Beijing: the next slot is 12:00 Beijing, 04:00 UTC.
        let now = UnixMillis(1_704_067_200_000);
        assert_eq!(next_dial_slot(now), 1_704_067_200_000 + 4 * 3_600_000);
        assert_eq!(
            next_dial_slot(UnixMillis(1_704_067_200_000 + 4 * 3_600_000)),
            1_704_067_200_000 + 16 * 3_600_000,
            "a slot itself is not the next one"
        );
        assert_eq!(day_of(now), jiff::civil::date(2024, 1, 1));
        assert_eq!(
            day_of(UnixMillis(now.0 + 16 * 3_600_000)),
            jiff::civil::date(2024, 1, 2)
        );
    }
}
