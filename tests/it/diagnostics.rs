//! The invalid scenarios in `fixtures/invalid/` produce the documented diagnostics: every
//! problem of a file at once, each with `file:line:col`, the source line with the span marked,
//! and a hint.

use kgsim::scenario::format::decode::decode;
use kgsim::scenario::format::diagnostics::{Style, render};

use crate::support::kgsim;

#[test]
fn invalid_scenarios_have_stable_diagnostics() {
    insta::glob!("../../fixtures/invalid", "*.yaml", |path| {
        let name = format!(
            "fixtures/invalid/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(path).unwrap();
        let problems = decode(&name, &text).expect_err("fixtures/invalid must not load");
        insta::assert_snapshot!(render(&problems, Style::Plain));
    });
}

#[test]
fn validate_exits_2_and_reports_every_file() {
    let run = kgsim(&["validate", "fixtures/invalid"], None, None);
    assert_eq!(run.code, 2);
    for file in [
        "unknown-key.yaml",
        "bad-values.yaml",
        "unknown-reference.yaml",
        "structure.yaml",
        "missing-name.yaml",
        "syntax-error.yaml",
    ] {
        assert!(
            run.stderr.contains(&format!("fixtures/invalid/{file}:")),
            "{file} missing from:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("help: did you mean `expect`?"),
        "{}",
        run.stderr
    );
    let ok = kgsim(&["validate", "scenarios"], None, None);
    let files = crate::support::yaml_files_under("scenarios");
    assert_eq!(
        (ok.code, ok.stdout.trim()),
        (0, format!("ok: {files} scenario(s)").as_str()),
        "{}",
        ok.stderr
    );
}

#[test]
fn a_bad_profile_is_a_usage_error_with_its_location() {
    let run = kgsim(
        &["run", "--profile", "fixtures/profiles/invalid.toml"],
        None,
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("fixtures/profiles/invalid.toml:2:1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unknown field `biling`"),
        "{}",
        run.stderr
    );
}

#[test]
fn run_with_invalid_scenarios_exits_2_before_running() {
    let run = kgsim(&["run", "fixtures/invalid/unknown-key.yaml"], None, None);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn schema_and_checks_commands() {
    let schema = kgsim(&["schema"], None, None);
    let value: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
    assert_eq!(value["title"], "kgsim scenario");
    assert_eq!(
        value["properties"]["steps"]["items"]["additionalProperties"],
        false
    );
    let checks = kgsim(&["checks"], None, None);
    for check in kgsim::checks::CheckId::ALL {
        assert!(checks.stdout.contains(check.id()), "{check}");
    }
}
