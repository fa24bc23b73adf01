//! 接口调试: one debug case sent (and saved), and every saved case replayed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::console::http::App;
use crate::console::http::api::{ApiError, ApiJson, ApiResult};
use crate::console::service::{DebugOutcome, DialOutcome, ReproduceOutcome};
use crate::console::vocab::DialReason;

/// `POST /api/debug-cases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DebugRequest {
    /// The product.
    pub(crate) product_id: i64,
    /// The interface (`new-instance`, `refresh-instance`, `instance-status` …).
    pub(crate) activity: String,
    /// Which of its cases (trialFlag, scene, status …); 0 when omitted.
    #[serde(default)]
    pub(crate) variant: usize,
    /// Send it (default); false only shows the signed request.
    #[serde(default = "yes")]
    pub(crate) send: bool,
    /// Save it as a dial-test case (default).
    #[serde(default = "yes")]
    pub(crate) save: bool,
}

fn yes() -> bool {
    true
}

/// One debug case: signed and shown as curl, sent and judged, saved as a dial-test case.
#[utoipa::path(post, path = "/api/debug-cases", request_body = DebugRequest,
    responses((status = 200, body = DebugOutcome), (status = 400, body = ApiError)))]
pub(crate) async fn debug_case(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<DebugRequest>,
) -> ApiResult<DebugOutcome> {
    let outcome = app
        .service
        .debug(
            request.product_id,
            &request.activity,
            request.variant,
            request.send,
            request.save && request.send,
        )
        .await?;
    Ok(Json(outcome))
}

/// `POST /api/products/{id}/reproduce`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReproduceRequest {
    /// What the logs hold: a V1 request URL, a V2 URL with its JSON body on the following
    /// lines, or a curl command.
    pub(crate) request: String,
}

/// A production request re-signed with the product's local key, sent to its production
/// address and judged; a paste that cannot be read is a 400 naming what was wrong.
#[utoipa::path(post, path = "/api/products/{id}/reproduce", request_body = ReproduceRequest,
    params(("id" = i64, Path, description = "The product.")),
    responses((status = 200, body = ReproduceOutcome), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(crate) async fn reproduce(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ApiJson(request): ApiJson<ReproduceRequest>,
) -> ApiResult<ReproduceOutcome> {
    Ok(Json(app.service.reproduce(id, &request.request).await?))
}

/// `POST /api/debug-cases/run`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunCases {
    /// The product.
    pub(crate) product_id: i64,
}

/// Replays every saved case of a product ("replay all", the check after a product edit).
#[utoipa::path(post, path = "/api/debug-cases/run", request_body = RunCases,
    responses((status = 200, body = DialOutcome)))]
pub(crate) async fn run_cases(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<RunCases>,
) -> ApiResult<DialOutcome> {
    let outcome = app
        .service
        .replay_cases(request.product_id, DialReason::Replay, None)
        .await?;
    Ok(Json(outcome))
}
