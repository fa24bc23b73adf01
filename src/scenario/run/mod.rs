//! Performing scenarios: a fresh marketplace per scenario ([`runner`]), each step's action
//! turned into marketplace events ([`act`]), its deliveries signed, sent and judged through
//! [`crate::transport`] ([`perform`]), what its expectations are judged on recorded
//! ([`facts`]), answers cut down to size once judged ([`record`]), many scenarios at once
//! ([`suite`]); the steps that wait for the merchant's own calls — `await`, `enter-license`
//! ([`awaiting`]) and `login` ([`login`]). The runner records; [`crate::conformance`]
//! judges.

mod act;
mod awaiting;
pub mod facts;
mod login;
pub mod perform;
pub(crate) mod publish;
pub mod record;
pub mod runner;
pub mod suite;
