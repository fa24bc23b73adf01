//! The marketplace identity centre a 联营 merchant logs its users in with: OAuth 2.0
//! (authorize, token, userinfo), logout, and CAS 3.0 ticket validation (spec:
//! koogallery-v2-kit-license.md §3.9).
//!
//! The wire format only — paths, answers, error bodies — shared by kgsim's identity centre
//! and the reference merchant's login callback.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::protocol::UnixMillis;

/// `GET {domain}/api/v1/oauth2/authorize`.
pub(crate) const AUTHORIZE_PATH: &str = "/api/v1/oauth2/authorize";
/// `POST {domain}/api/v1/oauth2/token` (form-encoded).
pub(crate) const TOKEN_PATH: &str = "/api/v1/oauth2/token";
/// `GET {domain}/api/v1/oauth2/userinfo` (Bearer).
pub(crate) const USERINFO_PATH: &str = "/api/v1/oauth2/userinfo";
/// `GET {domain}/api/v1/logout?redirect_url=`.
pub(crate) const LOGOUT_PATH: &str = "/api/v1/logout";
/// `GET {domain}/api/v1/cas/p3/serviceValidate?service=&ticket=&format=`.
pub(crate) const CAS_VALIDATE_PATH: &str = "/api/v1/cas/p3/serviceValidate";
/// Where the authorize endpoint sends a browser that is not logged in (§3.9 step 1).
pub(crate) const LOGIN_PAGE: &str = "/unified-login/#/portal-login";

/// The only scope (`get_user_info`, the default).
pub(crate) const SCOPE: &str = "get_user_info";
/// Access-token lifetime in seconds (the documented example: 7200).
pub(crate) const ACCESS_TOKEN_SECONDS: i64 = 7200;
/// Refresh-token lifetime: 30 days.
pub(crate) const REFRESH_TOKEN_SECONDS: i64 = 30 * 86_400;
/// How long an authorization code or a CAS ticket stays usable: undocumented; 5 minutes,
/// the common choice [I:identity-code-lifetime].
pub(crate) const CODE_SECONDS: i64 = 300;

/// A successful token answer (§3.9, AG/zh-cn_topic_0070649448).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokenResponse {
    /// The access token.
    pub(crate) access_token: String,
    /// `Bearer`.
    pub(crate) token_type: String,
    /// Seconds.
    pub(crate) expires_in: i64,
    /// `get_user_info`.
    pub(crate) scope: String,
    /// Issued by default, valid 30 days.
    pub(crate) refresh_token: String,
}

/// userinfo's answer (AG/zh-cn_topic_0070649450).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserInfo {
    /// The user's id.
    pub(crate) id: String,
    /// Login name (authSync `userName`).
    pub(crate) user_name: String,
    /// Display name.
    pub(crate) name: String,
    /// E-mail.
    pub(crate) email: String,
    /// Mobile.
    pub(crate) mobile: String,
    /// `user` or `admin`.
    pub(crate) role: String,
    /// Department name.
    pub(crate) organization_name: String,
    /// Department code.
    pub(crate) organization_code: String,
    /// Same as `id`.
    pub(crate) user_id: String,
    /// The tenant's name.
    pub(crate) project_name: String,
    /// The tenant's id.
    pub(crate) tenant: String,
}

/// An OAuth refusal, with its documented status and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OAuthError {
    /// Unknown, used or expired code: 400 `invalid_grant`.
    InvalidCode,
    /// Unknown or expired refresh token: 400 `invalid_grant`.
    InvalidRefreshToken,
    /// Unknown client or wrong secret: 403 `invalid_client` "Bad client credentials", as
    /// Huawei's FAQ shows it ("Oauth2.0通过code获取token接口报403") [I:token-bad-client-status].
    BadClientCredentials,
    /// The code was issued to another client: 400 `invalid_client` "Client ID mismatch".
    ClientIdMismatch,
    /// `redirect_uri` differs from the authorize request's: 400 `invalid_grant`.
    RedirectMismatch,
    /// A grant type other than authorization_code and refresh_token.
    UnsupportedGrantType,
    /// `response_type` other than `code`.
    UnsupportedResponseType,
    /// A mandatory parameter is missing, or the body is not form-encoded.
    InvalidRequest,
    /// userinfo without a valid Bearer token: 401 `unauthorized`.
    Unauthorized,
}

impl OAuthError {
    /// HTTP status, `error`, `error_description`.
    pub(crate) fn answer(self) -> (u16, &'static str, &'static str) {
        match self {
            Self::InvalidCode => (400, "invalid_grant", "Invalid authorization code"),
            Self::InvalidRefreshToken => (400, "invalid_grant", "Invalid refresh token"),
            Self::BadClientCredentials => (403, "invalid_client", "Bad client credentials"),
            Self::ClientIdMismatch => (400, "invalid_client", "Client ID mismatch"),
            Self::RedirectMismatch => (400, "invalid_grant", "Redirect URI mismatch."),
            Self::UnsupportedGrantType => (400, "unsupported_grant_type", "Unsupported grant type"),
            Self::UnsupportedResponseType => (
                400,
                "unsupported_response_type",
                "Unsupported response types",
            ),
            Self::InvalidRequest => (400, "invalid_request", "Missing or malformed parameters"),
            Self::Unauthorized => (
                401,
                "unauthorized",
                "Full authentication is required to access this resource",
            ),
        }
    }

    /// The JSON body.
    pub(crate) fn body(self) -> Value {
        let (_, error, description) = self.answer();
        json!({"error": error, "error_description": description})
    }
}

/// CAS failure codes (CAS 3.0; the failure format follows Huawei OneAccess [I:cas-failure-format]).
pub(crate) mod cas_code {
    /// Unknown, used or expired ticket.
    pub(crate) const INVALID_TICKET: &str = "INVALID_TICKET";
    /// The service differs from the one the ticket was issued for.
    pub(crate) const INVALID_SERVICE: &str = "INVALID_SERVICE";
    /// `service` or `ticket` missing.
    pub(crate) const INVALID_REQUEST: &str = "INVALID_REQUEST";
}

/// The CAS success attributes, in the documented order: `authenticationDate` in the
/// example's form (`2021-11-17T01:37:52.729Z`), the two flags booleans in JSON as Huawei
/// OrgID's schema types them [I:cas-attribute-types].
pub(crate) fn cas_attributes(
    user: &UserInfo,
    authenticated_at: UnixMillis,
) -> Vec<(&'static str, Value)> {
    vec![
        (
            "authenticationDate",
            Value::String(authenticated_at.to_iso_millis()),
        ),
        ("longTermAuthenticationRequestTokenUsed", Value::Bool(false)),
        ("isFromNewLogin", Value::Bool(true)),
        ("role", Value::String(user.role.clone())),
        (
            "organizationCode",
            Value::String(user.organization_code.clone()),
        ),
        ("name", Value::String(user.name.clone())),
        ("userName", Value::String(user.user_name.clone())),
        ("tenant", Value::String(user.tenant.clone())),
    ]
}

/// An attribute's text in the XML document.
fn attribute_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A CAS success document: XML as the documented example, or JSON.
pub(crate) fn cas_success(user: &UserInfo, authenticated_at: UnixMillis, xml: bool) -> String {
    let attributes = cas_attributes(user, authenticated_at);
    if xml {
        let attrs: String = attributes
            .iter()
            .map(|(n, v)| format!("<cas:{n}>{}</cas:{n}>", xml_escape(&attribute_text(v))))
            .collect();
        return format!(
            "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\"><cas:authenticationSuccess><cas:user>{}</cas:user><cas:attributes>{attrs}</cas:attributes></cas:authenticationSuccess></cas:serviceResponse>",
            xml_escape(&user.user_name)
        );
    }
    let attrs: serde_json::Map<String, Value> = attributes
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    json!({"serviceResponse": {"authenticationSuccess": {"user": user.user_name, "attributes": attrs}}})
        .to_string()
}

/// A CAS failure document.
pub(crate) fn cas_failure(code: &str, description: &str, xml: bool) -> String {
    if xml {
        return format!(
            "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\"><cas:authenticationFailure code=\"{code}\">{}</cas:authenticationFailure></cas:serviceResponse>",
            xml_escape(description)
        );
    }
    json!({"serviceResponse": {"authenticationFailure": {"code": code, "description": description}}})
        .to_string()
}

/// The user a CAS validation names, from either format; `None` for a failure.
pub(crate) fn cas_user(document: &str) -> Option<String> {
    if let Ok(value) = serde_json::from_str::<Value>(document) {
        return value["serviceResponse"]["authenticationSuccess"]["user"]
            .as_str()
            .map(str::to_owned);
    }
    let start = document.find("<cas:user>")? + "<cas:user>".len();
    let end = document[start..].find("</cas:user>")? + start;
    Some(
        document[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserInfo {
        UserInfo {
            user_name: "zhangsan".into(),
            name: "Zhang <San>".into(),
            tenant: "t1".into(),
            ..UserInfo::default()
        }
    }

    #[test]
    fn cas_documents_name_their_user_in_both_formats() {
        for xml in [true, false] {
            let success = cas_success(&user(), UnixMillis(1_637_113_072_729), xml);
            assert_eq!(cas_user(&success).as_deref(), Some("zhangsan"));
            let failure = cas_failure(cas_code::INVALID_TICKET, "ticket ST-1 not recognized", xml);
            assert_eq!(cas_user(&failure), None);
        }
        let xml = cas_success(&user(), UnixMillis(1_637_113_072_729), true);
        assert!(xml.starts_with("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">"));
        assert!(xml.contains("<cas:name>Zhang &lt;San&gt;</cas:name>"));
        // The documented example's date form; the flags are booleans in JSON.
        assert!(
            xml.contains(
                "<cas:authenticationDate>2021-11-17T01:37:52.729Z</cas:authenticationDate>"
            )
        );
        let json: Value =
            serde_json::from_str(&cas_success(&user(), UnixMillis(1_637_113_072_729), false))
                .unwrap();
        let attributes = &json["serviceResponse"]["authenticationSuccess"]["attributes"];
        assert_eq!(attributes["isFromNewLogin"], Value::Bool(true));
        assert_eq!(
            attributes["longTermAuthenticationRequestTokenUsed"],
            Value::Bool(false)
        );
    }

    #[test]
    fn errors_have_the_documented_bodies() {
        assert_eq!(
            OAuthError::InvalidCode.body(),
            json!({"error": "invalid_grant", "error_description": "Invalid authorization code"})
        );
        assert_eq!(OAuthError::Unauthorized.answer().0, 401);
        assert_eq!(
            OAuthError::BadClientCredentials.answer(),
            (403, "invalid_client", "Bad client credentials")
        );
    }
}
