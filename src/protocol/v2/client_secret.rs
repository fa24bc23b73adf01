//! The Kit's `clientSecret`: RSA-OAEP with the merchant's public key (spec:
//! koogallery-v2-kit-license.md §3.3, §3.8).
//!
//! The merchant uploads an RSA public key of at least 3072 bits with its app credential; the
//! marketplace encrypts each tenant's OAuth client secret with it, OAEP padded, and the
//! merchant decrypts with its private key. The docs name neither the OAEP digest nor the MGF1
//! digest nor the text encoding (§10 q7), so the digest is a setting ([`OaepDigest`]) and the
//! ciphertext is Base64 [I:client-secret-oaep]. SHA-256 with MGF1-SHA-1 is what Java's
//! `OAEPWithSHA-256AndMGF1Padding` actually does — the common interoperability trap, and so
//! the default here; SHA-1 (`OAEPWithSHA-1AndMGF1Padding`) and SHA-256 throughout are the
//! other readings.
//!
//! The console's debug form takes the public key without its PEM header and footer (§3.3
//! FAQ), so a bare Base64 body is accepted as well as PEM (SPKI or PKCS#1).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::rand_core::TryCryptoRng;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PrivateKey, PublicKey};

/// The smallest key the marketplace accepts (§3.3: "≥ 3072 bits").
pub(crate) const MIN_KEY_BITS: usize = 3072;

/// The OAEP digest and MGF1 digest pair.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OaepDigest {
    /// SHA-1 and MGF1-SHA-1 (Java `OAEPWithSHA-1AndMGF1Padding`, OpenSSL's default).
    Sha1,
    /// SHA-256 with MGF1-SHA-1 (what Java's `OAEPWithSHA-256AndMGF1Padding` does).
    #[default]
    Sha256Mgf1Sha1,
    /// SHA-256 with MGF1-SHA-256.
    Sha256,
}

impl OaepDigest {
    fn encrypt<R: TryCryptoRng + ?Sized>(
        self,
        key: &PublicKey,
        rng: &mut R,
        plaintext: &[u8],
    ) -> rsa::Result<Vec<u8>> {
        match self {
            Self::Sha1 => key.encrypt(rng, Oaep::<sha1::Sha1>::new(), plaintext),
            Self::Sha256Mgf1Sha1 => key.encrypt(
                rng,
                Oaep::<sha2::Sha256, sha1::Sha1>::new_with_mgf_hash(),
                plaintext,
            ),
            Self::Sha256 => key.encrypt(rng, Oaep::<sha2::Sha256>::new(), plaintext),
        }
    }

    fn decrypt(self, key: &PrivateKey, ciphertext: &[u8]) -> rsa::Result<Vec<u8>> {
        match self {
            Self::Sha1 => key.decrypt(Oaep::<sha1::Sha1>::new(), ciphertext),
            Self::Sha256Mgf1Sha1 => key.decrypt(
                Oaep::<sha2::Sha256, sha1::Sha1>::new_with_mgf_hash(),
                ciphertext,
            ),
            Self::Sha256 => key.decrypt(Oaep::<sha2::Sha256>::new(), ciphertext),
        }
    }
}

// The name in profiles and flags.
crate::slug_impls!(pub OaepDigest, "OAEP digest", {
    Sha1 = "sha1",
    Sha256Mgf1Sha1 = "sha256-mgf1-sha1",
    Sha256 = "sha256",
});

/// Why a key or ciphertext was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SecretError {
    /// Not a PEM or Base64 RSA key.
    #[error("not an RSA {0} key (PEM `PUBLIC KEY`/`RSA PUBLIC KEY`, or its Base64 body)")]
    NotAKey(&'static str),
    /// Shorter than the marketplace accepts.
    #[error("the key has {bits} bits; KooGallery requires at least {MIN_KEY_BITS} (spec §3.3)")]
    TooShort {
        /// Its size.
        bits: usize,
    },
    /// The ciphertext is not Base64.
    #[error("the clientSecret is not Base64")]
    NotBase64,
    /// OAEP decoding failed: wrong key, wrong digest, or not OAEP.
    #[error("the clientSecret does not decrypt with this key and {0}")]
    Undecryptable(OaepDigest),
    /// The plaintext is not UTF-8.
    #[error("the decrypted clientSecret is not UTF-8")]
    NotText,
    /// Encryption failed (the plaintext is too long for the key).
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
}

/// The PEM label-free Base64 body as DER, for keys pasted the way the console takes them.
fn bare_der(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.split_whitespace().collect();
    STANDARD.decode(compact).ok()
}

/// A merchant's public key, checked to be large enough.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct MerchantPublicKey(PublicKey);

impl fmt::Debug for MerchantPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MerchantPublicKey({} bits)", self.bits())
    }
}

impl MerchantPublicKey {
    /// Parses PEM (SPKI or PKCS#1) or a bare Base64 SPKI body; refuses keys under 3072 bits.
    pub(crate) fn parse(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let key = PublicKey::from_public_key_pem(text)
            .ok()
            .or_else(|| PublicKey::from_pkcs1_pem(text).ok())
            .or_else(|| {
                let der = bare_der(text)?;
                PublicKey::from_public_key_der(&der)
                    .ok()
                    .or_else(|| PublicKey::from_pkcs1_der(&der).ok())
            })
            .ok_or(SecretError::NotAKey("public"))?;
        let key = Self(key);
        if key.bits() < MIN_KEY_BITS {
            return Err(SecretError::TooShort { bits: key.bits() });
        }
        Ok(key)
    }

    /// Its size in bits.
    pub(crate) fn bits(&self) -> usize {
        self.0.size() * 8
    }

    /// As SPKI PEM.
    pub(crate) fn to_pem(&self) -> String {
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// Encrypts a client secret: OAEP with `digest`, Base64.
    pub(crate) fn encrypt<R: TryCryptoRng + ?Sized>(
        &self,
        digest: OaepDigest,
        rng: &mut R,
        plaintext: &str,
    ) -> Result<String, SecretError> {
        digest
            .encrypt(&self.0, rng, plaintext.as_bytes())
            .map(|bytes| STANDARD.encode(bytes))
            .map_err(|e| SecretError::Encrypt(e.to_string()))
    }
}

/// A merchant's private key.
#[derive(Clone)]
pub(crate) struct MerchantPrivateKey(PrivateKey);

impl fmt::Debug for MerchantPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MerchantPrivateKey([redacted])")
    }
}

impl MerchantPrivateKey {
    /// Parses PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
    pub(crate) fn parse(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        PrivateKey::from_pkcs8_pem(text)
            .ok()
            .or_else(|| PrivateKey::from_pkcs1_pem(text).ok())
            .map(Self)
            .ok_or(SecretError::NotAKey("private"))
    }

    /// A fresh key pair of `bits` bits.
    pub(crate) fn generate(bits: usize) -> Result<Self, SecretError> {
        PrivateKey::new(&mut rand::rng(), bits)
            .map(Self)
            .map_err(|e| SecretError::Encrypt(e.to_string()))
    }

    /// The public half.
    pub(crate) fn public_key(&self) -> MerchantPublicKey {
        MerchantPublicKey(self.0.to_public_key())
    }

    /// Decrypts a Base64 client secret with OAEP `digest`.
    pub(crate) fn decrypt(
        &self,
        digest: OaepDigest,
        ciphertext: &str,
    ) -> Result<String, SecretError> {
        let bytes = bare_der(ciphertext).ok_or(SecretError::NotBase64)?;
        let plain = digest
            .decrypt(&self.0, &bytes)
            .map_err(|_| SecretError::Undecryptable(digest))?;
        String::from_utf8(plain).map_err(|_| SecretError::NotText)
    }

    /// Decrypts with PKCS#1 v1.5 padding instead of OAEP: what a merchant that got the
    /// padding wrong does (the reference merchant's `kit-rsa-pkcs1` fault).
    pub(crate) fn decrypt_pkcs1v15(&self, ciphertext: &str) -> Result<String, SecretError> {
        let bytes = bare_der(ciphertext).ok_or(SecretError::NotBase64)?;
        let plain = self
            .0
            .decrypt(rsa::Pkcs1v15Encrypt, &bytes)
            .map_err(|_| SecretError::Undecryptable(OaepDigest::default()))?;
        String::from_utf8(plain).map_err(|_| SecretError::NotText)
    }

    /// The digest a ciphertext decrypts with, if any: for `kgsim crypt rsa-oaep` to say
    /// which reading a peer used.
    pub(crate) fn which_digest(&self, ciphertext: &str) -> Option<OaepDigest> {
        OaepDigest::ALL
            .iter()
            .copied()
            .find(|d| self.decrypt(*d, ciphertext).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const PRIVATE: &str = include_str!("../../../fixtures/kit/test-merchant-private.pem");
    const PUBLIC: &str = include_str!("../../../fixtures/kit/test-merchant-public.pem");
    const SHORT: &str = include_str!("../../../fixtures/kit/test-2048-public.pem");

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../../../fixtures/kit/oaep-vectors.json"))
            .expect("oaep-vectors.json parses")
    }

    #[test]
    fn decrypts_what_openssl_encrypted_with_each_digest() {
        let key = MerchantPrivateKey::parse(PRIVATE).unwrap();
        let v = vectors();
        let plain = v["plaintext"].as_str().unwrap();
        for digest in OaepDigest::ALL.iter().copied() {
            let ciphertext = v["ciphertexts"][digest.slug()].as_str().unwrap();
            assert_eq!(
                key.decrypt(digest, ciphertext).as_deref(),
                Ok(plain),
                "{digest}"
            );
            assert_eq!(key.which_digest(ciphertext), Some(digest));
            for other in OaepDigest::ALL.iter().copied().filter(|d| *d != digest) {
                assert_eq!(
                    key.decrypt(other, ciphertext),
                    Err(SecretError::Undecryptable(other)),
                    "{digest} read as {other}"
                );
            }
        }
        let pkcs1 = v["ciphertexts"]["pkcs1v15"].as_str().unwrap();
        assert_eq!(key.which_digest(pkcs1), None);
        assert_eq!(key.decrypt_pkcs1v15(pkcs1).as_deref(), Ok(plain));
    }

    #[test]
    fn round_trips_and_refuses_short_or_malformed_keys() {
        let private = MerchantPrivateKey::parse(PRIVATE).unwrap();
        let public = MerchantPublicKey::parse(PUBLIC).unwrap();
        assert_eq!(public, private.public_key());
        assert_eq!(public.bits(), 3072);
        // The console's form: the Base64 body without header and footer lines.
        let body: String = PUBLIC.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(MerchantPublicKey::parse(&body), Ok(public.clone()));
        let ciphertext = public
            .encrypt(OaepDigest::Sha256Mgf1Sha1, &mut rand::rng(), "s3cret")
            .unwrap();
        assert_eq!(
            private
                .decrypt(OaepDigest::Sha256Mgf1Sha1, &ciphertext)
                .as_deref(),
            Ok("s3cret")
        );
        assert!(private.decrypt_pkcs1v15(&ciphertext).is_err());
        assert_eq!(
            MerchantPublicKey::parse(SHORT),
            Err(SecretError::TooShort { bits: 2048 })
        );
        assert_eq!(
            MerchantPublicKey::parse("not a key"),
            Err(SecretError::NotAKey("public"))
        );
        assert_eq!(
            private.decrypt(OaepDigest::Sha1, "%%"),
            Err(SecretError::NotBase64)
        );
        assert_eq!("sha256".parse(), Ok(OaepDigest::Sha256));
        assert!(!format!("{private:?}").contains("BEGIN"));
    }
}
