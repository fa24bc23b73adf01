//! Protocols and activities: the `activity` values the marketplace sends and what they mean.
//!
//! The two SaaS protocols name the same business events differently (V1 `upgrade` is V2
//! `upgradeInstance`, V1 `instanceStatus` is V2 `updateInstanceStatus`) and each has one the
//! other lacks (V1 `expireInstance`, V2 `changeInstanceCheck`). [`Activity`] is the event;
//! [`Activity::wire_name`] is what a given protocol calls it.

use std::fmt;
use std::str::FromStr;

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

impl Protocol {
    /// Both protocols.
    pub const ALL: [Protocol; 2] = [Self::V1, Self::V2];

    /// `v1` or `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not `v1` or `v2`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol `{0}` is not v1 or v2")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "v1" => Ok(Self::V1),
            "v2" => Ok(Self::V2),
            _ => Err(UnknownProtocol(s.to_owned())),
        }
    }
}

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
}

impl Activity {
    /// Every activity, in the order of the spec's chapters.
    pub const ALL: [Activity; 8] = [
        Self::NewInstance,
        Self::RefreshInstance,
        Self::ExpireInstance,
        Self::ReleaseInstance,
        Self::Upgrade,
        Self::InstanceStatus,
        Self::QueryInstance,
        Self::ChangeInstanceCheck,
    ];

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
        }
    }

    /// The activity a protocol's `activity` value names.
    pub fn from_wire(protocol: Protocol, name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.wire_name(protocol) == Some(name))
    }

    /// The activities a protocol has.
    pub fn of(protocol: Protocol) -> impl Iterator<Item = Activity> {
        Self::ALL
            .into_iter()
            .filter(move |a| a.wire_name(protocol).is_some())
    }

    /// A protocol-neutral kebab-case name for reports and scenario files.
    pub fn slug(self) -> &'static str {
        match self {
            Self::NewInstance => "new-instance",
            Self::RefreshInstance => "refresh-instance",
            Self::ExpireInstance => "expire-instance",
            Self::ReleaseInstance => "release-instance",
            Self::Upgrade => "upgrade",
            Self::InstanceStatus => "instance-status",
            Self::QueryInstance => "query-instance",
            Self::ChangeInstanceCheck => "change-instance-check",
        }
    }
}

/// Not an activity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an interface name (new-instance, refresh-instance, expire-instance, release-instance, upgrade, instance-status, query-instance, change-instance-check)"
)]
pub struct UnknownActivity(pub String);

impl FromStr for Activity {
    type Err = UnknownActivity;

    /// Parses the protocol-neutral slug (`upgrade`, `query-instance`, …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.slug() == s)
            .ok_or_else(|| UnknownActivity(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protocol_has_seven_activities_with_distinct_names() {
        for protocol in Protocol::ALL {
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
}
