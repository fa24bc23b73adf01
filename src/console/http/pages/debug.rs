//! `GET /products/{id}/debug` (接口调试): one case of an interface signed and shown as curl
//! (生成请求命令), or sent, judged and saved (调测并保存用例); the saved cases with Replay all,
//! and the dial tests' history.

use std::sync::Arc;

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use serde::Deserialize;

use crate::console::http::App;
use crate::console::http::pages::{PageError, PageResult, TokenForm, frame, product_of, rendered};
use crate::console::http::view::{badge, beijing, button_form, page as framed, select};
use crate::console::journal::FieldEdits;
use crate::console::service::{DebugForm, DebugOutcome, FormField, ReproduceOutcome};
use crate::console::store::{DebugCaseRow, DialRunRow, ProductRow};
use crate::protocol::Activity;

/// What the debug page shows.
#[derive(Debug, Clone)]
pub(crate) struct DebugView {
    pub(crate) row: ProductRow,
    /// The product's interfaces.
    pub(crate) interfaces: Vec<Activity>,
    /// The chosen case's form, as the merchant left it.
    pub(crate) form: DebugForm,
    /// The case just generated or sent.
    pub(crate) result: Option<DebugOutcome>,
    /// The production request just reproduced.
    pub(crate) reproduced: Option<ReproduceOutcome>,
    pub(crate) cases: Vec<DebugCaseRow>,
    pub(crate) runs: Vec<DialRunRow>,
}

/// `?activity=&variant=`: the case whose form the page shows (the first interface's first
/// case when omitted).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Chosen {
    #[serde(default)]
    activity: Option<String>,
    #[serde(default)]
    variant: Option<String>,
}

pub(super) async fn page(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(chosen): Query<Chosen>,
) -> PageResult {
    let variant = chosen.variant.as_deref().map_or(0, parse_variant);
    let (form, _) = form_for(&app, id, chosen.activity, variant, &BTreeMap::new()).await?;
    respond(&app, id, form, Results::default())
}

/// A case number as typed (anything else is case 0).
fn parse_variant(text: &str) -> usize {
    text.trim().parse().unwrap_or(0)
}

/// The form of a case, `submitted` applied; the product's first interface when none is named.
async fn form_for(
    app: &App,
    id: i64,
    activity: Option<String>,
    variant: usize,
    submitted: &BTreeMap<String, String>,
) -> Result<(DebugForm, FieldEdits), PageError> {
    let activity = match activity.filter(|a| !a.is_empty()) {
        Some(activity) => activity,
        None => {
            let (_, spec) = product_of(app, id)?;
            let first = spec.interfaces().first().map(|(a, _)| *a);
            first.map_or_else(String::new, |a| a.slug().to_owned())
        }
    };
    Ok(app
        .service
        .debug_form(id, &activity, variant, submitted)
        .await?)
}

/// What the page shows below the form.
#[derive(Default)]
struct Results {
    debugged: Option<DebugOutcome>,
    reproduced: Option<ReproduceOutcome>,
}

fn respond(app: &App, id: i64, form: DebugForm, results: Results) -> PageResult {
    let (row, spec) = product_of(app, id)?;
    let view = DebugView {
        row,
        interfaces: spec.interfaces().iter().map(|(a, _)| *a).collect(),
        form,
        result: results.debugged,
        reproduced: results.reproduced,
        cases: app.read(|r| r.debug_cases(id))?,
        runs: app.read(|r| r.dial_runs(id, 30))?,
    };
    let frame = frame(app, "接口调试 · Debug page");
    Ok(rendered(framed(&frame, &content(&view, &frame.token))))
}

/// The prefix of a parameter's input name on the form.
const FIELD: &str = "field.";
/// The prefix of the hidden input holding the value a parameter was shown with.
const SHOWN: &str = "shown.";

/// The posted form's value of `name`.
fn posted<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The product a form was posted for.
fn posted_product(form: &[(String, String)]) -> Result<i64, PageError> {
    posted(form, "product_id").parse().map_err(|_| {
        PageError(
            StatusCode::BAD_REQUEST,
            "the form names no product_id".into(),
        )
    })
}

/// `POST /ui/debug`: the form's parameters checked against the interface's table; when they
/// hold, the request generated (`op=preview`) or sent and saved (`op=send`); when not, the
/// form again with each problem beside its field, and nothing sent.
pub(super) async fn send(
    State(app): State<Arc<App>>,
    TokenForm(posted_form): TokenForm<Vec<(String, String)>>,
) -> PageResult {
    let id = posted_product(&posted_form)?;
    let activity = posted(&posted_form, "activity").to_owned();
    let variant = parse_variant(posted(&posted_form, "variant"));
    // Only what the merchant changed: the case's values move between two loads of the page
    // (a fresh businessId, an expireTime a month from now), so each field carries the case's
    // value it was shown with.
    let submitted: BTreeMap<String, String> = posted_form
        .iter()
        .filter_map(|(name, value)| Some((name.strip_prefix(FIELD)?, value)))
        .filter(|(name, value)| posted(&posted_form, &format!("{SHOWN}{name}")) != value.as_str())
        .map(|(name, value)| (name.to_owned(), value.clone()))
        .collect();
    let (form, edits) = form_for(&app, id, Some(activity), variant, &submitted).await?;
    if form.has_errors() {
        return respond(&app, id, form, Results::default());
    }
    let send = posted(&posted_form, "op") == "send";
    let case = (form.activity.as_str(), variant);
    let outcome = app.service.debug(id, case, &edits, send, send).await?;
    let results = Results {
        debugged: Some(outcome),
        ..Results::default()
    };
    respond(&app, id, form, results)
}

/// `POST /ui/reproduce`: a request from the production logs re-signed and sent.
pub(super) async fn reproduce(
    State(app): State<Arc<App>>,
    TokenForm(posted_form): TokenForm<Vec<(String, String)>>,
) -> PageResult {
    let id = posted_product(&posted_form)?;
    let save = !posted(&posted_form, "save").is_empty();
    let outcome = app
        .service
        .reproduce(id, posted(&posted_form, "request"), save)
        .await?;
    let (form, _) = form_for(&app, id, None, 0, &BTreeMap::new()).await?;
    let results = Results {
        reproduced: Some(outcome),
        ..Results::default()
    };
    respond(&app, id, form, results)
}

/// The debug page's content.
pub(crate) fn content(view: &DebugView, token: &str) -> Markup {
    let id = view.row.id;
    let slugs: Vec<&str> = view.interfaces.iter().map(|a| a.slug()).collect();
    let form = &view.form;
    html! {
        p { a href={ "/products/" (id) } { "← " (view.row.name) } }
        form method="get" action={ "/products/" (id) "/debug" } .panel #case-form {
            (select("activity", "Interface", &slugs, Some(form.activity.as_str())))
            label for="variant" { "Case " }
            input type="text" name="variant" value=(form.variant) size="3" #variant inputmode="numeric";
            button type="submit" #load-case { "Load the case" }
        }
        form method="post" action="/ui/debug" .panel #debug-form {
            input type="hidden" name="token" value=(token);
            input type="hidden" name="product_id" value=(id);
            input type="hidden" name="activity" value=(form.activity);
            input type="hidden" name="variant" value=(form.variant);
            p.muted { "The parameters of " b { (form.activity) } " case " (form.variant) ", as the marketplace would send them: change any, then generate the signed request or send it. Each is checked against the interface's table first; an empty optional parameter is left out." }
            div.fields {
                @for field in &form.fields {
                    (field_input(field))
                }
            }
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
        (reproduce_section(id, view.reproduced.as_ref(), token))
        h2 { "Saved cases" }
        p.muted { "Replayed twice a day as dial tests (00:00 and 12:00 Beijing time) and after every product edit; five days running with a failure freeze trading and hide the product." }
        div.scroll {
            table #cases {
                tr { th { "#" } th { "Interface" } th { "Case" } th { "Last verdict" } }
                @for case in &view.cases {
                    tr {
                        td { (case.id) } td { (case.activity) }
                        td {
                            (case.variant)
                            @if let Some(edits) = case.edits.as_ref().and_then(|e| serde_json::from_value::<FieldEdits>(e.clone()).ok()) {
                                " " span.muted { "edited: " (edits.describe()) }
                            }
                        }
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

/// One parameter: its label (name, required, length), its input — a list of the
/// documented values when the table enumerates them —, and what is wrong with it.
fn field_input(field: &FormField) -> Markup {
    let id = format!("field-{}", field.name);
    let error_id = format!("{id}-error");
    let name = format!("{FIELD}{}", field.name);
    let hint = match field.max {
        Some(max) => format!("≤ {max}"),
        None if field.numeric => "number".to_owned(),
        None => String::new(),
    };
    html! {
        div.field {
            input type="hidden" name={ (SHOWN) (field.name) } value=(field.case_value);
            label for=(id) {
                code { (field.name) }
                @if field.required { " *" span.muted { " required" } }
                " " span.muted { (hint) }
            }
            @if field.choices.is_empty() {
                input type="text" id=(id) name=(name) value=(field.value) size="40"
                    aria-invalid=[field.error.as_ref().map(|_| "true")]
                    aria-describedby=[field.error.as_ref().map(|_| error_id.as_str())];
            } @else {
                select id=(id) name=(name)
                    aria-invalid=[field.error.as_ref().map(|_| "true")]
                    aria-describedby=[field.error.as_ref().map(|_| error_id.as_str())] {
                    @if !field.required {
                        option value="" selected[field.value.is_empty()] { "(left out)" }
                    }
                    @for choice in &field.choices {
                        option value=(choice) selected[field.value == *choice] { (choice) }
                    }
                    @if !field.value.is_empty() && !field.choices.contains(&field.value.as_str()) {
                        option value=(field.value) selected { (field.value) }
                    }
                }
            }
            @if let Some(error) = &field.error {
                span.field-error id=(error_id) role="alert" { (error) }
            }
        }
    }
}

/// Reproducing a request from the production logs: the paste, and how it was judged.
fn reproduce_section(id: i64, reproduced: Option<&ReproduceOutcome>, token: &str) -> Markup {
    html! {
        h2 { "Reproduce a production request" }
        form method="post" action="/ui/reproduce" .panel #reproduce-form {
            input type="hidden" name="token" value=(token);
            input type="hidden" name="product_id" value=(id);
            label for="reproduce-request" { "A request from your logs — a V1 URL, a V2 URL with its JSON body on the next lines, or a curl command. It is signed again with this product's key (the logged signature only holds in production) and sent to the production address." }
            br;
            textarea name="request" #reproduce-request rows="4" cols="80" {}
            br;
            label for="reproduce-save" { input type="checkbox" name="save" value="1" #reproduce-save; " Also save it as a debug case (replayed by the dial tests)" }
            button type="submit" #reproduce { "Reproduce" }
        }
        @if let Some(outcome) = reproduced {
            @let attempt = &outcome.attempt;
            div.panel #reproduce-result role="status" {
                p {
                    (badge(attempt.verdict)) " " (attempt.exchange.activity) " "
                    (attempt.check_id.unwrap_or("")) " "
                    (attempt.message.as_deref().unwrap_or("the console accepts the answer"))
                }
                @if let Some(case) = outcome.saved_case {
                    p { "Saved as debug case #" (case) "." }
                }
                @if let Some(status) = attempt.exchange.status {
                    pre #reproduce-answer { "HTTP " (status) "\n" (attempt.exchange.body.as_deref().unwrap_or("")) }
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
            form: DebugForm {
                activity: "refresh-instance".into(),
                variant: 0,
                fields: vec![
                    FormField {
                        name: "orderId".into(),
                        value: "C".repeat(65),
                        case_value: "CS0001".into(),
                        required: true,
                        max: Some(64),
                        numeric: false,
                        choices: Vec::new(),
                        error: Some("at most 64 characters (65 given)".into()),
                    },
                    FormField {
                        name: "scene".into(),
                        value: "RENEWAL".into(),
                        case_value: "RENEWAL".into(),
                        required: true,
                        max: Some(64),
                        numeric: false,
                        choices: vec!["TRIAL_TO_FORMAL", "RENEWAL"],
                        error: None,
                    },
                    FormField {
                        name: "testFlag".into(),
                        value: String::new(),
                        case_value: "1".into(),
                        required: false,
                        max: Some(2),
                        numeric: false,
                        choices: vec!["0", "1"],
                        error: None,
                    },
                ],
            },
            reproduced: None,
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
                edits: Some(
                    serde_json::json!({"set": [["scene", "RENEWAL_CHANGE"]], "remove": ["testFlag"]}),
                ),
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
