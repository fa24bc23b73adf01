//! `kgsim openapi`: serve the marketplace's open APIs on their real paths, with the MOCK data,
//! and print every call the merchant makes with what it broke.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::cli::exit::{Exit, Kind as _};
use crate::cli::{exit, secrets};
use crate::fsio;
use crate::open_api::{self, Book, Keys, MerchantCall};
use crate::protocol::open_api::Endpoint;

/// Flags of `kgsim openapi`.
#[derive(Debug, Args)]
pub(crate) struct OpenApiArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub(crate) listen: SocketAddr,
    /// Serve HTTPS with a CA generated now (the real hosts are HTTPS-only).
    #[arg(long)]
    pub(crate) https: bool,
    /// With --https: write the CA certificate (PEM) here, for the merchant to trust.
    #[arg(long, value_name = "PATH", default_value = "kgsim-openapi-ca.pem")]
    pub(crate) ca_out: PathBuf,
    /// The merchant's app key (AK); KGSIM_OPENAPI_AK by default.
    #[arg(long, env = secrets::OPENAPI_AK_ENV, value_name = "AK")]
    pub(crate) app_key: String,
    /// Read the app secret (SK) from this file instead of KGSIM_OPENAPI_SK.
    #[arg(long, value_name = "PATH")]
    pub(crate) secret_file: Option<PathBuf>,
    /// Read the access key that signs usage pushes from this file instead of KGSIM_ACCESS_KEY.
    #[arg(long, value_name = "PATH")]
    pub(crate) key_file: Option<PathBuf>,
}

/// One line per call: `#3 usage-push POST /… → 500 MKT.9002`, then its findings.
pub(crate) fn describe(call: &MerchantCall) -> String {
    let code = crate::protocol::open_api::answer_code(&call.answer).unwrap_or_default();
    let name = call.endpoint.as_ref().map_or("unknown", Endpoint::name);
    let mut text = format!(
        "#{} {name} {} → {} {code}",
        call.number, call.request_line, call.status
    );
    for finding in &call.findings {
        text.push_str(&format!("\n    ✗ {} — {}", finding.check, finding.message));
    }
    text
}

/// Runs the open APIs until interrupted.
pub(crate) fn run(args: &OpenApiArgs, out: &mut dyn Write) -> Exit {
    let keys = Keys {
        app_key: args.app_key.clone(),
        app_secret: secrets::app_secret(args.secret_file.as_deref())?,
        usage_key: secrets::access_key(args.key_file.as_deref())?,
    };
    if args.https {
        fsio::check_writable(&args.ca_out).could_not_run()?;
    }
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .could_not_run()?;
    runtime.block_on(async {
        let book = Book::new();
        open_api::mock::seed(&book, open_api::server::wall_now());
        let running = open_api::start(args.listen, book.clone(), keys, args.https)
            .await
            .could_not_run()?;
        writeln!(out, "base-url: {}", running.base_url)?;
        if let Some(ca) = &running.ca_pem {
            fsio::write_atomic(&args.ca_out, ca.as_bytes()).could_not_run()?;
            writeln!(out, "ca: {}", args.ca_out.display())?;
        }
        for endpoint in Endpoint::FIXED {
            writeln!(out, "path: {} {}", endpoint.method(), endpoint.path())?;
        }
        let upload = Endpoint::Upload {
            event_id: "{event_id}".to_owned(),
        };
        writeln!(out, "path: POST {}", upload.path())?;
        writeln!(out, "mock orders: {}", mock_orders())?;
        out.flush()?;
        tokio::select! {
            () = print_calls(&book, out) => Ok(exit::OK),
            _ = tokio::signal::ctrl_c() => Ok(exit::OK),
        }
    })
}

fn mock_orders() -> String {
    crate::protocol::open_api::order::MOCK_ORDERS
        .iter()
        .map(|(id, ..)| *id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints each call as it arrives (woken by the book, never polling).
async fn print_calls(book: &Book, out: &mut dyn Write) {
    let mut printed = 0;
    loop {
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400);
        book.wait_for(far, |state| state.calls.len() > printed)
            .await;
        let calls: Vec<MerchantCall> = book.lock().calls[printed..].to_vec();
        for call in &calls {
            let _ = writeln!(out, "{}", describe(call));
        }
        let _ = out.flush();
        printed += calls.len();
    }
}
