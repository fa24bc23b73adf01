//! Purchases, orders with their timelines, buyer and 联营 actions, and restarting a notice
//! whose retries ran out.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::console::http::App;
use crate::console::http::api::{ApiError, ApiJson, ApiResult};
use crate::console::journal::{BuyerAction, KitAction};
use crate::console::service::{AttemptOutcome, ConsoleError};
use crate::console::store::{AttemptRow, InstanceRow, NoticeRow, OrderRow};

/// `POST /api/purchases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PurchaseRequest {
    /// The product.
    pub(crate) product_id: i64,
    /// A trial.
    #[serde(default)]
    pub(crate) trial: bool,
}

/// A purchase's order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Purchased {
    /// The orderId.
    pub(crate) order_id: String,
    /// The instance's number within the product (what actions name).
    pub(crate) instance: i64,
    /// The instanceId the merchant returned, once accepted.
    pub(crate) instance_id: Option<String>,
    /// The attempts made before answering.
    pub(crate) attempts: Vec<AttemptOutcome>,
}

/// The buyer pays a new order.
#[utoipa::path(post, path = "/api/purchases", request_body = PurchaseRequest,
    responses((status = 201, body = Purchased), (status = 404, body = ApiError)))]
pub(crate) async fn purchase(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<PurchaseRequest>,
) -> Result<(StatusCode, Json<Purchased>), ConsoleError> {
    let (order_id, instance, instance_id, attempts) = app
        .service
        .purchase(request.product_id, request.trial)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Purchased {
            order_id,
            instance,
            instance_id,
            attempts,
        }),
    ))
}

/// An order with its instances and notices.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrderDetail {
    /// The order.
    #[serde(flatten)]
    pub(crate) order: OrderRow,
    /// The instances it created.
    pub(crate) instances: Vec<InstanceRow>,
    /// Every notice about it, with its attempts.
    pub(crate) notices: Vec<NoticeDetail>,
}

/// A notice and its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NoticeDetail {
    /// `<product>.<call>`, what `POST /api/notices/{id}/restart` takes.
    pub(crate) id: String,
    /// The notice.
    #[serde(flatten)]
    pub(crate) notice: NoticeRow,
    /// Its attempts, first first.
    pub(crate) attempt_log: Vec<AttemptRow>,
}

/// An order's timeline.
#[utoipa::path(get, path = "/api/orders/{order_id}", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderDetail), (status = 404, body = ApiError)))]
pub(crate) async fn order(
    State(app): State<Arc<App>>,
    Path(order_id): Path<String>,
) -> ApiResult<OrderDetail> {
    Ok(Json(order_detail(&app, &order_id)?))
}

/// An order, its instances, and its notices with their attempts.
pub(crate) fn order_detail(app: &App, order_id: &str) -> Result<OrderDetail, ConsoleError> {
    app.read(|r| {
        let Some(order) = r.order(order_id)? else {
            return Ok(None);
        };
        let instances = r.instances_of(order.product_id, order_id)?;
        let mut notices = Vec::new();
        for notice in r.notices_of(order.product_id, order_id)? {
            notices.push(NoticeDetail {
                id: format!("{}.{}", notice.product_id, notice.call),
                attempt_log: r.attempts_of(notice.product_id, notice.call)?,
                notice,
            });
        }
        Ok(Some(OrderDetail {
            order,
            instances,
            notices,
        }))
    })?
    .ok_or_else(|| ConsoleError::NotFound(format!("there is no order {order_id}")))
}

/// `POST /api/instances/actions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActRequest {
    /// The product.
    pub(crate) product_id: i64,
    /// The instance's number within the product.
    pub(crate) instance: usize,
    /// What to do.
    pub(crate) action: BuyerAction,
}

/// A buyer (or violation) action on an instance.
#[utoipa::path(post, path = "/api/instances/actions", request_body = ActRequest,
    responses((status = 200, body = Vec<AttemptOutcome>), (status = 409, body = ApiError)))]
pub(crate) async fn act(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<ActRequest>,
) -> ApiResult<Vec<AttemptOutcome>> {
    let outcomes = app
        .service
        .act(request.product_id, request.instance, request.action)
        .await?;
    Ok(Json(outcomes))
}

/// `POST /api/kit/actions`: `{"product_id": 1, "action": "bind-enterprise", "instance": 0}`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct KitRequest {
    /// The product (created with `kit_public_key`).
    pub(crate) product_id: i64,
    /// What happens, with what it names.
    #[serde(flatten)]
    pub(crate) action: KitAction,
}

/// 联营: something that makes the marketplace sync the Kit.
#[utoipa::path(post, path = "/api/kit/actions", request_body = KitRequest,
    responses((status = 200, body = Vec<AttemptOutcome>), (status = 409, body = ApiError)))]
pub(crate) async fn kit(
    State(app): State<Arc<App>>,
    ApiJson(request): ApiJson<KitRequest>,
) -> ApiResult<Vec<AttemptOutcome>> {
    Ok(Json(
        app.service.kit(request.product_id, request.action).await?,
    ))
}

/// Restarts a notice whose retries ran out (生产接口消息 > 重新启动).
#[utoipa::path(post, path = "/api/notices/{id}/restart", params(("id" = String, Path, description = "`<product>.<call>`")),
    responses((status = 200, body = Vec<AttemptOutcome>), (status = 409, body = ApiError)))]
pub(crate) async fn restart(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> ApiResult<Vec<AttemptOutcome>> {
    let (product, call) = parse_notice_id(&id)?;
    Ok(Json(app.service.restart(product, call).await?))
}

/// `<product>.<call>`.
fn parse_notice_id(id: &str) -> Result<(i64, usize), ConsoleError> {
    id.split_once('.')
        .and_then(|(p, c)| Some((p.parse().ok()?, c.parse().ok()?)))
        .ok_or_else(|| ConsoleError::Invalid(format!("{id:?} is not a notice id like 1.4")))
}
