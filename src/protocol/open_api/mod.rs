//! The open APIs a merchant's systems call on the marketplace: query-order, usage push (new
//! and old), License 2.0 activate / heartbeat / software-usage-info, and the string /
//! file-stream upload (spec: koogallery-v2-kit-license.md §4.3, §4.6, §6, §7.2–7.5).
//!
//! This module is the wire format only — paths, message tables, codes, record rules — so
//! that kgsim's server and any client can share it; serving and judging live in
//! [`crate::open_api`].

pub(crate) mod license;
pub(crate) mod order;
pub(crate) mod upload;
pub(crate) mod usage;

use std::fmt;

/// The common prefix of the open APIs on `mkt.myhuaweicloud.com` (§4.3, §6.3, §7.2).
pub(crate) const PUBLIC_PREFIX: &str = "/api/mkp-openapi-public/global";

/// An open API a product's systems call, as a profile declares and a scenario requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpenApiUse {
    /// Query-order after purchases (every V2 merchant: newInstance carries no order details).
    QueryOrder,
    /// Usage push for on-demand instances.
    UsagePush,
    /// License 2.0 activation and heartbeat by the shipped software.
    License,
}

crate::slug_impls!(pub OpenApiUse, "open API", {
    QueryOrder = "query-order",
    UsagePush = "usage-push",
    License = "license",
});

/// How a caller proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// API Gateway `SDK-HMAC-SHA256` with the merchant's AK/SK (§6.4).
    Apigw,
    /// The usage push's own `signature`/`ts`/`nonce` headers with the access key (§7.2).
    UsageSignature,
    /// The identity centre's own: client credentials, Bearer tokens, tickets (§3.9).
    Identity,
}

/// One open-API operation, as routed from method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET …/v1/order/query?orderId=&orderLineId=` (§6.3).
    QueryOrder,
    /// `POST …/v1/license/activate` (§4.3).
    ActivateV1,
    /// `POST …/v2/license/activate`, a batch (§4.3).
    ActivateV2,
    /// `POST …/v1/license/heartbeat` (§4.3).
    HeartbeatV1,
    /// `POST …/v2/license/heartbeat`, a batch (§4.3).
    HeartbeatV2,
    /// `POST …/v2/license/software-usage-info` (§4.3).
    SoftwareUsageInfo,
    /// `POST …/v1/market-event/{event_id}/file` (§4.6).
    Upload {
        /// The marketplace event the upload answers.
        event_id: String,
    },
    /// `POST …/v1/isv/usage-data`, the new usage push (§7.2).
    UsagePush,
    /// `POST /rest/marketplace/v1/isv/usage-data`, the old usage push (§7.3).
    UsagePushOld,
    /// `GET /api/v1/oauth2/authorize` (identity centre, §3.9).
    OAuthAuthorize,
    /// `POST /api/v1/oauth2/token` (identity centre, §3.9).
    OAuthToken,
    /// `GET /api/v1/oauth2/userinfo` (identity centre, §3.9).
    OAuthUserInfo,
    /// `GET /api/v1/logout` (identity centre, §3.9).
    Logout,
    /// `GET /api/v1/cas/p3/serviceValidate` (identity centre, §3.9).
    CasValidate,
}

impl Endpoint {
    /// Every endpoint with a fixed path, for listings.
    pub(crate) const FIXED: [Endpoint; 13] = [
        Self::QueryOrder,
        Self::ActivateV1,
        Self::ActivateV2,
        Self::HeartbeatV1,
        Self::HeartbeatV2,
        Self::SoftwareUsageInfo,
        Self::UsagePush,
        Self::UsagePushOld,
        Self::OAuthAuthorize,
        Self::OAuthToken,
        Self::OAuthUserInfo,
        Self::Logout,
        Self::CasValidate,
    ];

    /// The endpoint a request's path names, if any (the method is checked by the server,
    /// which answers 405 as the gateway does).
    pub(crate) fn route(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        use crate::protocol::identity as id;
        match path {
            "/rest/marketplace/v1/isv/usage-data" => return Some(Self::UsagePushOld),
            id::AUTHORIZE_PATH => return Some(Self::OAuthAuthorize),
            id::TOKEN_PATH => return Some(Self::OAuthToken),
            id::USERINFO_PATH => return Some(Self::OAuthUserInfo),
            id::LOGOUT_PATH => return Some(Self::Logout),
            id::CAS_VALIDATE_PATH => return Some(Self::CasValidate),
            _ => {}
        }
        let rest = path.strip_prefix(PUBLIC_PREFIX)?;
        Some(match rest {
            "/v1/order/query" => Self::QueryOrder,
            "/v1/license/activate" => Self::ActivateV1,
            "/v2/license/activate" => Self::ActivateV2,
            "/v1/license/heartbeat" => Self::HeartbeatV1,
            "/v2/license/heartbeat" => Self::HeartbeatV2,
            "/v2/license/software-usage-info" => Self::SoftwareUsageInfo,
            "/v1/isv/usage-data" => Self::UsagePush,
            other => {
                let event = other
                    .strip_prefix("/v1/market-event/")?
                    .strip_suffix("/file")?;
                if event.is_empty() || event.contains('/') {
                    return None;
                }
                Self::Upload {
                    event_id: event.to_owned(),
                }
            }
        })
    }

    /// The path on the real host.
    pub(crate) fn path(&self) -> String {
        match self {
            Self::QueryOrder => format!("{PUBLIC_PREFIX}/v1/order/query"),
            Self::ActivateV1 => format!("{PUBLIC_PREFIX}/v1/license/activate"),
            Self::ActivateV2 => format!("{PUBLIC_PREFIX}/v2/license/activate"),
            Self::HeartbeatV1 => format!("{PUBLIC_PREFIX}/v1/license/heartbeat"),
            Self::HeartbeatV2 => format!("{PUBLIC_PREFIX}/v2/license/heartbeat"),
            Self::SoftwareUsageInfo => format!("{PUBLIC_PREFIX}/v2/license/software-usage-info"),
            Self::Upload { event_id } => format!("{PUBLIC_PREFIX}/v1/market-event/{event_id}/file"),
            Self::UsagePush => format!("{PUBLIC_PREFIX}/v1/isv/usage-data"),
            Self::UsagePushOld => "/rest/marketplace/v1/isv/usage-data".to_owned(),
            Self::OAuthAuthorize => crate::protocol::identity::AUTHORIZE_PATH.to_owned(),
            Self::OAuthToken => crate::protocol::identity::TOKEN_PATH.to_owned(),
            Self::OAuthUserInfo => crate::protocol::identity::USERINFO_PATH.to_owned(),
            Self::Logout => crate::protocol::identity::LOGOUT_PATH.to_owned(),
            Self::CasValidate => crate::protocol::identity::CAS_VALIDATE_PATH.to_owned(),
        }
    }

    /// Whether it belongs to the identity centre (§3.9) rather than the open APIs.
    pub(crate) fn is_identity(&self) -> bool {
        self.auth() == Auth::Identity
    }

    /// The HTTP method it takes.
    pub(crate) fn method(&self) -> &'static str {
        match self {
            Self::QueryOrder
            | Self::OAuthAuthorize
            | Self::OAuthUserInfo
            | Self::Logout
            | Self::CasValidate => "GET",
            _ => "POST",
        }
    }

    /// How callers authenticate.
    pub(crate) fn auth(&self) -> Auth {
        match self {
            Self::UsagePush => Auth::UsageSignature,
            Self::OAuthAuthorize
            | Self::OAuthToken
            | Self::OAuthUserInfo
            | Self::Logout
            | Self::CasValidate => Auth::Identity,
            _ => Auth::Apigw,
        }
    }

    /// A short name for reports (`query-order`, `usage-push`, …).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::QueryOrder => "query-order",
            Self::ActivateV1 => "license-activate",
            Self::ActivateV2 => "license-activate-batch",
            Self::HeartbeatV1 => "license-heartbeat",
            Self::HeartbeatV2 => "license-heartbeat-batch",
            Self::SoftwareUsageInfo => "software-usage-info",
            Self::Upload { .. } => "file-upload",
            Self::UsagePush => "usage-push",
            Self::UsagePushOld => "usage-push-old",
            Self::OAuthAuthorize => "oauth-authorize",
            Self::OAuthToken => "oauth-token",
            Self::OAuthUserInfo => "oauth-userinfo",
            Self::Logout => "logout",
            Self::CasValidate => "cas-validate",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The code an open-API answer carries: `error_code` (License, usage, upload, gateway) or
/// `resultCode` (query-order).
pub(crate) fn answer_code(answer: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(answer).ok()?;
    value
        .get("error_code")
        .or_else(|| value.get("resultCode"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The gateway's own refusals (`APIGW.*`), answered before an operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GatewayError {
    /// No `Authorization` header, or not an `SDK-HMAC-SHA256` one.
    MissingAuthorization,
    /// The signature does not match.
    IncorrectSignature,
    /// `X-Sdk-Date` missing, malformed, or too far from the gateway's clock.
    DateSkew,
    /// The AK is not known.
    UnknownAppKey,
}

impl GatewayError {
    /// HTTP status, code and message, as API Gateway's FAQ shows them: `APIGW.0303` with
    /// "Incorrect app authentication information: app not found | verify signature fail |
    /// signature expired" (apig-faq-0009); the missing header's code is not settled by a page
    /// and follows the IAM family's `APIGW.0301` [I:apigw-error-codes].
    pub(crate) fn answer(self) -> (u16, &'static str, &'static str) {
        match self {
            Self::MissingAuthorization => (
                401,
                "APIGW.0301",
                "Incorrect IAM authentication information: Authorization header missing or not SDK-HMAC-SHA256",
            ),
            Self::IncorrectSignature => (
                401,
                "APIGW.0303",
                "Incorrect app authentication information: verify signature fail",
            ),
            Self::DateSkew => (
                401,
                "APIGW.0303",
                "Incorrect app authentication information: signature expired",
            ),
            Self::UnknownAppKey => (
                401,
                "APIGW.0303",
                "Incorrect app authentication information: app not found",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_path_routes_back_to_its_endpoint() {
        for endpoint in Endpoint::FIXED {
            assert_eq!(Endpoint::route(&endpoint.path()), Some(endpoint.clone()));
            assert_eq!(
                Endpoint::route(&format!("{}/", endpoint.path())),
                Some(endpoint),
                "a trailing slash is the same path"
            );
        }
        assert_eq!(
            Endpoint::route(&format!("{PUBLIC_PREFIX}/v1/market-event/87b9/file")),
            Some(Endpoint::Upload {
                event_id: "87b9".into()
            })
        );
        assert_eq!(
            Endpoint::route(&format!("{PUBLIC_PREFIX}/v1/market-event//file")),
            None
        );
        assert_eq!(Endpoint::route("/api/other"), None);
    }
}
