//! `GET /openapi`: the calls the merchant made to the open APIs and the identity centre,
//! each with the checks it broke.

use std::sync::Arc;

use axum::extract::{Query, State};
use maud::{Markup, html};

use crate::console::http::App;
use crate::console::http::api::Paging;
use crate::console::http::pages::{PageResult, frame, rendered};
use crate::console::http::view::{badge, beijing, page as framed};
use crate::console::store::MerchantCallRow;

pub(super) async fn page(State(app): State<Arc<App>>, Query(paging): Query<Paging>) -> PageResult {
    let calls = app.read(|r| r.merchant_calls(paging.page()))?;
    let frame = frame(&app, "Open-API calls");
    Ok(rendered(framed(&frame, &content(&calls))))
}

/// The open-API calls' content.
pub(crate) fn content(calls: &[MerchantCallRow]) -> Markup {
    html! {
        p.muted { "Served with " code { "kgsim serve --openapi-listen ADDR" } ": query-order, usage push, License and the identity centre answer from this console's orders and instances." }
        div.scroll {
            table #merchant-calls {
                tr { th { "When" } th { "Product" } th { "Endpoint" } th { "Request" } th { "Status" } th { "Findings" } }
                @for call in calls {
                    tr {
                        td { (beijing(call.at)) }
                        td { @if let Some(product) = call.product_id { (product) } }
                        td { (call.endpoint) }
                        td { code { (call.request_line) } }
                        td { (call.status) }
                        td {
                            @for finding in &call.findings {
                                (badge(&finding.check)) " " (finding.message) br;
                            }
                            @if call.findings.is_empty() { (badge("accepted")) }
                        }
                    }
                }
                @if calls.is_empty() {
                    tr { td colspan="6" { "No call yet." } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::http::pages::fixtures;
    use crate::console::store::StoredFinding;

    #[test]
    fn open_api_calls() {
        let calls = vec![MerchantCallRow {
            id: 1,
            product_id: Some(2),
            at: 1_795_000_000_000,
            endpoint: "query-order".into(),
            request_line: "GET /api/mkp-openapi-public/global/v1/order/query?orderId=CS1&x=<y>"
                .into(),
            status: 401,
            findings: vec![StoredFinding {
                check: "openapi.signature".into(),
                message: "the signature does not match".into(),
            }],
        }];
        insta::assert_snapshot!(fixtures::lines(content(&calls)));
    }
}
