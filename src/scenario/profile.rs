//! The product profile: what the merchant's product is, so the marketplace sends what
//! KooGallery would send it and the suite picks the scenarios that apply.
//!
//! Resolved in two stages, as the flags of a good CLI are: the TOML file (`--profile`), then
//! the flags that override it (`--protocol`, `--billing`, `--encrypt-type`, `--interface`).
//! The access key never lives in a profile: it comes from `KGSIM_ACCESS_KEY`.

use serde::Deserialize;

use crate::marketplace::Span;
use crate::marketplace::retry::{Exhaustion, Purpose, RetryPolicy};
use crate::marketplace::settings::{Catalog, CustomerLevel, FreezeStart, Settings};
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::v1::extend_params::{Encoding, ExtendParam};
use crate::protocol::{AccessKey, Activity, BillingMode, Period, Protocol};
use crate::scenario::diagnostics::{FileProblems, Problem, SourceFile};
use crate::scenario::model::{Interface, Scenario};

/// A resolved product profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// V1 or V2.
    pub protocol: Protocol,
    /// Billing mode of the product.
    pub billing: BillingMode,
    /// encryptType the merchant declares (V1).
    pub encrypt_type: EncryptType,
    /// Whether newInstance carries encrypted mobilePhone/email (V1).
    pub encrypt_contacts: bool,
    /// Optional interfaces the product implements.
    pub interfaces: Vec<Interface>,
    /// Per-call timeout.
    pub timeout: Span,
    file: ProfileFile,
}

impl Default for Profile {
    /// V1, period billing, encryptType 1, encrypted contacts, every optional interface,
    /// the 20 s console timeout.
    fn default() -> Self {
        Self {
            protocol: Protocol::V1,
            billing: BillingMode::Period,
            encrypt_type: EncryptType::Aes256,
            encrypt_contacts: true,
            interfaces: Interface::ALL.to_vec(),
            timeout: Span::seconds(20),
            file: ProfileFile::default(),
        }
    }
}

/// The TOML file, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ProfileFile {
    protocol: Option<Protocol>,
    billing: Option<BillingMode>,
    #[serde(default, deserialize_with = "encrypt_type_number_or_text")]
    encrypt_type: Option<EncryptType>,
    encrypt_contacts: Option<bool>,
    interfaces: Option<Vec<String>>,
    timeout: Option<String>,
    customer_level: Option<String>,
    freeze_start: Option<String>,
    trial_period: Option<String>,
    extend_params: Option<Vec<ExtendParam>>,
    v1: Option<V1Section>,
    v2: Option<V2Section>,
    catalog: Option<CatalogSection>,
    retry: Option<std::collections::BTreeMap<String, RetrySection>>,
}

/// `encrypt-type = 1` and `encrypt-type = "1"` both mean AES-256.
fn encrypt_type_number_or_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<EncryptType>, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Option<EncryptType>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("1 (AES-256) or 2 (AES-128)")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.parse().map(Some).map_err(|_| {
                E::custom(format!(
                    "encrypt-type `{v}` is not 1 (AES-256) or 2 (AES-128)"
                ))
            })
        }
    }
    deserializer.deserialize_any(Visitor)
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct V1Section {
    order_id_on_expire_release: Option<bool>,
    extend_params_encoding: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct V2Section {
    expire_time_millis: Option<bool>,
    poll_after_create: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CatalogSection {
    product_id: Option<String>,
    sku_code: Option<String>,
    upgrade_product_id: Option<String>,
    upgrade_sku_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RetrySection {
    cadence: String,
    window: String,
}

/// Flags that override the profile file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--protocol`.
    pub protocol: Option<Protocol>,
    /// `--billing`.
    pub billing: Option<BillingMode>,
    /// `--encrypt-type`.
    pub encrypt_type: Option<EncryptType>,
    /// `--interface` (repeatable); replaces the file's list when given.
    pub interfaces: Option<Vec<Interface>>,
    /// `--timeout`.
    pub timeout: Option<Span>,
}

fn problem_at(
    file: &SourceFile,
    span: Option<std::ops::Range<usize>>,
    message: String,
    help: &str,
) -> FileProblems {
    let span = span.unwrap_or(0..0);
    let source_span = miette::SourceSpan::new(
        span.start.into(),
        span.len()
            .max(1)
            .min(file.text().len().saturating_sub(span.start)),
    );
    FileProblems {
        file: file.name().to_owned(),
        problems: vec![Problem::new(file, source_span, message, "here").with_help(help)],
    }
}

impl Profile {
    /// Parses a profile file and applies the overrides.
    pub fn load(name: &str, text: &str, overrides: &Overrides) -> Result<Self, FileProblems> {
        let source = SourceFile::new(name, text);
        let file: ProfileFile = toml::from_str(text).map_err(|error| {
            problem_at(
                &source,
                error.span(),
                format!("invalid profile: {}", error.message().trim()),
                "see the profile format in the README (protocol, billing, encrypt-type, interfaces, …)",
            )
        })?;
        let mut profile = Self {
            file,
            ..Self::default()
        };
        profile.resolve(&source)?;
        profile.apply(overrides);
        Ok(profile)
    }

    /// The default profile with overrides applied.
    pub fn with_overrides(overrides: &Overrides) -> Self {
        let mut profile = Self::default();
        profile.apply(overrides);
        profile
    }

    fn resolve(&mut self, source: &SourceFile) -> Result<(), FileProblems> {
        let find = |needle: &str| source.text().find(needle).map(|i| i..i + needle.len());
        let file = self.file.clone();
        if let Some(protocol) = file.protocol {
            self.protocol = protocol;
        }
        if let Some(billing) = file.billing {
            self.billing = billing;
        }
        if let Some(encrypt_type) = file.encrypt_type {
            self.encrypt_type = encrypt_type;
        }
        if let Some(contacts) = file.encrypt_contacts {
            self.encrypt_contacts = contacts;
        }
        if let Some(names) = &file.interfaces {
            let mut interfaces = Vec::new();
            for name in names {
                match Interface::ALL.into_iter().find(|i| i.name() == name) {
                    Some(interface) => interfaces.push(interface),
                    None => {
                        return Err(problem_at(
                            source,
                            find(&format!("\"{name}\"")),
                            format!("unknown interface `{name}`"),
                            "interfaces are: upgrade, query-instance, change-instance-check",
                        ));
                    }
                }
            }
            self.interfaces = interfaces;
        }
        if let Some(timeout) = &file.timeout {
            self.timeout = timeout.parse().map_err(|_| {
                problem_at(
                    source,
                    find(timeout),
                    format!("timeout `{timeout}` is not a duration"),
                    "write e.g. \"20s\" or \"5s\"",
                )
            })?;
        }
        // Parse the remaining settings now, so that a bad value is reported at load time.
        self.settings(AccessKey::new("check"))
            .map_err(|(needle, message, help)| problem_at(source, find(&needle), message, help))?;
        Ok(())
    }

    fn apply(&mut self, overrides: &Overrides) {
        if let Some(protocol) = overrides.protocol {
            self.protocol = protocol;
        }
        if let Some(billing) = overrides.billing {
            self.billing = billing;
        }
        if let Some(encrypt_type) = overrides.encrypt_type {
            self.encrypt_type = encrypt_type;
        }
        if let Some(interfaces) = &overrides.interfaces {
            self.interfaces.clone_from(interfaces);
        }
        if let Some(timeout) = overrides.timeout {
            self.timeout = timeout;
        }
    }

    /// Whether a scenario applies to this product, and if not, why.
    pub fn skip_reason(&self, scenario: &Scenario) -> Option<String> {
        let applies = &scenario.applies;
        if !applies.protocols.is_empty() && !applies.protocols.contains(&self.protocol) {
            return Some(format!("not for {}", self.protocol));
        }
        if !applies.billing.is_empty() && !applies.billing.contains(&self.billing) {
            return Some(format!("not for {} billing", self.billing));
        }
        applies
            .requires
            .iter()
            .find(|i| !self.interfaces.contains(i))
            .map(|missing| format!("the product does not implement {}", missing.name()))
    }

    /// The marketplace settings for this product and key.
    ///
    /// The error names the offending text, a message and a hint.
    pub fn settings(&self, key: AccessKey) -> Result<Settings, (String, String, &'static str)> {
        let mut settings = Settings::new(self.protocol, key);
        settings.billing = self.billing;
        settings.encrypt_type = self.encrypt_type;
        settings.encrypt_contacts = self.encrypt_contacts;
        settings.supports_upgrade = self.interfaces.contains(&Interface::Upgrade);
        settings.timeout = self.timeout;
        let file = &self.file;
        if let Some(level) = &file.customer_level {
            settings.customer_level = match level.to_ascii_uppercase().as_str() {
                "V0" => CustomerLevel::V0,
                "V1" => CustomerLevel::V1,
                "V2" => CustomerLevel::V2,
                "V3" => CustomerLevel::V3,
                "V4" => CustomerLevel::V4,
                "V5" => CustomerLevel::V5,
                _ => {
                    return Err((
                        level.clone(),
                        format!("customer level `{level}` is not V0…V5"),
                        "write e.g. \"V5\"",
                    ));
                }
            };
        }
        if let Some(start) = &file.freeze_start {
            settings.freeze_start = match start.as_str() {
                "at-expiry" => FreezeStart::AtExpiry,
                "after-grace" => FreezeStart::AfterGrace,
                _ => {
                    return Err((
                        start.clone(),
                        format!("freeze-start `{start}` is not at-expiry or after-grace"),
                        "write \"at-expiry\" (default) or \"after-grace\"",
                    ));
                }
            };
        }
        if let Some(trial) = &file.trial_period {
            settings.trial_period = trial.parse::<Period>().map_err(|_| {
                (
                    trial.clone(),
                    format!("trial-period `{trial}` is not a period"),
                    "write e.g. \"7 days\"",
                )
            })?;
        }
        if let Some(params) = &file.extend_params {
            settings.extend_params.clone_from(params);
        }
        if let Some(v1) = &file.v1 {
            if let Some(flag) = v1.order_id_on_expire_release {
                settings.v1_order_id_on_expire_release = flag;
            }
            if let Some(encoding) = &v1.extend_params_encoding {
                settings.extend_params_encoding = match encoding.as_str() {
                    "url-encoded-base64" => Encoding::UrlEncodedBase64,
                    "base64" => Encoding::Base64,
                    _ => {
                        return Err((
                            encoding.clone(),
                            format!("extend-params-encoding `{encoding}` is unknown"),
                            "write \"url-encoded-base64\" (default) or \"base64\"",
                        ));
                    }
                };
            }
        }
        if let Some(v2) = &file.v2 {
            if let Some(flag) = v2.expire_time_millis {
                settings.v2_expire_time_millis = flag;
            }
            if let Some(flag) = v2.poll_after_create {
                settings.v2_poll_after_create = flag;
            }
        }
        if let Some(catalog) = &file.catalog {
            let defaults = Catalog::default();
            settings.catalog = Catalog {
                product_id: catalog.product_id.clone().unwrap_or(defaults.product_id),
                sku_code: catalog.sku_code.clone().unwrap_or(defaults.sku_code),
                upgrade_product_id: catalog
                    .upgrade_product_id
                    .clone()
                    .unwrap_or(defaults.upgrade_product_id),
                upgrade_sku_code: catalog
                    .upgrade_sku_code
                    .clone()
                    .unwrap_or(defaults.upgrade_sku_code),
                extra_on_demand_products: defaults.extra_on_demand_products,
            };
        }
        for (slug, retry) in file.retry.iter().flatten() {
            let activity = Activity::ALL
                .into_iter()
                .find(|a| a.slug() == slug)
                .ok_or_else(|| {
                    (
                        slug.clone(),
                        format!("retry section `{slug}` is not an activity"),
                        "use an activity name such as new-instance or expire-instance",
                    )
                })?;
            let parse = |text: &String| {
                text.parse::<Span>().map_err(|_| {
                    (
                        text.clone(),
                        format!("`{text}` is not a duration"),
                        "write e.g. \"1h\" or \"2m\"",
                    )
                })
            };
            let previous = settings.retries.policy(Purpose::Notify(activity));
            let on_exhausted = if previous == RetryPolicy::ONCE {
                Exhaustion::Stop
            } else {
                previous.on_exhausted
            };
            settings.retries.set(
                Purpose::Notify(activity),
                RetryPolicy {
                    cadence: parse(&retry.cadence)?,
                    window: parse(&retry.window)?,
                    on_exhausted,
                },
            );
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_v1_period_aes256_with_every_interface() {
        let profile = Profile::default();
        assert_eq!(
            (profile.protocol, profile.billing, profile.encrypt_type),
            (Protocol::V1, BillingMode::Period, EncryptType::Aes256)
        );
        assert_eq!(profile.interfaces.len(), 3);
    }

    #[test]
    fn file_then_flags() {
        let text = r#"
protocol = "v2"
billing = "on-demand"
encrypt-type = 2
interfaces = ["query-instance"]
timeout = "5s"
customer-level = "V3"
freeze-start = "after-grace"

[v1]
order-id-on-expire-release = true

[retry.expire-instance]
cadence = "10m"
window = "1h"
"#;
        let profile = Profile::load(
            "p.toml",
            text,
            &Overrides {
                protocol: Some(Protocol::V1),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(profile.protocol, Protocol::V1, "the flag wins");
        assert_eq!(profile.billing, BillingMode::OnDemand);
        assert_eq!(profile.interfaces, vec![Interface::QueryInstance]);
        let settings = profile.settings(AccessKey::new("k")).unwrap();
        assert_eq!(settings.timeout, Span::seconds(5));
        assert_eq!(settings.customer_level, CustomerLevel::V3);
        assert!(settings.v1_order_id_on_expire_release);
        assert_eq!(
            settings
                .retries
                .policy(Purpose::Notify(Activity::ExpireInstance))
                .max_attempts(),
            7
        );
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        let error =
            Profile::load("p.toml", "protocol = \"v3\"\n", &Overrides::default()).unwrap_err();
        assert_eq!(error.problems[0].location(), (1, 12));
        let error =
            Profile::load("p.toml", "protocl = \"v1\"\n", &Overrides::default()).unwrap_err();
        assert!(
            error.problems[0]
                .message()
                .contains("unknown field `protocl`"),
            "{}",
            error.problems[0].message()
        );
        let error = Profile::load("p.toml", "customer-level = \"V9\"\n", &Overrides::default())
            .unwrap_err();
        assert_eq!(error.problems[0].location(), (1, 19));
        let error = Profile::load(
            "p.toml",
            "interfaces = [\"upgrad\"]\n",
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            error.problems[0]
                .message()
                .contains("unknown interface `upgrad`")
        );
    }
}
