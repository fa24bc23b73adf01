//! Where secrets come from: environment variables or files, never the command line (which
//! other users can read from the process table) and never any output.

use std::path::Path;

use crate::cli::exit::Failure;
use crate::fsio::{self, KEY_FILE_CAP};
use crate::protocol::AccessKey;

/// The environment variable holding the KooGallery access key.
pub(crate) const ACCESS_KEY_ENV: &str = "KGSIM_ACCESS_KEY";
/// The environment variable holding the merchant's open-API secret key (SK).
pub(crate) const OPENAPI_SK_ENV: &str = "KGSIM_OPENAPI_SK";
/// The same, under the name `kgsim sign apigw` first used.
pub(crate) const APP_SECRET_ENV: &str = "KGSIM_APP_SECRET";
/// The environment variable holding the merchant's open-API app key (AK); not secret.
pub(crate) const OPENAPI_AK_ENV: &str = "KGSIM_OPENAPI_AK";

/// A secret, where it comes from and how it failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SecretError {
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
    /// The variable is set, but not to UTF-8 text.
    #[error("{env} is set, but not to UTF-8 text; keys are text")]
    NotUtf8 {
        /// The environment variable.
        env: &'static str,
    },
    /// The file could not be read (or is far too large to be a key).
    #[error("cannot use the {what} file: {cause}")]
    File {
        /// What the secret is.
        what: &'static str,
        /// Why (its message names the file and the cause once; not a `source`, so that the
        /// cause is not printed twice).
        cause: fsio::ReadError,
    },
    /// The secret is empty.
    #[error("the {what} is empty")]
    Empty {
        /// What the secret is.
        what: &'static str,
    },
}

impl From<SecretError> for Failure {
    /// A file that cannot be read kept the run from happening (exit 3); a missing, empty or
    /// malformed secret is a configuration the user must fix (exit 2).
    fn from(error: SecretError) -> Self {
        match error {
            SecretError::File { .. } => Self::CouldNotRun(error.into()),
            _ => Self::Usage(error.into()),
        }
    }
}

fn load(
    what: &'static str,
    env: &'static str,
    flag: &'static str,
    file: Option<&Path>,
) -> Result<AccessKey, SecretError> {
    let value = match file {
        Some(path) => fsio::read_text_capped(path, KEY_FILE_CAP)
            .map_err(|cause| SecretError::File { what, cause })?
            // A key file written by an editor or `echo` ends with a newline that is not part
            // of the key.
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        None => match std::env::var(env) {
            Ok(value) => value,
            Err(std::env::VarError::NotPresent) => {
                return Err(SecretError::Missing { what, env, flag });
            }
            Err(std::env::VarError::NotUnicode(_)) => return Err(SecretError::NotUtf8 { env }),
        },
    };
    if value.is_empty() {
        return Err(SecretError::Empty { what });
    }
    Ok(AccessKey::new(value))
}

/// The access key from `--key-file` or `KGSIM_ACCESS_KEY`.
pub(crate) fn access_key(key_file: Option<&Path>) -> Result<AccessKey, SecretError> {
    load("access key", ACCESS_KEY_ENV, "--key-file", key_file)
}

/// The APIGW app secret (SK) from `--secret-file`, `KGSIM_OPENAPI_SK` or `KGSIM_APP_SECRET`.
pub(crate) fn app_secret(secret_file: Option<&Path>) -> Result<AccessKey, SecretError> {
    if secret_file.is_none() && std::env::var_os(OPENAPI_SK_ENV).is_none() {
        return load("app secret", APP_SECRET_ENV, "--secret-file", None).map_err(|e| match e {
            SecretError::Missing { what, flag, .. } => SecretError::Missing {
                what,
                env: OPENAPI_SK_ENV,
                flag,
            },
            other => other,
        });
    }
    load("app secret", OPENAPI_SK_ENV, "--secret-file", secret_file)
}

/// The environment variables of the keys bound to the other interface types (spec V2 §1.2).
pub(crate) const KIT_KEY_ENV: &str = "KGSIM_KIT_KEY";
/// License授权码交付接口.
pub(crate) const LICENSE_KEY_ENV: &str = "KGSIM_LICENSE_KEY";
/// 通用接口 (order notification).
pub(crate) const NOTIFY_KEY_ENV: &str = "KGSIM_NOTIFY_KEY";

/// A key bound to another interface type, when its variable is set (`None`: the access key
/// signs those calls too).
fn bound_key(what: &'static str, env: &'static str) -> Result<Option<AccessKey>, SecretError> {
    match load(what, env, "", None) {
        Ok(key) => Ok(Some(key)),
        Err(SecretError::Missing { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The Kit, License-code and notification keys from `KGSIM_KIT_KEY`, `KGSIM_LICENSE_KEY`
/// and `KGSIM_NOTIFY_KEY`; each unset one falls back to the access key.
pub(crate) fn interface_keys() -> Result<crate::marketplace::settings::InterfaceKeys, SecretError> {
    Ok(crate::marketplace::settings::InterfaceKeys {
        kit: bound_key("Kit key", KIT_KEY_ENV)?,
        license_code: bound_key("License-code key", LICENSE_KEY_ENV)?,
        notify: bound_key("order-notification key", NOTIFY_KEY_ENV)?,
    })
}
