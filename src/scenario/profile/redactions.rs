//! Answer fields a user names as volatile (`--redact appInfo.userName`, `redact = [...]` under
//! `[snapshots]` in the profile): replaced in transcripts and reports, so that a value that
//! changes on every run does not break the snapshots.

use serde_json::Value;

/// Answer fields to redact, as dotted paths (`appInfo.userName`, `info.appInfo.userName`);
/// a path goes through arrays, applying to every element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Redactions {
    paths: Vec<Vec<String>>,
}

/// A `--redact` path that is not a dotted path of names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a JSON path such as appInfo.userName (names joined by dots)")]
pub(crate) struct InvalidPath(pub(crate) String);

impl Redactions {
    /// Parses dotted paths; `[]` after a name is accepted and ignored (arrays are walked).
    pub(crate) fn parse<'a>(paths: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidPath> {
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

    /// These paths and `other`'s, without repeats.
    pub(crate) fn merged(&self, other: &Redactions) -> Redactions {
        let mut paths = self.paths.clone();
        for path in &other.paths {
            if !paths.contains(path) {
                paths.push(path.clone());
            }
        }
        Redactions { paths }
    }

    /// Redacts every named path in a JSON value, wherever it starts: `appInfo.userName`
    /// matches at the top level and inside `info[]`.
    pub(crate) fn apply(&self, value: &mut Value) {
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
