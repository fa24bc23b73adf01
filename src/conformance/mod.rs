//! The check registry: stable check ids, a one-line rationale and the spec section of each,
//! and one file per family (console parity, idempotency, security, lifecycle, retry).
//! Not yet filled.
