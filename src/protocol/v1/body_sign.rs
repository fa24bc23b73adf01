//! V1 response signing: the `Body-Sign` header (spec: koogallery-saas-v1.md §2.3).
//!
//! ```text
//! Body-Sign: sign_type="HMAC-SHA256", signature= "<Base64(HMAC-SHA256(accessKey, body bytes))>"
//! ```
//!
//! The key is the access key alone (no timeStamp) and the body is signed exactly as sent:
//! any re-serialisation after signing breaks it. The header name must be exactly
//! `Body-Sign` and both values must be in double quotes; the documented example has a space
//! after `signature=`, which kgsim emits by default and accepts either way.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::protocol::secret::{AccessKey, constant_time_eq};
use crate::protocol::verdict::{Suspect, Verdict, judge};

/// The header name, with the exact case the console requires.
pub(crate) const HEADER: &str = "Body-Sign";
/// The only signature type the console accepts.
pub(crate) const SIGN_TYPE: &str = "HMAC-SHA256";

/// A parsed `Body-Sign` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySign {
    /// The `sign_type` value (must be `HMAC-SHA256`).
    pub(crate) sign_type: String,
    /// The `signature` value: Base64 of the HMAC.
    pub signature: String,
}

/// How to lay out the header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// `signature= "…"`, with the space shown in the documentation example (the default).
    #[default]
    Documented,
    /// `signature="…"`, without the space.
    Compact,
}

/// Why a header value is not a well-formed `Body-Sign`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodySignFormatError {
    /// The value is empty.
    #[error("the Body-Sign header is empty")]
    Empty,
    /// A `name=value` item could not be split.
    #[error("`{0}` is not a name=\"value\" item")]
    NotAnItem(String),
    /// A value is not wrapped in double quotes (the console rejects this).
    #[error("the value of `{0}` is not in double quotes")]
    Unquoted(String),
    /// A required item is missing.
    #[error("the Body-Sign header has no `{0}` item")]
    Missing(&'static str),
    /// `sign_type` is not `HMAC-SHA256`.
    #[error("sign_type is `{0}`, not HMAC-SHA256")]
    WrongSignType(String),
    /// `signature` is empty.
    #[error("the signature is empty")]
    EmptySignature,
}

impl BodySign {
    /// Signs a body exactly as it will be sent.
    pub fn sign(key: &AccessKey, body: &[u8]) -> Self {
        Self {
            sign_type: SIGN_TYPE.to_owned(),
            signature: signature(key, body),
        }
    }

    /// Renders the header value.
    pub fn format(&self, layout: Layout) -> String {
        let space = match layout {
            Layout::Documented => " ",
            Layout::Compact => "",
        };
        format!(
            "sign_type=\"{}\", signature={space}\"{}\"",
            self.sign_type, self.signature
        )
    }

    /// Parses a header value, tolerating whitespace around items and after `=`, and
    /// requiring the quotes the console requires.
    pub fn parse(value: &str) -> Result<Self, BodySignFormatError> {
        signature_in(value).map(|signature| Self {
            sign_type: SIGN_TYPE.to_owned(),
            signature: signature.to_owned(),
        })
    }
}

/// The signature a well-formed header value carries, borrowed from it: what
/// [`BodySign::parse`] reads, without copying (the console reads one per V1 answer).
pub(crate) fn signature_in(value: &str) -> Result<&str, BodySignFormatError> {
    if value.trim().is_empty() {
        return Err(BodySignFormatError::Empty);
    }
    let (mut sign_type, mut signature) = (None, None);
    for item in value.split(',') {
        let item = item.trim();
        let (name, raw) = item
            .split_once('=')
            .ok_or_else(|| BodySignFormatError::NotAnItem(item.to_owned()))?;
        let (name, raw) = (name.trim(), raw.trim());
        let unquoted = raw
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .filter(|inner| !inner.contains('"'))
            .ok_or_else(|| BodySignFormatError::Unquoted(name.to_owned()))?;
        match name {
            "sign_type" => sign_type = Some(unquoted),
            "signature" => signature = Some(unquoted),
            // Unknown items are tolerated; the console only reads these two.
            _ => {}
        }
    }
    let sign_type = sign_type.ok_or(BodySignFormatError::Missing("sign_type"))?;
    let signature = signature.ok_or(BodySignFormatError::Missing("signature"))?;
    if sign_type != SIGN_TYPE {
        return Err(BodySignFormatError::WrongSignType(sign_type.to_owned()));
    }
    if signature.is_empty() {
        return Err(BodySignFormatError::EmptySignature);
    }
    Ok(signature)
}

/// `Base64(HMAC-SHA256(accessKey, body))`.
pub(crate) fn signature(key: &AccessKey, body: &[u8]) -> String {
    STANDARD.encode(key.hmac_sha256(body))
}

/// Verifies a signature over the exact body bytes, in constant time.
pub fn verify(key: &AccessKey, body: &[u8], received: &str) -> bool {
    // Encoded on the stack: the console verifies every V1 answer.
    let mut expected = [0u8; 44];
    let written = STANDARD
        .encode_slice(key.hmac_sha256(body), &mut expected)
        .unwrap_or_else(|_| unreachable!("32 bytes are 44 characters of Base64"));
    constant_time_eq(&expected[..written], received.as_bytes())
}

/// Verifies a received signature and, when it does not match, names the step that differs
/// (the body changed after signing, hex instead of Base64, …).
pub fn diagnose(key: &AccessKey, body: &[u8], received: &str) -> Verdict {
    let expected = signature(key, body);
    let reserialised = |pretty: bool| -> Option<Vec<u8>> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        if pretty {
            serde_json::to_vec_pretty(&value).ok()
        } else {
            serde_json::to_vec(&value).ok()
        }
    };
    let sign = |bytes: &[u8]| signature(key, bytes);
    let suspects = vec![
        Suspect::new(
            "trailing-whitespace",
            "the body's trailing whitespace differs from what was signed (e.g. a newline added \
             after signing); sign the exact bytes you send",
            || {
                let trimmed = body.trim_ascii_end();
                [
                    trimmed.to_vec(),
                    [trimmed, b"\n"].concat(),
                    [trimmed, b"\r\n"].concat(),
                ]
                .iter()
                .map(|bytes| sign(bytes))
                .find(|candidate| constant_time_eq(candidate.as_bytes(), received.as_bytes()))
            },
        ),
        Suspect::new(
            "body-changed-after-signing",
            "body re-serialised after signing: the signature matches a different layout of the \
             same JSON; sign the exact bytes you send",
            || {
                let (compact, pretty) = (reserialised(false)?, reserialised(true)?);
                [compact, pretty]
                    .iter()
                    .map(|bytes| sign(bytes))
                    .find(|candidate| constant_time_eq(candidate.as_bytes(), received.as_bytes()))
            },
        ),
        Suspect::new(
            "hex-encoded",
            "the HMAC was hex-encoded; it must be standard Base64 with padding",
            || {
                let mac = key.hmac_sha256(body);
                Some(if received.chars().any(|c| c.is_ascii_uppercase()) {
                    hex::encode_upper(mac)
                } else {
                    hex::encode(mac)
                })
            },
        ),
    ];
    judge(
        expected,
        received,
        |a, b| constant_time_eq(a.as_bytes(), b.as_bytes()),
        &suspects,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_vectors::text;
    use proptest::prelude::*;

    fn vector_key() -> AccessKey {
        AccessKey::new(text("v1_body_sign", "access_key"))
    }

    #[test]
    fn vector_signature_and_header_value() {
        let body = text("v1_body_sign", "body");
        let signed = BodySign::sign(&vector_key(), body.as_bytes());
        assert_eq!(signed.signature, text("v1_body_sign", "signature"));
        assert_eq!(
            signed.format(Layout::Documented),
            text("v1_body_sign", "header_value")
        );
        assert!(verify(
            &vector_key(),
            body.as_bytes(),
            &text("v1_body_sign", "signature")
        ));
    }

    #[test]
    fn parses_documented_and_compact_layouts() {
        let documented = BodySign::parse(&text("v1_body_sign", "header_value")).unwrap();
        assert_eq!(documented.signature, text("v1_body_sign", "signature"));
        let compact = BodySign::parse("sign_type=\"HMAC-SHA256\",signature=\"abc=\"").unwrap();
        assert_eq!(compact.signature, "abc=");
    }

    #[test]
    fn rejects_what_the_console_rejects() {
        use BodySignFormatError::*;
        assert_eq!(BodySign::parse(""), Err(Empty));
        assert_eq!(
            BodySign::parse("sign_type=HMAC-SHA256, signature=\"x\""),
            Err(Unquoted("sign_type".into()))
        );
        assert_eq!(
            BodySign::parse("sign_type=\"HMAC-SHA256\", signature=x"),
            Err(Unquoted("signature".into()))
        );
        assert_eq!(
            BodySign::parse("sign_type=\"HMAC-SHA256\""),
            Err(Missing("signature"))
        );
        assert_eq!(
            BodySign::parse("sign_type=\"HMAC-SHA1\", signature=\"x\""),
            Err(WrongSignType("HMAC-SHA1".into()))
        );
        assert_eq!(
            BodySign::parse("sign_type=\"HMAC-SHA256\", signature=\"\""),
            Err(EmptySignature)
        );
        assert_eq!(BodySign::parse("garbage"), Err(NotAnItem("garbage".into())));
    }

    #[test]
    fn one_changed_byte_fails_verification() {
        let body = text("v1_body_sign", "body");
        let good = text("v1_body_sign", "signature");
        let mut tampered = body.clone().into_bytes();
        tampered[5] ^= 1;
        assert!(!verify(&vector_key(), &tampered, &good));
        let mut bad_sig = good.clone().into_bytes();
        bad_sig[0] = if bad_sig[0] == b'A' { b'B' } else { b'A' };
        assert!(!verify(
            &vector_key(),
            body.as_bytes(),
            std::str::from_utf8(&bad_sig).unwrap()
        ));
        assert!(!verify(
            &AccessKey::new("another key"),
            body.as_bytes(),
            &good
        ));
    }

    #[test]
    fn diagnoses_reserialised_body() {
        let key = vector_key();
        let sent = b"{\"resultCode\":\"000000\",\n  \"resultMsg\":\"success.\"}";
        let signed_compact = signature(
            &key,
            b"{\"resultCode\":\"000000\",\"resultMsg\":\"success.\"}",
        );
        let Verdict::Invalid(mismatch) = diagnose(&key, sent, &signed_compact) else {
            panic!("must not verify");
        };
        assert_eq!(mismatch.cause.unwrap().id, "body-changed-after-signing");
    }

    #[test]
    fn diagnoses_added_newline_and_hex() {
        let key = vector_key();
        let body = text("v1_body_sign", "body");
        let sent = format!("{body}\n");
        let verdict = diagnose(&key, sent.as_bytes(), &text("v1_body_sign", "signature"));
        let Verdict::Invalid(mismatch) = verdict else {
            panic!("must not verify")
        };
        assert_eq!(mismatch.cause.unwrap().id, "trailing-whitespace");

        let hex_sig = hex::encode(key.hmac_sha256(body.as_bytes()));
        let Verdict::Invalid(mismatch) = diagnose(&key, body.as_bytes(), &hex_sig) else {
            panic!("must not verify");
        };
        assert_eq!(mismatch.cause.unwrap().id, "hex-encoded");
        assert!(diagnose(&key, body.as_bytes(), &text("v1_body_sign", "signature")).is_valid());
    }

    proptest! {
        #[test]
        fn parse_inverts_format(signature in "[A-Za-z0-9+/=]{1,64}", compact in any::<bool>()) {
            let sign = BodySign { sign_type: SIGN_TYPE.to_owned(), signature };
            let layout = if compact { Layout::Compact } else { Layout::Documented };
            prop_assert_eq!(BodySign::parse(&sign.format(layout)), Ok(sign));
        }
    }
}
