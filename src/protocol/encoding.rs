//! Query strings: how the marketplace encodes parameter values and how a merchant decodes them.
//!
//! The marketplace URL-encodes every value and the merchant URL-decodes before verifying the
//! authToken (spec: koogallery-saas-v1.md §1, §2.2). Base64 tokens and ciphertexts contain
//! `+`, `/` and `=`; a raw `+` turns into a space when decoded, so kgsim encodes every byte
//! outside the RFC 3986 unreserved set, as the newer documentation examples do
//! (`pqlrW7%2BPHC%2F1JE%2BMEjKxC94GGJreoS6PZHd982auw2o%3D`).

use percent_encoding::percent_decode_str;

/// The RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`): the only bytes sent as they are.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        byte += 1;
    }
    table
};

/// Appends `value` percent-encoded (uppercase hex, as Java's `URLEncoder`) to `out`.
///
/// Runs of unreserved bytes are copied whole: this runs over every byte of every request
/// sent, load mode included.
pub(crate) fn push_encoded(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = value;
    out.reserve(rest.len());
    while !rest.is_empty() {
        let run = rest
            .bytes()
            .position(|byte| !UNRESERVED[usize::from(byte)])
            .unwrap_or(rest.len());
        // Unreserved bytes are ASCII, so `run` is a character boundary; every byte of the
        // character that follows is escaped one by one.
        out.push_str(&rest[..run]);
        let Some(&byte) = rest.as_bytes().get(run) else {
            break;
        };
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        let width = rest[run..].chars().next().map_or(1, char::len_utf8);
        for &byte in &rest.as_bytes()[run + 1..run + width] {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
        rest = &rest[run + width..];
    }
}

/// Percent-encodes one name or value for a query string.
pub(crate) fn encode_component(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    push_encoded(&mut encoded, value);
    encoded
}

/// Builds `a=1&b=2` from pairs, encoding names and values, in the given order.
pub(crate) fn build_query(pairs: &[(&str, &str)]) -> String {
    // One buffer for the whole query, sized for some escaping: this runs once per request
    // sent, load mode included.
    let plain: usize = pairs.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut query = String::with_capacity(plain + plain / 2);
    for (index, &(name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            query.push('&');
        }
        push_encoded(&mut query, name);
        query.push('=');
        push_encoded(&mut query, value);
    }
    query
}

/// A query string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A component decoded to bytes that are not UTF-8.
    #[error("query parameter `{0}` is not valid UTF-8 after URL-decoding")]
    NotUtf8(String),
}

/// How `+` is treated when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlusHandling {
    /// `+` means a space (`application/x-www-form-urlencoded`, what servlet containers and
    /// Java's `URLDecoder` do; the default for a merchant).
    AsSpace,
    /// `+` stays a literal `+` (RFC 3986 percent-decoding only).
    Literal,
}

/// Decodes one query component.
pub(crate) fn decode_component(raw: &str, plus: PlusHandling) -> Result<String, QueryError> {
    let replaced;
    let source = match plus {
        PlusHandling::AsSpace if raw.contains('+') => {
            replaced = raw.replace('+', " ");
            replaced.as_str()
        }
        _ => raw,
    };
    percent_decode_str(source)
        .decode_utf8()
        .map(|cow| cow.into_owned())
        .map_err(|_| QueryError::NotUtf8(raw.to_owned()))
}

/// Splits a query string into raw (still encoded) `(name, value)` pairs, in order.
///
/// A pair without `=` has an empty value; empty segments (`a=1&&b=2`) are skipped.
pub(crate) fn split_query(query: &str) -> Vec<(&str, &str)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| segment.split_once('=').unwrap_or((segment, "")))
        .collect()
}

/// Splits and decodes a query string into `(name, value)` pairs, in order.
pub fn parse_query(query: &str, plus: PlusHandling) -> Result<Vec<(String, String)>, QueryError> {
    split_query(query)
        .into_iter()
        .map(|(name, value)| {
            Ok((
                decode_component(name, plus)?,
                decode_component(value, plus)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encoding_round_trips_and_leaves_only_unreserved_bytes(value in "\\PC*") {
            let encoded = encode_component(&value);
            prop_assert!(encoded.bytes().all(|b| UNRESERVED[usize::from(b)] || b == b'%'));
            prop_assert_eq!(decode_component(&encoded, PlusHandling::AsSpace).unwrap(), value.as_str());
            prop_assert_eq!(decode_component(&encoded, PlusHandling::Literal).unwrap(), value.as_str());
        }
    }

    #[test]
    fn encodes_base64_specials() {
        assert_eq!(
            encode_component("pqlrW7+PHC/1JE+MEjKxC94GGJreoS6PZHd982auw2o="),
            "pqlrW7%2BPHC%2F1JE%2BMEjKxC94GGJreoS6PZHd982auw2o%3D"
        );
        assert_eq!(encode_component("a,b c"), "a%2Cb%20c");
        assert_eq!(encode_component("中"), "%E4%B8%AD");
        assert_eq!(encode_component("A-z_0.9~"), "A-z_0.9~");
    }

    #[test]
    fn decodes_plus_as_space_or_literal() {
        assert_eq!(
            decode_component("a+b%2B", PlusHandling::AsSpace).unwrap(),
            "a b+"
        );
        assert_eq!(
            decode_component("a+b%2B", PlusHandling::Literal).unwrap(),
            "a+b+"
        );
        assert!(decode_component("%FF", PlusHandling::AsSpace).is_err());
    }

    #[test]
    fn parses_and_builds_queries() {
        let built = build_query(&[("instanceId", "a,b"), ("authToken", "x+y=")]);
        assert_eq!(built, "instanceId=a%2Cb&authToken=x%2By%3D");
        let parsed = parse_query(&format!("?{built}&flag"), PlusHandling::AsSpace).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("instanceId".into(), "a,b".into()),
                ("authToken".into(), "x+y=".into()),
                ("flag".into(), String::new()),
            ]
        );
    }
}
