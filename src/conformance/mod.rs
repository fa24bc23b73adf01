//! The checks: a registry of stable check ids with their rationale and spec section, and the
//! evaluation of a scenario run into check outcomes — the always-on console-parity checks on
//! every exchange, and each step's expectations.

pub mod evaluate;
pub mod registry;

pub use evaluate::{Outcome, StepVerdict, evaluate};
pub use registry::{CHECKS, Check, Family};

/// The check id of a console classification rule (`body-sign` → `console.body-sign`).
pub fn console_check(rule: &str) -> &'static str {
    CHECKS
        .iter()
        .find(|c| c.id.strip_prefix("console.") == Some(rule))
        .map_or("console.transport", |c| c.id)
}
