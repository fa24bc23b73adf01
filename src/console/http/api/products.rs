//! Products: the console's health, the products, their orders and 联营 enterprises, and a
//! product's session exported as a scenario.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::console::clock::ConsoleClock;
use crate::console::http::App;
use crate::console::http::api::{ApiError, ApiJson, ApiResult, Paging, attachment};
use crate::console::product::ProductSpec;
use crate::console::service::ConsoleError;
use crate::console::store::{EnterpriseRow, OrderRow, ProductRow};

/// `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok` when the console answers.
    pub(crate) status: &'static str,
    /// Now on the console's clock (Unix ms).
    pub(crate) now: i64,
    /// The clock.
    pub(crate) clock: ClockState,
    /// Products configured.
    pub(crate) products: usize,
}

/// The clock's state.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClockState {
    /// Added to wall time (ms).
    pub(crate) offset_ms: i64,
    /// Where it stands, when frozen (Unix ms).
    pub(crate) frozen_at: Option<i64>,
}

impl From<ConsoleClock> for ClockState {
    fn from(clock: ConsoleClock) -> Self {
        Self {
            offset_ms: clock.offset_ms,
            frozen_at: clock.frozen_at,
        }
    }
}

/// The console's health and clock.
#[utoipa::path(get, path = "/api/health", responses((status = 200, body = Health)))]
pub(crate) async fn health(State(app): State<Arc<App>>) -> ApiResult<Health> {
    let products = app.read(|r| Ok(r.products()?.len()))?;
    let (clock, now) = app.clock_now();
    Ok(Json(Health {
        status: "ok",
        now: now.0,
        clock: clock.into(),
        products,
    }))
}

/// Every product.
#[utoipa::path(get, path = "/api/products", responses((status = 200, body = Vec<ProductRow>)))]
pub(crate) async fn products(State(app): State<Arc<App>>) -> ApiResult<Vec<ProductRow>> {
    Ok(Json(app.read(|r| r.products())?))
}

/// A created resource's id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Created {
    /// The id.
    pub(crate) id: i64,
}

/// Adds a product.
#[utoipa::path(post, path = "/api/products", request_body = ProductSpec,
    responses((status = 201, body = Created), (status = 400, body = ApiError)))]
pub(crate) async fn create_product(
    State(app): State<Arc<App>>,
    ApiJson(spec): ApiJson<ProductSpec>,
) -> Result<(StatusCode, Json<Created>), ConsoleError> {
    let id = app.service.create_product(&spec)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A product's orders, newest first.
#[utoipa::path(get, path = "/api/products/{id}/orders", params(("id" = i64, Path), ("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<OrderRow>)))]
pub(crate) async fn product_orders(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<OrderRow>> {
    Ok(Json(app.read(|r| r.orders(id, paging.page()))?))
}

/// 联营: the enterprises the Kit synced for a product.
#[utoipa::path(get, path = "/api/products/{id}/enterprises", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<EnterpriseRow>)))]
pub(crate) async fn enterprises(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> ApiResult<Vec<EnterpriseRow>> {
    Ok(Json(app.read(|r| r.enterprises(id))?))
}

/// A product's session as a scenario.
#[utoipa::path(get, path = "/api/products/{id}/scenario", params(("id" = i64, Path)),
    responses((status = 200, description = "The session as a YAML scenario", content_type = "application/yaml")))]
pub(crate) async fn export(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Response, ConsoleError> {
    let yaml = app.service.export(id).await?;
    Ok(attachment(
        "application/yaml; charset=utf-8",
        &format!("console-product-{id}.yaml"),
        yaml,
    ))
}
