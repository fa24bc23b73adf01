//! One scenario being run: its marketplace, its captures, the faults each call carries and
//! the exchanges so far. The runner's files share it; nothing outside the runner sees it.

use std::collections::HashMap;

use crate::marketplace::lifecycle::{InstanceRef, OrderId};
use crate::marketplace::{CallId, Marketplace};
use crate::protocol::UnixMillis;
use crate::scenario::format::model::Faults;
use crate::scenario::publish::Publisher;
use crate::scenario::result::Exchange;
use crate::scenario::run::context::RunContext;

/// What a step's `as:` name stands for.
#[derive(Debug, Clone, Default)]
pub(super) struct Capture {
    /// The order it placed.
    pub(super) order: Option<OrderId>,
    /// The instances it concerns.
    pub(super) instances: Vec<InstanceRef>,
    /// Every call it caused.
    pub(super) calls: Vec<CallId>,
    /// The Kit enterprise it announced.
    pub(super) enterprise: Option<crate::marketplace::kit::EnterpriseRef>,
}

/// What an action did: the calls it made, what the step captures, and the instant to run
/// the engine to.
pub(super) struct Acted {
    pub(super) calls: Vec<CallId>,
    pub(super) capture: Capture,
    pub(super) until: UnixMillis,
}

/// One scenario being run.
pub(super) struct Run<'a> {
    pub(super) engine: Marketplace,
    pub(super) context: &'a RunContext,
    pub(super) captures: HashMap<String, Capture>,
    /// The faults each call carries (those of the step that made it).
    pub(super) plans: HashMap<CallId, Faults>,
    pub(super) exchanges: Vec<Exchange>,
    /// Publishes the marketplace to the open APIs, when they are served.
    pub(super) publisher: Option<Publisher>,
}
