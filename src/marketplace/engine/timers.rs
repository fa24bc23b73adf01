//! Business time on the timer queue: a period ends (freeze, at expiry or after grace), on-demand
//! arrears run out their grace (freeze), a retention period ends (release) — the notices
//! KooGallery sends on its own (spec V1 §9; V2 §2.4–2.5).

use crate::marketplace::clock::Span;
use crate::marketplace::engine::{Effect, Marketplace, Timer};
use crate::marketplace::lifecycle::{FreezeReason, InstanceRef, InstanceState};
use crate::marketplace::requests;
use crate::marketplace::retry::Purpose;
use crate::marketplace::settings::FreezeStart;
use crate::protocol::Request;

impl Marketplace {
    pub(crate) fn cancel_instance_timers(&mut self, instance: InstanceRef) {
        for timer in self.instance_timers.remove(&instance).unwrap_or_default() {
            self.timers.cancel(timer);
        }
    }

    pub(crate) fn schedule_period_end(&mut self, instance: InstanceRef) {
        self.cancel_instance_timers(instance);
        let inst = &self.instances[instance.0];
        let Some(expire_at) = inst.expire_at else {
            return;
        };
        let grace = self.settings.customer_level.periods(inst.billing).grace;
        let at = match self.settings.freeze_start {
            FreezeStart::AtExpiry => expire_at,
            FreezeStart::AfterGrace => expire_at.plus_ms(grace.0),
        };
        let timer = self.timers.schedule(at, Timer::PeriodEnd(instance));
        self.instance_timers
            .entry(instance)
            .or_default()
            .push(timer);
    }

    pub(super) fn on_period_end(&mut self, instance: InstanceRef) {
        if self.instances[instance.0]
            .freeze(FreezeReason::Expired)
            .is_err()
        {
            return;
        }
        let request = requests::period_end(&self.settings, &self.instances[instance.0]);
        self.notice_now(request, instance);
        let billing = self.instances[instance.0].billing;
        let retention = self.settings.customer_level.periods(billing).retention;
        let timer = self
            .timers
            .schedule(self.now.plus_ms(retention.0), Timer::RetentionEnd(instance));
        self.instance_timers
            .entry(instance)
            .or_default()
            .push(timer);
    }

    pub(super) fn on_retention_end(&mut self, instance: InstanceRef) {
        let released_after = matches!(
            self.instances[instance.0].state,
            InstanceState::Frozen(FreezeReason::Expired | FreezeReason::Arrears)
        );
        if !released_after {
            return;
        }
        if self.instances[instance.0].release().is_err() {
            return;
        }
        let request = requests::release(&self.settings, &self.instances[instance.0], None);
        self.notice_now(request, instance);
    }

    fn add_instance_timer(
        &mut self,
        instance: InstanceRef,
        at: crate::protocol::UnixMillis,
        timer: Timer,
    ) {
        let id = self.timers.schedule(at, timer);
        self.instance_timers.entry(instance).or_default().push(id);
    }

    /// Schedules what on-demand arrears lead to; returns whether the freeze is due now (at
    /// once, as for expiry: the `freeze-start` reading applies to both).
    pub(crate) fn schedule_arrears(&mut self, instance: InstanceRef) -> bool {
        self.cancel_instance_timers(instance);
        let billing = self.instances[instance.0].billing;
        let periods = self.settings.customer_level.periods(billing);
        match self.settings.freeze_start {
            FreezeStart::AtExpiry => {
                let at = self.now.plus_ms(periods.retention.0);
                self.add_instance_timer(instance, at, Timer::RetentionEnd(instance));
                true
            }
            FreezeStart::AfterGrace => {
                let at = self.now.plus_ms(periods.grace.0);
                self.add_instance_timer(instance, at, Timer::ArrearsFreeze(instance));
                false
            }
        }
    }

    /// The arrears' grace ran out: freeze, and release after retention.
    pub(super) fn on_arrears_freeze(&mut self, instance: InstanceRef) {
        if self.instances[instance.0]
            .freeze(FreezeReason::Arrears)
            .is_err()
        {
            return;
        }
        let request = requests::status(&self.settings, &self.instances[instance.0], true);
        self.notice_now(request, instance);
        let billing = self.instances[instance.0].billing;
        let retention = self.settings.customer_level.periods(billing).retention;
        let at = self.now.plus_ms(retention.0);
        self.add_instance_timer(instance, at, Timer::RetentionEnd(instance));
    }

    /// Sends a notice the marketplace itself decided on (not a scenario step), with the
    /// activity's documented retry policy, starting now.
    pub(super) fn notice_now(&mut self, request: Request, instance: InstanceRef) {
        let policy = self
            .settings
            .retries
            .policy(Purpose::Notify(request.activity()));
        self.create_call(request, Effect::Notice, policy, Span::ZERO, Some(instance));
    }
}
