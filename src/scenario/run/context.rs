//! What a run of scenarios shares: the product, the key, the client that reaches the
//! merchant, the seeds and start, and the open APIs the merchant calls.

use std::sync::Arc;

use crate::marketplace::Span;
use crate::open_api::{Book, Scope};
use crate::protocol::{AccessKey, UnixMillis};
use crate::scenario::profile::Profile;
use crate::transport::Client;

/// Everything a run shares across scenarios.
#[derive(Debug, Clone)]
pub(crate) struct RunContext {
    /// The product profile.
    pub(crate) profile: Profile,
    /// The access key.
    pub(crate) key: AccessKey,
    /// The client that reaches the merchant's production address.
    pub(crate) client: Client,
    /// The run's seed: order and business ids derive from it.
    pub(crate) seed: u64,
    /// Where every scenario's virtual clock starts; when `None`, the wall clock (moved back
    /// to the 28th late in a month, see [`crate::marketplace::clock::business_start`]).
    pub(crate) start: Option<UnixMillis>,
    /// The open APIs the merchant calls, when they are served.
    pub(crate) open_api: Option<OpenApiLink>,
    /// The keys bound to the Kit, License-code and notification interfaces.
    pub(crate) keys: crate::marketplace::settings::InterfaceKeys,
    /// 联营: the Kit's settings (the merchant's public key, the identity-centre domain).
    pub(crate) kit: Option<crate::marketplace::settings::KitSettings>,
    /// The merchant's login callback (OAuth 2.0 redirect_uri, CAS service).
    pub(crate) login_url: Option<String>,
    /// What a skipped scenario tells the user to do to have the open APIs served (the CLI's
    /// environment variables, or the console's `--openapi-listen`).
    pub(crate) serve_open_apis: &'static str,
}

/// How `kgsim run` is told to serve the open APIs.
pub(crate) const SERVE_OPEN_APIS: &str = "set KGSIM_OPENAPI_AK and KGSIM_OPENAPI_SK";

/// The open APIs as a run sees them: their state, where they are, where the merchant's
/// software takes License codes.
#[derive(Debug, Clone)]
pub(crate) struct OpenApiLink {
    /// Their state and the merchant's calls.
    pub(crate) book: Book,
    /// Where the merchant's shipped software takes a License code (`POST {"license": …}`).
    pub(crate) software_url: Option<String>,
    /// Every `await` waits at most this long, whatever its `within` says.
    pub(crate) await_within: Option<Span>,
    /// The calls the merchant still owes (what each is about), when it is kgsim's own (the
    /// embedded merchant): then a wait ends as soon as it owes none, instead of at its bound.
    pub(crate) merchant_owes: Option<tokio::sync::watch::Receiver<Vec<String>>>,
    /// The run's first scope; the book may also hold other runs' (the console's products
    /// and suite runs share one), whose calls are not this run's.
    first_scope: Scope,
    /// Whether other runs share the book: then a call naming nothing the run published
    /// (scope 0) is not counted as this run's.
    shared: bool,
    next_scope: Arc<std::sync::atomic::AtomicU64>,
}

impl OpenApiLink {
    /// A link to the open APIs serving `book`.
    pub(crate) fn new(book: Book, software_url: Option<String>) -> Self {
        Self::scoped(book, software_url, 1, false)
    }

    /// A link for a run whose scopes start at `first_scope`; `shared` when other runs publish
    /// into the same book.
    pub(crate) fn scoped(
        book: Book,
        software_url: Option<String>,
        first_scope: Scope,
        shared: bool,
    ) -> Self {
        book.lock().live = true;
        Self {
            book,
            software_url,
            await_within: None,
            merchant_owes: None,
            first_scope,
            shared,
            next_scope: Arc::new(std::sync::atomic::AtomicU64::new(first_scope)),
        }
    }

    /// Whether the merchant made any call about what this run published.
    pub(crate) fn was_called(&self) -> bool {
        self.book.lock().calls.iter().any(|c| self.owns(c.scope))
    }

    /// This run's calls no step reported, once the merchant has been quiet for a while (see
    /// [`Book::leftovers`]); a shared book's other calls are not this run's.
    pub(crate) async fn leftovers(
        &self,
        quiet: std::time::Duration,
        most: std::time::Duration,
    ) -> Vec<crate::open_api::MerchantCall> {
        let mut calls = self.book.leftovers(quiet, most).await;
        calls.retain(|c| self.owns(c.scope));
        calls
    }

    /// Whether a call of `scope` belongs to this run.
    pub(crate) fn owns(&self, scope: Scope) -> bool {
        let next = self.next_scope.load(std::sync::atomic::Ordering::Relaxed);
        (self.first_scope..next).contains(&scope) || (scope == 0 && !self.shared)
    }

    /// Returns once the merchant owes no call — never for a merchant kgsim cannot see into
    /// ([`Self::merchant_owes`] none), which the caller bounds by its own wait.
    pub(crate) async fn merchant_done(&self) {
        match &self.merchant_owes {
            Some(owes) => {
                // The sender lives as long as the merchant; closed means it is gone.
                let _ = owes.clone().wait_for(Vec::is_empty).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Returns once the merchant owes no call about what `scope` published (its orders,
    /// License codes, upload events), once one of its calls is held waiting for a
    /// marketplace to publish what it names (the run must go on to publish it), or at
    /// `deadline` — at once for a merchant kgsim cannot see into. Other scenarios'
    /// obligations are not waited for: they run beside this one.
    pub(crate) async fn merchant_settled(&self, scope: Scope, deadline: tokio::time::Instant) {
        let Some(owes) = &self.merchant_owes else {
            return;
        };
        let mut owes = owes.clone();
        let settled = owes.wait_for(|open| {
            let state = self.book.lock();
            open.iter()
                .all(|subject| state.scope_of(subject) != Some(scope))
        });
        let waits_for_the_run = self.book.wait_for(deadline, |state| state.held > 0);
        tokio::select! {
            _ = tokio::time::timeout_at(deadline, settled) => {}
            _ = waits_for_the_run => {}
        }
    }

    /// A fresh scope for one scenario run.
    pub(super) fn scope(&self) -> Scope {
        self.next_scope
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::merchant::owed::Outstanding;

    /// A link to a book where order `CS7` is scope 7's and `CS8` scope 8's, watching what
    /// `merchant` owes.
    fn link_owed_by(merchant: &Outstanding) -> OpenApiLink {
        let book = Book::new();
        book.lock()
            .events
            .extend([("CS7".into(), 7), ("CS8".into(), 8)]);
        let mut link = OpenApiLink::scoped(book, None, 7, true);
        link.merchant_owes = Some(merchant.watch());
        link
    }

    /// Whether `merchant_settled(scope)` is still waiting after a (virtual) minute, when it
    /// may wait an hour.
    async fn still_waiting(link: &OpenApiLink, scope: Scope) -> bool {
        let hour = tokio::time::Instant::now() + Duration::from_secs(3600);
        let wait = link.merchant_settled(scope, hour);
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .is_err()
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_waits_for_the_calls_its_own_scenario_obliged_and_no_others() {
        let merchant = Outstanding::default();
        let link = link_owed_by(&merchant);
        let about_seven = merchant.begin("CS7");
        let about_eight = merchant.begin("CS8");
        assert!(
            still_waiting(&link, 7).await,
            "CS7's usage push is still owed"
        );
        assert!(!still_waiting(&link, 9).await, "scope 9 owes nothing");
        drop(about_seven);
        assert!(
            !still_waiting(&link, 7).await,
            "only scope 8's call is open"
        );
        assert!(still_waiting(&link, 8).await);
        drop(about_eight);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_held_for_the_run_to_publish_ends_the_wait() {
        let merchant = Outstanding::default();
        let link = link_owed_by(&merchant);
        let _owed = merchant.begin("CS7");
        let held = link.book.holding();
        assert!(
            !still_waiting(&link, 7).await,
            "the call waits for the next step: waiting for it would deadlock"
        );
        drop(held);
        assert!(still_waiting(&link, 7).await);
    }

    #[tokio::test]
    async fn a_merchant_kgsim_cannot_see_into_is_not_waited_for() {
        let link = OpenApiLink::new(Book::new(), None);
        let hour = tokio::time::Instant::now() + Duration::from_secs(3600);
        link.merchant_settled(1, hour).await;
    }
}
