//! `GET /orders/{order_id}`: an order's lifecycle timeline — every attempt of every notice
//! about it, with what was sent, what came back and the verdict; a notice whose retries ran
//! out can be restarted from here.

use std::sync::Arc;

use axum::extract::{Path, State};
use maud::{Markup, html};

use crate::console::http::App;
use crate::console::http::api::order_detail;
use crate::console::http::pages::{PageResult, frame, rendered};
use crate::console::http::view::{badge, beijing, button_form, page as framed};

pub(crate) use crate::console::http::api::OrderDetail;

pub(super) async fn page(State(app): State<Arc<App>>, Path(order_id): Path<String>) -> PageResult {
    let detail = order_detail(&app, &order_id)?;
    let frame = frame(&app, &format!("Order {order_id}"));
    Ok(rendered(framed(&frame, &content(&detail, &frame.token))))
}

/// The order page's content.
pub(crate) fn content(detail: &OrderDetail, token: &str) -> Markup {
    let order = &detail.order;
    html! {
        p { a href={ "/products/" (order.product_id) } { "← product " (order.product_id) } }
        div.panel {
            "Status " (badge(&order.status)) " · " (order.kind) " · placed " (beijing(order.placed_at))
            @if let Some(at) = order.settled_at { " · settled " (beijing(at)) }
        }
        @for instance in &detail.instances {
            p { "Instance " (instance.reference) " · " code { (instance.instance_id.as_deref().unwrap_or("no instanceId yet")) } " · " (badge(&instance.state)) }
        }
        h2 { "Timeline" }
        div.scroll {
            table #timeline {
                tr { th { "When" } th { "Notice" } th { "Attempt" } th { "Verdict" } th { "Check" } th { "Message" } th { "Exchange" } }
                @for notice in &detail.notices {
                    @for attempt in &notice.attempt_log {
                        tr {
                            td { (beijing(attempt.at)) }
                            td { (attempt.activity) " " span.muted { (notice.id) } }
                            td { (attempt.number) }
                            td { (badge(attempt.verdict.slug())) }
                            td { (attempt.check_id.as_deref().unwrap_or("")) }
                            td { (attempt.message.as_deref().unwrap_or("")) }
                            td {
                                details {
                                    summary { "request / answer" }
                                    pre { (attempt.url.as_deref().unwrap_or("")) "\n" (attempt.request.as_deref().unwrap_or("")) }
                                    pre { "HTTP " @match attempt.status { Some(s) => (s), None => "-" } "\n" (attempt.answer.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                    @if notice.notice.state == "exhausted" && !notice.notice.probe {
                        tr {
                            td colspan="7" {
                                (notice.notice.activity) " retries ran out · "
                                (button_form("/ui/restart", token, &[("product_id", notice.notice.product_id.to_string()), ("call", notice.notice.call.to_string())], "重新启动 · Restart", &format!("restart-{}", notice.id.replace('.', "-"))))
                            }
                        }
                    }
                }
            }
        }
    }
}
