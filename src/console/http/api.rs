//! The JSON API: everything the console's pages can do, for CI jobs and scripts. Its OpenAPI
//! document is generated from these handlers' annotations and served at `/api/openapi.json`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::console::clock::ConsoleClock;
use crate::console::http::App;
use crate::console::journal::{BuyerAction, KitAction};
use crate::console::product::ProductSpec;
use crate::console::service::{AttemptOutcome, ConsoleError, DebugOutcome, DialOutcome};
use crate::console::store::{
    AttemptRow, EnterpriseRow, InstanceRow, MerchantCallRow, NoticeRow, OrderRow, Page, ProductRow,
};
use crate::marketplace::clock::Span;

/// The OpenAPI document of the console's API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kgsim console API",
        description = "Drive the local KooGallery seller console: products, purchases, buyer actions, the test clock, notices, debug cases and dial tests."
    ),
    paths(
        health,
        products,
        create_product,
        product_orders,
        purchase,
        order,
        act,
        clock_advance,
        clock_next,
        clock_freeze,
        restart,
        debug_case,
        run_cases,
        log,
        export
    ),
    components(schemas(
        ProductSpec,
        ProductRow,
        OrderRow,
        InstanceRow,
        NoticeRow,
        AttemptRow,
        AttemptOutcome,
        DebugOutcome,
        DialOutcome,
        BuyerAction,
        Health,
        Created,
        PurchaseRequest,
        Purchased,
        OrderDetail,
        NoticeDetail,
        ActRequest,
        Advance,
        Freeze,
        ClockState,
        DebugRequest,
        RunCases,
        ApiError
    ))
)]
pub struct ApiDoc;

/// An error: what went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// The message.
    pub error: String,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = crate::console::http::status_of(&self);
        (
            status,
            Json(ApiError {
                error: self.to_string(),
            }),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ConsoleError>;

/// `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the console answers.
    pub status: &'static str,
    /// Now on the console's clock (Unix ms).
    pub now: i64,
    /// The clock.
    pub clock: ClockState,
    /// Products configured.
    pub products: usize,
}

/// The clock's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockState {
    /// Added to wall time (ms).
    pub offset_ms: i64,
    /// Where it stands, when frozen (Unix ms).
    pub frozen_at: Option<i64>,
}

impl From<ConsoleClock> for ClockState {
    fn from(clock: ConsoleClock) -> Self {
        Self {
            offset_ms: clock.offset_ms,
            frozen_at: clock.frozen_at,
        }
    }
}

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

#[utoipa::path(get, path = "/api/products", responses((status = 200, body = Vec<ProductRow>)))]
pub(crate) async fn products(State(app): State<Arc<App>>) -> ApiResult<Vec<ProductRow>> {
    Ok(Json(app.read(|r| r.products())?))
}

#[utoipa::path(get, path = "/api/products/{id}/orders", params(("id" = i64, Path), ("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<OrderRow>)))]
pub(crate) async fn product_orders(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<OrderRow>> {
    Ok(Json(app.read(|r| r.orders(id, paging.page()))?))
}

/// A created resource's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The id.
    pub id: i64,
}

#[utoipa::path(post, path = "/api/products", request_body = ProductSpec,
    responses((status = 201, body = Created), (status = 400, body = ApiError)))]
pub(crate) async fn create_product(
    State(app): State<Arc<App>>,
    Json(spec): Json<ProductSpec>,
) -> Result<(StatusCode, Json<Created>), ConsoleError> {
    let id = app.service.lock().await.create_product(&spec)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// `POST /api/purchases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseRequest {
    /// The product.
    pub product_id: i64,
    /// A trial.
    #[serde(default)]
    pub trial: bool,
}

/// A purchase's order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Purchased {
    /// The orderId.
    pub order_id: String,
    /// The instance's number within the product (what actions name).
    pub instance: i64,
    /// The instanceId the merchant returned, once accepted.
    pub instance_id: Option<String>,
    /// The attempts made before answering.
    pub attempts: Vec<AttemptOutcome>,
}

#[utoipa::path(post, path = "/api/purchases", request_body = PurchaseRequest,
    responses((status = 201, body = Purchased), (status = 404, body = ApiError)))]
pub(crate) async fn purchase(
    State(app): State<Arc<App>>,
    Json(request): Json<PurchaseRequest>,
) -> Result<(StatusCode, Json<Purchased>), ConsoleError> {
    let mut service = app.service.lock().await;
    let (order_id, instance, instance_id, attempts) =
        service.purchase(request.product_id, request.trial).await?;
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
pub struct OrderDetail {
    /// The order.
    #[serde(flatten)]
    pub order: OrderRow,
    /// The instances it created.
    pub instances: Vec<InstanceRow>,
    /// Every notice about it, with its attempts.
    pub notices: Vec<NoticeDetail>,
}

/// A notice and its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeDetail {
    /// `<product>.<call>`, what `POST /api/notices/{id}/restart` takes.
    pub id: String,
    /// The notice.
    #[serde(flatten)]
    pub notice: NoticeRow,
    /// Its attempts, first first.
    pub attempt_log: Vec<AttemptRow>,
}

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
pub struct ActRequest {
    /// The product.
    pub product_id: i64,
    /// The instance's number within the product.
    pub instance: usize,
    /// What to do.
    pub action: BuyerAction,
}

#[utoipa::path(post, path = "/api/instances/actions", request_body = ActRequest,
    responses((status = 200, body = Vec<AttemptOutcome>), (status = 409, body = ApiError)))]
pub(crate) async fn act(
    State(app): State<Arc<App>>,
    Json(request): Json<ActRequest>,
) -> ApiResult<Vec<AttemptOutcome>> {
    let mut service = app.service.lock().await;
    Ok(Json(
        service
            .act(request.product_id, request.instance, request.action)
            .await?,
    ))
}

/// `POST /api/kit/actions`: `{"product_id": 1, "action": "bind-enterprise", "instance": 0}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct KitRequest {
    /// The product (created with `kit_public_key`).
    pub product_id: i64,
    /// What happens, with what it names.
    #[serde(flatten)]
    pub action: KitAction,
}

#[utoipa::path(post, path = "/api/kit/actions", request_body = KitRequest,
    responses((status = 200, body = Vec<AttemptOutcome>), (status = 409, body = ApiError)))]
pub(crate) async fn kit(
    State(app): State<Arc<App>>,
    Json(request): Json<KitRequest>,
) -> ApiResult<Vec<AttemptOutcome>> {
    let mut service = app.service.lock().await;
    Ok(Json(service.kit(request.product_id, request.action).await?))
}

#[utoipa::path(get, path = "/api/products/{id}/enterprises", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<EnterpriseRow>)))]
pub(crate) async fn enterprises(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> ApiResult<Vec<EnterpriseRow>> {
    Ok(Json(app.read(|r| r.enterprises(id))?))
}

/// `POST /api/clock/advance`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Advance {
    /// A duration: `90s`, `3h`, `1d12h`, `2w`.
    pub by: String,
}

#[utoipa::path(post, path = "/api/clock/advance", request_body = Advance,
    responses((status = 200, body = Health), (status = 400, body = ApiError)))]
pub(crate) async fn clock_advance(
    State(app): State<Arc<App>>,
    Json(request): Json<Advance>,
) -> ApiResult<Health> {
    let by: Span = request.by.parse().map_err(|_| {
        ConsoleError::Invalid(format!(
            "{:?} is not a duration like 90s, 3h, 1d12h",
            request.by
        ))
    })?;
    {
        let mut service = app.service.lock().await;
        service.advance(by.as_millis()).await?;
        app.set_clock(&service);
    }
    health(State(app)).await
}

#[utoipa::path(post, path = "/api/clock/next", responses((status = 200, body = Health)))]
pub(crate) async fn clock_next(State(app): State<Arc<App>>) -> ApiResult<Health> {
    {
        let mut service = app.service.lock().await;
        service.next_event().await?;
        app.set_clock(&service);
    }
    health(State(app)).await
}

/// `POST /api/clock/freeze`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Freeze {
    /// Freeze (true) or thaw (false).
    pub frozen: bool,
}

#[utoipa::path(post, path = "/api/clock/freeze", request_body = Freeze, responses((status = 200, body = Health)))]
pub(crate) async fn clock_freeze(
    State(app): State<Arc<App>>,
    Json(request): Json<Freeze>,
) -> ApiResult<Health> {
    {
        let mut service = app.service.lock().await;
        service.set_frozen(request.frozen)?;
        app.set_clock(&service);
    }
    health(State(app)).await
}

#[utoipa::path(post, path = "/api/notices/{id}/restart", params(("id" = String, Path, description = "`<product>.<call>`")),
    responses((status = 200, body = Vec<AttemptOutcome>), (status = 409, body = ApiError)))]
pub(crate) async fn restart(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> ApiResult<Vec<AttemptOutcome>> {
    let (product, call) = parse_notice_id(&id)?;
    let mut service = app.service.lock().await;
    Ok(Json(service.restart(product, call).await?))
}

/// `<product>.<call>`.
pub(crate) fn parse_notice_id(id: &str) -> Result<(i64, usize), ConsoleError> {
    id.split_once('.')
        .and_then(|(p, c)| Some((p.parse().ok()?, c.parse().ok()?)))
        .ok_or_else(|| ConsoleError::Invalid(format!("{id:?} is not a notice id like 1.4")))
}

/// `POST /api/debug-cases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebugRequest {
    /// The product.
    pub product_id: i64,
    /// The interface (`new-instance`, `refresh-instance`, `instance-status` …).
    pub activity: String,
    /// Which of its cases (trialFlag, scene, status …); 0 when omitted.
    #[serde(default)]
    pub variant: usize,
    /// Send it (default); false only shows the signed request.
    #[serde(default = "yes")]
    pub send: bool,
    /// Save it as a dial-test case (default).
    #[serde(default = "yes")]
    pub save: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(post, path = "/api/debug-cases", request_body = DebugRequest,
    responses((status = 200, body = DebugOutcome), (status = 400, body = ApiError)))]
pub(crate) async fn debug_case(
    State(app): State<Arc<App>>,
    Json(request): Json<DebugRequest>,
) -> ApiResult<DebugOutcome> {
    let mut service = app.service.lock().await;
    let outcome = service
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
pub struct RunCases {
    /// The product.
    pub product_id: i64,
}

#[utoipa::path(post, path = "/api/debug-cases/run", request_body = RunCases,
    responses((status = 200, body = DialOutcome)))]
pub(crate) async fn run_cases(
    State(app): State<Arc<App>>,
    Json(request): Json<RunCases>,
) -> ApiResult<DialOutcome> {
    let mut service = app.service.lock().await;
    let now = service.now();
    Ok(Json(
        service
            .replay_cases(request.product_id, "replay", now)
            .await?,
    ))
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

#[utoipa::path(get, path = "/api/log", params(("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<AttemptRow>)))]
pub(crate) async fn log(
    State(app): State<Arc<App>>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<AttemptRow>> {
    Ok(Json(app.read(|r| r.log(paging.page()))?))
}

#[utoipa::path(get, path = "/api/merchant-calls", params(("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<MerchantCallRow>)))]
pub(crate) async fn merchant_calls(
    State(app): State<Arc<App>>,
    Query(paging): Query<Paging>,
) -> ApiResult<Vec<MerchantCallRow>> {
    app.service.lock().await.record_merchant_calls()?;
    Ok(Json(app.read(|r| r.merchant_calls(paging.page()))?))
}

#[utoipa::path(get, path = "/api/products/{id}/scenario", params(("id" = i64, Path)),
    responses((status = 200, description = "The session as a YAML scenario", content_type = "application/yaml")))]
pub(crate) async fn export(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Response, ConsoleError> {
    let yaml = app.service.lock().await.export(id)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/yaml; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"console-product-{id}.yaml\""),
            ),
        ],
        yaml,
    )
        .into_response())
}

/// `GET /api/openapi.json`.
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
