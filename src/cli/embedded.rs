//! Reaching the merchant for `kgsim run` and `kgsim load`: the target the user named, once it
//! accepts connections, or the embedded reference merchant, started on a free port — and the
//! access key both sides share.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::exit::{Failure, Kind as _};
use crate::cli::secrets::{self, SecretError};
use crate::merchant::client::OpenApiClientConfig;
use crate::merchant::{self, Fault, Faults, Merchant, MerchantConfig};
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::{AccessKey, Protocol};
use crate::transport::stream::Trust;
use crate::transport::{Client, TargetUrl};

/// What the embedded merchant is started with beyond protocol and key: its open-API client,
/// its Kit key pair, the keys of the other interface types.
#[derive(Default)]
pub(crate) struct Embedded {
    /// How it reaches the open APIs.
    pub(crate) open_api: Option<OpenApiClientConfig>,
    /// 联营: its Kit key and RSA private key.
    pub(crate) kit: Option<merchant::KitConfig>,
    /// The License-code key.
    pub(crate) license_key: Option<AccessKey>,
    /// The order-notification key.
    pub(crate) notify_key: Option<AccessKey>,
}

/// The flags that say where the merchant is (`kgsim run`, `kgsim load`).
#[derive(Debug, Clone, Args)]
pub(crate) struct TargetArgs {
    /// The merchant's production address, e.g. http://localhost:8080/saasproduce; the embedded
    /// reference merchant when omitted. (Checked after parsing, so that no message ever echoes
    /// credentials someone put in it.)
    #[arg(long = "target", value_name = "URL")]
    pub(crate) target_text: Option<String>,
    /// Also trust the CA certificates in this PEM file for an https:// target (a staging
    /// certificate of your own).
    #[arg(long, value_name = "PEM", requires = "target_text")]
    pub(crate) target_ca: Option<PathBuf>,
    /// Read the access key from this file instead of KGSIM_ACCESS_KEY.
    #[arg(long, value_name = "PATH")]
    pub(crate) key_file: Option<PathBuf>,
    /// Embedded merchant only: turn on a fault switch (repeatable), to see what kgsim reports
    /// for a broken merchant.
    #[arg(
        long = "merchant-fault",
        value_name = "NAME",
        conflicts_with = "target_text"
    )]
    pub(crate) merchant_faults: Vec<Fault>,
    /// Embedded merchant only: how long the `slow` fault waits, in milliseconds.
    #[arg(long, default_value_t = 25_000)]
    pub(crate) merchant_slow_ms: u64,
}

impl TargetArgs {
    /// The production address the user named, checked.
    pub(crate) fn target(&self) -> Result<Option<TargetUrl>, Failure> {
        self.target_text
            .as_deref()
            .map(TargetUrl::parse)
            .transpose()
            .usage()
    }

    /// The configured access key; against the embedded merchant (both sides are kgsim) a
    /// random one when none is configured, so that a fresh machine needs no setup.
    pub(crate) fn access_key(&self) -> Result<AccessKey, Failure> {
        match secrets::access_key(self.key_file.as_deref()) {
            Err(SecretError::Missing { .. }) if self.target_text.is_none() => {
                let random: [u8; 16] = rand::random();
                Ok(AccessKey::new(hex::encode(random)))
            }
            other => Ok(other?),
        }
    }

    /// How reports name the merchant.
    fn embedded_name(&self) -> String {
        if self.merchant_faults.is_empty() {
            return "embedded reference merchant".to_owned();
        }
        let faults: Vec<String> = self
            .merchant_faults
            .iter()
            .map(ToString::to_string)
            .collect();
        format!(
            "embedded reference merchant with faults {}",
            faults.join(", ")
        )
    }

    /// Starts the embedded merchant on a free loopback port of the current runtime.
    async fn start_embedded(
        &self,
        protocol: Protocol,
        encrypt_type: EncryptType,
        key: &AccessKey,
        extras: Embedded,
    ) -> std::io::Result<TargetUrl> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let mut config = MerchantConfig::new(protocol, key.clone());
        config.encrypt_type = encrypt_type;
        config.faults = Faults::of(self.merchant_faults.iter().copied());
        config.slow = Duration::from_millis(self.merchant_slow_ms);
        config.open_api = extras.open_api;
        config.kit = extras.kit;
        config.license_key = extras.license_key;
        config.notify_key = extras.notify_key;
        tokio::spawn(merchant::serve(
            listener,
            merchant::router(Arc::new(Merchant::new(config))),
        ));
        TargetUrl::parse(&format!("http://{address}/saasproduce")).map_err(std::io::Error::other)
    }

    /// The client for the target once it accepts connections, or for the embedded merchant,
    /// started; and how reports name it. `before` says what had not started yet, for the
    /// message when the target is unreachable (exit 3: nothing was sent).
    pub(crate) async fn reach(
        &self,
        (protocol, encrypt_type): (Protocol, EncryptType),
        key: &AccessKey,
        timeout: Duration,
        before: &str,
        extras: Embedded,
    ) -> Result<(Client, String), Failure> {
        let trust = Trust::new(self.target_ca.as_deref()).usage()?;
        let Some(target) = self.target()? else {
            let url = self
                .start_embedded(protocol, encrypt_type, key, extras)
                .await
                .context("cannot start the embedded merchant")
                .could_not_run()?;
            let client = Client::new(url, trust, timeout).keeping_connections();
            return Ok((client, self.embedded_name()));
        };
        let name = target.to_string();
        let client = Client::new(target, trust, timeout);
        client
            .preflight()
            .await
            .map_err(|why| {
                anyhow::anyhow!("the target is unreachable before any {before} started: {why}")
            })
            .could_not_run()?;
        Ok((client, name))
    }
}
