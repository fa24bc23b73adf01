//! The five joint-operation Kit syncs, declared from the spec's tables (spec:
//! koogallery-v2-kit-license.md §3.2–3.6).
//!
//! Unlike the basic interfaces, a Kit body binds to `Map<String,Object>` (§1.1): `flag` and
//! `testFlag` are JSON integers, `userList` and `orgInfoList` JSON arrays (V1 sent strings,
//! §3.7). `timeStamp` is Beijing time (UTC+8), `yyyyMMddHHmmssSSS`, filled in when the call
//! is signed. The sync is named by the sub-path the platform appends to the production
//! address, not by an `activity` field.

use serde_json::{Map, Value};

use crate::protocol::activity::Activity;
use crate::protocol::fields::wire_message;
use crate::protocol::fields::{Field, Kind, Rules, Violation, WireMessage, text, validate};
use crate::protocol::v2::canonical::sort_keys_deep;

/// `flag` values (§3.2–3.5): what the sync does to the record.
pub(crate) mod flag {
    /// Delete.
    pub(crate) const DELETE: i64 = 0;
    /// Add.
    pub(crate) const ADD: i64 = 1;
    /// Modify.
    pub(crate) const MODIFY: i64 = 2;
    /// authSync only: the authorisation is withdrawn (取消授权).
    pub(crate) const CANCEL: i64 = 3;
}

wire_message! {
    /// `tenantSync` body (§3.2). `instanceId`/`orderId` are empty when the seller applies
    /// for an app credential.
    pub struct TenantSync {
        /// The instance bound to the enterprise.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// Its order.
        order_id: String = "orderId", Mandatory, text(64);
        /// The enterprise (tenant) id.
        tenant_id: String = "tenantId", Mandatory, text(64);
        /// Routes the end user's login to the buyer's domain.
        tenant_code: String = "tenantCode", Mandatory, text(64);
        /// Enterprise name.
        name: String = "name", Mandatory, text(255);
        /// The identity-centre domain assigned by the marketplace, with `https://`.
        domain_name: String = "domainName", Mandatory, text(255);
        /// 0 delete, 1 add, 2 modify (name/domainName only).
        flag: i64 = "flag", Mandatory, Kind::Integer;
        /// 0 production, 1 debug.
        test_flag: i64 = "testFlag", Mandatory, Kind::Integer;
        /// UTC+8 `yyyyMMddHHmmssSSS`.
        time_stamp: String = "timeStamp", Mandatory, text(17);
    }
}

wire_message! {
    /// `applicationSync` body (§3.3).
    pub struct ApplicationSync {
        /// The instance (empty for a seller's credential application).
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The tenant.
        tenant_id: String = "tenantId", Mandatory, text(64);
        /// The app.
        app_id: String = "appId", Mandatory, text(64);
        /// OAuth client id for this tenant and app.
        client_id: String = "clientId", Mandatory, text(64);
        /// The OAuth client secret, RSA-OAEP encrypted with the merchant's public key,
        /// Base64.
        client_secret: String = "clientSecret", Mandatory, text(4096);
        /// 0 delete, 1 add, 2 modify.
        flag: i64 = "flag", Mandatory, Kind::Integer;
        /// 0 production, 1 debug.
        test_flag: i64 = "testFlag", Mandatory, Kind::Integer;
        /// UTC+8 `yyyyMMddHHmmssSSS`.
        time_stamp: String = "timeStamp", Mandatory, text(17);
    }
}

wire_message! {
    /// One `userList` entry of authSync (§3.4).
    pub struct KitUser {
        /// Login name; equals the identity centre's `userName`.
        user_name: String = "userName", Mandatory, text(64);
        /// Display name.
        name: String = "name", Mandatory, text(64);
        /// Department code.
        org_code: String = "orgCode", Mandatory, text(64);
        /// Position.
        position: Option<String> = "position", Optional, text(64);
        /// Employee number.
        employee_code: Option<String> = "employeeCode", Optional, text(64);
        /// 1 regular, 2 intern, 3 dispatched, 4 outsourced.
        employee_type: Option<i64> = "employeeType", Optional, Kind::Integer;
        /// `user` or `admin`.
        role: String = "role", Mandatory, text(32);
        /// `"true"` or `"false"`.
        enable: String = "enable", Mandatory, text(8);
        /// Privacy field.
        mobile: Option<String> = "mobile", Optional, text(32);
        /// Privacy field.
        email: Option<String> = "email", Optional, text(128);
        /// Work place.
        work_place: Option<String> = "workPlace", Optional, text(256);
        /// Entry date.
        entry_date: Option<String> = "entryDate", Optional, text(20);
    }
}

wire_message! {
    /// `authSync` body (§3.4): at most 500 users per call.
    pub struct AuthSync {
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The tenant.
        tenant_id: String = "tenantId", Mandatory, text(64);
        /// The app.
        app_id: String = "appId", Mandatory, text(64);
        /// The users, a JSON array in V2.
        user_list: Vec<KitUser> = "userList", Mandatory, Kind::List(KitUser::TABLE);
        /// When the authorisation was synchronised, same format as `timeStamp`.
        current_sync_time: String = "currentSyncTime", Mandatory, text(17);
        /// 0 delete, 1 add, 2 modify, 3 cancel the authorisation.
        flag: i64 = "flag", Mandatory, Kind::Integer;
        /// 0 production, 1 debug.
        test_flag: i64 = "testFlag", Mandatory, Kind::Integer;
        /// UTC+8 `yyyyMMddHHmmssSSS`.
        time_stamp: String = "timeStamp", Mandatory, text(17);
    }
}

wire_message! {
    /// `singleOrgSync` body (§3.5).
    pub struct SingleOrgSync {
        /// The instance.
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The tenant.
        tenant_id: String = "tenantId", Mandatory, text(64);
        /// Department code, unique within the tenant.
        org_code: String = "orgCode", Mandatory, text(64);
        /// Department name, unique at its level.
        org_name: String = "orgName", Mandatory, text(128);
        /// Parent department; absent at the top level.
        parent_code: Option<String> = "parentCode", Optional, text(64);
        /// 0 delete, 1 add, 2 modify.
        flag: i64 = "flag", Mandatory, Kind::Integer;
        /// 0 production, 1 debug.
        test_flag: i64 = "testFlag", Mandatory, Kind::Integer;
        /// UTC+8 `yyyyMMddHHmmssSSS`.
        time_stamp: String = "timeStamp", Mandatory, text(17);
    }
}

wire_message! {
    /// One `orgInfoList` entry of allOrgSync (§3.6).
    pub struct OrgInfo {
        /// Department code.
        org_code: String = "orgCode", Mandatory, text(64);
        /// Department name.
        org_name: String = "orgName", Mandatory, text(128);
        /// Parent department.
        parent_code: Option<String> = "parentCode", Optional, text(64);
    }
}

wire_message! {
    /// `allOrgSync` body (§3.6): every department, no flag — a full replacement [I:all-org-sync-flag].
    pub struct AllOrgSync {
        /// The instance (empty for a seller's credential application).
        instance_id: String = "instanceId", Mandatory, text(64);
        /// The tenant.
        tenant_id: String = "tenantId", Mandatory, text(64);
        /// The departments, a JSON array (the doc example quotes it as a string, §9 item 5).
        org_info_list: Vec<OrgInfo> = "orgInfoList", Mandatory, Kind::List(OrgInfo::TABLE);
        /// 0 production, 1 debug.
        test_flag: i64 = "testFlag", Mandatory, Kind::Integer;
        /// UTC+8 `yyyyMMddHHmmssSSS`.
        time_stamp: String = "timeStamp", Mandatory, text(17);
    }
}

/// The most users one authSync carries (V1 page; assumed for V2, §3.4 [I:auth-sync-user-limit]).
pub(crate) const MAX_USERS_PER_SYNC: usize = 500;

/// A typed Kit sync: one variant per sub-path.
#[derive(Debug, Clone, PartialEq)]
pub enum KitSync {
    /// tenantSync.
    Tenant(TenantSync),
    /// applicationSync.
    Application(ApplicationSync),
    /// authSync.
    Auth(AuthSync),
    /// singleOrgSync.
    SingleOrg(SingleOrgSync),
    /// allOrgSync.
    AllOrg(AllOrgSync),
}

/// Why a body is not a valid Kit sync.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum KitSyncError {
    /// The body is not a JSON object.
    #[error("the body is not a JSON object")]
    NotObject,
    /// The path names no Kit sync.
    #[error("`{0}` is not a Kit sync path")]
    UnknownPath(String),
    /// Mandatory fields missing, too long, or of the wrong type.
    #[error("invalid fields: {0:?}")]
    Invalid(Vec<Violation>),
}

macro_rules! for_each_sync {
    ($self:expr, $inner:ident => $body:expr) => {
        match $self {
            KitSync::Tenant($inner) => $body,
            KitSync::Application($inner) => $body,
            KitSync::Auth($inner) => $body,
            KitSync::SingleOrg($inner) => $body,
            KitSync::AllOrg($inner) => $body,
        }
    };
}

impl KitSync {
    /// The sync it is.
    pub(crate) fn activity(&self) -> Activity {
        match self {
            Self::Tenant(_) => Activity::TenantSync,
            Self::Application(_) => Activity::ApplicationSync,
            Self::Auth(_) => Activity::AuthSync,
            Self::SingleOrg(_) => Activity::SingleOrgSync,
            Self::AllOrg(_) => Activity::AllOrgSync,
        }
    }

    /// Its table.
    pub(crate) fn table(activity: Activity) -> Option<&'static [Field]> {
        Some(match activity {
            Activity::TenantSync => TenantSync::TABLE,
            Activity::ApplicationSync => ApplicationSync::TABLE,
            Activity::AuthSync => AuthSync::TABLE,
            Activity::SingleOrgSync => SingleOrgSync::TABLE,
            Activity::AllOrgSync => AllOrgSync::TABLE,
            _ => return None,
        })
    }

    /// Whether it is a console debug sync (`testFlag` 1).
    #[cfg(test)]
    pub(crate) fn is_debug(&self) -> bool {
        for_each_sync!(self, inner => inner.test_flag == 1)
    }

    /// Sets `timeStamp` (and authSync's `currentSyncTime` when empty): done when the sync is
    /// signed.
    pub(crate) fn stamp(&mut self, time_stamp: &str) {
        if let Self::Auth(auth) = self
            && auth.current_sync_time.is_empty()
        {
            time_stamp.clone_into(&mut auth.current_sync_time);
        }
        for_each_sync!(self, inner => time_stamp.clone_into(&mut inner.time_stamp));
    }

    /// The body object, keys sorted at every depth (what kgsim signs and sends).
    pub(crate) fn to_body(&self) -> Map<String, Value> {
        let value = for_each_sync!(self, inner => serde_json::to_value(inner));
        match value.map(|v| sort_keys_deep(&v)) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// Parses a received body for the sync `path` names, validating it against the table.
    /// allOrgSync's `orgInfoList` is also taken as a JSON string holding the array, as the
    /// documented example sends it (§3.6, §9 item 5).
    pub(crate) fn from_body(path: &str, body: &Value) -> Result<Self, KitSyncError> {
        let activity =
            Activity::from_kit_path(path).ok_or_else(|| KitSyncError::UnknownPath(path.into()))?;
        let mut map = body.as_object().cloned().ok_or(KitSyncError::NotObject)?;
        if let Some(Value::String(quoted)) = map.get("orgInfoList")
            && let Ok(list @ Value::Array(_)) = serde_json::from_str::<Value>(quoted)
        {
            map.insert("orgInfoList".into(), list);
        }
        let table = Self::table(activity).ok_or_else(|| KitSyncError::UnknownPath(path.into()))?;
        let violations = validate(&map, table, Rules::Tables);
        if !violations.is_empty() {
            return Err(KitSyncError::Invalid(violations));
        }
        fn parse<T: WireMessage>(map: Map<String, Value>) -> Result<T, KitSyncError> {
            serde_json::from_value(Value::Object(map)).map_err(|_| KitSyncError::Invalid(vec![]))
        }
        Ok(match activity {
            Activity::TenantSync => Self::Tenant(parse(map)?),
            Activity::ApplicationSync => Self::Application(parse(map)?),
            Activity::AuthSync => Self::Auth(parse(map)?),
            Activity::SingleOrgSync => Self::SingleOrg(parse(map)?),
            _ => Self::AllOrg(parse(map)?),
        })
    }
}

/// The presence rule of `flag` for a sync: allOrgSync has none.
#[cfg(test)]
pub(crate) fn has_flag(activity: Activity) -> bool {
    KitSync::table(activity).is_some_and(|t| {
        t.iter()
            .any(|f| f.name == "flag" && f.presence == crate::protocol::fields::Presence::Mandatory)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tenant() -> KitSync {
        KitSync::Tenant(TenantSync {
            instance_id: "huaiweitest123456".into(),
            order_id: "CS1906666666ABCDE".into(),
            tenant_id: "68cbc86abc2018ab880d92f36422fa0e".into(),
            tenant_code: "huawei".into(),
            name: "huaiweitest".into(),
            domain_name: "https://example.tenantaccount.com".into(),
            flag: flag::ADD,
            test_flag: 0,
            time_stamp: String::new(),
        })
    }

    #[test]
    fn the_documented_tenant_sync_is_the_signed_vector_payload() {
        let mut sync = tenant();
        sync.stamp("20220413093539534");
        // The payload of the Kit signature vector (spec §1.6), byte for byte.
        assert_eq!(
            Value::Object(sync.to_body()).to_string(),
            crate::protocol::test_vectors::text("v2_kit_signature", "body")
        );
        let parsed = KitSync::from_body(
            "/isv/produce/produceAPI/v2/tenantSync",
            &Value::Object(sync.to_body()),
        );
        assert_eq!(parsed, Ok(sync));
    }

    #[test]
    fn flags_are_integers_and_lists_are_arrays() {
        let body = json!({"instanceId": "i", "orderId": "o", "tenantId": "t", "tenantCode": "c",
            "name": "n", "domainName": "https://d", "flag": "1", "testFlag": 0, "timeStamp": "1"});
        assert!(matches!(
            KitSync::from_body("/produceAPI/v2/tenantSync", &body),
            Err(KitSyncError::Invalid(v)) if v[0].path() == "flag"
        ));
        let quoted = json!({"instanceId": "", "tenantId": "t", "testFlag": 1, "timeStamp": "1",
            "orgInfoList": "[{\"orgCode\":\"a\",\"orgName\":\"A\"}]"});
        let KitSync::AllOrg(all) =
            KitSync::from_body("/produceAPI/v2/allOrgSync", &quoted).unwrap()
        else {
            panic!("not allOrgSync")
        };
        assert_eq!(all.org_info_list[0].org_code, "a");
        assert!(matches!(
            KitSync::from_body("/produceAPI/v2/nope", &quoted),
            Err(KitSyncError::UnknownPath(_))
        ));
        assert!(has_flag(Activity::AuthSync) && !has_flag(Activity::AllOrgSync));
    }
}
