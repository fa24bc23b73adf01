//! A request in either protocol, for code that handles both.

use crate::protocol::activity::{Activity, Protocol};
use crate::protocol::{v1, v2};

/// A typed basic-interface request of either protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A V1 GET.
    V1(v1::messages::Request),
    /// A V2 POST.
    V2(v2::messages::Request),
}

impl Request {
    /// Which protocol it belongs to.
    pub fn protocol(&self) -> Protocol {
        match self {
            Self::V1(_) => Protocol::V1,
            Self::V2(_) => Protocol::V2,
        }
    }

    /// The activity it notifies.
    pub fn activity(&self) -> Activity {
        match self {
            Self::V1(request) => request.activity(),
            Self::V2(request) => request.activity(),
        }
    }

    /// Whether it is a console debug request (`testFlag` 1).
    pub fn is_debug(&self) -> bool {
        match self {
            Self::V1(request) => request.is_debug(),
            Self::V2(request) => request.is_debug(),
        }
    }
}
