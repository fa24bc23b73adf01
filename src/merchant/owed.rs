//! The open-API calls the reference merchant owes and has not finished: what lets a run
//! against the embedded merchant stop waiting the moment it is done, instead of waiting out a
//! quiet window as it must for a merchant it cannot see into.
//!
//! The merchant takes a [`Busy`] before it answers the request that obliges it to call (a
//! purchase to query and meter, a License code to activate, a License to upload, an order
//! notified) and drops it once the call it owes now has been answered. The run sees only the
//! count, through [`Outstanding::watch`] — a plain channel, so that nothing of kgsim's
//! judgement depends on the merchant's code.

use std::sync::Arc;

use tokio::sync::watch;

/// Shared between the merchant and the run: how many obligations are open.
#[derive(Debug, Clone)]
pub(crate) struct Outstanding(Arc<watch::Sender<usize>>);

impl Default for Outstanding {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }
}

impl Outstanding {
    /// One more obligation, open until the returned guard is dropped.
    pub(crate) fn begin(&self) -> Busy {
        self.0.send_modify(|open| *open += 1);
        Busy(self.clone())
    }

    /// The count of open obligations, for whoever waits for it to reach zero.
    pub(crate) fn watch(&self) -> watch::Receiver<usize> {
        self.0.subscribe()
    }

    /// Returns once nothing is open (at once when nothing is).
    #[cfg(test)]
    async fn idle(&self) {
        let mut open = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = open.wait_for(|open| *open == 0).await;
    }
}

/// An open obligation; dropping it closes it.
#[derive(Debug)]
pub(crate) struct Busy(Outstanding);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.0.send_modify(|open| *open = open.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_once_every_obligation_is_dropped() {
        let outstanding = Outstanding::default();
        outstanding.idle().await;
        let first = outstanding.begin();
        let second = outstanding.begin();
        let waiter = tokio::spawn({
            let outstanding = outstanding.clone();
            async move { outstanding.idle().await }
        });
        drop(first);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "one is still open");
        drop(second);
        waiter.await.unwrap();
        outstanding.idle().await;
    }
}
