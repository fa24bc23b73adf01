//! The JSON API: everything the console's pages can do, for CI jobs and scripts. Each route
//! is registered together with its documentation ([`router`], utoipa-axum), so the document
//! served at `/api/openapi.json` lists every route — a route without one does not compile
//! into the router.
//!
//! One file per resource: [`products`], [`orders`] (purchases, orders, instance and Kit
//! actions, notice restarts), [`clock`], [`debug`] (debug cases and dial tests), [`log`]
//! (the call log and the merchant's open-API calls), [`runs`] (suite runs, their reports and
//! transcripts), [`explorations`] (random walks and the scenarios they found).

mod clock;
mod debug;
pub(crate) mod explorations;
mod log;
mod orders;
mod products;
pub(crate) mod runs;
mod schema;

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::console::http::App;
use crate::console::service::ConsoleError;
use crate::console::store::Page;

#[cfg(test)]
pub(crate) use orders::NoticeDetail;
pub(crate) use orders::{OrderDetail, order_detail};

/// The document of the console's API (served at `/api/openapi.json`).
#[derive(OpenApi)]
#[openapi(info(
    title = "kgsim console API",
    description = "Drive the local KooGallery seller console: products, purchases, buyer actions, the test clock, notices, debug cases and dial tests."
))]
pub(crate) struct ApiDoc;

/// Every documented route.
pub(crate) fn router() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(products::health))
        .routes(routes!(products::products, products::create_product))
        .routes(routes!(products::product_orders))
        .routes(routes!(products::enterprises))
        .routes(routes!(products::export))
        .routes(routes!(debug::reproduce))
        .routes(routes!(runs::start_run, runs::product_runs))
        .routes(routes!(runs::run))
        .routes(routes!(runs::junit))
        .routes(routes!(runs::report))
        .routes(routes!(runs::decide))
        .routes(routes!(
            explorations::start,
            explorations::product_explorations
        ))
        .routes(routes!(explorations::exploration))
        .routes(routes!(explorations::scenario))
        .routes(routes!(explorations::replay))
        .routes(routes!(orders::purchase))
        .routes(routes!(orders::order))
        .routes(routes!(orders::act))
        .routes(routes!(orders::kit))
        .routes(routes!(orders::restart))
        .routes(routes!(clock::advance))
        .routes(routes!(clock::next))
        .routes(routes!(clock::freeze))
        .routes(routes!(debug::debug_case))
        .routes(routes!(debug::debug_form))
        .routes(routes!(debug::run_cases))
        .routes(routes!(log::log))
        .routes(routes!(log::merchant_calls))
        .routes(routes!(log::usage_records))
}

/// An error: what went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiError {
    /// The message.
    pub(crate) error: String,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = crate::console::http::status_of(&self);
        (
            status,
            Json(ApiError {
                error: self.full_message(),
            }),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ConsoleError>;

/// A file to download: `body` as `content_type`, saved as `file_name`.
pub(crate) fn attachment(content_type: &str, file_name: &str, body: String) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A JSON request body; a body that does not decode is a 400 naming the field and the values
/// allowed (axum's own rejection would be a bare 422), a wrong content type keeps its 415.
pub(crate) struct ApiJson<T>(pub(crate) T);

/// Why an [`ApiJson`] body was refused.
pub(crate) struct BodyRefused(StatusCode, String);

impl IntoResponse for BodyRefused {
    fn into_response(self) -> Response {
        (self.0, Json(ApiError { error: self.1 })).into_response()
    }
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = BodyRefused;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(
                rejection @ (JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_)),
            ) => Err(BodyRefused(StatusCode::BAD_REQUEST, rejection.body_text())),
            Err(rejection) => Err(BodyRefused(rejection.status(), rejection.body_text())),
        }
    }
}

/// `?offset=&limit=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    offset: u32,
    #[serde(default)]
    limit: Option<u32>,
}

impl Paging {
    pub(crate) fn page(&self) -> Page {
        Page {
            offset: self.offset,
            limit: self.limit.unwrap_or(50).clamp(1, 500),
        }
    }
}

/// Parses a JSON body as the route `route` picks (of the twelve that take one) parses it —
/// the same extractor, the same 400 or 415 — and checks it as far as its handler does before
/// the service acts: a product's spec resolved into settings (addresses, timeout, the Kit's
/// RSA key), a clock advance's duration. What the fuzzer drives; returns whether the body
/// was taken.
pub(crate) async fn check_body(route: u8, content_type: &str, body: Vec<u8>) -> bool {
    async fn taken<T>(content_type: &str, body: Vec<u8>) -> Option<T>
    where
        Json<T>: FromRequest<(), Rejection = JsonRejection>,
    {
        let request = Request::builder()
            .method("POST")
            .header("content-type", content_type)
            .body(axum::body::Body::from(body))
            .ok()?;
        match ApiJson::<T>::from_request(request, &()).await {
            Ok(ApiJson(value)) => Some(value),
            Err(refused) => {
                let _ = refused.into_response();
                None
            }
        }
    }
    match route % 12 {
        0 => taken::<crate::console::product::ProductSpec>(content_type, body)
            .await
            .is_some_and(|spec| {
                let key = crate::protocol::AccessKey::new("fuzz-console-key");
                let keys = crate::marketplace::settings::InterfaceKeys::default();
                let _ = spec.display_name();
                spec.resolve(&key, &keys, "http://127.0.0.1:9").is_ok()
            }),
        1 => taken::<orders::PurchaseRequest>(content_type, body)
            .await
            .is_some(),
        2 => taken::<orders::ActRequest>(content_type, body)
            .await
            .is_some(),
        3 => taken::<orders::KitRequest>(content_type, body)
            .await
            .is_some(),
        4 => taken::<clock::Advance>(content_type, body)
            .await
            .is_some_and(|advance| advance.by.parse::<crate::marketplace::Span>().is_ok()),
        5 => taken::<clock::Freeze>(content_type, body).await.is_some(),
        6 => taken::<debug::DebugRequest>(content_type, body)
            .await
            .is_some(),
        7 => taken::<debug::RunCases>(content_type, body).await.is_some(),
        8 => taken::<runs::StartRun>(content_type, body).await.is_some(),
        9 => taken::<runs::Decide>(content_type, body).await.is_some(),
        10 => taken::<explorations::StartExploration>(content_type, body)
            .await
            .is_some_and(|start| (1..=100_000).contains(&start.steps)),
        _ => taken::<debug::ReproduceRequest>(content_type, body)
            .await
            .is_some_and(|paste| crate::reproduce::paste::read(&paste.request).is_ok()),
    }
}
