//! The lifecycle of one instance as a table of (state, event) pairs: which marketplace events
//! KooGallery may send about an instance in each state, for a product's kind and the
//! interfaces it implements (spec V1 §4, §9; V2 §2, §7.1; License §4.2). `kgsim explore`
//! picks only events this table allows, and both `kgsim explore` and `kgsim run --json`
//! report which pairs were exercised and which never were.
//!
//! The table mirrors what the engine accepts ([`super::lifecycle::Instance`] refuses the rest);
//! it adds what the engine cannot know on its own: which interface each event needs.

use crate::marketplace::kind::{Interfaces, ProductKind, ProductType};
use crate::marketplace::lifecycle::{FreezeReason, Instance, InstanceState};
use crate::protocol::{Activity, BillingMode, UnixMillis};

/// The state an instance is in before it exists: what a purchase starts from.
pub(crate) const NO_INSTANCE: &str = "none";

/// A marketplace event about one instance (the scenario action of the same name), or the
/// clock moving past one of its timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Event {
    /// A new purchase.
    Purchase,
    /// A copy of the purchase's newInstance again (a retry the merchant must recognise).
    Resend,
    /// A renewal.
    Renew,
    /// A trial converted to a paid subscription.
    ConvertTrial,
    /// The latest, unstarted renewal refunded.
    RefundRenewal,
    /// An upgrade order.
    Upgrade,
    /// A violation freeze.
    Freeze,
    /// The violation lifted.
    Unfreeze,
    /// On-demand arrears.
    Arrears,
    /// The arrears paid.
    Recharge,
    /// The period ended now.
    Expire,
    /// The buyer unsubscribes.
    Unsubscribe,
    /// queryInstance about it.
    Query,
    /// changeInstanceCheck about it (V2 §2.7).
    ChangeCheck,
    /// The virtual clock passed one of its timers (expiry, retention, arrears).
    Advance,
}

impl Event {
    /// Every event, in table order.
    pub(crate) const ALL: [Event; 15] = [
        Self::Purchase,
        Self::Resend,
        Self::Renew,
        Self::ConvertTrial,
        Self::RefundRenewal,
        Self::Upgrade,
        Self::Freeze,
        Self::Unfreeze,
        Self::Arrears,
        Self::Recharge,
        Self::Expire,
        Self::Unsubscribe,
        Self::Query,
        Self::ChangeCheck,
        Self::Advance,
    ];

    /// Its name: the scenario keyword of the action that causes it.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Resend => "resend",
            Self::Renew => "renew",
            Self::ConvertTrial => "convert-trial",
            Self::RefundRenewal => "refund-renewal",
            Self::Upgrade => "upgrade",
            Self::Freeze => "freeze",
            Self::Unfreeze => "unfreeze",
            Self::Arrears => "arrears",
            Self::Recharge => "recharge",
            Self::Expire => "expire",
            Self::Unsubscribe => "unsubscribe",
            Self::Query => "query",
            Self::ChangeCheck => "change-check",
            Self::Advance => "advance",
        }
    }

    /// The event a scenario action keyword causes, if it is one of the table's.
    pub(crate) fn of_keyword(keyword: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.keyword() == keyword)
    }

    /// The interface the merchant must implement for KooGallery to send the event.
    fn interface(self, kind: ProductKind) -> Option<Activity> {
        let license_code = kind.product == ProductType::LicenseCode;
        Some(match self {
            Self::Purchase | Self::Resend if license_code => return None,
            Self::Purchase | Self::Resend => Activity::NewInstance,
            Self::Renew | Self::ConvertTrial | Self::RefundRenewal if license_code => {
                Activity::RefreshLicenseCode
            }
            Self::Renew | Self::ConvertTrial | Self::RefundRenewal => Activity::RefreshInstance,
            Self::Upgrade => Activity::Upgrade,
            Self::Freeze | Self::Unfreeze | Self::Expire if license_code => {
                Activity::UpdateLicenseCodeStatus
            }
            Self::Expire if kind.protocol == crate::protocol::Protocol::V1 => {
                Activity::ExpireInstance
            }
            Self::Freeze | Self::Unfreeze | Self::Arrears | Self::Recharge | Self::Expire => {
                Activity::InstanceStatus
            }
            Self::Unsubscribe if license_code => Activity::ReleaseLicenseCode,
            Self::Unsubscribe => Activity::ReleaseInstance,
            Self::Query => Activity::QueryInstance,
            Self::ChangeCheck => Activity::ChangeInstanceCheck,
            Self::Advance => return None,
        })
    }
}

/// What a product can be sent: its kind and the interfaces it implements.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    kind: ProductKind,
    interfaces: Interfaces,
}

/// The states the table is written over, by their report names.
const STATES: [InstanceState; 6] = [
    InstanceState::Pending,
    InstanceState::Active,
    InstanceState::Frozen(FreezeReason::Expired),
    InstanceState::Frozen(FreezeReason::Suspended),
    InstanceState::Frozen(FreezeReason::Arrears),
    InstanceState::Released,
];

impl Lifecycle {
    /// The lifecycle of a product of `kind` implementing `interfaces`.
    pub(crate) fn new(kind: ProductKind, interfaces: Interfaces) -> Self {
        Self { kind, interfaces }
    }

    /// The product's kind.
    pub(crate) fn kind(&self) -> ProductKind {
        self.kind
    }

    fn sendable(&self, event: Event) -> bool {
        event
            .interface(self.kind)
            .is_none_or(|activity| self.interfaces.implements(activity))
    }

    fn billing(&self) -> BillingMode {
        self.kind.billing
    }

    /// Whether a trial can be bought: subscriptions only (试用, V1 §4.1 trialFlag).
    pub(crate) fn offers_trial(&self) -> bool {
        self.billing() == BillingMode::Period && self.kind.product != ProductType::LicenseCode
    }

    /// Whether the event may happen to an instance in `state` of this product at all (the
    /// table's rows; [`Self::allows`] adds what depends on the particular instance).
    pub(crate) fn permits(&self, state: InstanceState, event: Event) -> bool {
        use FreezeReason::{Arrears, Expired, Suspended};
        use InstanceState::{Active, Frozen};
        let expiring = self.billing().has_expiry();
        let on_demand = self.billing() == BillingMode::OnDemand;
        let saas = self.kind.product == ProductType::Saas;
        let allowed = match (state, event) {
            (_, Event::Purchase) => false,
            (Active | Frozen(_), Event::Resend) => self.kind.product != ProductType::LicenseCode,
            (Active | Frozen(Expired), Event::Renew) => expiring,
            (Active | Frozen(Expired), Event::ConvertTrial) => self.offers_trial(),
            (Active, Event::RefundRenewal) => expiring && self.billing() == BillingMode::Period,
            (Active, Event::Upgrade | Event::ChangeCheck) => saas,
            (Active, Event::Freeze) => saas,
            (Frozen(Suspended), Event::Unfreeze) => saas,
            (Active, Event::Arrears) | (Frozen(Arrears), Event::Recharge) => on_demand && saas,
            (Active, Event::Expire) => expiring,
            (Active | Frozen(_), Event::Unsubscribe) => true,
            (Active | Frozen(_), Event::Query) => saas,
            // Timers: a newInstance's retries (the 3-hour schedule), a period's end, the
            // release after retention, arrears' release.
            (InstanceState::Pending, Event::Advance) => true,
            (Active, Event::Advance) => expiring,
            (Frozen(Expired | Arrears), Event::Advance) => true,
            _ => false,
        };
        allowed && self.sendable(event)
    }

    /// Whether KooGallery may send `event` about this instance now: the table's row, and
    /// what only the instance knows (a trial converts and is not renewed; a refund needs a
    /// renewal that has not started).
    pub(crate) fn allows(&self, instance: &Instance, now: UnixMillis, event: Event) -> bool {
        if !self.permits(instance.state, event) {
            return false;
        }
        match event {
            Event::Renew => !instance.trial,
            Event::ConvertTrial => instance.trial,
            Event::RefundRenewal => instance
                .renewals
                .iter()
                .rev()
                .find(|r| !r.refunded)
                .is_some_and(|r| r.previous_expiry > now),
            Event::Resend => instance.merchant_id.is_some(),
            _ => true,
        }
    }

    /// Whether an instance of this product can ever be in `state`: a frozen one only by an
    /// event of the table that freezes it that way.
    fn reachable(&self, state: InstanceState) -> bool {
        match state {
            InstanceState::Frozen(FreezeReason::Expired) => {
                self.permits(InstanceState::Active, Event::Advance)
            }
            InstanceState::Frozen(FreezeReason::Suspended) => {
                self.permits(InstanceState::Active, Event::Freeze)
            }
            InstanceState::Frozen(FreezeReason::Arrears) => {
                self.permits(InstanceState::Active, Event::Arrears)
            }
            // A License code is issued by the marketplace itself: it is never pending.
            InstanceState::Pending => {
                self.purchasable() && self.kind.product != ProductType::LicenseCode
            }
            _ => true,
        }
    }

    /// Whether a new purchase may be made.
    pub(crate) fn purchasable(&self) -> bool {
        self.sendable(Event::Purchase)
    }

    /// Every (state, event) pair of the table: a purchase from [`NO_INSTANCE`], then each
    /// state's events.
    pub(crate) fn table(&self) -> Vec<(&'static str, Event)> {
        let mut table = Vec::new();
        if self.purchasable() {
            table.push((NO_INSTANCE, Event::Purchase));
        }
        for state in STATES.into_iter().filter(|s| self.reachable(*s)) {
            for event in Event::ALL {
                if self.permits(state, event) {
                    table.push((state.slug(), event));
                }
            }
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Protocol;

    fn lifecycle(protocol: Protocol, billing: BillingMode, declared: &[Activity]) -> Lifecycle {
        let kind = ProductKind::saas(protocol, billing);
        Lifecycle::new(kind, Interfaces::new(kind, declared))
    }

    fn has(table: &[(&str, Event)], state: &str, event: Event) -> bool {
        table.contains(&(state, event))
    }

    #[test]
    fn a_v1_period_product_renews_and_expires_but_upgrades_only_when_declared() {
        let plain = lifecycle(Protocol::V1, BillingMode::Period, &[]).table();
        assert!(has(&plain, "none", Event::Purchase));
        assert!(has(&plain, "active", Event::Renew));
        assert!(has(&plain, "frozen", Event::Renew));
        assert!(has(&plain, "active", Event::Expire));
        assert!(!has(&plain, "active", Event::Upgrade));
        assert!(
            !has(&plain, "active", Event::Freeze),
            "instanceStatus is optional in V1 period"
        );
        assert!(!has(&plain, "active", Event::Query));
        let declared = lifecycle(
            Protocol::V1,
            BillingMode::Period,
            &[Activity::Upgrade, Activity::InstanceStatus],
        )
        .table();
        assert!(has(&declared, "active", Event::Upgrade));
        assert!(has(&declared, "suspended", Event::Unfreeze));
    }

    #[test]
    fn on_demand_goes_into_arrears_and_never_renews() {
        let table = lifecycle(Protocol::V2, BillingMode::OnDemand, &[]).table();
        assert!(has(&table, "active", Event::Arrears));
        assert!(has(&table, "in-arrears", Event::Recharge));
        assert!(has(&table, "in-arrears", Event::Advance));
        assert!(!has(&table, "active", Event::Renew));
        assert!(!has(&table, "active", Event::Expire));
    }

    #[test]
    fn released_instances_get_nothing() {
        for kind in ProductKind::all() {
            let table = Lifecycle::new(kind, Interfaces::new(kind, kind.optional())).table();
            assert!(
                !table.iter().any(|(state, _)| *state == "released"),
                "{kind:?}"
            );
        }
    }
}
