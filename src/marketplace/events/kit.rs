//! The joint-operation Kit's events, each making the syncs KooGallery makes (spec:
//! koogallery-v2-kit-license.md §3.1): the seller applies for an app credential, a buyer
//! binds a purchase to its enterprise, an admin authorises users, a department changes.
//!
//! No sync is retried automatically: the buyer or admin decides whether to try again (§3,
//! §8.5). The syncs of one trigger go out a second apart, in the documented order, so that a
//! merchant that needs the tenant before the app is never raced.

use rand::SeedableRng as _;

use crate::marketplace::clock::Span;
use crate::marketplace::engine::{CallId, Effect, EngineError, Marketplace};
use crate::marketplace::events::CallOptions;
use crate::marketplace::kit::{Enterprise, EnterpriseRef, KitFlag};
use crate::marketplace::lifecycle::InstanceRef;
use crate::protocol::v2::kit_sync::{KitSync, MAX_USERS_PER_SYNC};
use crate::protocol::{Activity, Request};

impl Marketplace {
    /// An enterprise.
    pub(crate) fn enterprise(&self, enterprise: EnterpriseRef) -> &Enterprise {
        &self.enterprises[enterprise.0]
    }

    /// Every enterprise, with its reference.
    pub(crate) fn enterprises(&self) -> impl Iterator<Item = (EnterpriseRef, &Enterprise)> {
        self.enterprises
            .iter()
            .enumerate()
            .map(|(i, e)| (EnterpriseRef(i), e))
    }

    fn kit_domain(&self) -> Result<String, EngineError> {
        self.settings
            .kit
            .as_ref()
            .map(|kit| kit.domain_name.clone())
            .ok_or(EngineError::NoKit)
    }

    /// The app every enterprise binds (one credential per product, §3.8).
    fn app_id(&mut self) -> String {
        if self.kit_app.is_none() {
            self.kit_app = Some(format!("app-{}", &self.ids.customer_id()[..16]));
        }
        self.kit_app.clone().unwrap_or_default()
    }

    fn new_enterprise(
        &mut self,
        instance: Option<InstanceRef>,
    ) -> Result<EnterpriseRef, EngineError> {
        self.kit_domain()?;
        let app_id = self.app_id();
        let bound = match instance {
            Some(r) => {
                let entry = self.instance(r);
                let id = entry.merchant_id.clone().ok_or(EngineError::NotBindable)?;
                Some((r, id, entry.order.clone()))
            }
            None => None,
        };
        let names = (
            self.settings.wire.stable_seed,
            self.enterprises.len() as u64,
        );
        let enterprise = Enterprise::new(
            &mut self.ids,
            bound.as_ref().map(|(r, id, order)| (*r, id.clone(), order)),
            &app_id,
            names,
        );
        self.enterprises.push(enterprise);
        Ok(EnterpriseRef(self.enterprises.len() - 1))
    }

    /// One sync as a call of its own, `delay` after the step's.
    fn kit_call(
        &mut self,
        sync: KitSync,
        enterprise: EnterpriseRef,
        options: &CallOptions,
        delay: Span,
    ) -> CallId {
        let policy = self.policy_for(sync.activity(), options);
        let instance = self.enterprises[enterprise.0].instance;
        let call = self.create_call(
            Request::Kit(sync),
            Effect::Notice,
            policy,
            Span(options.delay.0 + delay.0),
            instance,
        );
        self.kit_calls.insert(call, enterprise);
        call
    }

    /// applicationSync with the client secret encrypted for the merchant (§3.3), the OAEP
    /// padding drawn from the run's seed so that a run is reproducible.
    fn application_sync(
        &mut self,
        enterprise: EnterpriseRef,
        flag: KitFlag,
    ) -> Result<KitSync, EngineError> {
        let kit = self.settings.kit.as_ref().ok_or(EngineError::NoKit)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.ids.seed());
        let entry = &self.enterprises[enterprise.0];
        let encrypted = kit
            .public_key
            .encrypt(kit.digest, &mut rng, &entry.client_secret)
            .map_err(|e| EngineError::Encryption(e.to_string()))?;
        Ok(entry.application_sync(flag, encrypted))
    }

    /// tenantSync, applicationSync and allOrgSync, a second apart (§3.1).
    fn announce(
        &mut self,
        enterprise: EnterpriseRef,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        let domain = self.kit_domain()?;
        let tenant = self.enterprises[enterprise.0].tenant_sync(KitFlag::Add, &domain);
        let app = self.application_sync(enterprise, KitFlag::Add)?;
        let orgs = self.enterprises[enterprise.0].all_org_sync();
        Ok([tenant, app, orgs]
            .into_iter()
            .enumerate()
            .map(|(n, sync)| self.kit_call(sync, enterprise, options, Span::seconds(n as i64)))
            .collect())
    }

    /// The seller applies for an app credential: its own enterprise is announced, with empty
    /// instanceId and orderId (§3.1).
    pub(crate) fn apply_credential(
        &mut self,
        options: &CallOptions,
    ) -> Result<(EnterpriseRef, Vec<CallId>), EngineError> {
        let enterprise = self.new_enterprise(None)?;
        Ok((enterprise, self.announce(enterprise, options)?))
    }

    /// A buyer binds a purchased (and opened) instance to its enterprise (§3.1).
    pub(crate) fn bind_enterprise(
        &mut self,
        instance: InstanceRef,
        options: &CallOptions,
    ) -> Result<(EnterpriseRef, Vec<CallId>), EngineError> {
        let enterprise = self.new_enterprise(Some(instance))?;
        Ok((enterprise, self.announce(enterprise, options)?))
    }

    /// The admin authorises `count` new users (`add`), or changes, removes or withdraws the
    /// authorisation of the first `count` users; at most 500 users per authSync (§3.4).
    pub(crate) fn authorize_users(
        &mut self,
        enterprise: EnterpriseRef,
        count: u32,
        flag: KitFlag,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.kit_domain()?;
        let entry = &mut self.enterprises[enterprise.0];
        let users = match flag {
            KitFlag::Add => entry.create_users(count),
            _ => {
                let chosen: Vec<_> = entry.users.iter().take(count as usize).cloned().collect();
                if matches!(flag, KitFlag::Delete | KitFlag::Cancel) {
                    entry.users.drain(..chosen.len());
                }
                chosen
            }
        };
        let syncs: Vec<KitSync> = users
            .chunks(MAX_USERS_PER_SYNC)
            .map(|chunk| self.enterprises[enterprise.0].auth_sync(chunk.to_vec(), flag))
            .collect();
        Ok(syncs
            .into_iter()
            .enumerate()
            .map(|(n, sync)| self.kit_call(sync, enterprise, options, Span::seconds(n as i64)))
            .collect())
    }

    /// A department is created, renamed or deleted (§3.5).
    pub(crate) fn change_department(
        &mut self,
        enterprise: EnterpriseRef,
        flag: KitFlag,
        options: &CallOptions,
    ) -> Result<Vec<CallId>, EngineError> {
        self.kit_domain()?;
        let entry = &mut self.enterprises[enterprise.0];
        let org = match flag {
            KitFlag::Add => entry.create_org(),
            _ if entry.orgs.len() < 2 => return Err(EngineError::NoDepartment),
            KitFlag::Modify => {
                let last = entry.orgs.len() - 1;
                entry.orgs[last].org_name.push_str(" (renamed)");
                entry.orgs[last].clone()
            }
            _ => entry.orgs.pop().unwrap_or_default(),
        };
        let sync = self.enterprises[enterprise.0].single_org_sync(&org, flag);
        Ok(vec![self.kit_call(sync, enterprise, options, Span::ZERO)])
    }

    /// One sync of `activity` with `flag` about an enterprise as it stands — or, with none,
    /// about an enterprise never announced (a delete before any add must succeed too).
    pub(crate) fn kit_sync(
        &mut self,
        enterprise: Option<EnterpriseRef>,
        activity: Activity,
        flag: KitFlag,
        options: &CallOptions,
    ) -> Result<(EnterpriseRef, Vec<CallId>), EngineError> {
        let enterprise = match enterprise {
            Some(e) => e,
            None => self.new_enterprise(None)?,
        };
        let entry = &self.enterprises[enterprise.0];
        let sync = match activity {
            Activity::TenantSync => entry.tenant_sync(flag, &self.kit_domain()?),
            Activity::ApplicationSync => self.application_sync(enterprise, flag)?,
            Activity::AuthSync => {
                let users = if entry.users.is_empty() {
                    self.enterprises[enterprise.0].create_users(1)
                } else {
                    entry.users.clone()
                };
                self.enterprises[enterprise.0].auth_sync(users, flag)
            }
            Activity::SingleOrgSync => {
                let entry = &mut self.enterprises[enterprise.0];
                let org = if entry.orgs.len() < 2 {
                    entry.create_org()
                } else {
                    entry.orgs[entry.orgs.len() - 1].clone()
                };
                entry.single_org_sync(&org, flag)
            }
            Activity::AllOrgSync => entry.all_org_sync(),
            other => {
                return Err(EngineError::NotInProtocol {
                    activity: other,
                    protocol: self.settings.protocol,
                });
            }
        };
        Ok((
            enterprise,
            vec![self.kit_call(sync, enterprise, options, Span::ZERO)],
        ))
    }
}
