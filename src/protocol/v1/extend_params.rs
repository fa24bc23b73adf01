//! `saasExtendParams`: up to three product-defined extension parameters carried by
//! newInstance and upgrade (spec: koogallery-saas-v1.md §4.1).
//!
//! The value is a JSON array `[{"name":…,"value":…}]`, Base64-encoded. The table says it is
//! "sent as urlEncode(base64(json))": every published example URL carries the Base64 text
//! itself (`saasExtendParams=W3si…XQ==`), so the URL encoding is the query string's own, and
//! after a merchant's framework decodes the query once the parameter holds plain Base64 —
//! which is the value the authToken is computed over. That reading is the default
//! ([`Encoding::Base64`]: the examples win, spec README); the other — the value URL-encoded
//! before the query encodes it again, so that one decoding leaves `%3D` — is
//! [`Encoding::UrlEncodedBase64`], a setting. [`decode`] accepts both.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::protocol::encoding::{PlusHandling, decode_component, encode_component};

/// One extension parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExtendParam {
    /// The parameter's configured name, e.g. `emailDomainName`.
    pub(crate) name: String,
    /// Its value for this order.
    pub(crate) value: String,
}

/// How the Base64 is wrapped before it becomes the parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Encoding {
    /// `base64(json)`, encoded once by the query string, as every published example shows
    /// (the default).
    #[default]
    Base64,
    /// `urlEncode(base64(json))` as the value, encoded again by the query string (the table's
    /// wording read literally).
    UrlEncodedBase64,
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "url-encoded-base64" => Ok(Self::UrlEncodedBase64),
            "base64" => Ok(Self::Base64),
            _ => Err(format!(
                "extend-params-encoding `{s}` is not base64 (the default) or url-encoded-base64"
            )),
        }
    }
}

/// The parameter value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExtendParamsError {
    /// Not URL-decodable to UTF-8.
    #[error("saasExtendParams is not URL-decodable text")]
    NotUrlEncoded,
    /// Not Base64 after URL-decoding.
    #[error("saasExtendParams is not Base64 after URL-decoding")]
    NotBase64,
    /// Not a JSON array of {name, value} after Base64-decoding.
    #[error("saasExtendParams does not decode to a JSON array of {{\"name\",\"value\"}} objects")]
    NotJson,
}

/// Encodes extension parameters into the parameter value.
pub(crate) fn encode(params: &[ExtendParam], encoding: Encoding) -> String {
    // Serialising plain strings cannot fail.
    let json = serde_json::to_string(params).unwrap_or_default();
    let base64 = STANDARD.encode(json);
    match encoding {
        Encoding::UrlEncodedBase64 => encode_component(&base64),
        Encoding::Base64 => base64,
    }
}

/// Decodes the parameter as a merchant reads it after its framework's one URL decoding of the
/// query, the way the public merchant samples do: Base64, then JSON. A value sent in the
/// [`Encoding::UrlEncodedBase64`] reading still holds `%3D` here and is refused.
pub(crate) fn decode_received(value: &str) -> Result<Vec<ExtendParam>, ExtendParamsError> {
    let json = STANDARD
        .decode(value.trim())
        .map_err(|_| ExtendParamsError::NotBase64)?;
    serde_json::from_slice(&json).map_err(|_| ExtendParamsError::NotJson)
}

/// Decodes a parameter value in either encoding: URL-decode (harmless on bare Base64, whose
/// alphabet has no `%`), Base64-decode, parse the JSON.
pub(crate) fn decode(value: &str) -> Result<Vec<ExtendParam>, ExtendParamsError> {
    let base64 = decode_component(value, PlusHandling::Literal)
        .map_err(|_| ExtendParamsError::NotUrlEncoded)?;
    let json = STANDARD
        .decode(base64.trim())
        .map_err(|_| ExtendParamsError::NotBase64)?;
    serde_json::from_slice(&json).map_err(|_| ExtendParamsError::NotJson)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_upgrade_example() {
        // spec §4.1: the upgrade example's value and what it decodes to.
        let value = "W3sibmFtZSI6ImlkTnVtIiwidmFsdWUiOiIzNTIyNTU1NTU1NTU2NTYifSx7Im5hbWUiOiJ1c2VyTmFtZSIsInZhbHVlIjoiaHVhd2VpMTIzIn0seyJuYW1lIjoiY3VzdEVtYWlsIiwidmFsdWUiOiIxMjNAaHVhd2VpLmNvbSJ9XQ==";
        let params = decode(value).unwrap();
        let names: Vec<_> = params
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("idNum", "352255555555656"),
                ("userName", "huawei123"),
                ("custEmail", "123@huawei.com")
            ]
        );
    }

    #[test]
    fn round_trips_both_encodings() {
        let params = vec![ExtendParam {
            name: "emailDomainName".into(),
            value: "例子.com".into(),
        }];
        let url = encode(&params, Encoding::UrlEncodedBase64);
        assert!(
            !url.contains('='),
            "the Base64 padding is URL-encoded: {url}"
        );
        assert_eq!(decode(&url).unwrap(), params);
        let bare = encode(&params, Encoding::Base64);
        assert_eq!(decode(&bare).unwrap(), params);
    }

    #[test]
    fn a_received_value_is_plain_base64() {
        let params = vec![ExtendParam {
            name: "n".into(),
            value: "v".into(),
        }];
        let bare = encode(&params, Encoding::Base64);
        assert_eq!(decode_received(&bare).unwrap(), params);
        let twice = encode(&params, Encoding::UrlEncodedBase64);
        assert_eq!(decode_received(&twice), Err(ExtendParamsError::NotBase64));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode("%%%"), Err(ExtendParamsError::NotBase64));
        assert_eq!(decode("bm90IGpzb24="), Err(ExtendParamsError::NotJson));
    }
}
