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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::api::NoticeDetail;
    use crate::console::http::pages::fixtures;
    use crate::console::store::{AttemptRow, InstanceRow, NoticeRow, OrderRow};
    use crate::console::vocab::AttemptVerdict;

    #[test]
    fn order_timeline() {
        let detail = OrderDetail {
            order: OrderRow {
                product_id: 1,
                order_id: "CS0001".into(),
                kind: "purchase".into(),
                status: "refunded".into(),
                placed_at: 1_795_000_000_000,
                settled_at: Some(1_795_010_800_000),
            },
            instances: vec![InstanceRow {
                product_id: 1,
                reference: 0,
                order_id: "CS0001".into(),
                instance_id: None,
                state: "failed".into(),
                billing: "period".into(),
                trial: false,
                expire_at: None,
                license_code: None,
            }],
            notices: vec![NoticeDetail {
                id: "1.0".into(),
                notice: NoticeRow {
                    product_id: 1,
                    call: 0,
                    activity: "new-instance".into(),
                    order_id: Some("CS0001".into()),
                    instance_ref: Some(0),
                    state: "exhausted".into(),
                    attempts: 1,
                    first_due: 1_795_000_000_000,
                    probe: false,
                },
                attempt_log: vec![AttemptRow {
                    id: 1,
                    product_id: 1,
                    call: 0,
                    number: 1,
                    at: 1_795_000_000_000,
                    activity: "new-instance".into(),
                    url: Some("http://h/p?activity=newInstance&x=<1>".into()),
                    request: None,
                    status: Some(500),
                    answer: Some("<html>broken</html>".into()),
                    verdict: AttemptVerdict::Rejected,
                    check_id: Some("console.http-status".into()),
                    message: Some("HTTP status 500, not 200".into()),
                }],
            }],
        };
        insta::assert_snapshot!(fixtures::lines(content(&detail, fixtures::TOKEN)));
    }
}
