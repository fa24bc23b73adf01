//! The open APIs during `kgsim run`: served beside the marketplace on a port of their own,
//! sharing its orders, instances and License codes, judging every call the merchant makes.
//! Against the embedded merchant they need no setup; against your own merchant, give kgsim
//! the AK/SK your merchant signs with and point the merchant at the base URL kgsim prints.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::cli::exit::{Failure, Kind as _};
use crate::cli::secrets::{self, OPENAPI_AK_ENV};
use crate::fsio;
use crate::marketplace::Span;
use crate::merchant::client::OpenApiClientConfig;
use crate::merchant::owed::Outstanding;
use crate::open_api::{self, Book, Keys, Running};
use crate::protocol::AccessKey;
use crate::protocol::open_api::OpenApiUse;

/// The flags about the open APIs (`kgsim run`).
#[derive(Debug, Clone, Args)]
pub(crate) struct OpenApiFlags {
    /// An open API the product's systems call (repeatable): query-order, usage-push, license.
    /// Replaces the profile's list (by default: query-order for V2, usage-push for on-demand).
    #[arg(long = "open-api", value_name = "NAME")]
    pub(crate) uses: Vec<OpenApiUse>,
    /// Where the open APIs are served during the run.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub(crate) openapi_listen: SocketAddr,
    /// Serve the open APIs over HTTPS with a CA generated for the run.
    #[arg(long)]
    pub(crate) openapi_https: bool,
    /// With --openapi-https: write the CA certificate (PEM) here for the merchant to trust.
    #[arg(long, value_name = "PATH", default_value = "kgsim-openapi-ca.pem")]
    pub(crate) openapi_ca_out: PathBuf,
    /// Where the merchant's shipped software takes a License code (`POST {"license": …}`);
    /// the embedded merchant's own when omitted.
    #[arg(long, value_name = "URL")]
    pub(crate) software_url: Option<String>,
    /// Wait at most this long (wall time) in every `await` step, instead of each step's
    /// `within` (30s by default).
    #[arg(long, value_name = "DURATION", value_parser = parse_within)]
    pub(crate) await_within: Option<Span>,
}

fn parse_within(text: &str) -> Result<Span, String> {
    let span: Span = text.parse().map_err(|e| format!("{e}"))?;
    if span.as_millis() <= 0 || span.as_millis() > 600_000 {
        return Err("must be more than 0s and at most 10m".into());
    }
    Ok(span)
}

/// The open APIs, served, and how the embedded merchant reaches them.
pub(crate) struct Served {
    /// The server (stopped when dropped).
    pub(crate) running: Running,
    /// What the embedded merchant's client needs.
    pub(crate) client: OpenApiClientConfig,
}

impl OpenApiFlags {
    /// Serves the open APIs with the merchant's AK/SK (`KGSIM_OPENAPI_AK`/`_SK`); against the
    /// embedded merchant a generated pair when none is set; otherwise not at all (`None`),
    /// and the scenarios that need them are skipped with the reason.
    pub(crate) async fn serve(
        &self,
        usage_key: &AccessKey,
        embedded: bool,
    ) -> Result<Option<Served>, Failure> {
        let configured = std::env::var(OPENAPI_AK_ENV)
            .ok()
            .zip(secrets::app_secret(None).ok());
        let (app_key, app_secret) = match configured {
            Some(pair) => pair,
            None if embedded => {
                let random: [u8; 16] = rand::random();
                (
                    "kgsim-embedded-ak".to_owned(),
                    AccessKey::new(hex::encode(random)),
                )
            }
            None => return Ok(None),
        };
        if self.openapi_https {
            fsio::check_writable(&self.openapi_ca_out).could_not_run()?;
        }
        let book = Book::new();
        open_api::mock::seed(&book, open_api::server::wall_now());
        let keys = Keys {
            app_key: app_key.clone(),
            app_secret: app_secret.clone(),
            usage_key: usage_key.clone(),
        };
        let running = open_api::start(self.openapi_listen, book, keys, self.openapi_https)
            .await
            .could_not_run()?;
        if let Some(ca) = &running.ca_pem {
            fsio::write_atomic(&self.openapi_ca_out, ca.as_bytes()).could_not_run()?;
        }
        let client = OpenApiClientConfig {
            base_url: running.base_url.clone(),
            app_key,
            app_secret,
            ca_pem: running.ca_pem.clone(),
            outstanding: Outstanding::default(),
        };
        Ok(Some(Served { running, client }))
    }
}

/// Why the open APIs are not served, for a run whose product calls them.
pub(crate) const NOT_SERVED: &str = "note: the open APIs are not served: set KGSIM_OPENAPI_AK and KGSIM_OPENAPI_SK to the AK/SK your merchant signs open-API calls with; the scenarios that need them are skipped, and a run that needs them is incomplete";
