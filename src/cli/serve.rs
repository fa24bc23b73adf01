//! `kgsim serve`: the local seller console, until interrupted.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::exit::{Exit, Kind as _};
use crate::cli::{exit, secrets};
use crate::console::{self, ServeConfig};

/// Flags of `kgsim serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (loopback by default; anything else is reachable from the
    /// network and is warned about).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub(crate) listen: SocketAddr,
    /// The SQLite database that keeps the console's state (created on first start).
    #[arg(long, default_value = "kgsim-console.db")]
    pub(crate) db: PathBuf,
    /// Read the access key from this file instead of KGSIM_ACCESS_KEY.
    #[arg(long, value_name = "PATH")]
    pub(crate) key_file: Option<PathBuf>,
    /// Also serve requests whose Host is this name (repeatable), e.g. a container's name.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub(crate) allow_hosts: Vec<String>,
    /// Also serve the open APIs (query-order, usage push, License) and the identity centre
    /// here, answering from the console's orders and instances; AK/SK from KGSIM_OPENAPI_AK
    /// and KGSIM_OPENAPI_SK.
    #[arg(long, value_name = "ADDR")]
    pub(crate) openapi_listen: Option<SocketAddr>,
}

/// Logs to standard error: the ticker's and the handlers' errors always; each request too
/// with `KGSIM_LOG=debug` (`error`, `warn`, `info` — the default —, `debug`, `trace`).
fn init_logging() {
    let level = std::env::var("KGSIM_LOG")
        .ok()
        .and_then(|text| text.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    // A second initialisation (tests start several consoles in one process) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .try_init();
}

/// Serves the console until interrupted.
pub(crate) fn run(args: &ServeArgs, out: &mut dyn Write) -> Exit {
    init_logging();
    let key = secrets::access_key(args.key_file.as_deref())?;
    let open_api = match args.openapi_listen {
        Some(listen) => {
            let app_key = std::env::var(secrets::OPENAPI_AK_ENV)
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--openapi-listen needs {} (the AK)",
                        secrets::OPENAPI_AK_ENV
                    )
                })
                .usage()?;
            let keys = crate::open_api::Keys {
                app_key,
                app_secret: secrets::app_secret(None)?,
                usage_key: key.clone(),
            };
            Some((listen, keys))
        }
        None => None,
    };
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .could_not_run()?;
    runtime.block_on(async {
        let config = ServeConfig {
            listen: args.listen,
            db: args.db.clone(),
            key,
            keys: secrets::interface_keys()?,
            allow_hosts: args.allow_hosts.clone(),
            tick: Duration::from_secs(1),
            open_api,
        };
        let running = console::start(config).await.could_not_run()?;
        let address = running.address;
        if !console::http::guard::is_loopback(address) {
            writeln!(
                out,
                "warning: listening on {address}, which is reachable from the network; anyone who can reach it can drive the console and call your merchant"
            )?;
        }
        for warning in &running.warnings {
            writeln!(out, "warning: {warning}")?;
        }
        writeln!(out, "database: {}", args.db.display())?;
        if let Some((base_url, _)) = &running.open_api {
            writeln!(out, "open APIs: {base_url}")?;
        }
        writeln!(out, "api: http://{address}/api/openapi.json")?;
        writeln!(out, "console: http://{address}/")?;
        out.flush()?;
        tokio::select! {
            () = running.wait() => Ok(exit::COULD_NOT_RUN),
            _ = tokio::signal::ctrl_c() => Ok(exit::OK),
        }
    })
}
