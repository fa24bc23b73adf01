//! Orders on an existing instance: renewal, trial to formal, refund of a renewal period,
//! upgrade, unsubscription (spec V1 §4.2–4.5, §9; V2 §2.3–2.6).

use crate::marketplace::engine::{CallId, Effect, EngineError, FollowUp, Marketplace};
use crate::marketplace::events::CallOptions;
use crate::marketplace::lifecycle::{
    FreezeReason, InstanceRef, InstanceState, LifecycleError, OrderKind, OrderState,
};
use crate::marketplace::requests::{self, Refresh};
use crate::protocol::{Period, Protocol, UnixMillis};

impl Marketplace {
    fn require_period(&self, instance: InstanceRef, what: &'static str) -> Result<(), EngineError> {
        let billing = self.instance(instance).billing;
        if billing.has_expiry() {
            Ok(())
        } else {
            Err(EngineError::NoPeriod(billing, what))
        }
    }

    /// After a renewal or conversion lifts an expiry freeze, V2 also sends
    /// updateInstanceStatus UNFREEZE ("unfreeze after renewal", V2 §2.4) — once the
    /// refreshInstance has been answered, never concurrently with it. V1 unfreezes by
    /// refreshInstance alone (V1 §9).
    fn unfreeze_after(&self, instance: InstanceRef, was_frozen: bool) -> Option<FollowUp> {
        (was_frozen && self.settings.protocol == Protocol::V2)
            .then_some(FollowUp::Unfreeze(instance))
    }

    fn is_expired(&self, instance: InstanceRef) -> bool {
        self.instance(instance).state == InstanceState::Frozen(FreezeReason::Expired)
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
        let new_expiry = period.end_from(current);
        self.extend(instance, Refresh::Renewal(period), new_expiry, options)
    }

    /// A trial converts to a paid subscription for `period`, starting now [I:trial-conversion].
    pub(crate) fn convert_trial(
        &mut self,
        instance: InstanceRef,
        period: Option<Period>,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.require_period(instance, "convert")?;
        let period = period.unwrap_or(Period::ONE_MONTH);
        let new_expiry = period.end_from(self.now);
        self.extend(
            instance,
            Refresh::TrialToFormal(period),
            new_expiry,
            options,
        )
    }

    /// A renewal or a trial's conversion: its order moves the expiry to `new_expiry` and
    /// refreshInstance tells the merchant; an instance frozen at its period's end is
    /// unfrozen once that refreshInstance is accepted (V2 §2.4).
    fn extend(
        &mut self,
        instance: InstanceRef,
        why: Refresh,
        new_expiry: UnixMillis,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        let then = self.unfreeze_after(instance, self.is_expired(instance));
        let order = match why {
            Refresh::TrialToFormal(_) => {
                let order = self.place_order(OrderKind::TrialToFormal, Some(instance));
                self.instances[instance.0].convert_trial(order.clone(), new_expiry)?;
                order
            }
            _ => {
                let order = self.place_order(OrderKind::Renewal, Some(instance));
                self.instances[instance.0].renew(order.clone(), new_expiry)?;
                order
            }
        };
        self.schedule_period_end(instance);
        let request = requests::refresh(
            &self.settings,
            self.instance(instance),
            &order,
            why,
            new_expiry,
        );
        let effect = Effect::Order { order, then };
        Ok(vec![self.notify(request, effect, instance, options)])
    }

    /// The buyer unsubscribes the latest renewal before it starts (退续费): refreshInstance
    /// with the earlier expiry — V1 with a negative orderAmount under a new order [I:v1-renewal-refund], V2
    /// with scene UNSUBSCRIBE_RENEWAL_PERIOD under the renewal's own order (V2 §2.3).
    pub(crate) fn refund_renewal(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.require_period(instance, "refund")?;
        let restored = self.instances[instance.0].refund_renewal(self.now)?;
        let renewal = match self.settings.protocol {
            Protocol::V1 => None,
            Protocol::V2 => self
                .instance(instance)
                .renewals
                .iter()
                .rev()
                .find(|r| r.refunded)
                .map(|r| r.order.clone()),
        };
        let order =
            renewal.unwrap_or_else(|| self.place_order(OrderKind::RenewalRefund, Some(instance)));
        if let Some(existing) = self.orders.get_mut(&order) {
            existing.state = OrderState::Pending;
            existing.settled_at = None;
        }
        self.schedule_period_end(instance);
        let why = Refresh::RenewalRefund;
        let request = requests::refresh(
            &self.settings,
            self.instance(instance),
            &order,
            why,
            restored,
        );
        let effect = Effect::Order { order, then: None };
        Ok(vec![self.notify(request, effect, instance, options)])
    }

    /// The buyer pays an upgrade order.
    pub fn upgrade(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        if self.instance(instance).state != InstanceState::Active {
            return Err(LifecycleError {
                event: "upgrade",
                state: self.instance(instance).state,
            }
            .into());
        }
        let order = self.place_order(OrderKind::Upgrade, Some(instance));
        self.instances[instance.0].upgrade(order.clone())?;
        let request = requests::upgrade(&self.settings, self.instance(instance), &order);
        let effect = Effect::Order { order, then: None };
        Ok(vec![self.notify(request, effect, instance, options)])
    }

    /// The buyer unsubscribes: the instance is released at once.
    pub(crate) fn unsubscribe(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.instances[instance.0].release()?;
        self.cancel_instance_timers(instance);
        let order = self.place_order(OrderKind::Unsubscribe, Some(instance));
        self.set_order_state(&order, OrderState::Opened);
        let request = requests::release(&self.settings, self.instance(instance), Some(&order));
        Ok(vec![self.notify(
            request,
            Effect::Notice,
            instance,
            options,
        )])
    }
}
