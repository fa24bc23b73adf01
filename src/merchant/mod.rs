//! The reference merchant: a correct V1 and V2 production interface kept in memory, with
//! fault switches that turn it into each kind of broken merchant. Depends on
//! [`crate::protocol`] only. Not yet filled.
