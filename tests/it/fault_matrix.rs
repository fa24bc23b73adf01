//! The built-in suite against the embedded reference merchant, run through the binary: it
//! passes in both protocols and every billing mode, and with each fault switch the run exits 1
//! and the failing checks (consequences of earlier failures excluded) are exactly those meant
//! to catch that fault.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{kgsim, kgsim_json};

/// The checks that failed on their own in a JSON report.
pub(crate) fn failing_checks(report: &Value) -> BTreeSet<String> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap().iter())
        .flat_map(|step| step["outcomes"].as_array().unwrap().iter())
        .filter(|o| o["passed"] == false && o["consequence_of"].is_null())
        .map(|o| o["check"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs the suite; returns the exit code and the JSON report.
fn run_suite(protocol: &str, billing: &str, faults: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "run",
        "--protocol",
        protocol,
        "--billing",
        billing,
        "--seed",
        "7",
        "--no-snapshots",
    ];
    for fault in faults {
        args.push("--merchant-fault");
        args.push(fault);
    }
    if faults.contains(&"slow") {
        args.extend(["--timeout", "300ms", "--merchant-slow-ms", "2000"]);
    }
    let (run, value) = kgsim_json(&args, Some("fault-matrix-key"));
    (run.code, value)
}

#[test]
fn the_suite_passes_against_the_reference_merchant_in_every_protocol_and_billing_mode() {
    for protocol in ["v1", "v2"] {
        for billing in ["period", "one-time", "on-demand", "package"] {
            let (code, report) = run_suite(protocol, billing, &[]);
            assert_eq!(
                failing_checks(&report),
                BTreeSet::new(),
                "{protocol} {billing}"
            );
            assert_eq!(code, 0, "{protocol} {billing}");
            assert!(
                report["summary"]["passed"].as_u64().unwrap() >= 19,
                "{protocol} {billing}: {}",
                report["summary"]
            );
        }
    }
}

/// `(fault, protocols, billing, exactly these checks fail)`.
const MATRIX: &[(&str, &[&str], &str, &[&str])] = &[
    (
        "non-idempotent-new",
        &["v1"],
        "period",
        &[
            "idempotency.concurrent",
            "idempotency.same-app-info",
            "idempotency.same-instance",
            "retry.recovery",
        ],
    ),
    (
        "non-idempotent-new",
        &["v2"],
        "period",
        &[
            "idempotency.concurrent",
            "idempotency.same-instance",
            "retry.recovery",
        ],
    ),
    (
        "on-demand-ignores-product",
        &["v1", "v2"],
        "on-demand",
        &["idempotency.distinct-orders"],
    ),
    (
        "shared-instance-id",
        &["v1"],
        "period",
        &["idempotency.distinct-orders"],
    ),
    (
        "race-new",
        &["v1", "v2"],
        "period",
        &["idempotency.concurrent"],
    ),
    (
        "skip-auth",
        &["v1"],
        "period",
        &[
            "security.forged-signature",
            "security.missing-signature",
            "security.tampered-parameter",
        ],
    ),
    (
        "skip-auth",
        &["v2"],
        "period",
        &[
            "security.forged-signature",
            "security.missing-signature",
            "security.stale-timestamp",
            "security.tampered-parameter",
        ],
    ),
    (
        "accept-stale",
        &["v2"],
        "period",
        &["security.stale-timestamp"],
    ),
    ("bad-body-sign", &["v1"], "period", &["console.body-sign"]),
    (
        "missing-body-sign",
        &["v1"],
        "period",
        &["console.body-sign"],
    ),
    (
        "unquoted-body-sign",
        &["v1"],
        "period",
        &["console.body-sign"],
    ),
    (
        "wrong-content-type",
        &["v1", "v2"],
        "period",
        &["console.content-type"],
    ),
    ("slow", &["v1", "v2"], "period", &["console.timeout"]),
    (
        "http-500",
        &["v1", "v2"],
        "period",
        &["console.http-status"],
    ),
    ("not-json", &["v1", "v2"], "period", &["console.json-body"]),
    (
        "no-result-msg",
        &["v1", "v2"],
        "period",
        &["console.mandatory-fields"],
    ),
    (
        "missing-instance-id",
        &["v1", "v2"],
        "period",
        &["console.mandatory-fields"],
    ),
    (
        "long-front-end-url",
        &["v1", "v2"],
        "period",
        &["console.field-length"],
    ),
    (
        "undecryptable-app-info",
        &["v1"],
        "period",
        &["console.app-info-decrypt"],
    ),
    (
        "expire-not-idempotent",
        &["v1"],
        "period",
        &["idempotency.repeat"],
    ),
    (
        "release-not-idempotent",
        &["v1", "v2"],
        "period",
        &["idempotency.repeat"],
    ),
    (
        "renew-not-idempotent",
        &["v1", "v2"],
        "period",
        &["idempotency.repeat"],
    ),
    (
        "upgrade-not-idempotent",
        &["v1", "v2"],
        "period",
        &["idempotency.repeat"],
    ),
    (
        "status-not-idempotent",
        &["v1", "v2"],
        "on-demand",
        &["idempotency.repeat"],
    ),
    (
        "fail-first=2",
        &["v1", "v2"],
        "period",
        &["console.result-code", "lifecycle.accepted"],
    ),
    (
        "fail-always",
        &["v1", "v2"],
        "period",
        &["console.result-code", "lifecycle.accepted"],
    ),
    (
        "lenient-params",
        &["v1", "v2"],
        "period",
        &["security.missing-parameter", "security.unknown-activity"],
    ),
    (
        "unknown-instance-ok",
        &["v1", "v2"],
        "period",
        &["security.unknown-instance"],
    ),
    (
        "strict-debug",
        &["v1", "v2"],
        "period",
        &["idempotency.debug-any-order"],
    ),
];

#[test]
fn each_fault_fails_exactly_the_checks_meant_to_catch_it() {
    let mut mismatches = Vec::new();
    for (fault, protocols, billing, expected) in MATRIX {
        for protocol in *protocols {
            let (code, report) = run_suite(protocol, billing, &[fault]);
            let got = failing_checks(&report);
            let expected: BTreeSet<String> = expected.iter().map(|c| (*c).to_owned()).collect();
            if code != 1 || got != expected {
                mismatches.push(format!("{fault} ({protocol}, {billing}): exit {code}, expected {expected:?}, got {got:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_fault_switch_is_in_the_matrix() {
    let listed = kgsim(&["merchant", "--list-faults"], None, None);
    for line in listed.stdout.lines() {
        let name = line
            .split_whitespace()
            .next()
            .unwrap()
            .replace("fail-first=N", "fail-first=2");
        assert!(
            MATRIX.iter().any(|(fault, ..)| *fault == name),
            "{name} has no row"
        );
    }
}
