//! Typed V2 basic-interface requests and responses, declared from the spec's tables
//! (spec: koogallery-v2-kit-license.md §2).
//!
//! Every V2 basic call is a POST of a JSON object whose `activity` names the event; every
//! value is a JSON string (the sample binds the body to `Map<String,String>`, §1.3), except
//! changeInstanceCheck's `productInfo` object. Answers carry `resultCode`/`resultMsg` and
//! are not signed.

use serde_json::{Map, Value};

use crate::protocol::activity::{Activity, Protocol};
use crate::protocol::fields::wire_message;
use crate::protocol::fields::{Field, Kind, Rules, Violation, WireMessage, text, validate};
use crate::protocol::v2::canonical::sort_keys_deep;
use crate::protocol::v2::license::{
    GetLicenseAsync, OrderNotify, RefreshLicenseCode, ReleaseLicenseCode, UpdateLicenseCodeStatus,
};

pub(crate) use crate::protocol::answers::{AppInfo, ResultResponse};

wire_message! {
    /// `newInstance` body (§2.1). No order details: the merchant queries the order.
    pub struct NewInstance {
        /// The order.
        order_id: String = "orderId", Mandatory, text(64);
        /// The order line; with orderId the idempotency key.
        order_line_id: String = "orderLineId", Mandatory, text(64);
        /// Different on every request.
        business_id: String = "businessId", Mandatory, text(64);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `queryInstance` body (§2.2).
    pub struct QueryInstance {
        /// Comma-separated batch of up to 100 ids; the table says String 100, which cannot
        /// hold 100 ids, so 100 × 65 characters is accepted [I:query-batch-length].
        instance_id: String = "instanceId", Mandatory, text(6500);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `refreshInstance` body (§2.3).
    pub struct RefreshInstance {
        /// `TRIAL_TO_FORMAL`, `RENEWAL`, `UNSUBSCRIBE_RENEWAL_PERIOD` or `RENEWAL_CHANGE`.
        scene: String = "scene", Mandatory, text(64);
        /// The conversion, renewal or unsubscribed renewal order.
        order_id: String = "orderId", Mandatory, text(64);
        /// Its line.
        order_line_id: String = "orderLineId", Mandatory, text(64);
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// New product id when the period type changes.
        product_id: Option<String> = "productId", Optional, text(64);
        /// New expiry: 14 digits documented, 17 in the example.
        expire_time: String = "expireTime", Mandatory, text(20);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `updateInstanceStatus` body (§2.4).
    pub struct UpdateInstanceStatus {
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// `FREEZE` or `UNFREEZE`.
        status: String = "status", Mandatory, text(32);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `releaseInstance` body (§2.5).
    pub struct ReleaseInstance {
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The unsubscribe order, when release follows an unsubscription.
        order_id: Option<String> = "orderId", Optional, text(64);
        /// Its line.
        order_line_id: Option<String> = "orderLineId", Optional, text(64);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// `upgradeInstance` body (§2.6).
    pub struct UpgradeInstance {
        /// The instance (unchanged).
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The upgrade order; the idempotency key.
        order_id: String = "orderId", Mandatory, text(64);
        /// Its line.
        order_line_id: String = "orderLineId", Mandatory, text(64);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

wire_message! {
    /// The target product of a changeInstanceCheck; the exact shape is an open question
    /// (§2.7), this is the V1/saascenter ProductInfo [I:change-check-product-info].
    pub struct ProductInfo {
        /// Target product id.
        product_id: String = "productId", Mandatory, text(64);
        /// Target spec code.
        sku_code: Option<String> = "skuCode", Optional, text(64);
        /// Target linear value.
        linear_value: Option<String> = "linearValue", Optional, text(20);
    }
}

wire_message! {
    /// `changeInstanceCheck` body (§2.7).
    pub struct ChangeInstanceCheck {
        /// The instance being renewed with a change.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The target product.
        product_info: ProductInfo = "productInfo", Mandatory, Kind::Object(ProductInfo::TABLE);
        /// `"1"` for a debug request.
        test_flag: Option<String> = "testFlag", Optional, text(2);
    }
}

/// `scene` values of refreshInstance (§2.3).
pub(crate) mod scene {
    /// Trial to formal.
    pub(crate) const TRIAL_TO_FORMAL: &str = "TRIAL_TO_FORMAL";
    /// Renewal.
    pub(crate) const RENEWAL: &str = "RENEWAL";
    /// Refund of an unstarted renewal period.
    pub(crate) const UNSUBSCRIBE_RENEWAL_PERIOD: &str = "UNSUBSCRIBE_RENEWAL_PERIOD";
    /// Renewal with a spec change (V2 only).
    pub(crate) const RENEWAL_CHANGE: &str = "RENEWAL_CHANGE";
    /// All four.
    pub(crate) const ALL: [&str; 4] = [
        TRIAL_TO_FORMAL,
        RENEWAL,
        UNSUBSCRIBE_RENEWAL_PERIOD,
        RENEWAL_CHANGE,
    ];
}

/// `status` values of updateInstanceStatus (§2.4).
pub(crate) mod status {
    /// Freeze.
    pub(crate) const FREEZE: &str = "FREEZE";
    /// Unfreeze.
    pub(crate) const UNFREEZE: &str = "UNFREEZE";
}

wire_message! {
    /// One `usageInfo` entry (§2.2).
    pub(crate) struct UsageInfo {
        /// For packages: the on-demand instance of this fee item.
        related_instance_id: Option<String> = "relatedInstanceId", Optional, text(64);
        /// Double(12,4).
        usage_value: Option<Value> = "usageValue", Mandatory, Kind::Number;
        /// `yyyyMMddHHmmssSSS`, UTC.
        statistical_time: Option<String> = "statisticalTime", Mandatory, text(17);
        /// Usage dashboard.
        dashboard_url: Option<String> = "dashboardUrl", Optional, text(512);
    }
}

wire_message! {
    /// One `info` entry (§2.2).
    pub(crate) struct InstanceInfo {
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// Its entry point and credentials.
        app_info: Option<AppInfo> = "appInfo", Optional, Kind::Object(AppInfo::TABLE);
        /// Its usage.
        usage_info: Option<Vec<UsageInfo>> = "usageInfo", Optional, Kind::List(UsageInfo::TABLE);
    }
}

wire_message! {
    /// The answer to newInstance (§2.1): `000000` created, `000004` provisioning.
    pub(crate) struct NewInstanceResponse {
        /// Six-digit result code.
        result_code: String = "resultCode", Mandatory, text(6);
        /// Free text.
        result_msg: Option<String> = "resultMsg", ConsoleMandatory, text(255);
        /// The merchant's globally unique instance id.
        instance_id: Option<String> = "instanceId", Mandatory, text(64);
    }
}

wire_message! {
    /// The answer to queryInstance (§2.2).
    pub(crate) struct QueryInstanceResponse {
        /// Six-digit result code.
        result_code: String = "resultCode", Mandatory, text(6);
        /// Free text.
        result_msg: Option<String> = "resultMsg", ConsoleMandatory, text(255);
        /// One entry per instance.
        info: Option<Vec<InstanceInfo>> = "info", Optional, Kind::List(InstanceInfo::TABLE);
    }
}

/// A typed V2 basic request: one variant per activity.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// newInstance.
    NewInstance(NewInstance),
    /// queryInstance.
    QueryInstance(QueryInstance),
    /// refreshInstance.
    RefreshInstance(RefreshInstance),
    /// updateInstanceStatus.
    UpdateInstanceStatus(UpdateInstanceStatus),
    /// releaseInstance.
    ReleaseInstance(ReleaseInstance),
    /// upgradeInstance.
    UpgradeInstance(UpgradeInstance),
    /// changeInstanceCheck.
    ChangeInstanceCheck(ChangeInstanceCheck),
    /// License 2.0 refreshLicenseCode (§4.2).
    RefreshLicenseCode(RefreshLicenseCode),
    /// License 2.0 updateLicenseCodeStatus (§4.2).
    UpdateLicenseCodeStatus(UpdateLicenseCodeStatus),
    /// License 2.0 releaseLicenseCode (§4.2).
    ReleaseLicenseCode(ReleaseLicenseCode),
    /// Online License getLicenseAsync (§4.5).
    GetLicenseAsync(GetLicenseAsync),
    /// orderNotify (§5).
    OrderNotify(OrderNotify),
}

/// Why a body is not a valid V2 request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum RequestError {
    /// The body is not a JSON object.
    #[error("the body is not a JSON object")]
    NotObject,
    /// No `activity`.
    #[error("the body has no activity")]
    MissingActivity,
    /// An activity V2 does not have.
    #[error("`{0}` is not a V2 basic activity")]
    UnknownActivity(String),
    /// Mandatory fields missing, too long, or of the wrong type.
    #[error("invalid fields: {0:?}")]
    Invalid(Vec<Violation>),
}

macro_rules! for_each_request {
    ($self:expr, $inner:ident => $body:expr) => {
        match $self {
            Request::NewInstance($inner) => $body,
            Request::QueryInstance($inner) => $body,
            Request::RefreshInstance($inner) => $body,
            Request::UpdateInstanceStatus($inner) => $body,
            Request::ReleaseInstance($inner) => $body,
            Request::UpgradeInstance($inner) => $body,
            Request::ChangeInstanceCheck($inner) => $body,
            Request::RefreshLicenseCode($inner) => $body,
            Request::UpdateLicenseCodeStatus($inner) => $body,
            Request::ReleaseLicenseCode($inner) => $body,
            Request::GetLicenseAsync($inner) => $body,
            Request::OrderNotify($inner) => $body,
        }
    };
}

const ACTIVITY_FIELD: &[Field] = &[Field {
    name: "activity",
    presence: crate::protocol::fields::Presence::Mandatory,
    kind: text(32),
}];

impl Request {
    /// The activity this request notifies.
    pub(crate) fn activity(&self) -> Activity {
        match self {
            Self::NewInstance(_) => Activity::NewInstance,
            Self::QueryInstance(_) => Activity::QueryInstance,
            Self::RefreshInstance(_) => Activity::RefreshInstance,
            Self::UpdateInstanceStatus(_) => Activity::InstanceStatus,
            Self::ReleaseInstance(_) => Activity::ReleaseInstance,
            Self::UpgradeInstance(_) => Activity::Upgrade,
            Self::ChangeInstanceCheck(_) => Activity::ChangeInstanceCheck,
            Self::RefreshLicenseCode(_) => Activity::RefreshLicenseCode,
            Self::UpdateLicenseCodeStatus(_) => Activity::UpdateLicenseCodeStatus,
            Self::ReleaseLicenseCode(_) => Activity::ReleaseLicenseCode,
            Self::GetLicenseAsync(_) => Activity::GetLicenseAsync,
            Self::OrderNotify(_) => Activity::OrderNotify,
        }
    }

    /// The activity's body table (without `activity`).
    pub(crate) fn table(activity: Activity) -> Option<&'static [Field]> {
        Some(match activity {
            Activity::NewInstance => NewInstance::TABLE,
            Activity::QueryInstance => QueryInstance::TABLE,
            Activity::RefreshInstance => RefreshInstance::TABLE,
            Activity::InstanceStatus => UpdateInstanceStatus::TABLE,
            Activity::ReleaseInstance => ReleaseInstance::TABLE,
            Activity::Upgrade => UpgradeInstance::TABLE,
            Activity::ChangeInstanceCheck => ChangeInstanceCheck::TABLE,
            Activity::RefreshLicenseCode => RefreshLicenseCode::TABLE,
            Activity::UpdateLicenseCodeStatus => UpdateLicenseCodeStatus::TABLE,
            Activity::ReleaseLicenseCode => ReleaseLicenseCode::TABLE,
            Activity::GetLicenseAsync => GetLicenseAsync::TABLE,
            Activity::OrderNotify => OrderNotify::TABLE,
            _ => return None,
        })
    }

    /// The body object, keys sorted at every depth (what kgsim signs and sends).
    pub(crate) fn to_body(&self) -> Map<String, Value> {
        let name = self.activity().wire_name(Protocol::V2).unwrap_or_default();
        let mut map = match for_each_request!(self, inner => serde_json::to_value(inner)) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        map.insert("activity".to_owned(), Value::String(name.to_owned()));
        match sort_keys_deep(&Value::Object(map)) {
            Value::Object(sorted) => sorted,
            _ => Map::new(),
        }
    }

    /// Parses a received body, validating it against the tables.
    pub(crate) fn from_body(body: &Value) -> Result<Self, RequestError> {
        let map = body.as_object().ok_or(RequestError::NotObject)?;
        let name = map
            .get("activity")
            .and_then(Value::as_str)
            .ok_or(RequestError::MissingActivity)?;
        let activity = Activity::from_wire(Protocol::V2, name)
            .ok_or_else(|| RequestError::UnknownActivity(name.to_owned()))?;
        let table =
            Self::table(activity).ok_or_else(|| RequestError::UnknownActivity(name.to_owned()))?;
        let mut violations = validate(map, ACTIVITY_FIELD, Rules::Tables);
        violations.extend(validate(map, table, Rules::Tables));
        if !violations.is_empty() {
            return Err(RequestError::Invalid(violations));
        }
        fn parse<T: WireMessage>(value: &Value) -> Result<T, RequestError> {
            serde_json::from_value(value.clone()).map_err(|_| RequestError::Invalid(vec![]))
        }
        Ok(match activity {
            Activity::NewInstance => Self::NewInstance(parse(body)?),
            Activity::QueryInstance => Self::QueryInstance(parse(body)?),
            Activity::RefreshInstance => Self::RefreshInstance(parse(body)?),
            Activity::InstanceStatus => Self::UpdateInstanceStatus(parse(body)?),
            Activity::ReleaseInstance => Self::ReleaseInstance(parse(body)?),
            Activity::Upgrade => Self::UpgradeInstance(parse(body)?),
            Activity::ChangeInstanceCheck => Self::ChangeInstanceCheck(parse(body)?),
            Activity::RefreshLicenseCode => Self::RefreshLicenseCode(parse(body)?),
            Activity::UpdateLicenseCodeStatus => Self::UpdateLicenseCodeStatus(parse(body)?),
            Activity::ReleaseLicenseCode => Self::ReleaseLicenseCode(parse(body)?),
            Activity::GetLicenseAsync => Self::GetLicenseAsync(parse(body)?),
            Activity::OrderNotify => Self::OrderNotify(parse(body)?),
            _ => return Err(RequestError::UnknownActivity(name.to_owned())),
        })
    }

    /// Whether this is a console debug request (`testFlag` `"1"`).
    pub(crate) fn is_debug(&self) -> bool {
        use crate::protocol::fields::QueryValue as _;
        for_each_request!(self, inner => inner.test_flag.query_value() == Some("1"))
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
    use serde_json::json;

    #[test]
    fn body_is_sorted_and_round_trips() {
        let request = Request::RefreshInstance(RefreshInstance {
            scene: scene::RENEWAL.into(),
            order_id: "CS2211181819B4LVS".into(),
            order_line_id: "CS2211181819B4LVS-000001".into(),
            instance_id: "10e758d0-31ad-4c4b-8f1b-81d03469a10e".into(),
            product_id: Some("OFFI461867333479178240".into()),
            expire_time: "20221124023618256".into(),
            test_flag: Some("1".into()),
        });
        let body = Value::Object(request.to_body());
        // The documented example body, byte for byte (spec §2.3).
        assert_eq!(
            body.to_string(),
            r#"{"activity":"refreshInstance","expireTime":"20221124023618256","instanceId":"10e758d0-31ad-4c4b-8f1b-81d03469a10e","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","productId":"OFFI461867333479178240","scene":"RENEWAL","testFlag":"1"}"#
        );
        assert_eq!(Request::from_body(&body), Ok(request));
    }

    #[test]
    fn rejects_bad_bodies() {
        assert_eq!(
            Request::from_body(&json!([1])),
            Err(RequestError::NotObject)
        );
        assert_eq!(
            Request::from_body(&json!({})),
            Err(RequestError::MissingActivity)
        );
        assert_eq!(
            Request::from_body(&json!({"activity": "expireInstance"})),
            Err(RequestError::UnknownActivity("expireInstance".into()))
        );
        assert_eq!(
            Request::from_body(&json!({"activity": "updateInstanceStatus", "instanceId": "i"})),
            Err(RequestError::Invalid(vec![Violation::Missing {
                path: "status".into()
            }]))
        );
        assert!(matches!(
            Request::from_body(&json!({"activity": "updateInstanceStatus", "instanceId": 5, "status": "FREEZE"})),
            Err(RequestError::Invalid(v)) if matches!(v[0], Violation::WrongType { .. })
        ));
    }

    #[test]
    fn change_instance_check_carries_an_object() {
        let body = json!({"activity": "changeInstanceCheck", "instanceId": "i", "productInfo": {"productId": "p"}, "testFlag": "1"});
        let request = Request::from_body(&body).unwrap();
        assert!(request.is_debug());
        assert_eq!(request.activity(), Activity::ChangeInstanceCheck);
    }
}
