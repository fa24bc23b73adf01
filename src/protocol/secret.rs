//! The access key, kept out of every `Debug`, `Display`, log line and report.
//!
//! KooGallery signs and encrypts everything with one shared secret per interface type
//! (spec: koogallery-saas-v1.md §2.1, koogallery-v2-kit-license.md §1.2). kgsim reads it
//! from the environment or a file and only ever hands out its bytes to the HMAC and AES
//! code in this module's siblings.

use std::fmt;
use std::sync::OnceLock;

use crate::protocol::digest::{KeyedHmac, hmac_with, keyed_hmac};

/// A secret string (the KooGallery access key, an APIGW secret key) that never prints itself.
///
/// `Debug` and `Display` both render `[redacted]`, so a secret that slips into a log line,
/// an error message or a report stays secret.
#[derive(Clone)]
pub struct AccessKey {
    value: String,
    /// HMAC-SHA256 keyed with the secret, prepared on first use: `Body-Sign` over every V1
    /// answer, the V2 signatures and the Kit's `x-sign` all key the HMAC with the bare
    /// secret, and preparing the key is two of the hash's blocks each time otherwise.
    keyed: OnceLock<KeyedHmac>,
}

/// What every secret prints as.
pub(crate) const REDACTED: &str = "[redacted]";

impl AccessKey {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            keyed: OnceLock::new(),
        }
    }

    /// The secret's bytes, for HMAC keys and key derivation only.
    pub(crate) fn expose_bytes(&self) -> &[u8] {
        self.value.as_bytes()
    }

    /// The secret as text, for building HMAC keys that concatenate it with other text.
    pub(crate) fn expose_str(&self) -> &str {
        &self.value
    }

    /// `HMAC-SHA256(key = the secret, data)`.
    pub(crate) fn hmac_sha256(&self, data: &[u8]) -> [u8; 32] {
        let prepared = self.keyed.get_or_init(|| keyed_hmac(self.value.as_bytes()));
        hmac_with(prepared.clone(), data)
    }
}

impl PartialEq for AccessKey {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for AccessKey {}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Compares two byte strings in time independent of where they first differ.
///
/// Signature checks use this so that a forger learns nothing from response timing.
/// Lengths are not secret (every signature of a scheme has the same length).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_key() {
        let key = AccessKey::new("0123456789abcdef");
        assert_eq!(format!("{key}"), "[redacted]");
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&key)), "Some([redacted])");
    }

    #[test]
    fn the_prepared_hmac_is_the_hmac_keyed_with_the_secret() {
        use crate::protocol::digest::hmac_sha256;
        // Short keys are padded, keys longer than a block are hashed first (RFC 2104).
        for secret in ["k", "a-typical-koogallery-access-key", &"long".repeat(40)] {
            let key = AccessKey::new(secret);
            for data in [&b""[..], b"body", &[7u8; 300]] {
                assert_eq!(key.hmac_sha256(data), hmac_sha256(secret.as_bytes(), data));
                // Prepared once, used again: the same answer.
                assert_eq!(key.hmac_sha256(data), hmac_sha256(secret.as_bytes(), data));
            }
            assert_eq!(key.clone(), key);
            assert_ne!(AccessKey::new("other"), key);
        }
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
