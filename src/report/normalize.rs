//! Normalising exchanges so that two runs of the same scenario read the same: instance and
//! order ids aliased in order of appearance (`instance#1`, `order#1`); timestamps, nonces,
//! signatures, business and customer ids redacted; expiry times shown relative to the
//! scenario's start; encrypted fields shown decrypted, passwords redacted. The access key is
//! never part of any exchange, so it never reaches a report or a snapshot.

use serde_json::{Map, Value};

use crate::deliver::Performed;
use crate::marketplace::clock::since;
use crate::open_api::MerchantCall;
use crate::protocol::open_api::Endpoint;
use crate::protocol::v1::crypto::{self, EncryptType};
use crate::protocol::v1::extend_params;
use crate::protocol::{AccessKey, UnixMillis};
use crate::report::fields::request_fields;
use crate::report::model::MerchantCallReport;
use crate::report::redact::Secrets;
use crate::scenario::profile::redactions::Redactions;
use crate::scenario::result::ScenarioRun;

/// The normaliser of one scenario run.
#[derive(Debug, Clone)]
pub(crate) struct Normalizer {
    /// `(original, alias)`, longest original first so that no alias clips another.
    replacements: Vec<(String, String)>,
    start: UnixMillis,
    key: AccessKey,
    encrypt_type: EncryptType,
    secrets: Secrets,
    redactions: Redactions,
}

/// Fields whose values change on every run and mean nothing to a reader.
const REDACTED: &[&str] = &[
    "authToken",
    "timeStamp",
    "timestamp",
    "nonce",
    "signature",
    "businessId",
    "customerId",
    "statisticalTime",
    // The merchant's open-API calls carry its own wall-clock times and record ids.
    "record_time",
    "begin_time",
    "end_time",
    "metering_sn",
    "activate_time",
    "real_effect_time",
    // The Kit: the OAEP ciphertext is random every time; the sync time is the wall clock.
    "clientSecret",
    "currentSyncTime",
    // The identity centre's tokens are random, and secret.
    "access_token",
    "refresh_token",
];

/// Form and query parameters of the login flow whose values are random, secret or name the
/// merchant's own address: shown as `[name]` (`client_secret=[client_secret]`).
const VOLATILE_PARAMS: &[&str] = &[
    "client_secret",
    "code",
    "ticket",
    "state",
    "redirect_uri",
    "service",
];

/// A request line or form body with [`VOLATILE_PARAMS`] values replaced.
fn scrub_params(text: &str) -> String {
    let (head, query) = match text.rsplit_once('?') {
        Some((head, query)) => (format!("{head}?"), query),
        None if text.contains('=') => (String::new(), text),
        None => return text.to_owned(),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if VOLATILE_PARAMS.contains(&name) => format!("{name}=[{name}]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}", pairs.join("&"))
}

/// A CAS answer with its authentication time (the wall clock) redacted.
fn scrub_cas(text: &str) -> String {
    const OPEN: &str = "<cas:authenticationDate>";
    const CLOSE: &str = "</cas:authenticationDate>";
    match (text.find(OPEN), text.find(CLOSE)) {
        (Some(start), Some(end)) if start < end => format!(
            "{}{OPEN}[authenticationDate]{}",
            &text[..start],
            &text[end..]
        ),
        _ => text.to_owned(),
    }
}

/// An upload's multipart body with its boundary and the License it carries redacted: both
/// are the merchant's own, different on every run.
fn scrub_upload(text: &str) -> String {
    let boundary = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("--"))
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let mut out = match boundary {
        Some(boundary) => text.replace(boundary, "[boundary]"),
        None => text.to_owned(),
    };
    for field in ["characters", "sha256"] {
        let key = format!("\"{field}\":\"");
        if let Some(start) = out.find(&key).map(|i| i + key.len())
            && let Some(len) = out[start..].find('"')
        {
            out.replace_range(start..start + len, &format!("[{field}]"));
        }
    }
    out
}

/// How far from the scenario's start a time must lie to be a literal of the scenario: no
/// order the engine opens runs for more than a few years.
const LITERAL_BEYOND_MS: i64 = 20 * 366 * 24 * 3600 * 1000;

/// The online License's `yyyy-MM-dd HH:mm:ss z` as 14 digits, for showing it relative.
fn license_time_digits(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 14 && value.ends_with(" z")).then_some(digits)
}

impl Normalizer {
    /// Learns the ids of a run, in order of appearance.
    pub(crate) fn for_run(
        run: &ScenarioRun,
        key: &AccessKey,
        encrypt_type: EncryptType,
        redactions: &Redactions,
    ) -> Self {
        let replacements = crate::report::aliases::learn(run);
        Self {
            replacements,
            start: run.start,
            key: key.clone(),
            encrypt_type,
            secrets: Secrets::of(key),
            redactions: redactions.clone(),
        }
    }

    /// Replaces every form of the access key and every learnt id in a text.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut out = self.secrets.scrub(text);
        for (original, alias) in &self.replacements {
            if out.contains(original.as_str()) {
                out = out.replace(original.as_str(), alias);
            }
        }
        out
    }

    fn relative(&self, value: &str) -> Option<String> {
        let at = UnixMillis::parse_compact(value).ok()?;
        // A 14-digit time has no milliseconds: compare it with the start at the same precision.
        let start = if value.len() == 14 {
            UnixMillis(self.start.0 - self.start.0.rem_euclid(1000))
        } else {
            self.start
        };
        // A time decades away was written into the scenario, not computed from its clock
        // (`expireTime: 2099-12-31 …` to provoke 000901): relative to a start that follows
        // the wall clock it would change every run, so it is shown as written.
        if (at.0 - start.0).abs() > LITERAL_BEYOND_MS {
            return None;
        }
        Some(format!("[start{}]", since(start, at)))
    }

    /// A text with every 14- or 17-digit time in it shown relative to the scenario's start
    /// (`createTime`, `expire_time` inside a JSON string), then [`Self::text`].
    fn with_relative_times(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
            out.push_str(&rest[..start]);
            let digits = rest[start..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - start);
            let run = &rest[start..start + digits];
            match (digits == 14 || digits == 17)
                .then(|| self.relative(run))
                .flatten()
            {
                Some(relative) => out.push_str(&relative),
                None => out.push_str(run),
            }
            rest = &rest[start + digits..];
        }
        out.push_str(rest);
        self.text(&out)
    }

    /// A merchant's open-API call, normalised like the exchanges.
    pub(crate) fn merchant_call(&self, call: &MerchantCall) -> MerchantCallReport {
        let json = |text: &str| -> String {
            if text.is_empty() {
                return String::new();
            }
            self.with_relative_times(&self.body(text.as_bytes(), &[]))
        };
        // The login flow's codes, tickets, secrets and callback address change every run.
        let identity = call.endpoint.as_ref().is_some_and(Endpoint::is_identity);
        let upload = matches!(call.endpoint, Some(Endpoint::Upload { .. }));
        let scrub = |text: &str| {
            if identity {
                scrub_cas(&scrub_params(text))
            } else if upload {
                scrub_upload(text)
            } else {
                text.to_owned()
            }
        };
        MerchantCallReport {
            api: call
                .endpoint
                .as_ref()
                .map_or("unknown", Endpoint::name)
                .to_owned(),
            request: self.with_relative_times(&scrub(&call.request_line)),
            body: json(&scrub(&call.request_body)),
            status: call.status,
            answer: json(&scrub(&call.answer)),
            findings: call.findings.iter().map(|f| f.check.to_string()).collect(),
        }
    }

    /// One request field, normalised.
    pub(crate) fn field(&self, name: &str, value: &str) -> String {
        if REDACTED.contains(&name) {
            return format!("[{name}]");
        }
        match name {
            "expireTime" | "effectiveTime" => self
                .relative(value)
                .or_else(|| self.relative(&license_time_digits(value)?))
                .unwrap_or_else(|| self.text(value)),
            "mobilePhone" | "email" => match crypto::decrypt(&self.key, self.encrypt_type, value) {
                Ok(plain) => format!("[encrypted: {plain}]"),
                Err(_) => "[encrypted]".to_owned(),
            },
            "saasExtendParams" => match extend_params::decode(value) {
                Ok(params) => format!(
                    "[decoded: {}]",
                    serde_json::to_string(&params).unwrap_or_default()
                ),
                Err(_) => self.text(value),
            },
            _ => self.text(value),
        }
    }

    /// The request's fields (V1 query parameters, V2 query then body), normalised, in order.
    pub(crate) fn request(&self, performed: &Performed) -> Vec<(String, String)> {
        request_fields(performed)
            .into_iter()
            .map(|(name, value)| {
                let shown = self.field(&name, &value);
                (name, shown)
            })
            .collect()
    }

    /// A response body, normalised: JSON with credentials decrypted (passwords redacted),
    /// redacted fields and aliased ids, pretty-printed; anything else as lossy text.
    pub(crate) fn body(&self, body: &[u8], decrypted: &[(String, String)]) -> String {
        match serde_json::from_slice::<Value>(body) {
            Ok(mut value) => {
                self.redact_value(&mut value, "", decrypted);
                self.redactions.apply(&mut value);
                self.text(&serde_json::to_string_pretty(&value).unwrap_or_default())
            }
            Err(_) => {
                // Aliased before it is cut, so that an id at the cut is never half shown.
                let text = self.text(&String::from_utf8_lossy(body));
                let shown: String = text.chars().take(512).collect();
                let more = if text.chars().count() > 512 {
                    "…"
                } else {
                    ""
                };
                format!("{shown}{more}")
            }
        }
    }

    /// A userName as a reader should see it: decrypted when it was (V1), in clear when it
    /// was sent in clear (V2), `[undecryptable]` when it is ciphertext no key opens.
    fn user_name(&self, raw: &str, decrypted: Option<&str>) -> String {
        if let Some(plain) = decrypted {
            return format!("[userName: {plain}]");
        }
        for encrypt_type in [self.encrypt_type, EncryptType::Aes256, EncryptType::Aes128] {
            if let Ok(plain) = crypto::decrypt(&self.key, encrypt_type, raw) {
                return format!("[userName: {plain}]");
            }
        }
        let tail = raw.get(crypto::IV_LEN..).unwrap_or_default();
        let looks_encrypted = tail.len() >= 24
            && base64::Engine::decode(&base64::engine::general_purpose::STANDARD, tail).is_ok();
        if looks_encrypted {
            "[undecryptable]".to_owned()
        } else {
            self.text(raw)
        }
    }

    fn redact_value(&self, value: &mut Value, path: &str, decrypted: &[(String, String)]) {
        match value {
            Value::Object(map) => self.redact_object(map, path, decrypted),
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.redact_value(item, &format!("{path}[{i}]"), decrypted);
                }
            }
            _ => {}
        }
    }

    fn redact_object(
        &self,
        map: &mut Map<String, Value>,
        path: &str,
        decrypted: &[(String, String)],
    ) {
        for (name, value) in map.iter_mut() {
            let here = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            let in_app_info = path.ends_with("appInfo");
            match (name.as_str(), &*value) {
                ("password", Value::String(_)) if in_app_info => {
                    *value = Value::String("[password]".into());
                }
                ("userName", Value::String(raw)) if in_app_info => {
                    let shown = self.user_name(
                        raw,
                        decrypted
                            .iter()
                            .find(|(p, _)| *p == here)
                            .map(|(_, v)| v.as_str()),
                    );
                    *value = Value::String(shown);
                }
                (field, Value::String(_)) if REDACTED.contains(&field) => {
                    *value = Value::String(format!("[{field}]"));
                }
                _ => self.redact_value(value, &here, decrypted),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalizer() -> Normalizer {
        Normalizer {
            replacements: vec![
                ("abcdef-123".into(), "instance#1".into()),
                ("CS1".into(), "order#1".into()),
            ],
            start: UnixMillis::parse_compact("20260101000000").unwrap(),
            key: AccessKey::new("k"),
            encrypt_type: EncryptType::Aes256,
            secrets: Secrets::default(),
            redactions: Redactions::default(),
        }
    }

    #[test]
    fn fields_are_redacted_relative_or_aliased() {
        let n = normalizer();
        assert_eq!(n.field("authToken", "x+y="), "[authToken]");
        assert_eq!(n.field("expireTime", "20260201000000"), "[start+1mo]");
        assert_eq!(n.field("expireTime", "20260216000000"), "[start+1mo15d]");
        assert_eq!(
            n.field("expireTime", "2099-12-31 23:59:59 z"),
            "2099-12-31 23:59:59 z",
            "a literal of the scenario, shown as written"
        );
        assert_eq!(n.field("instanceId", "abcdef-123"), "instance#1");
        assert_eq!(n.field("orderLineId", "CS1-000001"), "order#1-000001");
        let phone = crypto::encrypt(
            &AccessKey::new("k"),
            EncryptType::Aes256,
            &crypto::Iv::random(),
            "13800000000",
        );
        assert_eq!(n.field("mobilePhone", &phone), "[encrypted: 13800000000]");
    }

    #[test]
    fn bodies_show_user_names_and_hide_passwords() {
        let n = normalizer();
        let body = br#"{"resultCode":"000000","instanceId":"abcdef-123","appInfo":{"frontEndUrl":"https://a/abcdef-123","userName":"IVIVIVIVIVIVIVIVxxxx","password":"secret"}}"#;
        let shown = n.body(body, &[("appInfo.userName".into(), "admin".into())]);
        assert!(
            shown.contains("\"userName\": \"[userName: admin]\""),
            "{shown}"
        );
        assert!(shown.contains("\"password\": \"[password]\""), "{shown}");
        assert!(shown.contains("https://a/instance#1"), "{shown}");
        assert!(!shown.contains("secret"));
        assert_eq!(n.body(b"not json", &[]), "not json");
    }
}
