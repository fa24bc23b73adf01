//! What a step's expectations are judged on: each call as it stands at the end of the step,
//! the subject's order and instance, and what every capture stands for — recorded by the
//! runner, read by [`crate::conformance`].

use std::collections::BTreeMap;

use crate::deliver::Performed;
use crate::marketplace::engine::{AttemptResult, Effect};
use crate::marketplace::{CallId, Span};
use crate::protocol::Activity;
use crate::scenario::format::model::Step;
use crate::scenario::result::{CallFacts, CaptureFacts, StepFacts, SubjectFacts};
use crate::scenario::run::state::{Capture, Run};

impl Run<'_> {
    fn call_facts(&self, id: CallId) -> CallFacts {
        let call = self.engine.call(id);
        let performed: Vec<&Performed> = self
            .exchanges
            .iter()
            .map(|e| &e.performed)
            .filter(|p| p.delivery.call == id)
            .collect();
        let last = performed.last();
        let last_accepted = performed.iter().rev().find(|p| p.judgement.accepted());
        let attempts = call
            .attempts
            .iter()
            .map(|a| {
                let accepted = match a.result {
                    AttemptResult::Pending => None,
                    AttemptResult::Rejected { .. } => Some(false),
                    AttemptResult::Accepted { .. } | AttemptResult::Provisioning { .. } => {
                        Some(true)
                    }
                };
                (Span::between(call.first_due, a.due), accepted)
            })
            .collect();
        CallFacts {
            id: id.0,
            activity: call.activity(),
            attempts,
            final_code: last
                .and_then(|p| p.judgement.answer.as_ref())
                .and_then(|a| a.result_code.clone()),
            final_rule: last.and_then(|p| p.judgement.first_rule()),
            returned_ids: performed
                .iter()
                .filter_map(|p| p.facts.instance_id.clone())
                .collect(),
            expected_instance: call
                .instance
                .and_then(|i| self.engine.instance(i).merchant_id.clone()),
            credentials: last_accepted.map_or_else(Vec::new, |p| p.facts.credentials.clone()),
            listed: last_accepted.and_then(|p| p.facts.listed),
            order: call
                .instance
                .map(|i| self.engine.instance(i).order.0.clone()),
        }
    }

    fn capture_facts(&self) -> BTreeMap<String, CaptureFacts> {
        self.captures
            .iter()
            .map(|(name, c)| {
                let instance_ids = c
                    .instances
                    .iter()
                    .filter_map(|i| self.engine.instance(*i).merchant_id.clone())
                    .collect();
                let credentials = c
                    .calls
                    .iter()
                    .map(|call| self.call_facts(*call).credentials)
                    .find(|creds| !creds.is_empty())
                    .unwrap_or_default();
                let facts = CaptureFacts {
                    instance_ids,
                    credentials,
                };
                (name.clone(), facts)
            })
            .collect()
    }

    fn subject_facts(&self, step: &Step, capture: &Capture) -> SubjectFacts {
        let (name, subject) = match &step.subject {
            Some(reference) => (
                reference.name.clone(),
                self.captures
                    .get(&reference.name)
                    .cloned()
                    .unwrap_or_default(),
            ),
            None => (step.action.keyword().to_owned(), capture.clone()),
        };
        // The subject's order: the purchase, the renewal/upgrade order a call settles, or the
        // instance's purchase order.
        let order = subject
            .order
            .clone()
            .or_else(|| {
                subject
                    .calls
                    .iter()
                    .find_map(|c| match &self.engine.call(*c).effect {
                        Effect::Order { order, .. } => Some(order.clone()),
                        _ => None,
                    })
            })
            .or_else(|| {
                let instance = subject.instances.first()?;
                Some(self.engine.instance(*instance).order.clone())
            });
        let order = order.and_then(|id| self.engine.order(&id).cloned());
        let instance = subject.instances.first().map(|i| self.engine.instance(*i));
        SubjectFacts {
            name,
            order_state: order.as_ref().map(|o| o.state.slug()),
            settled_after: order
                .as_ref()
                .and_then(|o| o.settled_at.map(|at| Span::between(o.placed_at, at))),
            instance_state: instance.map(|i| i.state.slug()),
            calls: subject.calls.iter().map(|c| self.call_facts(*c)).collect(),
        }
    }

    /// The facts a step's expectations are judged on. Order notifications go to an address
    /// of their own and are judged by the console rules and the `notify` checks: a step's
    /// expectations concern its calls to the production address, unless it is about the
    /// notification itself.
    pub(crate) fn facts(&self, step: &Step, calls: &[CallId], capture: &Capture) -> StepFacts {
        let calls = calls
            .iter()
            .filter(|c| about_notification(step) || !self.is_notification(**c));
        StepFacts {
            calls: calls.map(|c| self.call_facts(*c)).collect(),
            subject: Some(self.subject_facts(step, capture)),
            captures: self.capture_facts(),
        }
    }

    /// Whether a call is an order notification.
    pub(crate) fn is_notification(&self, call: CallId) -> bool {
        self.engine.call(call).activity() == Activity::OrderNotify
    }
}

/// Whether a step is about the order notification (sends one, or judges under a `notify`
/// check): only then do its faults and expectations apply to notifications.
pub(crate) fn about_notification(step: &Step) -> bool {
    matches!(
        &step.action,
        crate::scenario::format::model::Action::Send {
            activity: Activity::OrderNotify,
            ..
        }
    ) || step
        .check
        .is_some_and(|c| c.family() == crate::checks::Family::Notify)
}
