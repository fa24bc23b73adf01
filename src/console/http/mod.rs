//! The console's HTTP side: one axum app serving the pages ([`pages`], rendered by pure
//! functions over view models through [`view`]), the JSON API ([`api`], each route
//! registered with its documentation) and the live call log (server-sent events), behind the
//! [`guard`].

pub(crate) mod api;
pub(crate) mod guard;
mod pages;
pub(crate) mod view;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::broadcast;

use crate::console::clock::ConsoleClock;
use crate::console::service::{AttemptOutcome, ConsoleError, RunEvent, Service};
use crate::console::store::{Reader, StoreError};
use crate::protocol::UnixMillis;
use crate::transport::wire::wall_clock;

/// Request bodies larger than this are refused (products and actions are small).
pub(crate) const BODY_CAP: usize = 64 * 1024;

/// What every handler shares.
pub struct App {
    /// The state; each change takes the locks it needs (one product's, never all of them).
    pub service: Arc<Service>,
    /// Reads never wait for a merchant: they go to SQLite directly.
    pub(crate) reader: Mutex<Reader>,
    /// The Host and CSRF checks.
    pub(crate) guard: guard::Guard,
}

impl App {
    /// Wraps an opened service.
    pub(crate) fn new(service: Service, reader: Reader, guard: guard::Guard) -> Self {
        Self {
            service: Arc::new(service),
            reader: Mutex::new(reader),
            guard,
        }
    }

    /// Runs a read on the reader connection.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Reader) -> Result<T, StoreError>,
    ) -> Result<T, ConsoleError> {
        let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        Ok(read(&reader)?)
    }

    /// The clock and now on it.
    pub(crate) fn clock_now(&self) -> (ConsoleClock, UnixMillis) {
        let clock = self.service.clock();
        (clock, clock.now(wall_clock()))
    }
}

/// The console's routes: pages, the documented API, the live log and the API's document.
pub(crate) fn router(app: Arc<App>) -> Router {
    let (api, document) = api::router().split_for_parts();
    let document = Arc::new(document);
    Router::new()
        .merge(pages::router())
        .merge(api)
        // Not in the document: a stream, and the document itself.
        .route("/api/events", get(events))
        .route("/api/runs/{run_id}/events", get(run_events))
        .route(
            "/api/explorations/{exploration_id}/events",
            get(exploration_events),
        )
        .route(
            "/api/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json((*document).clone()) }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(BODY_CAP))
        .layer(axum::middleware::from_fn_with_state(app.clone(), protect))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(app)
}

/// The HTTP status a refused or failed change answers with, on the pages and in the API.
pub(crate) fn status_of(error: &ConsoleError) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match error {
        ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
        ConsoleError::Invalid(_) | ConsoleError::Spec(_) => StatusCode::BAD_REQUEST,
        ConsoleError::Refused(_) => StatusCode::CONFLICT,
        ConsoleError::Store(_) | ConsoleError::Live(_) | ConsoleError::Encode(..) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
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

/// `GET /api/events`: every recorded attempt as it happens (server-sent events): the
/// attempt as the API reports it, with `row`, the call log's row for it as the pages render
/// it (the page inserts it as is, so a row is rendered in one place).
async fn events(
    State(app): State<Arc<App>>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let receiver = app.service.events().subscribe();
    let stream = broadcast_stream(Some(receiver), |outcome| Pick::Send(event_of(&outcome)));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /api/runs/{run_id}/events`: a live run's scenarios as each finishes, then one event
/// without a scenario when the run ends (server-sent events; nothing when it has ended).
async fn run_events(
    State(app): State<Arc<App>>,
    axum::extract::Path(run_id): axum::extract::Path<i64>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    // Subscribed before looking: a run that ends in between still sends its last event.
    let receiver = app.service.run_events().subscribe();
    let live = app.service.run_progress(run_id).is_some();
    // A run that already ended: the stream ends at once.
    let stream = broadcast_stream(live.then_some(receiver), move |event: RunEvent| {
        if event.run_id != run_id {
            return Pick::Skip;
        }
        let data = Event::default().data(serde_json::to_string(&event).unwrap_or_default());
        match event.scenario {
            Some(_) => Pick::Send(data),
            None => Pick::Last(data),
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /api/explorations/{exploration_id}/events`: a live exploration's progress as it
/// changes (server-sent events); the stream ends when the exploration does.
async fn exploration_events(
    State(app): State<Arc<App>>,
    axum::extract::Path(exploration_id): axum::extract::Path<i64>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    let watching = app.service.exploration_progress(exploration_id);
    let stream = futures_util::stream::unfold(watching, |watching| async move {
        let mut watching = watching?;
        // Closed when the exploration ended: the stream ends with it.
        watching.changed().await.ok()?;
        let data = serde_json::to_string(&*watching.borrow_and_update()).unwrap_or_default();
        Some((Ok(Event::default().data(data)), Some(watching)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// What a stream makes of one broadcast message.
enum Pick {
    /// Not for this stream.
    Skip,
    /// Sent.
    Send(Event),
    /// The stream's last, then the stream ends.
    Last(Event),
}

/// A server-sent-event stream of a broadcast channel's messages, each picked by `pick`; it
/// ends after a [`Pick::Last`] or when the channel closes (at once without a receiver), and
/// a subscriber that lagged skips what it missed.
fn broadcast_stream<T: Clone + Send + 'static>(
    receiver: Option<broadcast::Receiver<T>>,
    pick: impl FnMut(T) -> Pick + Send + 'static,
) -> impl futures_core::Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(receiver.map(|r| (r, pick)), |state| async move {
        let (mut receiver, mut pick) = state?;
        loop {
            match receiver.recv().await {
                Ok(message) => match pick(message) {
                    Pick::Skip => continue,
                    Pick::Send(event) => return Some((Ok(event), Some((receiver, pick)))),
                    Pick::Last(event) => return Some((Ok(event), None)),
                },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// One live-log event: the outcome's JSON with its rendered row.
fn event_of(outcome: &AttemptOutcome) -> Event {
    let mut value = serde_json::to_value(outcome).unwrap_or_default();
    let row = view::log_row(&view::LogRow::from(outcome), true).into_string();
    if let Some(object) = value.as_object_mut() {
        object.insert("row".into(), row.into());
    }
    Event::default().data(value.to_string())
}

/// Runs the wall clock: every `period`, brings every product up to now and runs the dial
/// tests that fell due (retries come at their real times unless the clock is moved). Each
/// product is ticked on its own task, so one that hangs never delays the others.
pub(crate) async fn ticker(app: Arc<App>, period: std::time::Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        // The product tasks log their own failures; the tick does not wait for them.
        if let Err(error) = app.service.tick().await {
            tracing::error!(%error, "tick: the dial schedule could not be saved");
        }
    }
}
