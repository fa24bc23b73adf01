//! Business events a scenario (or the seller console) makes happen, each creating the calls
//! KooGallery would make: purchases ([`purchase`]), orders on an instance — renewal,
//! conversion, refund, upgrade, unsubscription ([`orders`]) —, freezes and their lifting —
//! violation, arrears, quota ([`status`]) —, and calls outside the lifecycle: queries, debug
//! cases, resends, probes ([`probes`]).

mod kit;
mod orders;
mod probes;
mod purchase;
mod status;

use crate::marketplace::clock::Span;
use crate::marketplace::engine::{CallId, Effect, Marketplace};
use crate::marketplace::lifecycle::{InstanceRef, Order, OrderId, OrderKind, OrderState};
use crate::marketplace::retry::{Purpose, RetryPolicy};
use crate::protocol::{Activity, BillingMode, Period, Request};

/// Per-call options a scenario sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallOptions {
    /// Delay of the first attempt, in virtual time.
    pub(crate) delay: Span,
    /// A retry policy replacing the activity's default.
    pub(crate) policy: Option<RetryPolicy>,
}

/// What to buy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseSpec {
    /// Billing mode; the settings' default when `None`.
    pub(crate) billing: Option<BillingMode>,
    /// Subscription period (period and package billing); one month when `None`.
    pub(crate) period: Option<Period>,
    /// A trial (trialFlag 1, the settings' trial period).
    pub(crate) trial: bool,
    /// On-demand billing items: one instance per product, all under one order.
    pub(crate) products: u32,
    /// A package: the on-demand instance whose usage it pays for (spec V2 §7.1).
    pub(crate) package_for: Option<InstanceRef>,
    /// A package that stops its on-demand instance when the quota is used up (用完即停).
    pub(crate) stop_when_used_up: bool,
    /// Its quota, in usage units.
    pub(crate) quota: Option<u32>,
    /// Identical newInstance calls sent at once per instance (1 = no concurrent copies).
    pub(crate) copies: u32,
    /// Call options.
    pub(crate) options: CallOptions,
}

impl Default for PurchaseSpec {
    fn default() -> Self {
        Self {
            billing: None,
            period: None,
            trial: false,
            products: 1,
            package_for: None,
            stop_when_used_up: false,
            quota: None,
            copies: 1,
            options: CallOptions::default(),
        }
    }
}

/// What a purchase created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    /// The order.
    pub order: OrderId,
    /// Its instances (one per product).
    pub instances: Vec<InstanceRef>,
    /// The newInstance calls.
    pub(crate) calls: Vec<CallId>,
}

impl Marketplace {
    fn policy_for(&self, activity: Activity, options: &CallOptions) -> RetryPolicy {
        options
            .policy
            .unwrap_or_else(|| self.settings.retries.policy(Purpose::Notify(activity)))
    }

    /// Records a new order (pending until the merchant accepts its notice) and, when the
    /// product has an order-notification address, notifies it (spec V2 §5: every order, any
    /// product type).
    fn place_order(&mut self, kind: OrderKind, subject: Option<InstanceRef>) -> OrderId {
        let id = self.ids.order_id();
        self.orders.insert(
            id.clone(),
            Order {
                id: id.clone(),
                kind,
                state: OrderState::Pending,
                placed_at: self.now,
                settled_at: None,
                subject,
            },
        );
        if self.settings.order_notify {
            let request = crate::marketplace::requests::order_notify(&id);
            let policy = self.policy_for(Activity::OrderNotify, &CallOptions::default());
            self.create_call(request, Effect::Notice, policy, Span::ZERO, subject);
        }
        id
    }

    /// Creates the call notifying `request` about an instance, with its activity's policy.
    fn notify(
        &mut self,
        request: Request,
        effect: Effect,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> CallId {
        let policy = self.policy_for(request.activity(), options);
        self.create_call(request, effect, policy, options.delay, Some(instance))
    }
}
