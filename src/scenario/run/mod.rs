//! Performing scenarios: what a run shares ([`context`]), a fresh marketplace per scenario
//! ([`runner`], its state in [`state`]), each step's action turned into marketplace events ([`act`]), its deliveries
//! made through [`crate::deliver`], what its expectations are judged on recorded
//! ([`facts`]), many scenarios at once ([`suite`]); the steps that wait for the merchant's
//! own calls — `await`, `enter-license` ([`awaiting`]) and `login` ([`login`]). The runner
//! records into [`crate::scenario::result`]; [`crate::conformance`] judges.

mod act;
mod awaiting;
mod context;
mod facts;
mod login;
pub(crate) mod runner;
mod state;
pub(crate) mod suite;
