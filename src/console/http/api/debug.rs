//! 接口调试: one debug case sent (and saved), and every saved case replayed.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::console::http::App;
use crate::console::http::api::{ApiError, ApiJson, ApiResult};
use crate::console::service::{DebugOutcome, DialOutcome};
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
