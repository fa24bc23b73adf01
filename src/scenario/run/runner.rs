//! Running one scenario: a fresh marketplace per scenario, each step's action turned into
//! engine events, the deliveries performed against the target with the step's faults, and
//! after each step the facts its expectations are judged on.
//!
//! The runner records what happened; it judges nothing. The checks live in
//! [`crate::conformance`], which reads these records.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::deliver::{self, AttemptFault, Completed, LostTask, Observer, Performed, Taken};
use crate::marketplace::{CallId, Delivery, Marketplace, Span};

use crate::protocol::open_api::OpenApiUse;
use crate::protocol::{Activity, UnixMillis};
use crate::scenario::format::model::{Action, Faults, Scenario, Step};

use crate::marketplace::lifecycle::{Instance, InstanceRef, InstanceState};
use crate::marketplace::transitions::{Event, NO_INSTANCE};
use crate::scenario::publish::Publisher;
use crate::scenario::result::{Exchange, ScenarioRun, Skip, StepRun, Transition};
use crate::scenario::run::facts::about_notification;
use crate::scenario::run::state::{Acted, Capture, Run};

pub(crate) use crate::scenario::run::context::{OpenApiLink, RunContext, SERVE_OPEN_APIS};

use crate::transport::wire::wall_clock;

/// FNV-1a over the scenario's file and name: the same for the scenario in every run, so
/// what transcripts show (key orders, names) does not change from run to run.
fn stable_seed(scenario: &Scenario) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in scenario
        .file
        .to_string_lossy()
        .bytes()
        .chain(scenario.name.bytes())
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The seed of a scenario's ids: stable per scenario within a run, different across runs.
fn seed_for(run_seed: u64, scenario: &Scenario) -> u64 {
    stable_seed(scenario) ^ run_seed
}

/// Why a scenario that applies to the product cannot run with the configuration given, if
/// it cannot. Its calls to the open APIs are ones the product's kind makes (the profile
/// checked that), and a License code is what License-code software is for: without them the
/// run is incomplete. The login is a feature the merchant opts into: without its callback
/// address the scenario is skipped like any undeclared feature.
fn unconfigured(scenario: &Scenario, context: &RunContext) -> Option<Skip> {
    let does = |wanted: fn(&Action) -> bool| scenario.steps.iter().any(|s| wanted(&s.action));
    let logs_in = does(|a| matches!(a, Action::Login { .. }));
    if logs_in && context.login_url.is_none() {
        return Some(Skip::not_applicable(
            "tests the login: pass --login-url URL (the merchant's OAuth redirect_uri)",
        ));
    }
    let Some(link) = &context.open_api else {
        if logs_in && scenario.applies.calls.is_empty() {
            return Some(Skip::not_applicable(format!(
                "tests the login, and the identity centre is served with the open APIs: {}",
                context.serve_open_apis
            )));
        }
        return (!scenario.applies.calls.is_empty()).then(|| {
            Skip::incomplete(format!(
                "the open APIs are not served: {}",
                context.serve_open_apis
            ))
        });
    };
    let enters_code = does(|a| matches!(a, Action::EnterLicense(_)));
    (enters_code && link.software_url.is_none()).then(|| {
        Skip::incomplete(
            "enters a License code into the software: pass --software-url URL (where your software takes a License code)",
        )
    })
}

/// Runs one scenario against the context's target.
pub(crate) async fn run_scenario(scenario: Arc<Scenario>, context: &RunContext) -> ScenarioRun {
    let skipped = |skip: Skip, scenario: Arc<Scenario>| ScenarioRun {
        scenario,
        skipped: Some(skip),
        steps: Vec::new(),
        virtual_span: Span::ZERO,
        start: UnixMillis(0),
        wall: Duration::ZERO,
    };
    if let Some(reason) = context.profile.skip_reason(&scenario) {
        return skipped(Skip::not_applicable(reason), scenario);
    }
    if let Some(skip) = unconfigured(&scenario, context) {
        return skipped(skip, scenario);
    }
    let mut session = Session::start(&scenario, context);
    for step in &scenario.steps {
        session.push(step).await;
    }
    session.finish(scenario)
}

/// A scenario run one step at a time: what [`run_scenario`] does in one go, and what
/// `kgsim explore` does while it decides each next step from the marketplace's state.
pub(crate) struct Session<'a> {
    run: Run<'a>,
    steps: Vec<StepRun>,
    started: Instant,
}

/// The longest a step waits for kgsim's own merchant to make the calls the steps before it
/// obliged it to (they take milliseconds; the bound only keeps a stuck call from holding the
/// run).
const SETTLE_MOST: Duration = Duration::from_secs(2);

impl<'a> Session<'a> {
    /// A fresh marketplace for `scenario` (whose file and name seed its ids with the run's
    /// seed), nothing done yet.
    pub(crate) fn start(scenario: &Scenario, context: &'a RunContext) -> Self {
        let mut settings = context.profile.settings(context.key.clone());
        settings.wire.stable_seed = stable_seed(scenario);
        settings.keys = context.keys.clone();
        settings.kit = context.kit.clone();
        let run = Run {
            engine: Marketplace::new(
                settings,
                context
                    .start
                    .unwrap_or_else(|| crate::marketplace::clock::business_start(wall_clock())),
                seed_for(context.seed, scenario),
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
        Self {
            run,
            steps: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Performs the next step and records the lifecycle transitions it made.
    pub(crate) async fn push(&mut self, step: &Step) -> &StepRun {
        let before: Vec<InstanceState> = self
            .run
            .engine
            .all_instances()
            .map(|(_, i)| i.state)
            .collect();
        let mut step_run = self.run.step(self.steps.len(), step).await;
        step_run.transitions = self.transitions(step, &before);
        self.steps.push(step_run);
        &self.steps[self.steps.len() - 1]
    }

    /// The transitions of a step: the event on each instance its action names (a purchase's
    /// new instances from `none`), and a timer's on every other instance that changed.
    fn transitions(&self, step: &Step, before: &[InstanceState]) -> Vec<Transition> {
        let event = Event::of_keyword(step.action.keyword());
        let named: Vec<InstanceRef> = step
            .action
            .references()
            .iter()
            .filter_map(|r| self.run.instance(&r.name))
            .collect();
        let mut transitions = Vec::new();
        for (instance, now) in self.run.engine.all_instances() {
            let was = before.get(instance.0).copied();
            let (from, event) = match (was, event) {
                (None, Some(Event::Purchase)) => (NO_INSTANCE, Event::Purchase),
                (None, _) => continue,
                (Some(was), Some(event)) if named.contains(&instance) => (was.slug(), event),
                (Some(was), _) if was != now.state => (was.slug(), Event::Advance),
                _ => continue,
            };
            transitions.push(Transition {
                from,
                event,
                to: now.state.slug(),
            });
        }
        transitions
    }

    /// The next instant a timer of the marketplace is due, if one is.
    pub(crate) fn next_due(&mut self) -> Option<UnixMillis> {
        self.run.engine.next_due()
    }

    /// Whether a call about the instance an `as:` name stands for is still being delivered
    /// (a lost answer's retries): KooGallery sends nothing else about an instance with an
    /// unsettled order or notice.
    pub(crate) fn unsettled(&self, name: &str) -> bool {
        let Some(instance) = self.run.instance(name) else {
            return false;
        };
        self.run.engine.calls().iter().any(|call| {
            call.instance == Some(instance)
                && call.state == crate::marketplace::engine::CallState::Scheduled
        })
    }

    /// The marketplace as it stands.
    pub(crate) fn engine(&self) -> &Marketplace {
        &self.run.engine
    }

    /// The first instance an `as:` name stands for.
    pub(crate) fn instance_named(&self, name: &str) -> Option<&Instance> {
        self.run.instance(name).map(|i| self.run.engine.instance(i))
    }

    /// The run of `scenario`, whose steps are those pushed.
    pub(crate) fn finish(self, scenario: Arc<Scenario>) -> ScenarioRun {
        ScenarioRun {
            virtual_span: self.run.engine.elapsed(),
            start: self.run.engine.start(),
            scenario,
            skipped: None,
            steps: self.steps,
            wall: self.started.elapsed(),
        }
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
        self.merchant_settled().await;
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
        if !about_notification(step) {
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
            transitions: Vec::new(),
        }
    }

    /// Waits (at most [`SETTLE_MOST`]) until kgsim's own merchant has made the open-API calls
    /// the steps before this one obliged it to: a step must not overtake them. A usage push
    /// about an on-demand instance overtaken by the stop-when-used-up package bought next
    /// would be judged against that package; which of the two wins is timing, and a report
    /// must not depend on timing. A merchant kgsim cannot see into is not waited for here
    /// (its calls are judged as they come, as production judges them).
    async fn merchant_settled(&self) {
        let (Some(link), Some(publisher)) = (&self.context.open_api, &self.publisher) else {
            return;
        };
        let deadline = tokio::time::Instant::now() + SETTLE_MOST;
        link.merchant_settled(publisher.scope(), deadline).await;
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
        let mut observer = StepObserver {
            plans: &self.plans,
            step,
            first_call,
            notifications_exempt: !about_notification(step),
            publisher: self.publisher.as_mut(),
            performed: Vec::new(),
        };
        let outcome =
            deliver::run_until(&mut self.engine, &self.context.client, until, &mut observer).await;
        match outcome {
            Ok(_) => observer.performed,
            Err(never) => match never {},
        }
    }
}

/// How a run watches its deliveries: each attempt gets the faults of the step that made its
/// call, the open APIs learn of the marketplace before every batch, a lost task is judged
/// broken (never left pending: a scenario must end).
struct StepObserver<'a> {
    plans: &'a HashMap<CallId, Faults>,
    step: &'a Step,
    first_call: usize,
    /// A step's faults are about its calls to the production address, unless it is about
    /// the notification (see `facts::about_notification`).
    notifications_exempt: bool,
    publisher: Option<&'a mut Publisher>,
    performed: Vec<Performed>,
}

impl Observer for StepObserver<'_> {
    type Error = std::convert::Infallible;

    fn batch_taken(
        &mut self,
        engine: &Marketplace,
        _: Taken,
        _: &[Delivery],
    ) -> Result<(), Self::Error> {
        // What the open APIs know is brought up to date before each batch goes out (the
        // merchant may query an order as soon as its newInstance arrives) and after the
        // last one (an instance is named by the id the merchant returned).
        if let Some(publisher) = self.publisher.as_mut() {
            publisher.sync(engine);
        }
        Ok(())
    }

    fn fault(&mut self, delivery: &Delivery) -> AttemptFault {
        if self.notifications_exempt && delivery.request.activity() == Activity::OrderNotify {
            return AttemptFault::default();
        }
        let faults = self
            .plans
            .get(&delivery.call)
            .or((delivery.call.0 >= self.first_call).then_some(&self.step.faults));
        faults.map_or_else(AttemptFault::default, |faults| AttemptFault {
            fail_before_send: faults.fail_before_send.includes(delivery.attempt),
            drop_response: faults.drop_response.includes(delivery.attempt),
            edit: faults.edit.clone(),
            tamper: faults.tamper,
            together: faults.copies > 1,
        })
    }

    fn completed(&mut self, _: &Marketplace, completed: Completed) -> Result<(), Self::Error> {
        self.performed.push(completed.performed);
        Ok(())
    }

    fn task_lost(&mut self, _: &Marketplace, _: &Delivery) -> Result<LostTask, Self::Error> {
        // A task can only be lost to a bug in kgsim itself; the attempt is then judged
        // broken rather than left pending forever.
        Ok(LostTask::Judge(deliver::batch::broken()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplace::{PurchaseSpec, Settings};
    use crate::protocol::{AccessKey, Protocol};

    #[test]
    fn a_run_judges_a_lost_attempt_broken_so_that_the_scenario_ends() {
        let mut engine = Marketplace::new(
            Settings::new(Protocol::V1, AccessKey::new("k")),
            UnixMillis(1_795_000_000_000),
            7,
        );
        engine.purchase(&PurchaseSpec::default());
        let delivery = engine.next_batch(engine.now()).remove(0);
        let step = Step::of(Action::Advance(
            crate::scenario::format::model::Advance::Span(Span::ZERO),
        ));
        let plans = HashMap::new();
        let mut observer = StepObserver {
            plans: &plans,
            step: &step,
            first_call: 0,
            notifications_exempt: true,
            publisher: None,
            performed: Vec::new(),
        };
        let Ok(decision) = observer.task_lost(&engine, &delivery);
        assert_eq!(decision, LostTask::Judge(deliver::batch::broken()));
    }
}
