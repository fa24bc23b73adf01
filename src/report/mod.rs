//! Reports: one result model per run ([`model`], made by [`build`]) with its run-level
//! [`diagnosis`], normalised once ([`normalize`], the made-up ids aliased by [`aliases`]), rendered to
//! the terminal ([`terminal`]), JUnit XML ([`junit`]), JSON (the model itself, serialised;
//! schema in `docs/report-format.md`) and per-scenario transcripts ([`transcript`]) compared
//! against accepted snapshots ([`snapshot`]).

mod aliases;
pub(crate) mod build;
pub(crate) mod coverage;
pub(crate) mod diagnosis;
mod fields;
pub(crate) mod junit;
pub(crate) mod leftovers;
pub(crate) mod model;
mod normalize;
pub(crate) mod redact;
pub(crate) mod snapshot;
pub(crate) mod terminal;
pub(crate) mod transcript;
