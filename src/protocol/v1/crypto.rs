//! V1 sensitive-field encryption (spec: koogallery-saas-v1.md §3).
//!
//! ```text
//! value = IV (16 ASCII characters, in clear) + Base64( AES-CBC-PKCS5( key, IV, UTF-8 plaintext ) )
//! key   = Java SHA1PRNG seeded with the access key, 32 bytes (encryptType 1) or 16 (encryptType 2)
//! ```
//!
//! The marketplace encrypts `mobilePhone`/`email` in newInstance; the merchant encrypts
//! `appInfo.userName`/`password` and declares the algorithm in `encryptType`. The AES key is
//! not the access key: Huawei's sample seeds `SecureRandom.getInstance("SHA1PRNG")` with it
//! and lets `KeyGenerator` draw the key, which [`derive_key`] reproduces byte for byte (§3.4).

use std::fmt;
use std::str::FromStr;

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit, block_padding::Pkcs7};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngExt as _;
use sha1::{Digest, Sha1};

use crate::protocol::secret::AccessKey;

/// The response field `encryptType`: which AES variant encrypted `userName`/`password`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum EncryptType {
    /// `1`: AES-256-CBC-PKCS5Padding, the documented default.
    #[default]
    #[serde(rename = "1")]
    Aes256,
    /// `2`: AES-128-CBC-PKCS5Padding.
    #[serde(rename = "2")]
    Aes128,
}

impl EncryptType {
    /// The value on the wire (`"1"` or `"2"`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Aes256 => "1",
            Self::Aes128 => "2",
        }
    }

    /// The AES key length in bytes.
    pub(crate) fn key_len(self) -> usize {
        match self {
            Self::Aes256 => 32,
            Self::Aes128 => 16,
        }
    }
}

impl fmt::Display for EncryptType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `encryptType` was not `1` or `2`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("encryptType `{0}` is not 1 (AES-256) or 2 (AES-128)")]
pub struct UnknownEncryptType(pub String);

impl FromStr for EncryptType {
    type Err = UnknownEncryptType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1" => Ok(Self::Aes256),
            "2" => Ok(Self::Aes128),
            other => Err(UnknownEncryptType(other.to_owned())),
        }
    }
}

/// The 16-character IV that prefixes every encrypted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iv([u8; 16]);

/// Length of the clear-text IV prefix.
pub(crate) const IV_LEN: usize = 16;

/// The IV is not 16 ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the IV must be exactly 16 ASCII characters, got {0:?}")]
pub struct InvalidIv(pub String);

impl Iv {
    /// A random IV of 16 characters from `[A-Za-z0-9]`, as Huawei's sample draws it.
    pub(crate) fn random() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        let mut bytes = [0u8; IV_LEN];
        for byte in &mut bytes {
            *byte = ALPHABET[rng.random_range(0..ALPHABET.len())];
        }
        Self(bytes)
    }

    /// The IV's characters.
    pub(crate) fn as_str(&self) -> &str {
        // Constructed only from ASCII, so always valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for Iv {
    type Err = InvalidIv;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes: [u8; IV_LEN] = s
            .as_bytes()
            .try_into()
            .map_err(|_| InvalidIv(s.to_owned()))?;
        if bytes.is_ascii() {
            Ok(Self(bytes))
        } else {
            Err(InvalidIv(s.to_owned()))
        }
    }
}

/// Why an encrypted field did not decrypt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Shorter than the 16-character IV (plus at least one block).
    #[error("the value is too short to hold a 16-character IV and a ciphertext")]
    TooShort,
    /// The IV prefix is not ASCII.
    #[error("the first 16 characters are not an ASCII IV")]
    BadIv,
    /// The part after the IV is not standard Base64.
    #[error("the part after the IV is not valid Base64")]
    NotBase64,
    /// The ciphertext is not a whole number of AES blocks.
    #[error("the ciphertext is not a whole number of 16-byte AES blocks")]
    NotBlockAligned,
    /// Decryption succeeded but the PKCS#5 padding is wrong: wrong key or wrong encryptType.
    #[error("the padding is invalid after decryption (wrong key or wrong encryptType)")]
    BadPadding,
    /// The plaintext is not UTF-8.
    #[error("the decrypted bytes are not UTF-8 text")]
    NotUtf8,
}

/// Java `SHA1PRNG` seeded with `seed`, producing `len` bytes (spec §3.4).
///
/// `state = SHA1(seed)`; each block is `SHA1(state)`, after which
/// `state = state + block + 1 (mod 2^160)`, added byte-wise from index 0 with Java's signed
/// bytes and arithmetic carry; if no byte changed, `state[0]` is incremented.
pub(crate) fn derive_key(seed: &[u8], len: usize) -> Vec<u8> {
    let mut state: [u8; 20] = Sha1::digest(seed).into();
    let mut out = Vec::with_capacity(len + 20);
    while out.len() < len {
        let block: [u8; 20] = Sha1::digest(state).into();
        update_state(&mut state, &block);
        out.extend_from_slice(&block);
    }
    out.truncate(len);
    out
}

fn update_state(state: &mut [u8; 20], output: &[u8; 20]) {
    let mut carry: i32 = 1;
    let mut changed = false;
    for (s, o) in state.iter_mut().zip(output) {
        // Java adds the bytes as signed values; the low 8 bits are kept and the arithmetic
        // shift of the sum is the carry, which may be negative.
        let sum = i32::from(*s as i8) + i32::from(*o as i8) + carry;
        let low = sum as u8;
        changed |= *s != low;
        *s = low;
        carry = sum >> 8;
    }
    if !changed {
        state[0] = state[0].wrapping_add(1);
    }
}

/// An AES key schedule, expanded once.
#[expect(
    clippy::large_enum_variant,
    reason = "one per thread, lent where it is kept; boxing would only add an indirection"
)]
enum Schedule {
    Aes256(aes::Aes256),
    Aes128(aes::Aes128),
}

/// Runs `use_it` with the key schedule for an access key and key length, cached per thread
/// for the last pair used: deriving the key (SHA1PRNG) and expanding it cost more than the
/// field itself, and every field of a run (every answer of a load) uses the same pair. The
/// schedule is lent, not copied (it is several hundred bytes).
fn with_schedule<T>(
    key: &AccessKey,
    encrypt_type: EncryptType,
    use_it: impl FnOnce(&Schedule) -> T,
) -> T {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(AccessKey, EncryptType, Schedule)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        let cached = last
            .as_ref()
            .is_some_and(|(cached, cached_type, _)| *cached_type == encrypt_type && cached == key);
        if !cached {
            let derived = derive_key(key.expose_bytes(), encrypt_type.key_len());
            let schedule = match encrypt_type {
                EncryptType::Aes256 => aes::Aes256::new_from_slice(&derived).map(Schedule::Aes256),
                EncryptType::Aes128 => aes::Aes128::new_from_slice(&derived).map(Schedule::Aes128),
            }
            .unwrap_or_else(|_| unreachable!("the derived key has the type's length"));
            *last = Some((key.clone(), encrypt_type, schedule));
        }
        match last {
            Some((_, _, schedule)) => use_it(schedule),
            None => unreachable!("filled above"),
        }
    })
}

/// Encrypts one field: IV + Base64(AES-CBC-PKCS5(plaintext)).
pub fn encrypt(key: &AccessKey, encrypt_type: EncryptType, iv: &Iv, plaintext: &str) -> String {
    let iv_bytes = (&iv.0).into();
    let ciphertext = with_schedule(key, encrypt_type, |schedule| match schedule {
        Schedule::Aes256(cipher) => cbc::Encryptor::inner_iv_init(cipher, iv_bytes)
            .encrypt_padded_vec::<Pkcs7>(plaintext.as_bytes()),
        Schedule::Aes128(cipher) => cbc::Encryptor::inner_iv_init(cipher, iv_bytes)
            .encrypt_padded_vec::<Pkcs7>(plaintext.as_bytes()),
    });
    format!("{}{}", iv.as_str(), STANDARD.encode(ciphertext))
}

/// Decrypts one field produced by [`encrypt`] (or by the marketplace/merchant).
pub fn decrypt(
    key: &AccessKey,
    encrypt_type: EncryptType,
    value: &str,
) -> Result<String, DecryptError> {
    if value.len() <= IV_LEN {
        return Err(DecryptError::TooShort);
    }
    let (iv, body) = value.split_at_checked(IV_LEN).ok_or(DecryptError::BadIv)?;
    let iv: Iv = iv.parse().map_err(|_| DecryptError::BadIv)?;
    let mut buffer = STANDARD.decode(body).map_err(|_| DecryptError::NotBase64)?;
    if buffer.is_empty() {
        return Err(DecryptError::TooShort);
    }
    if buffer.len() % 16 != 0 {
        return Err(DecryptError::NotBlockAligned);
    }
    // Decrypted in place: the plaintext is the buffer's start.
    let iv_bytes = (&iv.0).into();
    let plain = with_schedule(key, encrypt_type, |schedule| match schedule {
        Schedule::Aes256(cipher) => cbc::Decryptor::inner_iv_init(cipher, iv_bytes)
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
        Schedule::Aes128(cipher) => cbc::Decryptor::inner_iv_init(cipher, iv_bytes)
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
    })
    .map_err(|_| DecryptError::BadPadding)?;
    buffer.truncate(plain);
    String::from_utf8(buffer).map_err(|_| DecryptError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_vectors::{text, vectors};
    use proptest::prelude::*;

    const GROUP: &str = "v1_field_encryption";

    fn key() -> AccessKey {
        AccessKey::new(text(GROUP, "access_key"))
    }

    #[test]
    fn derives_the_vector_keys() {
        let seed = text(GROUP, "access_key");
        assert_eq!(
            hex::encode(derive_key(seed.as_bytes(), 32)),
            text(GROUP, "aes256_key_hex")
        );
        assert_eq!(
            hex::encode(derive_key(seed.as_bytes(), 16)),
            text(GROUP, "aes128_key_hex")
        );
        let extra = &vectors()[GROUP]["extra_key_derivation"];
        let seed = extra["seed"].as_str().unwrap();
        assert_eq!(
            hex::encode(derive_key(seed.as_bytes(), 32)),
            extra["aes256_key_hex"].as_str().unwrap()
        );
    }

    #[test]
    fn encrypts_the_vectors() {
        let iv: Iv = text(GROUP, "iv").parse().unwrap();
        let plain = text(GROUP, "plaintext");
        assert_eq!(
            encrypt(&key(), EncryptType::Aes256, &iv, &plain),
            text(GROUP, "encrypt_type_1_aes256")
        );
        assert_eq!(
            encrypt(&key(), EncryptType::Aes128, &iv, &plain),
            text(GROUP, "encrypt_type_2_aes128")
        );
    }

    #[test]
    fn decrypts_the_vectors() {
        let plain = text(GROUP, "plaintext");
        assert_eq!(
            decrypt(
                &key(),
                EncryptType::Aes256,
                &text(GROUP, "encrypt_type_1_aes256")
            ),
            Ok(plain.clone())
        );
        assert_eq!(
            decrypt(
                &key(),
                EncryptType::Aes128,
                &text(GROUP, "encrypt_type_2_aes128")
            ),
            Ok(plain)
        );
    }

    #[test]
    fn wrong_type_or_key_or_tampering_does_not_decrypt_to_the_plaintext() {
        let plain = text(GROUP, "plaintext");
        let aes256 = text(GROUP, "encrypt_type_1_aes256");
        assert_ne!(
            decrypt(&key(), EncryptType::Aes128, &aes256),
            Ok(plain.clone())
        );
        assert_ne!(
            decrypt(&AccessKey::new("other"), EncryptType::Aes256, &aes256),
            Ok(plain.clone())
        );
        let mut tampered = aes256.into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_ne!(decrypt(&key(), EncryptType::Aes256, &tampered), Ok(plain));
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        assert_eq!(
            decrypt(&key(), EncryptType::Aes256, "short"),
            Err(DecryptError::TooShort)
        );
        assert_eq!(
            decrypt(&key(), EncryptType::Aes256, "AbCdEf0123456789"),
            Err(DecryptError::TooShort)
        );
        assert_eq!(
            decrypt(&key(), EncryptType::Aes256, "AbCdEf0123456789!!!"),
            Err(DecryptError::NotBase64)
        );
        assert_eq!(
            decrypt(&key(), EncryptType::Aes256, "AbCdEf0123456789AAAA"),
            Err(DecryptError::NotBlockAligned)
        );
        assert_eq!(
            decrypt(&key(), EncryptType::Aes256, "中文中文中文中文中文中文"),
            Err(DecryptError::BadIv)
        );
    }

    #[test]
    fn encrypt_type_text() {
        assert_eq!("1".parse(), Ok(EncryptType::Aes256));
        assert_eq!("2".parse(), Ok(EncryptType::Aes128));
        assert!("3".parse::<EncryptType>().is_err());
    }

    #[test]
    fn random_ivs_are_alphanumeric() {
        let iv = Iv::random();
        assert_eq!(iv.as_str().len(), 16);
        assert!(iv.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
    }

    proptest! {
        #[test]
        fn round_trips_any_text_and_key(plain in ".*", seed in ".{0,64}", aes128 in any::<bool>()) {
            let key = AccessKey::new(seed);
            let ty = if aes128 { EncryptType::Aes128 } else { EncryptType::Aes256 };
            let value = encrypt(&key, ty, &Iv::random(), &plain);
            prop_assert_eq!(decrypt(&key, ty, &value), Ok(plain));
        }
    }
}
