//! Reports and snapshots end to end: the repository's transcripts are current; a changed
//! answer shows as a snapshot diff and fails the run until accepted; CI writes nothing; two
//! identical runs give identical reports; JUnit is well-formed with one test case per
//! scenario; the JSON validates against its documented schema; and snapshot tests of the
//! terminal, JUnit and JSON renderings.

use std::path::Path;

use serde_json::Value;

use crate::support::{Run, kgsim_env, temp_dir, temp_file};

const KEY: &str = "reports-test-key";
const START: &str = "20260115093000";

fn run(args: &[&str], ci: bool) -> Run {
    kgsim_env(
        args,
        Some(KEY),
        None,
        &[("CI", if ci { "true" } else { "false" })],
    )
}

fn files(dir: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.push((
                    path.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

/// The JSON report with its wall-clock fields zeroed.
fn without_durations(mut value: Value) -> Value {
    fn zero(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if ["wall_ms", "elapsed_ms", "widest_spread_us"].contains(&key.as_str()) {
                        *v = Value::from(0);
                    } else {
                        zero(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(zero),
            _ => {}
        }
    }
    zero(&mut value);
    value
}

fn without_times(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(at) = rest.find(" time=\"") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 7..];
        rest = &after[after.find('"').map_or(0, |i| i + 1)..];
    }
    out.push_str(rest);
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The kinds of product whose transcripts the repository keeps: every SaaS protocol and
/// billing mode (the V2 period one with the Kit scenarios), the License products, and order
/// notification.
pub(crate) const RECORDED: &[&[&str]] = &[
    &["--protocol", "v1", "--billing", "period"],
    &["--protocol", "v1", "--billing", "one-time"],
    &["--protocol", "v1", "--billing", "on-demand"],
    &["--protocol", "v1", "--billing", "package"],
    &["--protocol", "v2", "--billing", "period", "--kit"],
    &["--protocol", "v2", "--billing", "one-time"],
    &["--protocol", "v2", "--billing", "on-demand"],
    &["--protocol", "v2", "--billing", "package"],
    &[
        "--protocol",
        "v2",
        "--billing",
        "period",
        "--product",
        "license-code",
    ],
    &[
        "--protocol",
        "v2",
        "--billing",
        "one-time",
        "--product",
        "license-code",
    ],
    &[
        "--protocol",
        "v2",
        "--billing",
        "period",
        "--product",
        "online-license",
    ],
    &[
        "--protocol",
        "v2",
        "--billing",
        "one-time",
        "--product",
        "online-license",
    ],
    &["--protocol", "v2", "--billing", "period", "--order-notify"],
];

#[test]
fn the_repository_snapshots_of_the_builtin_suite_are_current() {
    for (n, flags) in RECORDED.iter().enumerate() {
        let report = temp_file(&format!("current-{n}.json"), b"");
        let mut args = vec!["run", "--json", report.to_str().unwrap()];
        args.extend(flags.iter());
        let out = run(&args, true);
        assert_eq!(
            out.code, 0,
            "{flags:?}: transcripts changed — review, then run scripts/update-snapshots.sh\n{}",
            out.stdout
        );
        for scenario in json(&report)["scenarios"].as_array().unwrap() {
            if scenario["status"] != "skipped" {
                assert_eq!(
                    scenario["snapshot"]["state"], "matched",
                    "{flags:?} {}: run scripts/update-snapshots.sh",
                    scenario["file"]
                );
            }
        }
    }
}

#[test]
fn a_changed_answer_is_a_snapshot_diff_until_it_is_accepted() {
    let dir = temp_dir("accept");
    let snapshots = dir.to_str().unwrap();
    let filter = ["--filter", "resend-app-info", "--snapshots", snapshots];
    let recorded = run(
        &[&["run", "--update-snapshots"], &filter[..]].concat(),
        false,
    );
    assert_eq!(recorded.code, 0, "{}", recorded.stdout);

    // The merchant now declares AES-128: still conformant, but its answers changed.
    let changed = run(
        &[&["run", "--encrypt-type", "2"], &filter[..]].concat(),
        false,
    );
    assert_eq!(changed.code, 1, "{}", changed.stdout);
    assert!(
        changed
            .stdout
            .contains("✗ snapshot — the transcript differs"),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("-  <     \"encryptType\": \"1\","),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stdout.contains("+  <     \"encryptType\": \"2\","),
        "{}",
        changed.stdout
    );

    let review = run(&["snapshots", "review", "--snapshots", snapshots], false);
    assert!(
        review.stdout.contains("changed: ") && review.stdout.contains("1 pending transcript(s)"),
        "{}",
        review.stdout
    );
    let rejected = run(&["snapshots", "reject", "--snapshots", snapshots], false);
    assert!(
        rejected.stdout.contains("rejected: "),
        "{}",
        rejected.stdout
    );
    assert_eq!(
        run(
            &[&["run", "--encrypt-type", "2"], &filter[..]].concat(),
            false
        )
        .code,
        1,
        "rejected: still changed"
    );

    let accepted = run(&["snapshots", "accept", "--snapshots", snapshots], false);
    assert!(
        accepted.stdout.contains("accepted: "),
        "{}",
        accepted.stdout
    );
    let again = run(
        &[&["run", "--encrypt-type", "2"], &filter[..]].concat(),
        false,
    );
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn new_transcripts_are_left_pending_and_ci_writes_nothing() {
    let dir = temp_dir("pending");
    let snapshots = dir.to_str().unwrap();
    let ci = run(
        &["run", "--filter", "trial", "--snapshots", snapshots],
        true,
    );
    assert_eq!(
        ci.code, 0,
        "a missing transcript is not a failure: {}",
        ci.stdout
    );
    assert!(files(&dir).is_empty(), "CI=true wrote {:?}", files(&dir));
    let local = run(
        &["run", "--filter", "trial", "--snapshots", snapshots],
        false,
    );
    assert_eq!(local.code, 0);
    assert!(local.stdout.contains("left pending"), "{}", local.stdout);
    let written: Vec<String> = files(&dir).into_iter().map(|(name, _)| name).collect();
    assert!(
        !written.is_empty() && written.iter().all(|n| n.ends_with(".snap.pending")),
        "{written:?}"
    );
}

/// One run's JSON (durations zeroed), JUnit (times stripped) and transcripts, with its
/// snapshots kept in `snapshots`.
fn reports(
    name: &str,
    seed: &str,
    start: &str,
    snapshots: &Path,
) -> (Value, String, Vec<(String, String)>) {
    let dir = temp_dir(name);
    let (json_path, junit_path) = (dir.join("report.json"), dir.join("report.xml"));
    let out = run(
        &[
            "run",
            "--seed",
            seed,
            "--virtual-start",
            start,
            "--update-snapshots",
            "--snapshots",
            snapshots.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
            "--junit",
            junit_path.to_str().unwrap(),
            "--merchant-fault",
            "non-idempotent-new",
        ],
        false,
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    (
        without_durations(json(&json_path)),
        without_times(&std::fs::read_to_string(&junit_path).unwrap()),
        files(snapshots),
    )
}

/// Asserts two texts are equal, showing the first line that differs rather than both texts.
fn assert_same(what: &str, a: &str, b: &str) {
    if let Some((n, (x, y))) = a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        panic!("{what} differs at line {}:\n  {x}\n  {y}", n + 1);
    }
    assert_eq!(
        a.lines().count(),
        b.lines().count(),
        "{what} has a different length"
    );
}

#[test]
fn identical_runs_give_identical_reports() {
    let (json_a, junit_a, transcripts_a) =
        reports("det-a", "11", START, &temp_dir("det-a-snapshots"));
    let (json_b, junit_b, transcripts_b) =
        reports("det-b", "11", START, &temp_dir("det-b-snapshots"));
    assert_same(
        "the JSON report",
        &serde_json::to_string_pretty(&json_a).unwrap(),
        &serde_json::to_string_pretty(&json_b).unwrap(),
    );
    assert_same("the JUnit report", &junit_a, &junit_b);
    assert!(transcripts_a == transcripts_b, "the transcripts differ");
    // Other ids and another date change nothing a reader sees in the transcripts.
    let (_, _, transcripts_c) = reports("det-c", "99", "20261103120000", &temp_dir("det-other"));
    for ((name_a, text_a), (_, text_c)) in transcripts_a.iter().zip(&transcripts_c) {
        assert_same(name_a, text_a, text_c);
    }
    assert_eq!(transcripts_a.len(), transcripts_c.len());
}

#[test]
fn junit_is_well_formed_with_one_test_case_per_scenario() {
    let (json, junit, _) = reports("junit", "5", START, &temp_dir("junit-snapshots"));
    let mut reader = quick_xml::Reader::from_str(&junit);
    let (mut cases, mut failures, mut skipped) = (0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    b"skipped" => skipped += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let summary = &json["summary"];
    assert_eq!(cases, summary["scenarios"].as_u64().unwrap());
    assert_eq!(failures, summary["failed"].as_u64().unwrap());
    assert_eq!(skipped, summary["skipped"].as_u64().unwrap());
    assert!(junit.contains("idempotency.same-instance"), "{junit}");
}

#[test]
fn the_json_report_validates_against_its_documented_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let (failing, _, _) = reports("schema", "3", START, &temp_dir("schema-snapshots"));
    let dir = temp_dir("schema-clean");
    let clean = dir.join("clean.json");
    let out = run(
        &[
            "run",
            "--protocol",
            "v2",
            "--no-snapshots",
            "--json",
            clean.to_str().unwrap(),
        ],
        false,
    );
    assert_eq!(out.code, 0);
    for report in [failing, json(&clean)] {
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
}

fn redact_wall_time(text: &str) -> String {
    text.lines()
        .map(|line| match line.rfind(" of virtual time in ") {
            Some(at) => format!("{} of virtual time in [wall]", &line[..at]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn renderings_are_stable() {
    let dir = temp_dir("insta");
    let (json_path, junit_path) = (dir.join("r.json"), dir.join("r.xml"));
    let out = run(
        &[
            "run",
            "--seed",
            "1",
            "--virtual-start",
            START,
            "--no-snapshots",
            "--filter",
            "distinct-orders",
            "--filter",
            "retry/recovery-dropped",
            "--filter",
            "security/unknown-instance",
            "--merchant-fault",
            "non-idempotent-new",
            "--json",
            json_path.to_str().unwrap(),
            "--junit",
            junit_path.to_str().unwrap(),
        ],
        false,
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    insta::assert_snapshot!("terminal", redact_wall_time(&out.stdout));
    insta::assert_snapshot!(
        "junit",
        without_times(&std::fs::read_to_string(&junit_path).unwrap())
    );
    insta::assert_json_snapshot!("json", without_durations(json(&json_path)));
}
