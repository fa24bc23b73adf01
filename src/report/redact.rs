//! What never reaches a report, a transcript or the terminal: the access key in any encoding a
//! merchant might echo it in. (The answer fields a user names as volatile are
//! [`crate::scenario::profile::redactions`].)

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::protocol::AccessKey;
use crate::protocol::encoding::encode_component;

/// What a secret is replaced with.
pub(crate) const SECRET: &str = "[access key]";

/// The forms of a secret a merchant could echo: as is, Base64 (standard and URL-safe, padded
/// or not), hex in either case, and percent-encoded. Keys shorter than 6 characters are not
/// scrubbed by form (they would match everywhere); such a key is only ever a test key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
    forms: Vec<String>,
}

impl Secrets {
    /// The forms of one key.
    pub(crate) fn of(key: &AccessKey) -> Self {
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
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), SECRET);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
