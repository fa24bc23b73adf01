//! The identity centre (spec: koogallery-v2-kit-license.md §3.9): OAuth 2.0 authorize,
//! token (authorization_code and refresh_token), userinfo, logout, and CAS 3.0
//! serviceValidate — with the clients applicationSync delivered and the users authSync
//! announced, single-use codes and tickets that expire, and the documented error bodies.
//!
//! What a merchant's login callback gets wrong is a finding on its call: a wrong client
//! secret (not decrypted, or decrypted with the wrong OAEP reading), a code used twice, a
//! userinfo call without the token.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::checks::CheckId;
use crate::open_api::book::{Grant, IdentityState, State};
use crate::open_api::ops::Reply;
use crate::protocol::UnixMillis;
use crate::protocol::encoding::{PlusHandling, parse_query};
use crate::protocol::identity::{
    ACCESS_TOKEN_SECONDS, CODE_SECONDS, LOGIN_PAGE, OAuthError, REFRESH_TOKEN_SECONDS, SCOPE,
    TokenResponse, cas_code, cas_failure, cas_success,
};

/// The cookie the identity centre's login session lives in.
pub(crate) const SESSION_COOKIE: &str = "kgsim_session";

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

fn oauth_refusal(error: OAuthError, check: CheckId, why: impl Into<String>) -> Reply {
    Reply::new(error.answer().0, error.body()).finding(check, why)
}

fn params(text: &str) -> HashMap<String, String> {
    parse_query(text, PlusHandling::AsSpace)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// `GET authorize`: a logged-in browser (its session cookie) is sent back to `redirect_uri`
/// with a fresh single-use `code`, the `state` and the `tenant`; otherwise to the login page.
pub(crate) fn authorize(
    state: &mut State,
    query: &str,
    cookie: Option<&str>,
    now: UnixMillis,
) -> Reply {
    let params = params(query);
    if params.get("response_type").map(String::as_str) != Some("code") {
        let error = OAuthError::UnsupportedResponseType;
        return Reply::new(error.answer().0, error.body());
    }
    let (Some(client_id), Some(redirect_uri)) =
        (params.get("client_id"), params.get("redirect_uri"))
    else {
        let error = OAuthError::InvalidRequest;
        return Reply::new(error.answer().0, error.body());
    };
    let identity = &mut state.identity;
    let session = cookie.and_then(|value| identity.sessions.get(value).cloned());
    let Some((tenant, user)) = session else {
        // The unified login page takes the app's id, as its documentation writes the URL
        // (`portal-login?ind=UNOP&appId=`) [I:login-page-app-id].
        let app_id = identity
            .clients
            .get(client_id)
            .map_or_else(|| client_id.clone(), |c| c.app_id.clone());
        let mut outcome = Reply::new(302, json!({}));
        outcome.location = Some(format!("{LOGIN_PAGE}?ind=UNOP&appId={app_id}"));
        return outcome;
    };
    if !identity.clients.contains_key(client_id) {
        let error = OAuthError::BadClientCredentials;
        return Reply::new(error.answer().0, error.body());
    }
    let code = random_token("");
    identity.codes.insert(
        code.clone(),
        Grant {
            audience: client_id.clone(),
            redirect_uri: Some(redirect_uri.clone()),
            tenant: tenant.clone(),
            user,
            expires: now.plus_ms(CODE_SECONDS * 1000),
            used: false,
            origin: code.clone(),
        },
    );
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut location = format!("{redirect_uri}{separator}code={code}&tenant={tenant}");
    if let Some(state_param) = params.get("state") {
        location.push_str(&format!(
            "&state={}",
            percent_encoding::utf8_percent_encode(state_param, percent_encoding::NON_ALPHANUMERIC)
        ));
    }
    let mut outcome = Reply::new(302, json!({})).about([code, tenant]);
    outcome.location = Some(location);
    outcome
}

/// Issues an access and a refresh token for a grant.
fn issue_tokens(identity: &mut IdentityState, grant: &Grant, now: UnixMillis) -> Reply {
    let access = random_token("at-");
    let refresh = random_token("rt-");
    let token_grant = |seconds: i64| Grant {
        expires: now.plus_ms(seconds * 1000),
        used: false,
        ..grant.clone()
    };
    identity
        .tokens
        .insert(access.clone(), token_grant(ACCESS_TOKEN_SECONDS));
    identity
        .refresh_tokens
        .insert(refresh.clone(), token_grant(REFRESH_TOKEN_SECONDS));
    let body = TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_SECONDS,
        scope: SCOPE.into(),
        refresh_token: refresh,
    };
    Reply::new(200, serde_json::to_value(body).unwrap_or(Value::Null))
        .about([grant.origin.clone(), grant.tenant.clone()])
}

/// `POST token`: `authorization_code` or `refresh_token`, form-encoded, with the client's
/// plain secret.
pub(crate) fn token(state: &mut State, body: &[u8], form: bool, now: UnixMillis) -> Reply {
    if !form {
        return oauth_refusal(
            OAuthError::InvalidRequest,
            CheckId::SsoExchange,
            "the token request is not application/x-www-form-urlencoded",
        );
    }
    let params = params(&String::from_utf8_lossy(body));
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let identity = &mut state.identity;
    let client_id = get("client_id");
    let Some(client) = identity.clients.get(client_id).cloned() else {
        return oauth_refusal(
            OAuthError::BadClientCredentials,
            CheckId::SsoExchange,
            format!("client_id `{client_id}` is not one applicationSync delivered"),
        );
    };
    if !crate::protocol::secret::constant_time_eq(
        get("client_secret").as_bytes(),
        client.secret.as_bytes(),
    ) {
        return oauth_refusal(
            OAuthError::BadClientCredentials,
            CheckId::SsoExchange,
            "client_secret is not the one applicationSync delivered: decrypt clientSecret with the private key and the OAEP digests the product uses, and send the plain text",
        )
        .about([client.tenant]);
    }
    match get("grant_type") {
        "authorization_code" => exchange_code(
            identity,
            client_id,
            get("code"),
            params.get("redirect_uri"),
            now,
        ),
        "refresh_token" => {
            let refresh = get("refresh_token");
            match identity.refresh_tokens.get(refresh).cloned() {
                Some(grant) if grant.audience == client_id && grant.expires > now => {
                    issue_tokens(identity, &grant, now)
                }
                _ => oauth_refusal(
                    OAuthError::InvalidRefreshToken,
                    CheckId::SsoExchange,
                    "the refresh token is unknown, expired, or another client's",
                ),
            }
        }
        other => oauth_refusal(
            OAuthError::UnsupportedGrantType,
            CheckId::SsoExchange,
            format!("grant_type `{other}`; use authorization_code or refresh_token"),
        ),
    }
}

fn exchange_code(
    identity: &mut IdentityState,
    client_id: &str,
    code: &str,
    redirect_uri: Option<&String>,
    now: UnixMillis,
) -> Reply {
    let Some(grant) = identity.codes.get(code).cloned() else {
        return oauth_refusal(
            OAuthError::InvalidCode,
            CheckId::SsoExchange,
            format!("code `{code}` was never issued"),
        );
    };
    let refused = |error, why: &str| {
        oauth_refusal(error, CheckId::SsoExchange, why)
            .about([code.to_owned(), grant.tenant.clone()])
    };
    if grant.used {
        return refused(
            OAuthError::InvalidCode,
            "the code was already exchanged: codes are single-use",
        );
    }
    if grant.expires <= now {
        return refused(
            OAuthError::InvalidCode,
            "the code expired (codes live 5 minutes)",
        );
    }
    if grant.audience != client_id {
        return refused(
            OAuthError::ClientIdMismatch,
            "the code was issued to another client: use the client_id of the login's tenant",
        );
    }
    if redirect_uri.is_some_and(|uri| Some(uri) != grant.redirect_uri.as_ref()) {
        return refused(
            OAuthError::RedirectMismatch,
            "redirect_uri differs from the one the code was issued for",
        );
    }
    if let Some(entry) = identity.codes.get_mut(code) {
        entry.used = true;
    }
    issue_tokens(identity, &grant, now)
}

/// `GET userinfo` with `Authorization: Bearer <token>`.
pub(crate) fn userinfo(state: &State, authorization: Option<&str>, now: UnixMillis) -> Reply {
    let token = authorization
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
        .map(str::trim);
    let identity = &state.identity;
    let grant = token
        .and_then(|t| identity.tokens.get(t))
        .filter(|g| g.expires > now);
    let Some(grant) = grant else {
        let why = if token.is_none() {
            "no `Authorization: Bearer <access_token>` header"
        } else {
            "the access token is unknown or expired"
        };
        return oauth_refusal(OAuthError::Unauthorized, CheckId::SsoUserinfo, why);
    };
    match identity.user(&grant.tenant, &grant.user) {
        Some(user) => Reply::new(200, serde_json::to_value(user).unwrap_or(Value::Null))
            .about([grant.origin.clone(), grant.tenant.clone()]),
        None => oauth_refusal(
            OAuthError::Unauthorized,
            CheckId::SsoUserinfo,
            "the user's authorisation was withdrawn",
        ),
    }
}

/// `GET logout?redirect_url=`: back to the given page, or the login page.
pub(crate) fn logout(query: &str) -> Reply {
    let target = params(query)
        .remove("redirect_url")
        .unwrap_or_else(|| LOGIN_PAGE.to_owned());
    let mut outcome = Reply::new(302, json!({}));
    outcome.location = Some(target);
    outcome
}

/// `GET serviceValidate?service=&ticket=&format=XML|JSON` (JSON by default).
pub(crate) fn cas_validate(state: &mut State, query: &str, now: UnixMillis) -> Reply {
    let params = params(query);
    let xml = params
        .get("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("xml"));
    let content_type = if xml {
        "application/xml;charset=UTF-8"
    } else {
        "application/json;charset=UTF-8"
    };
    let answer = |text: String| {
        let mut outcome = Reply::new(200, json!({}));
        outcome.text = Some((content_type, text));
        outcome
    };
    let failure = |code: &str, why: &str, subjects: Vec<String>| {
        answer(cas_failure(code, why, xml))
            .finding(CheckId::SsoExchange, why)
            .about(subjects)
    };
    let (Some(service), Some(ticket)) = (params.get("service"), params.get("ticket")) else {
        return failure(
            cas_code::INVALID_REQUEST,
            "`service` and `ticket` are both required",
            vec![],
        );
    };
    let identity = &mut state.identity;
    let Some(grant) = identity.tickets.get(ticket).cloned() else {
        return failure(
            cas_code::INVALID_TICKET,
            &format!("ticket `{ticket}` was never issued"),
            vec![],
        );
    };
    let subjects = vec![ticket.clone(), grant.tenant.clone()];
    if grant.used || grant.expires <= now {
        return failure(
            cas_code::INVALID_TICKET,
            "the ticket was already validated or expired: tickets are single-use",
            subjects,
        );
    }
    if &grant.audience != service {
        return failure(
            cas_code::INVALID_SERVICE,
            &format!(
                "service `{service}` differs from the one the ticket was issued for (`{}`)",
                grant.audience
            ),
            subjects,
        );
    }
    if let Some(entry) = identity.tickets.get_mut(ticket) {
        entry.used = true;
    }
    match identity.user(&grant.tenant, &grant.user) {
        Some(user) => answer(cas_success(&user, now, xml)).about(subjects),
        None => failure(
            cas_code::INVALID_TICKET,
            "the user's authorisation was withdrawn",
            subjects,
        ),
    }
}

/// Issues a CAS ticket for a logged-in user and a service (the browser's redirect).
pub(crate) fn issue_ticket(
    state: &mut State,
    service: &str,
    tenant: &str,
    user: &str,
    now: UnixMillis,
) -> String {
    let ticket = format!("ST-{}", random_token(""));
    state.identity.tickets.insert(
        ticket.clone(),
        Grant {
            audience: service.to_owned(),
            redirect_uri: None,
            tenant: tenant.to_owned(),
            user: user.to_owned(),
            expires: now.plus_ms(CODE_SECONDS * 1000),
            used: false,
            origin: ticket.clone(),
        },
    );
    ticket
}

/// Opens a login session for a user; returns the cookie value.
pub(crate) fn open_session(state: &mut State, tenant: &str, user: &str) -> String {
    let cookie = random_token("s-");
    state
        .identity
        .sessions
        .insert(cookie.clone(), (tenant.to_owned(), user.to_owned()));
    cookie
}
