//! What never reaches a report, a transcript or the terminal: the access key in any encoding a
//! merchant might echo it in, and the answer fields the user names as volatile
//! (`--redact appInfo.userName`), so that snapshots stay stable and secrets stay secret.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::protocol::AccessKey;
use crate::protocol::encoding::encode_component;

/// What a secret is replaced with.
pub const SECRET: &str = "[access key]";

/// The forms of a secret a merchant could echo: as is, Base64 (standard and URL-safe, padded
/// or not), hex in either case, and percent-encoded. Keys shorter than 6 characters are not
/// scrubbed by form (they would match everywhere); such a key is only ever a test key.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    forms: Vec<String>,
}

impl Secrets {
    /// The forms of one key.
    pub fn of(key: &AccessKey) -> Self {
        let raw = key.expose_str();
        if raw.len() < 6 {
            return Self::default();
        }
        let bytes = raw.as_bytes();
        let mut forms = vec![
            raw.to_owned(),
            STANDARD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            hex::encode(bytes),
            hex::encode_upper(bytes),
            encode_component(raw),
        ];
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        Self { forms }
    }

    /// The text with every form of the secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), SECRET);
            }
        }
        out
    }
}

/// Answer fields to redact, as dotted paths (`appInfo.userName`, `info.appInfo.userName`);
/// a path goes through arrays, applying to every element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactions {
    paths: Vec<Vec<String>>,
}

/// A `--redact` path that is not a dotted path of names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a JSON path such as appInfo.userName (names joined by dots)")]
pub struct InvalidPath(pub String);

impl Redactions {
    /// Parses dotted paths; `[]` after a name is accepted and ignored (arrays are walked).
    pub fn parse<'a>(paths: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidPath> {
        let mut parsed = Vec::new();
        for path in paths {
            let parts: Vec<String> = path
                .split('.')
                .map(|part| part.trim_end_matches("[]").to_owned())
                .collect();
            if parts
                .iter()
                .any(|p| p.is_empty() || p.contains(['[', ']', ' ']))
            {
                return Err(InvalidPath(path.to_owned()));
            }
            parsed.push(parts);
        }
        Ok(Self { paths: parsed })
    }

    /// Whether no path is named.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The dotted paths.
    pub fn names(&self) -> Vec<String> {
        self.paths.iter().map(|p| p.join(".")).collect()
    }

    /// Redacts every named path in a JSON value, wherever it starts: `appInfo.userName`
    /// matches at the top level and inside `info[]`.
    pub fn apply(&self, value: &mut Value) {
        for path in &self.paths {
            let shown = format!("[redacted: {}]", path.join("."));
            redact_everywhere(value, path, &shown);
        }
    }
}

fn redact_everywhere(value: &mut Value, path: &[String], shown: &str) {
    redact_at(value, path, shown);
    match value {
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| redact_everywhere(v, path, shown)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| redact_everywhere(v, path, shown)),
        _ => {}
    }
}

fn redact_at(value: &mut Value, path: &[String], shown: &str) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| redact_at(item, path, shown)),
        Value::Object(map) => {
            let Some(child) = map.get_mut(first) else {
                return;
            };
            if rest.is_empty() {
                if !child.is_null() {
                    *child = Value::String(shown.to_owned());
                }
            } else {
                redact_at(child, rest, shown);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_echoed_form_of_the_key_is_scrubbed() {
        let key = AccessKey::new("s3cr3t-k3y+/=");
        let secrets = Secrets::of(&key);
        for form in [
            "s3cr3t-k3y+/=".to_owned(),
            STANDARD.encode("s3cr3t-k3y+/="),
            URL_SAFE_NO_PAD.encode("s3cr3t-k3y+/="),
            hex::encode("s3cr3t-k3y+/="),
            hex::encode_upper("s3cr3t-k3y+/="),
            encode_component("s3cr3t-k3y+/="),
        ] {
            let text = format!("echo: {form}!");
            assert_eq!(secrets.scrub(&text), "echo: [access key]!", "{form}");
        }
        assert_eq!(Secrets::of(&AccessKey::new("k")).scrub("k k"), "k k");
    }

    #[test]
    fn named_paths_are_redacted_at_any_depth_and_through_arrays() {
        let redactions =
            Redactions::parse(["appInfo.userName", "info[].usageInfo.usageValue"]).unwrap();
        let mut answer = json!({
            "appInfo": {"userName": "admin-66b6843e", "password": "p"},
            "info": [{"appInfo": {"userName": "admin-1"}, "usageInfo": [{"usageValue": 3}]}]
        });
        redactions.apply(&mut answer);
        assert_eq!(
            answer["appInfo"]["userName"],
            "[redacted: appInfo.userName]"
        );
        assert_eq!(answer["appInfo"]["password"], "p");
        assert_eq!(
            answer["info"][0]["appInfo"]["userName"],
            "[redacted: appInfo.userName]"
        );
        assert_eq!(
            answer["info"][0]["usageInfo"][0]["usageValue"],
            "[redacted: info.usageInfo.usageValue]"
        );
        assert!(Redactions::parse(["a..b"]).is_err());
        assert!(Redactions::parse(["a[0].b"]).is_err());
    }
}
