//! `kgsim explore` end to end: each sequence-dependent fault planted in the reference
//! merchant passes the built-in suite and is found by `kgsim explore --seed 1` within the
//! default budget, shrunk to a scenario of at most 10 steps that fails against the faulty
//! merchant and passes against the correct one; correct merchants — the reference merchant
//! in every explorable kind and the independent test merchant — give no finding; the same
//! seed gives the same scenario byte for byte.

use std::path::Path;

use serde_json::Value;

use crate::support::{kgsim, temp_dir};

const KEY: &str = "explore-test-key";

/// The sequence-dependent faults, each with the product options it is explored under.
pub(crate) const SEQUENCE_FAULTS: &[(&str, &[&str])] = &[
    (
        "third-renewal-refused",
        &["--protocol", "v1", "--billing", "period"],
    ),
    (
        "renewal-after-upgrade-refused",
        &[
            "--protocol",
            "v2",
            "--billing",
            "period",
            "--interface",
            "upgrade",
        ],
    ),
    (
        "purchase-after-release-refused",
        &["--protocol", "v1", "--billing", "one-time"],
    ),
    (
        "second-unfreeze-refused",
        &["--protocol", "v2", "--billing", "on-demand"],
    ),
    (
        "resend-after-freeze-new-instance",
        &["--protocol", "v2", "--billing", "period"],
    ),
    (
        "expiry-after-conversion-refused",
        &["--protocol", "v1", "--billing", "period"],
    ),
];

/// `kgsim explore` with `args`, writing under `out`; the run and its JSON summary.
fn explore(args: &[&str], out: &Path) -> (crate::support::Run, Value) {
    explore_with_key(args, out, KEY)
}

/// [`explore`] with the key the merchant verifies with.
fn explore_with_key(args: &[&str], out: &Path, key: &str) -> (crate::support::Run, Value) {
    let json = out.join("summary.json");
    let mut all = vec!["explore", "--out", out.to_str().unwrap()];
    all.extend(args);
    all.extend(["--json", json.to_str().unwrap()]);
    let run = kgsim(&all, Some(key), None);
    let summary = std::fs::read_to_string(&json)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("no summary:\n{}\n{}", run.stdout, run.stderr));
    (run, summary)
}

fn with_fault<'a>(options: &[&'a str], fault: &'a str) -> Vec<&'a str> {
    let mut args = options.to_vec();
    args.extend(["--merchant-fault", fault]);
    args
}

#[test]
fn each_sequence_fault_is_missed_by_the_suite_and_found_shrunk_and_replayed_by_explore() {
    for (fault, options) in SEQUENCE_FAULTS {
        let faulty = with_fault(options, fault);
        let mut suite = vec!["run", "--no-snapshots", "--seed", "7"];
        suite.extend(&faulty);
        let run = kgsim(&suite, Some(KEY), None);
        assert_eq!(
            run.code, 0,
            "{fault}: the suite should miss it\n{}",
            run.stdout
        );

        let out = temp_dir(fault);
        let mut args = vec!["--seed", "1"];
        args.extend(&faulty);
        let (found, summary) = explore(&args, &out);
        assert_eq!(
            found.code, 1,
            "{fault}:\n{}\n{}",
            found.stdout, found.stderr
        );
        let finding = &summary["finding"];
        let file = finding["file"].as_str().unwrap().to_owned();
        let shrunk = finding["shrunk_length"].as_u64().unwrap();
        assert!(
            (1..=10).contains(&shrunk),
            "{fault}: {shrunk} steps\n{}",
            std::fs::read_to_string(&file).unwrap()
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("kgsim explore --seed 1"), "{text}");
        assert!(
            text.contains(fault),
            "the replay command names the fault:\n{text}"
        );

        let mut replay = vec!["run", file.as_str(), "--no-snapshots"];
        replay.extend(&faulty);
        let against_faulty = kgsim(&replay, Some(KEY), None);
        assert_eq!(
            against_faulty.code, 1,
            "{fault}:\n{}",
            against_faulty.stdout
        );
        let mut replay = vec!["run", file.as_str(), "--no-snapshots"];
        replay.extend(*options);
        let against_correct = kgsim(&replay, Some(KEY), None);
        assert_eq!(
            against_correct.code, 0,
            "{fault}:\n{}",
            against_correct.stdout
        );
        let valid = kgsim(&["validate", file.as_str()], None, None);
        assert_eq!(valid.code, 0, "{}", valid.stderr);
    }
}

/// Every kind `kgsim explore` walks, with its optional interfaces declared.
const KINDS: &[&[&str]] = &[
    &[
        "--protocol",
        "v1",
        "--billing",
        "period",
        "--interface",
        "upgrade",
        "--interface",
        "instance-status",
        "--interface",
        "query-instance",
    ],
    &["--protocol", "v1", "--billing", "one-time"],
    &["--protocol", "v1", "--billing", "on-demand"],
    &["--protocol", "v1", "--billing", "package"],
    &[
        "--protocol",
        "v2",
        "--billing",
        "period",
        "--interface",
        "upgrade",
        "--interface",
        "change-instance-check",
    ],
    &["--protocol", "v2", "--billing", "one-time"],
    &["--protocol", "v2", "--billing", "on-demand"],
    &["--protocol", "v2", "--billing", "package"],
    &["--protocol", "v2", "--kit"],
    &["--protocol", "v2", "--product", "online-license"],
    &["--protocol", "v2", "--product", "license-code"],
    &[
        "--protocol",
        "v2",
        "--product",
        "license-code",
        "--billing",
        "one-time",
    ],
];

#[test]
fn the_reference_merchant_gives_no_finding_in_any_kind() {
    for options in KINDS {
        for seed in ["1", "2"] {
            let out = temp_dir("correct");
            let mut args = vec!["--seed", seed, "--steps", "600"];
            args.extend(*options);
            let (run, summary) = explore(&args, &out);
            assert_eq!(run.code, 0, "{options:?} seed {seed}:\n{}", run.stdout);
            assert_eq!(summary["steps"], 600, "{options:?}");
            assert_eq!(summary["model_errors"], serde_json::json!([]));
            let coverage = &summary["coverage"];
            let total = coverage["total"].as_u64().unwrap();
            assert!(
                coverage["exercised"].as_u64().unwrap() >= total.min(3),
                "{options:?}: {}",
                summary["coverage"]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_independent_merchant_gives_no_finding() {
    for (protocol, v2) in [("v1", false), ("v2", true)] {
        let url = crate::independent_merchant::start_with(
            v2,
            crate::independent_merchant::HeaderCase::AsWritten,
            crate::independent_merchant::Conduct::default(),
        )
        .await;
        for billing in ["period", "one-time", "on-demand", "package"] {
            let out = temp_dir("independent");
            let mut args: Vec<String> = [
                "--target",
                &url,
                "--protocol",
                protocol,
                "--billing",
                billing,
                "--seed",
                "1",
                "--steps",
                "400",
            ]
            .iter()
            .map(|a| (*a).to_owned())
            .collect();
            if billing == "period" {
                for interface in crate::independent_merchant::optional_interfaces(v2) {
                    args.extend(["--interface".to_owned(), (*interface).to_owned()]);
                }
            }
            let (run, _) = tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                explore_with_key(&args, &out, crate::independent_merchant::KEY)
            })
            .await
            .unwrap();
            assert_eq!(run.code, 0, "{protocol} {billing}:\n{}", run.stdout);
        }
    }
}

#[test]
fn the_same_seed_writes_the_same_scenario() {
    let (fault, options) = SEQUENCE_FAULTS[0];
    let mut files = Vec::new();
    for round in ["a", "b"] {
        let out = temp_dir(round);
        let mut args = vec!["--seed", "1"];
        args.extend(with_fault(options, fault));
        let (_, summary) = explore(&args, &out);
        let file = summary["finding"]["file"].as_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        // The file's own directory differs between the two rounds; the rest must not.
        files.push(text.replace(out.to_str().unwrap(), "OUT"));
    }
    assert_eq!(files[0], files[1]);
}

/// A License code must be entered into the merchant's software before the merchant knows
/// it: against an external merchant without `--software-url` that cannot happen, and explore
/// says so (exit 2) instead of reporting the merchant's correct 000003s.
#[tokio::test(flavor = "multi_thread")]
async fn license_code_walks_need_the_software_address() {
    let url = crate::independent_merchant::start_with(
        true,
        crate::independent_merchant::HeaderCase::AsWritten,
        crate::independent_merchant::Conduct::default(),
    )
    .await;
    let out = temp_dir("license");
    let run = tokio::task::spawn_blocking(move || {
        kgsim(
            &[
                "explore",
                "--target",
                &url,
                "--protocol",
                "v2",
                "--product",
                "license-code",
                "--out",
                out.to_str().unwrap(),
            ],
            Some(crate::independent_merchant::KEY),
            None,
        )
    })
    .await
    .unwrap();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--software-url"), "{}", run.stderr);
}

#[test]
fn the_run_report_lists_the_lifecycle_coverage_of_the_suite() {
    let (run, report) = crate::support::kgsim_json(
        &[
            "run",
            "--protocol",
            "v2",
            "--billing",
            "on-demand",
            "--no-snapshots",
        ],
        Some(KEY),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let coverage = &report["coverage"];
    let rows = coverage["transitions"].as_array().unwrap();
    let row = |from: &str, event: &str| {
        rows.iter()
            .find(|r| r["from"] == from && r["event"] == event)
            .unwrap_or_else(|| panic!("no {from} {event} in {coverage}"))
    };
    assert!(row("active", "arrears")["count"].as_u64().unwrap() >= 1);
    assert_eq!(
        row("in-arrears", "recharge")["to"],
        serde_json::json!(["active"])
    );
    assert!(
        rows.iter()
            .any(|r| r["in_table"] == true && r["count"] == 0),
        "the suite leaves some transition out: {coverage}"
    );
    assert!(coverage["exercised"].as_u64().unwrap() < coverage["total"].as_u64().unwrap());
}

/// The README's shrunk scenario is what `kgsim explore` writes today.
#[test]
fn the_readme_shows_a_real_shrunk_scenario() {
    let out = temp_dir("readme");
    let (run, summary) = explore(
        &[
            "--seed",
            "1",
            "--protocol",
            "v2",
            "--billing",
            "on-demand",
            "--merchant-fault",
            "second-unfreeze-refused",
        ],
        &out,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let text = std::fs::read_to_string(summary["finding"]["file"].as_str().unwrap()).unwrap();
    let steps = &text[text.find("steps:").unwrap()..];
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains(steps),
        "the README's scenario is stale; now:\n{text}"
    );
}
