//! Business events a scenario (or the seller console) makes happen: purchases, renewals,
//! conversions, refunds, upgrades, freezes, unsubscriptions, queries, debug cases, resends
//! and arbitrary probes. Each creates the calls KooGallery would make and returns them.

use crate::marketplace::clock::Span;
use crate::marketplace::engine::{CallId, Effect, EngineError, Marketplace};
use crate::marketplace::lifecycle::{
    FreezeReason, Instance, InstanceRef, InstanceState, Order, OrderId, OrderKind, OrderState,
};
use crate::marketplace::requests::{self, Refresh};
use crate::marketplace::retry::{Purpose, RetryPolicy};
use crate::protocol::{Activity, BillingMode, Period, Protocol, Request};

/// Per-call options a scenario sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallOptions {
    /// Delay of the first attempt, in virtual time.
    pub delay: Span,
    /// A retry policy replacing the activity's default.
    pub policy: Option<RetryPolicy>,
}

/// What to buy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseSpec {
    /// Billing mode; the settings' default when `None`.
    pub billing: Option<BillingMode>,
    /// Subscription period (period and package billing); one month when `None`.
    pub period: Option<Period>,
    /// A trial (trialFlag 1, the settings' trial period).
    pub trial: bool,
    /// On-demand billing items: one instance per product, all under one order.
    pub products: u32,
    /// Identical newInstance calls sent at once per instance (1 = no concurrent copies).
    pub copies: u32,
    /// Call options.
    pub options: CallOptions,
}

impl Default for PurchaseSpec {
    fn default() -> Self {
        Self {
            billing: None,
            period: None,
            trial: false,
            products: 1,
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
    pub calls: Vec<CallId>,
}

impl Marketplace {
    fn policy_for(&self, activity: Activity, options: &CallOptions) -> RetryPolicy {
        options
            .policy
            .unwrap_or_else(|| self.settings.retries.policy(Purpose::Notify(activity)))
    }

    fn place_order(&mut self, kind: OrderKind) -> OrderId {
        let id = self.ids.order_id();
        self.orders.insert(
            id.clone(),
            Order {
                id: id.clone(),
                kind,
                state: OrderState::Pending,
                placed_at: self.now,
                settled_at: None,
            },
        );
        id
    }

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

    /// The buyer pays: newInstance for each billing item of a new order.
    pub fn purchase(&mut self, spec: &PurchaseSpec) -> Purchase {
        let billing = spec.billing.unwrap_or(self.settings.billing);
        let order = self.place_order(OrderKind::Purchase);
        let period = if spec.trial {
            self.settings.trial_period
        } else {
            spec.period.unwrap_or(Period::ONE_MONTH)
        };
        let expire_at = billing.has_expiry().then(|| period.end_from(self.now));
        let items = if billing.keys_on_product() {
            spec.products.max(1)
        } else {
            1
        };
        let catalog = self.settings.catalog.clone();
        let mut products = std::iter::once(catalog.product_id)
            .chain(catalog.extra_on_demand_products)
            .chain((0..).map(|n| format!("00301-1{n:05}-9--0")));
        let mut purchase = Purchase {
            order: order.clone(),
            instances: Vec::new(),
            calls: Vec::new(),
        };
        for line in 1..=items {
            let instance = InstanceRef(self.instances.len());
            self.instances.push(Instance {
                order: order.clone(),
                order_line: format!("{order}-{line:06}"),
                product_id: products.next().unwrap_or_default(),
                sku_code: self.settings.catalog.sku_code.clone(),
                billing,
                trial: spec.trial,
                merchant_id: None,
                state: InstanceState::Pending,
                expire_at,
                renewals: Vec::new(),
                upgrades: Vec::new(),
            });
            self.order_instances
                .entry(order.clone())
                .or_default()
                .push(instance);
            purchase.instances.push(instance);
            let request = requests::new_instance(
                &self.settings,
                &mut self.ids,
                &self.buyer,
                &self.instances[instance.0],
            );
            for _ in 0..spec.copies.max(1) {
                let call = self.notify(
                    request.clone(),
                    Effect::Purchase { instance },
                    instance,
                    &spec.options,
                );
                purchase.calls.push(call);
            }
        }
        purchase
    }

    fn require_period(&self, instance: InstanceRef, what: &'static str) -> Result<(), EngineError> {
        let billing = self.instance(instance).billing;
        if billing.has_expiry() {
            Ok(())
        } else {
            Err(EngineError::NoPeriod(billing, what))
        }
    }

    /// After a renewal or conversion lifts a freeze, V2 also sends updateInstanceStatus
    /// UNFREEZE ("unfreeze after renewal", V2 §2.4); V1 unfreezes by refreshInstance alone.
    fn unfreeze_after_renewal(
        &mut self,
        instance: InstanceRef,
        was_frozen: bool,
        options: &CallOptions,
        calls: &mut Vec<CallId>,
    ) {
        if was_frozen && self.settings.protocol == Protocol::V2 {
            let request = requests::status(&self.settings, self.instance(instance), false);
            calls.push(self.notify(request, Effect::Notice, instance, options));
        }
    }

    /// The buyer renews for `period` (one month when `None`); the new expiry counts from the
    /// current one, and a renewal inside the freeze window unfreezes (V1 §9).
    pub fn renew(
        &mut self,
        instance: InstanceRef,
        period: Option<Period>,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.require_period(instance, "renew")?;
        let period = period.unwrap_or(Period::ONE_MONTH);
        let current = self.instance(instance).expire_at.unwrap_or(self.now);
        let was_frozen =
            self.instance(instance).state == InstanceState::Frozen(FreezeReason::Expired);
        let new_expiry = period.end_from(current);
        let order = self.ids.order_id();
        self.instances[instance.0].renew(order.clone(), new_expiry)?;
        self.orders.insert(
            order.clone(),
            Order {
                id: order.clone(),
                kind: OrderKind::Renewal,
                state: OrderState::Pending,
                placed_at: self.now,
                settled_at: None,
            },
        );
        self.schedule_period_end(instance);
        let request = requests::refresh(
            &self.settings,
            self.instance(instance),
            &order,
            Refresh::Renewal(period),
            new_expiry,
        );
        let mut calls = vec![self.notify(request, Effect::Order { order }, instance, options)];
        self.unfreeze_after_renewal(instance, was_frozen, options, &mut calls);
        Ok(calls)
    }

    /// A trial converts to a paid subscription for `period`, starting now [I].
    pub fn convert_trial(
        &mut self,
        instance: InstanceRef,
        period: Option<Period>,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.require_period(instance, "convert")?;
        let period = period.unwrap_or(Period::ONE_MONTH);
        let was_frozen =
            self.instance(instance).state == InstanceState::Frozen(FreezeReason::Expired);
        let new_expiry = period.end_from(self.now);
        let order = self.place_order(OrderKind::TrialToFormal);
        self.instances[instance.0].convert_trial(order.clone(), new_expiry)?;
        self.schedule_period_end(instance);
        let request = requests::refresh(
            &self.settings,
            self.instance(instance),
            &order,
            Refresh::TrialToFormal(period),
            new_expiry,
        );
        let mut calls = vec![self.notify(request, Effect::Order { order }, instance, options)];
        self.unfreeze_after_renewal(instance, was_frozen, options, &mut calls);
        Ok(calls)
    }

    /// The buyer unsubscribes the latest renewal before it starts (退续费): refreshInstance
    /// with the earlier expiry — V1 with a negative orderAmount under a new order [I], V2
    /// with scene UNSUBSCRIBE_RENEWAL_PERIOD under the renewal's own order (V2 §2.3).
    pub fn refund_renewal(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.require_period(instance, "refund")?;
        let restored = self.instances[instance.0].refund_renewal(self.now)?;
        let order = match self.settings.protocol {
            Protocol::V1 => self.place_order(OrderKind::RenewalRefund),
            Protocol::V2 => {
                let renewal = self
                    .instance(instance)
                    .renewals
                    .iter()
                    .rev()
                    .find(|r| r.refunded)
                    .map(|r| r.order.clone());
                renewal.unwrap_or_else(|| self.place_order(OrderKind::RenewalRefund))
            }
        };
        if let Some(existing) = self.orders.get_mut(&order) {
            existing.state = OrderState::Pending;
            existing.settled_at = None;
        }
        self.schedule_period_end(instance);
        let request = requests::refresh(
            &self.settings,
            self.instance(instance),
            &order,
            Refresh::RenewalRefund,
            restored,
        );
        Ok(vec![self.notify(
            request,
            Effect::Order { order },
            instance,
            options,
        )])
    }

    /// The buyer pays an upgrade order.
    pub fn upgrade(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        let order = self.ids.order_id();
        self.instances[instance.0].upgrade(order.clone())?;
        self.orders.insert(
            order.clone(),
            Order {
                id: order.clone(),
                kind: OrderKind::Upgrade,
                state: OrderState::Pending,
                placed_at: self.now,
                settled_at: None,
            },
        );
        let request = requests::upgrade(&self.settings, self.instance(instance), &order);
        Ok(vec![self.notify(
            request,
            Effect::Order { order },
            instance,
            options,
        )])
    }

    /// Arrears or a violation freeze the instance (on-demand; V1 instanceStatus FREEZE,
    /// V2 updateInstanceStatus FREEZE).
    pub fn suspend(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.instances[instance.0].freeze(FreezeReason::Suspended)?;
        let request = requests::status(&self.settings, self.instance(instance), true);
        Ok(vec![self.notify(
            request,
            Effect::Notice,
            instance,
            options,
        )])
    }

    /// Arrears cleared: unfreeze (V1 instanceStatus NORMAL, V2 updateInstanceStatus UNFREEZE).
    pub fn resume(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.instances[instance.0].resume()?;
        let request = requests::status(&self.settings, self.instance(instance), false);
        Ok(vec![self.notify(
            request,
            Effect::Notice,
            instance,
            options,
        )])
    }

    /// Ends the period now rather than waiting for it: the freeze notice goes out at once and
    /// release follows after retention.
    pub fn expire_now(&mut self, instance: InstanceRef) -> Result<(), EngineError> {
        self.require_period(instance, "expire")?;
        if self.instance(instance).state != InstanceState::Active {
            return Err(crate::marketplace::lifecycle::LifecycleError {
                event: "expire",
                state: self.instance(instance).state,
            }
            .into());
        }
        self.instances[instance.0].expire_at = Some(self.now);
        self.schedule_period_end(instance);
        Ok(())
    }

    /// The buyer unsubscribes: the instance is released at once.
    pub fn unsubscribe(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.instances[instance.0].release()?;
        self.cancel_instance_timers(instance);
        let order = self.place_order(OrderKind::Unsubscribe);
        self.set_order_state(&order, OrderState::Opened);
        let request = requests::release(&self.settings, self.instance(instance), Some(&order));
        Ok(vec![self.notify(
            request,
            Effect::Notice,
            instance,
            options,
        )])
    }

    /// The buyer views resource details: queryInstance for the instances' merchant ids plus
    /// any extra ids (e.g. one the merchant never issued).
    pub fn query(
        &mut self,
        instances: &[InstanceRef],
        extra_ids: &[String],
        options: &CallOptions,
    ) -> Result<CallId, EngineError> {
        let mut ids = Vec::new();
        for instance in instances {
            self.instance(*instance).queryable()?;
            ids.extend(self.instance(*instance).merchant_id.clone());
        }
        ids.extend(extra_ids.iter().cloned());
        let request = requests::query(&self.settings, &ids, false);
        let policy = self.policy_for(Activity::QueryInstance, options);
        Ok(self.create_call(
            request,
            Effect::Notice,
            policy,
            options.delay,
            instances.first().copied(),
        ))
    }

    /// V2 changeInstanceCheck: may the instance change to the upgrade product at renewal?
    pub fn change_check(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<CallId, EngineError> {
        let request = requests::change_check(&self.settings, self.instance(instance)).ok_or(
            EngineError::NotInProtocol {
                activity: Activity::ChangeInstanceCheck,
                protocol: self.settings.protocol,
            },
        )?;
        let policy = self.policy_for(Activity::ChangeInstanceCheck, options);
        Ok(self.create_call(
            request,
            Effect::Notice,
            policy,
            options.delay,
            Some(instance),
        ))
    }

    /// One of the debug page's cases for an activity (testFlag=1, default values), sent once.
    pub fn debug_case(
        &mut self,
        activity: Activity,
        variant: usize,
        options: &CallOptions,
    ) -> Result<CallId, EngineError> {
        let protocol = self.settings.protocol;
        let request =
            requests::debug_request(&self.settings, &mut self.ids, activity, variant, self.now)
                .ok_or(EngineError::NotInProtocol { activity, protocol })?;
        Ok(self.create_call(
            request,
            Effect::Probe,
            options.policy.unwrap_or(RetryPolicy::ONCE),
            options.delay,
            None,
        ))
    }

    /// Re-sends an earlier call `copies` times (all due together), each once; newInstance
    /// copies get a fresh businessId as every real resend does.
    pub fn resend(&mut self, call: CallId, copies: u32, options: &CallOptions) -> Vec<CallId> {
        let (template, instance) = {
            let original = self.call(call);
            (original.template.clone(), original.instance)
        };
        (0..copies.max(1))
            .map(|_| {
                let id = self.create_call(
                    template.clone(),
                    Effect::Probe,
                    options.policy.unwrap_or(RetryPolicy::ONCE),
                    options.delay,
                    instance,
                );
                self.mark_resend(id, call);
                id
            })
            .collect()
    }

    /// Sends a typical request for `activity` once, outside the lifecycle, about an earlier
    /// instance or — when `instance` is `None` — about an id the merchant never issued.
    pub fn probe_activity(
        &mut self,
        activity: Activity,
        instance: Option<InstanceRef>,
        options: &CallOptions,
    ) -> Result<CallId, EngineError> {
        let subject = match instance {
            Some(instance) => self.instance(instance).clone(),
            None => {
                let mut unknown = Instance {
                    order: self.ids.order_id(),
                    order_line: String::new(),
                    product_id: self.settings.catalog.product_id.clone(),
                    sku_code: self.settings.catalog.sku_code.clone(),
                    billing: self.settings.billing,
                    trial: false,
                    merchant_id: Some(self.unknown_instance_id()),
                    state: InstanceState::Active,
                    expire_at: Some(self.now.plus_months(1)),
                    renewals: Vec::new(),
                    upgrades: Vec::new(),
                };
                unknown.order_line = format!("{}-000001", unknown.order);
                unknown
            }
        };
        let protocol = self.settings.protocol;
        let request = requests::about(
            &self.settings,
            &mut self.ids,
            &self.buyer,
            activity,
            &subject,
        )
        .ok_or(EngineError::NotInProtocol { activity, protocol })?;
        Ok(self.probe(request, instance, options))
    }

    /// An id the merchant never issued, for queries about unknown instances.
    pub fn unknown_instance_id(&mut self) -> String {
        let id = format!("kgsim-unknown-{}", self.ids.business_id());
        self.unknown_ids.insert(id.clone());
        id
    }

    /// Sends an arbitrary request once, outside the lifecycle (forged, malformed or aimed at an
    /// unknown instance).
    pub fn probe(
        &mut self,
        request: Request,
        instance: Option<InstanceRef>,
        options: &CallOptions,
    ) -> CallId {
        self.create_call(
            request,
            Effect::Probe,
            options.policy.unwrap_or(RetryPolicy::ONCE),
            options.delay,
            instance,
        )
    }
}
