//! The decoder, file by file: every problem found, at its place, with a hint.

use super::*;
use crate::checks::CheckId;
use crate::protocol::Activity;

fn problems(text: &str) -> Vec<(usize, usize, String, Option<String>)> {
    match decode("t.yaml", text) {
        Ok(_) => vec![],
        Err(file) => file
            .problems
            .iter()
            .map(|p| {
                (
                    p.location().0,
                    p.location().1,
                    p.message().to_owned(),
                    p.help().map(str::to_owned),
                )
            })
            .collect(),
    }
}

#[test]
fn loads_a_full_scenario() {
    let text = r#"
name: resend
description: same order, same instance
tags: [idempotency, listing]
applies: {protocols: [v1], billing: [period, package], requires: [upgrade]}
steps:
  - purchase: {period: 1 year}
    as: first
    expect: {result: "000000", order: opened}
  - resend: first
    faults: {copies: 3, drop-response: [1], tamper: stale-timestamp, edit: {set: {activity: nope}, remove: [orderId]}}
    expect: {same-instance-as: first, instances: 1}
  - advance: 1 month
    expect: {of: first, instance: frozen, attempt-times: [0s, 1h]}
  - send: {activity: expire-instance, instance: unknown}
    check: security.forged-signature
    expect: {result: ["000003"]}
  - debug: {activities: all, repeat: 2}
"#;
    let scenario = decode("t.yaml", text).unwrap();
    assert_eq!(scenario.steps.len(), 5);
    assert_eq!(scenario.applies.requires, vec![Activity::Upgrade]);
    assert_eq!(scenario.steps[0].capture.as_deref(), Some("first"));
    assert_eq!(scenario.steps[1].faults.copies, 3);
    assert_eq!(
        scenario.steps[1].faults.edit.remove,
        vec!["orderId".to_owned()]
    );
    assert_eq!(scenario.steps[2].subject.as_ref().unwrap().name, "first");
    assert_eq!(
        scenario.steps[3].check,
        Some(CheckId::SecurityForgedSignature)
    );
    assert_eq!(scenario.steps[1].at.line, 10);
    assert_eq!(
        scenario.steps[1].expect[0].at,
        Location { line: 12, col: 14 }
    );
}

#[test]
fn reports_every_problem_of_a_file_at_once_with_hints() {
    let text = "name: x\nsteps:\n  - purchase: {}\n    expcet: {result: \"000000\"}\n  - renew: {instance: frist}\n  - advance: 3x\n";
    let found = problems(text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (4, 5));
    assert!(found[0].2.contains("unknown key `expcet`"));
    assert_eq!(found[0].3.as_deref(), Some("did you mean `expect`?"));
    assert!(found[1].2.contains("no earlier step is named `frist`"));
    assert!(found[2].2.contains("`3x`"));
}

#[test]
fn structural_problems() {
    assert!(
        problems("steps: []\n")
            .iter()
            .any(|p| p.2 == "missing key `name` in scenario")
    );
    assert!(
        problems("name: x\nsteps:\n  - as: a\n")
            .iter()
            .any(|p| p.2 == "this step has no action")
    );
    assert!(
        problems("name: x\nsteps:\n  - purchase: {}\n    advance: 1h\n")
            .iter()
            .any(|p| p.2.contains("two actions"))
    );
    assert!(
        problems("name: x\nsteps:\n  - advance: 1h\n    expect: {order: opened}\n")
            .iter()
            .any(|p| p.2.contains("needs a subject"))
    );
    assert!(
        problems("name: x\nsteps:\n  - purchase: {}\n    check: security.forged\n")[0]
            .3
            .as_deref()
            == Some("did you mean `security.forged-signature`?")
    );
    assert!(
        problems("name: x\nsteps:\n  - purchase: {billing: ondemand}\n")[0]
            .3
            .as_deref()
            == Some("did you mean `on-demand`?")
    );
    assert!(
        problems("name: x\nsteps:\n  - purchase: {}\n    expect: {result: 0}\n")[0]
            .2
            .contains("not a quoted result code")
    );
    assert!(
        problems("name: x\nsteps: [\n")
            .iter()
            .any(|p| p.2.starts_with("invalid YAML"))
    );
    assert!(
        problems("name: x\nsteps:\n  - purchase: {}\n    as: a\n  - purchase: {}\n    as: a\n")[0]
            .2
            .contains("already names")
    );
    assert!(
        problems("name: x\nsteps:\n  - advance: 1h\n    as: t\n  - renew: {instance: t}\n")[0]
            .2
            .contains("has no instance")
    );
}

#[test]
fn values_out_of_range_are_reported_not_dropped() {
    let found = problems("name: x\nsteps:\n  - purchase: {}\n    faults: {copies: 99999999999}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (4, 22));
    assert!(
        found[0].2.contains("not a whole number from 1 to 1000"),
        "{found:?}"
    );
    let found = problems("name: x\nsteps:\n  - advance: 9223372036854775807ms\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].2.contains("`advance`"), "{found:?}");
    let found = problems("name: x\nsteps:\n  - advance: 1000 years\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(problems("name: x\nsteps:\n  - advance: 99 years\n").is_empty());
}

#[test]
fn undocumented_result_codes_get_a_hint() {
    let found = problems("name: x\nsteps:\n  - purchase: {}\n    expect: {result: \"000006\"}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .3
            .as_deref()
            .unwrap()
            .contains("not a documented code"),
        "{found:?}"
    );
}

#[test]
fn a_thousand_bad_steps_give_a_bounded_report() {
    let text = format!("name: x\nsteps:\n{}", "  - advance: 3x\n".repeat(1000));
    let Err(file) = decode("t.yaml", &text) else {
        panic!("invalid")
    };
    assert_eq!(
        file.problems.len(),
        crate::scenario::format::diagnostics::MAX_PROBLEMS
    );
    assert_eq!(file.omitted, 1000 - file.problems.len());
}

#[test]
fn many_steps_decode_in_linear_time() {
    // 65,536 steps: a quadratic line index took 28 s here; this must stay far below a second
    // even in a debug build (the bound is not asserted: benches time it).
    let text = format!("name: x\nsteps:\n{}", "  - advance: 1h\n".repeat(65_536));
    let scenario = decode("t.yaml", &text).unwrap();
    assert_eq!(scenario.steps.len(), 65_536);
    assert_eq!(scenario.steps[65_535].at.line, 65_538);
}
