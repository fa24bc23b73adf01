//! Hostile inputs and hostile merchants, each reproduced end to end through the binary: the
//! run ends with the right exit code, a clear message, bounded memory (the process's own
//! peak, `VmHWM`), and nothing secret in what it writes. Every numbered item of the hardening
//! issue has its test here; a few live beside the code they exercise and are named where
//! they are.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::fault_matrix::failing_checks;
use crate::independent_merchant::{Conduct, HeaderCase, KEY, failing_against, start_with};
use crate::support::{kgsim, kgsim_env, kgsim_measured, temp_dir, temp_file};

/// Memory any of these runs may use: a normal suite run peaks near 15 MiB.
const MEMORY_BOUND_MIB: u64 = 150;
/// The bound for 900 KB answers in a debug build (46 MiB measured; the release figure, under
/// 50 MiB, is in bench/RESULTS.md).
const PADDED_BOUND_MIB: u64 = 80;

/// Runs `kgsim` off the async runtime with the independent merchant's key and measures it.
async fn measured(args: Vec<String>, key: &'static str) -> crate::support::Measured {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kgsim_measured(&args, Some(key), &[])
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

/// `run --no-snapshots --target URL --filter purchase/period` and `extra`: one purchase.
fn one_purchase(url: &str, extra: &[&str]) -> Vec<String> {
    let mut list = args(&[
        "run",
        "--no-snapshots",
        "--target",
        url,
        "--filter",
        "purchase/period",
    ]);
    list.extend(args(extra));
    list
}

async fn merchant(v2: bool, conduct: Conduct) -> String {
    start_with(v2, HeaderCase::AsWritten, conduct).await
}

// 1. A 40 KB scenario of nested lists overflowed the stack.
#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    let text = format!("name: d\nsteps:\n  {}x\n", "- ".repeat(20_000));
    let file = temp_file("deep.yaml", text.as_bytes());
    let m = kgsim_measured(&["validate", file.to_str().unwrap()], None, &[]);
    assert_eq!(m.run.code, 2, "{}", m.run.stderr);
    assert!(
        m.run.stderr.contains("nests deeper than 64 levels"),
        "{}",
        m.run.stderr
    );
    assert!(m.run.stderr.contains("deep.yaml:3:129"), "{}", m.run.stderr);
    assert!(
        m.run.stderr.len() < 2_000,
        "the 40 KB line is shown as a window, not whole: {} bytes",
        m.run.stderr.len()
    );
    assert!(m.peak_mib < MEMORY_BOUND_MIB, "{} MiB", m.peak_mib);
}

// 2. Loading was quadratic; 50 MB inputs aborted or took 905 MB; 1,000 bad steps printed
//    20,998 lines.
#[test]
fn scenario_loading_is_linear_capped_and_its_problems_counted() {
    let mut steps = String::from("name: many\nsteps:\n");
    for _ in 0..65_536 {
        steps.push_str("  - advance: 1h\n");
    }
    let many = temp_file("many.yaml", steps.as_bytes());
    let m = kgsim_measured(&["validate", many.to_str().unwrap()], None, &[]);
    assert_eq!((m.run.code, m.run.stdout.trim()), (0, "ok: 1 scenario(s)"));
    assert!(m.peak_mib < MEMORY_BOUND_MIB, "{} MiB", m.peak_mib);

    let huge = temp_file("huge.yaml", &vec![b'#'; 50 * 1024 * 1024]);
    let m = kgsim_measured(&["validate", huge.to_str().unwrap()], None, &[]);
    assert_eq!(m.run.code, 2, "{}", m.run.stderr);
    assert!(m.run.stderr.contains("at most 4 MiB"), "{}", m.run.stderr);
    assert!(m.peak_mib < MEMORY_BOUND_MIB, "{} MiB", m.peak_mib);

    let mut bad = String::from("name: bad\nsteps:\n");
    for _ in 0..1_000 {
        bad.push_str("  - advnce: 1h\n");
    }
    let bad = temp_file("bad.yaml", bad.as_bytes());
    let run = kgsim(&["validate", bad.to_str().unwrap()], None, None);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.lines().count() < 400,
        "{} lines",
        run.stderr.lines().count()
    );
    assert!(run.stderr.contains("more problem(s)"), "{}", run.stderr);
}

// 3. A directory with `ln -s . s1; ln -s . s2` made validate run forever.
#[test]
fn symlink_loops_are_walked_once() {
    let dir = temp_dir("loops");
    std::fs::write(dir.join("a.yaml"), "name: a\nsteps:\n  - advance: 1h\n").unwrap();
    std::os::unix::fs::symlink(".", dir.join("s1")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("s2")).unwrap();
    let m = kgsim_measured(&["validate", dir.to_str().unwrap()], None, &[]);
    assert_eq!((m.run.code, m.run.stdout.trim()), (0, "ok: 1 scenario(s)"));
}

// 4. `--key-file /dev/zero` grew to 23 GB; the same for profiles, scenarios and --body files.
#[test]
fn endless_files_are_read_up_to_a_cap() {
    let target = ["--target", "http://127.0.0.1:9/saasproduce"];
    let cases: Vec<Vec<&str>> = vec![
        [&["run", "--key-file", "/dev/zero"][..], &target].concat(),
        [&["run", "--profile", "/dev/zero"][..], &target].concat(),
        vec!["validate", "/dev/zero"],
        vec![
            "verify",
            "body-sign",
            "--body",
            "/dev/zero",
            "--header",
            "x",
        ],
    ];
    for case in cases {
        let m = kgsim_measured(&case, Some("k3y-for-caps"), &[]);
        assert!(matches!(m.run.code, 2 | 3), "{case:?}: {}", m.run.stderr);
        assert!(
            m.run.stderr.contains("larger than") || m.run.stderr.contains("at most"),
            "{case:?}: {}",
            m.run.stderr
        );
        assert!(
            m.peak_mib < MEMORY_BOUND_MIB,
            "{case:?}: {} MiB",
            m.peak_mib
        );
    }
}

// 5. Two Body-Sign headers: the verdict depended on their order.
#[tokio::test(flavor = "multi_thread")]
async fn duplicate_body_sign_headers_fail_whatever_their_order() {
    for correct_first in [true, false] {
        let url = merchant(
            false,
            Conduct {
                body_sign_twice: Some(correct_first),
                ..Conduct::default()
            },
        )
        .await;
        let (code, failing, _) = failing_against(&url, &["--filter", "purchase/period"]).await;
        assert_eq!(
            (code, failing),
            (1, BTreeSet::from(["console.body-sign".to_owned()])),
            "correct first: {correct_first}"
        );
    }
}

/// Every file under a directory, read as text.
fn texts_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(texts_under(&path));
        } else {
            out.push((
                path.clone(),
                std::fs::read_to_string(&path).unwrap_or_default(),
            ));
        }
    }
    out
}

// 6. A merchant echoing the access key got it written into report.json and every .snap.
#[tokio::test(flavor = "multi_thread")]
async fn an_echoed_key_never_reaches_an_output() {
    let url = merchant(
        true,
        Conduct {
            echo_key: true,
            ..Conduct::default()
        },
    )
    .await;
    let out = temp_dir("echo");
    let (json, junit, snaps) = (out.join("r.json"), out.join("r.xml"), out.join("snaps"));
    let run = measured(
        args(&[
            "run",
            "--protocol",
            "v2",
            "--target",
            &url,
            "--update-snapshots",
            "--snapshots",
            snaps.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ]),
        KEY,
    )
    .await
    .run;
    let forms = [KEY.to_owned(), B64.encode(KEY), hex::encode(KEY)];
    let mut written = texts_under(&out);
    assert!(written.len() > 10, "snapshots, JSON and JUnit were written");
    written.push(("stdout".into(), run.stdout));
    written.push(("stderr".into(), run.stderr));
    for (place, text) in &written {
        for form in &forms {
            assert!(
                !text.contains(form.as_str()),
                "{form} in {}",
                place.display()
            );
        }
    }
    let report = std::fs::read_to_string(&json).unwrap();
    assert!(report.contains("[access key] [access key] [access key]"));
}

// 7. A 900 KB resultMsg on every answer: 510 MB of memory and a 109 MB report.json.
#[tokio::test(flavor = "multi_thread")]
async fn padded_answers_do_not_grow_memory_or_reports() {
    let url = merchant(
        true,
        Conduct {
            pad_result_msg: 900_000,
            ..Conduct::default()
        },
    )
    .await;
    let json = temp_file("padded.json", b"");
    let m = measured(
        args(&[
            "run",
            "--protocol",
            "v2",
            "--no-snapshots",
            "--target",
            &url,
            "--json",
            json.to_str().unwrap(),
        ]),
        KEY,
    )
    .await;
    assert_eq!(
        m.run.code, 1,
        "over-long resultMsg breaks console.field-length"
    );
    let size = std::fs::metadata(&json).unwrap().len();
    assert!(size < 2 * 1024 * 1024, "report.json is {size} bytes");
    let report = std::fs::read_to_string(&json).unwrap();
    assert!(report.contains("bytes elided]"), "the cut is marked");
    assert!(
        report.contains("\"body_bytes\": 9000"),
        "the size received is kept"
    );
    assert!(m.peak_mib < PADDED_BOUND_MIB, "{} MiB", m.peak_mib);
}

/// A merchant that reads each request and closes the connection without answering.
async fn resetting_merchant() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{address}/saasproduce")
}

// 8. Transport verdicts began with the ~600-character signed URL (raw authToken and all);
//    `kgsim load` said "console.transport ×24" with no reason.
#[tokio::test(flavor = "multi_thread")]
async fn transport_verdicts_name_the_cause_and_never_the_signed_url() {
    let url = resetting_merchant().await;
    let json = temp_file("reset.json", b"");
    let run = measured(
        one_purchase(&url, &["--json", json.to_str().unwrap()]),
        "reset-key-1234",
    )
    .await
    .run;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = std::fs::read_to_string(&json).unwrap();
    for text in [&run.stdout, &report] {
        assert!(text.contains("console.transport"), "{text}");
        for leak in ["authToken=", "timeStamp=", "?activity="] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
    assert!(
        run.stdout
            .contains("got:      the merchant closed the connection")
            || run.stdout.contains("got:      the connection was reset"),
        "{}",
        run.stdout
    );
    let load = measured(
        args(&[
            "load",
            "--target",
            &url,
            "--orders",
            "4",
            "--concurrency",
            "2",
        ]),
        "reset-key-1234",
    )
    .await
    .run;
    assert_eq!(load.code, 1, "{}", load.stdout);
    assert!(
        load.stdout.contains("console.transport ×") && load.stdout.contains("— e.g. "),
        "a count and an example reason: {}",
        load.stdout
    );
}

// 9. Targets: schemes, ports, fragments and credentials are checked before any connection
//    (`exit_codes::invalid_targets_are_usage_errors_found_before_any_connection`); an
//    upper-case scheme is a URL like any other.
#[tokio::test(flavor = "multi_thread")]
async fn an_upper_case_scheme_is_accepted() {
    let url = merchant(false, Conduct::default())
        .await
        .replace("http://", "HTTP://");
    let run = measured(one_purchase(&url, &[]), KEY).await.run;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

// 10. Outputs are checked before the run (`exit_codes::an_unwritable_report_path_stops_the_run_
//     before_it_starts`, `…snapshot_directory…`) and written whole or not at all
//     (`fsio::tests::atomic_writes_replace_whole_files_and_leave_no_temporary`): a snapshot
//     directory that cannot take a file leaves no truncated snapshot behind.
#[test]
fn a_failed_snapshot_write_leaves_no_partial_file() {
    let dir = temp_dir("readonly-snaps");
    let kind = dir.join("v1-period");
    std::fs::create_dir_all(kind.join("purchase")).unwrap();
    std::fs::write(kind.join("purchase/period.snap"), "accepted\n").unwrap();
    let mut permissions = std::fs::metadata(kind.join("purchase"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o555);
    std::fs::set_permissions(kind.join("purchase"), permissions).unwrap();
    let run = kgsim_env(
        &[
            "run",
            "--filter",
            "purchase/period",
            "--update-snapshots",
            "--snapshots",
            dir.to_str().unwrap(),
        ],
        None,
        None,
        &[("CI", "false")],
    );
    let left: Vec<String> = std::fs::read_dir(kind.join("purchase"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // Running as root the directory stays writable and the update succeeds; otherwise the
    // run could not record (exit 3). Either way only whole files are there.
    assert!(matches!(run.code, 0 | 3), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        left,
        vec!["period.snap".to_owned()],
        "no temporary left behind"
    );
    let kept = std::fs::read_to_string(kind.join("purchase/period.snap")).unwrap();
    assert!(
        kept == "accepted\n" || kept.starts_with("# kgsim transcript"),
        "{kept}"
    );
}

// 11. The 20-concurrent-purchases scenario caught a 5 ms check-then-insert window in 7 of 10
//     runs.
#[test]
fn a_five_millisecond_race_window_is_caught_in_ten_of_ten_runs() {
    for round in 1..=10 {
        let (run, report) = crate::support::kgsim_json(
            &["run", "--no-snapshots", "--merchant-fault", "race-window=5"],
            None,
        );
        assert_eq!(run.code, 1, "run {round}: {}", run.stdout);
        assert_eq!(
            failing_checks(&report),
            BTreeSet::from(["idempotency.concurrent".to_owned()]),
            "run {round}"
        );
        let step = &report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["file"] == "scenarios/idempotency/concurrent-purchase.yaml")
            .unwrap()["steps"][0];
        assert_eq!(step["together"]["copies"], 20);
        assert_eq!(step["together"]["rounds"], 5);
        assert!(step["together"]["widest_spread_us"].is_u64());
    }
}

// 12. A merchant whose generated userName changes on every run failed its own snapshots, and
//     nothing could redact a field.
#[tokio::test(flavor = "multi_thread")]
async fn volatile_user_names_are_stable_with_redact() {
    let volatile = Conduct {
        volatile_user: true,
        ..Conduct::default()
    };
    // `run --target URL --filter purchase/period --snapshots DIR` and more.
    let snapshot_run = |url: &str, dir: &Path, extra: &[&str]| {
        let mut list = args(&[
            "run",
            "--target",
            url,
            "--filter",
            "purchase/period",
            "--snapshots",
            dir.to_str().unwrap(),
        ]);
        list.extend(args(extra));
        list
    };
    let redact = ["--redact", "appInfo.userName"];
    let snaps = temp_dir("volatile");
    let first = merchant(false, volatile).await;
    let update = [&["--update-snapshots"][..], &redact].concat();
    let run = measured(snapshot_run(&first, &snaps, &update), KEY)
        .await
        .run;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let accepted = texts_under(&snaps);
    assert!(accepted[0].1.contains("[redacted: appInfo.userName]"));
    let second = merchant(false, volatile).await;
    let run = measured(snapshot_run(&second, &snaps, &redact), KEY)
        .await
        .run;
    assert_eq!(
        run.code, 0,
        "the redacted transcripts match: {}",
        run.stdout
    );
    assert_eq!(texts_under(&snaps), accepted);
    // Without the redaction the snapshot fails, and says which --redact would fix it.
    let plain = temp_dir("volatile-plain");
    let third = merchant(false, volatile).await;
    measured(snapshot_run(&third, &plain, &["--update-snapshots"]), KEY).await;
    let fourth = merchant(false, volatile).await;
    let run = measured(snapshot_run(&fourth, &plain, &[]), KEY).await.run;
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("`--redact appInfo.userName`"),
        "{}",
        run.stdout
    );
}

// 13. A merchant verifying with another key got 837 lines and no word of the cause.
#[tokio::test(flavor = "multi_thread")]
async fn one_cause_opens_the_report_and_folds_what_it_explains() {
    let url = merchant(false, Conduct::default()).await;
    let out = temp_dir("diagnosis");
    let (json, junit) = (out.join("r.json"), out.join("r.xml"));
    let run = measured(
        args(&[
            "run",
            "--no-snapshots",
            "--target",
            &url,
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ]),
        "not-the-merchants-key",
    )
    .await
    .run;
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[2].starts_with("DIAGNOSIS") && lines[2].contains("refused with 000001"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("kgsim verify v1 --url"),
        "{}",
        run.stdout
    );
    assert!(lines.len() < 150, "{} lines", lines.len());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["diagnosis"]["checks"][0], "console.result-code");
    assert!(report["diagnosis"]["scenarios"].as_u64().unwrap() > 10);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("name=\"diagnosis\""), "{xml}");
    let verbose = measured(
        args(&["run", "--no-snapshots", "--target", &url, "--verbose"]),
        "not-the-merchants-key",
    )
    .await
    .run;
    assert!(
        verbose.stdout.lines().count() > lines.len() * 3,
        "--verbose unfolds"
    );
}

// 14. Smaller: a second YAML document was ignored, a huge `advance` did nothing, a non-UTF-8
//     key was "no access key", causes were printed twice.
#[test]
fn smaller_input_mistakes_are_named() {
    let two = temp_file(
        "two.yaml",
        b"name: a\nsteps:\n  - advance: 1h\n---\nname: b\nsteps: []\n",
    );
    let run = kgsim(&["validate", two.to_str().unwrap()], None, None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("document"), "{}", run.stderr);

    let far = temp_file(
        "far.yaml",
        b"name: far\nsteps:\n  - advance: 9223372036854775807ms\n",
    );
    let run = kgsim(&["validate", far.to_str().unwrap()], None, None);
    assert_eq!(run.code, 2, "{}", run.stderr);

    let key = temp_file("latin1.key", &[0x6b, 0xe9, 0x79]);
    let run = kgsim(
        &[
            "run",
            "--target",
            "http://127.0.0.1:9/saasproduce",
            "--key-file",
            key.to_str().unwrap(),
        ],
        None,
        None,
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("UTF-8"), "{}", run.stderr);
    assert!(!run.stderr.contains("no access key"), "{}", run.stderr);

    let dir = temp_dir("key-is-a-dir");
    let run = kgsim(
        &[
            "run",
            "--target",
            "http://127.0.0.1:9/saasproduce",
            "--key-file",
            dir.to_str().unwrap(),
        ],
        None,
        None,
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.matches("directory").count() <= 1,
        "the cause once: {}",
        run.stderr
    );
}
