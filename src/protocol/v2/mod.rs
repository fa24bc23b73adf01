//! SaaS V2: POST JSON requests signed in the query string, unsigned JSON answers, and the
//! joint-operation Kit header signature (spec: koogallery-v2-kit-license.md §1–3).

pub mod canonical;
pub mod kit;
pub mod messages;
pub mod signature;
