//! The open-API calls the reference merchant owes and has not finished: what lets a run
//! against the embedded merchant stop waiting the moment it is done, instead of waiting out a
//! quiet window as it must for a merchant it cannot see into.
//!
//! The merchant takes a [`Busy`] before it answers the request that obliges it to call (a
//! purchase to query and meter, a License code to activate, a License to upload, an order
//! notified) and drops it once the call it owes now has been answered. Each obligation names
//! its subject (the order, the License code, the upload event), so that a scenario can wait
//! for the calls about its own orders while other scenarios run beside it. The run sees only
//! those names, through [`Outstanding::watch`] — a plain channel, so that nothing of kgsim's
//! judgement depends on the merchant's code.

use std::sync::Arc;

use tokio::sync::watch;

/// Shared between the merchant and the run: the obligations that are open.
#[derive(Debug, Clone)]
pub(crate) struct Outstanding(Arc<watch::Sender<Vec<String>>>);

impl Default for Outstanding {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(Vec::new())))
    }
}

impl Outstanding {
    /// One more obligation about `subject`, open until the returned guard is dropped.
    pub(crate) fn begin(&self, subject: &str) -> Busy {
        self.0.send_modify(|open| open.push(subject.to_owned()));
        Busy {
            outstanding: self.clone(),
            subject: subject.to_owned(),
        }
    }

    /// The subject of every open obligation (once per obligation), for whoever waits for
    /// them to close.
    pub(crate) fn watch(&self) -> watch::Receiver<Vec<String>> {
        self.0.subscribe()
    }

    /// Returns once nothing is open (at once when nothing is).
    #[cfg(test)]
    async fn idle(&self) {
        let mut open = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = open.wait_for(Vec::is_empty).await;
    }
}

/// An open obligation; dropping it closes it.
#[derive(Debug)]
pub(crate) struct Busy {
    outstanding: Outstanding,
    subject: String,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.outstanding.0.send_modify(|open| {
            if let Some(at) = open.iter().position(|s| *s == self.subject) {
                open.swap_remove(at);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_once_every_obligation_is_dropped() {
        let outstanding = Outstanding::default();
        outstanding.idle().await;
        let first = outstanding.begin("CS1");
        let second = outstanding.begin("CS2");
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

    #[tokio::test]
    async fn each_obligation_names_its_subject_until_it_closes() {
        let outstanding = Outstanding::default();
        let watch = outstanding.watch();
        let first = outstanding.begin("CS1");
        let again = outstanding.begin("CS1");
        let other = outstanding.begin("PL-9");
        assert_eq!(*watch.borrow(), ["CS1", "CS1", "PL-9"]);
        drop(first);
        let mut open = watch.borrow().clone();
        open.sort();
        assert_eq!(
            open,
            ["CS1", "PL-9"],
            "one of the two about CS1 is still open"
        );
        drop((again, other));
        assert!(watch.borrow().is_empty());
    }
}
