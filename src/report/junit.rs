//! JUnit XML for CI systems: one test suite per run, one test case per scenario. A failed
//! scenario carries one `<failure>` whose message names every failed check and whose body
//! lists each — check id, rule, `file:line`, expected and got (JUnit allows one failure
//! element per test case); its timeline goes to `system-out`.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::report::model::{Report, Status};
use crate::report::terminal::timeline_line;

/// Renders the report as JUnit XML.
pub(crate) fn render(report: &Report) -> Result<String, quick_junit::SerializeError> {
    let profile = &report.profile;
    let mut suite = TestSuite::new(format!("kgsim {} {}", profile.protocol, profile.billing));
    suite.add_property(Property::new("target", report.target.clone()));
    suite.add_property(Property::new("protocol", profile.protocol.clone()));
    suite.add_property(Property::new("billing", profile.billing.clone()));
    suite.add_property(Property::new("encrypt-type", profile.encrypt_type.clone()));
    if let Some(diagnosis) = &report.diagnosis {
        suite.add_property(Property::new("diagnosis", diagnosis.summary.clone()));
        suite.add_property(Property::new(
            "diagnosis-likely-cause",
            diagnosis.likely_cause.clone(),
        ));
        suite.add_property(Property::new(
            "diagnosis-next-step",
            diagnosis.next_step.clone(),
        ));
    }
    for scenario in &report.scenarios {
        let status = match scenario.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(scenario.skip_reason.clone().unwrap_or_default());
                status
            }
            Status::Failed => {
                let failures: Vec<_> = scenario.failures().collect();
                let ids: Vec<&str> = failures.iter().map(|(_, o)| o.check.as_str()).collect();
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_type(ids.first().copied().unwrap_or("kgsim"));
                status.set_message(format!("{} check(s) failed: {}", ids.len(), ids.join(", ")));
                let description: Vec<String> = failures
                    .iter()
                    .map(|(_, o)| {
                        format!(
                            "{} — {}\n  at {}:{}\n  expected: {}\n  got: {}{}",
                            o.check,
                            o.message,
                            o.file,
                            o.line,
                            o.expected,
                            o.got,
                            o.detail
                                .as_ref()
                                .map(|d| format!("\n{d}"))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                status.set_description(description.join("\n\n"));
                status
            }
        };
        let mut case = TestCase::new(scenario.name.clone(), status);
        case.set_classname(scenario.file.clone());
        case.set_time(Duration::from_millis(scenario.wall_ms));
        if scenario.status == Status::Failed {
            let timeline: Vec<String> = scenario
                .steps
                .iter()
                .flat_map(|s| {
                    std::iter::once(format!("{} step {} {}", s.at, s.number, s.action)).chain(
                        s.exchanges
                            .iter()
                            .map(|e| format!("  {}", timeline_line(e))),
                    )
                })
                .collect();
            case.set_system_out(timeline.join("\n"));
        }
        suite.add_test_case(case);
    }
    suite.set_time(Duration::from_millis(report.summary.wall_ms));
    let mut junit = quick_junit::Report::new("kgsim");
    junit.set_time(Duration::from_millis(report.summary.wall_ms));
    junit.add_test_suite(suite);
    junit.to_string()
}
