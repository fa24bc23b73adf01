//! The console's pages. Each page is a view model its handler loads from the database, and
//! a pure render function of it (snapshot-tested without a database): products ([`home`]),
//! a product with its buyer actions ([`product`]), the debug page with saved cases and dial
//! tests ([`debug`]), an order's timeline ([`order`]), 生产接口消息 ([`log`]), the
//! merchant's open-API calls ([`calls`]), 话单管理 — the usage records pushed ([`usage`]), a
//! suite run with its transcripts to review ([`run`]), an exploration and what it found
//! ([`exploration`]). Forms post to `/ui/…` ([`actions`]) with the start
//! token, checked once by the [`TokenForm`] extractor, and come back to a page.

mod actions;
mod calls;
mod debug;
mod exploration;
mod home;
mod log;
mod order;
mod product;
mod run;
mod usage;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use serde::de::DeserializeOwned;

use crate::console::http::view::Frame;
use crate::console::http::{App, BODY_CAP, status_of};
use crate::console::product::ProductSpec;
use crate::console::service::ConsoleError;
use crate::console::store::ProductRow;

/// The pages and the forms they post.
pub(super) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home::page))
        .route("/products/{id}", get(product::page))
        .route("/products/{id}/debug", get(debug::page))
        .route("/orders/{order_id}", get(order::page))
        .route("/runs/{run_id}", get(run::page))
        .route("/explorations/{id}", get(exploration::page))
        .route("/log", get(log::page))
        .route("/openapi", get(calls::page))
        .route("/usage-records", get(usage::page))
        .route("/ui/products", post(actions::create_product))
        .route("/ui/purchase", post(actions::purchase))
        .route("/ui/act", post(actions::act))
        .route("/ui/kit", post(actions::kit))
        .route("/ui/restart", post(actions::restart))
        .route("/ui/clock", post(actions::clock))
        .route("/ui/debug", post(debug::send))
        .route("/ui/reproduce", post(debug::reproduce))
        .route("/ui/replay", post(actions::replay))
        .route("/ui/runs", post(actions::start_run))
        .route("/ui/transcripts", post(actions::decide_transcript))
        .route("/ui/explorations", post(actions::start_exploration))
        .route("/ui/explorations/replay", post(actions::replay_exploration))
}

/// A page, or the error page.
type PageResult = Result<Html<String>, PageError>;

/// An error shown as a page.
pub(crate) struct PageError(StatusCode, String);

impl From<ConsoleError> for PageError {
    fn from(error: ConsoleError) -> Self {
        Self(status_of(&error), error.full_message())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.0, Html(error_page(&self.1).into_string())).into_response()
    }
}

fn error_page(message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "kgsim console: error" } }
            body {
                main {
                    p.error #error role="alert" { (message) }
                    p { a href="/" { "Back to the console" } }
                }
            }
        }
    }
}

/// The frame of a page titled `title`, as the console stands now.
fn frame(app: &App, title: &str) -> Frame {
    let (clock, now) = app.clock_now();
    Frame {
        title: title.to_owned(),
        token: app.guard.token.clone(),
        clock,
        now,
    }
}

/// Renders a page.
fn rendered(markup: Markup) -> Html<String> {
    Html(markup.into_string())
}

/// A product's row and its request.
fn product_of(app: &App, id: i64) -> Result<(ProductRow, ProductSpec), PageError> {
    let row = app
        .read(|r| r.product(id))?
        .ok_or_else(|| PageError(StatusCode::NOT_FOUND, format!("there is no product {id}")))?;
    let spec = serde_json::from_str(&row.spec)
        .map_err(|e| PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((row, spec))
}

/// A form posted by one of the console's pages: its start token checked (CSRF protection),
/// the rest decoded into `T`.
pub(crate) struct TokenForm<T>(pub(crate) T);

impl<T: DeserializeOwned + Send> FromRequest<Arc<App>> for TokenForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, PageError> {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, BODY_CAP)
            .await
            .map_err(|e| PageError(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()))?;
        let token = url::form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        if !app.guard.token_matches(&token) {
            return Err(PageError(
                StatusCode::FORBIDDEN,
                "the form's token is not this console's (CSRF protection): reload the page".into(),
            ));
        }
        let request = Request::from_parts(parts, Body::from(bytes));
        let Form(value) = Form::<T>::from_request(request, app)
            .await
            .map_err(|e| PageError(StatusCode::BAD_REQUEST, e.body_text()))?;
        Ok(Self(value))
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! What the pages' snapshot tests share.

    use maud::Markup;

    /// The start token the snapshots show.
    pub(crate) const TOKEN: &str = "T0KEN";

    /// Markup with a line break between tags, so that a snapshot's diff shows what changed.
    pub(crate) fn lines(markup: Markup) -> String {
        markup.into_string().replace("><", ">\n<")
    }
}
