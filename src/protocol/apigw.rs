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

use crate::protocol::digest::{hmac_sha256, sha256};
use crate::protocol::encoding::{PlusHandling, decode_component, encode_component, split_query};
use crate::protocol::secret::{AccessKey, constant_time_eq};

/// The algorithm name that opens the Authorization header and the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header carrying the signing time, `yyyyMMdd'T'HHmmss'Z'`.
pub const X_SDK_DATE: &str = "X-Sdk-Date";

/// The parts of an HTTP request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, any case.
    pub method: &'a str,
    /// The full URL (`https://host/path?query`).
    pub url: &'a str,
    /// Every header to sign, including `X-Sdk-Date` and `Host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body bytes.
    pub body: &'a [u8],
}

/// The request cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApigwError {
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
pub struct Signed {
    /// `content-type;host;x-sdk-date;…`
    pub signed_headers: String,
    /// Lowercase hex signature.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
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

fn canonical_query(query: &str) -> Result<String, ApigwError> {
    let mut pairs = split_query(query)
        .into_iter()
        .map(|(k, v)| {
            Ok((
                encode_component(&decode_component(k, PlusHandling::Literal)?),
                encode_component(&decode_component(v, PlusHandling::Literal)?),
            ))
        })
        .collect::<Result<Vec<_>, ApigwError>>()?;
    pairs.sort();
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

/// Signs a request with an app key (AK) and app secret (SK).
pub fn sign(
    app_key: &str,
    app_secret: &AccessKey,
    request: &Request<'_>,
) -> Result<Signed, ApigwError> {
    let date = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(X_SDK_DATE))
        .map(|(_, value)| value.trim())
        .ok_or(ApigwError::MissingDate)?;
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
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_uri(path)?,
        canonical_query(query)?,
        canonical_headers,
        signed_headers,
        hex::encode(sha256(request.body)),
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

/// Verifies an `Authorization` header against the request it came with.
///
/// Only the headers named in `SignedHeaders` are signed, as the gateway does.
pub fn verify(
    app_key: &str,
    app_secret: &AccessKey,
    request: &Request<'_>,
    authorization: &str,
) -> bool {
    let Some(signed_list) = authorization
        .split(", ")
        .find_map(|item| item.trim().strip_prefix("SignedHeaders="))
    else {
        return false;
    };
    let wanted: Vec<&str> = signed_list.split(';').collect();
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .copied()
        .filter(|(name, _)| wanted.iter().any(|w| w.eq_ignore_ascii_case(name)))
        .collect();
    sign(
        app_key,
        app_secret,
        &Request {
            headers: &headers,
            ..*request
        },
    )
    .is_ok_and(|expected| {
        constant_time_eq(expected.authorization.as_bytes(), authorization.as_bytes())
    })
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

    #[test]
    fn canonical_parts() {
        assert_eq!(
            canonical_uri("/api/v1/order/query").unwrap(),
            "/api/v1/order/query/"
        );
        assert_eq!(canonical_uri("/").unwrap(), "/");
        assert_eq!(
            canonical_query("orderLineId=b&orderId=a%2B").unwrap(),
            "orderId=a%2B&orderLineId=b"
        );
        assert!(matches!(
            split_url("no-scheme"),
            Err(ApigwError::NotAbsolute(_))
        ));
    }
}
