//! The open-API server's state, shared with whoever drives the marketplace: the orders the
//! merchant may query, the instances usage may name, the License codes its software may
//! activate, the upload events it may answer — and the log of every call the merchant made,
//! with the checks each one broke.
//!
//! The scenario runner publishes what its marketplace created (tagged with the run's scope,
//! so that a call can be traced to the scenario it concerns) and waits on the log for the
//! calls a step awaits; the standalone `kgsim openapi` starts from the MOCK data alone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::checks::CheckId;
use crate::protocol::UnixMillis;
use crate::protocol::identity::UserInfo;
use crate::protocol::openapi::Endpoint;
use crate::protocol::openapi::license::LicenseStatus;
use crate::protocol::openapi::order::OrderInfo;
use crate::protocol::openapi::usage::{InstanceView, Ledger};

/// Which run of a scenario something belongs to (0: none, as for the MOCK data).
pub type Scope = u64;

/// An order the merchant may query.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEntry {
    /// Whose.
    pub scope: Scope,
    /// What query-order answers.
    pub info: OrderInfo,
}

/// An instance usage may name.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceEntry {
    /// Whose.
    pub scope: Scope,
    /// What the record rules need, in wall time (the merchant reports on its own clock).
    pub view: InstanceView,
    /// Usage accepted so far (for a package: deducted from it).
    pub usage: f64,
    /// A stop-when-used-up package's quota.
    pub quota: Option<f64>,
}

/// A License code.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenseEntry {
    /// Whose.
    pub scope: Scope,
    /// The order it was bought with.
    pub order_id: String,
    /// Whether the buyer has it yet (activation before is 92020004).
    pub delivered: bool,
    /// When it was activated (wall time).
    pub activated: Option<UnixMillis>,
    /// `ALIVE`, `EXPIRED`, `RELEASED`, following the marketplace.
    pub status: LicenseStatus,
    /// When its period ends, `yyyyMMddHHmmss`, for codes that expire.
    pub expire_time: Option<String>,
}

/// An OAuth client: one per tenant and app, delivered by applicationSync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityClient {
    /// The scenario run it belongs to.
    pub scope: Scope,
    /// The plain secret the token endpoint expects.
    pub secret: String,
    /// The tenant.
    pub tenant: String,
}

/// A tenant and its users, as tenantSync and authSync announced them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityTenant {
    /// The scenario run it belongs to.
    pub scope: Scope,
    /// Its name.
    pub name: String,
    /// Its users by login name.
    pub users: BTreeMap<String, UserInfo>,
}

/// Who a code, token or ticket was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The client (OAuth) or the service (CAS).
    pub audience: String,
    /// `redirect_uri` of the authorize request (OAuth).
    pub redirect_uri: Option<String>,
    /// The tenant.
    pub tenant: String,
    /// The user's login name.
    pub user: String,
    /// When it stops being usable (wall time).
    pub expires: UnixMillis,
    /// Whether it was used (codes and tickets are single-use).
    pub used: bool,
    /// The code it descends from (tokens), for tracing a call to a login.
    pub origin: String,
}

/// The identity centre's state.
#[derive(Debug, Clone, Default)]
pub struct IdentityState {
    /// Clients by `client_id`.
    pub clients: BTreeMap<String, IdentityClient>,
    /// Tenants by `tenantId`.
    pub tenants: BTreeMap<String, IdentityTenant>,
    /// Login sessions: cookie value → (tenant, user).
    pub sessions: HashMap<String, (String, String)>,
    /// Authorization codes.
    pub codes: HashMap<String, Grant>,
    /// Access tokens.
    pub tokens: HashMap<String, Grant>,
    /// Refresh tokens.
    pub refresh_tokens: HashMap<String, Grant>,
    /// CAS service tickets.
    pub tickets: HashMap<String, Grant>,
}

impl IdentityState {
    /// The scope a tenant, code or ticket belongs to.
    pub fn scope_of(&self, subject: &str) -> Option<Scope> {
        let tenant_scope = |tenant: &str| self.tenants.get(tenant).map(|t| t.scope);
        tenant_scope(subject)
            .or_else(|| {
                self.codes
                    .get(subject)
                    .and_then(|g| tenant_scope(&g.tenant))
            })
            .or_else(|| {
                self.tickets
                    .get(subject)
                    .and_then(|g| tenant_scope(&g.tenant))
            })
    }

    /// A user's information, when the tenant still has the user.
    pub fn user(&self, tenant: &str, user: &str) -> Option<UserInfo> {
        self.tenants.get(tenant)?.users.get(user).cloned()
    }
}

/// One finding about a merchant's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFinding {
    /// The check it breaks.
    pub check: CheckId,
    /// What was wrong, expected vs got in words.
    pub message: String,
}

/// One call the merchant made.
#[derive(Debug, Clone, PartialEq)]
pub struct MerchantCall {
    /// Its number in the log.
    pub number: usize,
    /// The scenario run it concerns, if any.
    pub scope: Scope,
    /// When it arrived (wall time).
    pub at: UnixMillis,
    /// What it called.
    pub endpoint: Option<Endpoint>,
    /// `GET /path?query` as received.
    pub request_line: String,
    /// The request body, capped.
    pub request_body: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The answer's body.
    pub answer: String,
    /// The orders, instances and codes it names.
    pub subjects: BTreeSet<String>,
    /// The checks it broke.
    pub findings: Vec<CallFinding>,
    /// Records accepted, for usage pushes.
    pub records_accepted: usize,
    /// Whether a scenario's step reported it.
    pub reported: bool,
}

/// The mutable state behind a [`Book`].
#[derive(Debug, Default)]
pub struct State {
    /// Orders by id.
    pub orders: BTreeMap<String, OrderEntry>,
    /// Instances by the merchant's id.
    pub instances: HashMap<String, InstanceEntry>,
    /// License codes.
    pub licenses: BTreeMap<String, LicenseEntry>,
    /// Upload events and the scope they belong to.
    pub events: HashMap<String, Scope>,
    /// `metering_sn`s accepted.
    pub sns: BTreeSet<String>,
    /// `(instance, begin, end)` accepted.
    pub ranges: BTreeSet<(String, i64, i64)>,
    /// Every call, in order.
    pub calls: Vec<MerchantCall>,
    /// Packages whose quota the usage used up, not yet stopped by their marketplace.
    pub exhausted: BTreeSet<String>,
    /// Whether a marketplace is publishing into the book: a call naming something not yet
    /// published is then held briefly, since the marketplace may be about to publish it.
    pub live: bool,
    /// The identity centre: clients, tenants and users, codes, tokens, tickets.
    pub identity: IdentityState,
    /// What was uploaded for each event: the characters, or the file's SHA-256.
    pub uploads: BTreeMap<String, Vec<String>>,
}

impl Ledger for State {
    fn instance(&self, id: &str) -> Option<InstanceView> {
        self.instances.get(id).map(|e| e.view.clone())
    }

    fn seen_sn(&self, sn: &str) -> bool {
        self.sns.contains(sn)
    }

    fn seen_range(&self, instance: &str, begin: UnixMillis, end: UnixMillis) -> bool {
        self.ranges.contains(&(instance.to_owned(), begin.0, end.0))
    }
}

impl State {
    /// The scope a subject (order id, instance id, License code) belongs to.
    pub fn scope_of(&self, subject: &str) -> Option<Scope> {
        self.orders
            .get(subject)
            .map(|o| o.scope)
            .or_else(|| self.instances.get(subject).map(|i| i.scope))
            .or_else(|| self.licenses.get(subject).map(|l| l.scope))
            .or_else(|| self.events.get(subject).copied())
            .or_else(|| self.identity.scope_of(subject))
    }
}

/// The shared state and a way to wait for its calls.
#[derive(Debug, Clone, Default)]
pub struct Book {
    state: Arc<Mutex<State>>,
    changed: Arc<tokio::sync::Notify>,
}

impl Book {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state, locked (a poisoned lock is taken over: the state is plain data).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes whoever waits: something was published.
    pub fn notify(&self) {
        self.changed.notify_waiters();
    }

    /// Records a call and wakes whoever waits for one.
    pub fn record(&self, mut call: MerchantCall) {
        {
            let mut state = self.lock();
            call.number = state.calls.len() + 1;
            call.scope = call
                .subjects
                .iter()
                .find_map(|s| state.scope_of(s))
                .unwrap_or(0);
            state.calls.push(call);
        }
        self.changed.notify_waiters();
    }

    /// The calls of a scope not reported yet that `wanted` selects, now marked reported.
    pub fn take_unreported(
        &self,
        scope: Scope,
        wanted: impl Fn(&MerchantCall) -> bool,
    ) -> Vec<MerchantCall> {
        let mut state = self.lock();
        let mut taken = Vec::new();
        for call in state
            .calls
            .iter_mut()
            .filter(|c| c.scope == scope && !c.reported && wanted(c))
        {
            call.reported = true;
            taken.push(call.clone());
        }
        taken
    }

    /// The packages of a scope whose quota was used up, handed over once.
    pub fn take_exhausted(&self, scope: Scope) -> Vec<String> {
        let mut state = self.lock();
        let mine: Vec<String> = state
            .exhausted
            .iter()
            .filter(|p| state.instances.get(*p).is_some_and(|i| i.scope == scope))
            .cloned()
            .collect();
        for package in &mine {
            state.exhausted.remove(package);
        }
        mine
    }

    /// Every call no step reported, once the merchant has been quiet for `quiet` (or `most`
    /// has passed): what it did outside the awaited flows.
    pub async fn leftovers(
        &self,
        quiet: std::time::Duration,
        most: std::time::Duration,
    ) -> Vec<MerchantCall> {
        let end = tokio::time::Instant::now() + most;
        loop {
            let seen = self.lock().calls.len();
            let until = (tokio::time::Instant::now() + quiet).min(end);
            let more = self.wait_for(until, |s| s.calls.len() > seen).await;
            if !more || tokio::time::Instant::now() >= end {
                break;
            }
        }
        self.lock()
            .calls
            .iter()
            .filter(|c| !c.reported)
            .cloned()
            .collect()
    }

    /// Waits until `ready` holds for the state, or the deadline passes; returns whether it
    /// held. Woken by every recorded call, so it never polls.
    pub async fn wait_for(
        &self,
        deadline: tokio::time::Instant,
        ready: impl Fn(&State) -> bool,
    ) -> bool {
        loop {
            let notified = self.changed.notified();
            if ready(&self.lock()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return ready(&self.lock());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(subject: &str) -> MerchantCall {
        MerchantCall {
            number: 0,
            scope: 0,
            at: UnixMillis(0),
            endpoint: Some(Endpoint::QueryOrder),
            request_line: "GET /".into(),
            request_body: String::new(),
            status: 200,
            answer: String::new(),
            subjects: BTreeSet::from([subject.to_owned()]),
            findings: Vec::new(),
            records_accepted: 0,
            reported: false,
        }
    }

    #[tokio::test]
    async fn calls_are_traced_to_their_scope_and_wake_the_waiters() {
        let book = Book::new();
        book.lock().events.insert("order-7".into(), 7);
        let waiter = {
            let book = book.clone();
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
                book.wait_for(deadline, |s| s.calls.iter().any(|c| c.scope == 7))
                    .await
            })
        };
        tokio::task::yield_now().await;
        book.record(call("elsewhere"));
        book.record(call("order-7"));
        assert!(waiter.await.unwrap());
        assert_eq!(book.take_unreported(7, |_| true).len(), 1);
        assert!(book.take_unreported(7, |_| true).is_empty(), "taken once");
        assert!(book.take_unreported(0, |_| false).is_empty());
        assert_eq!(book.take_unreported(0, |_| true)[0].number, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_ends_at_the_deadline() {
        let book = Book::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        assert!(!book.wait_for(deadline, |s| !s.calls.is_empty()).await);
    }
}
