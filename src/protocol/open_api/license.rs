//! License 2.0 open APIs: activate, heartbeat (query), software-usage-info (spec:
//! koogallery-v2-kit-license.md §4.3), their bodies and error codes.

use serde::{Deserialize, Serialize};

/// The License APIs' error codes with their HTTP status (§4.3 "Error codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LicenseCode {
    /// 92020000 success.
    Success,
    /// 92020001 internal error.
    Internal,
    /// 92020002 invalid parameter.
    InvalidParameter,
    /// 92020003 illegal state (e.g. already activated).
    IllegalState,
    /// 92020004 the buyer has not received the code yet.
    NotReceived,
    /// 92020005 the code does not exist.
    NotExist,
    /// 92020011 the code has not been activated.
    NotActivated,
    /// 92020020 a batch holds an invalid code.
    InvalidInBatch,
    /// 95000001 a parameter fails its regex, presence or length.
    ParamInvalid,
    /// 95000002 the method is not supported.
    MethodNotSupported,
    /// 95000003 the Content-Type is not application/json.
    ContentType,
    /// 95000004 the body is not readable JSON.
    NotReadable,
}

impl LicenseCode {
    /// HTTP status, `error_code`, `error_msg`.
    pub(crate) fn answer(self) -> (u16, &'static str, &'static str) {
        match self {
            Self::Success => (200, "92020000", "success"),
            Self::Internal => (200, "92020001", "internal error"),
            Self::InvalidParameter => (200, "92020002", "invalid parameter"),
            Self::IllegalState => (200, "92020003", "illegal state"),
            Self::NotReceived => (200, "92020004", "can not active before user received."),
            Self::NotExist => (200, "92020005", "license code notexist"),
            Self::NotActivated => (200, "92020011", "license code has been not activated."),
            Self::InvalidInBatch => (200, "92020020", "Invalid license code exists."),
            Self::ParamInvalid => (400, "95000001", "req param is invalid"),
            Self::MethodNotSupported => (405, "95000002", "Request method not supported"),
            Self::ContentType => (415, "95000003", "Content type not supported"),
            Self::NotReadable => (400, "95000004", "req message is not readable"),
        }
    }
}

/// `activate` v1 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ActivateV1 {
    /// The code (M 64).
    pub(crate) license: String,
    /// When it takes effect, `yyyyMMddHHmmss` UTC (O 16).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) real_effect_time: Option<String>,
}

/// `activate` v2 body: a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ActivateV2 {
    /// At most 100 codes.
    pub(crate) license_list: Vec<String>,
    /// When they take effect (O 16).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) real_effect_time: Option<String>,
}

/// `heartbeat` v1 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HeartbeatV1 {
    /// The code (M 64).
    pub(crate) license: String,
    /// Being sunset in favour of software-usage-info (O).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) heartbeat_info: Option<HeartbeatInfo>,
}

/// Who uses the software.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HeartbeatInfo {
    /// The end user's id in the merchant's software (M 256).
    pub(crate) third_party_account: String,
    /// Their IP (O 32).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) ip: Option<String>,
}

/// `heartbeat` v2 body: a batch: the v2 table was not retrieved; `license_list` as for
/// activate v2 [I:heartbeat-v2-body].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HeartbeatV2 {
    /// At most 100 codes.
    pub(crate) license_list: Vec<String>,
}

/// `software-usage-info` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SoftwareUsage {
    /// At most 100 entries.
    pub(crate) usage_info: Vec<SoftwareUsageEntry>,
}

/// One code's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SoftwareUsageEntry {
    /// The code (M 64).
    pub(crate) license: String,
    /// At most 100 entries, each exactly one of `id` or `active_num` (the capitalisation is
    /// the spec's).
    #[serde(rename = "software_usage_Info")]
    pub(crate) software_usage_info: Vec<UsageDatum>,
}

/// A login id or a daily active count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UsageDatum {
    /// A login id (O 256).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) id: Option<String>,
    /// A daily active count (O).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) active_num: Option<u64>,
}

/// A code's status in heartbeat answers (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum LicenseStatus {
    /// In use.
    Alive,
    /// Its period ended.
    Expired,
    /// Released.
    Released,
}

/// What heartbeat answers about a code (`LicenseInfo`; fields beyond the first three not
/// retrieved, `expire_time` expected from the page intro [I:heartbeat-license-info]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LicenseInfo {
    /// The code.
    pub(crate) license_code: String,
    /// `ALIVE`, `EXPIRED`, `RELEASED`.
    pub(crate) status: LicenseStatus,
    /// When it was activated, `yyyyMMddHHmmss` UTC.
    pub(crate) activate_time: String,
    /// When its period ends, `yyyyMMddHHmmss` UTC, for codes that expire [I:heartbeat-license-info].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) expire_time: Option<String>,
}

/// Whether a string is a well-formed code: `PL` and up to 62 more letters or digits (the
/// spec shows `PL…` codes of unknown length) [I:license-code-format].
#[cfg(test)]
pub(crate) fn is_code(text: &str) -> bool {
    text.len() <= 64 && text.starts_with("PL") && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_as_the_examples_show() {
        let v1: ActivateV1 = serde_json::from_str(r#"{"license":"PLXXXXXX"}"#).unwrap();
        assert_eq!(v1.license, "PLXXXXXX");
        let v2: ActivateV2 = serde_json::from_str(
            r#"{"license_list":["PL001","PL002"],"real_effect_time":"20260102153555"}"#,
        )
        .unwrap();
        assert_eq!(v2.license_list.len(), 2);
        let beat: HeartbeatV1 = serde_json::from_str(
            r#"{"license":"PLXXXXXX","heartbeatInfo":{"thirdPartyAccount":"myaccount1","ip":"192.168.1.51"}}"#,
        )
        .unwrap();
        assert_eq!(
            beat.heartbeat_info.unwrap().third_party_account,
            "myaccount1"
        );
        let usage: SoftwareUsage = serde_json::from_str(
            r#"{"usage_info":[{"license":"PLXXXXXX","software_usage_Info":[{"active_num":100}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            usage.usage_info[0].software_usage_info[0].active_num,
            Some(100)
        );
        assert!(is_code("PLXXXXXX") && !is_code("XX") && !is_code("PL-1"));
    }
}
