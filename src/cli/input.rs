//! Reading bodies from files or standard input, byte for byte.

use std::io::Read;
use std::path::Path;

use anyhow::Context as _;

/// Reads a body from a file, or from standard input when the path is `-`.
///
/// The bytes are taken exactly as they are, trailing newline included: signatures cover the
/// exact body, so kgsim never trims it.
pub fn read_body(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut body = Vec::new();
        std::io::stdin()
            .read_to_end(&mut body)
            .context("cannot read the body from standard input")?;
        Ok(body)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read the body from {}", path.display()))
    }
}

/// Parses `NAME=VALUE`.
pub fn parse_pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

/// Parses `Name: value`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    text.split_once(':')
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .ok_or_else(|| format!("`{text}` is not 'Name: value'"))
}
