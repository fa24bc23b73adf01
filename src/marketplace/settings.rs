//! What a simulated marketplace needs to know about the product and the platform: protocol,
//! access key, expected encryption, grace and retention periods, retry table, timeouts, and
//! the settings that choose between readings of the documentation where it is ambiguous.

use crate::marketplace::classify::Context;
use crate::marketplace::clock::Span;
use crate::marketplace::kind::ProductType;
use crate::marketplace::retry::RetryTable;
use crate::protocol::fields::Rules;
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::v1::extend_params::{Encoding, ExtendParam};
use crate::protocol::v2::client_secret::{MerchantPublicKey, OaepDigest};
use crate::protocol::{AccessKey, Activity, BillingMode, InterfaceType, Protocol};

/// Huawei Cloud customer level, which sets the grace and retention periods after expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) enum CustomerLevel {
    /// V0.
    V0,
    /// V1.
    V1,
    /// V2.
    V2,
    /// V3.
    V3,
    /// V4.
    V4,
    /// V5: the longest periods, and the "15 days" the KooGallery pages speak of (the default).
    #[default]
    V5,
}

impl std::str::FromStr for CustomerLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "V0" => Self::V0,
            "V1" => Self::V1,
            "V2" => Self::V2,
            "V3" => Self::V3,
            "V4" => Self::V4,
            "V5" => Self::V5,
            _ => return Err(format!("customer level `{s}` is not V0…V5")),
        })
    }
}

/// Days after expiry before the resource is frozen (grace) and then deleted (retention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GraceRetention {
    /// Grace period.
    pub(crate) grace: Span,
    /// Retention (freeze) period.
    pub(crate) retention: Span,
}

impl CustomerLevel {
    /// The documented grace/retention days (spec: koogallery-saas-v1.md §9, Huawei Cloud's
    /// general table "V5 7 15 7 15 | V4 | V3 7 7 1 7 | V2 1 7 0 7 | V1 | V0 1 1 0 1").
    ///
    /// V4 and V1 are merged cells in the source; a merged cell's values sit in its first row,
    /// so V4 reads as V5 and V1 as V2 [I:grace-merged-cells].
    pub(crate) fn periods(self, billing: BillingMode) -> GraceRetention {
        let (grace, retention) = match (self, billing.is_on_demand_family()) {
            (Self::V5 | Self::V4, _) => (7, 15),
            (Self::V3, false) => (7, 7),
            (Self::V3, true) => (1, 7),
            (Self::V2 | Self::V1, false) => (1, 7),
            (Self::V2 | Self::V1, true) => (0, 7),
            (Self::V0, false) => (1, 1),
            (Self::V0, true) => (0, 1),
        };
        GraceRetention {
            grace: Span::days(grace),
            retention: Span::days(retention),
        }
    }
}

/// When the freeze notice goes out relative to the grace period — undocumented for
/// KooGallery (spec V1 §9, §11 q6), so a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum FreezeStart {
    /// At expiry; release after the retention period ("a freeze period of up to 15 days after
    /// expiry", the KooGallery wording). The default.
    #[default]
    AtExpiry,
    /// At the end of the grace period; release after grace + retention (Huawei Cloud's
    /// general resource rules).
    AfterGrace,
}

impl std::str::FromStr for FreezeStart {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "at-expiry" => Ok(Self::AtExpiry),
            "after-grace" => Ok(Self::AfterGrace),
            _ => Err(format!(
                "freeze-start `{s}` is not at-expiry or after-grace"
            )),
        }
    }
}

/// How request bodies go out (spec V2 §1.3–1.4; fidelity audit §1): as production sends
/// them — top-level keys in another order, a space after each `:` — or in the canonical form
/// the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyForm {
    /// As the published examples arrive (the default).
    #[default]
    Production,
    /// Keys sorted, compact: the bytes the signature covers.
    Canonical,
}

crate::slug_impls!(pub BodyForm, "wire-bodies", {
    Production = "production",
    Canonical = "canonical",
});

/// The hex case of the Kit's `x-sign`: every published Kit example is uppercase [I:kit-sign-case].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignCase {
    /// As the examples show (the default).
    #[default]
    Upper,
    /// For merchants that must also take lowercase.
    Lower,
}

crate::slug_impls!(pub SignCase, "kit-sign-case", { Upper = "upper", Lower = "lower" });

/// What requests look like on the wire beyond their content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireSettings {
    /// The body form.
    pub bodies: BodyForm,
    /// The Kit `x-sign` case.
    pub kit_sign_case: SignCase,
    /// A seed that depends on what is being run (a scenario, a console product, a walk) and
    /// never on a run's random ids: the key orders and the production-like names a run sends
    /// are drawn from it, so transcripts of two runs agree.
    pub stable_seed: u64,
}

/// The product's ids as the marketplace sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Catalog {
    /// The productId of a purchase (one per period type in reality).
    pub(crate) product_id: String,
    /// The spec code.
    pub(crate) sku_code: String,
    /// The productId and skuCode an upgrade moves to.
    pub(crate) upgrade_product_id: String,
    /// The upgraded spec code.
    pub(crate) upgrade_sku_code: String,
    /// Extra productIds of an on-demand order with several billing items.
    pub(crate) extra_on_demand_products: Vec<String>,
    /// The productId of a package (按需套餐包).
    pub(crate) package_product_id: String,
}

impl Default for Catalog {
    fn default() -> Self {
        Self {
            product_id: "00301-100001-0--0".into(),
            sku_code: "sku-standard".into(),
            upgrade_product_id: "00301-100002-0--0".into(),
            upgrade_sku_code: "sku-professional".into(),
            extra_on_demand_products: vec!["00301-100003-0--0".into()],
            package_product_id: "00301-100005-0--0".into(),
        }
    }
}

/// The keys bound to the interface types beyond the basic one (spec V2 §1.2: each type gets
/// a key of its own); each falls back to the access key.
#[derive(Debug, Clone, Default)]
pub struct InterfaceKeys {
    /// 联营SaaS同步接口 (`KGSIM_KIT_KEY`).
    pub kit: Option<AccessKey>,
    /// License授权码交付接口 (`KGSIM_LICENSE_KEY`).
    pub license_code: Option<AccessKey>,
    /// 通用接口, the order notification (`KGSIM_NOTIFY_KEY`).
    pub notify: Option<AccessKey>,
}

/// What the Kit syncs need (spec V2 §3): the merchant's RSA public key for `clientSecret`,
/// the OAEP reading, and the identity-centre domain announced in tenantSync.
#[derive(Debug, Clone)]
pub(crate) struct KitSettings {
    /// The key uploaded with the app credential (≥ 3072 bits).
    pub(crate) public_key: MerchantPublicKey,
    /// The OAEP digest pair (an open question of the spec, §10 q7).
    pub(crate) digest: OaepDigest,
    /// `domainName`: where the merchant's login goes (kgsim's identity centre).
    pub(crate) domain_name: String,
}

/// Everything the engine is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// V1 or V2.
    pub(crate) protocol: Protocol,
    /// The access key (encrypts contact fields, decrypts appInfo, judges Body-Sign).
    pub(crate) access_key: AccessKey,
    /// The billing mode purchases use unless a scenario says otherwise.
    pub(crate) billing: BillingMode,
    /// The encryptType the merchant is expected to declare (V1).
    pub(crate) encrypt_type: EncryptType,
    /// Whether newInstance carries encrypted mobilePhone and email (V1).
    pub(crate) encrypt_contacts: bool,
    /// The product's extension parameters sent with newInstance and upgrade (V1).
    pub(crate) extend_params: Vec<ExtendParam>,
    /// How saasExtendParams is wrapped (the published examples: Base64, encoded once by the
    /// query string).
    pub(crate) extend_params_encoding: Encoding,
    /// Whether expireInstance/releaseInstance carry orderId: the table says mandatory, the
    /// published examples omit it; examples win by default (spec V1 §4.3–4.4).
    pub(crate) v1_order_id_on_expire_release: bool,
    /// Customer level of simulated buyers.
    pub(crate) customer_level: CustomerLevel,
    /// When the freeze notice goes out.
    pub(crate) freeze_start: FreezeStart,
    /// Retry policies.
    pub(crate) retries: RetryTable,
    /// How long the marketplace waits for an answer (20 s on the debug page, V1 §1).
    pub(crate) timeout: Span,
    /// Whether answers are judged with the console's stricter required fields.
    pub(crate) rules: Rules,
    /// V2: whether newInstance is followed by queryInstance polling (V2 §2.2).
    pub(crate) v2_poll_after_create: bool,
    /// Length of a trial (MOCKPERIODDAYTRIAL suggests days; 7 days [I:trial-length]).
    pub(crate) trial_period: crate::protocol::Period,
    /// V2 `expireTime` with milliseconds (17 digits, as the example shows) rather than the
    /// documented 14 (spec V2 §2.3, §9 item 2).
    pub(crate) v2_expire_time_millis: bool,
    /// Product and spec ids.
    pub(crate) catalog: Catalog,
    /// SaaS, License 2.0 code or online License.
    pub(crate) product: ProductType,
    /// The keys of the other interface types.
    pub(crate) keys: InterfaceKeys,
    /// 联营 SaaS: the Kit's settings; `None` when the product has no Kit.
    pub(crate) kit: Option<KitSettings>,
    /// Whether every order is notified to an order-notification address (spec V2 §5).
    pub(crate) order_notify: bool,
    /// Body form, `x-sign` case and the stable seed.
    pub(crate) wire: WireSettings,
}

impl Settings {
    /// The key calls of an interface type are signed with (spec V2 §1.2).
    pub(crate) fn key_for(&self, interface: InterfaceType) -> &AccessKey {
        let bound = match interface {
            InterfaceType::Basic => None,
            InterfaceType::Kit => self.keys.kit.as_ref(),
            InterfaceType::LicenseCode => self.keys.license_code.as_ref(),
            InterfaceType::Notify => self.keys.notify.as_ref(),
        };
        bound.unwrap_or(&self.access_key)
    }

    /// Whether a V2 purchase is followed by queryInstance polling: online-License products
    /// have no queryInstance (spec V2 §4.5).
    pub(crate) fn polls_after_create(&self) -> bool {
        self.protocol == Protocol::V2
            && self.v2_poll_after_create
            && self.product != ProductType::OnlineLicense
    }

    /// What the console judges an answer to `activity` against under these settings.
    pub(crate) fn context(&self, activity: Activity) -> Context<'_> {
        Context {
            protocol: self.protocol,
            activity,
            key: &self.access_key,
            timeout: self.timeout,
            rules: self.rules,
            must_list: &[],
            oaep_digest: self.kit.as_ref().map(|kit| kit.digest),
        }
    }

    /// Defaults for a protocol and key: period billing, encryptType 1, encrypted contacts,
    /// customer level V5, freeze at expiry, 20 s timeout, the documented retry table.
    pub fn new(protocol: Protocol, access_key: AccessKey) -> Self {
        Self {
            protocol,
            access_key,
            billing: BillingMode::Period,
            encrypt_type: EncryptType::Aes256,
            encrypt_contacts: true,
            // The published example's parameter, and two the buyer types in (empty: kgsim
            // draws production-like free text for each order).
            extend_params: ["emailDomainName", "companyAddress", "remark"]
                .into_iter()
                .map(|name| ExtendParam {
                    name: name.into(),
                    value: if name == "emailDomainName" {
                        "buyer.example.com".into()
                    } else {
                        String::new()
                    },
                })
                .collect(),
            extend_params_encoding: Encoding::Base64,
            v1_order_id_on_expire_release: false,
            customer_level: CustomerLevel::default(),
            freeze_start: FreezeStart::default(),
            retries: RetryTable::defaults(protocol),
            timeout: Span::seconds(20),
            rules: Rules::Console,
            v2_poll_after_create: true,
            trial_period: crate::protocol::Period {
                unit: crate::protocol::billing::PeriodUnit::Day,
                count: 7,
            },
            v2_expire_time_millis: true,
            catalog: Catalog::default(),
            product: ProductType::Saas,
            keys: InterfaceKeys::default(),
            kit: None,
            order_notify: false,
            wire: WireSettings::default(),
        }
    }

    /// The seed of one attempt's body form: the stable seed, the call and the attempt.
    pub(crate) fn form_seed(&self, call: usize, attempt: u32) -> u64 {
        let mut seed = self.wire.stable_seed ^ 0x5EED_F0E5;
        for part in [call as u64, u64::from(attempt)] {
            seed = (seed ^ part).wrapping_mul(0x0100_0000_01b3).rotate_left(17);
        }
        seed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_grace_and_retention_per_level() {
        let days = |level: CustomerLevel, billing| {
            let p = level.periods(billing);
            (p.grace.0 / 86_400_000, p.retention.0 / 86_400_000)
        };
        assert_eq!(days(CustomerLevel::V5, BillingMode::Period), (7, 15));
        assert_eq!(days(CustomerLevel::V5, BillingMode::OnDemand), (7, 15));
        assert_eq!(days(CustomerLevel::V4, BillingMode::Period), (7, 15));
        assert_eq!(days(CustomerLevel::V3, BillingMode::Period), (7, 7));
        assert_eq!(days(CustomerLevel::V3, BillingMode::Package), (1, 7));
        assert_eq!(days(CustomerLevel::V2, BillingMode::Period), (1, 7));
        assert_eq!(days(CustomerLevel::V1, BillingMode::OnDemand), (0, 7));
        assert_eq!(days(CustomerLevel::V0, BillingMode::Period), (1, 1));
        assert_eq!(days(CustomerLevel::V0, BillingMode::OnDemand), (0, 1));
        // In every reading the maximum is 7 days of grace and 15 of retention.
        assert_eq!(days(CustomerLevel::default(), BillingMode::Period), (7, 15));
    }
}
