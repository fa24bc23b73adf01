//! Explorations: started against a product in the background, listed, followed, and what
//! they found — the shrunk scenario — downloaded or replayed as a suite run.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::console::http::App;
use crate::console::http::api::runs::RunStarted;
use crate::console::http::api::{ApiError, ApiJson, ApiResult, Paging, attachment};
use crate::console::service::{ConsoleError, ExploreProgress};
use crate::console::store::ExplorationRow;

/// `POST /api/products/{id}/explorations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartExploration {
    /// The walks' seed (`kgsim explore --seed`); drawn when omitted.
    #[serde(default)]
    pub(crate) seed: Option<u64>,
    /// Marketplace events in all (`--steps`), 1 to 100,000; 2,000 when omitted.
    #[serde(default = "default_steps")]
    pub(crate) steps: usize,
}

fn default_steps() -> usize {
    2_000
}

/// An exploration started.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExplorationStarted {
    /// Its id.
    pub(crate) exploration_id: i64,
}

/// Starts exploring the product's lifecycle against its production address, in the
/// background, as `kgsim explore` does.
#[utoipa::path(post, path = "/api/products/{id}/explorations", request_body = StartExploration,
    params(("id" = i64, Path, description = "The product.")),
    responses((status = 202, body = ExplorationStarted), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(crate) async fn start(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ApiJson(request): ApiJson<StartExploration>,
) -> Result<(StatusCode, Json<ExplorationStarted>), ConsoleError> {
    let exploration_id = app
        .service
        .start_exploration(id, request.seed, request.steps)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ExplorationStarted { exploration_id }),
    ))
}

/// A product's explorations, newest first.
#[utoipa::path(get, path = "/api/products/{id}/explorations",
    params(("id" = i64, Path), ("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<ExplorationRow>)))]
pub(crate) async fn product_explorations(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<ExplorationRow>> {
    Ok(Json(app.read(|r| r.explorations(id, paging.page()))?))
}

/// An exploration, with where it stands while it runs.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExplorationDetail {
    /// The exploration.
    #[serde(flatten)]
    pub(crate) exploration: ExplorationRow,
    /// Where it stands, while it runs.
    pub(crate) progress: Option<ExploreProgress>,
}

/// An exploration and, while it runs, its progress.
pub(crate) fn exploration_detail(app: &App, id: i64) -> Result<ExplorationDetail, ConsoleError> {
    let exploration = app
        .read(|r| r.exploration(id))?
        .ok_or_else(|| ConsoleError::NotFound(format!("there is no exploration {id}")))?;
    let progress = app
        .service
        .exploration_progress(id)
        .map(|watching| *watching.borrow());
    Ok(ExplorationDetail {
        exploration,
        progress,
    })
}

/// An exploration: `running`, `finished` or `interrupted`; what it found.
#[utoipa::path(get, path = "/api/explorations/{exploration_id}", params(("exploration_id" = i64, Path)),
    responses((status = 200, body = ExplorationDetail), (status = 404, body = ApiError)))]
pub(crate) async fn exploration(
    State(app): State<Arc<App>>,
    Path(exploration_id): Path<i64>,
) -> ApiResult<ExplorationDetail> {
    Ok(Json(exploration_detail(&app, exploration_id)?))
}

/// The scenario an exploration found, as a file `kgsim run` replays.
#[utoipa::path(get, path = "/api/explorations/{exploration_id}/scenario.yaml", params(("exploration_id" = i64, Path)),
    responses((status = 200, description = "The shrunk scenario", content_type = "application/yaml"),
        (status = 404, body = ApiError)))]
pub(crate) async fn scenario(
    State(app): State<Arc<App>>,
    Path(exploration_id): Path<i64>,
) -> Result<Response, ConsoleError> {
    let found = app
        .read(|r| r.exploration(exploration_id))?
        .and_then(|e| e.scenario)
        .ok_or_else(|| {
            ConsoleError::NotFound(format!("exploration {exploration_id} found no scenario"))
        })?;
    Ok(attachment(
        "application/yaml; charset=utf-8",
        &format!("exploration-{exploration_id}.yaml"),
        found,
    ))
}

/// Replays the scenario an exploration found as a suite run of its product.
#[utoipa::path(post, path = "/api/explorations/{exploration_id}/replay", params(("exploration_id" = i64, Path)),
    responses((status = 202, body = RunStarted), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(crate) async fn replay(
    State(app): State<Arc<App>>,
    Path(exploration_id): Path<i64>,
) -> Result<(StatusCode, Json<RunStarted>), ConsoleError> {
    let exploration = exploration_detail(&app, exploration_id)?.exploration;
    let run_id = app.service.replay_exploration(&exploration)?;
    Ok((StatusCode::ACCEPTED, Json(RunStarted { run_id })))
}
