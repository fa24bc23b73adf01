//! `GET /runs/{run_id}`: a suite run. While it runs, its scenarios arrive as each finishes
//! (server-sent events from `/api/runs/{run_id}/events`) and the page reloads when it ends;
//! once finished, every scenario with its verdict, each failed one's timeline and checks as
//! the terminal report shows them, the reports to download, and each transcript that
//! differs from the product's accepted one as a unified diff with Accept and Reject.

use std::sync::Arc;

use axum::extract::{Path, State};
use maud::{Markup, PreEscaped, html};

use crate::console::http::App;
use crate::console::http::api::runs::{RunDetail, run_detail};
use crate::console::http::pages::{PageResult, frame, rendered};
use crate::console::http::view::{badge, beijing, button_form, page as framed};
use crate::console::store::RunScenarioRow;

pub(super) async fn page(State(app): State<Arc<App>>, Path(run_id): Path<i64>) -> PageResult {
    let detail = run_detail(&app, run_id)?;
    let product = app
        .read(|r| r.product(detail.run.product_id))?
        .map_or_else(String::new, |p| p.name);
    let frame = frame(&app, &format!("Suite run {run_id}"));
    Ok(rendered(framed(
        &frame,
        &content(&detail, &product, &frame.token),
    )))
}

/// The run page's content.
pub(crate) fn content(detail: &RunDetail, product: &str, token: &str) -> Markup {
    let run = &detail.run;
    let s = &run.summary;
    let running = run.status == "running";
    html! {
        div.panel #run data-run=(run.run_id) data-status=(run.status) {
            b { "Product" } " " a href={ "/products/" (run.product_id) } { (product) } br;
            b { "Status" } " " span #run-status { (badge(&run.status)) }
            @if let Some(verdict) = &run.verdict { " · " b { "Verdict" } " " span #run-verdict { (badge(verdict)) } }
            br;
            b { "Scenarios" } " " (run.source)
            @if !run.patterns.is_empty() { " matching " code { (run.patterns.join(" ")) } }
            br;
            b { "Started" } " " (beijing(run.started_at))
            @if let Some(at) = run.finished_at { " · " b { "Finished" } " " (beijing(at)) }
            br;
            span #run-summary {
                (s.scenarios) " scenarios: " (s.passed) " passed, " (s.failed) " failed, " (s.skipped) " skipped"
                @if s.changed > 0 { " · " (s.changed) " transcript(s) changed" }
            }
            @if let Some(note) = &run.note { p.warn #run-note { (note) } }
            @if run.status == "interrupted" {
                p.warn { "The console stopped while this run was going: it never finished. Start another." }
            }
            @if run.status == "finished" {
                br;
                a href={ "/api/runs/" (run.run_id) "/junit.xml" } #download-junit { "JUnit report" } " · "
                a href={ "/api/runs/" (run.run_id) "/report.json" } #download-json { "JSON report" }
            }
        }
        @if running {
            p #run-progress aria-live="polite" { (detail.scenarios.len()) " of " (s.scenarios) " scenarios finished" }
        }
        h2 { "Scenarios" }
        div.scroll {
            table #run-scenarios {
                tr { th { "File" } th { "Scenario" } th { "Verdict" } th { "Transcript" } }
                @for scenario in &detail.scenarios {
                    (scenario_row(scenario))
                }
            }
        }
        @for scenario in detail.scenarios.iter().filter(|s| s.status == "failed") {
            h3 { (scenario.name) }
            pre.report id={ "failure-" (scenario.position) } { (scenario.text) }
        }
        @let changed: Vec<&RunScenarioRow> = detail.scenarios.iter().filter(|s| s.diff.is_some()).collect();
        @if !changed.is_empty() {
            h2 { "Transcripts that differ from the accepted ones" }
            @for scenario in changed {
                (transcript_review(run.run_id, scenario, token))
            }
        }
        @if running {
            script { (PreEscaped(RUN_SCRIPT)) }
        }
    }
}

/// One scenario's row.
pub(crate) fn scenario_row(scenario: &RunScenarioRow) -> Markup {
    html! {
        tr {
            td { code { (scenario.file) } }
            td {
                (scenario.name)
                @if let Some(reason) = &scenario.skip_reason { br; span.muted { (reason) } }
            }
            td { (badge(&scenario.status)) }
            td { @if let Some(state) = &scenario.snapshot { (badge(state)) } }
        }
    }
}

/// A changed transcript: its diff, and what the user decided or the buttons to decide.
fn transcript_review(run: i64, scenario: &RunScenarioRow, token: &str) -> Markup {
    let fields = |decision: &str| {
        vec![
            ("run_id", run.to_string()),
            ("file", scenario.file.clone()),
            ("decision", decision.to_owned()),
        ]
    };
    let id = format!("transcript-{}", scenario.position);
    html! {
        section.panel id=(id) {
            h3 { (scenario.name) " " span.muted { code { (scenario.file) } } }
            pre.diff { (scenario.diff.as_deref().unwrap_or_default()) }
            @match scenario.snapshot.as_deref() {
                Some("changed") => {
                    (button_form("/ui/transcripts", token, &fields("accept"), "Accept", &format!("accept-{}", scenario.position)))
                    (button_form("/ui/transcripts", token, &fields("reject"), "Reject", &format!("reject-{}", scenario.position)))
                    span.muted { " Accept makes this run's transcript the product's; Reject keeps the accepted one." }
                }
                Some(decided) => { p { "Decided: " (badge(decided)) } }
                None => {}
            }
        }
    }
}

/// The live run: each finished scenario is appended as it arrives, the page reloads when
/// the run ends.
const RUN_SCRIPT: &str = "
(function () {
  var run = document.getElementById('run');
  var table = document.getElementById('run-scenarios');
  var progress = document.getElementById('run-progress');
  if (!run || !window.EventSource) return;
  var source = new EventSource('/api/runs/' + run.getAttribute('data-run') + '/events');
  source.onmessage = function (event) {
    var data = JSON.parse(event.data);
    if (!data.scenario) { source.close(); window.location.reload(); return; }
    var row = table.insertRow(-1);
    [data.scenario.file, data.scenario.name].forEach(function (text) {
      row.insertCell(-1).textContent = text;
    });
    var verdict = document.createElement('span');
    verdict.className = 'badge ' + ({passed: 'ok', failed: 'bad'}[data.scenario.status] || 'wait');
    verdict.textContent = data.scenario.status;
    row.insertCell(-1).appendChild(verdict);
    row.insertCell(-1);
    progress.textContent = data.done + ' of ' + data.total + ' scenarios finished';
  };
  // A run that ended before the page subscribed sends nothing more: look again.
  source.onerror = function () { source.close(); setTimeout(function () { window.location.reload(); }, 1000); };
})();
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;
    use crate::console::store::{RunCounts, SuiteRunRow};

    fn scenario(position: i64, status: &str, snapshot: Option<&str>) -> RunScenarioRow {
        RunScenarioRow {
            position,
            file: format!("scenarios/purchase/{position}.yaml"),
            name: format!("scenario <{position}>"),
            status: status.into(),
            skip_reason: (status == "skipped").then(|| "not for V1 products".into()),
            failed_checks: i64::from(status == "failed"),
            snapshot: snapshot.map(str::to_owned),
            text: "FAIL  scenario <1>  scenarios/purchase/1.yaml\n      ✗ v1.body-sign …\n".into(),
            transcript: None,
            diff: (snapshot == Some("changed"))
                .then(|| "--- accepted\n+++ this run\n-a\n+b\n".into()),
        }
    }

    #[test]
    fn a_finished_run() {
        let detail = RunDetail {
            run: SuiteRunRow {
                run_id: 3,
                product_id: 1,
                started_at: 1_795_000_000_000,
                finished_at: Some(1_795_000_000_400),
                status: "finished".into(),
                verdict: Some("not-conformant".into()),
                conformant: Some(false),
                patterns: vec!["purchase".into()],
                source: "the built-in suite".into(),
                summary: RunCounts {
                    scenarios: 3,
                    passed: 1,
                    failed: 1,
                    skipped: 1,
                    changed: 1,
                },
                note: None,
            },
            scenarios: vec![
                scenario(0, "passed", Some("changed")),
                scenario(1, "failed", Some("new")),
                scenario(2, "skipped", None),
            ],
        };
        insta::assert_snapshot!(fixtures::lines(content(
            &detail,
            "Shop <1>",
            fixtures::TOKEN
        )));
    }
}
