//! The product profile: what the merchant's product is, so the marketplace sends what
//! KooGallery would send it and the suite picks the scenarios that apply.
//!
//! Resolved in two stages, as the flags of a good CLI are: the TOML file (`--profile`,
//! [`file`]) with every value typed as it is read, then the flags that override it
//! (`--protocol`, `--billing`, `--encrypt-type`, `--interface`, `--timeout`). Once loaded, a
//! profile always yields marketplace [`Settings`]. The access key never lives in a profile: it
//! comes from `KGSIM_ACCESS_KEY`.

mod file;
pub(crate) mod redactions;

use crate::marketplace::Span;
use crate::marketplace::kind::{Interfaces, ProductKind, ProductType};
use crate::marketplace::retry::{Exhaustion, Purpose, RetryPolicy};
use crate::marketplace::settings::{Catalog, Settings};
use crate::protocol::open_api::OpenApiUse;
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::v2::client_secret::OaepDigest;
use crate::protocol::{AccessKey, Activity, BillingMode, Protocol};
use crate::scenario::format::diagnostics::{FileProblems, Problem, SourceFile};
use crate::scenario::format::model::Scenario;
use file::ProfileFile;
use redactions::Redactions;

/// A resolved product profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// V1 or V2.
    pub(crate) protocol: Protocol,
    /// Billing mode of the product.
    pub(crate) billing: BillingMode,
    /// encryptType the merchant declares (V1).
    pub(crate) encrypt_type: EncryptType,
    /// Whether newInstance carries encrypted mobilePhone/email (V1).
    pub(crate) encrypt_contacts: bool,
    /// The optional interfaces the product declares (its kind's required ones are implied).
    pub(crate) interfaces: Vec<Activity>,
    /// Per-call timeout.
    pub(crate) timeout: Span,
    /// The open APIs the product's systems call; `None`: the kind's defaults (see
    /// [`Profile::open_apis`]).
    pub(crate) open_apis: Option<Vec<OpenApiUse>>,
    /// SaaS, License 2.0 code or online License.
    pub(crate) product: ProductType,
    /// Joint operation (联营): the Kit, keys and login (spec V2 §3).
    pub(crate) kit: KitProfile,
    /// The order-notification address: `Some("")` for the production address's origin.
    pub(crate) order_notify: Option<String>,
    /// The rest of the file: platform readings, catalog, retry overrides.
    file: ProfileFile,
}

/// The joint-operation part of a profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KitProfile {
    /// Whether the product receives the Kit syncs.
    pub(crate) enabled: bool,
    /// The PEM file of the merchant's RSA public key (the embedded merchant brings its own).
    pub(crate) public_key: Option<String>,
    /// The OAEP digest pair `clientSecret` is encrypted with.
    pub(crate) digest: OaepDigest,
    /// The merchant's login callback (OAuth 2.0 `redirect_uri`, CAS `service`).
    pub(crate) login_url: Option<String>,
}

impl Default for Profile {
    /// V1, period billing, encryptType 1, encrypted contacts, the kind's required interfaces
    /// and no optional one, the 20 s console timeout.
    fn default() -> Self {
        Self {
            protocol: Protocol::V1,
            billing: BillingMode::Period,
            encrypt_type: EncryptType::Aes256,
            encrypt_contacts: true,
            interfaces: Vec::new(),
            timeout: Span::seconds(20),
            open_apis: None,
            product: ProductType::Saas,
            kit: KitProfile::default(),
            order_notify: None,
            file: ProfileFile::default(),
        }
    }
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
    pub interfaces: Option<Vec<Activity>>,
    /// `--timeout`.
    pub timeout: Option<Span>,
    /// `--open-api` (repeatable); replaces the file's list when given.
    pub open_apis: Option<Vec<OpenApiUse>>,
    /// `--product`.
    pub product: Option<ProductType>,
    /// `--kit`.
    pub kit: Option<bool>,
    /// `--kit-public-key`.
    pub kit_public_key: Option<String>,
    /// `--kit-oaep-digest`.
    pub kit_oaep_digest: Option<OaepDigest>,
    /// `--login-url`.
    pub login_url: Option<String>,
    /// `--order-notify [URL]`: `Some("")` for the production address's origin.
    pub order_notify: Option<String>,
}

impl Profile {
    /// Parses a profile file and applies the overrides.
    pub fn load(name: &str, text: &str, overrides: &Overrides) -> Result<Self, FileProblems> {
        let file: ProfileFile = toml::from_str(text).map_err(|error| {
            let source = SourceFile::new(name, text);
            let span = error.span().unwrap_or(0..0);
            let length = span.len().max(1).min(text.len().saturating_sub(span.start));
            let span = miette::SourceSpan::new(span.start.into(), length);
            let problem = Problem::new(
                &source,
                span,
                format!("invalid profile: {}", error.message().trim()),
                "here",
            )
            .with_help(
                "see the profile format in the README (protocol, billing, encrypt-type, interfaces, …)",
            );
            FileProblems {
                file: name.to_owned(),
                problems: vec![problem],
                omitted: 0,
            }
        })?;
        let mut profile = Self::from_file(file);
        profile.apply(overrides);
        Ok(profile)
    }

    fn from_file(file: ProfileFile) -> Self {
        let defaults = Self::default();
        Self {
            protocol: file.protocol.unwrap_or(defaults.protocol),
            billing: file.billing.unwrap_or(defaults.billing),
            encrypt_type: file.encrypt_type.unwrap_or(defaults.encrypt_type),
            encrypt_contacts: file.encrypt_contacts.unwrap_or(defaults.encrypt_contacts),
            interfaces: file.interfaces.clone().unwrap_or(defaults.interfaces),
            timeout: file.timeout.unwrap_or(defaults.timeout),
            open_apis: file.open_apis.clone(),
            product: file.product.unwrap_or(defaults.product),
            kit: KitProfile {
                enabled: file.kit.unwrap_or(false),
                public_key: file.kit_public_key.clone(),
                digest: file.kit_oaep_digest.unwrap_or_default(),
                login_url: file.login_url.clone(),
            },
            order_notify: file.order_notify.clone(),
            file,
        }
    }

    /// The default profile with overrides applied.
    pub fn with_overrides(overrides: &Overrides) -> Self {
        let mut profile = Self::default();
        profile.apply(overrides);
        profile
    }

    fn apply(&mut self, overrides: &Overrides) {
        self.protocol = overrides.protocol.unwrap_or(self.protocol);
        self.billing = overrides.billing.unwrap_or(self.billing);
        self.encrypt_type = overrides.encrypt_type.unwrap_or(self.encrypt_type);
        if let Some(interfaces) = &overrides.interfaces {
            self.interfaces.clone_from(interfaces);
        }
        self.timeout = overrides.timeout.unwrap_or(self.timeout);
        if let Some(open_apis) = &overrides.open_apis {
            self.open_apis = Some(open_apis.clone());
        }
        self.product = overrides.product.unwrap_or(self.product);
        self.kit.enabled = overrides.kit.unwrap_or(self.kit.enabled);
        if let Some(key) = &overrides.kit_public_key {
            self.kit.public_key = Some(key.clone());
        }
        self.kit.digest = overrides.kit_oaep_digest.unwrap_or(self.kit.digest);
        if let Some(url) = &overrides.login_url {
            self.kit.login_url = Some(url.clone());
        }
        if let Some(url) = &overrides.order_notify {
            self.order_notify = Some(url.clone());
        }
    }

    /// The open APIs the product's systems call: as declared, or by default query-order for
    /// V2 products (newInstance carries no order details, spec V2 §2.1) and usage push for
    /// on-demand ones (spec §7.1).
    pub(crate) fn open_apis(&self) -> Vec<OpenApiUse> {
        self.open_apis.clone().unwrap_or_else(|| {
            let mut uses = Vec::new();
            // Every V2 purchase, and every notified order, is followed by query-order.
            if (self.protocol == Protocol::V2 && self.product.has_new_instance())
                || self.order_notify.is_some()
            {
                uses.push(OpenApiUse::QueryOrder);
            }
            if self.billing == BillingMode::OnDemand {
                uses.push(OpenApiUse::UsagePush);
            }
            // License products' software activates codes, or uploads Licenses (§4.3, §4.6).
            if self.product != ProductType::Saas {
                uses.push(OpenApiUse::License);
            }
            uses
        })
    }

    /// The kind of product.
    pub(crate) fn kind(&self) -> ProductKind {
        ProductKind {
            protocol: self.protocol,
            billing: self.billing,
            product: self.product,
        }
    }

    /// Why the profile describes no product KooGallery sells, if it does not.
    pub(crate) fn invalid(&self) -> Option<String> {
        if self.kit.enabled && self.protocol != Protocol::V2 {
            return Some(
                "the Kit syncs are simulated in their V2 form (spec V2 §3; V1 Kit, §3.7, is not): add `--protocol v2`"
                    .to_owned(),
            );
        }
        self.kind().invalid()
    }

    /// The interfaces the product implements: its kind's required ones, the optional ones it
    /// declares, the Kit syncs when it is a 联营 product, orderNotify when it has an address.
    pub(crate) fn implemented(&self) -> Interfaces {
        Interfaces::new(self.kind(), &self.interfaces)
            .with_kit(self.kit.enabled)
            .with_order_notify(self.order_notify.is_some())
    }

    /// Whether a scenario applies to this product, and if not, why.
    pub(crate) fn skip_reason(&self, scenario: &Scenario) -> Option<String> {
        let applies = &scenario.applies;
        let for_product = if applies.products.is_empty() {
            self.product.has_new_instance()
        } else {
            applies.products.contains(&self.product)
        };
        if !for_product {
            return Some(format!("not for {} products", self.product));
        }
        if !applies.protocols.is_empty() && !applies.protocols.contains(&self.protocol) {
            return Some(format!("not for {}", self.protocol));
        }
        if !applies.billing.is_empty() && !applies.billing.contains(&self.billing) {
            return Some(format!("not for {} billing", self.billing));
        }
        // Written for kgsim's catalogue, one License per online-License order
        // [I:online-license-quota].
        let quota = self.file.license_quota.unwrap_or(1);
        if scenario.tags.iter().any(|t| t == "license-quota") && quota != 1 {
            return Some(format!(
                "written for one License per order; the profile's license-quota is {quota}"
            ));
        }
        let interfaces = self.implemented();
        if let Some(missing) = applies.requires.iter().find_map(|a| interfaces.missing(*a)) {
            return Some(missing);
        }
        let uses = self.open_apis();
        applies.calls.iter().find(|c| !uses.contains(c)).map(|call| {
            let name = call.slug();
            format!(
                "the product does not call {name}; enable it with `--open-api {name}` or `open-apis = [\"{name}\"]`"
            )
        })
    }

    /// The activities the console's debug page offers for this product (`debug: {activities:
    /// all}`): every interface it implements but the Kit syncs, which have a tab of their own.
    pub(crate) fn debug_activities(&self) -> Vec<Activity> {
        let mut activities = self.implemented().implemented();
        activities.retain(|a| !a.is_kit());
        activities
    }

    /// The marketplace settings for this product and key.
    pub fn settings(&self, key: AccessKey) -> Settings {
        let mut settings = Settings::new(self.protocol, key);
        settings.billing = self.billing;
        settings.product = self.product;
        settings.retries =
            crate::marketplace::retry::RetryTable::for_product(self.protocol, self.product);
        if self.product == ProductType::LicenseCode {
            // A code is frozen "when expired beyond the grace period" (spec V2 §4.2).
            settings.freeze_start = crate::marketplace::settings::FreezeStart::AfterGrace;
        }
        settings.order_notify = self.order_notify.is_some();
        settings.encrypt_type = self.encrypt_type;
        settings.encrypt_contacts = self.encrypt_contacts;
        settings.timeout = self.timeout;
        self.apply_readings(&mut settings);
        if let Some(catalog) = &self.file.catalog {
            let defaults = Catalog::default();
            settings.catalog = Catalog {
                product_id: catalog.product_id.clone().unwrap_or(defaults.product_id),
                sku_code: catalog.sku_code.clone().unwrap_or(defaults.sku_code),
                upgrade_product_id: (catalog.upgrade_product_id.clone())
                    .unwrap_or(defaults.upgrade_product_id),
                upgrade_sku_code: (catalog.upgrade_sku_code.clone())
                    .unwrap_or(defaults.upgrade_sku_code),
                extra_on_demand_products: defaults.extra_on_demand_products,
                package_product_id: (catalog.package_product_id.clone())
                    .unwrap_or(defaults.package_product_id),
            };
        }
        for (activity, retry) in &self.file.retry {
            let purpose = Purpose::Notify(activity.0);
            let previous = settings.retries.policy(purpose);
            let on_exhausted = if previous == RetryPolicy::ONCE {
                Exhaustion::Stop
            } else {
                previous.on_exhausted
            };
            let policy = RetryPolicy {
                cadence: retry.cadence,
                window: retry.window,
                on_exhausted,
            };
            settings.retries.set(purpose, policy);
        }
        settings
    }

    /// The answer fields `[snapshots] redact` names as volatile.
    pub(crate) fn redactions(&self) -> &Redactions {
        &self.file.snapshots.redact
    }

    /// The file's platform readings, where it sets them.
    fn apply_readings(&self, settings: &mut Settings) {
        let file = &self.file;
        if let Some(level) = file.customer_level {
            settings.customer_level = level;
        }
        if let Some(start) = file.freeze_start {
            settings.freeze_start = start;
        }
        if let Some(trial) = file.trial_period {
            settings.trial_period = trial;
        }
        if let Some(params) = &file.extend_params {
            settings.extend_params.clone_from(params);
        }
        if let Some(flag) = file.v1.order_id_on_expire_release {
            settings.v1_order_id_on_expire_release = flag;
        }
        if let Some(encoding) = file.v1.extend_params_encoding {
            settings.extend_params_encoding = encoding;
        }
        if let Some(flag) = file.v2.expire_time_millis {
            settings.v2_expire_time_millis = flag;
        }
        if let Some(flag) = file.v2.poll_after_create {
            settings.v2_poll_after_create = flag;
        }
        if let Some(form) = file.wire_bodies {
            settings.wire.bodies = form;
        }
        if let Some(case) = file.v2.kit_sign_case {
            settings.wire.kit_sign_case = case;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplace::settings::CustomerLevel;

    #[test]
    fn defaults_are_v1_period_aes256_with_the_required_interfaces() {
        let profile = Profile::default();
        assert_eq!(
            (profile.protocol, profile.billing, profile.encrypt_type),
            (Protocol::V1, BillingMode::Period, EncryptType::Aes256)
        );
        assert!(
            profile.interfaces.is_empty(),
            "the kind's required set only"
        );
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
        assert_eq!(profile.interfaces, vec![Activity::QueryInstance]);
        let settings = profile.settings(AccessKey::new("k"));
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
        assert_eq!(error.problems[0].location(), (1, 18), "at the value");
        assert!(error.problems[0].message().contains("`V9` is not V0…V5"));
        let error = Profile::load(
            "p.toml",
            "interfaces = [\"upgrad\"]\n",
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(
            error.problems[0]
                .message()
                .contains("interface `upgrad` is not one of new-instance")
        );
    }
}
