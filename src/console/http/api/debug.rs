//! 接口调试: one debug case sent (and saved), and every saved case replayed.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::console::http::App;
use crate::console::http::api::{ApiError, ApiJson, ApiResult};
use crate::console::service::{
    ConsoleError, DebugForm, DebugOutcome, DialOutcome, ReproduceOutcome,
};
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
    /// Parameters changed from the case's, as the debug page's form takes them (`""` leaves
    /// an optional one out); each is checked against the interface's table.
    #[serde(default)]
    pub(crate) fields: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

/// One debug case, its parameters edited as `fields` says: signed and shown as curl, sent
/// and judged, saved as a dial-test case. An edited value its table refuses is a 400 naming
/// each field and what is wrong with it; nothing is sent.
#[utoipa::path(post, path = "/api/debug-cases", request_body = DebugRequest,
    responses((status = 200, body = DebugOutcome), (status = 400, body = ApiError)))]
pub(crate) async fn debug_case(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<DebugRequest>,
) -> ApiResult<DebugOutcome> {
    let case = (request.activity.as_str(), request.variant);
    let (form, edits) = app
        .service
        .debug_form(request.product_id, case.0, case.1, &request.fields)
        .await?;
    if form.has_errors() {
        return Err(ConsoleError::Invalid(form.errors()));
    }
    let outcome = app
        .service
        .debug(
            request.product_id,
            case,
            &edits,
            request.send,
            request.save && request.send,
        )
        .await?;
    Ok(Json(outcome))
}

/// `GET /api/products/{id}/debug-form`'s query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct FormQuery {
    /// The interface.
    pub(crate) activity: String,
    /// Which of its cases; 0 when omitted.
    #[serde(default)]
    pub(crate) variant: usize,
}

/// The debug page's form of a case: the interface's parameters, prefilled from the case, each
/// with what its table allows (required, length, documented values).
#[utoipa::path(get, path = "/api/products/{id}/debug-form",
    params(("id" = i64, Path, description = "The product."), FormQuery),
    responses((status = 200, body = DebugForm), (status = 400, body = ApiError)))]
pub(crate) async fn debug_form(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(query): Query<FormQuery>,
) -> ApiResult<DebugForm> {
    let (form, _) = app
        .service
        .debug_form(id, &query.activity, query.variant, &BTreeMap::new())
        .await?;
    Ok(Json(form))
}

/// `POST /api/products/{id}/reproduce`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReproduceRequest {
    /// What the logs hold: a V1 request URL, a V2 URL with its JSON body on the following
    /// lines, or a curl command.
    pub(crate) request: String,
    /// Also save it as a debug case (replayed by the dial tests).
    #[serde(default)]
    pub(crate) save: bool,
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
    Ok(Json(
        app.service
            .reproduce(id, &request.request, request.save)
            .await?,
    ))
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
