//! The test clock: advance, jump to the next event, freeze or thaw.

use std::sync::Arc;

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::console::http::App;
use crate::console::http::api::products::{Health, health};
use crate::console::http::api::{ApiError, ApiJson, ApiResult};
use crate::console::service::ConsoleError;
use crate::marketplace::clock::Span;

/// `POST /api/clock/advance`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Advance {
    /// A duration: `90s`, `3h`, `1d12h`, `2w`.
    pub(crate) by: String,
}

/// Moves the clock forward and performs what falls due, product by product (a product whose
/// merchant hangs holds the answer up for as long as its timeout).
#[utoipa::path(post, path = "/api/clock/advance", request_body = Advance,
    responses((status = 200, body = Health), (status = 400, body = ApiError)))]
pub(crate) async fn advance(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<Advance>,
) -> ApiResult<Health> {
    let by: Span = request.by.parse().map_err(|_| {
        ConsoleError::Invalid(format!(
            "{:?} is not a duration like 90s, 3h, 1d12h",
            request.by
        ))
    })?;
    app.service.advance(by.as_millis()).await?;
    health(State(app)).await
}

/// Jumps the clock to the next scheduled delivery, expiry or dial test.
#[utoipa::path(post, path = "/api/clock/next", responses((status = 200, body = Health)))]
pub(crate) async fn next(State(app): State<Arc<App>>) -> ApiResult<Health> {
    app.service.next_event().await?;
    health(State(app)).await
}

/// `POST /api/clock/freeze`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct Freeze {
    /// Freeze (true) or thaw (false).
    pub(crate) frozen: bool,
}

/// Freezes or thaws the clock.
#[utoipa::path(post, path = "/api/clock/freeze", request_body = Freeze, responses((status = 200, body = Health)))]
pub(crate) async fn freeze(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<Freeze>,
) -> ApiResult<Health> {
    app.service.set_frozen(request.frozen)?;
    health(State(app)).await
}
