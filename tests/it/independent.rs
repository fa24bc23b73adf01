//! Cryptography written from the spec with the RustCrypto crates directly, sharing no code
//! with kgsim's `protocol` module: the independent client and the independent merchant use it
//! to check kgsim (and its reference merchant) against the spec rather than against itself.

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// HMAC-SHA256.
pub(crate) fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Java SHA1PRNG (spec V1 §3.4), written out independently.
pub(crate) fn sha1prng(seed: &[u8], n: usize) -> Vec<u8> {
    let mut state: Vec<u8> = Sha1::digest(seed).to_vec();
    let mut out = Vec::new();
    while out.len() < n {
        let block: Vec<u8> = Sha1::digest(&state).to_vec();
        out.extend_from_slice(&block);
        let before = state.clone();
        let mut carry: i32 = 1;
        for (i, b) in block.iter().enumerate() {
            let sum = i32::from(state[i] as i8) + i32::from(*b as i8) + carry;
            state[i] = sum.rem_euclid(256) as u8;
            carry = sum.div_euclid(256);
        }
        if state == before {
            state[0] = state[0].wrapping_add(1);
        }
    }
    out.truncate(n);
    out
}

/// AES-CBC-PKCS5 with the SHA1PRNG-derived key: `iv + Base64(ciphertext)`.
pub(crate) fn encrypt(key: &str, aes128: bool, iv: &str, plain: &str) -> String {
    let cipher = if aes128 {
        let k = sha1prng(key.as_bytes(), 16);
        cbc::Encryptor::<aes::Aes128>::new_from_slices(&k, iv.as_bytes())
            .unwrap()
            .encrypt_padded_vec::<Pkcs7>(plain.as_bytes())
    } else {
        let k = sha1prng(key.as_bytes(), 32);
        cbc::Encryptor::<aes::Aes256>::new_from_slices(&k, iv.as_bytes())
            .unwrap()
            .encrypt_padded_vec::<Pkcs7>(plain.as_bytes())
    };
    format!("{iv}{}", B64.encode(cipher))
}

/// The inverse of [`encrypt`].
pub(crate) fn decrypt(key: &str, aes128: bool, value: &str) -> Option<String> {
    let (iv, body) = value.split_at_checked(16)?;
    let cipher = B64.decode(body).ok()?;
    let plain = if aes128 {
        let k = sha1prng(key.as_bytes(), 16);
        cbc::Decryptor::<aes::Aes128>::new_from_slices(&k, iv.as_bytes())
            .ok()?
            .decrypt_padded_vec::<Pkcs7>(&cipher)
            .ok()?
    } else {
        let k = sha1prng(key.as_bytes(), 32);
        cbc::Decryptor::<aes::Aes256>::new_from_slices(&k, iv.as_bytes())
            .ok()?
            .decrypt_padded_vec::<Pkcs7>(&cipher)
            .ok()?
    };
    String::from_utf8(plain).ok()
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// An API Gateway `SDK-HMAC-SHA256` Authorization header (spec §6.4), written out
/// independently: every given header signed, names lowercased and sorted, the path with a
/// trailing `/`, the query sorted as given (callers pass it already encoded).
pub(crate) fn apigw_authorization(
    ak: &str,
    sk: &str,
    method: &str,
    path: &str,
    sorted_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    let mut lower: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    lower.sort();
    let signed: Vec<&str> = lower.iter().map(|(n, _)| n.as_str()).collect();
    let canonical_headers: String = lower.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let canonical = format!(
        "{method}\n{path}/\n{sorted_query}\n{canonical_headers}\n{}\n{}",
        signed.join(";"),
        sha256_hex(body)
    );
    let date = &lower.iter().find(|(n, _)| n == "x-sdk-date").unwrap().1;
    let to_sign = format!(
        "SDK-HMAC-SHA256\n{date}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let signature = hex::encode(hmac(sk.as_bytes(), to_sign.as_bytes()));
    format!(
        "SDK-HMAC-SHA256 Access={ak}, SignedHeaders={}, Signature={signature}",
        signed.join(";")
    )
}

/// The usage push's `signature` header (spec §7.2) over a body whose keys are already sorted.
pub(crate) fn usage_signature(key: &str, ts: &str, nonce: &str, sorted_body: &str) -> String {
    B64.encode(hmac(
        key.as_bytes(),
        format!("ts={ts}&nonce={nonce}&body={sorted_body}").as_bytes(),
    ))
}

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `yyyyMMdd'T'HHmmss'Z'` of a Unix time, by Howard Hinnant's civil-from-days, written out so
/// as not to use kgsim's.
pub(crate) fn basic_iso(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A JSON value with object keys sorted at every depth.
pub(crate) fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// MGF1 with a hash `H` (RFC 8017 §B.2.1): `len` bytes of H(seed || counter) blocks.
fn mgf1<H: Digest>(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut hasher = H::new();
        hasher.update(seed);
        hasher.update(counter.to_be_bytes());
        out.extend_from_slice(&hasher.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// EME-OAEP decoding (RFC 8017 §7.1.2 step 3) of an encoded block `em` of the modulus'
/// length, with the OAEP hash `H` and the MGF1 hash `G`; `None` on any mismatch.
pub(crate) fn oaep_decode<H: Digest, G: Digest>(em: &[u8]) -> Option<Vec<u8>> {
    let h_len = <H as Digest>::output_size();
    let k = em.len();
    if k < 2 * h_len + 2 || em[0] != 0 {
        return None;
    }
    let (masked_seed, masked_db) = em[1..].split_at(h_len);
    let seed_mask = mgf1::<G>(masked_db, h_len);
    let seed: Vec<u8> = masked_seed
        .iter()
        .zip(&seed_mask)
        .map(|(a, b)| a ^ b)
        .collect();
    let db_mask = mgf1::<G>(&seed, k - h_len - 1);
    let db: Vec<u8> = masked_db.iter().zip(&db_mask).map(|(a, b)| a ^ b).collect();
    let l_hash = H::digest(b"");
    if db[..h_len] != l_hash[..] {
        return None;
    }
    let rest = &db[h_len..];
    let one = rest.iter().position(|b| *b != 0)?;
    (rest[one] == 1).then(|| rest[one + 1..].to_vec())
}

/// Raw RSA decryption (m = c^d mod n) with the crate's primitive, then EME-OAEP decoding of
/// our own: the plaintext, for the OAEP hash `H` and MGF1 hash `G`.
pub(crate) fn rsa_oaep_decrypt<H: Digest, G: Digest>(
    key: &rsa::PrivateKey,
    ciphertext_b64: &str,
) -> Option<Vec<u8>> {
    use rsa::traits::PublicKeyParts;
    let ciphertext = B64.decode(ciphertext_b64.trim()).ok()?;
    let k = key.size();
    let precision = key.n().as_ref().bits_precision();
    let c = rsa::BoxedUint::from_be_slice(&ciphertext, precision).ok()?;
    let m = rsa::hazmat::rsa_decrypt_and_check(key, Some(&mut rand::rng()), &c).ok()?;
    let bytes = m.to_be_bytes();
    // I2OSP(m, k): the big-endian bytes, left-aligned to the modulus length.
    let em = &bytes[bytes.len().checked_sub(k)?..];
    oaep_decode::<H, G>(em)
}

#[test]
fn the_independent_oaep_decoder_reads_what_openssl_wrote() {
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::PrivateKey::from_pkcs8_pem(include_str!(
        "../../fixtures/kit/test-merchant-private.pem"
    ))
    .unwrap();
    let vectors: Value =
        serde_json::from_str(include_str!("../../fixtures/kit/oaep-vectors.json")).unwrap();
    let plain = vectors["plaintext"].as_str().unwrap().as_bytes().to_vec();
    let cipher = |name: &str| vectors["ciphertexts"][name].as_str().unwrap().to_owned();
    assert_eq!(
        rsa_oaep_decrypt::<Sha1, Sha1>(&key, &cipher("sha1")),
        Some(plain.clone())
    );
    assert_eq!(
        rsa_oaep_decrypt::<Sha256, Sha1>(&key, &cipher("sha256-mgf1-sha1")),
        Some(plain.clone())
    );
    assert_eq!(
        rsa_oaep_decrypt::<Sha256, Sha256>(&key, &cipher("sha256")),
        Some(plain)
    );
    assert_eq!(
        rsa_oaep_decrypt::<Sha256, Sha256>(&key, &cipher("sha1")),
        None
    );
    assert_eq!(
        rsa_oaep_decrypt::<Sha1, Sha1>(&key, &cipher("pkcs1v15")),
        None
    );
}
