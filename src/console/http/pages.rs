//! The console's pages: products, a product with its buyer actions, the debug page with saved
//! cases and dial tests, an order's timeline, and 生产接口消息 (failed notices and the live
//! call log). Forms post to `/ui/…` with the start token and come back to a page.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::console::http::api::{Paging, order_detail};
use crate::console::http::html::{Frame, badge, button_form, esc, page, time};
use crate::console::http::{App, status_of};
use crate::console::journal::{BuyerAction, KitAction};
use crate::console::product::ProductSpec;
use crate::console::service::{ConsoleError, DebugOutcome};
use crate::console::store::{Counted, Page, ProductRow};

/// A page, or the error page.
type PageResult = Result<Html<String>, PageError>;

/// An error shown as a page.
pub(crate) struct PageError(StatusCode, String);

impl From<ConsoleError> for PageError {
    fn from(error: ConsoleError) -> Self {
        Self(status_of(&error), error.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>kgsim console: error</title><p class=\"error\" id=\"error\">{}</p><p><a href=\"/\">Back to the console</a></p>",
            esc(&self.1)
        );
        (self.0, Html(body)).into_response()
    }
}

fn framed(app: &App, title: &str, body: &str) -> Html<String> {
    let (clock, now) = app.clock_now();
    Html(page(
        &Frame {
            title,
            token: &app.guard.token,
            clock,
            now,
        },
        body,
    ))
}

fn product_of(app: &App, id: i64) -> Result<(ProductRow, ProductSpec), PageError> {
    let row = app
        .read(|r| r.product(id))?
        .ok_or_else(|| PageError(StatusCode::NOT_FOUND, format!("there is no product {id}")))?;
    let spec = serde_json::from_str(&row.spec)
        .map_err(|e| PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((row, spec))
}

/// `GET /`: products and the form that adds one.
pub(crate) async fn home(State(app): State<Arc<App>>) -> PageResult {
    let products = app.read(|r| r.products())?;
    let failed = app.read(|r| r.count(Counted::FailedNotices))?;
    let mut body = String::new();
    if failed > 0 {
        let _ = write!(
            body,
            "<p class=\"warn\"><a href=\"/log\">{failed} notice(s) failed</a>: restart them on 生产接口消息.</p>"
        );
    }
    body.push_str("<table id=\"products\"><tr><th>#</th><th>Product</th><th>Protocol</th><th>Billing</th><th>Type</th><th>Production address</th><th>Trading</th></tr>");
    for product in &products {
        let spec: Option<ProductSpec> = serde_json::from_str(&product.spec).ok();
        let spec = spec.as_ref();
        let _ = write!(
            body,
            "<tr><td>{id}</td><td><a href=\"/products/{id}\">{name}</a></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(spec.map_or("", |s| &s.protocol)),
            esc(spec.map_or("", |s| &s.billing)),
            esc(spec.map_or("", |s| &s.product)),
            esc(spec.map_or("", |s| &s.production_address)),
            if product.trading_frozen {
                badge("frozen")
            } else {
                badge("active")
            },
            id = product.id,
            name = esc(&product.name),
        );
    }
    if products.is_empty() {
        body.push_str("<tr><td colspan=\"7\">No product yet: add one below, pointing at your production interface.</td></tr>");
    }
    body.push_str("</table>");
    let _ = write!(
        body,
        r#"<h2>Add a product</h2><form method="post" action="/ui/products" class="panel" id="create-product-form">
<input type="hidden" name="token" value="{token}">
<label>Production address <input type="text" name="production_address" id="production-address" size="48" placeholder="http://127.0.0.1:8080/produceAPI" required></label>
<label>Name <input type="text" name="name" id="product-name"></label><br>
<label>Protocol {protocol}</label>
<label>Billing {billing}</label>
<label>Type {kind}</label><br>
<label>Order notification address (V2, optional) <input type="text" name="order_notify" id="order-notify" size="40"></label><br>
<label>联营 Kit: the merchant's RSA public key, PEM (V2 SaaS, optional)<br><textarea name="kit_public_key" id="kit-public-key" rows="3" cols="64"></textarea></label>
<button type="submit" id="create-product">Add product</button></form>"#,
        token = esc(&app.guard.token),
        protocol = select("protocol", &["v1", "v2"]),
        billing = select("billing", &["period", "one-time", "on-demand", "package"]),
        kind = select("product", &["saas", "license-code", "online-license"]),
    );
    Ok(framed(&app, "Products", &body))
}

fn select(name: &str, options: &[&str]) -> String {
    let mut out = format!("<select name=\"{0}\" id=\"{0}\">", esc(name));
    for option in options {
        let _ = write!(out, "<option>{}</option>", esc(option));
    }
    out.push_str("</select>");
    out
}

/// `GET /products/{id}`: the product, buyer actions, instances and orders.
pub(crate) async fn product(State(app): State<Arc<App>>, Path(id): Path<i64>) -> PageResult {
    let (row, spec) = product_of(&app, id)?;
    let token = app.guard.token.clone();
    let mut body = String::new();
    if row.trading_frozen {
        body.push_str("<p class=\"error\" id=\"trading-frozen\">Trading frozen and the product hidden: its dial tests failed five days running. Fix the interface, then replay all saved cases on the debug page.</p>");
    }
    body.push_str(&product_panel(&app, id, &spec)?);
    let _ = write!(
        body,
        r#"<h2>Buyer</h2><form method="post" action="/ui/purchase" class="panel"><input type="hidden" name="token" value="{}"><input type="hidden" name="product_id" value="{id}"><label><input type="checkbox" name="trial" value="1" id="trial"> Trial</label><button type="submit" id="buy">Buy</button></form>"#,
        esc(&token)
    );
    body.push_str(&instances_table(&app, id, &spec, &token)?);
    if spec.kit_public_key.is_some() {
        body.push_str(&kit_section(&app, id, &token)?);
    }
    let orders = app.read(|r| r.orders(id, Page::first(50)))?;
    body.push_str("<h2>Orders</h2><table id=\"orders\"><tr><th>Order</th><th>Kind</th><th>Status</th><th>Placed</th><th>Settled</th></tr>");
    for order in &orders {
        let _ = write!(
            body,
            "<tr><td><a href=\"/orders/{o}\">{o}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&order.kind),
            badge(&order.status),
            time(order.placed_at),
            order.settled_at.map(time).unwrap_or_default(),
            o = esc(&order.order_id),
        );
    }
    body.push_str("</table>");
    Ok(framed(&app, &row.name, &body))
}

/// What a product is: address, kind, keys' fingerprints, interfaces, links.
fn product_panel(app: &App, id: i64, spec: &ProductSpec) -> Result<String, PageError> {
    // Keys' fingerprints by interface type; the keys themselves come from the environment.
    let mut fingerprints = Vec::new();
    for (meta, what) in [
        ("key.fingerprint", "basic"),
        ("key.kit.fingerprint", "kit"),
        ("key.license-code.fingerprint", "license-code"),
        ("key.notify.fingerprint", "notify"),
    ] {
        if let Some(print) = app.read(|r| r.meta(meta))?.filter(|p| !p.is_empty()) {
            fingerprints.push(format!("{what} <code>{}</code>", esc(&print)));
        }
    }
    let interfaces = spec
        .interfaces()
        .iter()
        .map(|(a, required)| {
            let need = if *required { "required" } else { "optional" };
            format!(
                "{} <span class=\"muted\">({}, {need})</span>",
                esc(a.slug()),
                a.interface_type().name()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!(
        "<div class=\"panel\"><b>Production address</b> <code>{}</code><br><b>Protocol</b> {} · <b>Billing</b> {} · <b>Type</b> {}<br><b>Keys</b> (fingerprints; the keys come from the environment and are never stored) {}{}<br><b>Interfaces</b> {interfaces}<br><a href=\"/products/{id}/debug\">接口调试 · Debug page</a> · <a href=\"/api/products/{id}/scenario\" id=\"export\">Export as scenario</a></div>",
        esc(&spec.production_address),
        esc(&spec.protocol),
        esc(&spec.billing),
        esc(&spec.product),
        fingerprints.join(", "),
        spec.order_notify
            .as_deref()
            .map(|url| format!("<br><b>Order notification</b> <code>{}</code>", esc(url)))
            .unwrap_or_default(),
    ))
}

/// 联营: the enterprises the Kit synced, and what makes it sync.
fn kit_section(app: &App, id: i64, token: &str) -> Result<String, PageError> {
    let enterprises = app.read(|r| r.enterprises(id))?;
    let kit_form = |action: &str, extra: &[(&str, String)], label: &str, element: String| {
        let mut fields = vec![
            ("product_id", id.to_string()),
            ("action", action.to_owned()),
        ];
        fields.extend(extra.iter().cloned());
        button_form("/ui/kit", token, &fields, label, &element)
    };
    let mut body = format!(
        "<h2>联营 · Kit</h2><p>{}</p><table id=\"enterprises\"><tr><th>#</th><th>Enterprise</th><th>tenantId</th><th>appId / client_id</th><th>Instance</th><th>Users</th><th>Departments</th><th></th></tr>",
        kit_form(
            "apply-credential",
            &[],
            "Apply for the app credential",
            "kit-apply-credential".into()
        )
    );
    for enterprise in &enterprises {
        let n = enterprise.reference;
        let _ = write!(
            body,
            "<tr><td>{n}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code> / <code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            esc(&enterprise.name),
            esc(&enterprise.tenant_id),
            esc(&enterprise.app_id),
            esc(&enterprise.client_id),
            enterprise
                .instance_ref
                .map(|i| i.to_string())
                .unwrap_or_else(|| "credential".into()),
            enterprise.users,
            enterprise.departments,
            kit_form(
                "authorize-users",
                &[("enterprise", n.to_string()), ("count", "1".into())],
                "Authorize a user",
                format!("kit-authorize-{n}")
            ),
            kit_form(
                "add-department",
                &[("enterprise", n.to_string())],
                "Add a department",
                format!("kit-department-{n}")
            ),
        );
    }
    body.push_str("</table>");
    Ok(body)
}

/// A product's latest instances, each with the buyer's actions.
fn instances_table(
    app: &App,
    id: i64,
    spec: &ProductSpec,
    token: &str,
) -> Result<String, PageError> {
    let instances = app.read(|r| r.instances(id, Page::first(50)))?;
    // License 2.0 products: the code the marketplace issued stands where an instanceId would.
    let id_column = if spec.product == "license-code" {
        "License code"
    } else {
        "instanceId"
    };
    let mut body = format!(
        "<h2>Instances</h2><table id=\"instances\"><tr><th>#</th><th>Order</th><th>{id_column}</th><th>State</th><th>Billing</th><th>Expires</th><th>Actions</th></tr>"
    );
    for instance in &instances {
        let mut actions: String = BuyerAction::ALL
            .iter()
            .map(|action| {
                button_form(
                    "/ui/act",
                    token,
                    &[
                        ("product_id", id.to_string()),
                        ("instance", instance.reference.to_string()),
                        ("action", action.name().into()),
                    ],
                    action.name(),
                    &format!("act-{}-{}", action.name(), instance.reference),
                )
            })
            .collect();
        if spec.kit_public_key.is_some() {
            actions.push_str(&button_form(
                "/ui/kit",
                token,
                &[
                    ("product_id", id.to_string()),
                    ("action", "bind-enterprise".into()),
                    ("instance", instance.reference.to_string()),
                ],
                "bind-enterprise",
                &format!("kit-bind-{}", instance.reference),
            ));
        }
        let _ = write!(
            body,
            "<tr><td>{}</td><td><a href=\"/orders/{o}\">{o}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>",
            instance.reference,
            esc(instance.instance_id.as_deref().unwrap_or("")),
            badge(&instance.state),
            esc(&instance.billing),
            instance.expire_at.map(time).unwrap_or_default(),
            o = esc(&instance.order_id),
        );
    }
    body.push_str("</table>");
    Ok(body)
}

/// `GET /products/{id}/debug`: the debug page, saved cases, dial tests.
pub(crate) async fn debug(State(app): State<Arc<App>>, Path(id): Path<i64>) -> PageResult {
    debug_page(&app, id, None)
}

fn debug_page(app: &App, id: i64, result: Option<&DebugOutcome>) -> PageResult {
    let (row, spec) = product_of(app, id)?;
    let token = esc(&app.guard.token);
    let activities: Vec<&str> = spec.interfaces().iter().map(|(a, _)| a.slug()).collect();
    let mut body = format!(
        r#"<p><a href="/products/{id}">← {name}</a></p>
<form method="post" action="/ui/debug" class="panel" id="debug-form"><input type="hidden" name="token" value="{token}"><input type="hidden" name="product_id" value="{id}">
<label>Interface {select}</label><label>Case <input type="text" name="variant" value="0" size="3" id="variant"></label>
<button type="submit" name="op" value="preview" id="generate">生成请求命令 · Generate request</button>
<button type="submit" name="op" value="send" id="debug-save">调测并保存用例 · Debug and save case</button></form>"#,
        name = esc(&row.name),
        select = select("activity", &activities),
    );
    if let Some(result) = result {
        body.push_str("<div class=\"panel\" id=\"debug-result\">");
        if let Some(outcome) = &result.outcome {
            let _ = write!(
                body,
                "<p>{} {} {}</p>",
                badge(&outcome.verdict),
                esc(outcome.check_id.as_deref().unwrap_or("")),
                esc(outcome
                    .message
                    .as_deref()
                    .unwrap_or("调测成功 · the console accepts the answer"))
            );
        }
        let _ = write!(body, "<pre id=\"curl\">{}</pre></div>", esc(&result.curl));
    }
    let cases = app.read(|r| r.debug_cases(id))?;
    body.push_str("<h2>Saved cases</h2><p class=\"muted\">Replayed twice a day as dial tests (00:00 and 12:00 Beijing time) and after every product edit; five days running with a failure freeze trading and hide the product.</p><table id=\"cases\"><tr><th>#</th><th>Interface</th><th>Case</th><th>Last verdict</th></tr>");
    for case in &cases {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            case.id,
            esc(&case.activity),
            case.variant,
            case.last_verdict.as_deref().map(badge).unwrap_or_default()
        );
    }
    body.push_str("</table>");
    body.push_str(&button_form(
        "/ui/replay",
        &app.guard.token,
        &[("product_id", id.to_string())],
        "Replay all",
        "replay-all",
    ));
    let runs = app.read(|r| r.dial_runs(id, 30))?;
    body.push_str("<h2>Dial tests</h2><table id=\"dial-runs\"><tr><th>When</th><th>Day</th><th>Why</th><th>Passed</th><th>Failed</th></tr>");
    for run in &runs {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            time(run.at),
            esc(&run.day),
            esc(&run.reason),
            run.passed,
            if run.failed > 0 {
                badge(&run.failed.to_string())
            } else {
                "0".into()
            }
        );
    }
    body.push_str("</table>");
    Ok(framed(app, "接口调试 · Debug page", &body))
}

/// `GET /orders/{order_id}`: an order's lifecycle timeline.
pub(crate) async fn order(State(app): State<Arc<App>>, Path(order_id): Path<String>) -> PageResult {
    let detail = order_detail(&app, &order_id)?;
    let token = app.guard.token.clone();
    let order = &detail.order;
    let mut body = format!(
        "<p><a href=\"/products/{p}\">← product {p}</a></p><div class=\"panel\">Status {} · {} · placed {}{}</div>",
        badge(&order.status),
        esc(&order.kind),
        time(order.placed_at),
        order
            .settled_at
            .map(|t| format!(" · settled {}", time(t)))
            .unwrap_or_default(),
        p = order.product_id,
    );
    for instance in &detail.instances {
        let _ = write!(
            body,
            "<p>Instance {} · <code>{}</code> · {}</p>",
            instance.reference,
            esc(instance
                .instance_id
                .as_deref()
                .unwrap_or("no instanceId yet")),
            badge(&instance.state)
        );
    }
    body.push_str("<h2>Timeline</h2><table id=\"timeline\"><tr><th>When</th><th>Notice</th><th>Attempt</th><th>Verdict</th><th>Check</th><th>Message</th><th>Exchange</th></tr>");
    for notice in &detail.notices {
        for attempt in &notice.attempt_log {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{} <span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>request / answer</summary><pre>{}\n{}</pre><pre>HTTP {}\n{}</pre></details></td></tr>",
                time(attempt.at),
                esc(&attempt.activity),
                esc(&notice.id),
                attempt.number,
                badge(&attempt.verdict),
                esc(attempt.check_id.as_deref().unwrap_or("")),
                esc(attempt.message.as_deref().unwrap_or("")),
                esc(attempt.url.as_deref().unwrap_or("")),
                esc(attempt.request.as_deref().unwrap_or("")),
                attempt
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
                esc(attempt.answer.as_deref().unwrap_or("")),
            );
        }
        if notice.notice.state == "exhausted" && !notice.notice.probe {
            let _ = write!(
                body,
                "<tr><td colspan=\"7\">{} retries ran out · {}</td></tr>",
                esc(&notice.notice.activity),
                button_form(
                    "/ui/restart",
                    &token,
                    &[
                        ("product_id", notice.notice.product_id.to_string()),
                        ("call", notice.notice.call.to_string())
                    ],
                    "重新启动 · Restart",
                    &format!("restart-{}", notice.id.replace('.', "-"))
                )
            );
        }
    }
    body.push_str("</table>");
    Ok(framed(&app, &format!("Order {order_id}"), &body))
}

/// `GET /log`: 生产接口消息 — failed notices with restart, and the live call log.
pub(crate) async fn log(State(app): State<Arc<App>>, Query(paging): Query<Paging>) -> PageResult {
    let token = app.guard.token.clone();
    let failed = app.read(|r| r.failed_notices(Page::first(100)))?;
    let mut body = String::from(
        "<h2>Failed notices</h2><table id=\"failed\"><tr><th>Product</th><th>Notice</th><th>Order</th><th>Attempts</th><th>First due</th><th></th></tr>",
    );
    for notice in &failed {
        let _ = write!(
            body,
            "<tr><td>{p}</td><td>{}</td><td><a href=\"/orders/{o}\">{o}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&notice.activity),
            notice.attempts,
            time(notice.first_due),
            button_form(
                "/ui/restart",
                &token,
                &[
                    ("product_id", notice.product_id.to_string()),
                    ("call", notice.call.to_string())
                ],
                "重新启动 · Restart",
                &format!("restart-{}-{}", notice.product_id, notice.call)
            ),
            p = notice.product_id,
            o = esc(notice.order_id.as_deref().unwrap_or("")),
        );
    }
    if failed.is_empty() {
        body.push_str("<tr><td colspan=\"6\">None.</td></tr>");
    }
    body.push_str("</table>");
    let page_of = paging.page();
    let total = app.read(|r| r.count(Counted::Attempts))?;
    let attempts = app.read(|r| r.log(page_of))?;
    let _ = write!(
        body,
        "<h2>Call log <span class=\"muted\">({total} attempts, newest first, live)</span></h2><table><thead><tr><th>Product</th><th>Attempt</th><th>Verdict</th><th>Check</th><th>Message</th></tr></thead><tbody id=\"live-log\">"
    );
    for attempt in &attempts {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{} #{} <span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            attempt.product_id,
            esc(&attempt.activity),
            attempt.number,
            time(attempt.at),
            badge(&attempt.verdict),
            esc(attempt.check_id.as_deref().unwrap_or("")),
            esc(attempt.message.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</tbody></table>");
    let next = page_of.offset + page_of.limit;
    if i64::from(next) < total {
        let _ = write!(
            body,
            "<p><a href=\"/log?offset={next}&limit={}\">Older →</a></p>",
            page_of.limit
        );
    }
    Ok(framed(&app, "生产接口消息 · Call log", &body))
}

/// `GET /openapi`: the calls the merchant made to the open APIs and the identity centre.
pub(crate) async fn merchant_calls(
    State(app): State<Arc<App>>,
    Query(paging): Query<Paging>,
) -> PageResult {
    app.service.lock().await.record_merchant_calls()?;
    let calls = app.read(|r| r.merchant_calls(paging.page()))?;
    let mut body = String::from(
        "<p class=\"muted\">Served with <code>kgsim serve --openapi-listen ADDR</code>: query-order, usage push, License and the identity centre answer from this console's orders and instances.</p><table id=\"merchant-calls\"><tr><th>When</th><th>Product</th><th>Endpoint</th><th>Request</th><th>Status</th><th>Findings</th></tr>",
    );
    for call in &calls {
        let findings: Vec<serde_json::Value> =
            serde_json::from_str(&call.findings).unwrap_or_default();
        let findings: String = findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}<br>",
                    badge(f["check"].as_str().unwrap_or("")),
                    esc(f["message"].as_str().unwrap_or(""))
                )
            })
            .collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            time(call.at),
            call.product_id.map(|p| p.to_string()).unwrap_or_default(),
            esc(&call.endpoint),
            esc(&call.request_line),
            call.status,
            if findings.is_empty() {
                badge("accepted")
            } else {
                findings
            },
        );
    }
    if calls.is_empty() {
        body.push_str("<tr><td colspan=\"6\">No call yet.</td></tr>");
    }
    body.push_str("</table>");
    Ok(framed(&app, "Open-API calls", &body))
}

/// Every form carries the start token.
fn check_token(app: &App, token: &str) -> Result<(), PageError> {
    if app.guard.token_matches(token) {
        Ok(())
    } else {
        Err(PageError(
            StatusCode::FORBIDDEN,
            "the form's token is not this console's (CSRF protection): reload the page".into(),
        ))
    }
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    token: String,
    production_address: String,
    #[serde(default)]
    name: String,
    protocol: String,
    billing: String,
    product: String,
    #[serde(default)]
    order_notify: String,
    #[serde(default)]
    kit_public_key: String,
}

pub(crate) async fn create_product(
    State(app): State<Arc<App>>,
    Form(form): Form<CreateForm>,
) -> Result<Redirect, PageError> {
    check_token(&app, &form.token)?;
    let spec = ProductSpec {
        production_address: form.production_address.trim().to_owned(),
        name: Some(form.name).filter(|n| !n.trim().is_empty()),
        protocol: form.protocol,
        billing: form.billing,
        product: form.product,
        timeout_seconds: None,
        order_notify: Some(form.order_notify.trim().to_owned()).filter(|u| !u.is_empty()),
        kit_public_key: Some(form.kit_public_key.trim().to_owned()).filter(|k| !k.is_empty()),
        kit_oaep_digest: None,
    };
    let id = app.service.lock().await.create_product(&spec)?;
    Ok(Redirect::to(&format!("/products/{id}")))
}

#[derive(Deserialize)]
pub(crate) struct PurchaseForm {
    token: String,
    product_id: i64,
    #[serde(default)]
    trial: Option<String>,
}

pub(crate) async fn purchase(
    State(app): State<Arc<App>>,
    Form(form): Form<PurchaseForm>,
) -> Result<Redirect, PageError> {
    check_token(&app, &form.token)?;
    let (order, ..) = app
        .service
        .lock()
        .await
        .purchase(form.product_id, form.trial.is_some())
        .await?;
    Ok(Redirect::to(&format!("/orders/{order}")))
}

#[derive(Deserialize)]
pub(crate) struct ActForm {
    token: String,
    product_id: i64,
    instance: usize,
    action: BuyerAction,
}

pub(crate) async fn act(
    State(app): State<Arc<App>>,
    Form(form): Form<ActForm>,
) -> Result<Redirect, PageError> {
    check_token(&app, &form.token)?;
    app.service
        .lock()
        .await
        .act(form.product_id, form.instance, form.action)
        .await?;
    Ok(Redirect::to(&format!("/products/{}", form.product_id)))
}

#[derive(Deserialize)]
pub(crate) struct KitForm {
    token: String,
    product_id: i64,
    action: String,
    #[serde(default)]
    instance: usize,
    #[serde(default)]
    enterprise: usize,
    #[serde(default)]
    count: u32,
}

pub(crate) async fn kit(
    State(app): State<Arc<App>>,
    Form(form): Form<KitForm>,
) -> Result<Redirect, PageError> {
    check_token(&app, &form.token)?;
    let action = match form.action.as_str() {
        "apply-credential" => KitAction::ApplyCredential,
        "bind-enterprise" => KitAction::BindEnterprise {
            instance: form.instance,
        },
        "authorize-users" => KitAction::AuthorizeUsers {
            enterprise: form.enterprise,
            count: form.count.max(1),
        },
        "add-department" => KitAction::AddDepartment {
            enterprise: form.enterprise,
        },
        other => {
            return Err(PageError(
                StatusCode::BAD_REQUEST,
                format!("unknown Kit action {other:?}"),
            ));
        }
    };
    app.service
        .lock()
        .await
        .kit(form.product_id, action)
        .await?;
    Ok(Redirect::to(&format!("/products/{}", form.product_id)))
}

#[derive(Deserialize)]
pub(crate) struct RestartForm {
    token: String,
    product_id: i64,
    call: usize,
}

pub(crate) async fn restart(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<RestartForm>,
) -> Result<Redirect, PageError> {
    check_token(&app, &form.token)?;
    app.service
        .lock()
        .await
        .restart(form.product_id, form.call)
        .await?;
    Ok(Redirect::to(&back(&headers)))
}

#[derive(Deserialize)]
pub(crate) struct ClockForm {
    token: String,
    op: String,
    #[serde(default)]
    by: String,
}

pub(crate) async fn clock(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<ClockForm>,
) -> Result<Redirect, PageError> {
    check_token(&app, &form.token)?;
    let mut service = app.service.lock().await;
    match form.op.as_str() {
        "advance" => {
            let by: crate::marketplace::clock::Span = form.by.parse().map_err(|_| {
                PageError(
                    StatusCode::BAD_REQUEST,
                    format!("{:?} is not a duration", form.by),
                )
            })?;
            service.advance(by.as_millis()).await?;
        }
        "next" => {
            service.next_event().await?;
        }
        "freeze" => service.set_frozen(true)?,
        "thaw" => service.set_frozen(false)?,
        other => {
            return Err(PageError(
                StatusCode::BAD_REQUEST,
                format!("unknown clock operation {other:?}"),
            ));
        }
    }
    app.set_clock(&service);
    Ok(Redirect::to(&back(&headers)))
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
pub(crate) struct DebugForm {
    token: String,
    product_id: i64,
    activity: String,
    #[serde(default)]
    variant: String,
    op: String,
}

pub(crate) async fn debug_case(
    State(app): State<Arc<App>>,
    Form(form): Form<DebugForm>,
) -> PageResult {
    check_token(&app, &form.token)?;
    let variant = form.variant.trim().parse().unwrap_or(0);
    let send = form.op == "send";
    let outcome = app
        .service
        .lock()
        .await
        .debug(form.product_id, &form.activity, variant, send, send)
        .await?;
    debug_page(&app, form.product_id, Some(&outcome))
}

#[derive(Deserialize)]
pub(crate) struct ReplayForm {
    token: String,
    product_id: i64,
}

pub(crate) async fn replay(
    State(app): State<Arc<App>>,
    Form(form): Form<ReplayForm>,
) -> Result<Redirect, PageError> {
    check_token(&app, &form.token)?;
    let mut service = app.service.lock().await;
    let now = service.now();
    service.replay_cases(form.product_id, "replay", now).await?;
    Ok(Redirect::to(&format!(
        "/products/{}/debug",
        form.product_id
    )))
}
