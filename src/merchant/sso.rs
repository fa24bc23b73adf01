//! The reference merchant's login callback (spec: koogallery-v2-kit-license.md §3.9): the
//! browser arrives from the identity centre with `code` and `tenant` (OAuth 2.0) or
//! `ticket` and `tenant` (CAS); the merchant finds the tenant's identity-centre domain
//! (tenantSync) and its app's client (applicationSync, secret decrypted), exchanges the code
//! and reads the user — or validates the ticket against its own callback as `service`.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use std::sync::Arc;

use crate::merchant::faults::Fault;
use crate::merchant::{LOGIN_PATH, Merchant};
use crate::protocol::encoding::{PlusHandling, parse_query};

/// The callback's answer: a page for the browser.
fn page(status: StatusCode, text: String) -> Response {
    (status, [("content-type", "text/plain;charset=UTF-8")], text).into_response()
}

/// `GET /sso/callback?code=…&tenant=…` or `?tenant=…&ticket=…`.
pub(crate) async fn callback(
    State(merchant): State<Arc<Merchant>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_query(&query.unwrap_or_default(), PlusHandling::AsSpace).unwrap_or_default();
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let Some(tenant) = get("tenant") else {
        return page(StatusCode::BAD_REQUEST, "no tenant".into());
    };
    if merchant.faults.has(Fault::LoginNoExchange) {
        return page(StatusCode::OK, "welcome".into());
    }
    let (Some(open_api), Some((tenant_record, app))) = (
        merchant.open_api.clone(),
        merchant.kit_store().login_details(&tenant),
    ) else {
        return page(StatusCode::FORBIDDEN, "unknown tenant".into());
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let callback = format!("http://{host}{LOGIN_PATH}");
    let domain = tenant_record.domain_name.trim_end_matches('/');
    if let Some(ticket) = get("ticket") {
        let service = format!("{callback}?tenant={tenant}");
        return match open_api.validate_ticket(domain, &service, &ticket).await {
            Some(user) => page(StatusCode::OK, format!("welcome, {user}")),
            None => page(StatusCode::FORBIDDEN, "the ticket was not validated".into()),
        };
    }
    let Some(code) = get("code") else {
        return page(StatusCode::BAD_REQUEST, "no code".into());
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", callback.as_str()),
    ];
    let Some(token) = open_api.exchange_code(domain, &form).await else {
        return page(StatusCode::FORBIDDEN, "the code was not exchanged".into());
    };
    if merchant.faults.has(Fault::LoginNoUserinfo) {
        return page(StatusCode::OK, "welcome".into());
    }
    match open_api.userinfo(domain, &token).await {
        Some(user) => page(
            StatusCode::OK,
            format!("welcome, {}", user["name"].as_str().unwrap_or_default()),
        ),
        None => page(StatusCode::FORBIDDEN, "the user was not read".into()),
    }
}
