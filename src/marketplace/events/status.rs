//! Freezes and their lifting: a violation (any kind with a status interface), on-demand
//! arrears with their grace and retention, a stop-when-used-up package's exhausted quota, and
//! a period ended early (spec V1 §4.3, §4.6, §9; V2 §2.4, §7.1).

use crate::marketplace::engine::{CallId, Effect, EngineError, Marketplace};
use crate::marketplace::events::CallOptions;
use crate::marketplace::lifecycle::{FreezeReason, InstanceRef, InstanceState, LifecycleError};
use crate::marketplace::requests;

impl Marketplace {
    fn status_notice(
        &mut self,
        instance: InstanceRef,
        freeze: bool,
        options: &CallOptions,
    ) -> Vec<CallId> {
        let request = requests::status(&self.settings, self.instance(instance), freeze);
        vec![self.notify(request, Effect::Notice, instance, options)]
    }

    /// A violation freezes the instance (V1 instanceStatus FREEZE, V2 updateInstanceStatus
    /// FREEZE): "到期、违规等场景…商家将指定的实例冻结".
    pub(crate) fn suspend(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.instances[instance.0].freeze(FreezeReason::Suspended)?;
        Ok(self.status_notice(instance, true, options))
    }

    /// The violation is lifted: unfreeze (V1 instanceStatus NORMAL, V2 UNFREEZE).
    pub(crate) fn resume(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.instances[instance.0].resume(FreezeReason::Suspended)?;
        Ok(self.status_notice(instance, false, options))
    }

    /// The buyer's account falls into arrears over an on-demand resource: the instance is
    /// frozen — at once, or after the grace period (the `freeze-start` reading) — and
    /// released after the retention period unless the buyer pays first (spec V1 §9, the
    /// on-demand columns of the grace/retention table).
    pub(crate) fn arrears(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        let inst = self.instance(instance);
        if !inst.billing.is_on_demand_family() || inst.state != InstanceState::Active {
            return Err(LifecycleError {
                event: "put into arrears",
                state: inst.state,
            }
            .into());
        }
        self.instances[instance.0].arrears_since = Some(self.now);
        let freeze_now = self.schedule_arrears(instance);
        if !freeze_now {
            return Ok(Vec::new());
        }
        self.instances[instance.0].freeze(FreezeReason::Arrears)?;
        Ok(self.status_notice(instance, true, options))
    }

    /// The buyer pays the arrears: a frozen instance is unfrozen; one still in its grace
    /// period simply stays active. Either way the release is called off.
    pub(crate) fn recharge(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        let inst = self.instance(instance);
        let state = inst.state;
        match state {
            InstanceState::Frozen(
                reason @ (FreezeReason::Arrears | FreezeReason::QuotaExhausted),
            ) => {
                self.cancel_instance_timers(instance);
                self.instances[instance.0].resume(reason)?;
                Ok(self.status_notice(instance, false, options))
            }
            InstanceState::Active if inst.arrears_since.is_some() => {
                self.cancel_instance_timers(instance);
                self.instances[instance.0].arrears_since = None;
                Ok(Vec::new())
            }
            _ => Err(LifecycleError {
                event: "recharge",
                state,
            }
            .into()),
        }
    }

    /// A stop-when-used-up package's quota is used up: the on-demand instance it pays for
    /// stops (its status FREEZE) until the buyer recharges (spec V2 §7.1: "用完即停").
    pub(crate) fn exhaust_quota(
        &mut self,
        package: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        let inst = self.instance(package);
        let Some(usage) = inst.serves.filter(|_| inst.stop_when_used_up) else {
            return Err(EngineError::NotAPackage(
                "stop a stop-when-used-up package's usage",
            ));
        };
        self.instances[usage.0].freeze(FreezeReason::QuotaExhausted)?;
        Ok(self.status_notice(usage, true, options))
    }

    /// Ends the period now rather than waiting for it: the freeze notice goes out at once and
    /// release follows after retention.
    pub(crate) fn expire_now(&mut self, instance: InstanceRef) -> Result<(), EngineError> {
        let billing = self.instance(instance).billing;
        if !billing.has_expiry() {
            return Err(EngineError::NoPeriod(billing, "expire"));
        }
        if self.instance(instance).state != InstanceState::Active {
            return Err(LifecycleError {
                event: "expire",
                state: self.instance(instance).state,
            }
            .into());
        }
        self.instances[instance.0].expire_at = Some(self.now);
        self.schedule_period_end(instance);
        Ok(())
    }
}
