//! Suite runs: started against a product in the background, listed with their verdicts,
//! followed while they run, downloaded as JUnit and JSON, and their changed transcripts
//! accepted or rejected.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::console::http::App;
use crate::console::http::api::{ApiError, ApiJson, ApiResult, Paging, attachment};
use crate::console::service::ConsoleError;
use crate::console::store::{RunCounts, RunFile, RunScenarioRow, SuiteRunRow};

/// `POST /api/products/{id}/runs`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartRun {
    /// Scenario patterns, as `kgsim run --filter` takes them (`tag:NAME`, or a
    /// case-insensitive part of the name or file with `*`); none: every scenario.
    #[serde(default)]
    pub(crate) scenarios: Vec<String>,
}

/// A run started.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunStarted {
    /// Its id.
    pub(crate) run_id: i64,
}

/// Starts the product's suite — the built-in one, or its own folder — against its
/// production address, in the background.
#[utoipa::path(post, path = "/api/products/{id}/runs", request_body = StartRun,
    params(("id" = i64, Path, description = "The product.")),
    responses((status = 202, body = RunStarted), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(crate) async fn start_run(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ApiJson(request): ApiJson<StartRun>,
) -> Result<(StatusCode, Json<RunStarted>), ConsoleError> {
    let run_id = app.service.start_run(id, &request.scenarios)?;
    Ok((StatusCode::ACCEPTED, Json(RunStarted { run_id })))
}

/// A product's suite runs, newest first.
#[utoipa::path(get, path = "/api/products/{id}/runs",
    params(("id" = i64, Path), ("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<SuiteRunRow>)))]
pub(crate) async fn product_runs(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<SuiteRunRow>> {
    Ok(Json(app.read(|r| r.suite_runs(id, paging.page()))?))
}

/// A run with its scenarios: those finished so far while it runs, every one once it
/// finished.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub(crate) run: SuiteRunRow,
    /// Its scenarios, in order.
    pub(crate) scenarios: Vec<RunScenarioRow>,
}

/// A run and its scenarios, live or finished.
pub(crate) fn run_detail(app: &App, run_id: i64) -> Result<RunDetail, ConsoleError> {
    let mut run = app
        .read(|r| r.suite_run(run_id))?
        .ok_or_else(|| ConsoleError::NotFound(format!("there is no run {run_id}")))?;
    let scenarios = match app.service.run_progress(run_id) {
        Some((lines, total)) if run.status == "running" => {
            let mut counts = RunCounts {
                scenarios: total as i64,
                ..RunCounts::default()
            };
            let rows = lines
                .into_iter()
                .enumerate()
                .map(|(position, line)| {
                    match line.status.as_str() {
                        "passed" => counts.passed += 1,
                        "failed" => counts.failed += 1,
                        _ => counts.skipped += 1,
                    }
                    RunScenarioRow {
                        position: position as i64,
                        file: line.file,
                        name: line.name,
                        status: line.status,
                        skip_reason: None,
                        failed_checks: 0,
                        snapshot: None,
                        text: String::new(),
                        transcript: None,
                        diff: None,
                    }
                })
                .collect();
            run.summary = counts;
            rows
        }
        _ => app.read(|r| r.suite_run_scenarios(run_id))?,
    };
    Ok(RunDetail { run, scenarios })
}

/// A run: `running`, `finished` or `interrupted`, its verdict once finished, its scenarios.
#[utoipa::path(get, path = "/api/runs/{run_id}", params(("run_id" = i64, Path)),
    responses((status = 200, body = RunDetail), (status = 404, body = ApiError)))]
pub(crate) async fn run(
    State(app): State<Arc<App>>,
    Path(run_id): Path<i64>,
) -> ApiResult<RunDetail> {
    Ok(Json(run_detail(&app, run_id)?))
}

/// A finished run's report, as a download.
fn download(app: &App, run_id: i64, which: RunFile) -> Result<Response, ConsoleError> {
    let text = app
        .read(|r| r.suite_run_file(run_id, which))?
        .ok_or_else(|| {
            ConsoleError::NotFound(format!("run {run_id} has no report: it has not finished"))
        })?;
    let (content_type, name) = match which {
        RunFile::Report => ("application/json", format!("kgsim-run-{run_id}.json")),
        RunFile::Junit => (
            "application/xml; charset=utf-8",
            format!("kgsim-run-{run_id}.xml"),
        ),
    };
    Ok(attachment(content_type, &name, text))
}

/// A finished run's JUnit report (as `kgsim run --junit` writes it).
#[utoipa::path(get, path = "/api/runs/{run_id}/junit.xml", params(("run_id" = i64, Path)),
    responses((status = 200, description = "The JUnit report", content_type = "application/xml"),
        (status = 404, body = ApiError)))]
pub(crate) async fn junit(
    State(app): State<Arc<App>>,
    Path(run_id): Path<i64>,
) -> Result<Response, ConsoleError> {
    download(&app, run_id, RunFile::Junit)
}

/// A finished run's JSON report (as `kgsim run --json` writes it).
#[utoipa::path(get, path = "/api/runs/{run_id}/report.json", params(("run_id" = i64, Path)),
    responses((status = 200, description = "The JSON report", content_type = "application/json"),
        (status = 404, body = ApiError)))]
pub(crate) async fn report(
    State(app): State<Arc<App>>,
    Path(run_id): Path<i64>,
) -> Result<Response, ConsoleError> {
    download(&app, run_id, RunFile::Report)
}

/// What to do with a run's changed transcript.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Decision {
    /// It becomes the product's accepted transcript.
    Accept,
    /// The accepted transcript stays.
    Reject,
}

/// `POST /api/runs/{run_id}/transcripts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Decide {
    /// The scenario file.
    pub(crate) file: String,
    /// `accept` or `reject`.
    pub(crate) decision: Decision,
}

/// Accepts or rejects a run's transcript of a scenario (as `kgsim snapshots accept|reject`).
#[utoipa::path(post, path = "/api/runs/{run_id}/transcripts", request_body = Decide,
    params(("run_id" = i64, Path)),
    responses((status = 200, body = RunScenarioRow), (status = 404, body = ApiError)))]
pub(crate) async fn decide(
    State(app): State<Arc<App>>,
    Path(run_id): Path<i64>,
    ApiJson(request): ApiJson<Decide>,
) -> ApiResult<RunScenarioRow> {
    let accepted = matches!(request.decision, Decision::Accept);
    Ok(Json(app.service.decide_transcript(
        run_id,
        &request.file,
        accepted,
    )?))
}
