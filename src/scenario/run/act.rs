//! Turning a step's action into marketplace events: each action family in a function of its
//! own, returning the calls it made and what the step captures.

use crate::marketplace::engine::CallState;
use crate::marketplace::kit::EnterpriseRef;
use crate::marketplace::lifecycle::InstanceRef;
use crate::marketplace::requests::SAMPLE_FINGERPRINT;
use crate::marketplace::requests::debug_variants;
use crate::marketplace::{CallId, CallOptions, EngineError, PurchaseSpec};
use crate::protocol::Activity;
use crate::protocol::UnixMillis;
use crate::scenario::format::model::{Action, Advance, DebugCases, Ref, Step};
use crate::scenario::run::state::{Acted, Capture, Run};

#[expect(
    clippy::needless_pass_by_value,
    reason = "used as `map_err(engine_error)`"
)]
fn engine_error(error: EngineError) -> String {
    error.to_string()
}

impl Run<'_> {
    fn instance_of(&self, reference: &Ref) -> Result<InstanceRef, String> {
        self.instance(&reference.name)
            .ok_or_else(|| format!("`{}` has no instance", reference.name))
    }

    /// Performs the step's action on the engine.
    pub(crate) fn act(&mut self, step: &Step) -> Result<Acted, String> {
        let options = CallOptions {
            delay: step.faults.delay,
            policy: None,
        };
        let now = self.engine.now();
        let mut capture = Capture::default();
        let calls = match &step.action {
            Action::Purchase { .. } => self.purchase(step, options, &mut capture)?,
            Action::Resend(reference) => self.resend(reference, step, &options, &mut capture),
            Action::Query { instances, unknown } => {
                self.query(instances, *unknown, &options, &mut capture)?
            }
            Action::Debug(cases) => self.debug(cases, &options)?,
            Action::Send { activity, instance } => {
                self.send(*activity, instance.as_ref(), step, &options, &mut capture)?
            }
            Action::Restart(reference) => self.restart(reference)?,
            // Performed by the runner itself: they wait for the merchant, not the marketplace.
            Action::Await(_) | Action::EnterLicense(_) | Action::Login { .. } => Vec::new(),
            Action::ApplyCredential
            | Action::BindEnterprise(_)
            | Action::AuthorizeUsers { .. }
            | Action::ChangeDepartment { .. }
            | Action::KitSync { .. } => {
                let calls = self.kit(&step.action, &options, &mut capture)?;
                // The syncs of one trigger go out a second apart: the step runs until the
                // last is due.
                let until = calls
                    .iter()
                    .map(|c| self.engine.call(*c).first_due)
                    .fold(now, UnixMillis::max);
                return Ok(Acted {
                    calls,
                    capture,
                    until,
                });
            }
            Action::ApplyLicense {
                instance,
                fingerprint,
            } => {
                let instance = self.instance_of(instance)?;
                capture.instances = vec![instance];
                let fingerprint = fingerprint.then_some(SAMPLE_FINGERPRINT);
                let call = self.engine.apply_license(instance, fingerprint, &options);
                vec![call.map_err(engine_error)?]
            }
            Action::Advance(advance) => {
                let until = match advance {
                    Advance::Span(span) => now.plus_ms(span.as_millis()),
                    Advance::Period(period) => period.end_from(now),
                };
                return Ok(Acted {
                    calls: Vec::new(),
                    capture,
                    until,
                });
            }
            Action::Renew {
                instance: subject, ..
            }
            | Action::ConvertTrial {
                instance: subject, ..
            }
            | Action::RefundRenewal(subject)
            | Action::Upgrade(subject)
            | Action::Freeze(subject)
            | Action::Unfreeze(subject)
            | Action::Arrears(subject)
            | Action::Recharge(subject)
            | Action::ExhaustQuota(subject)
            | Action::Expire(subject)
            | Action::Unsubscribe(subject)
            | Action::ChangeCheck(subject) => {
                let instance = self.instance_of(subject)?;
                capture.instances = vec![instance];
                let calls = self.lifecycle(&step.action, instance, &options)?;
                // A renewal, conversion, refund or upgrade places an order of its own.
                capture.order = calls
                    .iter()
                    .find_map(|c| match &self.engine.call(*c).effect {
                        crate::marketplace::engine::Effect::Order { order, .. } => {
                            Some(order.clone())
                        }
                        _ => None,
                    });
                calls
            }
        };
        Ok(Acted {
            calls,
            capture,
            until: now,
        })
    }

    /// The buyer pays a new order.
    fn purchase(
        &mut self,
        step: &Step,
        options: CallOptions,
        capture: &mut Capture,
    ) -> Result<Vec<CallId>, String> {
        let Action::Purchase {
            billing,
            period,
            trial,
            products,
            package_for,
            stop_when_used_up,
            quota,
        } = &step.action
        else {
            return Ok(Vec::new());
        };
        let package_for = package_for
            .as_ref()
            .map(|r| self.instance_of(r))
            .transpose()?;
        let spec = PurchaseSpec {
            billing: *billing,
            period: *period,
            trial: *trial,
            products: *products,
            package_for,
            stop_when_used_up: *stop_when_used_up,
            quota: *quota,
            copies: step.faults.copies.max(1),
            options,
        };
        let purchase = self.engine.purchase(&spec);
        capture.order = Some(purchase.order);
        capture.instances = purchase.instances;
        Ok(purchase.calls)
    }

    fn enterprise_of(&self, reference: &Ref) -> Result<EnterpriseRef, String> {
        self.captures
            .get(&reference.name)
            .and_then(|c| c.enterprise)
            .ok_or_else(|| format!("`{}` announced no enterprise", reference.name))
    }

    /// A Kit event: the enterprise it concerns (or announces) is captured.
    fn kit(
        &mut self,
        action: &Action,
        options: &CallOptions,
        capture: &mut Capture,
    ) -> Result<Vec<CallId>, String> {
        let (enterprise, calls) = match action {
            Action::ApplyCredential => self.engine.apply_credential(options),
            Action::BindEnterprise(purchase) => {
                let instance = self.instance_of(purchase)?;
                capture.instances = vec![instance];
                self.engine.bind_enterprise(instance, options)
            }
            Action::AuthorizeUsers {
                enterprise,
                users,
                flag,
            } => {
                let enterprise = self.enterprise_of(enterprise)?;
                self.engine
                    .authorize_users(enterprise, *users, *flag, options)
                    .map(|calls| (enterprise, calls))
            }
            Action::ChangeDepartment { enterprise, flag } => {
                let enterprise = self.enterprise_of(enterprise)?;
                self.engine
                    .change_department(enterprise, *flag, options)
                    .map(|calls| (enterprise, calls))
            }
            Action::KitSync {
                interface,
                enterprise,
                flag,
            } => {
                let enterprise = enterprise
                    .as_ref()
                    .map(|e| self.enterprise_of(e))
                    .transpose()?;
                self.engine.kit_sync(enterprise, *interface, *flag, options)
            }
            _ => return Ok(Vec::new()),
        }
        .map_err(engine_error)?;
        capture.enterprise = Some(enterprise);
        Ok(calls)
    }

    /// A business event on one instance.
    fn lifecycle(
        &mut self,
        action: &Action,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, String> {
        let engine = &mut self.engine;
        match action {
            Action::Renew { period, .. } => engine.renew(instance, *period, options),
            Action::ConvertTrial { period, .. } => engine.convert_trial(instance, *period, options),
            Action::RefundRenewal(_) => engine.refund_renewal(instance, options),
            Action::Upgrade(_) => engine.upgrade(instance, options),
            Action::Freeze(_) => engine.suspend(instance, options),
            Action::Unfreeze(_) => engine.resume(instance, options),
            Action::Arrears(_) => engine.arrears(instance, options),
            Action::Recharge(_) => engine.recharge(instance, options),
            Action::ExhaustQuota(_) => engine.exhaust_quota(instance, options),
            Action::Unsubscribe(_) => engine.unsubscribe(instance, options),
            Action::ChangeCheck(_) => engine.change_check(instance, options).map(|c| vec![c]),
            _ => engine.expire_now(instance).map(|()| Vec::new()),
        }
        .map_err(engine_error)
    }

    /// Re-sends one original call per instance of a purchase, or every call of another step.
    fn resend(
        &mut self,
        reference: &Ref,
        step: &Step,
        options: &CallOptions,
        capture: &mut Capture,
    ) -> Vec<CallId> {
        let original = self
            .captures
            .get(&reference.name)
            .cloned()
            .unwrap_or_default();
        capture.instances.clone_from(&original.instances);
        let mut seen = Vec::new();
        let originals: Vec<CallId> = original
            .calls
            .iter()
            .copied()
            .filter(|call| match self.engine.call(*call).instance {
                Some(instance) if original.order.is_some() => {
                    let first = !seen.contains(&instance);
                    seen.push(instance);
                    first
                }
                _ => true,
            })
            .collect();
        originals
            .into_iter()
            .flat_map(|call| self.engine.resend(call, step.faults.copies, options))
            .collect()
    }

    fn query(
        &mut self,
        instances: &[Ref],
        unknown: u32,
        options: &CallOptions,
        capture: &mut Capture,
    ) -> Result<Vec<CallId>, String> {
        let refs: Vec<InstanceRef> = instances
            .iter()
            .filter_map(|r| self.instance(&r.name))
            .collect();
        let unknown: Vec<String> = (0..unknown)
            .map(|_| self.engine.unknown_instance_id())
            .collect();
        capture.instances.clone_from(&refs);
        let call = self
            .engine
            .query(&refs, &unknown, options)
            .map_err(engine_error)?;
        Ok(vec![call])
    }

    /// The console's debug cases: every variant the page requires, for the activities named
    /// (`all`: every interface of the product's kind).
    fn debug(&mut self, cases: &DebugCases, options: &CallOptions) -> Result<Vec<CallId>, String> {
        let protocol = self.engine.settings().protocol;
        let mut activities: Vec<Activity> = match &cases.activities {
            Some(list) => list.clone(),
            None => self.context.profile.debug_activities(),
        };
        if cases.reversed {
            activities.reverse();
        }
        let mut calls = Vec::new();
        for _ in 0..cases.repeat {
            for activity in activities
                .iter()
                .filter(|a| a.wire_name(protocol).is_some())
            {
                let variants = match cases.variant {
                    Some(variant) => vec![variant],
                    None => (0..debug_variants(self.engine.settings(), *activity)).collect(),
                };
                for variant in variants {
                    let call = self.engine.debug_case(*activity, variant, options);
                    calls.push(call.map_err(engine_error)?);
                }
            }
        }
        Ok(calls)
    }

    fn send(
        &mut self,
        activity: Activity,
        instance: Option<&Ref>,
        step: &Step,
        options: &CallOptions,
        capture: &mut Capture,
    ) -> Result<Vec<CallId>, String> {
        let instance = instance.map(|r| self.instance_of(r)).transpose()?;
        capture.instances = instance.into_iter().collect();
        (0..step.faults.copies.max(1))
            .map(|_| {
                self.engine
                    .probe_activity(activity, instance, options)
                    .map_err(engine_error)
            })
            .collect()
    }

    fn restart(&mut self, reference: &Ref) -> Result<Vec<CallId>, String> {
        let failed: Vec<CallId> = self
            .captures
            .get(&reference.name)
            .map(|c| {
                c.calls
                    .iter()
                    .copied()
                    .filter(|c| self.engine.call(*c).state == CallState::Exhausted)
                    .collect()
            })
            .unwrap_or_default();
        if failed.is_empty() {
            return Err(format!(
                "`{}` has no failed call to restart",
                reference.name
            ));
        }
        for call in &failed {
            self.engine.restart(*call).map_err(engine_error)?;
        }
        Ok(failed)
    }
}
