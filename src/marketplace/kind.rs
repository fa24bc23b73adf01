//! What KooGallery calls on each kind of product: one table of interfaces per protocol and
//! billing mode, required and optional, cited to the spec. It decides which debug cases the
//! console sends, which scenarios apply, and what a profile declares by default — so that a
//! merchant that implements exactly what its kind needs is never asked for anything else.
//!
//! | protocol | billing | required | optional | source |
//! |---|---|---|---|---|
//! | V1 | period | newInstance, refreshInstance, expireInstance, releaseInstance | upgrade, queryInstance, instanceStatus | V1 §1 table; §4.7 (query optional); §4.6 CN page (period freeze for violations) [I: optional] |
//! | V1 | one-time | newInstance, releaseInstance | queryInstance | V1 §1 table; §4.7 |
//! | V1 | on-demand | newInstance, queryInstance, instanceStatus, releaseInstance | — | V1 §1 table; V2 §7.1 (V1.0 rows) |
//! | V1 | package | newInstance, queryInstance, instanceStatus, releaseInstance | — | V1 §1 table; V2 §7.1 (V1.0 rows) |
//! | V2 | one-time | newInstance, queryInstance, releaseInstance | — | V2 §2.9 matrix (the two "x" of 更新实例/更新实例状态 read as one-time) |
//! | V2 | period | newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance | upgradeInstance, changeInstanceCheck | V2 §2.9 |
//! | V2 | on-demand | newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance | — | V2 §2.9 [I for status], §7.1 |
//! | V2 | package | newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance | — | V2 §2.9 [I for status], §7.1 |
//!
//! Where the matrix lost its ✓ marks (V2 §9 item 9) the reading that makes the lifecycles
//! possible is taken: on-demand freezes need a status interface.

use crate::protocol::{Activity, BillingMode, Protocol};

use Activity::{
    ChangeInstanceCheck, ExpireInstance, InstanceStatus, NewInstance, QueryInstance,
    RefreshInstance, ReleaseInstance, Upgrade,
};

/// A kind of product: its protocol and billing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductKind {
    /// V1 or V2.
    pub protocol: Protocol,
    /// How it is billed.
    pub billing: BillingMode,
}

impl ProductKind {
    /// Every kind: both protocols × four billing modes.
    pub fn all() -> impl Iterator<Item = ProductKind> {
        Protocol::ALL.into_iter().flat_map(|protocol| {
            BillingMode::ALL
                .into_iter()
                .map(move |billing| ProductKind { protocol, billing })
        })
    }

    /// The interfaces every product of this kind must implement and debug.
    pub fn required(self) -> &'static [Activity] {
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
        match (self.protocol, self.billing) {
            (Protocol::V1, BillingMode::Period) => &[Upgrade, QueryInstance, InstanceStatus],
            (Protocol::V1, BillingMode::OneTime) => &[QueryInstance],
            (Protocol::V2, BillingMode::Period) => &[Upgrade, ChangeInstanceCheck],
            _ => &[],
        }
    }

    /// Whether the kind has this interface at all (required or optional).
    pub fn offers(self, activity: Activity) -> bool {
        self.required().contains(&activity) || self.optional().contains(&activity)
    }

    /// Where the spec says so, for messages.
    pub fn source(self) -> &'static str {
        match self.protocol {
            Protocol::V1 => "spec V1 §1 \"Which scenarios a product must implement\"",
            Protocol::V2 => "spec V2 §2.9 and §7.1",
        }
    }

    /// `v1 period`, `v2 on-demand`.
    pub fn name(self) -> String {
        format!("{} {}", self.protocol, self.billing)
    }
}

/// The interfaces a product implements: its kind's required ones and the optional ones it
/// declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interfaces {
    kind: ProductKind,
    declared: Vec<Activity>,
}

impl Interfaces {
    /// A product of `kind` declaring the optional interfaces `declared` (others are ignored:
    /// see [`Self::undeclarable`]).
    pub fn new(kind: ProductKind, declared: &[Activity]) -> Self {
        let declared = declared
            .iter()
            .copied()
            .filter(|a| kind.optional().contains(a))
            .collect();
        Self { kind, declared }
    }

    /// The kind.
    pub fn kind(&self) -> ProductKind {
        self.kind
    }

    /// Whether the product implements an interface.
    pub fn implements(&self, activity: Activity) -> bool {
        self.kind.required().contains(&activity) || self.declared.contains(&activity)
    }

    /// Every implemented interface, in the spec's chapter order.
    pub fn implemented(&self) -> Vec<Activity> {
        Activity::ALL
            .into_iter()
            .filter(|a| self.implements(*a))
            .collect()
    }

    /// The declared optional interfaces.
    pub fn declared(&self) -> &[Activity] {
        &self.declared
    }

    /// Of `names`, those the kind has no interface for at all (so declaring them changes
    /// nothing); declaring a required one is harmless and not listed.
    pub fn undeclarable(kind: ProductKind, names: &[Activity]) -> Vec<Activity> {
        names.iter().copied().filter(|a| !kind.offers(*a)).collect()
    }

    /// A note for each declared interface the kind does not have, for the run's header.
    pub fn ignored_notes(kind: ProductKind, names: &[Activity]) -> Vec<String> {
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
    pub fn missing(&self, activity: Activity) -> Option<String> {
        if self.implements(activity) {
            return None;
        }
        let name = activity.slug();
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
        };
        assert!(v2_period.required().contains(&InstanceStatus));
        assert!(v2_period.optional().contains(&Upgrade));
    }

    #[test]
    fn optional_interfaces_count_only_when_declared_and_offered() {
        let kind = ProductKind {
            protocol: Protocol::V1,
            billing: BillingMode::Period,
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
