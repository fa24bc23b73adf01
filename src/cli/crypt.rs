//! `kgsim crypt`: encrypt and decrypt V1 sensitive fields exactly as the marketplace and a
//! conforming merchant do, and show the derived AES key for comparison with a Java port.

use std::io::Write;

use clap::{Subcommand, ValueEnum};

use crate::cli::exit::{self, Kind as _, Outcome};
use crate::cli::secrets;
use crate::cli::sign::KeyArgs;
use crate::protocol::v1::crypto::{self, EncryptType, Iv};
use crate::protocol::v1::extend_params;

/// `--encrypt-type` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EncryptTypeArg {
    /// AES-256-CBC (encryptType 1, the default).
    #[value(name = "1")]
    Aes256,
    /// AES-128-CBC (encryptType 2).
    #[value(name = "2")]
    Aes128,
}

impl From<EncryptTypeArg> for EncryptType {
    fn from(value: EncryptTypeArg) -> Self {
        match value {
            EncryptTypeArg::Aes256 => Self::Aes256,
            EncryptTypeArg::Aes128 => Self::Aes128,
        }
    }
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum CryptCommand {
    /// Encrypt a value: IV + Base64(AES-CBC-PKCS5(value)).
    Encrypt {
        /// 1 = AES-256, 2 = AES-128.
        #[arg(long, value_enum, default_value = "1")]
        encrypt_type: EncryptTypeArg,
        /// The 16-character IV; random when omitted.
        #[arg(long)]
        iv: Option<String>,
        /// The plaintext.
        value: String,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Decrypt a value produced by the marketplace or a merchant.
    Decrypt {
        /// 1 = AES-256, 2 = AES-128.
        #[arg(long, value_enum, default_value = "1")]
        encrypt_type: EncryptTypeArg,
        /// The IV-prefixed ciphertext.
        value: String,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Print the AES key SHA1PRNG derives from the access key (sensitive: it decrypts fields).
    DeriveKey {
        /// 1 = AES-256 (32 bytes), 2 = AES-128 (16 bytes).
        #[arg(long, value_enum, default_value = "1")]
        encrypt_type: EncryptTypeArg,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Decode a saasExtendParams value to its JSON array.
    ExtendParams {
        /// The parameter value (URL-encoded Base64, or bare Base64).
        value: String,
    },
}

/// Runs `kgsim crypt …`.
pub(crate) fn run(command: CryptCommand, out: &mut dyn Write) -> Outcome {
    match command {
        CryptCommand::Encrypt {
            encrypt_type,
            iv,
            value,
            key,
        } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let iv = match iv {
                Some(text) => text.parse::<Iv>().usage()?,
                None => Iv::random(),
            };
            writeln!(
                out,
                "ciphertext: {}",
                crypto::encrypt(&key, encrypt_type.into(), &iv, &value)
            )?;
            Ok(exit::OK)
        }
        CryptCommand::Decrypt {
            encrypt_type,
            value,
            key,
        } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            match crypto::decrypt(&key, encrypt_type.into(), &value) {
                Ok(plain) => {
                    writeln!(out, "plaintext: {plain}")?;
                    Ok(exit::OK)
                }
                Err(error) => {
                    writeln!(out, "error: {error}")?;
                    Ok(exit::MISMATCH)
                }
            }
        }
        CryptCommand::DeriveKey { encrypt_type, key } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let encrypt_type = EncryptType::from(encrypt_type);
            let derived = crypto::derive_key(key.expose_bytes(), encrypt_type.key_len());
            writeln!(out, "aes-key: {}", hex::encode(derived))?;
            Ok(exit::OK)
        }
        CryptCommand::ExtendParams { value } => match extend_params::decode(&value) {
            Ok(params) => {
                writeln!(
                    out,
                    "params: {}",
                    serde_json::to_string(&params).could_not_run()?
                )?;
                Ok(exit::OK)
            }
            Err(error) => {
                writeln!(out, "error: {error}")?;
                Ok(exit::MISMATCH)
            }
        },
    }
}
