//! What a call's success or exhaustion does to orders and instances: a purchase opens (or
//! starts provisioning, or is refunded), an order applies (and starts what follows it), a
//! provisioning poll opens the instance.

use crate::marketplace::classify::Judgement;
use crate::marketplace::clock::Span;
use crate::marketplace::engine::{CallId, CallState, Effect, FollowUp, Marketplace};
use crate::marketplace::lifecycle::{InstanceRef, InstanceState, OrderState};
use crate::marketplace::requests;
use crate::marketplace::retry::Purpose;

impl Marketplace {
    pub(super) fn on_accepted(
        &mut self,
        id: CallId,
        effect: &Effect,
        instance_id: Option<String>,
        judgement: &Judgement,
    ) {
        match effect {
            Effect::Purchase { instance } => {
                let instance = *instance;
                let merchant_id = instance_id.unwrap_or_default();
                let state = self.instances[instance.0].state;
                if state != InstanceState::Pending {
                    return;
                }
                if judgement.provisioning && self.settings.polls_after_create() {
                    let _ = self.instances[instance.0].start_provisioning(merchant_id);
                    self.set_order_state(
                        &self.instances[instance.0].order.clone(),
                        OrderState::Provisioning,
                    );
                } else {
                    self.open_instance(instance, merchant_id);
                }
                if self.settings.polls_after_create() {
                    self.start_poll(instance, id);
                }
            }
            Effect::Poll { instance } => {
                if self.instances[instance.0].state == InstanceState::Provisioning {
                    let merchant_id = self.instances[instance.0]
                        .merchant_id
                        .clone()
                        .unwrap_or_default();
                    self.open_instance(*instance, merchant_id);
                }
            }
            Effect::Order { order, then } => {
                self.set_order_state(order, OrderState::Opened);
                if let Some(follow_up) = then {
                    self.follow_up(*follow_up);
                }
            }
            Effect::Notice | Effect::Probe => {}
        }
    }

    pub(super) fn on_exhausted(&mut self, id: CallId, effect: &Effect, refund: bool) {
        match effect {
            Effect::Purchase { instance } | Effect::Poll { instance } => {
                let instance = *instance;
                let still_trying = self.calls.iter().any(|c| {
                    c.id != id
                        && c.state == CallState::Scheduled
                        && matches!(c.effect, Effect::Purchase { instance: i } | Effect::Poll { instance: i } if i == instance)
                });
                if still_trying || self.instances[instance.0].fail().is_err() {
                    return;
                }
                let order = self.instances[instance.0].order.clone();
                self.set_order_state(&order, OrderState::Failed { refunded: refund });
            }
            Effect::Order { order, .. } => {
                self.set_order_state(order, OrderState::Failed { refunded: refund });
            }
            Effect::Notice | Effect::Probe => {}
        }
    }

    pub(crate) fn open_instance(&mut self, instance: InstanceRef, merchant_id: String) {
        if self.instances[instance.0].open(merchant_id).is_err() {
            return;
        }
        let order = self.instances[instance.0].order.clone();
        let all_open = self
            .instances_of(&order)
            .iter()
            .all(|i| self.instances[i.0].state == InstanceState::Active);
        if all_open {
            self.set_order_state(&order, OrderState::Opened);
        }
        self.schedule_period_end(instance);
    }

    fn start_poll(&mut self, instance: InstanceRef, after: CallId) {
        let already = self.calls.iter().any(|c| {
            c.id != after && matches!(c.effect, Effect::Poll { instance: i } if i == instance)
        });
        let Some(merchant_id) = self.instances[instance.0].merchant_id.clone() else {
            return;
        };
        if already {
            return;
        }
        let request = requests::query(&self.settings, &[merchant_id], false);
        let policy = self.settings.retries.policy(Purpose::ProvisioningPoll);
        self.create_call(
            request,
            Effect::Poll { instance },
            policy,
            Span::ZERO,
            Some(instance),
        );
    }

    /// Starts the call that waited for another one's acceptance.
    fn follow_up(&mut self, follow_up: FollowUp) {
        match follow_up {
            FollowUp::Unfreeze(instance) => {
                let request = requests::status(&self.settings, self.instance(instance), false);
                self.notice_now(request, instance);
            }
        }
    }
}
