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

/// A short run against the embedded merchant, writing its JSON report to `path`.
fn run_with_json(path: &str) -> crate::support::Run {
    kgsim(
        &[
            "run",
            "--no-snapshots",
            "--filter",
            "purchase/period",
            "--json",
            path,
        ],
        Some("outputs-key"),
        None,
    )
}

#[test]
fn a_symlinked_report_is_written_through_the_link_which_stays() {
    let dir = crate::support::temp_dir("symlink");
    let artifacts = dir.join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("artifacts/report.json", &link).unwrap();
    let run = run_with_json(link.to_str().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(artifacts.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(written["summary"]["failed"], 0);
}

#[test]
fn a_fifo_is_written_in_place() {
    let dir = crate::support::temp_dir("fifo");
    let fifo = dir.join("report.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let run = run_with_json(fifo.to_str().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let read = reader.join().unwrap();
    assert!(read.contains("\"summary\""), "{read}");
    use std::os::unix::fs::FileTypeExt as _;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_full_device_is_exit_3_and_stays_a_device() {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let dir = crate::support::temp_dir("full");
    let full = dir.join("full");
    // The same device as /dev/full: every write fails with ENOSPC.
    let made = std::process::Command::new("mknod")
        .args([full.to_str().unwrap(), "c", "1", "7"])
        .status()
        .unwrap();
    assert!(made.success());
    let run = run_with_json(full.to_str().unwrap());
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot write the JSON report to")
            && run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
    use std::os::unix::fs::FileTypeExt as _;
    assert!(
        std::fs::metadata(&full)
            .unwrap()
            .file_type()
            .is_char_device(),
        "the node is untouched"
    );
}

#[test]
fn a_dash_writes_the_report_to_standard_output() {
    let run = run_with_json("-");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["summary"]["failed"], 0);
    assert!(
        run.stderr.contains("conformant"),
        "the human report goes to standard error: {}",
        run.stderr
    );
    let both = kgsim(
        &["run", "--no-snapshots", "--json", "-", "--junit", "-"],
        Some("outputs-key"),
        None,
    );
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(both.stderr.contains("cannot both go to standard output"));
}
