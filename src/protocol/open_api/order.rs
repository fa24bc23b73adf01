//! 查询订单 — query order (spec: koogallery-v2-kit-license.md §6.3): what the marketplace
//! answers about an order, and the nine debug MOCK orders that always exist.
//!
//! The OrderLine table beyond `orderLineId`, `chargingMode` and `expireTime` was not retrieved;
//! the further fields follow the saascenter newInstance example the spec quotes [I:query-order-line-fields].

use serde::{Deserialize, Serialize};

use crate::protocol::BillingMode;

/// Success, as the query-order page's own example answers it (`"resultCode": "MKT.0000"`);
/// one version of the page's error table shows `CBC.0000` [I:query-order-success-code].
pub(crate) const SUCCESS: &str = "MKT.0000";
/// Invalid parameter, the page's table: a missing `orderId`, or one that names no order
/// [I:query-order-unknown-order].
pub(crate) const INVALID_PARAMETER: &str = "CBC.0101";

/// `orderType` (§6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum OrderType {
    /// A purchase.
    New,
    /// A trial.
    Trial,
    /// A trial converted to a paid subscription.
    TrialToFormal,
    /// An unsubscription.
    Unsubscribe,
    /// A renewal.
    Renew,
    /// A change (upgrade).
    Change,
}

impl OrderType {}

/// The answer to query-order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct QueryOrderResponse {
    /// `MKT.0000` on success.
    #[serde(rename = "resultCode")]
    pub(crate) result_code: String,
    /// Its message.
    #[serde(rename = "resultMsg")]
    pub(crate) result_msg: String,
    /// The order, when found.
    #[serde(rename = "orderInfo", skip_serializing_if = "Option::is_none", default)]
    pub(crate) order_info: Option<OrderInfo>,
}

/// One order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderInfo {
    /// The order id.
    pub(crate) order_id: String,
    /// `NEW`, `RENEW`, …
    pub(crate) order_type: OrderType,
    /// When the order was placed, `yyyyMMddHHmmss` UTC.
    pub(crate) create_time: String,
    /// Its lines.
    pub(crate) order_line: Vec<OrderLine>,
    /// The buyer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) buyer_info: Option<BuyerInfo>,
    /// Extension parameters.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub(crate) extend_params: Vec<ExtendParam>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderLine {
    /// `<orderId>-000001`.
    pub(crate) order_line_id: String,
    /// `ON_DEMAND`, `ONE_TIME`, `PERIOD`, `ON_DEMAND_PKG`.
    pub(crate) charging_mode: String,
    /// `year`, `month`, … for period billing [I:query-order-line-fields].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) period_type: Option<String>,
    /// How many periods [I:query-order-line-fields].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) period_number: Option<u32>,
    /// What was bought [I:query-order-line-fields].
    pub(crate) product_info: Vec<ProductInfo>,
    /// When the line's resource expires, `yyyyMMddHHmmss` UTC, for kinds that expire.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) expire_time: Option<String>,
    /// `1` for a trial [I:query-order-line-fields].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) trial_flag: Option<String>,
}

/// A product of an order line [I:query-order-line-fields].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProductInfo {
    /// The SKU.
    pub(crate) sku_code: String,
    /// The product.
    pub(crate) product_id: String,
}

/// The buyer [I:query-order-line-fields].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuyerInfo {
    /// The customer id.
    pub(crate) customer_id: String,
    /// The customer name.
    pub(crate) customer_name: String,
}

/// A `{name, value}` extension parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExtendParam {
    /// Its name.
    pub(crate) name: String,
    /// Its value.
    pub(crate) value: String,
}

/// The debug MOCK orders (§6.3): id, order type, billing mode, trial.
pub(crate) const MOCK_ORDERS: [(&str, OrderType, BillingMode, bool); 9] = [
    (
        "MOCKPERIODYEARNEW",
        OrderType::New,
        BillingMode::Period,
        false,
    ),
    (
        "MOCKONETIMENEW",
        OrderType::New,
        BillingMode::OneTime,
        false,
    ),
    ("MOCKONDEMAND", OrderType::New, BillingMode::OnDemand, false),
    (
        "MOCKONDEMANDPKG",
        OrderType::New,
        BillingMode::Package,
        false,
    ),
    (
        "MOCKPERIODDAYTRIAL",
        OrderType::Trial,
        BillingMode::Period,
        true,
    ),
    (
        "MOCKMONTYTRIALTOFORMAL",
        OrderType::TrialToFormal,
        BillingMode::Period,
        false,
    ),
    (
        "MOCKMONTYUNSUBSCRIBE",
        OrderType::Unsubscribe,
        BillingMode::Period,
        false,
    ),
    (
        "MOCKMONTYRENEW",
        OrderType::Renew,
        BillingMode::Period,
        false,
    ),
    (
        "MOCKMONTYCHANGE",
        OrderType::Change,
        BillingMode::Period,
        false,
    ),
];

/// A MOCK order as query-order answers it; `created` is its placement time
/// (`yyyyMMddHHmmss`), `expires` the period's end where the billing mode has one.
pub(crate) fn mock_order(id: &str, created: &str, expires: &str) -> Option<OrderInfo> {
    let (id, order_type, billing, trial) = *MOCK_ORDERS.iter().find(|(m, ..)| *m == id)?;
    let period = billing.has_expiry();
    Some(OrderInfo {
        order_id: id.to_owned(),
        order_type,
        create_time: created.to_owned(),
        order_line: vec![OrderLine {
            order_line_id: format!("{id}-000001"),
            charging_mode: billing.order_api_name().to_owned(),
            period_type: period.then(|| {
                if id.contains("YEAR") {
                    "year"
                } else if trial {
                    "day"
                } else {
                    "month"
                }
                .to_owned()
            }),
            period_number: period.then_some(1),
            product_info: vec![ProductInfo {
                sku_code: "mock-sku".to_owned(),
                product_id: "mock-product".to_owned(),
            }],
            expire_time: period.then(|| expires.to_owned()),
            trial_flag: trial.then(|| "1".to_owned()),
        }],
        buyer_info: Some(BuyerInfo {
            customer_id: "mock-customer".to_owned(),
            customer_name: "huaweitest".to_owned(),
        }),
        extend_params: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nine_mock_orders_have_their_type_and_charging_mode() {
        let expected = [
            ("MOCKPERIODYEARNEW", "NEW", "PERIOD"),
            ("MOCKONETIMENEW", "NEW", "ONE_TIME"),
            ("MOCKONDEMAND", "NEW", "ON_DEMAND"),
            ("MOCKONDEMANDPKG", "NEW", "ON_DEMAND_PKG"),
            ("MOCKPERIODDAYTRIAL", "TRIAL", "PERIOD"),
            ("MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL", "PERIOD"),
            ("MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE", "PERIOD"),
            ("MOCKMONTYRENEW", "RENEW", "PERIOD"),
            ("MOCKMONTYCHANGE", "CHANGE", "PERIOD"),
        ];
        for (id, order_type, mode) in expected {
            let order = mock_order(id, "20260101000000", "20270101000000").unwrap();
            let json = serde_json::to_value(&order).unwrap();
            assert_eq!(json["orderType"], order_type, "{id}");
            assert_eq!(json["orderLine"][0]["chargingMode"], mode, "{id}");
            assert_eq!(json["orderLine"][0]["orderLineId"], format!("{id}-000001"));
        }
        assert!(mock_order("MOCKNOTHING", "", "").is_none());
    }
}
