//! Delivering the marketplace's calls: one attempt signed at send time, sent through the one
//! client and judged as the console judges ([`attempt`]); the answer's facts taken and the
//! answer cut down to a bounded size ([`cut`]); and the one loop that runs an engine until
//! an instant, batch by batch, reporting to an observer ([`batch`]).
//!
//! Between [`crate::transport`] (the bytes on the socket) and [`crate::scenario`] (what a
//! scenario does): the scenario runner and the console both deliver through here, so a
//! merchant is judged the same way by both.

pub(crate) mod attempt;
pub(crate) mod batch;
pub(crate) mod cut;

pub use attempt::{AttemptFault, EngineView, Performed};
pub use batch::{Collect, Completed, LostTask, Observer, Taken, resume, run_until};
