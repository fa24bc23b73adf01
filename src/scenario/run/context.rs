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
    /// How many calls the merchant still owes, when it is kgsim's own (the embedded
    /// merchant): then a wait ends as soon as it owes none, instead of at its bound.
    pub(crate) merchant_owes: Option<tokio::sync::watch::Receiver<usize>>,
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

    /// Returns once the merchant owes no call — at once for a merchant kgsim cannot see
    /// into ([`Self::merchant_owes`] none), which the caller bounds by its own wait.
    pub(crate) async fn merchant_done(&self) {
        match &self.merchant_owes {
            Some(owes) => {
                // The sender lives as long as the merchant; closed means it is gone.
                let _ = owes.clone().wait_for(|open| *open == 0).await;
            }
            None => std::future::pending().await,
        }
    }

    /// A fresh scope for one scenario run.
    pub(super) fn scope(&self) -> Scope {
        self.next_scope
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}
