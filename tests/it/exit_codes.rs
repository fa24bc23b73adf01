//! Exit codes mean one thing each: 2 for what the user must change (command line, scenario,
//! profile), 3 for what kept the run from happening or from being recorded.

use crate::support::{kgsim, temp_file};

#[test]
fn an_out_of_range_count_is_an_invalid_scenario() {
    let scenario = temp_file(
        "copies.yaml",
        b"name: copies\nsteps:\n  - purchase: {}\n    faults: {copies: 99999999999}\n",
    );
    let run = kgsim(&["validate", scenario.to_str().unwrap()], None, None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let place = format!("{}:4:22", scenario.display());
    assert!(run.stderr.contains(&place), "{}", run.stderr);
    assert!(
        run.stderr.contains("not a whole number from 1 to 1000"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unwritable_report_path_stops_the_run_before_it_starts() {
    for flag in ["--junit", "--json"] {
        let run = kgsim(
            &[
                "run",
                "--no-snapshots",
                flag,
                "/proc/no/such/dir/report.xml",
            ],
            None,
            None,
        );
        assert_eq!(run.code, 3, "{flag}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
        assert!(
            lines[0].starts_with(&format!(
                "error: cannot write the {flag} report to /proc/no"
            )),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn an_unwritable_snapshot_directory_stops_the_run_before_it_starts() {
    let run = kgsim_env_no_ci(&["run", "--snapshots", "/proc/no/snapshots"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot write snapshots under /proc/no/snapshots"),
        "{}",
        run.stderr
    );
}

/// Runs kgsim outside CI, so that it means to write snapshots.
fn kgsim_env_no_ci(args: &[&str]) -> crate::support::Run {
    crate::support::kgsim_env(args, None, None, &[("CI", "false")])
}

#[test]
fn an_unreadable_key_file_could_not_run_a_missing_key_is_usage() {
    let run = kgsim(
        &[
            "run",
            "--target",
            "http://127.0.0.1:9/saasproduce",
            "--key-file",
            "/no/such/key",
        ],
        None,
        None,
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("No such file").count(),
        1,
        "the cause once: {}",
        run.stderr
    );
    let run = kgsim(
        &["run", "--target", "http://127.0.0.1:9/saasproduce"],
        None,
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no access key"), "{}", run.stderr);
}

#[test]
fn invalid_targets_are_usage_errors_found_before_any_connection() {
    for target in [
        "ftp://127.0.0.1/saasproduce",
        "http://127.0.0.1:0/saasproduce",
        "http://[::1]:99999/saasproduce",
        "http://127.0.0.1:9/saasproduce#x",
        "http://user:secret@127.0.0.1:9/saasproduce",
    ] {
        let run = kgsim(&["run", "--target", target], Some("k"), None);
        assert_eq!(run.code, 2, "{target}: {}", run.stderr);
        assert!(!run.stderr.contains("secret"), "{}", run.stderr);
    }
    let run = kgsim(&["run", "--timeout", "0s"], Some("k"), None);
    assert_eq!(run.code, 2, "a zero timeout: {}", run.stderr);
}
