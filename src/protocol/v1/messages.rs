//! Typed V1 requests and responses, declared from the spec's tables
//! (spec: koogallery-saas-v1.md §4).
//!
//! Every V1 request is a GET whose query carries `activity`, `timeStamp`, `authToken` and the
//! activity's own parameters, all strings. Responses are JSON with `resultCode`/`resultMsg`
//! and the `Body-Sign` header. Maximum lengths are the tables'; where a table is silent the
//! limit chosen here is tagged `[I:…]` (docs/inferences.md).

use serde_json::{Map, Value};

use crate::protocol::activity::{Activity, Protocol};
use crate::protocol::fields::wire_message;
use crate::protocol::fields::{
    Field, Kind, Presence, Rules, Violation, WireMessage, text, validate,
};

pub(crate) use crate::protocol::answers::{AppInfo, ResultResponse};

/// Parameters every V1 request carries besides its own (§4 "Common to all").
pub(crate) const ENVELOPE: &[Field] = &[
    Field {
        name: "activity",
        presence: Presence::Mandatory,
        kind: text(32),
    },
    Field {
        name: "timeStamp",
        presence: Presence::Mandatory,
        kind: text(20),
    },
    Field {
        name: "authToken",
        presence: Presence::Mandatory,
        kind: text(50),
    },
];

wire_message! {
    /// `newInstance` request parameters (§4.1).
    pub struct NewInstance {
        /// Buyer's account id.
        customer_id: String = "customerId", Mandatory, text(100);
        /// Buyer's account name (M on the CN page, O on the intl page: optional here).
        customer_name: Option<String> = "customerName", Optional, text(64);
        /// IAM sub-user id.
        user_id: Option<String> = "userId", Optional, text(64);
        /// IAM user name.
        user_name: Option<String> = "userName", Optional, text(64);
        /// Encrypted mobile number (§3); maximum not recovered, 256 [I:v1-encrypted-field-length].
        mobile_phone: Option<String> = "mobilePhone", Optional, text(256);
        /// Encrypted e-mail (§3); maximum not recovered, 256 [I:v1-encrypted-field-length].
        email: Option<String> = "email", Optional, text(256);
        /// Different on every request, resends included.
        business_id: String = "businessId", Mandatory, text(64);
        /// The order; the idempotency key.
        order_id: String = "orderId", Mandatory, text(64);
        /// Spec code.
        sku_code: String = "skuCode", Mandatory, text(64);
        /// Product id; with orderId the idempotency key of on-demand orders.
        product_id: String = "productId", Mandatory, text(64);
        /// `1` trial, `0` not.
        trial_flag: Option<String> = "trialFlag", Optional, text(2);
        /// Approximate expiry, `yyyyMMddHHmmss` (period and package billing only).
        expire_time: Option<String> = "expireTime", Optional, text(20);
        /// `0` on-demand, `1` period, `3` one-time, `5` on-demand package.
        charging_mode: Option<String> = "chargingMode", Optional, text(3);
        /// urlEncode(base64(JSON)) extension parameters.
        saas_extend_params: Option<String> = "saasExtendParams", Optional, text(2048);
        /// Linear attribute: quantity.
        amount: Option<String> = "amount", Optional, text(7);
        /// Linear attribute: disk GB.
        disk_size: Option<String> = "diskSize", Optional, text(7);
        /// Linear attribute: bandwidth Mbps.
        band_width: Option<String> = "bandWidth", Optional, text(7);
        /// Provisioning mode.
        provision_type: Option<String> = "provisionType", Optional, text(2);
        /// `year` / `month`.
        period_type: Option<String> = "periodType", Optional, text(10);
        /// Number of periods.
        period_number: Option<String> = "periodNumber", Optional, text(2);
        /// Amount paid.
        order_amount: Option<String> = "orderAmount", Optional, text(20);
        /// `1` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `refreshInstance` request parameters: renewal, trial to formal, refund of a renewal
    /// period (§4.2).
    pub struct RefreshInstance {
        /// The new (renewal) order.
        order_id: String = "orderId", Mandatory, text(64);
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// New product id when the period type changed.
        product_id: Option<String> = "productId", Optional, text(64);
        /// New expiry, `yyyyMMddHHmmss`.
        expire_time: String = "expireTime", Mandatory, text(20);
        /// `1` for trial to formal.
        trial_to_formal: Option<String> = "trialToFormal", Optional, text(2);
        /// `year` / `month`.
        period_type: Option<String> = "periodType", Optional, text(10);
        /// Number of periods.
        period_number: Option<String> = "periodNumber", Optional, text(2);
        /// Amount paid; negative for a refunded renewal period.
        order_amount: Option<String> = "orderAmount", Optional, text(20);
        /// `1` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `expireInstance` request parameters (§4.3).
    pub struct ExpireInstance {
        /// The instance to freeze.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The purchase order: M in the table, absent from the published example, so
        /// optional here and sent only when the profile asks.
        order_id: Option<String> = "orderId", Optional, text(64);
        /// `1` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `releaseInstance` request parameters (§4.4).
    pub struct ReleaseInstance {
        /// The instance to delete.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The purchase order: as for expireInstance.
        order_id: Option<String> = "orderId", Optional, text(64);
        /// Amount actually paid, for reconciliation.
        order_amount: Option<String> = "orderAmount", Optional, text(20);
        /// `1` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `upgrade` request parameters (§4.5).
    pub struct Upgrade {
        /// The instance (unchanged by the upgrade).
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The upgrade order; the idempotency key.
        order_id: String = "orderId", Mandatory, text(64);
        /// Spec code after the upgrade.
        sku_code: String = "skuCode", Mandatory, text(64);
        /// Product id after the upgrade.
        product_id: String = "productId", Mandatory, text(64);
        /// Quantity.
        amount: Option<String> = "amount", Optional, text(7);
        /// Disk GB.
        disk_size: Option<String> = "diskSize", Optional, text(7);
        /// Bandwidth Mbps.
        band_width: Option<String> = "bandWidth", Optional, text(7);
        /// Extension parameters (seen in the published example).
        saas_extend_params: Option<String> = "saasExtendParams", Optional, text(2048);
        /// `1` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `instanceStatus` request parameters: on-demand freeze and unfreeze (§4.6).
    pub struct InstanceStatus {
        /// The on-demand instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// `FREEZE` or `NORMAL`.
        instance_status: String = "instanceStatus", Mandatory, text(32);
        /// `1` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `queryInstance` request parameters (§4.7).
    pub struct QueryInstance {
        /// Comma-separated batch of up to 100 ids (the table's 64 is per id, so the whole
        /// value may reach 100 × 65 characters [I:query-batch-length]).
        instance_id: String = "instanceId", Mandatory, text(6500);
        /// `1` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

/// `instanceStatus` values (§4.6).
pub(crate) mod status {
    /// Freeze the on-demand instance.
    pub(crate) const FREEZE: &str = "FREEZE";
    /// Unfreeze it.
    pub(crate) const NORMAL: &str = "NORMAL";
}

wire_message! {
    /// The answer to newInstance (§4.1).
    pub(crate) struct NewInstanceResponse {
        /// Six-digit result code.
        result_code: String = "resultCode", Mandatory, text(6);
        /// Free text.
        result_msg: Option<String> = "resultMsg", ConsoleMandatory, text(255);
        /// `1` AES-256 (default) / `2` AES-128.
        encrypt_type: Option<String> = "encryptType", Optional, text(3);
        /// The merchant's globally unique instance id.
        instance_id: Option<String> = "instanceId", Mandatory, text(64);
        /// Credentials; the debug page requires `frontEndUrl` (FAQ).
        app_info: Option<AppInfo> = "appInfo", ConsoleMandatory, Kind::Object(AppInfo::TABLE);
    }
}

wire_message! {
    /// One `usageInfo` entry of a queryInstance answer (§4.7; partially recovered).
    pub(crate) struct UsageInfo {
        /// Usage so far.
        usage_value: Option<Value> = "usageValue", Mandatory, Kind::Number;
        /// When it was measured (required when usageInfo is returned, FAQ).
        statistical_time: Option<String> = "statisticalTime", Mandatory, text(17);
        /// For packages: the on-demand instance of this fee item.
        related_instance_id: Option<String> = "relatedInstanceId", Optional, text(64);
    }
}

wire_message! {
    /// One `info` entry of a queryInstance answer (§4.7).
    pub(crate) struct InstanceInfo {
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// Its credentials.
        app_info: Option<AppInfo> = "appInfo", Optional, Kind::Object(AppInfo::TABLE);
        /// Its usage.
        usage_info: Option<Vec<UsageInfo>> = "usageInfo", Optional, Kind::List(UsageInfo::TABLE);
    }
}

wire_message! {
    /// The answer to queryInstance (§4.7).
    pub(crate) struct QueryInstanceResponse {
        /// Six-digit result code.
        result_code: String = "resultCode", Mandatory, text(6);
        /// Free text.
        result_msg: Option<String> = "resultMsg", ConsoleMandatory, text(255);
        /// `1` / `2`.
        encrypt_type: Option<String> = "encryptType", Optional, text(3);
        /// One entry per instance.
        info: Option<Vec<InstanceInfo>> = "info", Optional, Kind::List(InstanceInfo::TABLE);
    }
}

/// A typed V1 request: one variant per activity.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// newInstance.
    NewInstance(Box<NewInstance>),
    /// refreshInstance.
    RefreshInstance(RefreshInstance),
    /// expireInstance.
    ExpireInstance(ExpireInstance),
    /// releaseInstance.
    ReleaseInstance(ReleaseInstance),
    /// upgrade.
    Upgrade(Upgrade),
    /// instanceStatus.
    InstanceStatus(InstanceStatus),
    /// queryInstance.
    QueryInstance(QueryInstance),
}

/// Why a parameter list is not a valid V1 request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// No `activity` parameter.
    #[error("the request has no activity parameter")]
    MissingActivity,
    /// An `activity` V1 does not have.
    #[error("`{0}` is not a V1 activity")]
    UnknownActivity(String),
    /// A parameter appears twice.
    #[error("parameter `{0}` appears more than once")]
    Duplicate(String),
    /// Mandatory parameters missing or too long.
    #[error("invalid parameters: {}", describe(.0))]
    Invalid(Vec<Violation>),
}

fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| match v {
            Violation::Missing { path } => format!("{path} missing"),
            Violation::TooLong { path, len, max } => format!("{path} is {len} long (max {max})"),
            Violation::WrongType { path, expected } => format!("{path} is not a {expected}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! for_each_request {
    ($self:expr, $inner:ident => $body:expr) => {
        match $self {
            Request::NewInstance($inner) => $body,
            Request::RefreshInstance($inner) => $body,
            Request::ExpireInstance($inner) => $body,
            Request::ReleaseInstance($inner) => $body,
            Request::Upgrade($inner) => $body,
            Request::InstanceStatus($inner) => $body,
            Request::QueryInstance($inner) => $body,
        }
    };
}

impl Request {
    /// The activity this request notifies.
    pub(crate) fn activity(&self) -> Activity {
        match self {
            Self::NewInstance(_) => Activity::NewInstance,
            Self::RefreshInstance(_) => Activity::RefreshInstance,
            Self::ExpireInstance(_) => Activity::ExpireInstance,
            Self::ReleaseInstance(_) => Activity::ReleaseInstance,
            Self::Upgrade(_) => Activity::Upgrade,
            Self::InstanceStatus(_) => Activity::InstanceStatus,
            Self::QueryInstance(_) => Activity::QueryInstance,
        }
    }

    /// The activity's own parameter table.
    pub(crate) fn table(activity: Activity) -> Option<&'static [Field]> {
        Some(match activity {
            Activity::NewInstance => NewInstance::TABLE,
            Activity::RefreshInstance => RefreshInstance::TABLE,
            Activity::ExpireInstance => ExpireInstance::TABLE,
            Activity::ReleaseInstance => ReleaseInstance::TABLE,
            Activity::Upgrade => Upgrade::TABLE,
            Activity::InstanceStatus => InstanceStatus::TABLE,
            Activity::QueryInstance => QueryInstance::TABLE,
            _ => return None,
        })
    }

    /// `activity` first, then the present parameters in table order (no timeStamp or
    /// authToken: those are added when the request is signed at send time).
    pub(crate) fn to_params(&self) -> Vec<(&'static str, &str)> {
        let name = self.activity().wire_name(Protocol::V1).unwrap_or_default();
        let fields = for_each_request!(self, inner => inner.query_params());
        // Room for the whole envelope (activity here, timeStamp and authToken when signed), so
        // that signing does not reallocate.
        let mut params = Vec::with_capacity(fields.len() + ENVELOPE.len());
        params.push(("activity", name));
        params.extend(fields);
        params
    }

    /// Parses decoded query parameters (envelope included), validating presence and length
    /// against the tables. Unknown parameters are ignored, as a merchant must.
    pub fn from_params(params: &[(String, String)]) -> Result<Self, RequestError> {
        let mut map = Map::new();
        for (name, value) in params {
            if map
                .insert(name.clone(), Value::String(value.clone()))
                .is_some()
            {
                return Err(RequestError::Duplicate(name.clone()));
            }
        }
        let name = map
            .get("activity")
            .and_then(Value::as_str)
            .ok_or(RequestError::MissingActivity)?
            .to_owned();
        let name = name.as_str();
        let activity = Activity::from_wire(Protocol::V1, name)
            .ok_or_else(|| RequestError::UnknownActivity(name.to_owned()))?;
        let table =
            Self::table(activity).ok_or_else(|| RequestError::UnknownActivity(name.to_owned()))?;
        let mut violations = validate(&map, ENVELOPE, Rules::Tables);
        violations.extend(validate(&map, table, Rules::Tables));
        if !violations.is_empty() {
            return Err(RequestError::Invalid(violations));
        }
        let value = Value::Object(map);
        fn parse<T: WireMessage>(value: Value) -> Result<T, RequestError> {
            serde_json::from_value(value).map_err(|_| RequestError::Invalid(vec![]))
        }
        Ok(match activity {
            Activity::NewInstance => Self::NewInstance(Box::new(parse(value)?)),
            Activity::RefreshInstance => Self::RefreshInstance(parse(value)?),
            Activity::ExpireInstance => Self::ExpireInstance(parse(value)?),
            Activity::ReleaseInstance => Self::ReleaseInstance(parse(value)?),
            Activity::Upgrade => Self::Upgrade(parse(value)?),
            Activity::InstanceStatus => Self::InstanceStatus(parse(value)?),
            Activity::QueryInstance => Self::QueryInstance(parse(value)?),
            _ => return Err(RequestError::UnknownActivity(name.to_owned())),
        })
    }

    /// Whether this is a console debug request (`testFlag=1`).
    pub(crate) fn is_debug(&self) -> bool {
        for_each_request!(self, inner => inner.test_flag.as_deref() == Some("1"))
    }

    /// The `saasExtendParams` value as received, for the activities that carry it (§4.1).
    pub(crate) fn extend_params(&self) -> Option<&str> {
        match self {
            Self::NewInstance(new) => new.saas_extend_params.as_deref(),
            Self::Upgrade(upgrade) => upgrade.saas_extend_params.as_deref(),
            _ => None,
        }
    }
}

/// The response table the console judges an activity's answer against.
pub(crate) fn response_table(activity: Activity) -> &'static [Field] {
    match activity {
        Activity::NewInstance => NewInstanceResponse::TABLE,
        Activity::QueryInstance => QueryInstanceResponse::TABLE,
        _ => ResultResponse::TABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn query_params_are_exactly_the_serialised_text_fields() {
        // The serde form is the oracle: to_params must hold what it holds, in its order.
        let request = NewInstance {
            customer_id: "c".into(),
            customer_name: Some("n".into()),
            mobile_phone: Some("m+/=".into()),
            business_id: "b".into(),
            order_id: "o".into(),
            sku_code: "s".into(),
            product_id: "p".into(),
            trial_flag: Some("0".into()),
            saas_extend_params: Some("e".into()),
            period_number: Some("1".into()),
            ..Default::default()
        };
        let Value::Object(serialised) = serde_json::to_value(&request).unwrap() else {
            panic!("an object")
        };
        let expected: Vec<(&str, &str)> = serialised
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .collect();
        let request = Request::NewInstance(Box::new(request));
        let params = request.to_params();
        assert_eq!(params[0], ("activity", "newInstance"));
        assert_eq!(params[1..], expected[..]);
    }

    #[test]
    fn round_trips_through_params() {
        let request = Request::InstanceStatus(InstanceStatus {
            instance_id: "huaweitest123456".into(),
            instance_status: status::FREEZE.into(),
            test_flag: Some("1".into()),
        });
        let mut list: Vec<(String, String)> = request
            .to_params()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(list[0], ("activity".into(), "instanceStatus".into()));
        list.push(("timeStamp".into(), "20230327070251713".into()));
        list.push(("authToken".into(), "x".into()));
        assert_eq!(Request::from_params(&list), Ok(request.clone()));
        assert!(request.is_debug());
    }

    #[test]
    fn rejects_unknown_activity_missing_and_long_params() {
        let base = [("timeStamp", "1"), ("authToken", "t")];
        let mut list = params(&base);
        list.push(("activity".into(), "upgradeInstance".into()));
        assert_eq!(
            Request::from_params(&list),
            Err(RequestError::UnknownActivity("upgradeInstance".into()))
        );

        let mut list = params(&base);
        list.push(("activity".into(), "expireInstance".into()));
        assert_eq!(
            Request::from_params(&list),
            Err(RequestError::Invalid(vec![Violation::Missing {
                path: "instanceId".into()
            }]))
        );

        let mut list = params(&base);
        list.push(("activity".into(), "expireInstance".into()));
        list.push(("instanceId".into(), "x".repeat(65)));
        assert!(
            matches!(Request::from_params(&list), Err(RequestError::Invalid(v)) if matches!(v[0], Violation::TooLong { .. }))
        );

        assert_eq!(
            Request::from_params(&params(&base)),
            Err(RequestError::MissingActivity)
        );
        let dup = params(&[("activity", "queryInstance"), ("activity", "queryInstance")]);
        assert_eq!(
            Request::from_params(&dup),
            Err(RequestError::Duplicate("activity".into()))
        );
    }

    #[test]
    fn new_instance_answer_table_matches_the_faq() {
        let answer: Value = serde_json::json!({
            "resultCode": "000000", "resultMsg": "success.", "instanceId": "i-1",
            "appInfo": {"frontEndUrl": "x".repeat(513)}
        });
        let violations = validate(
            answer.as_object().unwrap(),
            response_table(Activity::NewInstance),
            Rules::Console,
        );
        assert_eq!(
            violations,
            vec![Violation::TooLong {
                path: "appInfo.frontEndUrl".into(),
                len: 513,
                max: 512
            }]
        );
        let bare: Value = serde_json::json!({"resultCode": "000000"});
        let violations = validate(
            bare.as_object().unwrap(),
            response_table(Activity::NewInstance),
            Rules::Console,
        );
        let paths: Vec<_> = violations.iter().map(Violation::path).collect();
        assert_eq!(paths, vec!["resultMsg", "instanceId", "appInfo"]);
    }
}
