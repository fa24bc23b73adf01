//! V2 joint-operation Kit signature, carried in headers
//! (spec: koogallery-v2-kit-license.md §1.4).
//!
//! ```text
//! x-sign = hex( HMAC-SHA256( accessKey, accessKey + nonce + timestamp + RequestPayload ) )
//! headers: x-sign, x-timestamp (Unix ms), x-nonce
//! ```
//!
//! Unlike the basic signature there is no inner HMAC: the canonical payload itself is
//! concatenated. The published vector is lowercase hex; verification ignores case.

use crate::protocol::digest::hmac_sha256;
use crate::protocol::secret::AccessKey;
use crate::protocol::v2::canonical::canonical_body;
use crate::protocol::v2::signature::hex_eq_ignore_case;

/// Header carrying the signature.
pub const X_SIGN: &str = "x-sign";
/// Header carrying the Unix-millisecond timestamp.
pub const X_TIMESTAMP: &str = "x-timestamp";
/// Header carrying the nonce.
pub const X_NONCE: &str = "x-nonce";

/// `x-sign` over an already canonical payload, lowercase hex.
pub fn x_sign(key: &AccessKey, nonce: &str, timestamp: &str, payload: &str) -> String {
    let canonical_request = format!("{}{nonce}{timestamp}{payload}", key.expose_str());
    hex::encode(hmac_sha256(
        key.expose_bytes(),
        canonical_request.as_bytes(),
    ))
}

/// Verifies a received `x-sign` against the raw body (canonicalised first).
pub fn verify(key: &AccessKey, nonce: &str, timestamp: &str, body: &[u8], received: &str) -> bool {
    canonical_body(body)
        .map(|payload| hex_eq_ignore_case(&x_sign(key, nonce, timestamp, &payload), received))
        .unwrap_or(false)
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
        assert_eq!(sign, text(GROUP, "x_sign"));
        assert!(verify(
            &key,
            &text(GROUP, "x_nonce"),
            &text(GROUP, "x_timestamp"),
            body.as_bytes(),
            &sign.to_uppercase()
        ));
        let tampered = body.replace("\"flag\":1", "\"flag\":2");
        assert!(!verify(
            &key,
            &text(GROUP, "x_nonce"),
            &text(GROUP, "x_timestamp"),
            tampered.as_bytes(),
            &sign
        ));
    }
}
