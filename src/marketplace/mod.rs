//! The simulated marketplace: orders and instances with their lifecycle, per-activity retry
//! policies, the virtual clock, and the classification of a merchant's answer exactly as the
//! console's debug page judges it.
//!
//! Pure and synchronous: it hands out deliveries as values and takes their outcomes back.
//! Not yet filled.
