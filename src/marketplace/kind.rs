//! What KooGallery calls on each kind of product: one table of interfaces per protocol and
//! billing mode, required and optional, cited to the spec. It decides which debug cases the
//! console sends, which scenarios apply, and what a profile declares by default — so that a
//! merchant that implements exactly what its kind needs is never asked for anything else.
//!
//! | protocol | billing | required | optional | source |
//! |---|---|---|---|---|
//! | V1 | period | newInstance, refreshInstance, expireInstance, releaseInstance | upgrade, queryInstance, instanceStatus | V1 §1 table; §4.7 (query optional); §4.6 CN page (period freeze for violations; optional) [I:v1-period-instance-status] |
//! | V1 | one-time | newInstance, releaseInstance | queryInstance | V1 §1 table; §4.7 |
//! | V1 | on-demand | newInstance, queryInstance, instanceStatus, releaseInstance | — | V1 §1 table; V2 §7.1 (V1.0 rows) |
//! | V1 | package | newInstance, queryInstance, instanceStatus, releaseInstance | — | V1 §1 table; V2 §7.1 (V1.0 rows) |
//! | V2 | one-time | newInstance, queryInstance, releaseInstance | — | V2 §2.9 matrix (the two "x" of 更新实例/更新实例状态 read as one-time) |
//! | V2 | period | newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance | upgradeInstance, changeInstanceCheck | V2 §2.9 |
//! | V2 | on-demand | newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance | — | V2 §2.9, §7.1 (updateInstanceStatus) [I:v2-on-demand-status] |
//! | V2 | package | newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance | — | V2 §2.9, §7.1 (updateInstanceStatus) [I:v2-on-demand-status] |
//!
//! Where the matrix lost its ✓ marks (V2 §9 item 9) the reading that makes the lifecycles
//! possible is taken: on-demand freezes need a status interface.
//!
//! License products are V2-shaped and sold by period or once:
//!
//! | product | billing | required | source |
//! |---|---|---|---|
//! | License 2.0 code | period | refreshLicenseCode, updateLicenseCodeStatus, releaseLicenseCode | §4.2 (optional as a whole: a code product without a production address gets none) |
//! | License 2.0 code | one-time | releaseLicenseCode | §4.2 |
//! | online License | period | newInstance, refreshInstance, updateInstanceStatus, releaseInstance, getLicenseAsync | §4.5 |
//! | online License | one-time | newInstance, releaseInstance, getLicenseAsync | §4.5 |
//!
//! On top of its kind, a 联营 SaaS product receives the five Kit syncs (`--kit`, §3) and any
//! product with an order-notification address receives orderNotify (§5).

use crate::protocol::{Activity, BillingMode, Protocol};

use Activity::{
    ChangeInstanceCheck, ExpireInstance, GetLicenseAsync, InstanceStatus, NewInstance,
    QueryInstance, RefreshInstance, RefreshLicenseCode, ReleaseInstance, ReleaseLicenseCode,
    UpdateLicenseCodeStatus, Upgrade,
};

/// What is sold: a SaaS subscription or a License.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ProductType {
    /// A SaaS product: the basic interfaces (V1 §4, V2 §2).
    #[default]
    Saas,
    /// A License 2.0 code product: the marketplace issues the codes, the merchant hears of
    /// renewals, freezes and releases (V2 §4.1–4.2).
    LicenseCode,
    /// An online-License product: V2 instances and getLicenseAsync (V2 §4.5).
    OnlineLicense,
}

impl ProductType {
    /// Whether a purchase goes through newInstance (everything but License codes, which the
    /// marketplace issues itself).
    pub(crate) fn has_new_instance(self) -> bool {
        self != Self::LicenseCode
    }
}

crate::slug_impls!(pub ProductType, "product", {
    Saas = "saas",
    LicenseCode = "license-code",
    OnlineLicense = "online-license",
});

/// A kind of product: its protocol, billing mode and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductKind {
    /// V1 or V2.
    pub protocol: Protocol,
    /// How it is billed.
    pub billing: BillingMode,
    /// What is sold.
    pub product: ProductType,
}

impl ProductKind {
    /// A SaaS product.
    pub(crate) fn saas(protocol: Protocol, billing: BillingMode) -> Self {
        Self {
            protocol,
            billing,
            product: ProductType::Saas,
        }
    }

    /// Every SaaS kind: both protocols × four billing modes.
    pub fn all() -> impl Iterator<Item = ProductKind> {
        Protocol::ALL.iter().copied().flat_map(|protocol| {
            BillingMode::ALL
                .iter()
                .copied()
                .map(move |billing| ProductKind::saas(protocol, billing))
        })
    }

    /// Why the combination does not exist, if it does not: License products are V2-shaped
    /// and sold by period or once.
    pub(crate) fn invalid(self) -> Option<String> {
        if self.product == ProductType::Saas {
            return None;
        }
        if self.protocol != Protocol::V2 {
            return Some(format!(
                "{} products use the V2 interfaces (spec §4.2, §4.5): add `--protocol v2`",
                self.product
            ));
        }
        (!matches!(self.billing, BillingMode::Period | BillingMode::OneTime)).then(|| {
            format!(
                "{} products are sold by period or once, not {} (spec §4)",
                self.product, self.billing
            )
        })
    }

    /// The interfaces every product of this kind must implement and debug.
    pub fn required(self) -> &'static [Activity] {
        match (self.product, self.billing) {
            (ProductType::LicenseCode, BillingMode::Period) => &[
                RefreshLicenseCode,
                UpdateLicenseCodeStatus,
                ReleaseLicenseCode,
            ],
            (ProductType::LicenseCode, _) => &[ReleaseLicenseCode],
            (ProductType::OnlineLicense, BillingMode::Period) => &[
                NewInstance,
                RefreshInstance,
                InstanceStatus,
                ReleaseInstance,
                GetLicenseAsync,
            ],
            (ProductType::OnlineLicense, _) => &[NewInstance, ReleaseInstance, GetLicenseAsync],
            (ProductType::Saas, _) => self.saas_required(),
        }
    }

    fn saas_required(self) -> &'static [Activity] {
        match (self.protocol, self.billing) {
            (Protocol::V1, BillingMode::Period) => &[
                NewInstance,
                RefreshInstance,
                ExpireInstance,
                ReleaseInstance,
            ],
            (Protocol::V1, BillingMode::OneTime) => &[NewInstance, ReleaseInstance],
            (Protocol::V1, BillingMode::OnDemand | BillingMode::Package) => {
                &[NewInstance, QueryInstance, InstanceStatus, ReleaseInstance]
            }
            (Protocol::V2, BillingMode::OneTime) => &[NewInstance, QueryInstance, ReleaseInstance],
            (Protocol::V2, _) => &[
                NewInstance,
                QueryInstance,
                RefreshInstance,
                InstanceStatus,
                ReleaseInstance,
            ],
        }
    }

    /// The interfaces a product of this kind may implement, declared in its profile.
    pub fn optional(self) -> &'static [Activity] {
        if self.product != ProductType::Saas {
            return &[];
        }
        match (self.protocol, self.billing) {
            (Protocol::V1, BillingMode::Period) => &[Upgrade, QueryInstance, InstanceStatus],
            (Protocol::V1, BillingMode::OneTime) => &[QueryInstance],
            (Protocol::V2, BillingMode::Period) => &[Upgrade, ChangeInstanceCheck],
            _ => &[],
        }
    }

    /// Whether the kind has this interface at all (required or optional).
    pub(crate) fn offers(self, activity: Activity) -> bool {
        self.required().contains(&activity) || self.optional().contains(&activity)
    }

    /// Where the spec says so, for messages.
    pub(crate) fn source(self) -> &'static str {
        match (self.product, self.protocol) {
            (ProductType::LicenseCode, _) => "spec V2 §4.2",
            (ProductType::OnlineLicense, _) => "spec V2 §4.5",
            (_, Protocol::V1) => "spec V1 §1 \"Which scenarios a product must implement\"",
            (_, Protocol::V2) => "spec V2 §2.9 and §7.1",
        }
    }

    /// `v1 period`, `v2 on-demand`, `v2 license-code period`.
    pub(crate) fn name(self) -> String {
        match self.product {
            ProductType::Saas => format!("{} {}", self.protocol, self.billing),
            product => format!("{} {product} {}", self.protocol, self.billing),
        }
    }
}

/// The interfaces a product implements: its kind's required ones and the optional ones it
/// declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interfaces {
    kind: ProductKind,
    declared: Vec<Activity>,
    /// 联营 SaaS: the Kit syncs (V2 §3).
    kit: bool,
    /// An order-notification address (V2 §5).
    order_notify: bool,
}

impl Interfaces {
    /// A product of `kind` declaring the optional interfaces `declared` (others are ignored:
    /// see [`Self::undeclarable`]).
    pub(crate) fn new(kind: ProductKind, declared: &[Activity]) -> Self {
        let declared = declared
            .iter()
            .copied()
            .filter(|a| kind.optional().contains(a))
            .collect();
        Self {
            kind,
            declared,
            kit: false,
            order_notify: false,
        }
    }

    /// The same product, receiving the Kit syncs or not.
    pub(crate) fn with_kit(mut self, kit: bool) -> Self {
        self.kit = kit;
        self
    }

    /// The same product, with an order-notification address or not.
    pub(crate) fn with_order_notify(mut self, order_notify: bool) -> Self {
        self.order_notify = order_notify;
        self
    }

    /// Whether the product implements an interface.
    pub(crate) fn implements(&self, activity: Activity) -> bool {
        if activity.is_kit() {
            return self.kit;
        }
        if activity == Activity::OrderNotify {
            return self.order_notify;
        }
        self.kind.required().contains(&activity) || self.declared.contains(&activity)
    }

    /// Every implemented interface, in the spec's chapter order.
    pub(crate) fn implemented(&self) -> Vec<Activity> {
        Activity::ALL
            .iter()
            .copied()
            .filter(|a| self.implements(*a))
            .collect()
    }

    /// The declared optional interfaces.
    pub(crate) fn declared(&self) -> &[Activity] {
        &self.declared
    }

    /// Of `names`, those the kind has no interface for at all (so declaring them changes
    /// nothing); declaring a required one is harmless and not listed.
    pub(crate) fn undeclarable(kind: ProductKind, names: &[Activity]) -> Vec<Activity> {
        names.iter().copied().filter(|a| !kind.offers(*a)).collect()
    }

    /// A note for each declared interface the kind does not have, for the run's header.
    pub(crate) fn ignored_notes(kind: ProductKind, names: &[Activity]) -> Vec<String> {
        Self::undeclarable(kind, names)
            .into_iter()
            .map(|a| {
                format!(
                    "note: `{}` is declared, but {} products have no such interface ({}); it is ignored",
                    a.slug(),
                    kind.name(),
                    kind.source()
                )
            })
            .collect()
    }

    /// Why a scenario needing `activity` does not run for this product, with the
    /// declaration that would enable it when there is one.
    pub(crate) fn missing(&self, activity: Activity) -> Option<String> {
        if self.implements(activity) {
            return None;
        }
        let name = activity.slug();
        if activity.is_kit() {
            return Some(format!(
                "the product receives no Kit syncs ({name}); a 联营 SaaS product enables them with `--kit` or `kit = true`"
            ));
        }
        if activity == Activity::OrderNotify {
            return Some(
                "the product has no order-notification address; set one with `--order-notify` or `order-notify = \"URL\"`"
                    .to_owned(),
            );
        }
        Some(if self.kind.optional().contains(&activity) {
            format!(
                "the product does not declare {name}; enable it with `--interface {name}` or \
                 `interfaces = [\"{name}\"]`"
            )
        } else {
            format!(
                "{} products have no {name} interface ({})",
                self.kind.name(),
                self.kind.source()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_purchase_and_release_and_nothing_its_protocol_lacks() {
        for kind in ProductKind::all() {
            assert!(kind.required().contains(&NewInstance), "{kind:?}");
            assert!(kind.required().contains(&ReleaseInstance), "{kind:?}");
            for activity in kind.required().iter().chain(kind.optional()) {
                assert!(
                    activity.wire_name(kind.protocol).is_some(),
                    "{kind:?}: {activity:?}"
                );
                assert!(
                    !(kind.required().contains(activity) && kind.optional().contains(activity)),
                    "{kind:?}: {activity:?} both required and optional"
                );
            }
        }
    }

    #[test]
    fn the_documented_sets() {
        let v1 = |billing| ProductKind {
            protocol: Protocol::V1,
            billing,
            product: ProductType::Saas,
        };
        assert_eq!(
            v1(BillingMode::OneTime).required(),
            &[NewInstance, ReleaseInstance]
        );
        assert!(!v1(BillingMode::Period).required().contains(&QueryInstance));
        assert!(!v1(BillingMode::Package).offers(RefreshInstance));
        assert!(
            v1(BillingMode::OnDemand)
                .required()
                .contains(&InstanceStatus)
        );
        let v2_period = ProductKind {
            protocol: Protocol::V2,
            billing: BillingMode::Period,
            product: ProductType::Saas,
        };
        assert!(v2_period.required().contains(&InstanceStatus));
        assert!(v2_period.optional().contains(&Upgrade));
    }

    #[test]
    fn optional_interfaces_count_only_when_declared_and_offered() {
        let kind = ProductKind {
            protocol: Protocol::V1,
            billing: BillingMode::Period,
            product: ProductType::Saas,
        };
        let plain = Interfaces::new(kind, &[]);
        assert!(!plain.implements(Upgrade));
        assert!(
            plain
                .missing(Upgrade)
                .unwrap()
                .contains("--interface upgrade")
        );
        let declared = Interfaces::new(kind, &[Upgrade, ChangeInstanceCheck]);
        assert!(declared.implements(Upgrade));
        assert!(!declared.implements(ChangeInstanceCheck), "V1 has none");
        assert_eq!(
            Interfaces::undeclarable(kind, &[Upgrade, ChangeInstanceCheck]),
            vec![ChangeInstanceCheck]
        );
        let one_time = Interfaces::new(
            ProductKind {
                protocol: Protocol::V1,
                billing: BillingMode::OneTime,
                product: ProductType::Saas,
            },
            &[],
        );
        assert!(
            one_time
                .missing(RefreshInstance)
                .unwrap()
                .starts_with("v1 one-time products have no refresh-instance interface")
        );
    }
}
