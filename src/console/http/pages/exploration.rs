//! `GET /explorations/{id}`: an exploration. While it runs, its progress (steps, exchanges,
//! transitions exercised) arrives as it changes and the page reloads when it ends; then the
//! lifecycle coverage and what it found — the failing check and the shrunk scenario, to
//! download or replay as a suite run.

use std::sync::Arc;

use axum::extract::{Path, State};
use maud::{Markup, PreEscaped, html};

use crate::console::http::App;
use crate::console::http::api::explorations::{ExplorationDetail, exploration_detail};
use crate::console::http::pages::{PageResult, frame, rendered};
use crate::console::http::view::{badge, beijing, button_form, page as framed};

pub(super) async fn page(State(app): State<Arc<App>>, Path(id): Path<i64>) -> PageResult {
    let detail = exploration_detail(&app, id)?;
    let frame = frame(&app, &format!("Exploration {id}"));
    Ok(rendered(framed(&frame, &content(&detail, &frame.token))))
}

/// The exploration page's content.
pub(crate) fn content(detail: &ExplorationDetail, token: &str) -> Markup {
    let e = &detail.exploration;
    let id = e.exploration_id;
    html! {
        div.panel #exploration data-exploration=(id) {
            b { "Product" } " " a href={ "/products/" (e.product_id) } { "#" (e.product_id) } br;
            b { "Status" } " " span #exploration-status { (badge(&e.status)) } br;
            b { "Seed" } " " code { (e.seed) } " · " b { "Budget" } " " (e.budget) " steps" br;
            b { "Started" } " " (beijing(e.started_at))
            @if let Some(at) = e.finished_at { " · " b { "Finished" } " " (beijing(at)) }
            @if let Some(p) = &detail.progress {
                p #exploration-progress aria-live="polite" {
                    (p.steps) " of " (p.budget) " steps · " (p.exchanges) " exchanges · "
                    (p.exercised) " of " (p.transitions) " transitions exercised"
                }
            } @else if e.status == "finished" {
                br; (e.walks) " walks, " (e.steps) " steps, " (e.exchanges) " exchanges"
            }
            @if e.status == "interrupted" {
                p.warn { "The console stopped while this exploration was going: it never finished. Start another with the same seed." }
            }
        }
        @if let Some(note) = &e.note { p.error role="alert" { (note) } }
        @if e.status == "finished" {
            @match (&e.check_id, &e.scenario) {
                (Some(check), Some(scenario)) => {
                    h2 { "Found: " code #exploration-check { (check) } }
                    @if let Some(message) = &e.message { p { (message) } }
                    p {
                        (button_form("/ui/explorations/replay", token, &[("exploration_id", id.to_string())], "Replay as a suite run", "replay-exploration"))
                        " " a href={ "/api/explorations/" (id) "/scenario.yaml" } #download-scenario { "Download the scenario" }
                    }
                    pre #exploration-scenario { (scenario) }
                }
                _ => { p #exploration-nothing { "Nothing found within the budget." } }
            }
            @if let Some(coverage) = &e.coverage {
                h2 { "Lifecycle coverage" }
                pre #exploration-coverage { (coverage) }
            }
        }
        @if detail.progress.is_some() {
            script { (PreEscaped(EXPLORATION_SCRIPT)) }
        }
    }
}

/// The live exploration: its progress line follows the events; the page reloads when the
/// stream ends with the exploration.
const EXPLORATION_SCRIPT: &str = "
(function () {
  var panel = document.getElementById('exploration');
  var line = document.getElementById('exploration-progress');
  if (!panel || !window.EventSource) return;
  var source = new EventSource('/api/explorations/' + panel.getAttribute('data-exploration') + '/events');
  source.onmessage = function (event) {
    var p = JSON.parse(event.data);
    line.textContent = p.steps + ' of ' + p.budget + ' steps · ' + p.exchanges + ' exchanges · ' +
      p.exercised + ' of ' + p.transitions + ' transitions exercised';
  };
  source.onerror = function () { source.close(); setTimeout(function () { window.location.reload(); }, 300); };
})();
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;
    use crate::console::store::ExplorationRow;

    #[test]
    fn an_exploration_that_found_a_failure() {
        let detail = ExplorationDetail {
            exploration: ExplorationRow {
                exploration_id: 4,
                product_id: 1,
                started_at: 1_795_000_000_000,
                finished_at: Some(1_795_000_002_000),
                status: "finished".into(),
                seed: "18446744073709551615".into(),
                budget: 2000,
                walks: 3,
                steps: 97,
                exchanges: 140,
                coverage: Some("active --renew--> active  ×4\n".into()),
                check_id: Some("console.result-code".into()),
                message: Some("the answer's resultCode is 000005 <refused>".into()),
                scenario: Some("name: \"explore seed 1\"\nsteps:\n  - purchase: order1\n".into()),
                note: None,
            },
            progress: None,
        };
        insta::assert_snapshot!(fixtures::lines(content(&detail, fixtures::TOKEN)));
    }
}
