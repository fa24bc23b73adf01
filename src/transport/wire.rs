//! Turning a typed request into what goes on the wire, signed with the wall clock at the
//! moment of sending — and, when a scenario asks, tampered with after signing.
//!
//! Business time follows the virtual clock, but signing time is real: a correct merchant
//! must never reject a replayed retry as stale (V1 `timeStamp`, V2 `timestamp` with its 60 s
//! window; spec: koogallery-v2-kit-license.md §1.3).

use serde_json::{Map, Value};

use crate::marketplace::Span;
use crate::marketplace::settings::{BodyForm, SignCase};
use crate::protocol::encoding::build_query;
use crate::protocol::v1::auth_token::{self, AUTH_TOKEN, TIME_STAMP};
use crate::protocol::v1::query_memo::QueryMemo;
use crate::protocol::v2::canonical::{canonical_object, production_form};
use crate::protocol::v2::kit::{self, X_NONCE, X_SIGN, X_TIMESTAMP};
use crate::protocol::v2::kit_sync::KitSync;
use crate::protocol::v2::signature;
use crate::protocol::{AccessKey, Protocol, Request, UnixMillis};

/// An HTTP method the marketplace uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// V1.
    Get,
    /// V2.
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Destination {
    /// The production address itself (every basic interface, the License notices).
    #[default]
    Production,
    /// A sub-path the platform appends to the production address (the Kit syncs,
    /// `/produceAPI/v2/tenantSync`, V2 §1.1).
    SubPath(&'static str),
    /// The order-notification address, configured apart (V2 §5).
    Notify,
}

/// How one request looks on the wire beyond its content: the body form with the seed of its
/// key order, and the Kit's `x-sign` case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireForm {
    /// Production's form or the canonical one.
    pub bodies: BodyForm,
    /// The seed of this request's key order.
    pub seed: u64,
    /// The Kit `x-sign` case.
    pub kit_sign_case: SignCase,
}

impl WireForm {
    /// The canonical form: what `kgsim sign` shows and the benchmarks send.
    pub const CANONICAL: Self = Self {
        bodies: BodyForm::Canonical,
        seed: 0,
        kit_sign_case: SignCase::Upper,
    };

    /// The form of one attempt of a call under `settings`.
    pub(crate) fn of(settings: &crate::marketplace::Settings, call: usize, attempt: u32) -> Self {
        Self {
            bodies: settings.wire.bodies,
            seed: settings.form_seed(call, attempt),
            kit_sign_case: settings.wire.kit_sign_case,
        }
    }

    /// A body object as it goes out.
    fn body(&self, object: &Map<String, Value>) -> String {
        match self.bodies {
            BodyForm::Production => production_form(object, self.seed),
            BodyForm::Canonical => canonical_object(object),
        }
    }
}

/// The `Content-Type` of a JSON request as each interface's page shows it: `charset=utf8`
/// on the V2 basic, Kit and License pages (spec V2 §1.1), `charset=utf-8` on the
/// order-notification page (§5) [I:request-content-type].
pub(crate) const JSON_UTF8: &str = "application/json;charset=utf8";
/// The order notification's `Content-Type`, as its page shows it.
pub(crate) const JSON_UTF_8: &str = "application/json;charset=utf-8";

/// A signed request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// GET (V1) or POST (V2).
    pub(crate) method: Method,
    /// The query string, encoded, without `?`.
    pub query: String,
    /// Extra request headers (the Kit's `x-sign`, `x-timestamp`, `x-nonce`).
    pub(crate) headers: Vec<(String, String)>,
    /// The JSON body (V2).
    pub body: Option<String>,
    /// The body's `Content-Type`, when it has one.
    pub(crate) content_type: Option<&'static str>,
    /// Where it goes.
    pub(crate) to: Destination,
}

/// A change to the request before it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edit {
    /// Parameters (V1) or body fields (V2) to set.
    pub(crate) set: Vec<(String, String)>,
    /// Parameters or fields to remove.
    pub(crate) remove: Vec<String>,
}

impl Edit {
    /// Whether the edit changes nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// A change made after signing, so that a correct merchant must refuse the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// One character of the signature changed.
    Signature,
    /// The signature left out.
    MissingSignature,
    /// A parameter's value changed after signing.
    Parameter,
    /// V2: a timestamp this far in the past, correctly signed.
    StaleTimestamp(Span),
    /// The signed request sent twice as it is, the second a replay of the first: the same
    /// nonce, timestamp and signature within the freshness window.
    ReplayedNonce,
}

impl std::fmt::Display for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Signature => f.write_str("signature"),
            Self::MissingSignature => f.write_str("missing-signature"),
            Self::Parameter => f.write_str("parameter"),
            Self::StaleTimestamp(age) => write!(f, "stale-timestamp ({age} old)"),
            Self::ReplayedNonce => f.write_str("replayed-nonce"),
        }
    }
}

/// Applies an edit to an ordered parameter list (V1) before signing.
fn edit_params<'a>(params: &mut Vec<(&'a str, &'a str)>, edit: &'a Edit) {
    params.retain(|(name, _)| !edit.remove.iter().any(|removed| removed == name));
    for (name, value) in &edit.set {
        match params.iter_mut().find(|(n, _)| n == name) {
            Some(existing) => existing.1 = value,
            None => params.push((name, value)),
        }
    }
}

/// Applies an edit to a body object (V2) before signing.
fn edit_body(body: &mut Map<String, Value>, edit: &Edit) {
    for name in &edit.remove {
        body.remove(name);
    }
    for (name, value) in &edit.set {
        body.insert(name.clone(), Value::String(value.clone()));
    }
}

/// Changes one character of a signature to another of the same alphabet — one that differs
/// under a case-insensitive comparison too (hex signatures are compared ignoring case).
fn flip(signature: &str) -> String {
    let mut chars: Vec<char> = signature.chars().collect();
    if let Some(c) = chars.get_mut(0) {
        *c = match *c {
            '0' => '1',
            d if d.is_ascii_hexdigit() => '0',
            'A' => 'B',
            _ => 'A',
        };
    }
    chars.into_iter().collect()
}

/// The wall clock as Unix milliseconds: signing time, never business time.
pub fn wall_clock() -> UnixMillis {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UnixMillis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
}

/// A fresh V2 nonce: 64 uppercase hex digits, as the documentation's examples show.
pub(crate) fn fresh_nonce() -> String {
    format!(
        "{:032X}{:032X}",
        rand::random::<u128>(),
        rand::random::<u128>()
    )
}

/// Signs a request at this moment of the wall clock, with a fresh nonce when the protocol
/// has one (V2): how every request kgsim sends is signed.
pub(crate) fn sign_now(
    request: &Request,
    key: &AccessKey,
    edit: &Edit,
    tamper: Option<Tamper>,
    form: WireForm,
) -> Wire {
    let nonce = match request.protocol() {
        Protocol::V1 => String::new(),
        Protocol::V2 => fresh_nonce(),
    };
    sign(
        request,
        key,
        wall_clock(),
        &nonce,
        Changes { edit, tamper },
        form,
    )
}

/// What the marketplace does to a request around signing: an edit before, a tamper after.
#[derive(Debug, Clone, Copy)]
pub struct Changes<'a> {
    /// Before signing.
    pub edit: &'a Edit,
    /// After signing.
    pub tamper: Option<Tamper>,
}

/// Signs a Kit sync: `timeStamp` in the body is the signing instant in UTC+8, the
/// signature goes in `x-sign`/`x-timestamp`/`x-nonce` (V2 §1.4), and the request goes to the
/// sync's sub-path.
fn sign_kit(
    sync: &KitSync,
    key: &AccessKey,
    now: UnixMillis,
    nonce: &str,
    Changes { edit, tamper }: Changes<'_>,
    form: WireForm,
) -> Wire {
    let mut sync = sync.clone();
    sync.stamp(&now.to_kit_timestamp());
    let mut object = sync.to_body();
    edit_body(&mut object, edit);
    let timestamp = match tamper {
        Some(Tamper::StaleTimestamp(age)) => now.plus_ms(-age.0),
        _ => now,
    }
    .0
    .to_string();
    let mut x_sign = kit::x_sign(key, nonce, &timestamp, &canonical_object(&object));
    if form.kit_sign_case == SignCase::Lower {
        x_sign.make_ascii_lowercase();
    }
    if tamper == Some(Tamper::Signature) {
        x_sign = flip(&x_sign);
    }
    if tamper == Some(Tamper::Parameter) {
        tamper_object(&mut object);
    }
    let body = form.body(&object);
    let mut headers = Vec::with_capacity(3);
    if tamper != Some(Tamper::MissingSignature) {
        headers.push((X_SIGN.to_owned(), x_sign));
    }
    headers.push((X_TIMESTAMP.to_owned(), timestamp));
    headers.push((X_NONCE.to_owned(), nonce.to_owned()));
    Wire {
        method: Method::Post,
        query: String::new(),
        headers,
        body: Some(body),
        content_type: Some(JSON_UTF8),
        to: sync
            .activity()
            .kit_path()
            .map_or(Destination::Production, Destination::SubPath),
    }
}

/// Signs a request at `now` (wall clock) with `nonce` (V2), after applying `edit` and before
/// applying `tamper`.
pub fn sign(
    request: &Request,
    key: &AccessKey,
    now: UnixMillis,
    nonce: &str,
    changes: Changes<'_>,
    form: WireForm,
) -> Wire {
    let Changes { edit, tamper } = changes;
    match request {
        Request::Kit(sync) => sign_kit(sync, key, now, nonce, changes, form),
        Request::V1(inner) => {
            let time_stamp = now.to_v1_timestamp();
            let tampered: String;
            let mut params = inner.to_params();
            edit_params(&mut params, edit);
            params.push((TIME_STAMP, &time_stamp));
            let token = auth_token::compute(key, &params).unwrap_or_default();
            if tamper == Some(Tamper::Parameter) {
                // Change the last business parameter (before timeStamp) after signing.
                if let Some(last) = params.len().checked_sub(2) {
                    tampered = format!("{}x", params[last].1);
                    params[last].1 = &tampered;
                }
            }
            let token = match tamper {
                Some(Tamper::Signature) => flip(&token),
                _ => token,
            };
            if tamper != Some(Tamper::MissingSignature) {
                params.push((AUTH_TOKEN, &token));
            }
            Wire::v1(build_query(&params))
        }
        Request::V2(inner) => {
            let mut object = inner.to_body();
            edit_body(&mut object, edit);
            let timestamp = match tamper {
                Some(Tamper::StaleTimestamp(age)) => now.plus_ms(-age.0),
                _ => now,
            };
            let mut signed = signature::sign(key, nonce, timestamp, &canonical_object(&object));
            if tamper == Some(Tamper::Parameter) {
                tamper_object(&mut object);
            }
            let body = form.body(&object);
            if tamper == Some(Tamper::Signature) {
                signed.signature = flip(&signed.signature);
            }
            let query = if tamper == Some(Tamper::MissingSignature) {
                build_query(&[
                    (signature::TIMESTAMP, signed.timestamp.as_str()),
                    (signature::NONCE, signed.nonce.as_str()),
                ])
            } else {
                signed.to_query()
            };
            let (to, content_type) = if inner.activity() == crate::protocol::Activity::OrderNotify {
                (Destination::Notify, JSON_UTF_8)
            } else {
                (Destination::Production, JSON_UTF8)
            };
            Wire {
                method: Method::Post,
                query,
                headers: Vec::new(),
                body: Some(body),
                content_type: Some(content_type),
                to,
            }
        }
    }
}

/// Signs one load worker's requests, one after another: V1 queries through the worker's
/// [`QueryMemo`] (what did not change since the last request is not encoded or sorted
/// again; the bytes are [`sign`]'s, tested), anything else through [`sign`] itself — never
/// edited, never tampered with.
pub(crate) fn sign_repeated(
    memo: &mut QueryMemo,
    request: &Request,
    key: &AccessKey,
    now: UnixMillis,
    form: WireForm,
) -> Wire {
    match request {
        Request::V1(inner) => {
            let time_stamp = now.to_v1_timestamp();
            let mut params = inner.to_params();
            params.push((TIME_STAMP, &time_stamp));
            Wire::v1(memo.signed_query(key, &params).unwrap_or_default())
        }
        _ => {
            let unchanged = Changes {
                edit: &Edit::default(),
                tamper: None,
            };
            sign(request, key, now, &fresh_nonce(), unchanged, form)
        }
    }
}

impl Wire {
    /// A V1 request: GET to the production address, everything in the query.
    fn v1(query: String) -> Self {
        Self {
            method: Method::Get,
            query,
            headers: Vec::new(),
            body: None,
            content_type: None,
            to: Destination::Production,
        }
    }
}

/// Appends `x` to the string value of a body whose key sorts last (an id, usually).
fn tamper_object(object: &mut Map<String, Value>) {
    let last = object
        .iter()
        .filter(|(_, v)| v.is_string())
        .map(|(k, _)| k.clone())
        .max();
    if let Some(Value::String(value)) = last.and_then(|k| object.get_mut(&k)) {
        value.push('x');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::encoding::{PlusHandling, parse_query};
    use crate::protocol::v1::messages as v1;
    use crate::protocol::v2::messages as v2;

    fn v1_request() -> Request {
        Request::V1(v1::Request::ExpireInstance(v1::ExpireInstance {
            instance_id: "i+1".into(),
            order_id: None,
            test_flag: None,
        }))
    }

    fn v2_request() -> Request {
        Request::V2(v2::Request::ReleaseInstance(v2::ReleaseInstance {
            instance_id: "i".into(),
            ..Default::default()
        }))
    }

    /// Signs in the canonical form.
    fn signed(
        request: &Request,
        key: &AccessKey,
        now: UnixMillis,
        nonce: &str,
        edit: &Edit,
        tamper: Option<Tamper>,
    ) -> Wire {
        sign(
            request,
            key,
            now,
            nonce,
            Changes { edit, tamper },
            WireForm::CANONICAL,
        )
    }

    fn v1_valid(wire: &Wire, key: &AccessKey) -> bool {
        matches!(auth_token::diagnose_query(key, &wire.query), Ok(v) if v.is_valid())
    }

    #[test]
    fn nonces_are_fresh_64_digit_uppercase_hex() {
        let (a, b) = (fresh_nonce(), fresh_nonce());
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
        );
        assert_ne!(a, b);
    }

    #[test]
    fn signing_now_uses_the_wall_clock_and_a_nonce_only_in_v2() {
        let key = AccessKey::new("k");
        let before = wall_clock();
        let v1 = sign_now(
            &v1_request(),
            &key,
            &Edit::default(),
            None,
            WireForm::CANONICAL,
        );
        assert!(v1_valid(&v1, &key));
        let stamp = parse_query(&v1.query, PlusHandling::AsSpace).unwrap();
        let stamp = &stamp.iter().find(|(n, _)| n == TIME_STAMP).unwrap().1;
        assert!(UnixMillis::parse_compact(stamp).unwrap() >= before);
        assert!(!v1.query.contains("nonce="));
        let v2 = sign_now(
            &v2_request(),
            &key,
            &Edit::default(),
            None,
            WireForm::default(),
        );
        assert!(v2.query.contains("&nonce=") && v2.query.len() > 64);
    }

    #[test]
    fn v1_is_signed_at_the_given_wall_time() {
        let key = AccessKey::new("k");
        let wire = signed(
            &v1_request(),
            &key,
            UnixMillis(1_595_835_431_903),
            "",
            &Edit::default(),
            None,
        );
        assert_eq!(wire.method, Method::Get);
        assert!(wire.query.contains("timeStamp=20200727073711903"));
        assert!(v1_valid(&wire, &key));
        let edit = Edit {
            set: vec![("activity".into(), "bogus".into())],
            remove: vec!["instanceId".into()],
        };
        let edited = signed(&v1_request(), &key, UnixMillis(0), "", &edit, None);
        assert!(
            edited.query.starts_with("activity=bogus&timeStamp="),
            "{}",
            edited.query
        );
        assert!(v1_valid(&edited, &key));
        for tamper in [
            Tamper::Signature,
            Tamper::MissingSignature,
            Tamper::Parameter,
        ] {
            let wire = signed(
                &v1_request(),
                &key,
                UnixMillis(0),
                "",
                &Edit::default(),
                Some(tamper),
            );
            assert!(!v1_valid(&wire, &key), "{tamper:?}");
        }
    }

    #[test]
    fn repeated_v1_signing_gives_the_bytes_of_a_single_signing() {
        let key = AccessKey::new("k");
        let mut memo = QueryMemo::default();
        for (round, instance) in ["i+1", "i+1", "实例 2", "i/3"].into_iter().enumerate() {
            let request = Request::V1(v1::Request::ExpireInstance(v1::ExpireInstance {
                instance_id: instance.into(),
                order_id: (round == 3).then(|| "CS3".into()),
                test_flag: None,
            }));
            let now = UnixMillis(1_595_835_431_903 + round as i64);
            let repeated = sign_repeated(&mut memo, &request, &key, now, WireForm::CANONICAL);
            let single = signed(&request, &key, now, "", &Edit::default(), None);
            assert_eq!(repeated, single, "round {round}");
        }
    }

    #[test]
    fn v2_is_signed_over_the_sent_body() {
        let key = AccessKey::new("k");
        let now = UnixMillis(1_680_508_066_618);
        let check = |wire: &Wire| {
            let params = parse_query(&wire.query, PlusHandling::AsSpace).unwrap();
            let get = |n: &str| {
                params
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            signature::verify(
                &key,
                &get("nonce"),
                &get("timestamp"),
                wire.body.as_deref().unwrap().as_bytes(),
                &get("signature"),
            )
        };
        let wire = signed(&v2_request(), &key, now, "N1", &Edit::default(), None);
        assert_eq!(
            wire.body.as_deref(),
            Some(r#"{"activity":"releaseInstance","instanceId":"i"}"#)
        );
        assert!(check(&wire));
        for tamper in [
            Tamper::Signature,
            Tamper::MissingSignature,
            Tamper::Parameter,
        ] {
            assert!(
                !check(&signed(
                    &v2_request(),
                    &key,
                    now,
                    "N1",
                    &Edit::default(),
                    Some(tamper)
                )),
                "{tamper:?}"
            );
        }
        let edited = signed(
            &v2_request(),
            &key,
            now,
            "N1",
            &Edit {
                set: vec![("activity".into(), "bogus".into())],
                remove: vec!["instanceId".into()],
            },
            None,
        );
        assert_eq!(edited.body.as_deref(), Some(r#"{"activity":"bogus"}"#));
        assert!(check(&edited), "edits happen before signing");
        let stale = signed(
            &v2_request(),
            &key,
            now,
            "N1",
            &Edit::default(),
            Some(Tamper::StaleTimestamp(Span::minutes(5))),
        );
        assert!(check(&stale), "a stale request is correctly signed");
        assert!(
            stale
                .query
                .contains(&format!("timestamp={}", now.0 - 300_000))
        );
    }
}
