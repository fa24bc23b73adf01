//! The one client every caller uses — the scenario runner, load mode, the console: it opens
//! [`Connection`]s to one target.
//!
//! [`Client::send`] opens a connection of its own for each exchange, as a retry from the
//! marketplace arrives on a connection of its own: a verdict never depends on whether the
//! merchant's server had quietly closed an idle kept-alive connection a moment before (which
//! a correct server may do, and which would otherwise make a run flip). Load mode keeps its
//! connections alive ([`Client::connection`]), as a burst does, and so does a client of
//! kgsim's own embedded merchant ([`Client::keeping_connections`]), whose server is known to
//! keep them: there a connection per exchange only costs the kernel's connect and close.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::marketplace::Transport;
use crate::transport::http1::Connection;
use crate::transport::stream::{Stream, Trust, TrustError};
use crate::transport::target::TargetUrl;
use crate::transport::wire::{Destination, Wire};
use crate::transport::{DEFAULT_BODY_CAP, Sent, join_all};

/// Idle kept-alive connections by the address they reach.
type Idle = HashMap<String, Vec<Connection>>;

/// How to reach a merchant.
#[derive(Debug, Clone)]
pub struct Client {
    target: Arc<TargetUrl>,
    /// The order-notification address, when the product has one (V2 §5).
    notify: Option<Arc<TargetUrl>>,
    trust: Trust,
    timeout: Duration,
    body_cap: usize,
    /// Idle kept-alive connections, when this client keeps them.
    kept: Option<Arc<std::sync::Mutex<Idle>>>,
}

impl Client {
    /// A client for a target with a per-call timeout and the default body cap; `trust`
    /// decides which HTTPS certificates are accepted.
    pub(crate) fn new(target: TargetUrl, trust: Trust, timeout: Duration) -> Self {
        Self {
            target: Arc::new(target),
            notify: None,
            trust,
            timeout,
            body_cap: DEFAULT_BODY_CAP,
            kept: None,
        }
    }

    /// The same client, keeping its connections alive between exchanges: only for kgsim's
    /// own embedded merchant (see the module's note).
    pub(crate) fn keeping_connections(mut self) -> Self {
        self.kept = Some(Arc::default());
        self
    }

    /// A client with the same trust, timeout and cap for another target (a login callback).
    pub(crate) fn retargeted(&self, target: TargetUrl) -> Self {
        Self {
            target: Arc::new(target),
            notify: None,
            trust: self.trust.clone(),
            timeout: self.timeout,
            body_cap: self.body_cap,
            kept: None,
        }
    }

    /// The same client, sending order notifications to `notify`.
    pub(crate) fn with_notify(mut self, notify: TargetUrl) -> Self {
        self.notify = Some(Arc::new(notify));
        self
    }

    /// Where a request goes: the production address, one of its Kit sub-paths, or the
    /// order-notification address.
    pub(crate) fn target_for(&self, wire: &Wire) -> Result<Arc<TargetUrl>, Transport> {
        match wire.to {
            Destination::Production => Ok(self.target.clone()),
            Destination::SubPath(path) => Ok(Arc::new(self.target.join_path(path))),
            Destination::Notify => self.notify.clone().ok_or(Transport::NotSent),
        }
    }

    /// The full URL of a signed request.
    pub(crate) fn url_of(&self, wire: &Wire) -> String {
        self.target_for(wire)
            .map_or_else(|_| String::new(), |target| target.with_query(&wire.query))
    }

    /// A client trusting the platform's certificates.
    pub fn with_platform_trust(target: TargetUrl, timeout: Duration) -> Result<Self, TrustError> {
        Ok(Self::new(target, Trust::new(None)?, timeout))
    }

    /// The target.
    pub(crate) fn target(&self) -> &TargetUrl {
        &self.target
    }

    /// A connection of its own (load workers keep theirs), not shared with the pool.
    pub(crate) fn connection(&self) -> Connection {
        self.connection_to(self.target.clone())
    }

    /// A connection of its own to `target`.
    fn connection_to(&self, target: Arc<TargetUrl>) -> Connection {
        Connection::new(target, self.trust.clone(), self.timeout, self.body_cap)
    }

    /// Sends one signed request on a connection of its own (or, for a client that keeps
    /// them, on an idle kept-alive one to the same place, checked before reuse).
    pub(crate) async fn send(&self, wire: &Wire) -> Sent {
        let target = match self.target_for(wire) {
            Ok(target) => target,
            Err(transport) => {
                return Sent {
                    transport,
                    elapsed: Duration::ZERO,
                };
            }
        };
        let Some(kept) = &self.kept else {
            return self.connection_to(target).send(wire).await;
        };
        let place = target.as_str().to_owned();
        let idle = kept
            .lock()
            .ok()
            .and_then(|mut idle| idle.get_mut(&place).and_then(Vec::pop));
        let mut connection = idle.unwrap_or_else(|| self.connection_to(target));
        let sent = connection.send(wire).await;
        if connection.is_reusable() {
            if let Ok(mut idle) = kept.lock() {
                idle.entry(place).or_default().push(connection);
            }
        }
        sent
    }

    /// Sends several requests so that they arrive together: each on a fresh connection of
    /// its own, written up to its last byte, then every last byte released at once, then
    /// every answer read. This is how KooGallery's concurrent resends look to a merchant, made
    /// as tight as the network allows, so that a check-then-insert race is caught every time
    /// rather than when the scheduler happens to line the copies up.
    ///
    /// Each copy is a request and what its caller keeps beside it; `settle` gets both back
    /// with the copy's exchange as soon as its answer is read, and the time between the first
    /// and the last copy's final byte leaving (none when some could not even be sent) — so
    /// that copies answered together need not hold their bodies together.
    pub(crate) async fn send_together<A, T>(
        &self,
        copies: Vec<(Wire, A)>,
        settle: impl Fn(Wire, A, Sent, Option<Duration>) -> T,
    ) -> Vec<T> {
        let started = Instant::now();
        let mut connections: Vec<Connection> = copies
            .iter()
            .map(|(wire, _)| {
                self.target_for(wire)
                    .map_or_else(|_| self.connection(), |target| self.connection_to(target))
            })
            .collect();
        let staged = join_all(
            connections
                .iter_mut()
                .zip(&copies)
                .map(|(connection, (wire, _))| connection.stage(wire)),
        )
        .await;
        let mut released: Vec<Result<Instant, Transport>> = Vec::with_capacity(copies.len());
        for (connection, stage) in connections.iter_mut().zip(&staged) {
            released.push(match stage {
                Ok(()) => connection.release().await,
                Err(transport) => Err(transport.clone()),
            });
        }
        let spread = released
            .iter()
            .map(|r| r.as_ref().ok().copied())
            .collect::<Option<Vec<Instant>>>()
            .and_then(|times| {
                let first = times.iter().min()?;
                let last = times.iter().max()?;
                Some(last.duration_since(*first))
            });
        let settle = &settle;
        join_all(connections.into_iter().zip(released).zip(copies).map(
            |((mut connection, released), (wire, kept))| async move {
                let sent = match released {
                    Ok(_) => connection.finish(started).await,
                    Err(transport) => Sent {
                        transport,
                        elapsed: started.elapsed(),
                    },
                };
                drop(connection);
                settle(wire, kept, sent, spread)
            },
        ))
        .await
    }

    /// Whether the target accepts connections at all, so that "unreachable" is reported once
    /// (exit 3) rather than as a failure of every check or request.
    pub(crate) async fn preflight(&self) -> Result<(), String> {
        let label = self.target.connect_label();
        match tokio::time::timeout(self.timeout, Stream::connect(&self.target, &self.trust)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(crate::transport::stream::ConnectError::Refused(why))) => Err(why),
            // A TLS failure is the merchant's to fix, and every call will show it: the
            // target is reachable.
            Ok(Err(crate::transport::stream::ConnectError::Tls(_))) => Ok(()),
            Err(_) => Err(format!(
                "cannot connect to {label} within {}s",
                self.timeout.as_secs()
            )),
        }
    }
}
