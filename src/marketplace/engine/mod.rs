//! The engine: calls and their attempts, the timer queue, and what each outcome does to
//! orders and instances.
//!
//! A caller (the scenario runner, or a test) drives it in a loop: [`Marketplace::next_batch`]
//! advances the virtual clock to the next instant at which something is due and returns the
//! deliveries due then; the caller performs them (concurrently, if it likes) and feeds each
//! judgement back with [`Marketplace::complete`], which may schedule retries, open or refund
//! orders, and start follow-up calls ([`effects`]); expiry, arrears and retention run on the
//! same timer queue ([`timers`]). Nothing here performs I/O or reads a clock.

mod effects;
mod timers;

use std::collections::BTreeMap;

use crate::marketplace::classify::{Judgement, Rule};
use crate::marketplace::clock::{Span, TimerId, TimerQueue};
use crate::marketplace::ids::Ids;
use crate::marketplace::lifecycle::{
    Instance, InstanceRef, LifecycleError, Order, OrderId, OrderState,
};
use crate::marketplace::requests::{self, Buyer};
use crate::marketplace::retry::{Exhaustion, RetryPolicy};
use crate::marketplace::settings::Settings;
use crate::protocol::{Activity, Protocol, Request, UnixMillis};

/// A handle to a call (one notification, with all its attempts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub usize);

/// What a call's success or exhaustion means for the marketplace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// newInstance for a purchase: success opens the instance, exhaustion refunds the order.
    Purchase {
        /// The instance being opened.
        instance: InstanceRef,
    },
    /// A renewal, conversion, refund or upgrade order: success applies it (and starts what
    /// follows it), exhaustion fails it (and refunds an upgrade).
    Order {
        /// The order.
        order: OrderId,
        /// A call that goes out once this one has been accepted.
        then: Option<FollowUp>,
    },
    /// V2 queryInstance after newInstance: success opens a provisioning instance.
    Poll {
        /// The instance.
        instance: InstanceRef,
    },
    /// A notice no order depends on (expiry, freeze, release, query).
    Notice,
    /// A call made by a scenario outside the lifecycle (resend, debug case, forged request).
    Probe,
}

/// A notice that waits for another call to be accepted before it goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowUp {
    /// V2: updateInstanceStatus UNFREEZE after the renewal that lifted an expiry freeze
    /// (spec V2 §2.4).
    Unfreeze(InstanceRef),
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// An attempt is scheduled or in flight.
    Scheduled,
    /// The merchant accepted an attempt.
    Succeeded,
    /// Every attempt in the window failed.
    Exhausted,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    /// Not yet performed.
    Pending,
    /// The console accepts the answer.
    Accepted {
        /// The instanceId in the answer, if any.
        instance_id: Option<String>,
    },
    /// V2 newInstance 000004.
    Provisioning {
        /// The instanceId in the answer, if any.
        instance_id: Option<String>,
    },
    /// The console rejects the answer.
    Rejected {
        /// The first rule broken.
        rule: Rule,
    },
}

/// One attempt of a call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attempt {
    /// 1-based attempt number.
    pub(crate) number: u32,
    /// When it was due (virtual time).
    pub(crate) due: UnixMillis,
    /// The request sent (unsigned).
    pub(crate) request: Request,
    /// How it ended.
    pub(crate) result: AttemptResult,
}

/// One notification and its attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Its handle.
    pub(crate) id: CallId,
    /// The request before per-attempt changes (newInstance gets a new businessId each time).
    pub(crate) template: Request,
    /// What it means.
    pub(crate) effect: Effect,
    /// Its retry policy.
    pub(crate) policy: RetryPolicy,
    /// When the first attempt was due.
    pub(crate) first_due: UnixMillis,
    /// Attempts so far.
    pub(crate) attempts: Vec<Attempt>,
    /// Where it stands.
    pub(crate) state: CallState,
    /// The call this one re-sends, if any.
    pub(crate) resend_of: Option<CallId>,
    /// The instance it concerns, if any.
    pub(crate) instance: Option<InstanceRef>,
    /// When a manual restart scheduled an extra attempt.
    restarted: bool,
}

impl Call {
    /// The activity it notifies.
    pub(crate) fn activity(&self) -> Activity {
        self.template.activity()
    }

    /// The attempt the merchant accepted, if any.
    pub(crate) fn accepted_attempt(&self) -> Option<&Attempt> {
        self.attempts.iter().find(|a| {
            matches!(
                a.result,
                AttemptResult::Accepted { .. } | AttemptResult::Provisioning { .. }
            )
        })
    }
}

/// A request due now, handed to whoever performs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The call.
    pub call: CallId,
    /// 1-based attempt number.
    pub attempt: u32,
    /// When it fell due.
    pub due: UnixMillis,
    /// What to send (unsigned).
    pub request: Request,
    /// queryInstance: the ids a successful answer must list — every id asked about that the
    /// marketplace believes exists (ids made up as unknown are left out).
    pub(crate) must_list: Vec<String>,
}

/// One line of the append-only call log, the seller console's 生产接口消息 page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    /// When the attempt was made.
    pub(crate) at: UnixMillis,
    /// The call.
    pub(crate) call: CallId,
    /// 1-based attempt number.
    pub(crate) attempt: u32,
    /// The activity.
    pub(crate) activity: Activity,
    /// How it ended.
    pub(crate) result: AttemptResult,
}

/// An event the engine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Not allowed in the instance's state.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The protocol has no such activity (V2 has no expireInstance, V1 no changeInstanceCheck).
    #[error("{protocol} has no {activity:?} interface")]
    NotInProtocol {
        /// The activity.
        activity: Activity,
        /// The protocol.
        protocol: Protocol,
    },
    /// Only billing modes with an expiry can do this.
    #[error("a {0} instance has no period to {1}")]
    NoPeriod(crate::protocol::BillingMode, &'static str),
    /// A manual restart is not possible.
    #[error("cannot restart this call: {0}")]
    NotRestartable(&'static str),
    /// Only a stop-when-used-up package attached to an on-demand instance can do this.
    #[error("cannot {0}: the instance is not a stop-when-used-up package of an on-demand instance")]
    NotAPackage(&'static str),
    /// The product has no Kit (not a 联营 product, or no merchant public key).
    #[error(
        "the product receives no Kit syncs: pass --kit (and --kit-public-key for your own merchant)"
    )]
    NoKit,
    /// An enterprise binds an instance the merchant has opened.
    #[error("the instance has no instanceId yet: its purchase did not succeed")]
    NotBindable,
    /// The client secret could not be encrypted with the merchant's key.
    #[error("cannot encrypt clientSecret: {0}")]
    Encryption(String),
    /// Only departments below the top level can change.
    #[error("the enterprise has no department below the top level to change")]
    NoDepartment,
    /// The product type has no such event.
    #[error("{0}")]
    NotForProduct(String),
}

/// What a timer of the queue stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// A call's next attempt falls due.
    Attempt(CallId),
    /// An instance's period (plus grace, by the settings) ends: freeze.
    PeriodEnd(InstanceRef),
    /// An on-demand instance's arrears grace ends: freeze.
    ArrearsFreeze(InstanceRef),
    /// The retention after a freeze ends: release.
    RetentionEnd(InstanceRef),
}

/// A simulated marketplace for one product and one buyer.
#[derive(Debug)]
pub struct Marketplace {
    pub(crate) settings: Settings,
    pub(crate) start: UnixMillis,
    pub(crate) now: UnixMillis,
    pub(crate) timers: TimerQueue<Timer>,
    pub(crate) orders: BTreeMap<OrderId, Order>,
    pub(crate) order_instances: BTreeMap<OrderId, Vec<InstanceRef>>,
    pub(crate) instances: Vec<Instance>,
    pub(crate) instance_timers: BTreeMap<InstanceRef, Vec<TimerId>>,
    pub(crate) calls: Vec<Call>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) ids: Ids,
    pub(crate) buyer: Buyer,
    /// Instance ids made up for requests about instances the merchant never issued.
    pub(crate) unknown_ids: std::collections::BTreeSet<String>,
    /// 联营: the enterprises using the app (spec V2 §3).
    pub(crate) enterprises: Vec<crate::marketplace::kit::Enterprise>,
    /// 联营: the app's id, made up on first use.
    pub(crate) kit_app: Option<String>,
    /// The enterprise each Kit call is about.
    pub(crate) kit_calls: BTreeMap<CallId, crate::marketplace::kit::EnterpriseRef>,
}

impl Marketplace {
    /// A marketplace whose virtual clock starts at `start`, with ids drawn from `seed`.
    pub fn new(settings: Settings, start: UnixMillis, seed: u64) -> Self {
        let mut ids = Ids::new(seed);
        let buyer = Buyer {
            customer_id: ids.customer_id(),
            customer_name: crate::marketplace::sample::customer(settings.wire.stable_seed),
            mobile_phone: "13800000000".into(),
            email: "buyer@buyer.example.com".into(),
        };
        Self {
            settings,
            start,
            now: start,
            timers: TimerQueue::default(),
            orders: BTreeMap::new(),
            order_instances: BTreeMap::new(),
            instances: Vec::new(),
            instance_timers: BTreeMap::new(),
            calls: Vec::new(),
            log: Vec::new(),
            ids,
            buyer,
            unknown_ids: std::collections::BTreeSet::new(),
            enterprises: Vec::new(),
            kit_app: None,
            kit_calls: BTreeMap::new(),
        }
    }

    /// The settings.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The current virtual time.
    pub fn now(&self) -> UnixMillis {
        self.now
    }

    /// When the clock started.
    pub(crate) fn start(&self) -> UnixMillis {
        self.start
    }

    /// Virtual time elapsed since the start.
    pub(crate) fn elapsed(&self) -> Span {
        Span::between(self.start, self.now)
    }

    /// An order.
    pub fn order(&self, id: &OrderId) -> Option<&Order> {
        self.orders.get(id)
    }

    /// Every order, by id.
    pub(crate) fn orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    /// Every instance, with its reference.
    pub(crate) fn all_instances(&self) -> impl Iterator<Item = (InstanceRef, &Instance)> {
        self.instances
            .iter()
            .enumerate()
            .map(|(i, instance)| (InstanceRef(i), instance))
    }

    /// The buyer every order of this marketplace is placed by.
    pub(crate) fn buyer(&self) -> &Buyer {
        &self.buyer
    }

    /// The instances of a purchase order.
    pub(crate) fn instances_of(&self, order: &OrderId) -> &[InstanceRef] {
        self.order_instances.get(order).map_or(&[], Vec::as_slice)
    }

    /// An instance.
    pub fn instance(&self, instance: InstanceRef) -> &Instance {
        &self.instances[instance.0]
    }

    /// A call.
    pub(crate) fn call(&self, id: CallId) -> &Call {
        &self.calls[id.0]
    }

    /// Every call, in creation order.
    pub(crate) fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The call log, in the order attempts completed.
    #[cfg(test)]
    pub(crate) fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// The next instant something is due, if anything is.
    pub(crate) fn next_due(&mut self) -> Option<UnixMillis> {
        self.timers.next_due()
    }

    /// Advances the clock to the next instant (at or before `until`) at which deliveries fall
    /// due, handling expiry and retention timers on the way, and returns those deliveries in
    /// order. Returns an empty batch, with the clock at `until`, when nothing more is due by
    /// then. Every delivery of a batch must be completed before the next call.
    pub(crate) fn next_batch(&mut self, until: UnixMillis) -> Vec<Delivery> {
        loop {
            let Some(due) = self.timers.next_due().filter(|due| *due <= until) else {
                self.now = self.now.max(until);
                return Vec::new();
            };
            self.now = self.now.max(due);
            let mut batch = Vec::new();
            while let Some((_, timer)) = self.timers.pop_due(self.now) {
                match timer {
                    Timer::Attempt(call) => batch.push(self.begin_attempt(call)),
                    Timer::PeriodEnd(instance) => self.on_period_end(instance),
                    Timer::ArrearsFreeze(instance) => self.on_arrears_freeze(instance),
                    Timer::RetentionEnd(instance) => self.on_retention_end(instance),
                }
            }
            if !batch.is_empty() {
                return batch;
            }
        }
    }

    fn begin_attempt(&mut self, id: CallId) -> Delivery {
        let request = requests::with_new_business_id(&self.calls[id.0].template, &mut self.ids);
        let call = &mut self.calls[id.0];
        let number = call.attempts.len() as u32 + 1;
        call.attempts.push(Attempt {
            number,
            due: self.now,
            request: request.clone(),
            result: AttemptResult::Pending,
        });
        // A provisioning poll that does not list the instance yet means "not ready"
        // (V2 §2.2: polled until a successful answer), not a malformed answer.
        let must_list = if matches!(self.calls[id.0].effect, Effect::Poll { .. }) {
            Vec::new()
        } else {
            self.ids_to_list(&request)
        };
        Delivery {
            call: id,
            attempt: number,
            due: self.now,
            request,
            must_list,
        }
    }

    /// The ids a successful answer to this request must list: for queryInstance, every id of
    /// the batch but those made up as unknown (spec V1 §4.7, V2 §2.2: `instanceId` is
    /// mandatory in every `info` entry, and the console requires it, V1 §1 FAQ).
    fn ids_to_list(&self, request: &Request) -> Vec<String> {
        let batch = match request {
            Request::V1(crate::protocol::v1::messages::Request::QueryInstance(q)) => &q.instance_id,
            Request::V2(crate::protocol::v2::messages::Request::QueryInstance(q)) => &q.instance_id,
            _ => return Vec::new(),
        };
        batch
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty() && !self.unknown_ids.contains(*id))
            .map(str::to_owned)
            .collect()
    }

    /// Feeds back the console's judgement of a delivery's answer.
    pub(crate) fn complete(&mut self, delivery: &Delivery, judgement: &Judgement) {
        let id = delivery.call;
        let instance_id = judgement
            .answer
            .as_ref()
            .and_then(|a| a.instance_id())
            .map(str::to_owned);
        let result = match (judgement.accepted(), judgement.provisioning) {
            (true, false) => AttemptResult::Accepted {
                instance_id: instance_id.clone(),
            },
            (true, true) => AttemptResult::Provisioning {
                instance_id: instance_id.clone(),
            },
            (false, _) => AttemptResult::Rejected {
                rule: judgement.first_rule().unwrap_or(Rule::Transport),
            },
        };
        let call = &mut self.calls[id.0];
        if let Some(attempt) = call.attempts.get_mut(delivery.attempt as usize - 1) {
            attempt.result = result.clone();
        }
        self.log.push(LogEntry {
            at: self.now,
            call: id,
            attempt: delivery.attempt,
            activity: call.activity(),
            result,
        });
        // A provisioning poll succeeds only once the answer lists the instance: an accepted
        // answer without it means "not ready yet" (V2 §2.2, polled "until success").
        let ready = match &call.effect {
            Effect::Poll { instance } => {
                let wanted = self.instances[instance.0].merchant_id.as_deref();
                judgement.answer.as_ref().is_some_and(|a| {
                    a.listed_instances()
                        .iter()
                        .any(|id| Some(id.as_str()) == wanted)
                })
            }
            _ => true,
        };
        let call = &mut self.calls[id.0];
        if judgement.accepted() && ready {
            call.state = CallState::Succeeded;
            let effect = call.effect.clone();
            self.on_accepted(id, &effect, instance_id, judgement);
        } else {
            let next = call.attempts.len() as u32;
            let offset = if call.restarted {
                None
            } else {
                call.policy.offset_of(next)
            };
            match offset {
                Some(offset) => {
                    let due = call.first_due.plus_ms(offset.0);
                    self.timers.schedule(due, Timer::Attempt(id));
                }
                None => {
                    call.state = CallState::Exhausted;
                    let (effect, refund) = (
                        call.effect.clone(),
                        call.policy.on_exhausted == Exhaustion::FailOrderAndRefund,
                    );
                    self.on_exhausted(id, &effect, refund);
                }
            }
        }
    }

    pub(crate) fn set_order_state(&mut self, order: &OrderId, state: OrderState) {
        if let Some(order) = self.orders.get_mut(order) {
            order.state = state;
            if matches!(state, OrderState::Opened | OrderState::Failed { .. }) {
                order.settled_at.get_or_insert(self.now);
            }
        }
    }

    /// Creates a call whose first attempt falls due after `delay`.
    pub(crate) fn create_call(
        &mut self,
        request: Request,
        effect: Effect,
        policy: RetryPolicy,
        delay: Span,
        instance: Option<InstanceRef>,
    ) -> CallId {
        let id = CallId(self.calls.len());
        let first_due = self.now.plus_ms(delay.0.max(0));
        self.calls.push(Call {
            id,
            template: request,
            effect,
            policy,
            first_due,
            attempts: Vec::new(),
            state: CallState::Scheduled,
            resend_of: None,
            instance,
            restarted: false,
        });
        self.timers.schedule(first_due, Timer::Attempt(id));
        id
    }

    pub(crate) fn mark_resend(&mut self, id: CallId, of: CallId) {
        self.calls[id.0].resend_of = Some(of);
    }

    /// A manual restart from the seller console (卖家中心 > 生产接口消息 > 重新启动): one
    /// immediate extra attempt of a call whose retries ran out.
    pub(crate) fn restart(&mut self, id: CallId) -> Result<(), EngineError> {
        let call = self
            .calls
            .get_mut(id.0)
            .ok_or(EngineError::NotRestartable("no such call"))?;
        if call.state != CallState::Exhausted {
            return Err(EngineError::NotRestartable("it has not failed"));
        }
        if call.policy.on_exhausted == Exhaustion::FailOrderAndRefund {
            return Err(EngineError::NotRestartable(
                "its order was already refunded",
            ));
        }
        call.state = CallState::Scheduled;
        call.restarted = true;
        self.timers.schedule(self.now, Timer::Attempt(id));
        Ok(())
    }
}
