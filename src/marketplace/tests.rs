//! Engine tests with a scripted merchant: no sockets, no sleeps, virtual time only.

use serde_json::json;

use crate::marketplace::classify::{Finding, Judgement, answer};
use crate::marketplace::clock::Span;
use crate::marketplace::engine::{AttemptResult, CallState, Delivery, Marketplace};
use crate::marketplace::events::{CallOptions, PurchaseSpec};
use crate::marketplace::lifecycle::{InstanceState, OrderState};
use crate::marketplace::settings::{FreezeStart, Settings};
use crate::protocol::{AccessKey, Activity, BillingMode, Protocol, Request, UnixMillis};

const START: UnixMillis = UnixMillis(1_767_225_600_000); // 2026-01-01T00:00:00Z

fn market(protocol: Protocol) -> Marketplace {
    Marketplace::new(Settings::new(protocol, AccessKey::new("k")), START, 42)
}

fn accepted(body: &serde_json::Value) -> Judgement {
    let answer = answer::parse(body.to_string().as_bytes()).expect("an answer");
    let provisioning = answer.result_code.as_deref() == Some("000004");
    Judgement {
        findings: vec![],
        answer: Some(answer),
        provisioning,
    }
}

fn ok(instance_id: &str) -> Judgement {
    // Lists the instance too, so that a V2 provisioning poll counts it as ready.
    accepted(
        &json!({"resultCode": "000000", "resultMsg": "ok", "instanceId": instance_id, "info": [{"instanceId": instance_id}]}),
    )
}

fn rejected() -> Judgement {
    Judgement {
        findings: vec![Finding::ResultCode("000005".into())],
        answer: None,
        provisioning: false,
    }
}

/// Runs the engine until `until`, answering every delivery with `answer`; returns the
/// deliveries in order.
fn drive(
    market: &mut Marketplace,
    until: UnixMillis,
    mut answer: impl FnMut(&Delivery) -> Judgement,
) -> Vec<Delivery> {
    let mut seen = Vec::new();
    loop {
        let batch = market.next_batch(until);
        if batch.is_empty() {
            return seen;
        }
        for delivery in batch {
            let judgement = answer(&delivery);
            market.complete(&delivery, &judgement);
            seen.push(delivery);
        }
    }
}

fn hours(n: i64) -> UnixMillis {
    START.plus_ms(Span::hours(n).0)
}

fn elapsed(at: UnixMillis) -> Span {
    Span::between(START, at)
}

#[test]
fn a_merchant_that_fails_twice_is_opened_on_the_third_hourly_attempt() {
    let mut m = market(Protocol::V1);
    let purchase = m.purchase(&PurchaseSpec::default());
    let mut failures = 2;
    let deliveries = drive(&mut m, hours(6), |d| {
        if d.request.activity() == Activity::NewInstance && failures > 0 {
            failures -= 1;
            rejected()
        } else {
            ok("inst-1")
        }
    });
    let news: Vec<_> = deliveries
        .iter()
        .filter(|d| d.request.activity() == Activity::NewInstance)
        .collect();
    assert_eq!(
        news.iter().map(|d| elapsed(d.due)).collect::<Vec<_>>(),
        vec![Span::ZERO, Span::hours(1), Span::hours(2)]
    );
    let order = m.order(&purchase.order).unwrap();
    assert_eq!(order.state, OrderState::Opened);
    assert_eq!(order.settled_at.map(elapsed), Some(Span::hours(2)));
    let instance = m.instance(purchase.instances[0]);
    assert_eq!(
        (instance.state, instance.merchant_id.as_deref()),
        (InstanceState::Active, Some("inst-1"))
    );
    assert_eq!(
        m.calls()
            .iter()
            .filter(|c| c.activity() == Activity::NewInstance)
            .count(),
        1
    );
    // Every attempt carried a different businessId.
    let business: std::collections::BTreeSet<_> =
        news.iter().map(|d| format!("{:?}", d.request)).collect();
    assert_eq!(business.len(), 3);
}

#[test]
fn a_merchant_that_never_recovers_gets_the_order_failed_and_refunded_after_three_hours() {
    for protocol in Protocol::ALL.iter().copied() {
        let mut m = market(protocol);
        let purchase = m.purchase(&PurchaseSpec::default());
        let deliveries = drive(&mut m, hours(24), |_| rejected());
        let times: Vec<_> = deliveries.iter().map(|d| elapsed(d.due)).collect();
        assert_eq!(
            times,
            vec![Span::ZERO, Span::hours(1), Span::hours(2), Span::hours(3)],
            "{protocol}"
        );
        let order = m.order(&purchase.order).unwrap();
        assert_eq!(order.state, OrderState::Failed { refunded: true });
        assert_eq!(order.settled_at.map(elapsed), Some(Span::hours(3)));
        assert_eq!(
            m.instance(purchase.instances[0]).state,
            InstanceState::Failed
        );
        assert_eq!(m.call(purchase.calls[0]).state, CallState::Exhausted);
        assert_eq!(m.log().len(), 4);
        assert!(
            m.restart(purchase.calls[0]).is_err(),
            "a refunded order cannot be restarted"
        );
    }
}

#[test]
fn period_expiry_freezes_then_retention_releases() {
    let mut m = market(Protocol::V1);
    let purchase = m.purchase(&PurchaseSpec::default());
    let deliveries = drive(&mut m, START.plus_ms(Span::days(60).0), |_| ok("i"));
    let activities: Vec<_> = deliveries
        .iter()
        .map(|d| (d.request.activity(), d.due))
        .collect();
    let expiry = START.plus_months(1);
    assert_eq!(
        activities,
        vec![
            (Activity::NewInstance, START),
            (Activity::ExpireInstance, expiry),
            (Activity::ReleaseInstance, expiry.plus_ms(Span::days(15).0)),
        ]
    );
    assert_eq!(
        m.instance(purchase.instances[0]).state,
        InstanceState::Released
    );
}

#[test]
fn freeze_after_grace_is_a_setting() {
    let mut settings = Settings::new(Protocol::V1, AccessKey::new("k"));
    settings.freeze_start = FreezeStart::AfterGrace;
    let mut m = Marketplace::new(settings, START, 1);
    m.purchase(&PurchaseSpec::default());
    let deliveries = drive(&mut m, START.plus_ms(Span::days(90).0), |_| ok("i"));
    let expiry = START.plus_months(1);
    assert_eq!(deliveries[1].due, expiry.plus_ms(Span::days(7).0));
    assert_eq!(deliveries[2].due, expiry.plus_ms(Span::days(22).0));
}

#[test]
fn v2_period_end_is_update_instance_status_and_renewal_in_the_freeze_window_unfreezes() {
    let mut m = market(Protocol::V2);
    let purchase = m.purchase(&PurchaseSpec::default());
    let instance = purchase.instances[0];
    let expiry = START.plus_months(1);
    let deliveries = drive(&mut m, expiry.plus_ms(Span::days(3).0), |_| ok("i"));
    let names: Vec<_> = deliveries.iter().map(|d| d.request.activity()).collect();
    assert_eq!(
        names,
        vec![
            Activity::NewInstance,
            Activity::QueryInstance,
            Activity::InstanceStatus
        ]
    );
    assert_eq!(m.instance(instance).state.slug(), "frozen");
    let calls = m.renew(instance, None, &CallOptions::default()).unwrap();
    assert_eq!(
        calls.len(),
        1,
        "refreshInstance only: UNFREEZE waits for its answer"
    );
    // The UNFREEZE is not sent with the renewal: the first batch is the refresh alone.
    let first = m.next_batch(expiry.plus_ms(Span::days(20).0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].request.activity(), Activity::RefreshInstance);
    m.complete(&first[0], &ok("i"));
    let rest = drive(&mut m, expiry.plus_ms(Span::days(20).0), |_| ok("i"));
    assert_eq!(
        rest.len(),
        1,
        "the UNFREEZE, and no release: the one scheduled before the renewal was cancelled"
    );
    let deliveries = [first[0].clone(), rest[0].clone()];
    assert!(deliveries[1].due >= deliveries[0].due);
    match (&deliveries[0].request, &deliveries[1].request) {
        (
            Request::V2(crate::protocol::v2::messages::Request::RefreshInstance(r)),
            Request::V2(crate::protocol::v2::messages::Request::UpdateInstanceStatus(s)),
        ) => {
            assert_eq!(r.scene, "RENEWAL");
            assert_eq!(
                r.expire_time,
                expiry.plus_months(1).to_v1_timestamp(),
                "renewal counts from the original expiry"
            );
            assert_eq!(s.status, "UNFREEZE");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(m.instance(instance).state, InstanceState::Active);
}

#[test]
fn v2_a_refused_renewal_sends_no_unfreeze() {
    let mut m = market(Protocol::V2);
    let instance = m.purchase(&PurchaseSpec::default()).instances[0];
    let expiry = START.plus_months(1);
    drive(&mut m, expiry.plus_ms(Span::days(3).0), |_| ok("i"));
    m.renew(instance, None, &CallOptions::default()).unwrap();
    let deliveries = drive(&mut m, expiry.plus_ms(Span::days(4).0), |d| {
        match d.request.activity() {
            Activity::RefreshInstance => rejected(),
            _ => ok("i"),
        }
    });
    assert!(
        deliveries
            .iter()
            .all(|d| d.request.activity() == Activity::RefreshInstance),
        "{:?}",
        deliveries
            .iter()
            .map(|d| d.request.activity())
            .collect::<Vec<_>>()
    );
}

/// Spec V1 §9: on-demand grace and retention for the default customer level.
fn on_demand_market(protocol: Protocol, freeze_start: FreezeStart) -> Marketplace {
    let mut settings = Settings::new(protocol, AccessKey::new("k"));
    settings.billing = BillingMode::OnDemand;
    settings.freeze_start = freeze_start;
    Marketplace::new(settings, START, 7)
}

#[test]
fn on_demand_arrears_freeze_at_once_and_release_after_retention() {
    let mut m = on_demand_market(Protocol::V1, FreezeStart::AtExpiry);
    let instance = m.purchase(&PurchaseSpec::default()).instances[0];
    drive(&mut m, hours(1), |_| ok("i"));
    let retention = m
        .settings()
        .customer_level
        .periods(BillingMode::OnDemand)
        .retention;
    let since = m.now();
    assert_eq!(
        m.arrears(instance, &CallOptions::default()).unwrap().len(),
        1
    );
    assert_eq!(m.instance(instance).state.slug(), "in-arrears");
    let deliveries = drive(&mut m, since.plus_ms(Span::days(60).0), |_| ok("i"));
    let seen: Vec<_> = deliveries
        .iter()
        .map(|d| (d.request.activity(), Span::between(since, d.due)))
        .collect();
    assert_eq!(
        seen,
        vec![
            (Activity::InstanceStatus, Span::ZERO),
            (Activity::ReleaseInstance, retention),
        ]
    );
    assert_eq!(m.instance(instance).state, InstanceState::Released);
}

#[test]
fn on_demand_arrears_after_grace_and_recharge_unfreezes_and_calls_off_the_release() {
    let mut m = on_demand_market(Protocol::V2, FreezeStart::AfterGrace);
    let instance = m.purchase(&PurchaseSpec::default()).instances[0];
    drive(&mut m, hours(1), |_| ok("i"));
    let periods = m.settings().customer_level.periods(BillingMode::OnDemand);
    let since = m.now();
    assert!(
        m.arrears(instance, &CallOptions::default())
            .unwrap()
            .is_empty()
    );
    let frozen = drive(&mut m, since.plus_ms(periods.grace.0 + 1), |_| ok("i"));
    assert_eq!(
        frozen
            .iter()
            .map(|d| (d.request.activity(), Span::between(since, d.due)))
            .collect::<Vec<_>>(),
        vec![(Activity::InstanceStatus, periods.grace)]
    );
    assert_eq!(
        m.recharge(instance, &CallOptions::default()).unwrap().len(),
        1
    );
    let after = drive(&mut m, since.plus_ms(Span::days(60).0), |_| ok("i"));
    match &after[..] {
        [unfreeze] => match &unfreeze.request {
            Request::V2(crate::protocol::v2::messages::Request::UpdateInstanceStatus(s)) => {
                assert_eq!(s.status, "UNFREEZE");
            }
            other => panic!("unexpected {other:?}"),
        },
        other => panic!("one UNFREEZE and no release expected, got {}", other.len()),
    }
    assert_eq!(m.instance(instance).state, InstanceState::Active);
}

#[test]
fn arrears_are_only_for_active_on_demand_instances() {
    let mut m = market(Protocol::V1);
    let instance = m.purchase(&PurchaseSpec::default()).instances[0];
    drive(&mut m, hours(1), |_| ok("i"));
    assert!(m.arrears(instance, &CallOptions::default()).is_err());
}

#[test]
fn a_stop_when_used_up_package_freezes_its_usage_instance_when_exhausted() {
    let mut m = on_demand_market(Protocol::V2, FreezeStart::AtExpiry);
    let usage = m.purchase(&PurchaseSpec::default()).instances[0];
    let package = m
        .purchase(&PurchaseSpec {
            billing: Some(BillingMode::Package),
            package_for: Some(usage),
            stop_when_used_up: true,
            ..PurchaseSpec::default()
        })
        .instances[0];
    drive(&mut m, hours(1), |_| ok("i"));
    assert!(
        m.exhaust_quota(usage, &CallOptions::default()).is_err(),
        "only a package has a quota"
    );
    assert_eq!(
        m.exhaust_quota(package, &CallOptions::default())
            .unwrap()
            .len(),
        1
    );
    assert_eq!(m.instance(usage).state.slug(), "stopped");
    let deliveries = drive(&mut m, hours(2), |_| ok("i"));
    assert_eq!(deliveries.len(), 1);
    match &deliveries[0].request {
        Request::V2(crate::protocol::v2::messages::Request::UpdateInstanceStatus(s)) => {
            assert_eq!(s.status, "FREEZE");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(m.recharge(usage, &CallOptions::default()).unwrap().len(), 1);
    assert_eq!(m.instance(usage).state, InstanceState::Active);
}

#[test]
fn v2_asynchronous_provisioning_polls_query_instance_until_success() {
    let mut m = market(Protocol::V2);
    let purchase = m.purchase(&PurchaseSpec::default());
    let mut polls = 0;
    let deliveries = drive(&mut m, hours(1), |d| match d.request.activity() {
        Activity::NewInstance => accepted(
            &json!({"resultCode": "000004", "resultMsg": "processing", "instanceId": "async-1"}),
        ),
        Activity::QueryInstance if polls < 3 => {
            polls += 1;
            rejected()
        }
        _ => accepted(
            &json!({"resultCode": "000000", "resultMsg": "ok", "info": [{"instanceId": "async-1"}]}),
        ),
    });
    let polls_at: Vec<_> = deliveries.iter().skip(1).map(|d| elapsed(d.due)).collect();
    assert_eq!(
        polls_at,
        vec![
            Span::ZERO,
            Span::minutes(2),
            Span::minutes(4),
            Span::minutes(6)
        ]
    );
    let order = m.order(&purchase.order).unwrap();
    assert_eq!(
        (order.state, order.settled_at.map(elapsed)),
        (OrderState::Opened, Some(Span::minutes(6)))
    );
}

#[test]
fn a_poll_answer_that_does_not_list_the_instance_is_not_ready() {
    let mut m = market(Protocol::V2);
    let purchase = m.purchase(&PurchaseSpec::default());
    let deliveries = drive(&mut m, hours(5), |d| match d.request.activity() {
        Activity::NewInstance => {
            accepted(&json!({"resultCode": "000004", "resultMsg": "p", "instanceId": "a"}))
        }
        _ => accepted(&json!({"resultCode": "000000", "resultMsg": "ok", "info": []})),
    });
    assert_eq!(
        deliveries.len(),
        1 + 91,
        "polled every 2 minutes for 3 hours"
    );
    assert_eq!(
        m.order(&purchase.order).unwrap().state,
        OrderState::Failed { refunded: true }
    );
}

#[test]
fn v2_provisioning_that_never_completes_is_refunded() {
    let mut m = market(Protocol::V2);
    let purchase = m.purchase(&PurchaseSpec::default());
    drive(&mut m, hours(5), |d| match d.request.activity() {
        Activity::NewInstance => {
            accepted(&json!({"resultCode": "000004", "resultMsg": "p", "instanceId": "a"}))
        }
        _ => rejected(),
    });
    assert_eq!(
        m.order(&purchase.order).unwrap().state,
        OrderState::Failed { refunded: true }
    );
}

#[test]
fn v1_notices_stop_after_one_hour_and_can_be_restarted() {
    let mut m = market(Protocol::V1);
    let purchase = m.purchase(&PurchaseSpec::default());
    drive(&mut m, START, |_| ok("i"));
    m.expire_now(purchase.instances[0]).unwrap();
    let deliveries = drive(&mut m, hours(5), |_| rejected());
    assert_eq!(
        deliveries
            .iter()
            .map(|d| elapsed(d.due))
            .collect::<Vec<_>>(),
        vec![Span::ZERO, Span::hours(1)]
    );
    let expire_call = deliveries[0].call;
    assert_eq!(m.call(expire_call).state, CallState::Exhausted);
    m.restart(expire_call).unwrap();
    let deliveries = drive(&mut m, hours(5), |_| ok("i"));
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        (deliveries[0].attempt, elapsed(deliveries[0].due)),
        (3, Span::hours(5))
    );
    assert_eq!(m.call(expire_call).state, CallState::Succeeded);
    assert!(m.restart(expire_call).is_err(), "only failed calls restart");
}

#[test]
fn renewal_refund_and_upgrade_orders() {
    let mut m = market(Protocol::V1);
    let purchase = m.purchase(&PurchaseSpec::default());
    let instance = purchase.instances[0];
    drive(&mut m, START, |_| ok("i"));
    let renewal = m
        .renew(
            instance,
            Some("1 year".parse().unwrap()),
            &CallOptions::default(),
        )
        .unwrap();
    drive(&mut m, START, |_| ok("i"));
    assert_eq!(m.instance(instance).expire_at, Some(START.plus_months(13)));
    let refund = m.refund_renewal(instance, &CallOptions::default()).unwrap();
    assert_ne!(refund, renewal);
    let deliveries = drive(&mut m, START, |_| ok("i"));
    match &deliveries[0].request {
        Request::V1(crate::protocol::v1::messages::Request::RefreshInstance(r)) => {
            assert_eq!(r.order_amount.as_deref(), Some("-100"));
            assert_eq!(r.expire_time, START.plus_months(1).to_compact_seconds());
        }
        other => panic!("{other:?}"),
    }
    let upgrade = m.upgrade(instance, &CallOptions::default()).unwrap();
    drive(&mut m, hours(10), |_| rejected());
    let order = match &m.call(upgrade[0]).template {
        Request::V1(crate::protocol::v1::messages::Request::Upgrade(u)) => u.order_id.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        m.order(&crate::marketplace::OrderId(order)).unwrap().state,
        OrderState::Failed { refunded: true }
    );
}

#[test]
fn on_demand_orders_have_one_instance_per_product_and_no_expiry() {
    let mut m = market(Protocol::V1);
    let purchase = m.purchase(&PurchaseSpec {
        billing: Some(BillingMode::OnDemand),
        products: 2,
        ..Default::default()
    });
    assert_eq!(purchase.instances.len(), 2);
    let products: Vec<_> = purchase
        .instances
        .iter()
        .map(|i| m.instance(*i).product_id.clone())
        .collect();
    assert_ne!(products[0], products[1]);
    let mut n = 0;
    drive(&mut m, START.plus_ms(Span::days(400).0), |_| {
        n += 1;
        ok(&format!("od-{n}"))
    });
    assert!(
        purchase
            .instances
            .iter()
            .all(|i| m.instance(*i).state == InstanceState::Active),
        "nothing expires"
    );
    m.suspend(purchase.instances[0], &CallOptions::default())
        .unwrap();
    assert!(
        m.suspend(purchase.instances[0], &CallOptions::default())
            .is_err()
    );
    m.resume(purchase.instances[0], &CallOptions::default())
        .unwrap();
    assert!(
        m.renew(purchase.instances[0], None, &CallOptions::default())
            .is_err()
    );
}

#[test]
fn concurrent_copies_and_resends_fall_due_together() {
    let mut m = market(Protocol::V1);
    let purchase = m.purchase(&PurchaseSpec {
        copies: 20,
        ..Default::default()
    });
    let batch = m.next_batch(START);
    assert_eq!(batch.len(), 20);
    for d in &batch {
        m.complete(d, &ok("same"));
    }
    assert_eq!(m.order(&purchase.order).unwrap().state, OrderState::Opened);
    let resends = m.resend(purchase.calls[0], 3, &CallOptions::default());
    let batch = m.next_batch(START);
    assert_eq!(batch.iter().map(|d| d.call).collect::<Vec<_>>(), resends);
    for d in &batch {
        m.complete(d, &rejected());
    }
    assert!(
        m.next_batch(hours(10))
            .iter()
            .all(|d| d.request.activity() != Activity::NewInstance),
        "resends are sent once"
    );
    assert!(resends.iter().all(|c| m.call(*c).attempts.len() == 1
        && m.call(*c).attempts[0].result != AttemptResult::Pending));
}

#[test]
fn debug_cases_exist_per_protocol() {
    let mut v1 = market(Protocol::V1);
    assert!(
        v1.debug_case(Activity::ChangeInstanceCheck, 0, &CallOptions::default())
            .is_err()
    );
    let mut v2 = market(Protocol::V2);
    assert!(
        v2.debug_case(Activity::ExpireInstance, 0, &CallOptions::default())
            .is_err()
    );
    for activity in Activity::of(Protocol::V2) {
        let call = v2.debug_case(activity, 1, &CallOptions::default()).unwrap();
        assert!(v2.call(call).template.is_debug(), "{activity:?}");
    }
}

#[test]
fn same_seed_same_run() {
    let run = || {
        let mut m = market(Protocol::V1);
        m.purchase(&PurchaseSpec {
            trial: true,
            ..Default::default()
        });
        drive(&mut m, START.plus_ms(Span::days(40).0), |_| ok("i"))
            .iter()
            .map(|d| format!("{d:?}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}
