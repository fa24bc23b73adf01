//! Reports: one result model per run ([`model`]) with its run-level [`diagnosis`], normalised
//! once ([`normalize`], the made-up ids aliased by [`aliases`]), rendered to
//! the terminal ([`terminal`]), JUnit XML ([`junit`]), JSON (the model itself, serialised;
//! schema in `docs/report-format.md`) and per-scenario transcripts ([`transcript`]) compared
//! against accepted snapshots ([`snapshot`]).

mod aliases;
pub mod diagnosis;
mod fields;
pub mod junit;
pub mod leftovers;
pub mod model;
mod normalize;
pub mod redact;
pub mod snapshot;
pub mod terminal;
pub mod transcript;
