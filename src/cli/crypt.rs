//! `kgsim crypt`: encrypt and decrypt V1 sensitive fields exactly as the marketplace and a
//! conforming merchant do, show the derived AES key for comparison with a Java port, and
//! encrypt or decrypt the Kit's RSA-OAEP `clientSecret` (naming the OAEP digests a
//! ciphertext was made with).

use std::io::Write;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use crate::cli::exit::{self, Exit, Kind as _};
use crate::cli::secrets;
use crate::cli::sign::KeyArgs;
use crate::protocol::v1::crypto::{self, EncryptType, Iv};
use crate::protocol::v1::extend_params;
use crate::protocol::v2::client_secret::{MerchantPrivateKey, MerchantPublicKey, OaepDigest};

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
    /// The Kit's clientSecret: RSA-OAEP with the merchant's key pair (spec V2 §3.3).
    #[command(subcommand)]
    RsaOaep(RsaOaepCommand),
}

/// `kgsim crypt rsa-oaep …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RsaOaepCommand {
    /// Encrypt a client secret as the marketplace does: Base64(RSA-OAEP(value)).
    Encrypt {
        /// The merchant's public key (PEM, or the Base64 body the console takes).
        #[arg(long, value_name = "PEM")]
        public_key: PathBuf,
        /// sha256-mgf1-sha1 (the default), sha1 or sha256.
        #[arg(long, default_value = "sha256-mgf1-sha1")]
        digest: OaepDigest,
        /// The plaintext.
        value: String,
    },
    /// Decrypt a clientSecret with the merchant's private key; without --digest, every
    /// reading is tried and the one that works is named.
    Decrypt {
        /// The merchant's private key (PEM, PKCS#8 or PKCS#1), from a file only.
        #[arg(long, value_name = "PEM")]
        private_key: PathBuf,
        /// The OAEP digests: sha256-mgf1-sha1, sha1 or sha256 (all tried when omitted).
        #[arg(long)]
        digest: Option<OaepDigest>,
        /// The Base64 ciphertext.
        value: String,
    },
}

fn read_key(path: &std::path::Path) -> Result<String, exit::Failure> {
    crate::fsio::read_text_capped(path, crate::fsio::KEY_FILE_CAP).could_not_run()
}

/// Runs `kgsim crypt rsa-oaep …`.
fn rsa_oaep(command: RsaOaepCommand, out: &mut dyn Write) -> Exit {
    match command {
        RsaOaepCommand::Encrypt {
            public_key,
            digest,
            value,
        } => {
            let key = MerchantPublicKey::parse(&read_key(&public_key)?).usage()?;
            let ciphertext = key.encrypt(digest, &mut rand::rng(), &value).usage()?;
            writeln!(out, "digest: {digest}\nciphertext: {ciphertext}")?;
            Ok(exit::OK)
        }
        RsaOaepCommand::Decrypt {
            private_key,
            digest,
            value,
        } => {
            let key = MerchantPrivateKey::parse(&read_key(&private_key)?).usage()?;
            let Some(digest) = digest.or_else(|| key.which_digest(&value)) else {
                writeln!(
                    out,
                    "error: the ciphertext decrypts with no OAEP reading (sha256-mgf1-sha1, sha1, sha256): wrong key, PKCS#1 v1.5 padding, or not Base64"
                )?;
                return Ok(exit::MISMATCH);
            };
            match key.decrypt(digest, &value) {
                Ok(plain) => {
                    writeln!(out, "digest: {digest}\nplaintext: {plain}")?;
                    Ok(exit::OK)
                }
                Err(error) => {
                    writeln!(out, "error: {error}")?;
                    Ok(exit::MISMATCH)
                }
            }
        }
    }
}

/// Runs `kgsim crypt …`.
pub(crate) fn run(command: CryptCommand, out: &mut dyn Write) -> Exit {
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
        CryptCommand::RsaOaep(command) => rsa_oaep(command, out),
    }
}
