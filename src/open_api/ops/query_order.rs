//! 查询订单 (spec: koogallery-v2-kit-license.md §6.3): every order the marketplace created,
//! and the MOCK orders.

use serde_json::json;

use crate::checks::CheckId;
use crate::open_api::book::State;
use crate::open_api::ops::Reply;
use crate::protocol::encoding::{PlusHandling, parse_query};
use crate::protocol::open_api::order::{INVALID_PARAMETER, QueryOrderResponse, SUCCESS};

/// Answers `GET …/v1/order/query?orderId=…&orderLineId=…`.
pub(crate) fn answer(state: &State, query: &str) -> Reply {
    let params = parse_query(query, PlusHandling::Literal).unwrap_or_default();
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let refused = |message: &str| {
        Reply::new(
            400,
            json!({"resultCode": INVALID_PARAMETER, "resultMsg": message}),
        )
    };
    let Some(order_id) = get("orderId") else {
        return refused("orderId is mandatory").finding(
            CheckId::OpenApiRequest,
            "query-order without orderId (M String 64, spec §6.3)",
        );
    };
    if order_id.chars().count() > 64 {
        return refused("orderId is longer than 64 characters").finding(
            CheckId::OpenApiRequest,
            "orderId is longer than 64 characters",
        );
    }
    let Some(entry) = state.orders.get(&order_id) else {
        return refused("order not found")
            .finding(
                CheckId::OpenApiRequest,
                format!(
                    "query-order names order `{order_id}`, which the marketplace never created"
                ),
            )
            .about([order_id]);
    };
    let mut info = entry.info.clone();
    if let Some(line) = get("orderLineId") {
        info.order_line.retain(|l| l.order_line_id == line);
        if info.order_line.is_empty() {
            return refused("order line not found")
                .finding(
                    CheckId::OpenApiRequest,
                    format!("order `{order_id}` has no line `{line}`"),
                )
                .about([order_id]);
        }
    }
    let response = QueryOrderResponse {
        result_code: SUCCESS.to_owned(),
        result_msg: "Success".to_owned(),
        order_info: Some(info),
    };
    Reply::new(200, serde_json::to_value(response).unwrap_or_default()).about([order_id])
}
