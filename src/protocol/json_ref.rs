//! A JSON document read in place: strings without escapes borrow the text they were read
//! from, and an object is its members in the order written, looked up by comparing names.
//!
//! The console judges every answer of a load, and serde_json's order-preserving `Value`
//! makes each answer cost a string per name and per value, a hash table per object and a
//! SipHash per name — about twenty allocations for a newInstance answer and a tenth of the
//! load client's time. Read in place, the same answer costs one vector per object. The
//! parsing itself stays serde_json's (the same syntax errors, the same nesting limit).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// One JSON value, its strings borrowed from the text where they had no escapes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonRef<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(Number),
    /// A string.
    Text(Cow<'a, str>),
    /// An array.
    Array(Vec<JsonRef<'a>>),
    /// An object.
    Object(Members<'a>),
}

/// An object's members in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Members<'a>(Vec<(Cow<'a, str>, JsonRef<'a>)>);

impl<'a> Members<'a> {
    /// The member `name`. A name written twice is read as its last value, as serde_json
    /// (and Jackson) read it.
    pub(crate) fn get(&self, name: &str) -> Option<&JsonRef<'a>> {
        self.0
            .iter()
            .rev()
            .find_map(|(key, value)| (key == name).then_some(value))
    }
}

impl<'a> JsonRef<'a> {
    /// Reads a document from text; the result borrows `text`.
    pub(crate) fn parse(text: &'a str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    /// The string, when this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The members, when this is an object.
    pub(crate) fn as_object(&self) -> Option<&Members<'a>> {
        match self {
            Self::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The items, when this is an array.
    pub(crate) fn as_array(&self) -> Option<&[JsonRef<'a>]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for JsonRef<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = JsonRef<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(JsonRef::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(JsonRef::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(JsonRef::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(JsonRef::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        // serde_json reads only finite numbers; a non-finite one would be null in a Value.
        Ok(Number::from_f64(value).map_or(JsonRef::Null, JsonRef::Number))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(JsonRef::Text(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(JsonRef::Text(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(JsonRef::Text(Cow::Owned(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsonRef::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // A message's objects hold a handful of members: room for them from the start
        // spares the vector's growing steps.
        let mut members = Vec::with_capacity(8);
        while let Some(Name(name)) = map.next_key()? {
            members.push((name, map.next_value()?));
        }
        Ok(JsonRef::Object(Members(members)))
    }
}

/// A member's name, borrowed when it had no escapes (serde's own `Cow` always copies). Names
/// have a visitor of their own: read as a [`JsonRef`] and unwrapped, they made judging a V2
/// answer about a tenth slower.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Name(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Name(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Name(Cow::Owned(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The same document read by serde_json's `Value`, for comparison.
    fn as_value(json: &JsonRef<'_>) -> Value {
        match json {
            JsonRef::Null => Value::Null,
            JsonRef::Bool(b) => Value::Bool(*b),
            JsonRef::Number(n) => Value::Number(n.clone()),
            JsonRef::Text(t) => Value::String(t.to_string()),
            JsonRef::Array(items) => Value::Array(items.iter().map(as_value).collect()),
            JsonRef::Object(members) => {
                let mut map = serde_json::Map::new();
                for (name, value) in &members.0 {
                    map.insert(name.to_string(), as_value(value));
                }
                Value::Object(map)
            }
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"resultCode":"000000","resultMsg":"成功","n":-1,"f":1.5,"big":18446744073709551615,
               "t":true,"z":null,"list":[{"instanceId":"i-1"},2,"x"],"nested":{"a":{"b":[]}}}"#,
            r#"{"esc\"aped":"line\nbreak \u4e2d","a":1,"a":2}"#,
            "[]",
            "\"text\"",
            "  0  ",
        ] {
            let read = JsonRef::parse(text).expect("valid JSON");
            let expected: Value = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(as_value(&read), expected, "{text}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let text = r#"{"plain":"value","esc\u0061ped":"a\tb"}"#;
        let read = JsonRef::parse(text).expect("valid JSON");
        let members = read.as_object().expect("an object");
        let [(plain_name, plain), (escaped_name, escaped)] = members.0.as_slice() else {
            panic!("two members");
        };
        assert!(matches!(plain_name, Cow::Borrowed("plain")));
        assert!(matches!(plain, JsonRef::Text(Cow::Borrowed("value"))));
        assert!(matches!(escaped_name, Cow::Owned(name) if name == "escaped"));
        assert!(matches!(escaped, JsonRef::Text(Cow::Owned(text)) if text == "a\tb"));
    }

    #[test]
    fn a_repeated_name_reads_as_its_last_value() {
        let read = JsonRef::parse(r#"{"a":1,"b":2,"a":"three"}"#).expect("valid JSON");
        let members = read.as_object().expect("an object");
        assert_eq!(members.get("a").and_then(JsonRef::as_str), Some("three"));
        assert_eq!(members.get("b"), Some(&JsonRef::Number(2.into())));
        assert_eq!(members.get("c"), None);
    }

    #[test]
    fn rejects_what_serde_json_rejects_with_its_messages() {
        for text in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{} x",
            "1e400",
            &"[".repeat(200),
        ] {
            let ours = JsonRef::parse(text).expect_err("invalid JSON").to_string();
            let theirs = serde_json::from_str::<Value>(text)
                .expect_err("invalid JSON")
                .to_string();
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
