//! Calls outside the lifecycle: queryInstance when the buyer views resource details,
//! changeInstanceCheck, the console's debug cases, resends of earlier calls, and single
//! requests about an instance (or one never issued) for the security checks.

use crate::marketplace::engine::{CallId, Effect, EngineError, Marketplace};
use crate::marketplace::events::CallOptions;
use crate::marketplace::lifecycle::{Instance, InstanceRef, InstanceState, OrderLine};
use crate::marketplace::requests;
use crate::marketplace::retry::RetryPolicy;
use crate::protocol::{Activity, Request};

impl Marketplace {
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
    pub(crate) fn change_check(
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
    pub(crate) fn debug_case(
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
    pub(crate) fn resend(
        &mut self,
        call: CallId,
        copies: u32,
        options: &CallOptions,
    ) -> Vec<CallId> {
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
                if let Some(enterprise) = self.kit_calls.get(&call).copied() {
                    self.kit_calls.insert(id, enterprise);
                }
                id
            })
            .collect()
    }

    /// Sends a typical request for `activity` once, outside the lifecycle, about an earlier
    /// instance or — when `instance` is `None` — about an id the merchant never issued.
    pub(crate) fn probe_activity(
        &mut self,
        activity: Activity,
        instance: Option<InstanceRef>,
        options: &CallOptions,
    ) -> Result<CallId, EngineError> {
        let subject = match instance {
            Some(instance) => self.instance(instance).clone(),
            None => {
                let order = self.ids.order_id();
                let line = OrderLine {
                    line: format!("{order}-000001"),
                    order,
                    product_id: self.settings.catalog.product_id.clone(),
                    sku_code: self.settings.catalog.sku_code.clone(),
                };
                let billing = self.settings.billing;
                let expire_at = billing.has_expiry().then(|| self.now.plus_months(1));
                let mut unknown = Instance::pending(line, billing, expire_at);
                unknown.merchant_id = Some(self.unknown_instance_id());
                unknown.state = InstanceState::Active;
                unknown
            }
        };
        let protocol = self.settings.protocol;
        let request = requests::about(
            &self.settings,
            &mut self.ids,
            self.now,
            &self.buyer,
            activity,
            &subject,
        )
        .ok_or(EngineError::NotInProtocol { activity, protocol })?;
        Ok(self.probe(request, instance, options))
    }

    /// An id the merchant never issued, for queries about unknown instances.
    pub(crate) fn unknown_instance_id(&mut self) -> String {
        let id = format!("kgsim-unknown-{}", self.ids.business_id());
        self.unknown_ids.insert(id.clone());
        id
    }

    /// Sends an arbitrary request once, outside the lifecycle (forged, malformed or aimed at an
    /// unknown instance).
    pub(crate) fn probe(
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

impl Marketplace {
    /// The buyer of an online-License product applies for a License for one device
    /// (getLicenseAsync, spec V2 §4.5): a new marketplace event, retried as its siblings.
    /// `fingerprint: None` applies without a device fingerprint.
    pub(crate) fn apply_license(
        &mut self,
        instance: InstanceRef,
        fingerprint: Option<&str>,
        options: &CallOptions,
    ) -> Result<CallId, EngineError> {
        if self.settings.product != crate::marketplace::kind::ProductType::OnlineLicense {
            return Err(EngineError::NotForProduct(
                "only online-License products apply for Licenses: pass --product online-license"
                    .into(),
            ));
        }
        self.instance(instance).queryable()?;
        let event_id = self.ids.business_id();
        let request =
            requests::get_license_async(self.instance(instance), self.now, event_id, fingerprint);
        let policy = self.policy_for(Activity::GetLicenseAsync, options);
        Ok(self.create_call(
            request,
            Effect::Notice,
            policy,
            options.delay,
            Some(instance),
        ))
    }
}
