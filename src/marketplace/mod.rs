//! The simulated marketplace: orders and instances with their lifecycle, per-activity retry
//! policies, the virtual clock, and the classification of a merchant's answer exactly as the
//! console's debug page judges it.
//!
//! Pure and synchronous: nothing here performs I/O or reads the system clock. The engine
//! hands out deliveries as values ([`Delivery`]) and takes the judgement of each answer back,
//! which is what lets three hours of retries — or months of a subscription — be unit-tested
//! in microseconds.

pub mod classify;
pub(crate) mod clock;
pub(crate) mod engine;
pub(crate) mod events;
pub mod ids;
pub mod kind;
pub(crate) mod kit;
pub(crate) mod lifecycle;
pub(crate) mod requests;
pub(crate) mod retry;
pub(crate) mod sample;
pub mod settings;
pub(crate) mod transitions;

pub use classify::{
    Context, Finding, Injection, Judgement, RawResponse, Rule, Transport, classify,
};
pub use clock::Span;
pub use engine::{Call, CallId, CallState, Delivery, EngineError, Marketplace};
pub use events::{CallOptions, Purchase, PurchaseSpec};
pub use lifecycle::{InstanceRef, InstanceState, OrderId, OrderState};
pub use settings::Settings;
#[cfg(test)]
mod tests;
