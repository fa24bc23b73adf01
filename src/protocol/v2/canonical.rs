//! The V2 `RequestPayload`: the JSON body as the signature sees it
//! (spec: koogallery-v2-kit-license.md §1.3).
//!
//! Huawei's sample parses the body into a map, copies it into a `TreeMap` (top-level keys
//! sorted), drops top-level `null`s and writes compact JSON with Jackson: non-ASCII as raw
//! UTF-8, `/` unescaped. Nested objects keep the order they arrived in. kgsim signs bodies
//! whose keys are sorted at every level, so that both readings agree on its bytes.
//!
//! KooGallery signs the canonical form but does not promise to send it: the published Kit
//! and getLicenseAsync examples arrive with their keys in another order and a space after
//! each `:` (spec §1.4, fidelity audit §1). [`production_form`] writes a body that way, so
//! that a merchant that verifies the bytes it received, instead of their canonical form, is
//! refused locally as it would be in production.

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

/// A body as production sends it: the top-level keys in an order drawn from `seed` (never
/// the sorted order, when there are two keys or more), `": "` after each top-level key as the
/// published examples write it, nested values in their canonical (sorted, compact) form —
/// Huawei's sample verifier sorts the top level only, so nested objects must arrive in the
/// order they were signed in [I:production-body-form].
pub(crate) fn production_form(map: &Map<String, Value>, seed: u64) -> String {
    let mut entries: Vec<(&String, &Value)> = map.iter().filter(|(_, v)| !v.is_null()).collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let sorted: Vec<&String> = entries.iter().map(|(k, _)| *k).collect();
    let mut state = seed;
    for i in (1..entries.len()).rev() {
        let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
        entries.swap(i, j);
    }
    if entries.len() > 1 && entries.iter().map(|(k, _)| *k).eq(sorted.iter().copied()) {
        entries.rotate_left(1);
    }
    let mut out = String::from("{");
    for (index, (key, value)) in entries.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(key.clone()).to_string());
        out.push_str(": ");
        out.push_str(&sort_keys_deep(value).to_string());
    }
    out.push('}');
    out
}

/// One step of SplitMix64: a small, well-mixed generator, enough to vary a key order.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
    fn the_production_form_canonicalises_to_the_signed_bytes_and_is_never_canonical() {
        let body: Value = serde_json::from_str(
            r#"{"activity":"newInstance","orderId":"CS1","testFlag":"1","userList":[{"z":"张三","a":1}],"x":null}"#,
        )
        .unwrap();
        let Value::Object(map) = body else {
            panic!("an object")
        };
        let signed = canonical_object(&map);
        for seed in 0..64 {
            let sent = production_form(&map, seed);
            assert_ne!(sent, signed, "seed {seed}: sent in canonical form");
            assert!(sent.contains("\": "), "{sent}");
            assert!(
                sent.contains(r#"[{"a":1,"z":"张三"}]"#),
                "nested sorted: {sent}"
            );
            let canonical = canonical_body(sent.as_bytes()).unwrap();
            // Nested values are sorted at every depth by both, so the readings agree.
            assert_eq!(
                canonical,
                canonical_object(&map).replace(r#"{"z":"张三","a":1}"#, r#"{"a":1,"z":"张三"}"#)
            );
        }
        assert_eq!(production_form(&map, 7), production_form(&map, 7));
        assert_ne!(production_form(&map, 7), production_form(&map, 8));
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
