//! The console's HTTP side: one axum app serving the pages, the JSON API and the live call
//! log (server-sent events), behind the [`guard`].

pub mod api;
pub mod guard;
pub mod html;
mod pages;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::broadcast;

use crate::console::clock::ConsoleClock;
use crate::console::service::{ConsoleError, Service};
use crate::console::store::{Reader, StoreError};
use crate::protocol::UnixMillis;
use crate::transport::wire::wall_clock;

/// Request bodies larger than this are refused (products and actions are small).
const BODY_CAP: usize = 64 * 1024;

/// What every handler shares.
pub struct App {
    /// The state; changes take the lock (and may hold it while the merchant answers).
    pub service: tokio::sync::Mutex<Service>,
    /// Reads never wait for the merchant: they go to SQLite directly.
    pub reader: Mutex<Reader>,
    /// The Host and CSRF checks.
    pub guard: guard::Guard,
    /// Every recorded attempt, for the live log.
    pub events: broadcast::Sender<String>,
    /// The clock as last set, so pages need not wait for the service lock.
    clock: Mutex<ConsoleClock>,
}

impl App {
    /// Wraps an opened service.
    pub fn new(service: Service, reader: Reader, guard: guard::Guard) -> Self {
        Self {
            clock: Mutex::new(service.clock()),
            events: service.events(),
            service: tokio::sync::Mutex::new(service),
            reader: Mutex::new(reader),
            guard,
        }
    }

    /// Runs a read on the reader connection.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Reader) -> Result<T, StoreError>,
    ) -> Result<T, ConsoleError> {
        let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        Ok(read(&reader)?)
    }

    /// The clock and now on it.
    pub fn clock_now(&self) -> (ConsoleClock, UnixMillis) {
        let clock = *self.clock.lock().unwrap_or_else(|p| p.into_inner());
        (clock, clock.now(wall_clock()))
    }

    /// Remembers the service's clock after a change.
    pub fn set_clock(&self, service: &Service) {
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = service.clock();
    }
}

/// The console's routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/products/{id}", get(pages::product))
        .route("/products/{id}/debug", get(pages::debug))
        .route("/orders/{order_id}", get(pages::order))
        .route("/log", get(pages::log))
        .route("/ui/products", post(pages::create_product))
        .route("/ui/purchase", post(pages::purchase))
        .route("/ui/act", post(pages::act))
        .route("/ui/kit", post(pages::kit))
        .route("/ui/restart", post(pages::restart))
        .route("/ui/clock", post(pages::clock))
        .route("/ui/debug", post(pages::debug_case))
        .route("/ui/replay", post(pages::replay))
        .route("/api/health", get(api::health))
        .route(
            "/api/products",
            get(api::products).post(api::create_product),
        )
        .route("/api/products/{id}/scenario", get(api::export))
        .route("/api/products/{id}/orders", get(api::product_orders))
        .route("/api/products/{id}/enterprises", get(api::enterprises))
        .route("/api/kit/actions", post(api::kit))
        .route("/api/purchases", post(api::purchase))
        .route("/api/orders/{order_id}", get(api::order))
        .route("/api/instances/actions", post(api::act))
        .route("/api/clock/advance", post(api::clock_advance))
        .route("/api/clock/next", post(api::clock_next))
        .route("/api/clock/freeze", post(api::clock_freeze))
        .route("/api/notices/{id}/restart", post(api::restart))
        .route("/api/debug-cases", post(api::debug_case))
        .route("/api/debug-cases/run", post(api::run_cases))
        .route("/api/log", get(api::log))
        .route("/api/merchant-calls", get(api::merchant_calls))
        .route("/openapi", get(pages::merchant_calls))
        .route("/api/events", get(events))
        .route("/api/openapi.json", get(api::openapi))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_CAP))
        .layer(axum::middleware::from_fn_with_state(app.clone(), protect))
        .with_state(app)
}

/// The HTTP status a refused or failed change answers with, on the pages and in the API.
pub(crate) fn status_of(error: &ConsoleError) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match error {
        ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
        ConsoleError::Invalid(_) => StatusCode::BAD_REQUEST,
        ConsoleError::Refused(_) => StatusCode::CONFLICT,
        ConsoleError::Store(_) | ConsoleError::Live(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Refuses foreign hosts and cross-site changes before any handler runs.
async fn protect(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match app.guard.check(request.method(), request.headers()) {
        Ok(()) => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            // The console is never framed by another page (clickjacking of its buttons).
            headers.insert(
                "x-frame-options",
                axum::http::HeaderValue::from_static("DENY"),
            );
            headers.insert(
                "x-content-type-options",
                axum::http::HeaderValue::from_static("nosniff"),
            );
            response
        }
        Err(refused) => (refused.status, refused.why).into_response(),
    }
}

/// `GET /api/events`: every recorded attempt as it happens (server-sent events).
async fn events(
    State(app): State<Arc<App>>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let receiver = app.events.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(data) => return Some((Ok(Event::default().data(data)), receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Runs the wall clock: every `period`, brings every product up to now and runs the dial
/// tests that fell due (retries come at their real times unless the clock is moved).
pub async fn ticker(app: Arc<App>, period: std::time::Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let mut service = app.service.lock().await;
        if let Err(error) = service.tick().await {
            eprintln!("kgsim serve: {error}");
        }
        app.set_clock(&service);
    }
}
