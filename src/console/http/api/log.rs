//! The call log (every attempt, newest first) and the merchant's calls to the open APIs.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};

use crate::console::http::App;
use crate::console::http::api::{ApiResult, Paging};
use crate::console::store::{AttemptRow, MerchantCallRow, UsageRecordRow};

/// Every attempt, newest first.
#[utoipa::path(get, path = "/api/log", params(("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<AttemptRow>)))]
pub(crate) async fn log(
    State(app): State<Arc<App>>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<AttemptRow>> {
    Ok(Json(app.read(|r| r.log(paging.page()))?))
}

/// The merchant's calls to the open APIs and the identity centre, newest first, with the
/// checks each broke (stored as they arrive).
#[utoipa::path(get, path = "/api/merchant-calls", params(("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<MerchantCallRow>)))]
pub(crate) async fn merchant_calls(
    State(app): State<Arc<App>>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<MerchantCallRow>> {
    Ok(Json(app.read(|r| r.merchant_calls(paging.page()))?))
}

/// 话单管理: every usage record the merchant pushed, newest first — accepted, or abnormal
/// with its record code (the push itself was answered MKT.0000 either way, as production's).
#[utoipa::path(get, path = "/api/usage-records", params(("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<UsageRecordRow>)))]
pub(crate) async fn usage_records(
    State(app): State<Arc<App>>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<UsageRecordRow>> {
    Ok(Json(app.read(|r| r.usage_records(paging.page()))?))
}
