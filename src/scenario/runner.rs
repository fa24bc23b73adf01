//! Running one scenario: a fresh marketplace per scenario, each step's action turned into
//! engine events, the deliveries performed against the target with the step's faults, and
//! after each step the facts its expectations are judged on.
//!
//! The runner records what happened; it judges nothing. The checks live in
//! [`crate::conformance`], which reads these records.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::marketplace::engine::{AttemptResult, CallState, Effect};
use crate::marketplace::lifecycle::{InstanceRef, OrderId};
use crate::marketplace::requests::debug_variants;
use crate::marketplace::{
    CallId, CallOptions, Delivery, EngineError, Marketplace, PurchaseSpec, Span,
};
use crate::protocol::{AccessKey, Activity, UnixMillis};
use crate::scenario::http::Target;
use crate::scenario::model::{Action, Advance, Faults, Scenario, Step};
use crate::scenario::perform::{AttemptFault, Performed, run_until};
use crate::scenario::profile::Profile;
use crate::scenario::wire::wall_clock;

/// Everything a run shares across scenarios.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The product profile.
    pub profile: Profile,
    /// The access key.
    pub key: AccessKey,
    /// The merchant's production address.
    pub target: Target,
    /// The run's seed: order and business ids derive from it.
    pub seed: u64,
    /// Where every scenario's virtual clock starts; when `None`, the wall clock (moved back
    /// to the 28th late in a month, see [`crate::marketplace::clock::business_start`]).
    pub start: Option<UnixMillis>,
}

/// One scenario's run.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// Why it did not run, when it did not.
    pub skipped: Option<String>,
    /// Its steps.
    pub steps: Vec<StepRun>,
    /// Virtual time it covered.
    pub virtual_span: Span,
    /// Where its virtual clock started (the wall clock at its start).
    pub start: UnixMillis,
    /// Wall time it took.
    pub wall: Duration,
}

/// One step's run.
#[derive(Debug, Clone)]
pub struct StepRun {
    /// Index in the scenario.
    pub index: usize,
    /// Virtual time since the scenario started, when the step began.
    pub at: Span,
    /// Every attempt performed during the step (retries of earlier calls included).
    pub exchanges: Vec<Exchange>,
    /// What the expectations are judged on.
    pub facts: StepFacts,
    /// Why the step's action could not be performed, if it could not.
    pub blocked: Option<String>,
}

/// One performed attempt, placed in virtual time.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Virtual time since the scenario started.
    pub at: Span,
    /// The attempt.
    pub performed: Performed,
}

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
    pub final_rule: Option<&'static str>,
    /// instanceIds of accepted answers.
    pub returned_ids: Vec<String>,
    /// The instanceId the marketplace holds for the call's instance.
    pub expected_instance: Option<String>,
    /// Decrypted (V1) or clear (V2) credentials of the last accepted answer, by field name.
    pub credentials: Vec<(String, String)>,
    /// How many instances the last accepted queryInstance answer listed.
    pub listed: Option<usize>,
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

#[derive(Debug, Clone, Default)]
struct Capture {
    order: Option<OrderId>,
    instances: Vec<InstanceRef>,
    calls: Vec<CallId>,
}

/// The instanceId a successful answer carried, whether or not the marketplace saw it (a
/// dropped answer still shows what the merchant did).
fn answered_instance_id(performed: &Performed) -> Option<String> {
    let crate::marketplace::Transport::Answered(response) = &performed.sent.as_ref()?.transport
    else {
        return None;
    };
    let body: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    let code = body.get("resultCode")?.as_str()?;
    if code != "000000" && code != "000004" {
        return None;
    }
    body.get("instanceId")?.as_str().map(str::to_owned)
}

fn seed_for(run_seed: u64, scenario: &Scenario) -> u64 {
    // FNV-1a over the file name, mixed with the run seed: stable per scenario within a run.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in scenario
        .file
        .to_string_lossy()
        .bytes()
        .chain(scenario.name.bytes())
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ run_seed
}

struct Run<'a> {
    engine: Marketplace,
    context: &'a RunContext,
    captures: HashMap<String, Capture>,
    plans: HashMap<CallId, Faults>,
    exchanges: Vec<Exchange>,
}

/// Runs one scenario against the context's target.
pub async fn run_scenario(scenario: Arc<Scenario>, context: &RunContext) -> ScenarioRun {
    let started = Instant::now();
    let skipped = |reason: String, scenario: Arc<Scenario>| ScenarioRun {
        scenario,
        skipped: Some(reason),
        steps: Vec::new(),
        virtual_span: Span::ZERO,
        start: UnixMillis(0),
        wall: Duration::ZERO,
    };
    if let Some(reason) = context.profile.skip_reason(&scenario) {
        return skipped(reason, scenario);
    }
    let settings = match context.profile.settings(context.key.clone()) {
        Ok(settings) => settings,
        Err((_, message, _)) => return skipped(message, scenario),
    };
    let mut run = Run {
        engine: Marketplace::new(
            settings,
            context
                .start
                .unwrap_or_else(|| crate::marketplace::clock::business_start(wall_clock())),
            seed_for(context.seed, &scenario),
        ),
        context,
        captures: HashMap::new(),
        plans: HashMap::new(),
        exchanges: Vec::new(),
    };
    let mut steps = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        steps.push(run.step(index, step).await);
    }
    ScenarioRun {
        virtual_span: run.engine.elapsed(),
        start: run.engine.start(),
        scenario,
        skipped: None,
        steps,
        wall: started.elapsed(),
    }
}

impl Run<'_> {
    fn instance(&self, name: &str) -> Option<InstanceRef> {
        self.captures
            .get(name)
            .and_then(|c| c.instances.first().copied())
    }

    fn instance_or_blocked(&self, name: &str) -> Result<InstanceRef, String> {
        self.instance(name)
            .ok_or_else(|| format!("`{name}` has no instance"))
    }

    /// Performs the step's action on the engine; returns the calls it made, the capture it
    /// forms and the instant to run the engine to.
    fn act(&mut self, step: &Step) -> Result<(Vec<CallId>, Capture, UnixMillis), String> {
        let options = CallOptions {
            delay: step.faults.delay,
            policy: None,
        };
        let now = self.engine.now();
        let engine_error = |e: EngineError| e.to_string();
        let mut capture = Capture::default();
        let calls = match &step.action {
            Action::Purchase {
                billing,
                period,
                trial,
                products,
            } => {
                let spec = PurchaseSpec {
                    billing: *billing,
                    period: *period,
                    trial: *trial,
                    products: *products,
                    copies: step.faults.copies.max(1),
                    options,
                };
                let purchase = self.engine.purchase(&spec);
                capture.order = Some(purchase.order);
                capture.instances = purchase.instances;
                purchase.calls
            }
            Action::Resend(reference) => {
                let original = self
                    .captures
                    .get(&reference.name)
                    .cloned()
                    .unwrap_or_default();
                capture.instances = original.instances.clone();
                // One original call per instance of a purchase; every call of another step.
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
                    .flat_map(|call| self.engine.resend(call, step.faults.copies, &options))
                    .collect()
            }
            Action::Renew { instance, period } => {
                let instance = self.instance_or_blocked(&instance.name)?;
                capture.instances = vec![instance];
                self.engine
                    .renew(instance, *period, &options)
                    .map_err(engine_error)?
            }
            Action::ConvertTrial { instance, period } => {
                let instance = self.instance_or_blocked(&instance.name)?;
                capture.instances = vec![instance];
                self.engine
                    .convert_trial(instance, *period, &options)
                    .map_err(engine_error)?
            }
            Action::RefundRenewal(reference)
            | Action::Upgrade(reference)
            | Action::Freeze(reference)
            | Action::Unfreeze(reference)
            | Action::Unsubscribe(reference)
            | Action::ChangeCheck(reference)
            | Action::Expire(reference) => {
                let instance = self.instance_or_blocked(&reference.name)?;
                capture.instances = vec![instance];
                match &step.action {
                    Action::RefundRenewal(_) => self.engine.refund_renewal(instance, &options),
                    Action::Upgrade(_) => self.engine.upgrade(instance, &options),
                    Action::Freeze(_) => self.engine.suspend(instance, &options),
                    Action::Unfreeze(_) => self.engine.resume(instance, &options),
                    Action::Unsubscribe(_) => self.engine.unsubscribe(instance, &options),
                    Action::ChangeCheck(_) => self
                        .engine
                        .change_check(instance, &options)
                        .map(|c| vec![c]),
                    _ => self.engine.expire_now(instance).map(|()| Vec::new()),
                }
                .map_err(engine_error)?
            }
            Action::Query { instances, unknown } => {
                let refs: Vec<InstanceRef> = instances
                    .iter()
                    .filter_map(|r| self.instance(&r.name))
                    .collect();
                let unknown: Vec<String> = (0..*unknown)
                    .map(|_| self.engine.unknown_instance_id())
                    .collect();
                capture.instances.clone_from(&refs);
                vec![
                    self.engine
                        .query(&refs, &unknown, &options)
                        .map_err(engine_error)?,
                ]
            }
            Action::Debug(cases) => {
                let protocol = self.engine.settings().protocol;
                let mut calls = Vec::new();
                for _ in 0..cases.repeat {
                    for activity in cases
                        .activities
                        .iter()
                        .filter(|a| a.wire_name(protocol).is_some())
                    {
                        let variants = match cases.variant {
                            Some(variant) => vec![variant],
                            None => (0..debug_variants(protocol, *activity)).collect(),
                        };
                        for variant in variants {
                            calls.push(
                                self.engine
                                    .debug_case(*activity, variant, &options)
                                    .map_err(engine_error)?,
                            );
                        }
                    }
                }
                calls
            }
            Action::Send { activity, instance } => {
                let instance = match instance {
                    Some(reference) => Some(self.instance_or_blocked(&reference.name)?),
                    None => None,
                };
                capture.instances = instance.into_iter().collect();
                let mut calls = Vec::new();
                for _ in 0..step.faults.copies.max(1) {
                    calls.push(
                        self.engine
                            .probe_activity(*activity, instance, &options)
                            .map_err(engine_error)?,
                    );
                }
                calls
            }
            Action::Restart(reference) => {
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
                failed
            }
            Action::Advance(advance) => {
                let until = match advance {
                    Advance::Span(span) => now.plus_ms(span.as_millis()),
                    Advance::Period(period) => period.end_from(now),
                };
                return Ok((Vec::new(), capture, until));
            }
        };
        Ok((calls, capture, now))
    }

    async fn step(&mut self, index: usize, step: &Step) -> StepRun {
        let at = self.engine.elapsed();
        let first_call = self.engine.calls().len();
        let (calls, capture, until, blocked) = match self.act(step) {
            Ok((calls, capture, until)) => (calls, capture, until, None),
            Err(reason) => (
                Vec::new(),
                Capture::default(),
                self.engine.now(),
                Some(reason),
            ),
        };
        for call in &calls {
            self.plans.insert(*call, step.faults.clone());
        }

        // A step's faults apply to every call it causes — its own, and the notices or follow-ups
        // that fall due while it runs (an `advance` whose expiry notice is lost, say).
        let plans = &self.plans;
        let mut plan = |delivery: &Delivery| {
            let faults = plans
                .get(&delivery.call)
                .or((delivery.call.0 >= first_call).then_some(&step.faults));
            match faults {
                Some(faults) => AttemptFault {
                    fail_before_send: faults.fail_before_send.includes(delivery.attempt),
                    drop_response: faults.drop_response.includes(delivery.attempt),
                    edit: faults.edit.clone(),
                    tamper: faults.tamper,
                },
                None => AttemptFault::default(),
            }
        };
        let performed = run_until(&mut self.engine, &self.context.target, until, &mut plan).await;
        // The step's calls are every call it caused: its own, the follow-ups they triggered
        // (V2 queryInstance polls) and, for `advance`, the notices that fell due.
        // A restart re-opens earlier calls, which count as the step's too.
        let mut caused: Vec<CallId> = calls.iter().copied().filter(|c| c.0 < first_call).collect();
        caused.extend((first_call..self.engine.calls().len()).map(CallId));
        for call in &caused {
            self.plans
                .entry(*call)
                .or_insert_with(|| step.faults.clone());
        }
        let mut capture = capture;
        capture.calls.clone_from(&caused);
        let start = self.engine.start();
        let first_new = self.exchanges.len();
        self.exchanges
            .extend(performed.into_iter().map(|p| Exchange {
                at: Span::between(start, p.delivery.due),
                performed: p,
            }));
        if let Some(name) = &step.capture {
            self.captures.insert(name.clone(), capture.clone());
        }
        let facts = self.facts(step, &caused, &capture);
        StepRun {
            index,
            at,
            exchanges: self.exchanges[first_new..].to_vec(),
            facts,
            blocked,
        }
    }

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
        let credentials = last_accepted
            .and_then(|p| p.judgement.answer.as_ref())
            .map(|answer| {
                let decrypted: Vec<(String, String)> = answer
                    .decrypted
                    .iter()
                    .map(|d| {
                        (
                            d.path.rsplit('.').next().unwrap_or_default().to_owned(),
                            d.plaintext.clone(),
                        )
                    })
                    .collect();
                if !decrypted.is_empty() {
                    return decrypted;
                }
                // V2 sends credentials in clear, inside queryInstance's info[].appInfo.
                let info = answer
                    .body
                    .get("info")
                    .and_then(|i| i.get(0))
                    .and_then(|i| i.get("appInfo"));
                ["userName", "password"]
                    .iter()
                    .filter_map(|f| {
                        info.and_then(|a| a.get(*f))
                            .and_then(|v| v.as_str())
                            .map(|v| ((*f).to_owned(), v.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        CallFacts {
            id: id.0,
            activity: call.activity(),
            attempts: call
                .attempts
                .iter()
                .map(|a| {
                    let accepted = match a.result {
                        AttemptResult::Pending => None,
                        AttemptResult::Rejected { .. } => Some(false),
                        _ => Some(true),
                    };
                    (Span::between(call.first_due, a.due), accepted)
                })
                .collect(),
            final_code: last
                .and_then(|p| p.judgement.answer.as_ref())
                .and_then(|a| a.result_code.clone()),
            final_rule: last.and_then(|p| p.judgement.first_rule()),
            returned_ids: performed
                .iter()
                .filter_map(|p| answered_instance_id(p))
                .collect(),
            expected_instance: call
                .instance
                .and_then(|i| self.engine.instance(i).merchant_id.clone()),
            credentials,
            listed: last_accepted
                .and_then(|p| p.judgement.answer.as_ref())
                .filter(|a| a.body.contains_key("info"))
                .map(|a| a.listed_instances().len()),
        }
    }

    fn facts(&self, step: &Step, calls: &[CallId], capture: &Capture) -> StepFacts {
        let captures = self
            .captures
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
                (
                    name.clone(),
                    CaptureFacts {
                        instance_ids,
                        credentials,
                    },
                )
            })
            .collect();
        let (subject_name, subject) = match &step.subject {
            Some(reference) => (
                reference.name.clone(),
                self.captures
                    .get(&reference.name)
                    .cloned()
                    .unwrap_or_default(),
            ),
            None => (step.action.keyword().to_owned(), capture.clone()),
        };
        let subject_calls: Vec<CallFacts> =
            subject.calls.iter().map(|c| self.call_facts(*c)).collect();
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
                        Effect::Order { order } => Some(order.clone()),
                        _ => None,
                    })
            })
            .or_else(|| {
                subject
                    .instances
                    .first()
                    .map(|i| self.engine.instance(*i).order.clone())
            });
        let order = order.and_then(|id| self.engine.order(&id).cloned());
        let instance = subject.instances.first().map(|i| self.engine.instance(*i));
        let subject = SubjectFacts {
            name: subject_name,
            order_state: order.as_ref().map(|o| o.state.name()),
            settled_after: order
                .as_ref()
                .and_then(|o| o.settled_at.map(|at| Span::between(o.placed_at, at))),
            instance_state: instance.map(|i| i.state.name()),
            calls: subject_calls,
        };
        StepFacts {
            calls: calls.iter().map(|c| self.call_facts(*c)).collect(),
            subject: Some(subject),
            captures,
        }
    }
}
