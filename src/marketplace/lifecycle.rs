//! Orders and instances as the marketplace sees them, and the transitions between their
//! states (spec: koogallery-saas-v1.md §9, koogallery-v2-kit-license.md §2 and §8).
//!
//! ```text
//! instance:  Pending ──open──▶ Active ──expire──▶ Frozen(expired) ──release──▶ Released
//!              │  ▲             │  ▲                 │
//!              │  └─provision─┐ │  └────renew────────┘
//!              ▼              │ ├──suspend──▶ Frozen(suspended) ──resume──▶ Active
//!            Failed ◀── Provisioning          (on-demand arrears / violation)
//! ```
//!
//! The marketplace's own view changes when the business event happens (a period ends, the
//! buyer renews), whether or not the merchant accepts the notice; only a purchase waits for
//! the merchant, because the order opens when newInstance succeeds.

use std::fmt;

use crate::protocol::{BillingMode, UnixMillis};

/// The marketplace's id for an order (`orderId` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub String);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The License code of a purchase (License 2.0, spec V2 §4.1, codes like `PL…`): `PL` and
/// the order id's letters and digits.
pub(crate) fn license_code(order: &OrderId) -> String {
    let body: String = order
        .0
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("PL{}", body.to_ascii_uppercase())
}

/// What an order buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OrderKind {
    /// A new subscription or purchase (NEW / TRIAL).
    Purchase,
    /// A renewal (RENEW).
    Renewal,
    /// Trial to formal (TRIAL_TO_FORMAL).
    TrialToFormal,
    /// Refund of an unstarted renewal period (UNSUBSCRIBE of a renewal).
    RenewalRefund,
    /// An upgrade (CHANGE).
    Upgrade,
    /// An unsubscription that releases the instance (UNSUBSCRIBE).
    Unsubscribe,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// Paid; the merchant has not yet accepted the notice.
    Pending,
    /// V2: the merchant answered 000004 and provisions asynchronously.
    Provisioning,
    /// The merchant accepted: the purchase is open, the renewal or upgrade applied.
    Opened,
    /// Every attempt failed.
    Failed {
        /// Whether the marketplace refunded it (newInstance and upgrade: auto-unsubscribed).
        refunded: bool,
    },
}

impl OrderState {
    /// A short name for reports and scenario expectations.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Provisioning => "provisioning",
            Self::Opened => "opened",
            Self::Failed { refunded: true } => "refunded",
            Self::Failed { refunded: false } => "failed",
        }
    }
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id.
    pub(crate) id: OrderId,
    /// What it buys.
    pub(crate) kind: OrderKind,
    /// Where it stands.
    pub state: OrderState,
    /// When it was placed.
    pub(crate) placed_at: UnixMillis,
    /// When it opened or failed.
    pub settled_at: Option<UnixMillis>,
    /// The instance an order on an existing instance concerns (renewal, upgrade, …); a
    /// purchase's instances are [`crate::marketplace::Marketplace::instances_of`] it.
    pub(crate) subject: Option<InstanceRef>,
}

/// What an instance is bought as: an order line for a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderLine {
    /// The order.
    pub(crate) order: OrderId,
    /// The line (`<orderId>-00000n`).
    pub(crate) line: String,
    /// The product id.
    pub(crate) product_id: String,
    /// The spec code.
    pub(crate) sku_code: String,
}

/// A handle to an instance inside one marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceRef(pub usize);

/// Why an instance is frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FreezeReason {
    /// Its period ended without renewal.
    Expired,
    /// A violation (any kind with a status interface): unfrozen when it is lifted.
    Suspended,
    /// On-demand arrears: unfrozen when the buyer pays, released after retention otherwise.
    Arrears,
    /// A stop-when-used-up package's quota ran out: its on-demand instance stops.
    QuotaExhausted,
}

/// Where an instance stands in the marketplace's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceState {
    /// Purchased; newInstance has not succeeded yet.
    Pending,
    /// V2: accepted with 000004, being provisioned.
    Provisioning,
    /// In use.
    Active,
    /// Frozen; data retained.
    Frozen(FreezeReason),
    /// Deleted.
    Released,
    /// Never opened: the purchase failed and was refunded.
    Failed,
}

impl InstanceState {
    /// A short name for reports and scenario expectations.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Provisioning => "provisioning",
            Self::Active => "active",
            Self::Frozen(FreezeReason::Expired) => "frozen",
            Self::Frozen(FreezeReason::Suspended) => "suspended",
            Self::Frozen(FreezeReason::Arrears) => "in-arrears",
            Self::Frozen(FreezeReason::QuotaExhausted) => "stopped",
            Self::Released => "released",
            Self::Failed => "failed",
        }
    }
}

/// An event that is not allowed in the instance's current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event} an instance that is {}", .state.slug())]
pub struct LifecycleError {
    /// What was attempted.
    pub(crate) event: &'static str,
    /// The state it was attempted in.
    pub(crate) state: InstanceState,
}

/// A renewal applied to an instance, kept so that it can be refunded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Renewal {
    /// The renewal order.
    pub(crate) order: OrderId,
    /// The expiry before it.
    pub(crate) previous_expiry: UnixMillis,
    /// Whether it was refunded.
    pub(crate) refunded: bool,
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The purchase order.
    pub(crate) order: OrderId,
    /// The V2 order line (`<orderId>-00000n`).
    pub(crate) order_line: String,
    /// The product id (billing items of an on-demand order differ by product).
    pub(crate) product_id: String,
    /// The spec code.
    pub(crate) sku_code: String,
    /// How it is billed.
    pub(crate) billing: BillingMode,
    /// Whether it is a trial.
    pub(crate) trial: bool,
    /// The merchant's instanceId, as first returned.
    pub merchant_id: Option<String>,
    /// Where it stands.
    pub state: InstanceState,
    /// When its period ends (period and package billing).
    pub expire_at: Option<UnixMillis>,
    /// Renewals applied, newest last.
    pub(crate) renewals: Vec<Renewal>,
    /// Upgrade orders applied.
    pub(crate) upgrades: Vec<OrderId>,
    /// A package: the on-demand instance whose usage it pays for (spec V2 §7.1).
    pub(crate) serves: Option<InstanceRef>,
    /// A package that stops its on-demand instance when its quota is used up (用完即停).
    pub(crate) stop_when_used_up: bool,
    /// A package's quota, in usage units.
    pub(crate) quota: Option<u32>,
    /// On-demand: when arrears began, while they are unpaid.
    pub(crate) arrears_since: Option<UnixMillis>,
}

impl Instance {
    /// A new instance of an order line, pending its newInstance.
    pub(crate) fn pending(
        line: OrderLine,
        billing: BillingMode,
        expire_at: Option<UnixMillis>,
    ) -> Self {
        Self {
            order: line.order,
            order_line: line.line,
            product_id: line.product_id,
            sku_code: line.sku_code,
            billing,
            trial: false,
            merchant_id: None,
            state: InstanceState::Pending,
            expire_at,
            renewals: Vec::new(),
            upgrades: Vec::new(),
            serves: None,
            stop_when_used_up: false,
            quota: None,
            arrears_since: None,
        }
    }

    fn deny(&self, event: &'static str) -> LifecycleError {
        LifecycleError {
            event,
            state: self.state,
        }
    }

    /// newInstance succeeded: the purchase opens with the merchant's instanceId.
    pub(crate) fn open(&mut self, merchant_id: String) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Pending | InstanceState::Provisioning => {
                self.merchant_id.get_or_insert(merchant_id);
                self.state = InstanceState::Active;
                Ok(())
            }
            _ => Err(self.deny("open")),
        }
    }

    /// V2 newInstance answered 000004: provisioning continues asynchronously.
    pub(crate) fn start_provisioning(&mut self, merchant_id: String) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Pending => {
                self.merchant_id.get_or_insert(merchant_id);
                self.state = InstanceState::Provisioning;
                Ok(())
            }
            _ => Err(self.deny("start provisioning")),
        }
    }

    /// Every newInstance attempt failed: the purchase is refunded.
    pub(crate) fn fail(&mut self) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Pending | InstanceState::Provisioning => {
                self.state = InstanceState::Failed;
                Ok(())
            }
            _ => Err(self.deny("fail")),
        }
    }

    /// Renewal or trial-to-formal: the new expiry counts from the current one, and renewal
    /// inside the freeze window unfreezes (V1 §9).
    pub(crate) fn renew(
        &mut self,
        order: OrderId,
        new_expiry: UnixMillis,
    ) -> Result<(), LifecycleError> {
        let previous_expiry = match (self.state, self.expire_at) {
            (InstanceState::Active | InstanceState::Frozen(FreezeReason::Expired), Some(at)) => at,
            _ => return Err(self.deny("renew")),
        };
        self.renewals.push(Renewal {
            order,
            previous_expiry,
            refunded: false,
        });
        self.expire_at = Some(new_expiry);
        self.state = InstanceState::Active;
        Ok(())
    }

    /// Trial to formal: only a trial converts.
    pub(crate) fn convert_trial(
        &mut self,
        order: OrderId,
        new_expiry: UnixMillis,
    ) -> Result<(), LifecycleError> {
        if !self.trial {
            return Err(self.deny("convert to formal"));
        }
        self.renew(order, new_expiry)?;
        self.trial = false;
        Ok(())
    }

    /// Refund of the latest renewal, which must not have started yet: the expiry goes back.
    /// Returns the restored expiry.
    pub(crate) fn refund_renewal(&mut self, now: UnixMillis) -> Result<UnixMillis, LifecycleError> {
        if self.state != InstanceState::Active {
            return Err(self.deny("refund a renewal of"));
        }
        let Some(renewal) = self.renewals.iter_mut().rev().find(|r| !r.refunded) else {
            return Err(self.deny("refund a renewal of (no renewal to refund)"));
        };
        if renewal.previous_expiry <= now {
            return Err(LifecycleError {
                event: "refund a renewal that already started for",
                state: self.state,
            });
        }
        renewal.refunded = true;
        self.expire_at = Some(renewal.previous_expiry);
        Ok(renewal.previous_expiry)
    }

    /// The period ended (or, on-demand, arrears): freeze.
    pub(crate) fn freeze(&mut self, reason: FreezeReason) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Active => {
                self.state = InstanceState::Frozen(reason);
                Ok(())
            }
            _ => Err(self.deny(match reason {
                FreezeReason::Expired => "expire",
                FreezeReason::Suspended | FreezeReason::Arrears => "freeze",
                FreezeReason::QuotaExhausted => "stop",
            })),
        }
    }

    /// A freeze for `reason` is lifted (violation lifted, arrears paid, quota renewed).
    pub(crate) fn resume(&mut self, reason: FreezeReason) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Frozen(frozen)
                if frozen == reason && reason != FreezeReason::Expired =>
            {
                self.state = InstanceState::Active;
                self.arrears_since = None;
                Ok(())
            }
            _ => Err(self.deny("unfreeze")),
        }
    }

    /// Retention over, or unsubscribed: delete.
    pub(crate) fn release(&mut self) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Active | InstanceState::Frozen(_) => {
                self.state = InstanceState::Released;
                Ok(())
            }
            _ => Err(self.deny("release")),
        }
    }

    /// An upgrade order applies to an active instance.
    pub(crate) fn upgrade(&mut self, order: OrderId) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Active => {
                self.upgrades.push(order);
                Ok(())
            }
            _ => Err(self.deny("upgrade")),
        }
    }

    /// Whether it can answer a queryInstance (it exists at the merchant).
    pub(crate) fn queryable(&self) -> Result<(), LifecycleError> {
        match self.state {
            InstanceState::Active | InstanceState::Frozen(_) | InstanceState::Provisioning => {
                Ok(())
            }
            _ => Err(self.deny("query")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(billing: BillingMode, trial: bool) -> Instance {
        let line = OrderLine {
            order: OrderId("CS1".into()),
            line: "CS1-000001".into(),
            product_id: "p".into(),
            sku_code: "s".into(),
        };
        let mut instance = Instance::pending(
            line,
            billing,
            billing.has_expiry().then_some(UnixMillis(1000)),
        );
        instance.trial = trial;
        instance
    }

    fn active(billing: BillingMode) -> Instance {
        let mut i = instance(billing, false);
        i.open("i-1".into()).unwrap();
        i
    }

    #[test]
    fn purchase_opens_and_keeps_the_first_instance_id() {
        let mut i = instance(BillingMode::Period, false);
        i.open("first".into()).unwrap();
        assert_eq!(i.state, InstanceState::Active);
        assert_eq!(
            i.open("second".into()),
            Err(LifecycleError {
                event: "open",
                state: InstanceState::Active
            })
        );
        assert_eq!(i.merchant_id.as_deref(), Some("first"));
    }

    #[test]
    fn provisioning_then_open_or_fail() {
        let mut i = instance(BillingMode::Period, false);
        i.start_provisioning("p".into()).unwrap();
        assert_eq!(i.state, InstanceState::Provisioning);
        assert!(i.start_provisioning("p".into()).is_err());
        i.open("p".into()).unwrap();
        let mut j = instance(BillingMode::Period, false);
        j.start_provisioning("p".into()).unwrap();
        j.fail().unwrap();
        assert_eq!(j.state, InstanceState::Failed);
    }

    #[test]
    fn a_failed_purchase_allows_nothing() {
        let mut i = instance(BillingMode::Period, false);
        i.fail().unwrap();
        assert!(i.fail().is_err());
        assert!(i.open("x".into()).is_err());
        assert!(i.renew(OrderId("r".into()), UnixMillis(5)).is_err());
        assert!(i.freeze(FreezeReason::Expired).is_err());
        assert!(i.release().is_err());
        assert!(i.upgrade(OrderId("u".into())).is_err());
        assert!(i.queryable().is_err());
    }

    #[test]
    fn expiry_freezes_and_renewal_unfreezes() {
        let mut i = active(BillingMode::Period);
        i.freeze(FreezeReason::Expired).unwrap();
        assert_eq!(i.state.slug(), "frozen");
        assert_eq!(
            i.freeze(FreezeReason::Expired),
            Err(LifecycleError {
                event: "expire",
                state: i.state
            })
        );
        i.renew(OrderId("r".into()), UnixMillis(2000)).unwrap();
        assert_eq!(
            (i.state, i.expire_at),
            (InstanceState::Active, Some(UnixMillis(2000)))
        );
        assert_eq!(i.renewals[0].previous_expiry, UnixMillis(1000));
    }

    #[test]
    fn only_expiring_instances_renew() {
        let mut one_time = active(BillingMode::OneTime);
        assert!(one_time.renew(OrderId("r".into()), UnixMillis(5)).is_err());
        let mut pending = instance(BillingMode::Period, false);
        assert!(pending.renew(OrderId("r".into()), UnixMillis(5)).is_err());
        let mut released = active(BillingMode::Period);
        released.release().unwrap();
        assert!(released.renew(OrderId("r".into()), UnixMillis(5)).is_err());
    }

    #[test]
    fn trial_converts_once() {
        let mut i = instance(BillingMode::Period, true);
        i.open("t".into()).unwrap();
        i.convert_trial(OrderId("f".into()), UnixMillis(9000))
            .unwrap();
        assert!(!i.trial);
        assert_eq!(
            i.convert_trial(OrderId("g".into()), UnixMillis(9999))
                .unwrap_err()
                .event,
            "convert to formal"
        );
    }

    #[test]
    fn renewal_refund_restores_the_previous_expiry_before_it_starts() {
        let mut i = active(BillingMode::Period);
        assert!(
            i.refund_renewal(UnixMillis(0)).is_err(),
            "nothing to refund"
        );
        i.renew(OrderId("r".into()), UnixMillis(2000)).unwrap();
        assert!(
            i.refund_renewal(UnixMillis(1500)).is_err(),
            "the renewal period already started"
        );
        assert_eq!(i.refund_renewal(UnixMillis(500)), Ok(UnixMillis(1000)));
        assert_eq!(i.expire_at, Some(UnixMillis(1000)));
        assert!(
            i.refund_renewal(UnixMillis(500)).is_err(),
            "already refunded"
        );
    }

    #[test]
    fn on_demand_suspend_and_resume() {
        let mut i = active(BillingMode::OnDemand);
        i.freeze(FreezeReason::Suspended).unwrap();
        assert_eq!(i.state.slug(), "suspended");
        assert!(i.freeze(FreezeReason::Suspended).is_err());
        assert!(
            i.resume(FreezeReason::Arrears).is_err(),
            "paying arrears does not lift a violation"
        );
        i.resume(FreezeReason::Suspended).unwrap();
        assert_eq!(
            i.resume(FreezeReason::Suspended),
            Err(LifecycleError {
                event: "unfreeze",
                state: InstanceState::Active
            })
        );
        let mut expired = active(BillingMode::Period);
        expired.freeze(FreezeReason::Expired).unwrap();
        assert!(
            expired.resume(FreezeReason::Expired).is_err(),
            "expiry is lifted by renewal, not unfreeze"
        );
    }

    #[test]
    fn release_from_active_or_frozen_only_once() {
        let mut i = active(BillingMode::Period);
        i.freeze(FreezeReason::Expired).unwrap();
        i.release().unwrap();
        assert_eq!(
            i.release(),
            Err(LifecycleError {
                event: "release",
                state: InstanceState::Released
            })
        );
        assert!(i.queryable().is_err());
    }

    #[test]
    fn upgrade_only_when_active() {
        let mut i = active(BillingMode::Period);
        i.upgrade(OrderId("u".into())).unwrap();
        i.freeze(FreezeReason::Expired).unwrap();
        assert!(i.upgrade(OrderId("u2".into())).is_err());
        assert_eq!(i.upgrades.len(), 1);
    }
}
