//! Running one scenario: a fresh marketplace per scenario, each step's action turned into
//! engine events, the deliveries performed against the target with the step's faults, and
//! after each step the facts its expectations are judged on.
//!
//! The runner records what happened; it judges nothing. The checks live in
//! [`crate::conformance`], which reads these records.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::marketplace::lifecycle::{InstanceRef, OrderId};
use crate::marketplace::{CallId, Delivery, Marketplace, Span};
use crate::openapi::{Book, MerchantCall, Scope};
use crate::protocol::openapi::OpenApiUse;
use crate::protocol::{AccessKey, UnixMillis};
use crate::scenario::format::model::{Action, AwaitedCall, Faults, Scenario, Step};
use crate::scenario::profile::Profile;
use crate::scenario::run::perform::{AttemptFault, Performed, run_until};
use crate::scenario::run::publish::Publisher;
use crate::transport::Client;
use crate::transport::wire::wall_clock;

pub use crate::scenario::run::facts::{CallFacts, CaptureFacts, StepFacts, SubjectFacts};

/// Everything a run shares across scenarios.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The product profile.
    pub profile: Profile,
    /// The access key.
    pub key: AccessKey,
    /// The client that reaches the merchant's production address.
    pub client: Client,
    /// The run's seed: order and business ids derive from it.
    pub seed: u64,
    /// Where every scenario's virtual clock starts; when `None`, the wall clock (moved back
    /// to the 28th late in a month, see [`crate::marketplace::clock::business_start`]).
    pub start: Option<UnixMillis>,
    /// The open APIs the merchant calls, when they are served.
    pub open_api: Option<OpenApiLink>,
    /// The keys bound to the Kit, License-code and notification interfaces.
    pub keys: crate::marketplace::settings::InterfaceKeys,
    /// 联营: the Kit's settings (the merchant's public key, the identity-centre domain).
    pub kit: Option<crate::marketplace::settings::KitSettings>,
    /// The merchant's login callback (OAuth 2.0 redirect_uri, CAS service).
    pub login_url: Option<String>,
}

/// The open APIs as a run sees them: their state, where they are, where the merchant's
/// software takes License codes.
#[derive(Debug, Clone)]
pub struct OpenApiLink {
    /// Their state and the merchant's calls.
    pub book: Book,
    /// `http://127.0.0.1:PORT`, for messages.
    pub base_url: String,
    /// Where the merchant's shipped software takes a License code (`POST {"license": …}`).
    pub software_url: Option<String>,
    /// Every `await` waits at most this long, whatever its `within` says.
    pub await_within: Option<Span>,
    next_scope: Arc<std::sync::atomic::AtomicU64>,
}

impl OpenApiLink {
    /// A link to open APIs serving `book` at `base_url`.
    pub fn new(book: Book, base_url: String, software_url: Option<String>) -> Self {
        book.lock().live = true;
        Self {
            book,
            base_url,
            software_url,
            await_within: None,
            next_scope: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        }
    }

    /// A fresh scope for one scenario run.
    fn scope(&self) -> Scope {
        self.next_scope
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
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
    /// The merchant's open-API calls reported with this step (an `await` step's).
    pub merchant_calls: Vec<MerchantCall>,
    /// What an `await` step waited for, and whether it came.
    pub awaited: Option<AwaitOutcome>,
}

/// How an `await` step ended.
#[derive(Debug, Clone, PartialEq)]
pub struct AwaitOutcome {
    /// What it waited for.
    pub call: AwaitedCall,
    /// Whether the merchant made the call in time.
    pub came: bool,
    /// How long it waited at most.
    pub within: Span,
    /// What else the wait established (the same License uploaded twice, …).
    pub facts: Vec<AwaitFact>,
    /// What stood in the way, when the wait could not start as planned (a login callback
    /// that did not answer).
    pub note: Option<String>,
}

/// A judged fact an `await` (or `login`) established besides the awaited call.
#[derive(Debug, Clone, PartialEq)]
pub struct AwaitFact {
    /// The check.
    pub check: crate::checks::CheckId,
    /// Whether it held.
    pub passed: bool,
    /// What the rule says here.
    pub message: String,
    /// What was expected.
    pub expected: String,
    /// What came.
    pub got: String,
}

/// One performed attempt, placed in virtual time.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Virtual time since the scenario started.
    pub at: Span,
    /// The attempt.
    pub performed: Performed,
}

/// What a step's `as:` name stands for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Capture {
    /// The order it placed.
    pub(crate) order: Option<OrderId>,
    /// The instances it concerns.
    pub(crate) instances: Vec<InstanceRef>,
    /// Every call it caused.
    pub(crate) calls: Vec<CallId>,
    /// The Kit enterprise it announced.
    pub(crate) enterprise: Option<crate::marketplace::kit::EnterpriseRef>,
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

/// What an action did: the calls it made, what the step captures, and the instant to run
/// the engine to.
pub(crate) struct Acted {
    pub(crate) calls: Vec<CallId>,
    pub(crate) capture: Capture,
    pub(crate) until: UnixMillis,
}

/// One scenario being run.
pub(crate) struct Run<'a> {
    pub(crate) engine: Marketplace,
    pub(crate) context: &'a RunContext,
    pub(crate) captures: HashMap<String, Capture>,
    plans: HashMap<CallId, Faults>,
    pub(crate) exchanges: Vec<Exchange>,
    /// Publishes the marketplace to the open APIs, when they are served.
    pub(crate) publisher: Option<Publisher>,
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
    let logs_in = scenario
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::Login { .. }));
    if (!scenario.applies.calls.is_empty() || logs_in) && context.open_api.is_none() {
        let reason =
            "the open APIs are not served: set KGSIM_OPENAPI_AK and KGSIM_OPENAPI_SK".to_owned();
        return skipped(reason, scenario);
    }
    let mut settings = context.profile.settings(context.key.clone());
    settings.keys = context.keys.clone();
    settings.kit = context.kit.clone();
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
        publisher: context.open_api.as_ref().map(|link| {
            let licenses = context.profile.open_apis().contains(&OpenApiUse::License);
            Publisher::new(link.book.clone(), link.scope(), licenses)
        }),
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
    /// The first instance of a capture.
    pub(crate) fn instance(&self, name: &str) -> Option<InstanceRef> {
        self.captures
            .get(name)
            .and_then(|c| c.instances.first().copied())
    }

    async fn step(&mut self, index: usize, step: &Step) -> StepRun {
        match &step.action {
            Action::Await(awaited) => return self.await_step(index, awaited).await,
            Action::EnterLicense(reference) => return self.enter_license(index, reference).await,
            Action::Login {
                enterprise,
                via,
                within,
            } => return self.login(index, enterprise, *via, *within).await,
            _ => {}
        }
        self.stop_used_up_packages();
        let at = self.engine.elapsed();
        let first_call = self.engine.calls().len();
        let (acted, blocked, performed) = self.act_rounds(step, first_call).await;
        // The step's calls are every call it caused: its own, the follow-ups they triggered
        // (V2 queryInstance polls) and, for `advance`, the notices that fell due.
        // A restart re-opens earlier calls, which count as the step's too.
        let mut caused: Vec<CallId> = acted
            .calls
            .iter()
            .copied()
            .filter(|c| c.0 < first_call)
            .collect();
        caused.extend((first_call..self.engine.calls().len()).map(CallId));
        for call in &caused {
            self.plans
                .entry(*call)
                .or_insert_with(|| step.faults.clone());
        }
        let mut capture = acted.capture;
        capture.calls.clone_from(&caused);
        // A capture stands for the step's calls to the production address (see
        // `facts::about_notification`).
        if !crate::scenario::run::facts::about_notification(step) {
            capture.calls.retain(|c| !self.is_notification(*c));
        }
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
            merchant_calls: Vec::new(),
            awaited: None,
        }
    }

    /// The packages whose quota the merchant's usage pushes used up stop their on-demand
    /// instance (用完即停, spec V2 §7.1): their notices go out with this step's deliveries.
    fn stop_used_up_packages(&mut self) {
        let Some(publisher) = &self.publisher else {
            return;
        };
        for package in publisher.book().take_exhausted(publisher.scope()) {
            let found = self
                .engine
                .all_instances()
                .find(|(_, i)| i.merchant_id.as_deref() == Some(package.as_str()))
                .map(|(r, _)| r);
            if let Some(instance) = found {
                let _ = self
                    .engine
                    .exhaust_quota(instance, &crate::marketplace::CallOptions::default());
            }
        }
    }

    /// Performs the step's action once per round (`faults.rounds`, 1 by default), each round
    /// run to its end before the next starts; the capture is the first round's order with
    /// every round's instances.
    async fn act_rounds(
        &mut self,
        step: &Step,
        first_call: usize,
    ) -> (Acted, Option<String>, Vec<Performed>) {
        let mut all = Acted {
            calls: Vec::new(),
            capture: Capture::default(),
            until: self.engine.now(),
        };
        let mut performed = Vec::new();
        for _ in 0..step.faults.rounds.max(1) {
            let acted = match self.act(step) {
                Ok(acted) => acted,
                Err(reason) => return (all, Some(reason), performed),
            };
            for call in &acted.calls {
                self.plans.insert(*call, step.faults.clone());
            }
            performed.extend(self.perform_until(step, first_call, acted.until).await);
            all.calls.extend(acted.calls);
            all.capture.order = all.capture.order.or(acted.capture.order);
            all.capture.enterprise = all.capture.enterprise.or(acted.capture.enterprise);
            all.capture.instances.extend(acted.capture.instances);
            all.until = acted.until;
        }
        (all, None, performed)
    }

    /// Runs the engine to `until`. A step's faults apply to every call it causes — its own,
    /// and the notices or follow-ups that fall due while it runs (an `advance` whose expiry
    /// notice is lost, say); earlier calls keep the faults of the step that made them.
    async fn perform_until(
        &mut self,
        step: &Step,
        first_call: usize,
        until: UnixMillis,
    ) -> Vec<Performed> {
        let plans = &self.plans;
        let notifications_exempt = !crate::scenario::run::facts::about_notification(step);
        let mut plan = |delivery: &Delivery| {
            // A step's faults are about its calls to the production address (see
            // `facts::about_notification`).
            if notifications_exempt
                && delivery.request.activity() == crate::protocol::Activity::OrderNotify
            {
                return AttemptFault::default();
            }
            let faults = plans
                .get(&delivery.call)
                .or((delivery.call.0 >= first_call).then_some(&step.faults));
            faults.map_or_else(AttemptFault::default, |faults| AttemptFault {
                fail_before_send: faults.fail_before_send.includes(delivery.attempt),
                drop_response: faults.drop_response.includes(delivery.attempt),
                edit: faults.edit.clone(),
                tamper: faults.tamper,
                together: faults.copies > 1,
            })
        };
        let publisher = &mut self.publisher;
        let mut sync = |engine: &Marketplace| {
            if let Some(publisher) = publisher.as_mut() {
                publisher.sync(engine);
            }
        };
        run_until(
            &mut self.engine,
            &self.context.client,
            until,
            &mut plan,
            &mut sync,
        )
        .await
    }
}
