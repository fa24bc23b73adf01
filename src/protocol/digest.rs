//! The two primitives every KooGallery signature is made of: HMAC-SHA256 and SHA-256.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// HMAC-SHA256 with its key already prepared: clone it to sign again under the same key
/// without preparing the key (two of the hash's blocks) again.
pub(crate) type KeyedHmac = Hmac<Sha256>;

/// Prepares HMAC-SHA256 under `key`.
pub(crate) fn keyed_hmac(key: &[u8]) -> KeyedHmac {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    <KeyedHmac as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

/// The MAC of `data` under a prepared key.
pub(crate) fn hmac_with(mut mac: KeyedHmac, data: &[u8]) -> [u8; 32] {
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `HMAC-SHA256(key, data)`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac_with(keyed_hmac(key), data)
}

/// `SHA-256(data)`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            hex::encode(sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
