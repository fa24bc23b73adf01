//! Choosing a walk's next step from the marketplace's state: only events the product's
//! lifecycle table allows for an instance in its current state
//! ([`crate::marketplace::transitions`]), the clock moved to the next timer or by a random
//! span, and now and then a marketplace-side fault the scenario language has — a lost answer
//! (so that the retry table runs), identical copies at once, a resent purchase, a forged
//! request that must be refused. Every step carries the expectations the suite would write
//! for it, so that a shrunk walk replays as the same failure.

use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

use crate::checks::CheckId;
use crate::marketplace::Span;
use crate::marketplace::kind::ProductType;
use crate::marketplace::transitions::{Event, Lifecycle};
use crate::protocol::{Activity, ResultCode};
use crate::scenario::format::model::{
    Action, Advance, Attempts, Awaited, AwaitedCall, Expect, Expectation, Location, Ref,
    ResultExpectation, Step,
};
use crate::scenario::run::runner::Session;

/// At most this many purchases in one walk: enough for a buyer's several instances.
const MOST_PURCHASES: usize = 5;
/// The spans a random `advance` picks from: an hour of the retry table, a day, a week, the
/// 15-day freeze window and beyond it.
const SPANS: [Span; 5] = [
    Span::hours(1),
    Span::hours(3),
    Span::days(1),
    Span::days(7),
    Span::days(16),
];

/// The capture name of the `n`th purchase (from 1).
pub(crate) fn purchase_name(n: usize) -> String {
    format!("p{n}")
}

fn reference(name: &str) -> Ref {
    Ref {
        name: name.to_owned(),
        at: Location::default(),
    }
}

fn expectation(expect: Expect) -> Expectation {
    Expectation {
        expect,
        at: Location::default(),
    }
}

/// The action that sends `event` about the purchase named `name`.
fn lifecycle_action(event: Event, name: &str) -> Option<Action> {
    let r = reference(name);
    Some(match event {
        Event::Resend => Action::Resend(r),
        Event::Renew => Action::Renew {
            instance: r,
            period: None,
        },
        Event::ConvertTrial => Action::ConvertTrial {
            instance: r,
            period: None,
        },
        Event::RefundRenewal => Action::RefundRenewal(r),
        Event::Upgrade => Action::Upgrade(r),
        Event::Freeze => Action::Freeze(r),
        Event::Unfreeze => Action::Unfreeze(r),
        Event::Arrears => Action::Arrears(r),
        Event::Recharge => Action::Recharge(r),
        Event::Expire => Action::Expire(r),
        Event::Unsubscribe => Action::Unsubscribe(r),
        Event::Query => Action::Query {
            instances: vec![r],
            unknown: 0,
        },
        Event::ChangeCheck => Action::ChangeCheck(r),
        Event::Purchase | Event::Advance => return None,
    })
}

/// One walk's choices: seeded, so that the same seed, product and merchant give the same
/// walk.
pub(crate) struct Walker<'a> {
    lifecycle: &'a Lifecycle,
    rng: StdRng,
    purchases: usize,
    /// Steps that must come next, in order: a License code's entry into the software and
    /// the wait for its activation, after its purchase.
    queued: std::collections::VecDeque<Step>,
    /// License-code purchases whose code the software activated: only those get notices
    /// (the merchant knows no other code).
    activated: Vec<String>,
}

impl<'a> Walker<'a> {
    /// A walk seeded with `seed`.
    pub(crate) fn new(lifecycle: &'a Lifecycle, seed: u64) -> Self {
        Self {
            lifecycle,
            rng: StdRng::seed_from_u64(seed),
            purchases: 0,
            queued: std::collections::VecDeque::new(),
            activated: Vec::new(),
        }
    }

    fn license_codes(&self) -> bool {
        self.lifecycle.kind().product == ProductType::LicenseCode
    }

    /// The next step, chosen among what the marketplace may do now.
    pub(crate) fn next(&mut self, session: &mut Session<'_>) -> Step {
        if let Some(step) = self.queued.pop_front() {
            return step;
        }
        let now = session.engine().now();
        let mut events: Vec<(Event, String)> = Vec::new();
        for n in 1..=self.purchases {
            let name = purchase_name(n);
            let Some(instance) = session.instance_named(&name) else {
                continue;
            };
            if self.license_codes() && !self.activated.contains(&name) {
                continue;
            }
            let unsettled = session.unsettled(&name);
            for event in Event::ALL {
                if unsettled && event != Event::Query {
                    continue;
                }
                if self.lifecycle.allows(instance, now, event) {
                    events.push((event, name.clone()));
                }
            }
        }
        let can_buy = self.lifecycle.purchasable() && self.purchases < MOST_PURCHASES;
        let roll = self.rng.random_range(0..100);
        if can_buy && (self.purchases == 0 || events.is_empty() || roll < 12) {
            return self.purchase();
        }
        if events.is_empty() || roll < 30 {
            return self.advance(session);
        }
        let (event, name) = events.swap_remove(self.rng.random_range(0..events.len()));
        if roll < 34 && !self.license_codes() {
            return forged(&name);
        }
        let Some(action) = lifecycle_action(event, &name) else {
            return self.advance(session);
        };
        let mut step = Step::of(action);
        if event == Event::Resend {
            step.expect
                .push(expectation(Expect::SameInstance(reference(&name))));
        } else if self.rng.random_range(0..10) == 0 && event != Event::Query {
            // The first answer is lost: the retry table takes over at the next advances.
            step.faults.drop_response = Attempts::Only(vec![1]);
        }
        step
    }

    fn purchase(&mut self) -> Step {
        self.purchases += 1;
        let trial = self.lifecycle.offers_trial() && self.rng.random_range(0..4) == 0;
        let mut step = Step::of(Action::Purchase {
            billing: None,
            period: None,
            trial,
            products: 1,
            package_for: None,
            stop_when_used_up: false,
            quota: None,
        });
        let name = purchase_name(self.purchases);
        step.capture = Some(name.clone());
        if self.license_codes() {
            // The buyer enters the code into the software, which activates it (V2 §4.1);
            // only then does the merchant know the code its notices name.
            self.queued
                .push_back(Step::of(Action::EnterLicense(reference(&name))));
            self.queued.push_back(Step::of(Action::Await(Awaited {
                call: AwaitedCall::LicenseActivate(reference(&name)),
                within: Span::seconds(30),
            })));
            self.activated.push(name);
            return step;
        }
        if self.purchases > 1 {
            let previous = purchase_name(self.purchases - 1);
            step.expect
                .push(expectation(Expect::DifferentInstance(reference(&previous))));
        }
        match self.rng.random_range(0..10) {
            0 => {
                // Identical copies at once: one instance whatever arrives together.
                step.faults.copies = 2;
                step.expect.push(expectation(Expect::DistinctInstances(1)));
            }
            // The first answer is lost: the purchase opens on a retry an hour later.
            1 => step.faults.drop_response = Attempts::Only(vec![1]),
            _ => {}
        }
        step
    }

    /// The clock moved to the next timer (a retry, an expiry, a release), or by a span.
    fn advance(&mut self, session: &mut Session<'_>) -> Step {
        let now = session.engine().now();
        let next = session
            .next_due()
            .map(|due| Span::between(now, due))
            .filter(|span| span.as_millis() > 0);
        let span = match next {
            Some(span) if self.rng.random_bool(0.5) => round_up_to_seconds(span),
            _ => SPANS[self.rng.random_range(0..SPANS.len())],
        };
        Step::of(Action::Advance(Advance::Span(span)))
    }
}

/// A span rounded up to whole seconds, as a scenario writes it.
fn round_up_to_seconds(span: Span) -> Span {
    Span::seconds((span.as_millis() + 999) / 1000)
}

/// A forged request about an instance: its signature changed after signing. Every merchant
/// must refuse it (000001) whatever the instance's state.
fn forged(name: &str) -> Step {
    let mut step = Step::of(Action::Send {
        activity: Activity::ReleaseInstance,
        instance: Some(reference(name)),
    });
    step.faults.tamper = Some(crate::transport::wire::Tamper::Signature);
    step.check = Some(CheckId::SecurityForgedSignature);
    step.expect
        .push(expectation(Expect::Result(ResultExpectation::OneOf(vec![
            ResultCode::AuthFailed,
        ]))));
    step
}

/// The instance-state expectation of a step that acted on a purchase, stated from the
/// marketplace's view once the step ran (`instance: frozen` after an expiry, `active` after
/// a renewal): the expectation the suite's lifecycle scenarios write.
pub(crate) fn state_expectation(step: &Step, session: &Session<'_>) -> Option<Expectation> {
    if matches!(
        step.action,
        Action::Purchase { .. }
            | Action::Advance(_)
            | Action::Send { .. }
            | Action::Resend(_)
            | Action::EnterLicense(_)
            | Action::Await(_)
    ) {
        return None;
    }
    let name = step.action.references().first().map(|r| r.name.clone())?;
    let state = session.instance_named(&name)?.state;
    Some(expectation(Expect::Instance(state.slug().to_owned())))
}
