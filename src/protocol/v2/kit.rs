//! V2 joint-operation Kit signature, carried in headers
//! (spec: koogallery-v2-kit-license.md §1.4).
//!
//! ```text
//! x-sign = hex( HMAC-SHA256( accessKey, accessKey + nonce + timestamp + RequestPayload ) )
//! headers: x-sign, x-timestamp (Unix ms), x-nonce
//! ```
//!
//! Unlike the basic signature there is no inner HMAC: the canonical payload itself is
//! concatenated. Every published Kit example shows uppercase hex, as the basic signature's
//! do, so kgsim signs in uppercase; verification ignores case [I:kit-sign-case].

use crate::protocol::secret::AccessKey;
use crate::protocol::v2::canonical::canonical_body;
use crate::protocol::v2::signature::{self, hex_eq_ignore_case};
use crate::protocol::verdict::{Suspect, Verdict, judge};

/// Header carrying the signature.
pub(crate) const X_SIGN: &str = "x-sign";
/// Header carrying the Unix-millisecond timestamp.
pub(crate) const X_TIMESTAMP: &str = "x-timestamp";
/// Header carrying the nonce.
pub(crate) const X_NONCE: &str = "x-nonce";

/// `x-sign` over an already canonical payload, uppercase hex.
pub(crate) fn x_sign(key: &AccessKey, nonce: &str, timestamp: &str, payload: &str) -> String {
    signature::outer_signature(key, nonce, timestamp, payload)
}

/// Verifies a received `x-sign` against the raw body (canonicalised first).
pub(crate) fn verify(
    key: &AccessKey,
    nonce: &str,
    timestamp: &str,
    body: &[u8],
    received: &str,
) -> bool {
    canonical_body(body)
        .map(|payload| hex_eq_ignore_case(&x_sign(key, nonce, timestamp, &payload), received))
        .unwrap_or(false)
}

/// Verifies a received `x-sign` and, when it does not match, names the step a signer got
/// wrong: the raw body signed, the basic interface's inner HMAC used, nonce and timestamp
/// swapped, the key prefix left out, the key alone used with the V1 Body-Sign habit.
pub(crate) fn diagnose(
    key: &AccessKey,
    nonce: &str,
    timestamp: &str,
    body: &[u8],
    received: &str,
) -> Verdict {
    let Ok(payload) = canonical_body(body) else {
        return Verdict::unsignable(received);
    };
    let raw = String::from_utf8_lossy(body);
    let k = key.expose_str();
    let suspects = vec![
        Suspect::new(
            "body-not-canonical",
            "the raw body was signed; sign the canonical payload (top-level keys sorted, compact, \
             nulls dropped) — or the body was re-serialised after signing",
            || Some(x_sign(key, nonce, timestamp, &raw)),
        ),
        Suspect::new(
            "basic-signature-scheme",
            "the basic interfaces' scheme was used (an inner HMAC of the payload); the Kit signs \
             accessKey + nonce + timestamp + the payload itself",
            || Some(signature::signature(key, nonce, timestamp, &payload)),
        ),
        Suspect::new(
            "nonce-timestamp-swapped",
            "timestamp and nonce were concatenated in the wrong order; it is accessKey + nonce + \
             timestamp + payload",
            || {
                Some(signature::inner_hash(
                    key,
                    &format!("{k}{timestamp}{nonce}{payload}"),
                ))
            },
        ),
        Suspect::new(
            "key-prefix-missing",
            "the access key was left out of the signed string; it starts the string as well as \
             keying the HMAC",
            || {
                Some(signature::inner_hash(
                    key,
                    &format!("{nonce}{timestamp}{payload}"),
                ))
            },
        ),
        Suspect::new(
            "payload-only",
            "only the payload was signed (as for V1 Body-Sign); sign accessKey + nonce + \
             timestamp + payload",
            || Some(signature::inner_hash(key, &payload)),
        ),
    ];
    judge(
        x_sign(key, nonce, timestamp, &payload),
        received,
        hex_eq_ignore_case,
        &suspects,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_vectors::text;

    const GROUP: &str = "v2_kit_signature";

    #[test]
    fn reproduces_the_vector() {
        let key = AccessKey::new(text(GROUP, "access_key"));
        let body = text(GROUP, "body");
        let payload = canonical_body(body.as_bytes()).unwrap();
        assert_eq!(payload, body);
        let sign = x_sign(
            &key,
            &text(GROUP, "x_nonce"),
            &text(GROUP, "x_timestamp"),
            &payload,
        );
        // The vector is written in lowercase; kgsim signs in uppercase, as the published Kit
        // examples show.
        assert_eq!(sign, text(GROUP, "x_sign").to_ascii_uppercase());
        assert!(verify(
            &key,
            &text(GROUP, "x_nonce"),
            &text(GROUP, "x_timestamp"),
            body.as_bytes(),
            &sign.to_uppercase()
        ));
        assert!(
            diagnose(
                &key,
                &text(GROUP, "x_nonce"),
                &text(GROUP, "x_timestamp"),
                body.as_bytes(),
                &sign
            )
            .is_valid()
        );
        let tampered = body.replace("\"flag\":1", "\"flag\":2");
        assert!(!verify(
            &key,
            &text(GROUP, "x_nonce"),
            &text(GROUP, "x_timestamp"),
            tampered.as_bytes(),
            &sign
        ));
    }

    #[test]
    fn diagnoses_common_mistakes() {
        let key = AccessKey::new(text(GROUP, "access_key"));
        let (nonce, ts) = (text(GROUP, "x_nonce"), text(GROUP, "x_timestamp"));
        let body = text(GROUP, "body");
        let cause = |got: &str| match diagnose(&key, &nonce, &ts, body.as_bytes(), got) {
            Verdict::Invalid(m) => m.cause.map_or("unexplained", |c| c.id),
            Verdict::Valid => "valid",
        };
        let k = text(GROUP, "access_key");
        assert_eq!(
            cause(&signature::signature(&key, &nonce, &ts, &body)),
            "basic-signature-scheme"
        );
        assert_eq!(
            cause(&signature::inner_hash(
                &key,
                &format!("{k}{ts}{nonce}{body}")
            )),
            "nonce-timestamp-swapped"
        );
        assert_eq!(
            cause(&signature::inner_hash(&key, &format!("{nonce}{ts}{body}"))),
            "key-prefix-missing"
        );
        assert_eq!(cause(&signature::inner_hash(&key, &body)), "payload-only");
        assert_eq!(cause("00"), "unexplained");
        let spaced = body.replace(",", ", ");
        let raw_signed = x_sign(&key, &nonce, &ts, &spaced);
        assert!(matches!(
            diagnose(&key, &nonce, &ts, spaced.as_bytes(), &raw_signed),
            Verdict::Invalid(crate::protocol::verdict::Mismatch { cause: Some(c), .. }) if c.id == "body-not-canonical"
        ));
    }
}
