//! `GET /products/{id}/debug` (接口调试): one case of an interface signed and shown as curl
//! (生成请求命令), or sent, judged and saved (调测并保存用例); the saved cases with Replay all,
//! and the dial tests' history.

use std::sync::Arc;

use axum::extract::{Path, State};
use maud::{Markup, html};
use serde::Deserialize;

use crate::console::http::App;
use crate::console::http::pages::{PageResult, TokenForm, frame, product_of, rendered};
use crate::console::http::view::{badge, beijing, button_form, page as framed, select};
use crate::console::service::DebugOutcome;
use crate::console::store::{DebugCaseRow, DialRunRow, ProductRow};
use crate::protocol::Activity;

/// What the debug page shows.
#[derive(Debug, Clone)]
pub(crate) struct DebugView {
    pub(crate) row: ProductRow,
    /// The product's interfaces.
    pub(crate) interfaces: Vec<Activity>,
    /// The case just generated or sent.
    pub(crate) result: Option<DebugOutcome>,
    pub(crate) cases: Vec<DebugCaseRow>,
    pub(crate) runs: Vec<DialRunRow>,
}

pub(super) async fn page(State(app): State<Arc<App>>, Path(id): Path<i64>) -> PageResult {
    respond(&app, id, None)
}

fn respond(app: &App, id: i64, result: Option<DebugOutcome>) -> PageResult {
    let (row, spec) = product_of(app, id)?;
    let view = DebugView {
        row,
        interfaces: spec.interfaces().iter().map(|(a, _)| *a).collect(),
        result,
        cases: app.read(|r| r.debug_cases(id))?,
        runs: app.read(|r| r.dial_runs(id, 30))?,
    };
    let frame = frame(app, "接口调试 · Debug page");
    Ok(rendered(framed(&frame, &content(&view, &frame.token))))
}

/// What the debug form posts.
#[derive(Deserialize)]
pub(super) struct DebugForm {
    product_id: i64,
    activity: String,
    #[serde(default)]
    variant: String,
    op: String,
}

/// `POST /ui/debug`: generate (`op=preview`) or send and save (`op=send`) a case.
pub(super) async fn send(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<DebugForm>,
) -> PageResult {
    let variant = form.variant.trim().parse().unwrap_or(0);
    let send = form.op == "send";
    let outcome = app
        .service
        .debug(form.product_id, &form.activity, variant, send, send)
        .await?;
    respond(&app, form.product_id, Some(outcome))
}

/// The debug page's content.
pub(crate) fn content(view: &DebugView, token: &str) -> Markup {
    let id = view.row.id;
    let slugs: Vec<&str> = view.interfaces.iter().map(|a| a.slug()).collect();
    html! {
        p { a href={ "/products/" (id) } { "← " (view.row.name) } }
        form method="post" action="/ui/debug" .panel #debug-form {
            input type="hidden" name="token" value=(token);
            input type="hidden" name="product_id" value=(id);
            (select("activity", "Interface", &slugs, None))
            label { "Case " input type="text" name="variant" value="0" size="3" #variant; }
            button type="submit" name="op" value="preview" #generate { "生成请求命令 · Generate request" }
            button type="submit" name="op" value="send" #debug-save { "调测并保存用例 · Debug and save case" }
        }
        @if let Some(result) = &view.result {
            div.panel #debug-result role="status" {
                @if let Some(outcome) = &result.outcome {
                    p {
                        (badge(outcome.verdict.slug())) " "
                        (outcome.check_id.as_deref().unwrap_or("")) " "
                        (outcome.message.as_deref().unwrap_or("调测成功 · the console accepts the answer"))
                    }
                }
                pre #curl { (result.curl) }
            }
        }
        h2 { "Saved cases" }
        p.muted { "Replayed twice a day as dial tests (00:00 and 12:00 Beijing time) and after every product edit; five days running with a failure freeze trading and hide the product." }
        div.scroll {
            table #cases {
                tr { th { "#" } th { "Interface" } th { "Case" } th { "Last verdict" } }
                @for case in &view.cases {
                    tr {
                        td { (case.id) } td { (case.activity) } td { (case.variant) }
                        td { @if let Some(verdict) = case.last_verdict { (badge(verdict.slug())) } }
                    }
                }
            }
        }
        (button_form("/ui/replay", token, &[("product_id", id.to_string())], "Replay all", "replay-all"))
        h2 { "Dial tests" }
        div.scroll {
            table #dial-runs {
                tr { th { "When" } th { "Day" } th { "Why" } th { "Passed" } th { "Failed" } }
                @for run in &view.runs {
                    tr {
                        td { (beijing(run.at)) } td { (run.day) } td { (run.reason) } td { (run.passed) }
                        td { @if run.failed > 0 { (badge(&run.failed.to_string())) } @else { "0" } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;
    use crate::console::service::AttemptOutcome;
    use crate::console::vocab::{AttemptVerdict, DialReason};

    #[test]
    fn debug_page() {
        let view = DebugView {
            row: ProductRow {
                id: 1,
                name: "Demo".into(),
                spec: String::new(),
                start_ms: 0,
                seed: 0,
                created_at: 0,
                trading_frozen: false,
            },
            interfaces: vec![Activity::NewInstance, Activity::RefreshInstance],
            result: Some(DebugOutcome {
                curl: "curl -X GET 'http://h/p?a=1&b=2'".into(),
                outcome: Some(AttemptOutcome {
                    product_id: 1,
                    call: 0,
                    activity: "new-instance".into(),
                    attempt: 1,
                    verdict: AttemptVerdict::Accepted,
                    check_id: None,
                    message: None,
                    at: 1_795_000_000_000,
                }),
                case_id: Some(1),
            }),
            cases: vec![DebugCaseRow {
                id: 1,
                product_id: 1,
                activity: "new-instance".into(),
                variant: 0,
                created_at: 1_795_000_000_000,
                last_verdict: Some(AttemptVerdict::Accepted),
            }],
            runs: vec![DialRunRow {
                id: 1,
                product_id: 1,
                at: 1_795_000_000_000,
                day: "2026-11-18".into(),
                reason: DialReason::Dial,
                passed: 0,
                failed: 1,
            }],
        };
        insta::assert_snapshot!(fixtures::lines(content(&view, fixtures::TOKEN)));
    }
}
