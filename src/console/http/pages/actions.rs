//! What the pages' forms post (`/ui/…`): each decoded by [`TokenForm`] (the start token
//! checked once, there), handed to the service, and answered with a redirect to a page.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Redirect;
use serde::Deserialize;

use crate::console::http::App;
use crate::console::http::pages::{PageError, TokenForm};
use crate::console::journal::{BuyerAction, KitAction};
use crate::console::product::ProductSpec;
use crate::console::vocab::{ClockOp, DialReason};
use crate::marketplace::clock::Span;
use crate::marketplace::kind::ProductType;
use crate::protocol::{BillingMode, Protocol};

type Redirected = Result<Redirect, PageError>;

/// The products page's form.
#[derive(Deserialize)]
pub(super) struct CreateForm {
    production_address: String,
    #[serde(default)]
    name: String,
    protocol: Protocol,
    billing: BillingMode,
    product: ProductType,
    #[serde(default)]
    order_notify: String,
    #[serde(default)]
    kit_public_key: String,
    #[serde(default)]
    scenarios: String,
    #[serde(default)]
    interfaces: String,
}

/// A list typed in one field, separated by spaces or commas.
fn words(text: &str) -> Vec<String> {
    text.split([' ', ','])
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Non-empty text, trimmed.
fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

pub(super) async fn create_product(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<CreateForm>,
) -> Redirected {
    let spec = ProductSpec {
        production_address: form.production_address.trim().to_owned(),
        name: given(&form.name),
        protocol: form.protocol,
        billing: form.billing,
        product: form.product,
        timeout_seconds: None,
        order_notify: given(&form.order_notify),
        kit_public_key: given(&form.kit_public_key),
        kit_oaep_digest: None,
        scenarios: given(&form.scenarios),
        interfaces: words(&form.interfaces),
    };
    let id = app.service.create_product(&spec)?;
    Ok(Redirect::to(&format!("/products/{id}")))
}

#[derive(Deserialize)]
pub(super) struct PurchaseForm {
    product_id: i64,
    #[serde(default)]
    trial: Option<String>,
}

pub(super) async fn purchase(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<PurchaseForm>,
) -> Redirected {
    let (order, ..) = app
        .service
        .purchase(form.product_id, form.trial.is_some())
        .await?;
    Ok(Redirect::to(&format!("/orders/{order}")))
}

#[derive(Deserialize)]
pub(super) struct ActForm {
    product_id: i64,
    instance: usize,
    action: BuyerAction,
}

pub(super) async fn act(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<ActForm>,
) -> Redirected {
    app.service
        .act(form.product_id, form.instance, form.action)
        .await?;
    Ok(Redirect::to(&format!("/products/{}", form.product_id)))
}

/// A 联营 button: its action, and what the action names.
#[derive(Deserialize)]
pub(super) struct KitForm {
    product_id: i64,
    #[serde(flatten)]
    action: KitFormAction,
}

/// [`KitAction`] as the form posts it: every number as text.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
enum KitFormAction {
    ApplyCredential,
    BindEnterprise { instance: String },
    AuthorizeUsers { enterprise: String, count: String },
    AddDepartment { enterprise: String },
}

impl KitFormAction {
    fn action(&self) -> Result<KitAction, PageError> {
        let number = |text: &str| {
            text.parse::<u32>().map_err(|_| {
                PageError(StatusCode::BAD_REQUEST, format!("{text:?} is not a number"))
            })
        };
        Ok(match self {
            Self::ApplyCredential => KitAction::ApplyCredential,
            Self::BindEnterprise { instance } => KitAction::BindEnterprise {
                instance: number(instance)? as usize,
            },
            Self::AuthorizeUsers { enterprise, count } => KitAction::AuthorizeUsers {
                enterprise: number(enterprise)? as usize,
                count: number(count)?.max(1),
            },
            Self::AddDepartment { enterprise } => KitAction::AddDepartment {
                enterprise: number(enterprise)? as usize,
            },
        })
    }
}

pub(super) async fn kit(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<KitForm>,
) -> Redirected {
    let action = form.action.action()?;
    app.service.kit(form.product_id, action).await?;
    Ok(Redirect::to(&format!("/products/{}", form.product_id)))
}

#[derive(Deserialize)]
pub(super) struct RestartForm {
    product_id: i64,
    call: usize,
}

pub(super) async fn restart(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    TokenForm(form): TokenForm<RestartForm>,
) -> Redirected {
    app.service.restart(form.product_id, form.call).await?;
    Ok(Redirect::to(&back(&headers)))
}

#[derive(Deserialize)]
pub(super) struct ClockForm {
    op: ClockOp,
    #[serde(default)]
    by: String,
}

pub(super) async fn clock(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    TokenForm(form): TokenForm<ClockForm>,
) -> Redirected {
    match form.op {
        ClockOp::Advance => {
            let by: Span = form.by.parse().map_err(|_| {
                PageError(
                    StatusCode::BAD_REQUEST,
                    format!("{:?} is not a duration", form.by),
                )
            })?;
            app.service.advance(by.as_millis()).await?;
        }
        ClockOp::Next => {
            app.service.next_event().await?;
        }
        ClockOp::Freeze => app.service.set_frozen(true)?,
        ClockOp::Thaw => app.service.set_frozen(false)?,
    }
    Ok(Redirect::to(&back(&headers)))
}

#[derive(Deserialize)]
pub(super) struct ReplayForm {
    product_id: i64,
}

pub(super) async fn replay(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<ReplayForm>,
) -> Redirected {
    app.service
        .replay_cases(form.product_id, DialReason::Replay, None)
        .await?;
    Ok(Redirect::to(&format!(
        "/products/{}/debug",
        form.product_id
    )))
}

/// The page a form was posted from (same origin only; the guard checked the origin).
fn back(headers: &HeaderMap) -> String {
    headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.strip_prefix("http://"))
        .and_then(|r| r.find('/').map(|i| r[i..].to_owned()))
        .filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or_else(|| "/".into())
}

#[derive(Deserialize)]
pub(super) struct RunForm {
    product_id: i64,
    /// Scenario patterns, separated by spaces or commas.
    #[serde(default)]
    scenarios: String,
}

pub(super) async fn start_run(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<RunForm>,
) -> Redirected {
    let patterns = words(&form.scenarios);
    let run = app.service.start_run(form.product_id, &patterns)?;
    Ok(Redirect::to(&format!("/runs/{run}")))
}

#[derive(Deserialize)]
pub(super) struct TranscriptForm {
    run_id: i64,
    file: String,
    decision: crate::console::http::api::runs::Decision,
}

pub(super) async fn decide_transcript(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<TranscriptForm>,
) -> Redirected {
    let accepted = matches!(
        form.decision,
        crate::console::http::api::runs::Decision::Accept
    );
    let row = app
        .service
        .decide_transcript(form.run_id, &form.file, accepted)?;
    Ok(Redirect::to(&format!(
        "/runs/{}#transcript-{}",
        form.run_id, row.position
    )))
}

#[derive(Deserialize)]
pub(super) struct ExploreForm {
    product_id: i64,
    /// Empty: a seed is drawn.
    #[serde(default)]
    seed: String,
    steps: String,
}

pub(super) async fn start_exploration(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<ExploreForm>,
) -> Redirected {
    let number = |text: &str, what: &str| {
        text.trim().parse::<u64>().map_err(|_| {
            PageError(
                StatusCode::BAD_REQUEST,
                format!("{what}: {text:?} is not a whole number"),
            )
        })
    };
    let seed = match form.seed.trim() {
        "" => None,
        text => Some(number(text, "seed")?),
    };
    let steps = number(&form.steps, "steps")? as usize;
    let id = app
        .service
        .start_exploration(form.product_id, seed, steps)?;
    Ok(Redirect::to(&format!("/explorations/{id}")))
}

#[derive(Deserialize)]
pub(super) struct ReplayExplorationForm {
    exploration_id: i64,
}

pub(super) async fn replay_exploration(
    State(app): State<Arc<App>>,
    TokenForm(form): TokenForm<ReplayExplorationForm>,
) -> Redirected {
    let exploration =
        crate::console::http::api::explorations::exploration_detail(&app, form.exploration_id)?
            .exploration;
    let run = app.service.replay_exploration(&exploration)?;
    Ok(Redirect::to(&format!("/runs/{run}")))
}
