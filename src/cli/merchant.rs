//! `kgsim merchant`: serve the reference merchant, correct or with fault switches.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::crypt::EncryptTypeArg;
use crate::cli::exit::{Exit, Kind as _};
use crate::cli::{exit, secrets};
use crate::merchant::{self, Fault, Faults, Merchant, MerchantConfig};
use crate::protocol::Protocol;

/// Flags of `kgsim merchant`.
#[derive(Debug, Args)]
pub(crate) struct MerchantArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Protocol to speak.
    #[arg(long, default_value = "v1")]
    pub(crate) protocol: Protocol,
    /// V1: the encryptType declared and used for credentials.
    #[arg(long, value_enum, default_value = "1")]
    pub(crate) encrypt_type: EncryptTypeArg,
    /// Turn on a fault switch (repeatable); see --list-faults.
    #[arg(long = "fault", value_name = "NAME")]
    pub(crate) faults: Vec<Fault>,
    /// How long the `slow` fault waits before answering, in milliseconds.
    #[arg(long, default_value_t = 25_000)]
    pub(crate) slow_ms: u64,
    /// V2: answer newInstance with 000004 and finish provisioning on the next queryInstance.
    #[arg(long)]
    pub(crate) async_provisioning: bool,
    /// Call the marketplace's open APIs at this base URL (`kgsim openapi`'s): query-order
    /// after V2 purchases, usage for on-demand instances, License activation by the software
    /// at /software/license. AK/SK from KGSIM_OPENAPI_AK / KGSIM_OPENAPI_SK.
    #[arg(long, value_name = "URL")]
    pub(crate) openapi: Option<String>,
    /// Trust this CA (PEM) for an https:// open-API base URL.
    #[arg(long, value_name = "PEM", requires = "openapi")]
    pub(crate) openapi_ca: Option<PathBuf>,
    /// 联营: serve the Kit syncs under /produceAPI/v2/… and the login callback at
    /// /sso/callback, with a fresh 3072-bit RSA key pair whose public half is written to
    /// --kit-public-key-out (give it to `kgsim run --kit-public-key`). Kit key from
    /// KGSIM_KIT_KEY (or the access key).
    #[arg(long)]
    pub(crate) kit: bool,
    /// Where --kit writes the merchant's RSA public key (PEM).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "kgsim-merchant-kit-public.pem"
    )]
    pub(crate) kit_public_key_out: PathBuf,
    /// The OAEP digests the merchant decrypts clientSecret with.
    #[arg(long, default_value = "sha256-mgf1-sha1")]
    pub(crate) kit_oaep_digest: crate::protocol::v2::client_secret::OaepDigest,
    /// List the fault switches and exit.
    #[arg(long)]
    pub(crate) list_faults: bool,
    /// Read the access key from this file instead of KGSIM_ACCESS_KEY.
    #[arg(long, value_name = "PATH")]
    pub(crate) key_file: Option<PathBuf>,
}

/// Runs the merchant until interrupted.
pub(crate) fn run(args: MerchantArgs, out: &mut dyn Write) -> Exit {
    if args.list_faults {
        for fault in Fault::ALL {
            let name = match fault {
                Fault::FailFirst(_) => "fail-first=N".to_owned(),
                Fault::RaceWindow(_) => "race-window=MS".to_owned(),
                other => other.to_string(),
            };
            writeln!(out, "{name:28} {}", fault.description())?;
        }
        return Ok(exit::OK);
    }
    let key = secrets::access_key(args.key_file.as_deref())?;
    let mut config = MerchantConfig::new(args.protocol, key);
    config.encrypt_type = args.encrypt_type.into();
    config.faults = Faults::of(args.faults);
    config.slow = Duration::from_millis(args.slow_ms);
    config.async_provisioning = args.async_provisioning;
    let keys = secrets::interface_keys()?;
    config.license_key = keys.license_code;
    config.notify_key = keys.notify;
    if args.kit {
        let private_key = crate::protocol::v2::client_secret::MerchantPrivateKey::generate(
            crate::protocol::v2::client_secret::MIN_KEY_BITS,
        )
        .context("cannot generate the Kit's RSA key pair")
        .could_not_run()?;
        crate::fsio::write_atomic(
            &args.kit_public_key_out,
            private_key.public_key().to_pem().as_bytes(),
        )
        .with_context(|| format!("cannot write {}", args.kit_public_key_out.display()))
        .could_not_run()?;
        config.kit = Some(merchant::KitConfig {
            key: keys.kit,
            private_key,
            digest: args.kit_oaep_digest,
        });
    }
    if let Some(base_url) = &args.openapi {
        let app_key = std::env::var(secrets::OPENAPI_AK_ENV)
            .map_err(|_| anyhow::anyhow!("--openapi needs {} (the AK)", secrets::OPENAPI_AK_ENV))
            .usage()?;
        let ca_pem = args
            .openapi_ca
            .as_deref()
            .map(|path| crate::fsio::read_text_capped(path, crate::fsio::INPUT_FILE_CAP))
            .transpose()
            .could_not_run()?;
        config.open_api = Some(merchant::client::OpenApiClientConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            app_key,
            app_secret: secrets::app_secret(None)?,
            ca_pem,
            outstanding: merchant::owed::Outstanding::default(),
        });
    }
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .could_not_run()?;
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("error: cannot listen on {}: {error}", args.listen);
                return Ok(exit::COULD_NOT_RUN);
            }
        };
        let address = listener.local_addr()?;
        let faults: Vec<String> = config.faults.list().iter().map(ToString::to_string).collect();
        writeln!(out, "listening: http://{address}/saasproduce")?;
        writeln!(out, "protocol: {}", config.protocol)?;
        if config.kit.is_some() {
            writeln!(out, "kit public key: {}", args.kit_public_key_out.display())?;
            writeln!(out, "login callback: http://{address}{}", merchant::LOGIN_PATH)?;
        }
        writeln!(out, "faults: {}", if faults.is_empty() { "none".to_owned() } else { faults.join(", ") })?;
        out.flush()?;
        let app = merchant::router(Arc::new(Merchant::new(config)));
        tokio::select! {
            served = merchant::serve(listener, app) => served.map(|()| exit::OK).context("the listener failed").could_not_run(),
            _ = tokio::signal::ctrl_c() => Ok(exit::OK),
        }
    })
}
