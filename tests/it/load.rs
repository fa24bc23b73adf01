//! `kgsim load` end to end: figures and verdict on standard output and in JSON, exit codes,
//! and a broken merchant caught under load.

use crate::support::{kgsim, kgsim_json};

#[test]
fn a_burst_against_the_embedded_merchant_is_conformant_and_reported() {
    let (run, figures) = kgsim_json(
        &[
            "load",
            "--orders",
            "30",
            "--concurrency",
            "3",
            "--resend",
            "2",
            "--protocol",
            "v2",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("kgsim load · embedded reference merchant · v2 · 30 orders × (1 + 2 resends) · concurrency 3"), "{}", run.stdout);
    assert!(run.line("requests").starts_with("90 in "));
    assert_eq!(run.line("console failures"), "none");
    assert_eq!(run.line("idempotency failures"), "0");
    assert_eq!(run.line("verdict"), "conformant under load");
    assert_eq!(figures["requests"], 90);
    assert_eq!(figures["conformant"], true);
    assert!(figures["requests_per_second"].as_f64().unwrap() > 0.0);
    assert!(
        figures["latency_ms"]["p50"].as_f64().unwrap()
            <= figures["latency_ms"]["max"].as_f64().unwrap()
    );
}

#[test]
fn a_merchant_that_races_on_duplicates_fails_under_load() {
    let run = kgsim(
        &[
            "load",
            "--orders",
            "12",
            "--concurrency",
            "4",
            "--resend",
            "1",
            "--merchant-fault",
            "race-new",
        ],
        None,
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.line("idempotency failures"), "12");
    assert!(run.stdout.contains("got 2 instances"), "{}", run.stdout);
    assert!(run.stdout.contains("… and 2 more"), "{}", run.stdout);
    assert_eq!(run.line("verdict"), "NOT conformant under load");
}

#[test]
fn console_failures_are_counted_by_check() {
    let run = kgsim(
        &[
            "load",
            "--orders",
            "5",
            "--concurrency",
            "2",
            "--merchant-fault",
            "no-result-msg",
        ],
        None,
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("console.mandatory-fields ×5 — e.g. mandatory field `resultMsg` is missing"),
        "{}",
        run.stdout
    );
}

#[test]
fn faults_only_configure_the_embedded_merchant_and_a_real_target_needs_the_key() {
    let both = kgsim(
        &[
            "load",
            "--target",
            "http://127.0.0.1:9/p",
            "--merchant-fault",
            "slow",
        ],
        None,
        None,
    );
    assert_eq!(both.code, 2);
    assert!(
        both.stderr
            .contains("'--target <URL>' cannot be used with '--merchant-fault <NAME>'"),
        "{}",
        both.stderr
    );
    let keyless = kgsim(&["load", "--target", "http://127.0.0.1:9/p"], None, None);
    assert_ne!(keyless.code, 0);
    assert!(
        keyless.stderr.contains("KGSIM_ACCESS_KEY"),
        "{}",
        keyless.stderr
    );
}

#[test]
fn an_unreachable_target_is_reported_once_before_any_request() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/saasproduce", closed.local_addr().unwrap());
    drop(closed);
    let run = kgsim(&["load", "--target", &url], Some("k"), None);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "the target is unreachable before any request started: nothing listens on 127.0.0.1:"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn print_request_shows_one_correctly_signed_purchase() {
    let run = kgsim(
        &[
            "load",
            "--target",
            "http://127.0.0.1:9/saasproduce",
            "--print-request",
        ],
        Some("print-key"),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let query = run
        .stdout
        .trim()
        .strip_prefix("http://127.0.0.1:9/saasproduce?")
        .unwrap();
    assert!(query.starts_with("activity=newInstance&"), "{query}");
    let key = kgsim::protocol::AccessKey::new("print-key");
    let verdict = kgsim::protocol::v1::auth_token::diagnose_query(&key, query).unwrap();
    assert!(verdict.is_valid(), "{verdict:?}");
    let without_target = kgsim(&["load", "--print-request"], None, None);
    assert_eq!(without_target.code, 2);
}

/// `--print-requests`: `--orders` signed purchases, each a new order under its own orderId
/// and businessId, every token valid (checked by the diagnosing verifier).
#[test]
fn print_requests_prints_new_orders_each_signed() {
    let run = kgsim(
        &[
            "load",
            "--target",
            "http://127.0.0.1:9/saasproduce",
            "--print-requests",
            "--orders",
            "5",
        ],
        Some("print-key"),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key = kgsim::protocol::AccessKey::new("print-key");
    let mut orders = std::collections::BTreeSet::new();
    let mut businesses = std::collections::BTreeSet::new();
    for line in run.stdout.lines() {
        let query = line
            .strip_prefix("http://127.0.0.1:9/saasproduce?")
            .unwrap();
        let verdict = kgsim::protocol::v1::auth_token::diagnose_query(&key, query).unwrap();
        assert!(verdict.is_valid(), "{verdict:?}");
        let value = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_owned()
        };
        orders.insert(value("orderId"));
        businesses.insert(value("businessId"));
    }
    assert_eq!((orders.len(), businesses.len()), (5, 5), "{}", run.stdout);
}
