//! The fixed known-answer vectors of `fixtures/vectors.json`, for unit tests.
//!
//! The values were computed outside this project by independent implementations; tests
//! compare against them and never regenerate them from the code under test.

use serde_json::Value;

/// The parsed vectors file.
pub(crate) fn vectors() -> Value {
    serde_json::from_str(include_str!("../../fixtures/vectors.json")).expect("vectors.json parses")
}

/// A string field of a vector group, e.g. `text("v1_auth_token", "auth_token")`.
pub(crate) fn text(group: &str, field: &str) -> String {
    vectors()[group][field]
        .as_str()
        .unwrap_or_else(|| panic!("vectors.json has no string {group}.{field}"))
        .to_owned()
}
