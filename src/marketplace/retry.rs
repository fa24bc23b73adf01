//! Retry policies: how often the marketplace calls again after a failed attempt, for how
//! long, and what happens when the window closes — one table, every default cited.
//!
//! | protocol | activity | cadence | window | when exhausted | source |
//! |---|---|---|---|---|---|
//! | V1, V2 | newInstance | hourly | 3 h | order failed and refunded | V1 §6 ("每小时1次" for 3 h); V2 §2.10 assumes the same [I:retry-new-instance] |
//! | V1, V2 | upgrade / upgradeInstance | hourly | 3 h | upgrade order failed and refunded | V1 §6; V2 §8.5 [I:retry-v2-upgrade] |
//! | V1 | refreshInstance, expireInstance, releaseInstance | hourly | 1 h | stop; manual restart | V1 §6 (window 1 h; the cadence is not given, hourly is the only one documented [I:retry-v1-cadence]) |
//! | V1 | instanceStatus | hourly | 1 h | stop; manual restart | not documented (V1 §11 q2); as its siblings [I:retry-v1-instance-status] |
//! | V2 | refreshInstance, updateInstanceStatus, releaseInstance | every 2 min | 2 h | stop; manual restart | unknown for V2 (§10 q1); the spec suggests the online-License values [I:retry-v2-notices] |
//! | V1, V2 | queryInstance, changeInstanceCheck | none | – | – | synchronous reads/checks (V1 §6, V2 §2.7) |
//! | V2 | queryInstance after newInstance | every 2 min | 3 h | provisioning order failed and refunded | polled "until success", interval not documented (V2 §2.2, §10 q9) [I:retry-provisioning-poll] |
//! | V2 | refreshLicenseCode, updateLicenseCodeStatus, releaseLicenseCode | every 2 min | 2 h (60 retries) | stop; manual re-call | §4.2, §8.5 |
//! | V2 online License | newInstance | every 2 min | 2 h | order failed and refunded | §4.5 (the same paragraph also says 3 h, §9 item 4: a `[retry.new-instance]` setting) |
//! | V2 online License | refreshInstance, updateInstanceStatus, releaseInstance, getLicenseAsync | every 2 min | 2 h | stop; manual restart | §4.5, §8.5 (getLicenseAsync: as its siblings [I:online-license-retries]) |
//! | V2 | orderNotify | every 10 min | 3 h | stop; manual restart | §5 ("continuously for 3 hours"; the interval is not given [I:retry-order-notify]) |
//! | V2 | the five Kit syncs | none | – | the buyer or admin decides whether to retry | §3, §8.5 |
//!
//! Attempt `k` (from 0) is due `k × cadence` after the first; an attempt is made while that
//! offset is within the window, so an hourly 3 h policy makes attempts at +0, +1, +2 and
//! +3 h and gives up after the fourth fails.

use std::collections::BTreeMap;

use crate::marketplace::clock::Span;
use crate::marketplace::kind::ProductType;
use crate::protocol::{Activity, Protocol};

/// What the marketplace does once every attempt in the window has failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhaustion {
    /// The order is judged failed and refunded (newInstance, upgrade).
    FailOrderAndRefund,
    /// The call is marked failed and waits for a manual restart from the seller console.
    Stop,
}

/// One activity's retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Time between attempts.
    pub(crate) cadence: Span,
    /// How long after the first attempt retries continue (zero: a single attempt).
    pub(crate) window: Span,
    /// What happens when the window closes.
    pub(crate) on_exhausted: Exhaustion,
}

impl RetryPolicy {
    /// A single attempt, never retried.
    pub(crate) const ONCE: RetryPolicy = RetryPolicy {
        cadence: Span::ZERO,
        window: Span::ZERO,
        on_exhausted: Exhaustion::Stop,
    };

    const fn hourly(hours: i64, on_exhausted: Exhaustion) -> Self {
        Self {
            cadence: Span::hours(1),
            window: Span::hours(hours),
            on_exhausted,
        }
    }

    /// The offset from the first attempt at which attempt `next` (0-based) is due, or `None`
    /// when it would fall outside the window.
    pub(crate) fn offset_of(&self, next: u32) -> Option<Span> {
        if next == 0 {
            return Some(Span::ZERO);
        }
        if self.cadence.0 <= 0 {
            return None;
        }
        let offset = Span(self.cadence.0 * i64::from(next));
        (offset <= self.window).then_some(offset)
    }

    /// How many attempts the policy allows.
    #[cfg(test)]
    pub(crate) fn max_attempts(&self) -> u32 {
        if self.cadence.0 <= 0 {
            1
        } else {
            (self.window.0 / self.cadence.0) as u32 + 1
        }
    }
}

/// Which follow-up a retried call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Purpose {
    /// The activity's own notification.
    Notify(Activity),
    /// V2: polling queryInstance after newInstance answered 000000 or 000004.
    ProvisioningPoll,
}

/// Every retry policy of one protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RetryTable {
    policies: BTreeMap<Purpose, RetryPolicy>,
}

impl RetryTable {
    /// The documented (or, where marked, inferred) defaults for a protocol.
    pub(crate) fn defaults(protocol: Protocol) -> Self {
        use Activity::*;
        use Exhaustion::*;
        let every_two_minutes = |hours| RetryPolicy {
            cadence: Span::minutes(2),
            window: Span::hours(hours),
            on_exhausted: Stop,
        };
        let mut policies = BTreeMap::new();
        policies.insert(
            Purpose::Notify(NewInstance),
            RetryPolicy::hourly(3, FailOrderAndRefund),
        );
        policies.insert(
            Purpose::Notify(Upgrade),
            RetryPolicy::hourly(3, FailOrderAndRefund),
        );
        policies.insert(Purpose::Notify(QueryInstance), RetryPolicy::ONCE);
        policies.insert(Purpose::Notify(ChangeInstanceCheck), RetryPolicy::ONCE);
        match protocol {
            Protocol::V1 => {
                for activity in [
                    RefreshInstance,
                    ExpireInstance,
                    ReleaseInstance,
                    InstanceStatus,
                ] {
                    policies.insert(Purpose::Notify(activity), RetryPolicy::hourly(1, Stop));
                }
            }
            Protocol::V2 => {
                for activity in [RefreshInstance, ReleaseInstance, InstanceStatus] {
                    policies.insert(Purpose::Notify(activity), every_two_minutes(2));
                }
                policies.insert(
                    Purpose::ProvisioningPoll,
                    RetryPolicy {
                        cadence: Span::minutes(2),
                        window: Span::hours(3),
                        on_exhausted: FailOrderAndRefund,
                    },
                );
                // "云商店会持续调用60次(每2分钟1次)后停止调用" (spec V2 §4.2): 60 calls in all,
                // the first included, so the last goes out 118 minutes after the first
                // [I:license-code-retries].
                for activity in [
                    RefreshLicenseCode,
                    UpdateLicenseCodeStatus,
                    ReleaseLicenseCode,
                ] {
                    let sixty_calls = RetryPolicy {
                        window: Span::minutes(118),
                        ..every_two_minutes(2)
                    };
                    policies.insert(Purpose::Notify(activity), sixty_calls);
                }
                // getLicenseAsync: not stated; the online License's other notices' 2 h × 2 min
                // [I:online-license-retries].
                policies.insert(Purpose::Notify(GetLicenseAsync), every_two_minutes(2));
                policies.insert(
                    Purpose::Notify(OrderNotify),
                    RetryPolicy {
                        cadence: Span::minutes(10),
                        window: Span::hours(3),
                        on_exhausted: Stop,
                    },
                );
            }
        }
        Self { policies }
    }

    /// The defaults for a protocol and product type: an online-License purchase is retried
    /// every 2 minutes for 2 hours, then refunded (§4.5).
    pub(crate) fn for_product(protocol: Protocol, product: ProductType) -> Self {
        let mut table = Self::defaults(protocol);
        if product == ProductType::OnlineLicense {
            table.set(
                Purpose::Notify(Activity::NewInstance),
                RetryPolicy {
                    cadence: Span::minutes(2),
                    window: Span::hours(2),
                    on_exhausted: Exhaustion::FailOrderAndRefund,
                },
            );
        }
        table
    }

    /// The policy for a purpose (a single attempt when the table has none).
    pub(crate) fn policy(&self, purpose: Purpose) -> RetryPolicy {
        self.policies
            .get(&purpose)
            .copied()
            .unwrap_or(RetryPolicy::ONCE)
    }

    /// Replaces one policy (profiles override the defaults).
    pub(crate) fn set(&mut self, purpose: Purpose, policy: RetryPolicy) {
        self.policies.insert(purpose, policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_instance_is_retried_hourly_for_three_hours_then_refunded() {
        for protocol in Protocol::ALL.iter().copied() {
            let policy =
                RetryTable::defaults(protocol).policy(Purpose::Notify(Activity::NewInstance));
            let offsets: Vec<_> = (0..6).map_while(|k| policy.offset_of(k)).collect();
            assert_eq!(
                offsets,
                vec![Span::ZERO, Span::hours(1), Span::hours(2), Span::hours(3)]
            );
            assert_eq!(policy.max_attempts(), 4);
            assert_eq!(policy.on_exhausted, Exhaustion::FailOrderAndRefund);
        }
    }

    #[test]
    fn upgrade_fails_the_upgrade_order_after_three_hours() {
        let policy = RetryTable::defaults(Protocol::V2).policy(Purpose::Notify(Activity::Upgrade));
        assert_eq!(
            (policy.window, policy.on_exhausted),
            (Span::hours(3), Exhaustion::FailOrderAndRefund)
        );
    }

    #[test]
    fn v1_renew_expire_release_status_stop_after_one_hour() {
        let table = RetryTable::defaults(Protocol::V1);
        for activity in [
            Activity::RefreshInstance,
            Activity::ExpireInstance,
            Activity::ReleaseInstance,
            Activity::InstanceStatus,
        ] {
            let policy = table.policy(Purpose::Notify(activity));
            assert_eq!(policy.max_attempts(), 2, "{activity:?}");
            assert_eq!(policy.offset_of(1), Some(Span::hours(1)));
            assert_eq!(policy.on_exhausted, Exhaustion::Stop);
        }
    }

    #[test]
    fn v2_updates_retry_every_two_minutes_for_two_hours() {
        let table = RetryTable::defaults(Protocol::V2);
        for activity in [
            Activity::RefreshInstance,
            Activity::InstanceStatus,
            Activity::ReleaseInstance,
        ] {
            let policy = table.policy(Purpose::Notify(activity));
            assert_eq!(policy.max_attempts(), 61, "{activity:?}");
            assert_eq!(policy.offset_of(60), Some(Span::hours(2)));
            assert_eq!(policy.offset_of(61), None);
        }
        let poll = table.policy(Purpose::ProvisioningPoll);
        assert_eq!(
            (poll.cadence, poll.window),
            (Span::minutes(2), Span::hours(3))
        );
    }

    #[test]
    fn license_notices_sixty_retries_kit_none_notify_three_hours() {
        let table = RetryTable::defaults(Protocol::V2);
        let code = table.policy(Purpose::Notify(Activity::RefreshLicenseCode));
        assert_eq!(code.max_attempts(), 60, "60 calls in all, every 2 minutes");
        assert_eq!(code.offset_of(59), Some(Span::minutes(118)));
        assert_eq!(code.offset_of(60), None);
        for kit in Activity::KIT {
            assert_eq!(table.policy(Purpose::Notify(kit)), RetryPolicy::ONCE);
        }
        let notify = table.policy(Purpose::Notify(Activity::OrderNotify));
        assert_eq!(
            (notify.window, notify.on_exhausted),
            (Span::hours(3), Exhaustion::Stop)
        );
        let online = RetryTable::for_product(Protocol::V2, ProductType::OnlineLicense)
            .policy(Purpose::Notify(Activity::NewInstance));
        assert_eq!(
            (online.cadence, online.window, online.on_exhausted),
            (
                Span::minutes(2),
                Span::hours(2),
                Exhaustion::FailOrderAndRefund
            )
        );
    }

    #[test]
    fn reads_and_checks_are_not_retried() {
        for protocol in Protocol::ALL.iter().copied() {
            let table = RetryTable::defaults(protocol);
            for activity in [Activity::QueryInstance, Activity::ChangeInstanceCheck] {
                assert_eq!(table.policy(Purpose::Notify(activity)), RetryPolicy::ONCE);
            }
        }
        assert_eq!(RetryPolicy::ONCE.offset_of(1), None);
    }

    #[test]
    fn overrides_replace_one_policy() {
        let mut table = RetryTable::defaults(Protocol::V1);
        let custom = RetryPolicy {
            cadence: Span::minutes(10),
            window: Span::hours(1),
            on_exhausted: Exhaustion::Stop,
        };
        table.set(Purpose::Notify(Activity::ExpireInstance), custom);
        assert_eq!(
            table
                .policy(Purpose::Notify(Activity::ExpireInstance))
                .max_attempts(),
            7
        );
    }
}
