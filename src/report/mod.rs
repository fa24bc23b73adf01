//! Reports: one result model per run, rendered to the terminal, JUnit XML, versioned JSON
//! and normalised snapshot transcripts. Not yet filled.
