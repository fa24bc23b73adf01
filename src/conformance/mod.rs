//! Judging a scenario run, check by check: the console-parity checks on every exchange
//! ([`console`]), each step's expectations about the merchant's answers ([`answers`]) and
//! about the marketplace's state ([`state`]), the merchant's calls to the open APIs
//! ([`open_api`]), and the root-cause attribution that keeps a
//! cascade of failures from burying its cause ([`attribute`]). [`evaluate`] wires them.
//!
//! The check ids themselves are the vocabulary in [`crate::checks`].

mod answers;
mod attribute;
mod console;
mod evaluate;
mod open_api;
mod state;

pub(crate) use console::console_check;
pub(crate) use evaluate::{CheckVerdict, StepVerdict, evaluate};

/// An expectation's verdict before it is placed in its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judged {
    /// Whether it held.
    pub(crate) passed: bool,
    /// What happened.
    pub(crate) message: String,
    /// What was expected.
    pub(crate) expected: String,
    /// What came back.
    pub(crate) got: String,
    /// The calls (by id) it failed on.
    pub(crate) failing_calls: Vec<usize>,
}
