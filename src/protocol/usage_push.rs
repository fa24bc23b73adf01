//! Signature of the on-demand usage push the merchant sends to the marketplace
//! (spec: koogallery-v2-kit-license.md §7.2).
//!
//! ```text
//! signature = Base64( HMAC-SHA256( key, "ts={ts}&nonce={nonce}&body={body}" ) )
//! headers:  signature, ts (Unix ms), nonce
//! ```
//!
//! The body is "naturally sorted" before signing, read here as keys sorted at every depth.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::protocol::secret::{AccessKey, constant_time_eq};
use crate::protocol::v2::canonical::{CanonicalError, sort_keys_deep};

/// The body with keys sorted at every depth, compact.
pub(crate) fn canonical_body(body: &[u8]) -> Result<String, CanonicalError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| CanonicalError::NotJson(e.to_string()))?;
    Ok(sort_keys_deep(&value).to_string())
}

/// The signature header over an already canonical body.
pub(crate) fn signature(key: &AccessKey, ts: &str, nonce: &str, body: &str) -> String {
    let message = format!("ts={ts}&nonce={nonce}&body={body}");
    STANDARD.encode(key.hmac_sha256(message.as_bytes()))
}

/// Verifies a received signature against a raw body.
pub(crate) fn verify(key: &AccessKey, ts: &str, nonce: &str, body: &[u8], received: &str) -> bool {
    canonical_body(body)
        .map(|canonical| {
            constant_time_eq(
                signature(key, ts, nonce, &canonical).as_bytes(),
                received.as_bytes(),
            )
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_vectors::text;

    const GROUP: &str = "usage_push_signature";

    #[test]
    fn reproduces_the_vector() {
        let key = AccessKey::new(text(GROUP, "access_key"));
        let body = text(GROUP, "body");
        assert_eq!(canonical_body(body.as_bytes()).unwrap(), body);
        let sig = signature(&key, &text(GROUP, "ts"), &text(GROUP, "nonce"), &body);
        assert_eq!(sig, text(GROUP, "signature"));
        assert!(verify(
            &key,
            &text(GROUP, "ts"),
            &text(GROUP, "nonce"),
            body.as_bytes(),
            &sig
        ));
        assert!(!verify(
            &key,
            &text(GROUP, "ts"),
            &text(GROUP, "nonce"),
            body.replace("99", "98").as_bytes(),
            &sig
        ));
    }
}
