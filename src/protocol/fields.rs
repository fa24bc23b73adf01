//! Field tables: which fields a message carries, which are mandatory, how long each may be.
//!
//! Every request and response type in [`crate::protocol::v1`] and [`crate::protocol::v2`]
//! carries a table generated from the same declaration as the struct itself (see
//! [`wire_message!`](crate::wire_message)), so a peer's message can be validated field by
//! field against the spec's tables — including a hostile peer's, which need not parse into
//! the struct at all.

use std::fmt;

use serde_json::{Map, Value};

use crate::protocol::json_ref::{JsonRef, Members};

/// Whether a field must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// `M` in the spec's table.
    Mandatory,
    /// `O` in the spec's table.
    Optional,
    /// `O` in the table, but the console's debug page rejects an answer without it
    /// (spec: koogallery-saas-v1.md §1 FAQ; koogallery-v2-kit-license.md §8.3).
    ConsoleMandatory,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string of at most `max` characters.
    Text {
        /// Maximum length in characters.
        max: usize,
    },
    /// A JSON number (or a numeric string, which Java's Jackson coerces).
    Number,
    /// A JSON integer, as the Kit's `Integer` fields (`flag`, `testFlag`, V2 §3): a string
    /// is the wrong type there, since the Kit body binds to `Map<String,Object>`.
    Integer,
    /// A nested object with its own table.
    Object(&'static [Field]),
    /// An array of objects with the given table.
    List(&'static [Field]),
}

/// One row of a spec table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The name on the wire.
    pub(crate) name: &'static str,
    /// Whether it must be present.
    pub(crate) presence: Presence,
    /// What it holds.
    pub(crate) kind: Kind,
}

/// A string field of at most `max` characters.
pub(crate) const fn text(max: usize) -> Kind {
    Kind::Text { max }
}

/// How a field broke its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A mandatory field is absent (or `null`).
    Missing {
        /// Dotted path, e.g. `appInfo.frontEndUrl` or `info[0].instanceId`.
        path: String,
    },
    /// A text field is longer than its maximum.
    TooLong {
        /// Dotted path.
        path: String,
        /// Its length in characters.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The field holds the wrong JSON type.
    WrongType {
        /// Dotted path.
        path: String,
        /// What the table says it holds.
        expected: &'static str,
    },
}

impl Violation {
    /// The dotted path of the offending field.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &str {
        match self {
            Self::Missing { path } | Self::TooLong { path, .. } | Self::WrongType { path, .. } => {
                path
            }
        }
    }
}

/// Whether [`Presence::ConsoleMandatory`] fields are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// Only the spec tables' `M` fields are required.
    Tables,
    /// The console debug page's stricter rules apply too (the default for judging answers).
    Console,
}

/// Objects with more members than this are looked up by hash instead of by scanning.
const SCAN_LIMIT: usize = 16;

/// The member `name` of a JSON object, found by comparing names rather than hashing.
///
/// A message's objects hold a handful of members, and serde_json's order-preserving map
/// hashes every name looked up with SipHash, which costs more than comparing a handful of
/// short names (validating a request looks up every field of its table). Names are unique
/// within a map, so the first match is the only one.
pub(crate) fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if object.len() > SCAN_LIMIT {
        return object.get(name);
    }
    object
        .iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// What validation reads of a JSON value, whichever way it was parsed: serde_json's `Value`
/// (requests, which are then deserialised into their structs) or [`JsonRef`] (answers, read
/// in place).
pub(crate) enum Shape<'a, V: JsonValue> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number; `integer` when it has no fraction or exponent.
    Number {
        /// Whether it is an integer.
        integer: bool,
    },
    /// A string.
    Text(&'a str),
    /// An object.
    Object(&'a V::Object),
    /// An array.
    Array(&'a [V]),
}

/// A JSON value as [`validate`] reads it.
pub(crate) trait JsonValue: Sized {
    /// Its objects.
    type Object: JsonObject<Value = Self>;
    /// What the value is.
    fn shape(&self) -> Shape<'_, Self>;
}

/// A JSON object as [`validate`] reads it.
pub(crate) trait JsonObject {
    /// Its members' values.
    type Value: JsonValue<Object = Self>;
    /// The member `name`.
    fn member(&self, name: &str) -> Option<&Self::Value>;
}

impl JsonValue for Value {
    type Object = Map<String, Value>;

    fn shape(&self) -> Shape<'_, Self> {
        match self {
            Value::Null => Shape::Null,
            Value::Bool(_) => Shape::Bool,
            Value::Number(n) => Shape::Number {
                integer: n.is_i64() || n.is_u64(),
            },
            Value::String(text) => Shape::Text(text),
            Value::Object(object) => Shape::Object(object),
            Value::Array(items) => Shape::Array(items),
        }
    }
}

impl JsonObject for Map<String, Value> {
    type Value = Value;

    fn member(&self, name: &str) -> Option<&Value> {
        member(self, name)
    }
}

impl<'a> JsonValue for JsonRef<'a> {
    type Object = Members<'a>;

    fn shape(&self) -> Shape<'_, Self> {
        match self {
            JsonRef::Null => Shape::Null,
            JsonRef::Bool(_) => Shape::Bool,
            JsonRef::Number(n) => Shape::Number {
                integer: n.is_i64() || n.is_u64(),
            },
            JsonRef::Text(text) => Shape::Text(text),
            JsonRef::Object(object) => Shape::Object(object),
            JsonRef::Array(items) => Shape::Array(items),
        }
    }
}

impl<'a> JsonObject for Members<'a> {
    type Value = JsonRef<'a>;

    fn member(&self, name: &str) -> Option<&JsonRef<'a>> {
        self.get(name)
    }
}

/// Validates a JSON object against a table; returns every violation, in table order.
pub(crate) fn validate<O: JsonObject>(
    object: &O,
    fields: &[Field],
    rules: Rules,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    validate_into(object, fields, rules, Path::Root, &mut violations);
    violations
}

/// Where a value stands in the message; written out only when a violation names it.
#[derive(Clone, Copy)]
enum Path<'a> {
    /// The message itself.
    Root,
    /// A member of an object.
    Member(&'a Path<'a>, &'a str),
    /// An item of an array.
    Item(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    /// `appInfo.frontEndUrl`, `info[0].instanceId`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Member(Self::Root, name) => f.write_str(name),
            Self::Member(parent, name) => write!(f, "{parent}.{name}"),
            Self::Item(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

fn validate_into<O: JsonObject>(
    object: &O,
    fields: &[Field],
    rules: Rules,
    at: Path<'_>,
    out: &mut Vec<Violation>,
) {
    for field in fields {
        let required = match field.presence {
            Presence::Mandatory => true,
            Presence::Optional => false,
            Presence::ConsoleMandatory => rules == Rules::Console,
        };
        let path = Path::Member(&at, field.name);
        match object.member(field.name).map(JsonValue::shape) {
            None | Some(Shape::Null) => {
                if required {
                    out.push(Violation::Missing {
                        path: path.to_string(),
                    });
                }
            }
            Some(shape) => validate_value(shape, field.kind, rules, path, out),
        }
    }
}

fn validate_value<V: JsonValue>(
    shape: Shape<'_, V>,
    kind: Kind,
    rules: Rules,
    path: Path<'_>,
    out: &mut Vec<Violation>,
) {
    match (kind, shape) {
        // A text has no more characters than bytes: only one longer in bytes needs counting.
        (Kind::Text { max }, Shape::Text(s)) if s.len() > max => {
            let len = s.chars().count();
            if len > max {
                out.push(Violation::TooLong {
                    path: path.to_string(),
                    len,
                    max,
                });
            }
        }
        (Kind::Text { .. }, Shape::Text(_)) => {}
        (Kind::Number, Shape::Number { .. }) => {}
        (Kind::Number, Shape::Text(s)) if s.trim().parse::<f64>().is_ok() => {}
        (Kind::Integer, Shape::Number { integer: true }) => {}
        (Kind::Object(table), Shape::Object(inner)) => {
            validate_into(inner, table, rules, path, out);
        }
        (Kind::List(table), Shape::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = Path::Item(&path, i);
                match item.shape() {
                    Shape::Object(inner) => validate_into(inner, table, rules, item_path, out),
                    _ => out.push(Violation::WrongType {
                        path: item_path.to_string(),
                        expected: "object",
                    }),
                }
            }
        }
        (kind, _) => out.push(Violation::WrongType {
            path: path.to_string(),
            expected: kind_name(kind),
        }),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text { .. } => "string",
        Kind::Number => "number",
        Kind::Integer => "integer",
        Kind::Object(_) => "object",
        Kind::List(_) => "array",
    }
}

/// Whether an optional field is absent, so that serialisation leaves it out.
pub(crate) trait Absent {
    /// `true` for a `None`.
    fn is_absent(&self) -> bool;
}

impl Absent for String {
    fn is_absent(&self) -> bool {
        false
    }
}

impl Absent for i64 {
    fn is_absent(&self) -> bool {
        false
    }
}

impl<T> Absent for Vec<T> {
    fn is_absent(&self) -> bool {
        false
    }
}

impl<T> Absent for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

/// Used by `skip_serializing_if` on every generated field.
pub(crate) fn is_absent<T: Absent>(value: &T) -> bool {
    value.is_absent()
}

/// A field's value as a V1 query parameter: text fields are parameters, structured ones
/// (objects, lists) never travel in a query.
pub(crate) trait QueryValue {
    /// The text, when the field is a present text field.
    fn query_value(&self) -> Option<&str>;
}

impl QueryValue for String {
    fn query_value(&self) -> Option<&str> {
        Some(self)
    }
}

impl QueryValue for Option<String> {
    fn query_value(&self) -> Option<&str> {
        self.as_deref()
    }
}

impl QueryValue for Option<Value> {
    fn query_value(&self) -> Option<&str> {
        None
    }
}

impl QueryValue for i64 {
    fn query_value(&self) -> Option<&str> {
        None
    }
}

impl QueryValue for Option<i64> {
    fn query_value(&self) -> Option<&str> {
        None
    }
}

impl<T> QueryValue for Vec<T> {
    fn query_value(&self) -> Option<&str> {
        None
    }
}

impl<T> QueryValue for Option<Vec<T>> {
    fn query_value(&self) -> Option<&str> {
        None
    }
}

impl<T: WireMessage> QueryValue for Option<T> {
    fn query_value(&self) -> Option<&str> {
        None
    }
}

/// A message type whose fields come from a spec table.
pub(crate) trait WireMessage: serde::Serialize + serde::de::DeserializeOwned {
    /// The present text fields as query parameters, in table order (what the serialised
    /// form holds, without building it: this runs for every request sent).
    fn query_params(&self) -> Vec<(&'static str, &str)>;
}

/// Declares a wire message: a serde struct whose fields carry their wire names, and its
/// `TABLE` of fields, from one list. Used as `fields::wire_message!`.
///
/// ```ignore
/// wire_message! {
///     /// Response to newInstance.
///     pub struct NewInstanceResponse {
///         /// The result code.
///         result_code: String = "resultCode", Mandatory, text(6);
///     }
/// }
/// ```
macro_rules! wire_message {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fattr:meta])* $field:ident : $ty:ty = $wire:literal, $presence:ident, $kind:expr ; )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
        $vis struct $name {
            $(
                $(#[$fattr])*
                #[serde(rename = $wire, skip_serializing_if = "crate::protocol::fields::is_absent")]
                $vis $field: $ty,
            )*
        }

        impl $name {
            /// The spec table this type was declared from.
            $vis const TABLE: &'static [$crate::protocol::fields::Field] = &[
                $( $crate::protocol::fields::Field {
                    name: $wire,
                    presence: $crate::protocol::fields::Presence::$presence,
                    kind: $kind,
                }, )*
            ];

        }

        impl $crate::protocol::fields::QueryValue for $name {
            fn query_value(&self) -> Option<&str> {
                None
            }
        }

        impl $crate::protocol::fields::WireMessage for $name {
            fn query_params(&self) -> Vec<(&'static str, &str)> {
                let mut params = Vec::with_capacity(Self::TABLE.len());
                $(
                    if let Some(value) = $crate::protocol::fields::QueryValue::query_value(&self.$field) {
                        params.push(($wire, value));
                    }
                )*
                params
            }
        }

        impl $crate::protocol::fields::Absent for $name {
            fn is_absent(&self) -> bool {
                false
            }
        }
    };
}

pub(crate) use wire_message;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_finds_what_get_finds_in_small_and_large_objects() {
        for size in [0, 1, 2, SCAN_LIMIT, SCAN_LIMIT + 1, 40] {
            let object: Map<String, Value> =
                (0..size).map(|k| (format!("k{k}"), json!(k))).collect();
            for name in ["k0", "k1", "k16", "k17", "k39", "k", "k00", ""] {
                assert_eq!(member(&object, name), object.get(name), "{name} in {size}");
            }
        }
        // A repeated name keeps one member (the last value, where the first stood).
        let object: Map<String, Value> =
            serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).expect("valid JSON");
        assert_eq!(member(&object, "a"), Some(&json!(3)));
    }

    const INNER: &[Field] = &[
        Field {
            name: "url",
            presence: Presence::Mandatory,
            kind: text(5),
        },
        Field {
            name: "n",
            presence: Presence::Optional,
            kind: Kind::Number,
        },
    ];
    const OUTER: &[Field] = &[
        Field {
            name: "code",
            presence: Presence::Mandatory,
            kind: text(6),
        },
        Field {
            name: "msg",
            presence: Presence::ConsoleMandatory,
            kind: text(255),
        },
        Field {
            name: "app",
            presence: Presence::Optional,
            kind: Kind::Object(INNER),
        },
        Field {
            name: "list",
            presence: Presence::Optional,
            kind: Kind::List(INNER),
        },
    ];

    /// Validates both readings of the document, serde_json's and the one in place, and
    /// checks that they agree.
    fn check(value: &Value, rules: Rules) -> Vec<Violation> {
        let violations = validate(value.as_object().unwrap(), OUTER, rules);
        let text = value.to_string();
        let in_place = JsonRef::parse(&text).unwrap();
        let object = in_place.as_object().unwrap();
        assert_eq!(validate(object, OUTER, rules), violations, "{text}");
        violations
    }

    #[test]
    fn a_valid_object_has_no_violations() {
        let value = json!({"code": "000000", "msg": "ok", "app": {"url": "x", "n": "1.5"}, "list": [{"url": "y"}]});
        assert_eq!(check(&value, Rules::Console), vec![]);
    }

    #[test]
    fn reports_missing_long_and_mistyped_fields_with_paths() {
        let value = json!({"code": null, "app": {"url": "toolong"}, "list": [{"n": "x"}, 3]});
        assert_eq!(
            check(&value, Rules::Console),
            vec![
                Violation::Missing {
                    path: "code".into()
                },
                Violation::Missing { path: "msg".into() },
                Violation::TooLong {
                    path: "app.url".into(),
                    len: 7,
                    max: 5
                },
                Violation::Missing {
                    path: "list[0].url".into()
                },
                Violation::WrongType {
                    path: "list[0].n".into(),
                    expected: "number"
                },
                Violation::WrongType {
                    path: "list[1]".into(),
                    expected: "object"
                },
            ]
        );
    }

    #[test]
    fn console_mandatory_fields_follow_the_rules() {
        assert_eq!(check(&json!({"code": "000000"}), Rules::Tables), vec![]);
        assert_eq!(
            check(&json!({"code": "000000"}), Rules::Console),
            vec![Violation::Missing { path: "msg".into() }]
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(
            check(&json!({"code": "中中中中中中", "msg": ""}), Rules::Console),
            vec![]
        );
    }
}
