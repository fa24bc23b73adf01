//! Reports: one result model per run ([`model`]), normalised once ([`normalize`]), rendered to
//! the terminal ([`terminal`]).

pub mod model;
pub mod normalize;
pub mod terminal;
