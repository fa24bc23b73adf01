//! V1 request authentication: the `authToken` query parameter
//! (spec: koogallery-saas-v1.md §2.2).
//!
//! ```text
//! string = every parameter but authToken, URL-decoded, sorted by name, "name=value" joined by "&"
//! authToken = Base64( HMAC-SHA256( key = accessKey + timeStamp, data = string ) )
//! ```
//!
//! The marketplace sends the token percent-encoded (`%2B %2F %3D`) so it survives the trip.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use crate::protocol::digest::hmac_sha256;
use crate::protocol::encoding::{PlusHandling, build_query, decode_component, split_query};
use crate::protocol::secret::{AccessKey, REDACTED, constant_time_eq};
use crate::protocol::verdict::{Cause, Mismatch, Suspect, Verdict, judge};

/// Name of the token parameter.
pub const AUTH_TOKEN: &str = "authToken";
/// Name of the timestamp parameter whose value is appended to the HMAC key.
pub(crate) const TIME_STAMP: &str = "timeStamp";

/// The request cannot be signed or verified at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthTokenError {
    /// `timeStamp` is missing; it is part of the HMAC key.
    #[error("the request has no `timeStamp` parameter, which is part of the HMAC key")]
    MissingTimeStamp,
    /// `authToken` is missing from a request that must carry it.
    #[error("the request has no `authToken` parameter")]
    MissingToken,
    /// A parameter did not URL-decode to UTF-8.
    #[error(transparent)]
    Query(#[from] crate::protocol::encoding::QueryError),
}

/// The string the HMAC is computed over: `authToken` left out, sorted by name in code-point
/// order (the sample's `TreeMap`), `name=value` joined by `&`.
pub(crate) fn string_to_sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(name, _)| *name != AUTH_TOKEN)
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    join_pairs(&pairs)
}

fn join_pairs(pairs: &[(&str, &str)]) -> String {
    let length = pairs.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut joined = String::with_capacity(length);
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            joined.push('&');
        }
        joined.push_str(name);
        joined.push('=');
        joined.push_str(value);
    }
    joined
}

/// The HMAC key: the access key's bytes followed by the `timeStamp` value's bytes.
pub(crate) fn hmac_key(key: &AccessKey, time_stamp: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    push_hmac_key(&mut bytes, key, time_stamp);
    bytes
}

/// Writes the HMAC key ([`hmac_key`]) into a reused buffer.
pub(crate) fn push_hmac_key(out: &mut Vec<u8>, key: &AccessKey, time_stamp: &str) {
    out.extend_from_slice(key.expose_bytes());
    out.extend_from_slice(time_stamp.as_bytes());
}

/// How the HMAC key is built, with the access key redacted, for printing.
pub(crate) fn hmac_key_shape(time_stamp: &str) -> String {
    format!("{REDACTED}{time_stamp}")
}

fn token_for(key_bytes: &[u8], string: &str) -> String {
    STANDARD.encode(hmac_sha256(key_bytes, string.as_bytes()))
}

pub(crate) fn time_stamp_of<'a>(params: &[(&'a str, &'a str)]) -> Result<&'a str, AuthTokenError> {
    params
        .iter()
        .find(|(name, _)| *name == TIME_STAMP)
        .map(|(_, value)| *value)
        .ok_or(AuthTokenError::MissingTimeStamp)
}

/// Computes the authToken for decoded parameters (which must include `timeStamp`).
pub(crate) fn compute(key: &AccessKey, params: &[(&str, &str)]) -> Result<String, AuthTokenError> {
    let time_stamp = time_stamp_of(params)?;
    Ok(token_for(
        &hmac_key(key, time_stamp),
        &string_to_sign(params.iter().copied()),
    ))
}

/// Verifies a received token against decoded parameters, in constant time.
pub fn verify(
    key: &AccessKey,
    params: &[(&str, &str)],
    token: &str,
) -> Result<bool, AuthTokenError> {
    let expected = compute(key, params)?;
    Ok(constant_time_eq(expected.as_bytes(), token.as_bytes()))
}

/// Builds the full signed query string the marketplace sends: the parameters in the given
/// order, then `authToken`, every value percent-encoded.
pub(crate) fn signed_query(
    key: &AccessKey,
    params: &[(&str, &str)],
) -> Result<String, AuthTokenError> {
    let token = compute(key, params)?;
    let mut pairs = params.to_vec();
    pairs.push((AUTH_TOKEN, &token));
    Ok(build_query(&pairs))
}

/// A captured query read three ways: decoded as a servlet would (`+` is a space), decoded
/// with `+` kept literal, and not decoded at all — each without `authToken`.
struct Received {
    decoded: Vec<(String, String)>,
    literal_plus: Vec<(String, String)>,
    raw: Vec<(String, String)>,
    token: String,
}

impl Received {
    fn read(query: &str) -> Result<Self, AuthTokenError> {
        let raw = split_query(query);
        let decode = |plus| -> Result<Vec<(String, String)>, AuthTokenError> {
            raw.iter()
                .map(|(n, v)| Ok((decode_component(n, plus)?, decode_component(v, plus)?)))
                .collect()
        };
        let decoded = decode(PlusHandling::AsSpace)?;
        let token = decoded
            .iter()
            .find(|(name, _)| name == AUTH_TOKEN)
            .map(|(_, value)| value.clone())
            .ok_or(AuthTokenError::MissingToken)?;
        let without_token = |list: Vec<(String, String)>| -> Vec<(String, String)> {
            list.into_iter().filter(|(n, _)| n != AUTH_TOKEN).collect()
        };
        let raw_values = raw
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        Ok(Self {
            decoded: without_token(decoded),
            literal_plus: without_token(decode(PlusHandling::Literal)?),
            raw: without_token(raw_values),
            token,
        })
    }
}

/// Verifies the authToken of a captured query string and, when it does not match, names the
/// step a signer got wrong (values not URL-decoded, key without timeStamp, …).
pub fn diagnose_query(key: &AccessKey, query: &str) -> Result<Verdict, AuthTokenError> {
    let received = Received::read(query)?;
    let canonical = borrow(&received.decoded);
    let time_stamp = time_stamp_of(&canonical)?.to_owned();
    let full_key = hmac_key(key, &time_stamp);
    let expected = token_for(&full_key, &string_to_sign(canonical.iter().copied()));
    let got = received.token.clone();
    if got.contains(' ') && constant_time_eq(got.replace(' ', "+").as_bytes(), expected.as_bytes())
    {
        return Ok(Verdict::Invalid(Mismatch {
            expected,
            got,
            cause: Some(TOKEN_PLUS_BECAME_SPACE),
        }));
    }
    let suspects = suspects(key, &full_key, &received, &canonical);
    Ok(judge(
        expected,
        &got,
        |a, b| constant_time_eq(a.as_bytes(), b.as_bytes()),
        &suspects,
    ))
}

/// The signing mistakes a merchant's code commonly makes, each recomputed on this request.
fn suspects<'a>(
    key: &'a AccessKey,
    full_key: &'a [u8],
    received: &'a Received,
    canonical: &'a [(&'a str, &'a str)],
) -> Vec<Suspect<'a>> {
    let sorted_with = |list: &[(String, String)]| string_to_sign(borrow(list));
    let mut suspects = vec![
        Suspect::new(
            "not-url-decoded",
            "values were not URL-decoded before signing",
            move || Some(token_for(full_key, &sorted_with(&received.raw))),
        ),
        Suspect::new(
            "plus-kept-literal",
            "a raw '+' in the query was signed as '+', but URL-decoding turns it into a space; \
             the marketplace sends '+' as %2B",
            move || Some(token_for(full_key, &sorted_with(&received.literal_plus))),
        ),
        Suspect::new(
            "key-without-timestamp",
            "the HMAC key was the access key alone; it must be the access key followed by timeStamp",
            move || {
                Some(token_for(
                    key.expose_bytes(),
                    &sorted_with(&received.decoded),
                ))
            },
        ),
        Suspect::new(
            "not-sorted",
            "parameters were joined in the order received; they must be sorted by name",
            move || Some(token_for(full_key, &join_pairs(canonical))),
        ),
        Suspect::new(
            "sorted-case-insensitively",
            "parameters were sorted ignoring case; sort by name in code-point order (uppercase first)",
            move || {
                let mut list = canonical.to_vec();
                list.sort_by_key(|(name, _)| name.to_lowercase());
                Some(token_for(full_key, &join_pairs(&list)))
            },
        ),
        Suspect::new(
            "token-included",
            "the authToken parameter itself was included in the string to sign",
            move || {
                let mut list = canonical.to_vec();
                list.push((AUTH_TOKEN, received.token.as_str()));
                list.sort_by(|a, b| a.0.cmp(b.0));
                Some(token_for(full_key, &join_pairs(&list)))
            },
        ),
    ];
    suspects.extend(omission_suspects(full_key, canonical));
    suspects.extend(encoding_suspects(full_key, received));
    suspects
}

/// Parameters left out of the string to sign.
fn omission_suspects<'a>(
    full_key: &'a [u8],
    canonical: &'a [(&'a str, &'a str)],
) -> [Suspect<'a>; 2] {
    [
        Suspect::new(
            "timestamp-excluded",
            "timeStamp was left out of the string to sign; it belongs both in the string and in the key",
            move || {
                let list = canonical.iter().copied().filter(|(n, _)| *n != TIME_STAMP);
                Some(token_for(full_key, &join_pairs(&sorted(list.collect()))))
            },
        ),
        Suspect::new(
            "empty-values-dropped",
            "parameters with empty values were left out; they must appear as `name=`",
            move || {
                let list = canonical.iter().copied().filter(|(_, v)| !v.is_empty());
                Some(token_for(full_key, &join_pairs(&sorted(list.collect()))))
            },
        ),
    ]
}

/// The right HMAC, encoded the wrong way.
fn encoding_suspects<'a>(full_key: &'a [u8], received: &'a Received) -> [Suspect<'a>; 2] {
    let mac = move || {
        hmac_sha256(
            full_key,
            string_to_sign(borrow(&received.decoded)).as_bytes(),
        )
    };
    [
        Suspect::new(
            "hex-encoded",
            "the HMAC was hex-encoded; it must be standard Base64 with padding",
            move || {
                Some(if received.token.chars().any(|c| c.is_ascii_uppercase()) {
                    hex::encode_upper(mac())
                } else {
                    hex::encode(mac())
                })
            },
        ),
        Suspect::new(
            "url-safe-base64",
            "the HMAC was encoded with URL-safe Base64 ('-' and '_'); it must be standard Base64",
            move || Some(URL_SAFE.encode(mac())),
        ),
    ]
}

/// The token itself was damaged in transit rather than computed wrongly.
const TOKEN_PLUS_BECAME_SPACE: Cause = Cause {
    id: "token-plus-became-space",
    explanation: "the authToken arrived with spaces: it was put in the URL without percent-encoding, \
                  so its '+' characters decoded to spaces",
};

fn borrow(list: &[(String, String)]) -> Vec<(&str, &str)> {
    list.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

fn sorted<'a>(mut list: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    list.sort_by(|a, b| a.0.cmp(b.0));
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_vectors::{text, vectors};
    use crate::protocol::verdict::Verdict;

    const GROUP: &str = "v1_auth_token";

    fn key() -> AccessKey {
        AccessKey::new(text(GROUP, "access_key"))
    }

    fn vector_params() -> Vec<(String, String)> {
        vectors()[GROUP]["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    }

    fn borrowed(list: &[(String, String)]) -> Vec<(&str, &str)> {
        list.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn reproduces_the_vector() {
        let owned = vector_params();
        let params = borrowed(&owned);
        assert_eq!(
            string_to_sign(params.iter().copied()),
            text(GROUP, "string_to_sign")
        );
        assert_eq!(
            hmac_key(&key(), "20200727073711903"),
            text(GROUP, "hmac_key").into_bytes()
        );
        assert_eq!(compute(&key(), &params).unwrap(), text(GROUP, "auth_token"));
        assert_eq!(
            verify(&key(), &params, &text(GROUP, "auth_token")),
            Ok(true)
        );
    }

    #[test]
    fn order_of_input_does_not_matter_and_token_is_excluded() {
        let mut owned = vector_params();
        owned.reverse();
        owned.push((AUTH_TOKEN.into(), "ignored".into()));
        assert_eq!(
            compute(&key(), &borrowed(&owned)).unwrap(),
            text(GROUP, "auth_token")
        );
    }

    #[test]
    fn one_changed_byte_fails() {
        let mut owned = vector_params();
        owned[0].1.push('x');
        assert_eq!(
            verify(&key(), &borrowed(&owned), &text(GROUP, "auth_token")),
            Ok(false)
        );
        let owned = vector_params();
        let mut token = text(GROUP, "auth_token").into_bytes();
        token[3] ^= 0x01;
        let token = String::from_utf8(token).unwrap();
        assert_eq!(verify(&key(), &borrowed(&owned), &token), Ok(false));
        assert_eq!(
            verify(
                &AccessKey::new("k"),
                &borrowed(&owned),
                &text(GROUP, "auth_token")
            ),
            Ok(false)
        );
    }

    #[test]
    fn needs_a_timestamp() {
        assert_eq!(
            compute(&key(), &[("activity", "newInstance")]),
            Err(AuthTokenError::MissingTimeStamp)
        );
    }

    #[test]
    fn signed_query_survives_the_trip() {
        let owned = vector_params();
        let query = signed_query(&key(), &borrowed(&owned)).unwrap();
        assert!(
            query.ends_with("authToken=%2Fxa%2Fq0LfNpAoXYa5vnqrOYbCdZSExorFvR%2B3I9sAy2I%3D"),
            "{query}"
        );
        assert_eq!(diagnose_query(&key(), &query), Ok(Verdict::Valid));
    }

    fn cause_of(query: &str) -> &'static str {
        match diagnose_query(&key(), query).unwrap() {
            Verdict::Invalid(mismatch) => mismatch.cause.map_or("unexplained", |c| c.id),
            Verdict::Valid => "valid",
        }
    }

    /// Signs the way a buggy signer would and checks that the diagnosis names the bug.
    #[test]
    fn diagnoses_common_mistakes() {
        let ts = "20200727073711903";
        let params = [
            ("timeStamp", ts),
            ("activity", "newInstance"),
            ("Zeta", "1"),
            ("email", "a+b/c="),
        ];
        let full_key = hmac_key(&key(), ts);
        let query_with = |token: &str| {
            let mut list = params.to_vec();
            list.push((AUTH_TOKEN, token));
            build_query(&list)
        };

        // Signed the still-encoded values.
        let encoded: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    crate::protocol::encoding::encode_component(v),
                )
            })
            .collect();
        let token = token_for(&full_key, &string_to_sign(borrowed(&encoded)));
        assert_eq!(cause_of(&query_with(&token)), "not-url-decoded");

        // Keyed with the access key alone.
        let token = token_for(key().expose_bytes(), &string_to_sign(params));
        assert_eq!(cause_of(&query_with(&token)), "key-without-timestamp");

        // Not sorted.
        let token = token_for(&full_key, &join_pairs(&params));
        assert_eq!(cause_of(&query_with(&token)), "not-sorted");

        // Sorted ignoring case: "Zeta" sorts first in code-point order, last ignoring case.
        let mut ci = params.to_vec();
        ci.sort_by_key(|(n, _)| n.to_lowercase());
        let token = token_for(&full_key, &join_pairs(&ci));
        assert_eq!(cause_of(&query_with(&token)), "sorted-case-insensitively");

        // Hex instead of Base64.
        let token = hex::encode(hmac_sha256(&full_key, string_to_sign(params).as_bytes()));
        assert_eq!(cause_of(&query_with(&token)), "hex-encoded");

        // Correct token, but sent without percent-encoding: '+' becomes ' '.
        let good = token_for(&full_key, &string_to_sign(params));
        let raw = format!("{}&authToken={good}", build_query(&params));
        let expected = if good.contains('+') {
            "token-plus-became-space"
        } else {
            "valid"
        };
        assert_eq!(cause_of(&raw), expected);

        // Wrong key: nothing explains it.
        let token = token_for(b"other", &string_to_sign(params));
        assert_eq!(cause_of(&query_with(&token)), "unexplained");
    }
}
