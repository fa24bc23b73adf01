//! The embedded reference merchant that `kgsim run` and `kgsim load` start when no
//! `--target` is given, and the access key they share with it.

use std::path::Path;

use clap::Args;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::exit;
use crate::cli::secrets::{self, SecretError};
use crate::merchant::{self, Fault, Faults, Merchant, MerchantConfig};
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::{AccessKey, Protocol};
use crate::scenario::http;

/// The flags that configure the embedded merchant (`kgsim run`, `kgsim load`).
#[derive(Debug, Args)]
pub struct EmbeddedArgs {
    /// Embedded merchant only: turn on a fault switch (repeatable), to see what kgsim reports
    /// for a broken merchant.
    #[arg(
        long = "merchant-fault",
        value_name = "NAME",
        conflicts_with = "target"
    )]
    pub merchant_faults: Vec<Fault>,
    /// Embedded merchant only: how long the `slow` fault waits, in milliseconds.
    #[arg(long, default_value_t = 25_000)]
    pub merchant_slow_ms: u64,
}

impl EmbeddedArgs {
    /// The embedded merchant these flags describe.
    pub fn merchant(&self, protocol: Protocol, encrypt_type: EncryptType) -> Embedded<'_> {
        Embedded {
            protocol,
            encrypt_type,
            faults: &self.merchant_faults,
            slow: Duration::from_millis(self.merchant_slow_ms),
        }
    }
}

/// How to set up the embedded merchant.
#[derive(Debug, Clone)]
pub struct Embedded<'a> {
    /// Protocol it speaks.
    pub protocol: Protocol,
    /// encryptType it declares (V1).
    pub encrypt_type: EncryptType,
    /// Fault switches turned on.
    pub faults: &'a [Fault],
    /// How long the `slow` fault waits.
    pub slow: Duration,
}

impl Embedded<'_> {
    /// Starts it on a free loopback port of the current runtime; returns its production
    /// address.
    pub async fn start(&self, key: &AccessKey) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let mut config = MerchantConfig::new(self.protocol, key.clone());
        config.encrypt_type = self.encrypt_type;
        config.faults = Faults::of(self.faults.iter().copied());
        config.slow = self.slow;
        tokio::spawn(merchant::serve(
            listener,
            merchant::router(Arc::new(Merchant::new(config))),
        ));
        Ok(format!("http://{address}/saasproduce"))
    }

    /// How reports name it.
    pub fn name(&self) -> String {
        if self.faults.is_empty() {
            "embedded reference merchant".to_owned()
        } else {
            let faults: Vec<String> = self.faults.iter().map(ToString::to_string).collect();
            format!(
                "embedded reference merchant with faults {}",
                faults.join(", ")
            )
        }
    }
}

/// Where to send, and how reports name it: `target` once it accepts connections, else the
/// embedded merchant, started. Otherwise the reason is printed and the exit code returned
/// (3: nothing was sent). `before` says what had not started yet, for the message.
pub async fn target_or_embedded(
    target: Option<&str>,
    embedded: &Embedded<'_>,
    key: &AccessKey,
    timeout: Duration,
    before: &str,
) -> Result<(String, String), u8> {
    match target {
        Some(url) => match http::preflight(url, timeout).await {
            Ok(()) => Ok((url.to_owned(), url.to_owned())),
            Err(why) => {
                eprintln!("error: the target is unreachable before any {before} started: {why}");
                Err(exit::COULD_NOT_RUN)
            }
        },
        None => match embedded.start(key).await {
            Ok(url) => Ok((url, embedded.name())),
            Err(error) => {
                eprintln!("error: cannot start the embedded merchant: {error}");
                Err(exit::COULD_NOT_RUN)
            }
        },
    }
}

/// The configured access key; against the embedded merchant (both sides are kgsim) a random
/// one when none is configured, so that a fresh machine needs no setup.
pub fn access_key(key_file: Option<&Path>, embedded: bool) -> Result<AccessKey, SecretError> {
    match secrets::access_key(key_file) {
        Err(SecretError::Missing { .. }) if embedded => {
            let random: [u8; 16] = rand::random();
            Ok(AccessKey::new(hex::encode(random)))
        }
        other => other,
    }
}
