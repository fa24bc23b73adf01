//! A request the marketplace sends, in either protocol, for code that handles both.

use crate::protocol::activity::{Activity, Protocol};
use crate::protocol::{v1, v2};

/// A typed request to the merchant: a basic interface of either protocol (with the License
/// notices and the order notification, which share the V2 shape), or a Kit sync.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A V1 GET.
    V1(v1::messages::Request),
    /// A V2 POST with an `activity`, signed in the query.
    V2(v2::messages::Request),
    /// A V2 Kit sync: POSTed to a sub-path, signed in headers (V2 §1.4, §3).
    Kit(v2::kit_sync::KitSync),
}

impl Request {
    /// Which protocol it belongs to.
    pub(crate) fn protocol(&self) -> Protocol {
        match self {
            Self::V1(_) => Protocol::V1,
            Self::V2(_) | Self::Kit(_) => Protocol::V2,
        }
    }

    /// The activity it notifies.
    pub fn activity(&self) -> Activity {
        match self {
            Self::V1(request) => request.activity(),
            Self::V2(request) => request.activity(),
            Self::Kit(sync) => sync.activity(),
        }
    }

    /// The marketplace event an online-License application names (its `eventId`, §4.5).
    pub(crate) fn event_id(&self) -> Option<&str> {
        match self {
            Self::V2(v2::messages::Request::GetLicenseAsync(apply)) => Some(&apply.event_id),
            _ => None,
        }
    }

    /// Whether it is a console debug request (`testFlag` 1).
    #[cfg(test)]
    pub(crate) fn is_debug(&self) -> bool {
        match self {
            Self::V1(request) => request.is_debug(),
            Self::V2(request) => request.is_debug(),
            Self::Kit(sync) => sync.is_debug(),
        }
    }
}
