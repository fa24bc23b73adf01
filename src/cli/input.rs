//! Reading what the user names on the command line: bodies from files or standard input,
//! byte for byte and capped, and `NAME=VALUE` / `Name: value` pairs.

use std::io::Read;
use std::path::Path;

use crate::cli::exit::{Failure, Kind as _};
use crate::fsio::{self, INPUT_FILE_CAP};

/// Reads a body from a file, or from standard input when the path is `-`, at most
/// [`INPUT_FILE_CAP`] bytes.
///
/// The bytes are taken exactly as they are, trailing newline included: signatures cover the
/// exact body, so kgsim never trims it.
pub(crate) fn read_body(path: &Path) -> Result<Vec<u8>, Failure> {
    if path != Path::new("-") {
        return fsio::read_capped(path, INPUT_FILE_CAP).could_not_run();
    }
    let mut body = Vec::new();
    std::io::stdin()
        .take(INPUT_FILE_CAP + 1)
        .read_to_end(&mut body)
        .map_err(|e| anyhow::anyhow!("cannot read the body from standard input: {e}"))
        .could_not_run()?;
    if body.len() as u64 > INPUT_FILE_CAP {
        return Err(Failure::Usage(anyhow::anyhow!(
            "the body on standard input is larger than {}",
            fsio::human_bytes(INPUT_FILE_CAP)
        )));
    }
    Ok(body)
}

/// Parses `NAME=VALUE`.
pub(crate) fn parse_pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

/// Parses `Name: value`.
pub(crate) fn parse_header(text: &str) -> Result<(String, String), String> {
    text.split_once(':')
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .ok_or_else(|| format!("`{text}` is not 'Name: value'"))
}
