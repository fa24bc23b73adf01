//! Reaching the merchant: what the marketplace does to a request around signing ([`wire`]:
//! edits before, tampering after, the signature made with the wall clock at send time), the
//! validated production address ([`target`]), and one HTTP/1.1 client for every caller
//! ([`client`] over [`http1`] connections over TCP or TLS, [`stream`]) with a timeout on
//! every call, a cap on every body, no redirects followed and header case kept.

pub(crate) mod client;
pub(crate) mod http1;
pub(crate) mod stream;
pub(crate) mod target;
pub mod wire;

use std::time::Duration;

use crate::marketplace::Transport;

pub use client::Client;
pub use target::{TargetError, TargetUrl};

/// The largest answer body kgsim reads (1 MiB): every documented answer is a few hundred
/// bytes, so anything near this is a broken merchant.
pub(crate) const DEFAULT_BODY_CAP: usize = 1024 * 1024;

/// What one exchange looked like from the marketplace side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    /// What the transport saw.
    pub(crate) transport: Transport,
    /// Wall time the exchange took.
    pub(crate) elapsed: Duration,
}

/// Polls futures concurrently on the current task and collects their outputs in order.
pub(crate) async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
