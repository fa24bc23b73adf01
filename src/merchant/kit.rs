//! The reference merchant's Kit interfaces (spec: koogallery-v2-kit-license.md §1.4, §3):
//! the five syncs under `<production address>/produceAPI/v2/<name>`, verified with the Kit
//! key's `x-sign`, kept idempotently on the documented keys — tenant per instance + tenant,
//! app per instance + tenant + app, user per instance + tenant + app + userName, department
//! per instance + tenant + orgCode — and the app's client secret decrypted with the
//! merchant's RSA private key for the login.
//!
//! Error mapping as the sample: missing or stale `x-timestamp`, missing `x-nonce` → 000002;
//! missing or wrong `x-sign` → 000001.

use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::response::Response;

use crate::merchant::faults::Fault;
use crate::merchant::store::Reply;
use crate::merchant::{KitConfig, Merchant};
use crate::protocol::ResultCode;
use crate::protocol::v2::kit::{self, X_NONCE, X_SIGN, X_TIMESTAMP};
use crate::protocol::v2::kit_sync::{KitSync, KitUser, OrgInfo, flag};
use crate::protocol::v2::signature;

/// A tenant as tenantSync announced it.
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    /// Where its users log in (`domainName`).
    pub(crate) domain_name: String,
}

/// An app credential of a tenant, its secret decrypted.
#[derive(Debug, Clone)]
pub(crate) struct App {
    /// The tenant.
    pub(crate) tenant_id: String,
    /// OAuth client id.
    pub(crate) client_id: String,
    /// OAuth client secret, decrypted.
    pub(crate) client_secret: String,
}

/// What the Kit syncs built up.
#[derive(Debug, Default)]
pub(crate) struct KitStore {
    /// By instance + tenant.
    tenants: HashMap<(String, String), Tenant>,
    /// By instance + tenant + app.
    apps: HashMap<(String, String, String), App>,
    /// By instance + tenant + app + userName.
    users: HashMap<(String, String, String, String), KitUser>,
    /// By instance + tenant + orgCode.
    orgs: HashMap<(String, String, String), OrgInfo>,
}

/// Applies `flag` to one record: add and modify upsert, delete removes; a repeated add or a
/// delete of nothing succeeds (§3.2–3.6) — unless the merchant is not idempotent.
fn apply<K: std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, V>,
    key: K,
    value: V,
    flag: i64,
    idempotent: bool,
) -> Reply {
    match flag {
        flag::DELETE | flag::CANCEL => match map.remove(&key) {
            None if !idempotent => Reply::Code(ResultCode::InstanceNotFound),
            _ => Reply::Code(ResultCode::Success),
        },
        flag::ADD if !idempotent && map.contains_key(&key) => {
            Reply::Code(ResultCode::InternalError)
        }
        flag::ADD | flag::MODIFY => {
            map.insert(key, value);
            Reply::Code(ResultCode::Success)
        }
        _ => Reply::Code(ResultCode::InvalidParam),
    }
}

impl KitStore {
    /// The login details of a tenant: its domain and an app of it.
    pub(crate) fn login_details(&self, tenant_id: &str) -> Option<(Tenant, App)> {
        let tenant = self
            .tenants
            .iter()
            .find(|((_, t), _)| t == tenant_id)
            .map(|(_, t)| t.clone())?;
        let app = self
            .apps
            .values()
            .find(|a| a.tenant_id == tenant_id)?
            .clone();
        Some((tenant, app))
    }

    fn sync(&mut self, sync: KitSync, secret: Option<String>, idempotent: bool) -> Reply {
        match sync {
            KitSync::Tenant(t) => {
                let tenant = Tenant {
                    domain_name: t.domain_name,
                };
                apply(
                    &mut self.tenants,
                    (t.instance_id, t.tenant_id),
                    tenant,
                    t.flag,
                    idempotent,
                )
            }
            KitSync::Application(a) => {
                let Some(client_secret) = secret else {
                    return Reply::Code(ResultCode::InternalError);
                };
                let app = App {
                    tenant_id: a.tenant_id.clone(),
                    client_id: a.client_id,
                    client_secret,
                };
                let key = (a.instance_id, a.tenant_id, a.app_id);
                apply(&mut self.apps, key, app, a.flag, idempotent)
            }
            KitSync::Auth(auth) => {
                let mut reply = Reply::Code(ResultCode::Success);
                for user in auth.user_list {
                    let key = (
                        auth.instance_id.clone(),
                        auth.tenant_id.clone(),
                        auth.app_id.clone(),
                        user.user_name.clone(),
                    );
                    let one = apply(&mut self.users, key, user, auth.flag, idempotent);
                    if !matches!(one, Reply::Code(ResultCode::Success)) {
                        reply = one;
                    }
                }
                reply
            }
            KitSync::SingleOrg(o) => {
                let org = OrgInfo {
                    org_code: o.org_code.clone(),
                    org_name: o.org_name,
                    parent_code: o.parent_code,
                };
                let key = (o.instance_id, o.tenant_id, o.org_code);
                apply(&mut self.orgs, key, org, o.flag, idempotent)
            }
            KitSync::AllOrg(all) => {
                // A full replacement: what was there and is not listed goes.
                self.orgs
                    .retain(|(i, t, _), _| !(*i == all.instance_id && *t == all.tenant_id));
                for org in all.org_info_list {
                    let key = (
                        all.instance_id.clone(),
                        all.tenant_id.clone(),
                        org.org_code.clone(),
                    );
                    self.orgs.insert(key, org);
                }
                Reply::Code(ResultCode::Success)
            }
        }
    }
}

/// JSON text with every non-ASCII character escaped as `\uXXXX` (UTF-16 units), as
/// Python's `json.dumps` writes by default.
fn escape_non_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// JSON text with `<>&='` escaped as Gson (and Go's `json.Marshal`, for `<>&`) writes them.
fn escape_html(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' | '>' | '&' | '=' | '\'' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Merchant {
    /// Handles one Kit sync: verify, parse, apply, answer.
    pub(crate) async fn handle_kit(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        let reply = match self.kit_reply(path, headers, body) {
            Ok(reply) | Err(reply) => reply,
        };
        self.respond(&reply).await
    }

    fn verify_kit(&self, kit: &KitConfig, headers: &HeaderMap, body: &[u8]) -> Result<(), Reply> {
        if self.faults.has(Fault::KitIgnoresXsign) {
            return Ok(());
        }
        let invalid = || Reply::Code(ResultCode::InvalidParam);
        let (Some(timestamp), Some(nonce)) =
            (header(headers, X_TIMESTAMP), header(headers, X_NONCE))
        else {
            return Err(invalid());
        };
        signature::check_freshness(timestamp, (self.clock)(), self.freshness)
            .map_err(|_| invalid())?;
        let key = kit.key.as_ref().unwrap_or(&self.key);
        let signed = header(headers, X_SIGN)
            .is_some_and(|sign| self.kit_sign_matches(key, (nonce, timestamp), body, sign));
        if signed {
            Ok(())
        } else {
            Err(Reply::Code(ResultCode::AuthFailed))
        }
    }

    /// Whether a received `x-sign` is the merchant's own: correctly (over the canonical
    /// body, either hex case), or as one of the faults gets it wrong.
    fn kit_sign_matches(
        &self,
        key: &crate::protocol::AccessKey,
        (nonce, timestamp): (&str, &str),
        body: &[u8],
        received: &str,
    ) -> bool {
        let faulty = [
            Fault::KitRawBodySign,
            Fault::KitAsciiEscape,
            Fault::KitHtmlEscape,
            Fault::KitLowercaseXsign,
        ];
        if !faulty.iter().any(|f| self.faults.has(*f)) {
            return kit::verify(key, nonce, timestamp, body, received);
        }
        let Ok(canonical) = crate::protocol::v2::canonical::canonical_body(body) else {
            return false;
        };
        let payload = if self.faults.has(Fault::KitRawBodySign) {
            String::from_utf8_lossy(body).into_owned()
        } else if self.faults.has(Fault::KitAsciiEscape) {
            escape_non_ascii(&canonical)
        } else if self.faults.has(Fault::KitHtmlEscape) {
            escape_html(&canonical)
        } else {
            canonical
        };
        let expected = kit::x_sign(key, nonce, timestamp, &payload);
        if self.faults.has(Fault::KitLowercaseXsign) {
            return expected.to_ascii_lowercase() == received;
        }
        expected.eq_ignore_ascii_case(received)
    }

    fn kit_reply(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Result<Reply, Reply> {
        let Some(kit) = &self.kit else {
            // Not a 联营 merchant: there is no Kit here.
            return Err(Reply::Code(ResultCode::InvalidParam));
        };
        self.verify_kit(kit, headers, body)?;
        let invalid = || Reply::Code(ResultCode::InvalidParam);
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid())?;
        let sync = KitSync::from_body(path, &value).map_err(|_| invalid())?;
        let secret = match &sync {
            KitSync::Application(app) => {
                let decrypted = if self.faults.has(Fault::KitRsaPkcs1) {
                    kit.private_key.decrypt_pkcs1v15(&app.client_secret)
                } else {
                    kit.private_key.decrypt(kit.digest, &app.client_secret)
                };
                match decrypted {
                    Ok(secret) => Some(secret),
                    // The sample answers a decryption failure with an error code (§3.3).
                    Err(_) => return Err(Reply::Code(ResultCode::InternalError)),
                }
            }
            _ => None,
        };
        let idempotent = !self.faults.has(Fault::KitNotIdempotent);
        Ok(self.kit_store().sync(sync, secret, idempotent))
    }
}
