//! Where secrets come from: environment variables or files, never the command line (which
//! other users can read from the process table) and never any output.

use std::path::{Path, PathBuf};

use crate::protocol::AccessKey;

/// The environment variable holding the KooGallery access key.
pub const ACCESS_KEY_ENV: &str = "KGSIM_ACCESS_KEY";
/// The environment variable holding an API Gateway app secret (SK).
pub const APP_SECRET_ENV: &str = "KGSIM_APP_SECRET";

/// A secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Neither the variable nor a file was given.
    #[error("no {what}: set {env} or pass {flag} PATH")]
    Missing {
        /// What the secret is.
        what: &'static str,
        /// The environment variable.
        env: &'static str,
        /// The file flag.
        flag: &'static str,
    },
    /// The file could not be read.
    #[error("cannot read {what} from {path}: {source}")]
    File {
        /// What the secret is.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The secret is empty.
    #[error("the {what} is empty")]
    Empty {
        /// What the secret is.
        what: &'static str,
    },
}

fn load(
    what: &'static str,
    env: &'static str,
    flag: &'static str,
    file: Option<&Path>,
) -> Result<AccessKey, SecretError> {
    let value = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|source| SecretError::File {
                what,
                path: path.to_owned(),
                source,
            })?
            // A key file written by an editor or `echo` ends with a newline that is not part
            // of the key.
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        None => std::env::var(env).map_err(|_| SecretError::Missing { what, env, flag })?,
    };
    if value.is_empty() {
        return Err(SecretError::Empty { what });
    }
    Ok(AccessKey::new(value))
}

/// The access key from `--key-file` or `KGSIM_ACCESS_KEY`.
pub fn access_key(key_file: Option<&Path>) -> Result<AccessKey, SecretError> {
    load("access key", ACCESS_KEY_ENV, "--key-file", key_file)
}

/// The APIGW app secret from `--secret-file` or `KGSIM_APP_SECRET`.
pub fn app_secret(secret_file: Option<&Path>) -> Result<AccessKey, SecretError> {
    load("app secret", APP_SECRET_ENV, "--secret-file", secret_file)
}
