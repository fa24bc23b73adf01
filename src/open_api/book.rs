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
use crate::protocol::open_api::Endpoint;
use crate::protocol::open_api::license::LicenseStatus;
use crate::protocol::open_api::order::OrderInfo;
use crate::protocol::open_api::usage::{InstanceView, Ledger};

/// Which run of a scenario something belongs to (0: none, as for the MOCK data).
pub(crate) type Scope = u64;

/// An order the merchant may query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrderEntry {
    /// Whose.
    pub(crate) scope: Scope,
    /// What query-order answers.
    pub(crate) info: OrderInfo,
}

/// An instance usage may name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InstanceEntry {
    /// Whose.
    pub(crate) scope: Scope,
    /// What the record rules need, in wall time (the merchant reports on its own clock).
    pub(crate) view: InstanceView,
    /// Usage accepted so far (for a package: deducted from it).
    pub(crate) usage: f64,
    /// A stop-when-used-up package's quota.
    pub(crate) quota: Option<f64>,
}

/// A License code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LicenseEntry {
    /// Whose.
    pub(crate) scope: Scope,
    /// The order it was bought with.
    pub(crate) order_id: String,
    /// Whether the buyer has it yet (activation before is 92020004).
    pub(crate) delivered: bool,
    /// When it was activated (wall time).
    pub(crate) activated: Option<UnixMillis>,
    /// `ALIVE`, `EXPIRED`, `RELEASED`, following the marketplace.
    pub(crate) status: LicenseStatus,
    /// When its period ends, `yyyyMMddHHmmss`, for codes that expire.
    pub(crate) expire_time: Option<String>,
}

/// An OAuth client: one per tenant and app, delivered by applicationSync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdentityClient {
    /// The scenario run it belongs to.
    pub(crate) scope: Scope,
    /// The plain secret the token endpoint expects.
    pub(crate) secret: String,
    /// The tenant.
    pub(crate) tenant: String,
    /// The app the client belongs to (`appId`, what the unified login page takes).
    pub(crate) app_id: String,
}

/// A tenant and its users, as tenantSync and authSync announced them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct IdentityTenant {
    /// The scenario run it belongs to.
    pub(crate) scope: Scope,
    /// Its name.
    pub(crate) name: String,
    /// Its users by login name.
    pub(crate) users: BTreeMap<String, UserInfo>,
}

/// Who a code, token or ticket was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The client (OAuth) or the service (CAS).
    pub(crate) audience: String,
    /// `redirect_uri` of the authorize request (OAuth).
    pub(crate) redirect_uri: Option<String>,
    /// The tenant.
    pub(crate) tenant: String,
    /// The user's login name.
    pub(crate) user: String,
    /// When it stops being usable (wall time).
    pub(crate) expires: UnixMillis,
    /// Whether it was used (codes and tickets are single-use).
    pub(crate) used: bool,
    /// The code it descends from (tokens), for tracing a call to a login.
    pub(crate) origin: String,
}

/// The identity centre's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdentityState {
    /// Clients by `client_id`.
    pub(crate) clients: BTreeMap<String, IdentityClient>,
    /// Tenants by `tenantId`.
    pub(crate) tenants: BTreeMap<String, IdentityTenant>,
    /// Login sessions: cookie value → (tenant, user).
    pub(crate) sessions: HashMap<String, (String, String)>,
    /// Authorization codes.
    pub(crate) codes: HashMap<String, Grant>,
    /// Access tokens.
    pub(crate) tokens: HashMap<String, Grant>,
    /// Refresh tokens.
    pub(crate) refresh_tokens: HashMap<String, Grant>,
    /// CAS service tickets.
    pub(crate) tickets: HashMap<String, Grant>,
}

impl IdentityState {
    /// The scope a tenant, code or ticket belongs to.
    pub(crate) fn scope_of(&self, subject: &str) -> Option<Scope> {
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
    pub(crate) fn user(&self, tenant: &str, user: &str) -> Option<UserInfo> {
        self.tenants.get(tenant)?.users.get(user).cloned()
    }
}

/// One finding about a merchant's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallFinding {
    /// The check it breaks.
    pub(crate) check: CheckId,
    /// What was wrong, expected vs got in words.
    pub(crate) message: String,
}

/// One usage record of a push, as 卖家中心 > 交易管理 > 话单管理 lists it: every record is
/// taken at the interface and checked afterwards; an abnormal one carries its record code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct UsageRecordEntry {
    /// Its position in the push.
    pub(crate) index: usize,
    /// `instance_id`, as sent.
    pub(crate) instance_id: String,
    /// `metering_sn`, as sent.
    pub(crate) metering_sn: String,
    /// `begin_time`, as sent.
    pub(crate) begin_time: String,
    /// `end_time`, as sent.
    pub(crate) end_time: String,
    /// `usage_value`, as sent.
    pub(crate) usage_value: String,
    /// The record code of an abnormal record (`010` duplicate, …); none when accepted.
    pub(crate) code: Option<String>,
    /// What the code means for this record.
    pub(crate) message: String,
}

impl UsageRecordEntry {
    /// Whether the record was accepted.
    pub(crate) fn accepted(&self) -> bool {
        self.code.is_none()
    }
}

/// One call the merchant made.
#[derive(Debug, Clone, PartialEq)]
pub struct MerchantCall {
    /// Its number in the log.
    pub(crate) number: usize,
    /// The scenario run it concerns, if any.
    pub(crate) scope: Scope,
    /// When it arrived (wall time).
    pub(crate) at: UnixMillis,
    /// What it called.
    pub(crate) endpoint: Option<Endpoint>,
    /// `GET /path?query` as received.
    pub(crate) request_line: String,
    /// The request body, capped.
    pub(crate) request_body: String,
    /// The HTTP status answered.
    pub(crate) status: u16,
    /// The answer's body.
    pub(crate) answer: String,
    /// The orders, instances and codes it names.
    pub(crate) subjects: BTreeSet<String>,
    /// The checks it broke.
    pub(crate) findings: Vec<CallFinding>,
    /// The records of a usage push, accepted or abnormal.
    pub(crate) records: Vec<UsageRecordEntry>,
    /// Whether a scenario's step reported it.
    pub(crate) reported: bool,
}

/// The mutable state behind a [`Book`].
#[derive(Debug, Default)]
pub struct State {
    /// Orders by id.
    pub(crate) orders: BTreeMap<String, OrderEntry>,
    /// Instances by the merchant's id.
    pub(crate) instances: HashMap<String, InstanceEntry>,
    /// License codes.
    pub(crate) licenses: BTreeMap<String, LicenseEntry>,
    /// Upload events and the scope they belong to.
    pub(crate) events: HashMap<String, Scope>,
    /// `metering_sn`s accepted.
    pub(crate) sns: BTreeSet<String>,
    /// `(instance, begin, end)` accepted.
    pub(crate) ranges: BTreeSet<(String, i64, i64)>,
    /// Every call, in order.
    pub calls: Vec<MerchantCall>,
    /// Packages whose quota the usage used up, not yet stopped by their marketplace.
    pub(crate) exhausted: BTreeSet<String>,
    /// Whether a marketplace is publishing into the book: a call naming something not yet
    /// published is then held briefly, since the marketplace may be about to publish it.
    pub(crate) live: bool,
    /// How many calls are held now, waiting for their marketplace to publish what they name
    /// (see [`Book::holding`]).
    pub(crate) held: usize,
    /// The identity centre: clients, tenants and users, codes, tokens, tickets.
    pub(crate) identity: IdentityState,
    /// What was uploaded for each event: the characters, or the file's SHA-256.
    pub(crate) uploads: BTreeMap<String, Vec<String>>,
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
    pub(crate) fn scope_of(&self, subject: &str) -> Option<Scope> {
        self.orders
            .get(subject)
            .map(|o| o.scope)
            .or_else(|| self.instances.get(subject).map(|i| i.scope))
            .or_else(|| self.licenses.get(subject).map(|l| l.scope))
            .or_else(|| self.events.get(subject).copied())
            .or_else(|| self.identity.scope_of(subject))
    }
}

/// Told of each call as it is recorded (the console stores them).
pub(crate) type CallSink = Arc<dyn Fn(&MerchantCall) + Send + Sync>;

/// The shared state and a way to wait for its calls.
#[derive(Clone, Default)]
pub struct Book {
    state: Arc<Mutex<State>>,
    changed: Arc<tokio::sync::Notify>,
    sinks: Arc<Mutex<Vec<CallSink>>>,
}

impl std::fmt::Debug for Book {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Book").finish_non_exhaustive()
    }
}

/// A call held by the open-API server; dropping it releases the mark.
#[derive(Debug)]
pub(crate) struct Held(Book);

impl Drop for Held {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.held = state.held.saturating_sub(1);
        drop(state);
        self.0.notify();
    }
}

impl Book {
    /// An empty book.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The state, locked (a poisoned lock is taken over: the state is plain data).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes whoever waits: something was published.
    pub(crate) fn notify(&self) {
        self.changed.notify_waiters();
    }

    /// Marks one call as held until the returned guard drops, waking whoever waits: a run
    /// that waits for the merchant's calls must stop waiting once a call waits for the run.
    pub(crate) fn holding(&self) -> Held {
        self.lock().held += 1;
        self.notify();
        Held(self.clone())
    }

    /// Records a call, tells the sinks, and wakes whoever waits for one.
    pub(crate) fn record(&self, mut call: MerchantCall) {
        {
            let mut state = self.lock();
            call.number = state.calls.len() + 1;
            call.scope = call
                .subjects
                .iter()
                .find_map(|s| state.scope_of(s))
                .unwrap_or(0);
            state.calls.push(call.clone());
        }
        let sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for sink in sinks {
            sink(&call);
        }
        self.changed.notify_waiters();
    }

    /// Tells `sink` of every call recorded from now on, before any waiter wakes.
    pub(crate) fn on_record(&self, sink: CallSink) {
        self.sinks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sink);
    }

    /// The calls of a scope not reported yet that `wanted` selects, now marked reported.
    pub(crate) fn take_unreported(
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
    pub(crate) fn take_exhausted(&self, scope: Scope) -> Vec<String> {
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

    /// Every call no step reported, once the merchant has been quiet for a while (or `most`
    /// has passed): what it did outside the awaited flows. The quiet span starts at `quiet`
    /// and doubles each time a call arrives within it — it grows only for a merchant that
    /// actually makes late calls, so a prompt one costs `quiet` once.
    pub(crate) async fn leftovers(
        &self,
        quiet: std::time::Duration,
        most: std::time::Duration,
    ) -> Vec<MerchantCall> {
        let end = tokio::time::Instant::now() + most;
        let mut quiet = quiet;
        loop {
            let seen = self.lock().calls.len();
            let until = (tokio::time::Instant::now() + quiet).min(end);
            let more = self.wait_for(until, |s| s.calls.len() > seen).await;
            if !more || tokio::time::Instant::now() >= end {
                break;
            }
            quiet = quiet.saturating_mul(2);
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
            records: Vec::new(),
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
