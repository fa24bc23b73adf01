//! The V2 `RequestPayload`: the JSON body as the signature sees it
//! (spec: koogallery-v2-kit-license.md §1.3).
//!
//! Huawei's sample parses the body into a map, copies it into a `TreeMap` (top-level keys
//! sorted), drops top-level `null`s and writes compact JSON with Jackson: non-ASCII as raw
//! UTF-8, `/` unescaped. Nested objects keep the order they arrived in. kgsim itself sends
//! bodies whose keys are sorted at every level, so that both readings agree on its bytes.

use serde_json::{Map, Value};

/// The body is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// Not JSON at all.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("the body is JSON but not an object")]
    NotObject,
}

/// Canonicalises a received body: top-level keys sorted, top-level nulls dropped, compact.
pub fn canonical_body(body: &[u8]) -> Result<String, CanonicalError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| CanonicalError::NotJson(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(CanonicalError::NotObject);
    };
    Ok(canonical_object(&map))
}

/// Canonicalises an object the marketplace is about to send.
pub(crate) fn canonical_object(map: &Map<String, Value>) -> String {
    let mut entries: Vec<(&String, &Value)> = map.iter().filter(|(_, v)| !v.is_null()).collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let sorted: Map<String, Value> = entries
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(sorted).to_string()
}

/// Sorts object keys at every depth (arrays keep their order), for bodies kgsim sends and
/// for the usage-push signature, which sorts "naturally" throughout (§7.2).
pub(crate) fn sort_keys_deep(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys_deep(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys_deep).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_top_level_drops_nulls_keeps_nested_order() {
        let body = br#"{ "b": "2", "a": {"z": 1, "y": null}, "n": null, "c": "/\u4e2d" }"#;
        assert_eq!(
            canonical_body(body).unwrap(),
            r#"{"a":{"z":1,"y":null},"b":"2","c":"/中"}"#
        );
    }

    #[test]
    fn deep_sort_orders_every_level() {
        let value: Value =
            serde_json::from_str(r#"{"b":[{"d":1,"c":2}],"a":{"z":1,"y":2}}"#).unwrap();
        assert_eq!(
            sort_keys_deep(&value).to_string(),
            r#"{"a":{"y":2,"z":1},"b":[{"c":2,"d":1}]}"#
        );
    }

    #[test]
    fn rejects_non_objects() {
        assert_eq!(canonical_body(b"[1]"), Err(CanonicalError::NotObject));
        assert!(matches!(
            canonical_body(b"{"),
            Err(CanonicalError::NotJson(_))
        ));
    }
}
