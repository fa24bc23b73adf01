//! The profile file as written: TOML, every value typed as it is read, so that a wrong value
//! is reported by the TOML parser at its own span (`customer-level = "V9"` points at `"V9"`).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::marketplace::Span;
use crate::marketplace::kind::ProductType;
use crate::marketplace::settings::{BodyForm, CustomerLevel, FreezeStart, SignCase};
use crate::protocol::open_api::OpenApiUse;
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::v1::extend_params::{Encoding, ExtendParam};
use crate::protocol::v2::client_secret::OaepDigest;
use crate::protocol::{Activity, BillingMode, Period, Protocol};
use crate::scenario::profile::redactions::Redactions;

/// Reads an optional value through its `FromStr`, whose message becomes the TOML error.
fn parsed<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// `encrypt-type = 1` and `encrypt-type = "1"` both mean AES-256.
fn encrypt_type<'de, D: Deserializer<'de>>(
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

/// A list of names (optional interfaces, open APIs), each read through its `FromStr`, whose
/// message becomes the TOML error at the list.
fn parsed_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|name| name.parse().map_err(serde::de::Error::custom))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// An activity named in a `[retry.<activity>]` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RetryActivity(pub(crate) Activity);

impl<'de> Deserialize<'de> for RetryActivity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let slug = String::deserialize(deserializer)?;
        Activity::ALL
            .iter()
            .copied()
            .find(|a| a.slug() == slug)
            .map(Self)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "retry section `{slug}` is not an activity (new-instance, expire-instance, …)"
                ))
            })
    }
}

/// The TOML file, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ProfileFile {
    pub(crate) protocol: Option<Protocol>,
    pub(crate) billing: Option<BillingMode>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) product: Option<ProductType>,
    pub(crate) kit: Option<bool>,
    pub(crate) kit_public_key: Option<String>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) kit_oaep_digest: Option<OaepDigest>,
    pub(crate) login_url: Option<String>,
    pub(crate) order_notify: Option<String>,
    #[serde(default, deserialize_with = "encrypt_type")]
    pub(crate) encrypt_type: Option<EncryptType>,
    pub(crate) encrypt_contacts: Option<bool>,
    #[serde(default, deserialize_with = "parsed_list")]
    pub(crate) interfaces: Option<Vec<Activity>>,
    #[serde(default, deserialize_with = "parsed_list")]
    pub(crate) open_apis: Option<Vec<OpenApiUse>>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) timeout: Option<Span>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) customer_level: Option<CustomerLevel>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) freeze_start: Option<FreezeStart>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) trial_period: Option<Period>,
    pub(crate) extend_params: Option<Vec<ExtendParam>>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) wire_bodies: Option<BodyForm>,
    pub(crate) license_quota: Option<u32>,
    #[serde(default)]
    pub(crate) v1: V1Section,
    #[serde(default)]
    pub(crate) v2: V2Section,
    pub(crate) catalog: Option<CatalogSection>,
    #[serde(default)]
    pub(crate) retry: BTreeMap<RetryActivity, RetrySection>,
    #[serde(default)]
    pub(crate) snapshots: SnapshotsSection,
}

/// `[snapshots]`: how transcripts are kept.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct SnapshotsSection {
    /// Answer fields whose values change from run to run (`appInfo.userName`).
    #[serde(default, deserialize_with = "redactions")]
    pub(crate) redact: Redactions,
}

/// A list of answer-field paths, each checked as it is read.
fn redactions<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Redactions, D::Error> {
    let paths = Vec::<String>::deserialize(deserializer)?;
    Redactions::parse(paths.iter().map(String::as_str)).map_err(serde::de::Error::custom)
}

/// `[v1]`: readings of the V1 documentation where it is ambiguous.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct V1Section {
    pub(crate) order_id_on_expire_release: Option<bool>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) extend_params_encoding: Option<Encoding>,
}

/// `[v2]`: readings of the V2 documentation where it is ambiguous.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct V2Section {
    pub(crate) expire_time_millis: Option<bool>,
    pub(crate) poll_after_create: Option<bool>,
    #[serde(default, deserialize_with = "parsed")]
    pub(crate) kit_sign_case: Option<SignCase>,
}

/// `[catalog]`: the product's ids.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct CatalogSection {
    pub(crate) product_id: Option<String>,
    pub(crate) sku_code: Option<String>,
    pub(crate) upgrade_product_id: Option<String>,
    pub(crate) upgrade_sku_code: Option<String>,
    pub(crate) package_product_id: Option<String>,
}

/// `[retry.<activity>]`: a retry policy replacing the documented one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RetrySection {
    #[serde(deserialize_with = "required_span")]
    pub(crate) cadence: Span,
    #[serde(deserialize_with = "required_span")]
    pub(crate) window: Span,
}

fn required_span<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Span, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!("`{text}` is not a duration such as 1h or 2m"))
    })
}
