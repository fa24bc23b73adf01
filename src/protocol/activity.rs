//! Protocols and activities: the `activity` values the marketplace sends and what they mean.
//!
//! The two SaaS protocols name the same business events differently (V1 `upgrade` is V2
//! `upgradeInstance`, V1 `instanceStatus` is V2 `updateInstanceStatus`) and each has one the
//! other lacks (V1 `expireInstance`, V2 `changeInstanceCheck`). [`Activity`] is the event;
//! [`Activity::wire_name`] is what a given protocol calls it.
//!
//! Beyond the basic interfaces, V2 merchants receive the joint-operation Kit syncs (POSTed to
//! a sub-path of the production address, §3), the License 2.0 code notices (§4.2), the
//! online License application (§4.5) and the order notification (§5). Each kind of call is
//! signed with the key bound to its [`InterfaceType`] (§1.2).

/// Which production-interface protocol a product uses.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Classic SaaS V1: GET, `authToken`, `Body-Sign`, AES fields (koogallery-saas-v1.md).
    #[default]
    V1,
    /// SaaS V2: POST JSON, query-string signature, no response signature
    /// (koogallery-v2-kit-license.md §1–2).
    V2,
}

crate::slug_impls!(pub Protocol, "protocol", { V1 = "v1", V2 = "v2" });

/// A business event the marketplace notifies the merchant of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Activity {
    /// Purchase (V1 §4.1, V2 §2.1).
    NewInstance,
    /// Renewal, trial to formal, refund of a renewal period (V1 §4.2, V2 §2.3).
    RefreshInstance,
    /// Period expiry: freeze (V1 §4.3 only; V2 uses updateInstanceStatus).
    ExpireInstance,
    /// Release after the retention period or an unsubscription (V1 §4.4, V2 §2.5).
    ReleaseInstance,
    /// Upgrade (V1 `upgrade` §4.5, V2 `upgradeInstance` §2.6).
    Upgrade,
    /// Freeze/unfreeze (V1 `instanceStatus` §4.6, V2 `updateInstanceStatus` §2.4).
    InstanceStatus,
    /// Read instance information and usage (V1 §4.7, V2 §2.2).
    QueryInstance,
    /// Ask whether a spec change at renewal is allowed (V2 §2.7 only).
    ChangeInstanceCheck,
    /// Kit: an enterprise (tenant) added, changed or removed (V2 §3.2).
    TenantSync,
    /// Kit: the app credential of a tenant, `clientSecret` RSA-OAEP encrypted (V2 §3.3).
    ApplicationSync,
    /// Kit: users authorised to the app (V2 §3.4).
    AuthSync,
    /// Kit: one department changed (V2 §3.5).
    SingleOrgSync,
    /// Kit: every department, a full replacement (V2 §3.6).
    AllOrgSync,
    /// License 2.0: a code's validity renewed or a renewal refunded (V2 §4.2).
    RefreshLicenseCode,
    /// License 2.0: a code frozen past its grace period, or unfrozen (V2 §4.2).
    UpdateLicenseCodeStatus,
    /// License 2.0: a code released (V2 §4.2).
    ReleaseLicenseCode,
    /// Online License: the buyer applies for a License for a device (V2 §4.5).
    GetLicenseAsync,
    /// An order was created; the merchant queries it (V2 §5).
    OrderNotify,
}

/// The interface types keys are bound to in 密钥管理 (V2 §1.2): each kind of call is signed
/// with the key bound to its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InterfaceType {
    /// 基础接口: the basic SaaS interfaces and the online License ones.
    Basic,
    /// 联营SaaS同步接口: the five Kit syncs.
    Kit,
    /// License授权码交付接口: the License 2.0 code notices.
    LicenseCode,
    /// 通用接口: the order notification.
    Notify,
}

crate::slug_impls!(pub InterfaceType, "interface type", {
    Basic = "basic",
    Kit = "kit",
    LicenseCode = "license-code",
    Notify = "notify",
});

impl Activity {
    /// The five Kit syncs, in the spec's order (V2 §3.2–3.6).
    pub(crate) const KIT: [Activity; 5] = [
        Self::TenantSync,
        Self::ApplicationSync,
        Self::AuthSync,
        Self::SingleOrgSync,
        Self::AllOrgSync,
    ];

    /// The key type its calls are signed with (V2 §1.2).
    pub(crate) fn interface_type(self) -> InterfaceType {
        match self {
            Self::TenantSync
            | Self::ApplicationSync
            | Self::AuthSync
            | Self::SingleOrgSync
            | Self::AllOrgSync => InterfaceType::Kit,
            Self::RefreshLicenseCode | Self::UpdateLicenseCodeStatus | Self::ReleaseLicenseCode => {
                InterfaceType::LicenseCode
            }
            Self::OrderNotify => InterfaceType::Notify,
            _ => InterfaceType::Basic,
        }
    }

    /// Whether it is a Kit sync, sent to a sub-path with header signatures.
    pub(crate) fn is_kit(self) -> bool {
        self.interface_type() == InterfaceType::Kit
    }

    /// The sub-path the platform appends to the production address for a Kit sync
    /// (`/produceAPI/v2/tenantSync`, V2 §1.1).
    pub(crate) fn kit_path(self) -> Option<&'static str> {
        Some(match self {
            Self::TenantSync => "/produceAPI/v2/tenantSync",
            Self::ApplicationSync => "/produceAPI/v2/applicationSync",
            Self::AuthSync => "/produceAPI/v2/authSync",
            Self::SingleOrgSync => "/produceAPI/v2/singleOrgSync",
            Self::AllOrgSync => "/produceAPI/v2/allOrgSync",
            _ => return None,
        })
    }

    /// The Kit sync a sub-path names (its last segment, `tenantSync`).
    pub(crate) fn from_kit_path(path: &str) -> Option<Self> {
        Self::KIT.into_iter().find(|a| {
            a.kit_path()
                .is_some_and(|p| path.trim_end_matches('/').ends_with(p))
        })
    }

    /// The `activity` value in a protocol, or `None` when the protocol lacks it.
    pub fn wire_name(self, protocol: Protocol) -> Option<&'static str> {
        match (self, protocol) {
            (Self::NewInstance, _) => Some("newInstance"),
            (Self::RefreshInstance, _) => Some("refreshInstance"),
            (Self::ExpireInstance, Protocol::V1) => Some("expireInstance"),
            (Self::ExpireInstance, Protocol::V2) => None,
            (Self::ReleaseInstance, _) => Some("releaseInstance"),
            (Self::Upgrade, Protocol::V1) => Some("upgrade"),
            (Self::Upgrade, Protocol::V2) => Some("upgradeInstance"),
            (Self::InstanceStatus, Protocol::V1) => Some("instanceStatus"),
            (Self::InstanceStatus, Protocol::V2) => Some("updateInstanceStatus"),
            (Self::QueryInstance, _) => Some("queryInstance"),
            (Self::ChangeInstanceCheck, Protocol::V1) => None,
            (Self::ChangeInstanceCheck, Protocol::V2) => Some("changeInstanceCheck"),
            // Everything beyond the basic interfaces is V2-shaped (V1 Kit, §3.7, is not
            // simulated).
            (_, Protocol::V1) => None,
            (Self::TenantSync, Protocol::V2) => Some("tenantSync"),
            (Self::ApplicationSync, Protocol::V2) => Some("applicationSync"),
            (Self::AuthSync, Protocol::V2) => Some("authSync"),
            (Self::SingleOrgSync, Protocol::V2) => Some("singleOrgSync"),
            (Self::AllOrgSync, Protocol::V2) => Some("allOrgSync"),
            (Self::RefreshLicenseCode, Protocol::V2) => Some("refreshLicenseCode"),
            (Self::UpdateLicenseCodeStatus, Protocol::V2) => Some("updateLicenseCodeStatus"),
            (Self::ReleaseLicenseCode, Protocol::V2) => Some("releaseLicenseCode"),
            (Self::GetLicenseAsync, Protocol::V2) => Some("getLicenseAsync"),
            (Self::OrderNotify, Protocol::V2) => Some("orderNotify"),
        }
    }

    /// The activity a protocol's `activity` value names (Kit syncs have none: they are
    /// told apart by their path, [`Self::from_kit_path`]).
    pub(crate) fn from_wire(protocol: Protocol, name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| !a.is_kit() && a.wire_name(protocol) == Some(name))
    }

    /// The basic SaaS interfaces a protocol has (V1 §4, V2 §2).
    #[cfg(test)]
    pub(crate) fn of(protocol: Protocol) -> impl Iterator<Item = Activity> {
        Self::ALL
            .iter()
            .copied()
            .take(8)
            .filter(move |a| a.wire_name(protocol).is_some())
    }
}

// A protocol-neutral kebab-case name for reports and scenario files.
crate::slug_impls!(pub Activity, "interface", {
    NewInstance = "new-instance",
    RefreshInstance = "refresh-instance",
    ExpireInstance = "expire-instance",
    ReleaseInstance = "release-instance",
    Upgrade = "upgrade",
    InstanceStatus = "instance-status",
    QueryInstance = "query-instance",
    ChangeInstanceCheck = "change-instance-check",
    TenantSync = "tenant-sync",
    ApplicationSync = "application-sync",
    AuthSync = "auth-sync",
    SingleOrgSync = "single-org-sync",
    AllOrgSync = "all-org-sync",
    RefreshLicenseCode = "refresh-license-code",
    UpdateLicenseCodeStatus = "update-license-code-status",
    ReleaseLicenseCode = "release-license-code",
    GetLicenseAsync = "get-license-async",
    OrderNotify = "order-notify",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protocol_has_seven_activities_with_distinct_names() {
        for protocol in Protocol::ALL.iter().copied() {
            let names: Vec<_> = Activity::of(protocol)
                .filter_map(|a| a.wire_name(protocol))
                .collect();
            assert_eq!(names.len(), 7, "{protocol}");
            for name in &names {
                assert_eq!(
                    Activity::from_wire(protocol, name).and_then(|a| a.wire_name(protocol)),
                    Some(*name)
                );
            }
        }
        assert_eq!(Activity::from_wire(Protocol::V1, "upgradeInstance"), None);
        assert_eq!(Activity::from_wire(Protocol::V2, "expireInstance"), None);
    }

    #[test]
    fn kit_syncs_are_routed_by_path_and_the_rest_by_activity() {
        for kit in Activity::KIT {
            let path = kit.kit_path().unwrap();
            assert_eq!(Activity::from_kit_path(path), Some(kit));
            assert_eq!(
                Activity::from_kit_path(&format!("/saasproduce{path}/")),
                Some(kit)
            );
            assert_eq!(
                Activity::from_wire(Protocol::V2, kit.wire_name(Protocol::V2).unwrap()),
                None
            );
            assert_eq!(kit.interface_type(), InterfaceType::Kit);
        }
        assert_eq!(
            Activity::from_wire(Protocol::V2, "orderNotify"),
            Some(Activity::OrderNotify)
        );
        assert_eq!(
            Activity::OrderNotify.interface_type(),
            InterfaceType::Notify
        );
        assert_eq!(
            Activity::ReleaseLicenseCode.interface_type(),
            InterfaceType::LicenseCode
        );
        assert_eq!(
            Activity::GetLicenseAsync.interface_type(),
            InterfaceType::Basic
        );
        assert_eq!(Activity::OrderNotify.wire_name(Protocol::V1), None);
        for activity in Activity::ALL.iter().copied() {
            assert_eq!(activity.slug().parse(), Ok(activity));
        }
    }
}
