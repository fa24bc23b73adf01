//! What a step's expectations are judged on: each call as it stands at the end of the step,
//! the subject's order and instance, and what every capture stands for — recorded by the
//! runner, read by [`crate::conformance`].

use std::collections::BTreeMap;

use crate::marketplace::engine::{AttemptResult, Effect};
use crate::marketplace::{CallId, Rule, Span};
use crate::protocol::{Activity, ResultCode};
use crate::scenario::format::model::Step;
use crate::scenario::run::perform::Performed;
use crate::scenario::run::runner::{Capture, Run};

/// What a step's expectations are judged on.
#[derive(Debug, Clone, Default)]
pub struct StepFacts {
    /// The step's own calls.
    pub calls: Vec<CallFacts>,
    /// The subject of order/instance/attempt expectations.
    pub subject: Option<SubjectFacts>,
    /// Every capture so far, by name.
    pub captures: BTreeMap<String, CaptureFacts>,
}

/// A call as it stands at the end of a step.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFacts {
    /// Its number in the scenario.
    pub id: usize,
    /// The activity.
    pub activity: Activity,
    /// Each attempt's due time after the first, and whether the console accepted it.
    pub attempts: Vec<(Span, Option<bool>)>,
    /// resultCode of the last performed attempt, when it answered with one.
    pub final_code: Option<String>,
    /// The first console rule the last performed attempt broke.
    pub final_rule: Option<Rule>,
    /// instanceIds of accepted answers.
    pub returned_ids: Vec<String>,
    /// The instanceId the marketplace holds for the call's instance.
    pub expected_instance: Option<String>,
    /// Decrypted (V1) or clear (V2) credentials of the last accepted answer, by field name.
    pub credentials: Vec<(String, String)>,
    /// How many instances the last accepted queryInstance answer listed.
    pub listed: Option<usize>,
    /// The order the call's instance belongs to (each round of a step has its own).
    pub order: Option<String>,
}

impl CallFacts {
    /// Whether the last performed attempt answered 000000.
    pub fn answered_success(&self) -> bool {
        self.final_code.as_deref() == Some(ResultCode::Success.as_str())
    }
}

/// The order, instance and first calls an expectation's subject stands for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubjectFacts {
    /// The subject's name (capture) or the step's action.
    pub name: String,
    /// The order's state.
    pub order_state: Option<&'static str>,
    /// How long after it was placed the order settled.
    pub settled_after: Option<Span>,
    /// The instance's state.
    pub instance_state: Option<&'static str>,
    /// The subject's calls.
    pub calls: Vec<CallFacts>,
}

/// What a capture stands for, for same/different comparisons.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaptureFacts {
    /// The instanceIds the marketplace holds for its instances.
    pub instance_ids: Vec<String>,
    /// Credentials of its first accepted answer.
    pub credentials: Vec<(String, String)>,
}

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
            order_state: order.as_ref().map(|o| o.state.name()),
            settled_after: order
                .as_ref()
                .and_then(|o| o.settled_at.map(|at| Span::between(o.placed_at, at))),
            instance_state: instance.map(|i| i.state.name()),
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
