//! The access key, kept out of every `Debug`, `Display`, log line and report.
//!
//! KooGallery signs and encrypts everything with one shared secret per interface type
//! (spec: koogallery-saas-v1.md §2.1, koogallery-v2-kit-license.md §1.2). kgsim reads it
//! from the environment or a file and only ever hands out its bytes to the HMAC and AES
//! code in this module's siblings.

use std::fmt;

/// A secret string (the KooGallery access key, an APIGW secret key) that never prints itself.
///
/// `Debug` and `Display` both render `[redacted]`, so a secret that slips into a log line,
/// an error message or a report stays secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey(String);

/// What every secret prints as.
pub(crate) const REDACTED: &str = "[redacted]";

impl AccessKey {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's bytes, for HMAC keys and key derivation only.
    pub(crate) fn expose_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The secret as text, for building HMAC keys that concatenate it with other text.
    pub(crate) fn expose_str(&self) -> &str {
        &self.0
    }
}

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
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
