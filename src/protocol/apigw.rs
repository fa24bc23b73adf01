//! Huawei API Gateway `SDK-HMAC-SHA256` (AK/SK) signing, used by the marketplace open APIs a
//! merchant calls: query order, License activate/heartbeat, file upload, the old usage push
//! (spec: koogallery-v2-kit-license.md §6.4).
//!
//! ```text
//! CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n
//!                    SignedHeaders \n hex(SHA256(body))
//! StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(SHA256(CanonicalRequest))
//! Authorization    = SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex HMAC(SK, StringToSign)>
//! ```
//!
//! CanonicalURI is the URL-encoded path with a trailing `/` appended; query parameters are
//! sorted and URL-encoded; every header is signed, by lowercase name, value trimmed.

use crate::protocol::UnixMillis;
use crate::protocol::digest::{hmac_sha256, sha256};
use crate::protocol::encoding::{PlusHandling, decode_component, encode_component, split_query};
use crate::protocol::secret::{AccessKey, constant_time_eq};
use crate::protocol::verdict::{Suspect, Verdict, judge};

/// The algorithm name that opens the Authorization header and the string to sign.
pub(crate) const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header carrying the signing time, `yyyyMMdd'T'HHmmss'Z'`.
pub(crate) const X_SDK_DATE: &str = "X-Sdk-Date";

/// The parts of an HTTP request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// HTTP method, any case.
    pub(crate) method: &'a str,
    /// The full URL (`https://host/path?query`).
    pub(crate) url: &'a str,
    /// Every header to sign, including `X-Sdk-Date` and `Host`.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// The body bytes.
    pub(crate) body: &'a [u8],
}

/// The request cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApigwError {
    /// The `X-Sdk-Date` header is missing.
    #[error("the request has no X-Sdk-Date header")]
    MissingDate,
    /// The URL has no `scheme://host` part.
    #[error("`{0}` is not an absolute URL")]
    NotAbsolute(String),
    /// A path segment or query component is not URL-decodable.
    #[error(transparent)]
    Query(#[from] crate::protocol::encoding::QueryError),
}

/// The computed signature and the header built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    /// `content-type;host;x-sdk-date;…`
    pub(crate) signed_headers: String,
    /// Lowercase hex signature.
    pub(crate) signature: String,
    /// The full `Authorization` header value.
    pub(crate) authorization: String,
}

fn split_url(url: &str) -> Result<(&str, &str), ApigwError> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| ApigwError::NotAbsolute(url.to_owned()))?;
    let path_and_query = rest.find('/').map_or("/", |i| &rest[i..]);
    Ok(path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, "")))
}

fn canonical_uri(path: &str) -> Result<String, ApigwError> {
    let segments: Result<Vec<String>, ApigwError> = path
        .split('/')
        .map(|segment| {
            Ok(encode_component(&decode_component(
                segment,
                PlusHandling::Literal,
            )?))
        })
        .collect();
    let mut uri = segments?.join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Ok(uri)
}

fn canonical_query(query: &str, sort: bool) -> Result<String, ApigwError> {
    let mut pairs = split_query(query)
        .into_iter()
        .map(|(k, v)| {
            Ok((
                encode_component(&decode_component(k, PlusHandling::Literal)?),
                encode_component(&decode_component(v, PlusHandling::Literal)?),
            ))
        })
        .collect::<Result<Vec<_>, ApigwError>>()?;
    if sort {
        pairs.sort();
    }
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

/// How a signer builds the canonical request: the scheme, or one of the common mistakes a
/// diagnosis recomputes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Canon {
    /// Append `/` to the path (the scheme does).
    trailing_slash: bool,
    /// Sort the query parameters (the scheme does).
    sort_query: bool,
    /// Hex-encode the body hash in lowercase (the scheme does).
    lowercase_body_hash: bool,
}

const SCHEME: Canon = Canon {
    trailing_slash: true,
    sort_query: true,
    lowercase_body_hash: true,
};

/// Signs a request with an app key (AK) and app secret (SK).
pub(crate) fn sign(
    app_key: &str,
    app_secret: &AccessKey,
    request: &Request<'_>,
) -> Result<Signed, ApigwError> {
    sign_with(app_key, app_secret, request, SCHEME)
}

fn sign_with(
    app_key: &str,
    app_secret: &AccessKey,
    request: &Request<'_>,
    canon: Canon,
) -> Result<Signed, ApigwError> {
    let date = sdk_date(request.headers).ok_or(ApigwError::MissingDate)?;
    let (path, query) = split_url(request.url)?;
    let mut headers: Vec<(String, &str)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim()))
        .collect();
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let mut uri = canonical_uri(path)?;
    if !canon.trailing_slash && uri.len() > 1 {
        uri.pop();
    }
    let body_hash = hex::encode(sha256(request.body));
    let canonical_request = format!(
        "{}\n{uri}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_query(query, canon.sort_query)?,
        if canon.lowercase_body_hash {
            body_hash
        } else {
            body_hash.to_ascii_uppercase()
        },
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{date}\n{}",
        hex::encode(sha256(canonical_request.as_bytes()))
    );
    let signature = hex::encode(hmac_sha256(
        app_secret.expose_bytes(),
        string_to_sign.as_bytes(),
    ));
    let authorization = format!(
        "{ALGORITHM} Access={app_key}, SignedHeaders={signed_headers}, Signature={signature}"
    );
    Ok(Signed {
        signed_headers,
        signature,
        authorization,
    })
}

/// The trimmed `X-Sdk-Date` header, if there is one.
fn sdk_date<'a>(headers: &'a [(&'a str, &'a str)]) -> Option<&'a str> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(X_SDK_DATE))
        .map(|(_, value)| value.trim())
}

/// How far `X-Sdk-Date` may be from the gateway's clock: 15 minutes, API Gateway's
/// documented skew for app authentication [I:apigw-date-skew].
pub(crate) const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// A parsed `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authorization {
    /// The app key.
    pub(crate) access: String,
    /// The signed header names, as listed.
    pub(crate) signed_headers: Vec<String>,
    /// The hex signature.
    pub(crate) signature: String,
}

/// An `Authorization` header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthorizationError {
    /// Not `SDK-HMAC-SHA256 …`.
    #[error("the Authorization header does not start with `SDK-HMAC-SHA256 `")]
    NotSdkHmac,
    /// A part is missing.
    #[error("the Authorization header has no `{0}=` part")]
    Missing(&'static str),
}

/// Reads an `Authorization` header (parts separated by `,` with optional spaces).
pub(crate) fn parse_authorization(value: &str) -> Result<Authorization, AuthorizationError> {
    let rest = value
        .trim()
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or(AuthorizationError::NotSdkHmac)?;
    let part = |name: &'static str| {
        rest.split(',')
            .find_map(|item| item.trim().strip_prefix(name)?.strip_prefix('='))
            .map(str::trim)
            .ok_or(AuthorizationError::Missing(name))
    };
    Ok(Authorization {
        access: part("Access")?.to_owned(),
        signed_headers: part("SignedHeaders")?
            .split(';')
            .map(str::to_owned)
            .collect(),
        signature: part("Signature")?.to_owned(),
    })
}

/// Whether `X-Sdk-Date` is present, well-formed and within [`MAX_SKEW_MS`] of `now`.
pub(crate) fn date_problem(headers: &[(&str, &str)], now: UnixMillis) -> Option<String> {
    let Some(date) = sdk_date(headers) else {
        return Some("the request has no X-Sdk-Date header".to_owned());
    };
    match UnixMillis::parse_basic_iso(date) {
        Err(error) => Some(format!("X-Sdk-Date: {error}")),
        Ok(at) if (at.0 - now.0).abs() > MAX_SKEW_MS => Some(format!(
            "X-Sdk-Date {date} is {} s from the gateway's clock (at most {} s)",
            (at.0 - now.0).abs() / 1000,
            MAX_SKEW_MS / 1000
        )),
        Ok(_) => None,
    }
}

/// Verifies an `Authorization` header against the request it came with.
///
/// Only the headers named in `SignedHeaders` are signed, as the gateway does.
#[cfg(test)]
pub(crate) fn verify(
    app_key: &str,
    app_secret: &AccessKey,
    request: &Request<'_>,
    authorization: &str,
) -> bool {
    diagnose(app_key, app_secret, request, authorization).is_ok_and(|v| v.is_valid())
}

/// Why a request cannot be verified at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unverifiable {
    /// The header cannot be read.
    #[error(transparent)]
    Authorization(#[from] AuthorizationError),
    /// Another app key signed it.
    #[error("the request is signed with app key `{0}`, not the one configured")]
    OtherAppKey(String),
    /// A header named in SignedHeaders is not in the request.
    #[error("SignedHeaders names `{0}`, which the request does not carry")]
    SignedHeaderAbsent(String),
    /// The request cannot be canonicalised.
    #[error(transparent)]
    Request(#[from] ApigwError),
}

/// Verifies an `Authorization` header and, when it does not match, names the step a signer
/// got wrong if a common mistake reproduces it (no trailing `/`, unsorted query, uppercase
/// body hash, uppercase signature).
pub(crate) fn diagnose(
    app_key: &str,
    app_secret: &AccessKey,
    request: &Request<'_>,
    authorization: &str,
) -> Result<Verdict, Unverifiable> {
    let parsed = parse_authorization(authorization)?;
    if parsed.access != app_key {
        return Err(Unverifiable::OtherAppKey(parsed.access));
    }
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for wanted in &parsed.signed_headers {
        let found = request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| Unverifiable::SignedHeaderAbsent(wanted.clone()))?;
        headers.push(*found);
    }
    let signed = Request {
        headers: &headers,
        ..*request
    };
    let with = |canon: Canon| {
        sign_with(app_key, app_secret, &signed, canon)
            .ok()
            .map(|s| s.signature)
    };
    let expected = sign_with(app_key, app_secret, &signed, SCHEME)?.signature;
    let upper = expected.to_ascii_uppercase();
    let suspects = vec![
        Suspect::new(
            "no-trailing-slash",
            "the canonical URI lacks the trailing `/` the scheme appends to the path",
            || {
                with(Canon {
                    trailing_slash: false,
                    ..SCHEME
                })
            },
        ),
        Suspect::new(
            "query-unsorted",
            "the query parameters were signed in the order sent; sort them by name",
            || {
                with(Canon {
                    sort_query: false,
                    ..SCHEME
                })
            },
        ),
        Suspect::new(
            "body-hash-uppercase",
            "the body's SHA-256 was hex-encoded in uppercase; it must be lowercase",
            || {
                with(Canon {
                    lowercase_body_hash: false,
                    ..SCHEME
                })
            },
        ),
        Suspect::new(
            "signature-uppercase",
            "the signature was hex-encoded in uppercase; it must be lowercase",
            || Some(upper.clone()),
        ),
    ];
    Ok(judge(
        expected,
        &parsed.signature,
        |a, b| constant_time_eq(a.as_bytes(), b.as_bytes()),
        &suspects,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_vectors::{text, vectors};

    const GROUP: &str = "apigw_sdk_hmac_sha256";

    fn vector_headers() -> Vec<(String, String)> {
        vectors()[GROUP]["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn reproduces_the_published_vector() {
        let owned = vector_headers();
        let headers: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = text(GROUP, "url");
        let body = text(GROUP, "body");
        let request = Request {
            method: &text(GROUP, "method"),
            url: &url,
            headers: &headers,
            body: body.as_bytes(),
        };
        let secret = AccessKey::new(text(GROUP, "app_secret"));
        let signed = sign(&text(GROUP, "app_key"), &secret, &request).unwrap();
        assert_eq!(signed.signed_headers, text(GROUP, "signed_headers"));
        assert_eq!(signed.signature, text(GROUP, "signature"));
        assert!(verify(
            &text(GROUP, "app_key"),
            &secret,
            &request,
            &signed.authorization
        ));
        let tampered = Request {
            body: b"{}",
            ..request
        };
        assert!(!verify(
            &text(GROUP, "app_key"),
            &secret,
            &tampered,
            &signed.authorization
        ));
    }

    fn signed_query_request(url: &str) -> (Vec<(&'static str, &'static str)>, String) {
        let headers = vec![
            ("Host", "mkt.example"),
            ("X-Sdk-Date", "20260101T000000Z"),
            ("Content-Type", "application/json"),
        ];
        (headers, url.to_owned())
    }

    #[test]
    fn a_diagnosis_names_the_step_a_signer_got_wrong() {
        let secret = AccessKey::new("sk-0123456789");
        let (headers, url) =
            signed_query_request("https://mkt.example/api/order/query?orderLineId=b&orderId=a");
        let request = Request {
            method: "GET",
            url: &url,
            headers: &headers,
            body: b"",
        };
        let good = sign("ak", &secret, &request).unwrap();
        assert!(
            diagnose("ak", &secret, &request, &good.authorization)
                .unwrap()
                .is_valid()
        );
        let cases = [
            (
                Canon {
                    trailing_slash: false,
                    ..SCHEME
                },
                "no-trailing-slash",
            ),
            (
                Canon {
                    sort_query: false,
                    ..SCHEME
                },
                "query-unsorted",
            ),
            (
                Canon {
                    lowercase_body_hash: false,
                    ..SCHEME
                },
                "body-hash-uppercase",
            ),
        ];
        for (canon, id) in cases {
            let wrong = sign_with("ak", &secret, &request, canon).unwrap();
            match diagnose("ak", &secret, &request, &wrong.authorization).unwrap() {
                Verdict::Invalid(mismatch) => assert_eq!(mismatch.cause.map(|c| c.id), Some(id)),
                Verdict::Valid => panic!("{id} verified"),
            }
        }
        let upper = good
            .authorization
            .replace(&good.signature, &good.signature.to_uppercase());
        let Verdict::Invalid(mismatch) = diagnose("ak", &secret, &request, &upper).unwrap() else {
            panic!("an uppercase signature verified")
        };
        assert_eq!(mismatch.cause.map(|c| c.id), Some("signature-uppercase"));
        assert_eq!(
            diagnose("other", &secret, &request, &good.authorization),
            Err(Unverifiable::OtherAppKey("ak".into()))
        );
        let extra = good
            .authorization
            .replace("SignedHeaders=", "SignedHeaders=x-stage;");
        assert_eq!(
            diagnose("ak", &secret, &request, &extra),
            Err(Unverifiable::SignedHeaderAbsent("x-stage".into()))
        );
        assert!(matches!(
            diagnose("ak", &secret, &request, "Basic abc"),
            Err(Unverifiable::Authorization(AuthorizationError::NotSdkHmac))
        ));
    }

    #[test]
    fn the_date_must_be_near_the_gateway_clock() {
        let now = UnixMillis::parse_basic_iso("20260101T000000Z").unwrap();
        assert_eq!(
            date_problem(&[("X-Sdk-Date", "20260101T001000Z")], now),
            None
        );
        assert!(
            date_problem(&[("X-Sdk-Date", "20260101T002000Z")], now)
                .unwrap()
                .contains("1200 s")
        );
        assert!(date_problem(&[("X-Sdk-Date", "2026-01-01")], now).is_some());
        assert!(date_problem(&[], now).unwrap().contains("no X-Sdk-Date"));
    }

    #[test]
    fn canonical_parts() {
        assert_eq!(
            canonical_uri("/api/v1/order/query").unwrap(),
            "/api/v1/order/query/"
        );
        assert_eq!(canonical_uri("/").unwrap(), "/");
        assert_eq!(
            canonical_query("orderLineId=b&orderId=a%2B", true).unwrap(),
            "orderId=a%2B&orderLineId=b"
        );
        assert!(matches!(
            split_url("no-scheme"),
            Err(ApigwError::NotAbsolute(_))
        ));
    }
}
