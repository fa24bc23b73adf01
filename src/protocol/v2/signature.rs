//! V2 basic-interface request signature, carried in the query string
//! (spec: koogallery-v2-kit-license.md §1.3).
//!
//! ```text
//! inner            = lower( hex( HMAC-SHA256( accessKey, RequestPayload ) ) )
//! canonicalRequest = accessKey + nonce + timestamp + inner
//! signature        = HEX( HMAC-SHA256( accessKey, canonicalRequest ) )
//! POST <production address>?signature=<signature>&timestamp=<Unix ms>&nonce=<nonce>
//! ```
//!
//! The documentation shows uppercase signatures and the sample emits lowercase and compares
//! case-insensitively, so kgsim sends uppercase and accepts either. The merchant must reject
//! a timestamp more than 60 s from its clock (§2.4 of the V1 file); the check here is a pure
//! function of a given `now`.

use crate::protocol::encoding::build_query;
use crate::protocol::secret::{AccessKey, constant_time_eq};
use crate::protocol::time::UnixMillis;
use crate::protocol::v2::canonical::canonical_body;
use crate::protocol::verdict::{Suspect, Verdict, judge};

/// Query parameter carrying the signature.
pub(crate) const SIGNATURE: &str = "signature";
/// Query parameter carrying the Unix-millisecond timestamp.
pub(crate) const TIMESTAMP: &str = "timestamp";
/// Query parameter carrying the nonce.
pub(crate) const NONCE: &str = "nonce";

/// The three query parameters of a signed V2 call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedQuery {
    /// Uppercase hex signature.
    pub(crate) signature: String,
    /// Unix milliseconds, as text.
    pub(crate) timestamp: String,
    /// The nonce.
    pub(crate) nonce: String,
}

impl SignedQuery {
    /// `signature=…&timestamp=…&nonce=…`, in the documented order.
    pub(crate) fn to_query(&self) -> String {
        build_query(&[
            (SIGNATURE, self.signature.as_str()),
            (TIMESTAMP, self.timestamp.as_str()),
            (NONCE, self.nonce.as_str()),
        ])
    }
}

/// `lower(hex(HMAC-SHA256(accessKey, payload)))`.
pub(crate) fn inner_hash(key: &AccessKey, payload: &str) -> String {
    hex::encode(key.hmac_sha256(payload.as_bytes()))
}

/// The signature over an already canonical payload, uppercase hex.
pub(crate) fn signature(key: &AccessKey, nonce: &str, timestamp: &str, payload: &str) -> String {
    outer_signature(key, nonce, timestamp, &inner_hash(key, payload))
}

/// `upper(hex(HMAC-SHA256(accessKey, accessKey + nonce + timestamp + inner)))`: the basic
/// signature's outer step, and the Kit's whole `x-sign`, whose `inner` is the payload itself.
pub(crate) fn outer_signature(
    key: &AccessKey,
    nonce: &str,
    timestamp: &str,
    inner: &str,
) -> String {
    let canonical_request = [key.expose_str(), nonce, timestamp, inner].concat();
    hex::encode_upper(key.hmac_sha256(canonical_request.as_bytes()))
}

/// Signs a payload that is sent exactly as given.
pub(crate) fn sign(
    key: &AccessKey,
    nonce: &str,
    timestamp: UnixMillis,
    payload: &str,
) -> SignedQuery {
    let timestamp = timestamp.0.to_string();
    SignedQuery {
        signature: signature(key, nonce, &timestamp, payload),
        timestamp,
        nonce: nonce.to_owned(),
    }
}

/// Compares hex signatures ignoring case, in constant time.
pub(crate) fn hex_eq_ignore_case(a: &str, b: &str) -> bool {
    constant_time_eq(
        a.to_ascii_uppercase().as_bytes(),
        b.to_ascii_uppercase().as_bytes(),
    )
}

/// Verifies a received signature against the raw body (canonicalised as the sample does).
pub fn verify(key: &AccessKey, nonce: &str, timestamp: &str, body: &[u8], received: &str) -> bool {
    canonical_body(body)
        .map(|payload| hex_eq_ignore_case(&signature(key, nonce, timestamp, &payload), received))
        .unwrap_or(false)
}

/// How far a timestamp may be from the verifier's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FreshnessWindow {
    /// Maximum age, in milliseconds (60 000 documented).
    pub(crate) max_age_ms: i64,
    /// Maximum lead into the future, in milliseconds; `None` accepts any future timestamp,
    /// as Huawei's sample does (`now − timestamp ≤ 60000`, one-sided).
    pub(crate) max_lead_ms: Option<i64>,
}

impl Default for FreshnessWindow {
    /// `|now − timestamp| ≤ 60 s`, as the documentation words it.
    fn default() -> Self {
        Self {
            max_age_ms: 60_000,
            max_lead_ms: Some(60_000),
        }
    }
}

/// Why a timestamp was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StaleTimestamp {
    /// Not an integer number of milliseconds.
    #[error("timestamp `{0}` is not Unix milliseconds")]
    NotMillis(String),
    /// Older than the window allows.
    #[error("timestamp is {age_ms} ms old; at most {max_ms} ms is accepted")]
    TooOld {
        /// How old it is.
        age_ms: i64,
        /// The window.
        max_ms: i64,
    },
    /// Further in the future than the window allows.
    #[error("timestamp is {lead_ms} ms in the future; at most {max_ms} ms is accepted")]
    InFuture {
        /// How far ahead it is.
        lead_ms: i64,
        /// The window.
        max_ms: i64,
    },
}

/// Checks a received `timestamp` against `now` (no clock is read here).
pub(crate) fn check_freshness(
    timestamp: &str,
    now: UnixMillis,
    window: FreshnessWindow,
) -> Result<(), StaleTimestamp> {
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| StaleTimestamp::NotMillis(timestamp.to_owned()))?;
    let age = now.0 - ts;
    if age > window.max_age_ms {
        return Err(StaleTimestamp::TooOld {
            age_ms: age,
            max_ms: window.max_age_ms,
        });
    }
    match window.max_lead_ms {
        Some(max) if -age > max => Err(StaleTimestamp::InFuture {
            lead_ms: -age,
            max_ms: max,
        }),
        _ => Ok(()),
    }
}

/// Verifies a received V2 signature and names the step a signer got wrong when a common
/// mistake reproduces it (body not canonicalised, inner hash uppercase, plain SHA-256, …).
pub fn diagnose(
    key: &AccessKey,
    nonce: &str,
    timestamp: &str,
    body: &[u8],
    received: &str,
) -> Verdict {
    let Ok(payload) = canonical_body(body) else {
        return Verdict::unsignable(received);
    };
    let expected = signature(key, nonce, timestamp, &payload);
    let raw = String::from_utf8_lossy(body);
    let outer = |inner: &str| outer_signature(key, nonce, timestamp, inner);
    let suspects = vec![
        Suspect::new(
            "body-not-canonical",
            "the raw body was signed; sign the canonical payload (top-level keys sorted, compact, \
             nulls dropped) — or the body was re-serialised after signing",
            || Some(signature(key, nonce, timestamp, &raw)),
        ),
        Suspect::new(
            "inner-hash-uppercase",
            "the inner HMAC was hex-encoded in uppercase; it must be lowercase",
            || Some(outer(&inner_hash(key, &payload).to_ascii_uppercase())),
        ),
        Suspect::new(
            "inner-plain-sha256",
            "the inner hash was a plain SHA-256 of the body; it must be HMAC-SHA256 keyed with the access key",
            || {
                Some(outer(&hex::encode(crate::protocol::digest::sha256(
                    payload.as_bytes(),
                ))))
            },
        ),
        Suspect::new(
            "nonce-timestamp-swapped",
            "timestamp and nonce were concatenated in the wrong order; it is accessKey + nonce + timestamp + inner",
            || {
                Some(outer_signature(
                    key,
                    timestamp,
                    nonce,
                    &inner_hash(key, &payload),
                ))
            },
        ),
        Suspect::new(
            "key-prefix-missing",
            "the access key was left out of canonicalRequest; it is accessKey + nonce + timestamp + inner",
            || {
                let canonical_request = format!("{nonce}{timestamp}{}", inner_hash(key, &payload));
                Some(hex::encode_upper(
                    key.hmac_sha256(canonical_request.as_bytes()),
                ))
            },
        ),
    ];
    judge(expected, received, hex_eq_ignore_case, &suspects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::digest::hmac_sha256;
    use crate::protocol::test_vectors::text;

    const GROUP: &str = "v2_basic_signature";

    fn key() -> AccessKey {
        AccessKey::new(text(GROUP, "access_key"))
    }

    #[test]
    fn reproduces_the_vector() {
        let body = text(GROUP, "body");
        let payload = canonical_body(body.as_bytes()).unwrap();
        assert_eq!(payload, body, "the vector body is already canonical");
        assert_eq!(inner_hash(&key(), &payload), text(GROUP, "inner"));
        assert_eq!(
            signature(
                &key(),
                &text(GROUP, "nonce"),
                &text(GROUP, "timestamp"),
                &payload
            ),
            text(GROUP, "signature")
        );
    }

    #[test]
    fn verification_ignores_case_and_key_order_but_not_content() {
        let (nonce, ts, sig) = (
            text(GROUP, "nonce"),
            text(GROUP, "timestamp"),
            text(GROUP, "signature"),
        );
        let body = text(GROUP, "body");
        assert!(verify(&key(), &nonce, &ts, body.as_bytes(), &sig));
        assert!(verify(
            &key(),
            &nonce,
            &ts,
            body.as_bytes(),
            &sig.to_lowercase()
        ));
        let reordered = r#"{"testFlag":"1","orderLineId":"CS2211181819B4LVS-000001","orderId":"CS2211181819B4LVS","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","activity":"newInstance"}"#;
        assert!(verify(&key(), &nonce, &ts, reordered.as_bytes(), &sig));
        let tampered = body.replace("CS2211181819B4LVS\"", "CS2211181819B4LVT\"");
        assert!(!verify(&key(), &nonce, &ts, tampered.as_bytes(), &sig));
        assert!(!verify(
            &key(),
            &nonce,
            "1680508066619",
            body.as_bytes(),
            &sig
        ));
        assert!(!verify(&key(), "other", &ts, body.as_bytes(), &sig));
        assert!(!verify(
            &AccessKey::new("x"),
            &nonce,
            &ts,
            body.as_bytes(),
            &sig
        ));
    }

    #[test]
    fn freshness_window_is_a_pure_function_of_now() {
        let window = FreshnessWindow::default();
        let now = UnixMillis(1_680_508_066_618);
        assert_eq!(check_freshness("1680508066618", now, window), Ok(()));
        assert_eq!(check_freshness("1680508006618", now, window), Ok(()));
        assert_eq!(
            check_freshness("1680508006617", now, window),
            Err(StaleTimestamp::TooOld {
                age_ms: 60_001,
                max_ms: 60_000
            })
        );
        assert!(matches!(
            check_freshness("1680508126619", now, window),
            Err(StaleTimestamp::InFuture { .. })
        ));
        let one_sided = FreshnessWindow {
            max_lead_ms: None,
            ..window
        };
        assert_eq!(check_freshness("1780508126619", now, one_sided), Ok(()));
        assert!(matches!(
            check_freshness("1680508066", now, window),
            Err(StaleTimestamp::TooOld { .. })
        ));
        assert!(matches!(
            check_freshness("abc", now, window),
            Err(StaleTimestamp::NotMillis(_))
        ));
    }

    #[test]
    fn diagnoses_common_mistakes() {
        let (nonce, ts) = (text(GROUP, "nonce"), text(GROUP, "timestamp"));
        let body = r#"{"orderId":"CS1","activity":"newInstance"}"#;
        let payload = canonical_body(body.as_bytes()).unwrap();
        let raw_signed = signature(&key(), &nonce, &ts, body);
        let Verdict::Invalid(m) = diagnose(&key(), &nonce, &ts, body.as_bytes(), &raw_signed)
        else {
            panic!("raw body signature must not verify");
        };
        assert_eq!(m.cause.unwrap().id, "body-not-canonical");
        let swapped = {
            let cr = format!(
                "{}{ts}{nonce}{}",
                key().expose_str(),
                inner_hash(&key(), &payload)
            );
            hex::encode(hmac_sha256(key().expose_bytes(), cr.as_bytes()))
        };
        let Verdict::Invalid(m) = diagnose(&key(), &nonce, &ts, body.as_bytes(), &swapped) else {
            panic!("swapped must not verify");
        };
        assert_eq!(m.cause.unwrap().id, "nonce-timestamp-swapped");
        let good = signature(&key(), &nonce, &ts, &payload);
        assert!(diagnose(&key(), &nonce, &ts, body.as_bytes(), &good).is_valid());
    }
}
