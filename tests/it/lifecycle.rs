//! The marketplace engine against the reference merchant over real loopback sockets: whole
//! lifecycles in both protocols, and the 3-hour retry schedule, in virtual time.

use std::time::Duration;

use kgsim::deliver::{Collect, Performed, run_until};
use kgsim::marketplace::{
    CallOptions, InstanceState, Marketplace, OrderState, PurchaseSpec, Settings, Span,
};
use kgsim::merchant::{Fault, Faults, MerchantConfig};
use kgsim::protocol::{AccessKey, Activity, Protocol, UnixMillis};
use kgsim::transport::Client;
use kgsim::transport::wire::wall_clock;

use crate::support::{client, start_merchant};

const KEY: &str = "lifecycle-test-key-0123456789";

async fn setup(protocol: Protocol, faults: &[Fault]) -> (Marketplace, Client) {
    let mut config = MerchantConfig::new(protocol, AccessKey::new(KEY));
    config.faults = Faults::of(faults.iter().copied());
    let url = start_merchant(config).await;
    let target = client(&url, Duration::from_secs(20));
    let engine = Marketplace::new(
        Settings::new(protocol, AccessKey::new(KEY)),
        wall_clock(),
        7,
    );
    (engine, target)
}

async fn run(engine: &mut Marketplace, target: &Client, until: UnixMillis) -> Vec<Performed> {
    let mut collected = Collect::default();
    let Ok(_) = run_until(engine, target, until, &mut collected).await;
    collected.performed
}

fn all_accepted(performed: &[Performed]) {
    for p in performed {
        assert!(
            p.judgement.accepted(),
            "{:?} attempt {} rejected: {:?}",
            p.delivery.request.activity(),
            p.delivery.attempt,
            p.judgement.findings
        );
    }
}

fn activities(performed: &[Performed]) -> Vec<Activity> {
    performed
        .iter()
        .map(|p| p.delivery.request.activity())
        .collect()
}

#[tokio::test]
async fn full_lifecycles_pass_against_the_reference_merchant() {
    for protocol in Protocol::ALL.iter().copied() {
        let (mut engine, target) = setup(protocol, &[]).await;
        let purchase = engine.purchase(&PurchaseSpec::default());
        let instance = purchase.instances[0];
        let now = engine.now();
        all_accepted(&run(&mut engine, &target, now).await);
        assert_eq!(
            engine.order(&purchase.order).unwrap().state,
            OrderState::Opened,
            "{protocol}"
        );

        // A month and a day later the period has ended: frozen.
        let expiry = engine.instance(instance).expire_at.unwrap();
        let performed = run(
            &mut engine,
            &target,
            expiry.plus_ms(Span::days(1).as_millis()),
        )
        .await;
        all_accepted(&performed);
        assert_eq!(
            engine.instance(instance).state.slug(),
            "frozen",
            "{protocol}"
        );

        // Renewal in the freeze window unfreezes; the next expiry then runs to release.
        engine
            .renew(instance, None, &CallOptions::default())
            .unwrap();
        let now = engine.now();
        all_accepted(&run(&mut engine, &target, now).await);
        assert_eq!(engine.instance(instance).state, InstanceState::Active);
        engine.upgrade(instance, &CallOptions::default()).unwrap();
        let query = engine
            .query(&[instance], &[], &CallOptions::default())
            .unwrap();
        let performed = run(
            &mut engine,
            &target,
            expiry.plus_ms(Span::days(120).as_millis()),
        )
        .await;
        all_accepted(&performed);
        assert_eq!(
            engine.instance(instance).state,
            InstanceState::Released,
            "{protocol}"
        );
        let listed = performed.iter().find(|p| p.delivery.call == query).unwrap();
        assert_eq!(
            listed
                .judgement
                .answer
                .as_ref()
                .unwrap()
                .listed_instances()
                .len(),
            1
        );
        let expected_tail = match protocol {
            Protocol::V1 => vec![
                Activity::Upgrade,
                Activity::QueryInstance,
                Activity::ExpireInstance,
                Activity::ReleaseInstance,
            ],
            Protocol::V2 => vec![
                Activity::Upgrade,
                Activity::QueryInstance,
                Activity::InstanceStatus,
                Activity::ReleaseInstance,
            ],
        };
        assert_eq!(activities(&performed), expected_tail, "{protocol}");
    }
}

#[tokio::test]
async fn failing_the_first_two_attempts_opens_the_order_at_two_hours() {
    let started = std::time::Instant::now();
    let (mut engine, target) = setup(Protocol::V1, &[Fault::FailFirst(2)]).await;
    let purchase = engine.purchase(&PurchaseSpec::default());
    let start = engine.now();
    let performed = run(
        &mut engine,
        &target,
        start.plus_ms(Span::hours(6).as_millis()),
    )
    .await;
    let attempts: Vec<_> = performed
        .iter()
        .filter(|p| p.delivery.request.activity() == Activity::NewInstance)
        .map(|p| (Span::between(start, p.delivery.due), p.judgement.accepted()))
        .collect();
    assert_eq!(
        attempts,
        vec![
            (Span::ZERO, false),
            (Span::hours(1), false),
            (Span::hours(2), true)
        ]
    );
    let order = engine.order(&purchase.order).unwrap();
    assert_eq!(
        (
            order.state,
            order.settled_at.map(|t| Span::between(start, t))
        ),
        (OrderState::Opened, Some(Span::hours(2)))
    );
    assert!(engine.instance(purchase.instances[0]).merchant_id.is_some());
    eprintln!(
        "three hourly attempts over real sockets took {:?} of wall time",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_merchant_that_never_recovers_gets_its_order_refunded_after_three_hours() {
    for protocol in Protocol::ALL.iter().copied() {
        let (mut engine, target) = setup(protocol, &[Fault::FailAlways]).await;
        let purchase = engine.purchase(&PurchaseSpec::default());
        let start = engine.now();
        let performed = run(
            &mut engine,
            &target,
            start.plus_ms(Span::hours(12).as_millis()),
        )
        .await;
        assert_eq!(performed.len(), 4, "{protocol}");
        let order = engine.order(&purchase.order).unwrap();
        assert_eq!(order.state, OrderState::Failed { refunded: true });
        assert_eq!(
            order.settled_at.map(|t| Span::between(start, t)),
            Some(Span::hours(3))
        );
    }
}
