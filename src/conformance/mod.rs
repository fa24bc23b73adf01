//! Judging a scenario run, check by check: the console-parity checks on every exchange
//! ([`console`]), each step's expectations about the merchant's answers ([`answers`]) and
//! about the marketplace's state ([`state`]), the merchant's calls to the open APIs
//! ([`open_api`]), and the root-cause attribution that keeps a
//! cascade of failures from burying its cause ([`attribute`]). [`evaluate`] wires them;
//! [`verdict`] is what they say.
//!
//! The check ids themselves are the vocabulary in [`crate::checks`].

mod answers;
mod attribute;
mod console;
mod evaluate;
mod open_api;
mod state;
mod verdict;

pub(crate) use console::console_check;
pub(crate) use evaluate::evaluate;
pub(crate) use verdict::{CheckVerdict, Judged, StepVerdict};
