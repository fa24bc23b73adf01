//! `kgsim load`: a burst of distinct purchases, optionally resent, every answer judged.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::crypt::EncryptTypeArg;
use crate::cli::embedded::{self, EmbeddedArgs};
use crate::cli::exit;
use crate::marketplace::ids::Ids;
use crate::marketplace::{Settings, Span};
use crate::protocol::{AccessKey, Protocol};
use crate::scenario::http::{self, DEFAULT_BODY_CAP};
use crate::scenario::loadgen::{self, Client, Outcome, Plan};
use crate::scenario::model::Edit;
use crate::scenario::wire;

/// Flags of `kgsim load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The merchant's production address; the embedded reference merchant when omitted.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Protocol: v1 or v2.
    #[arg(long, default_value = "v1")]
    pub protocol: Protocol,
    /// Distinct orders (one newInstance each).
    #[arg(long, default_value_t = 1000)]
    pub orders: usize,
    /// Orders in flight at once (one connection each, plus one per resend).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Resends of each order after its first answer, sent together, each with its own
    /// businessId.
    #[arg(long, default_value_t = 0)]
    pub resend: usize,
    /// Sending threads (default: one per core, like wrk's -t).
    #[arg(long)]
    pub threads: Option<usize>,
    /// encryptType the merchant declares (V1).
    #[arg(long, value_enum, default_value = "1")]
    pub encrypt_type: EncryptTypeArg,
    /// Per-request timeout.
    #[arg(long, default_value = "20s")]
    pub timeout: Span,
    /// Write the figures as JSON here.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Read the access key from this file instead of KGSIM_ACCESS_KEY.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Print the URL of one signed purchase, exactly as the load sends it, and exit (to
    /// compare with a general-purpose load tool on the same request).
    #[arg(long, requires = "target")]
    pub print_request: bool,
    /// The embedded merchant's fault switches.
    #[command(flatten)]
    pub embedded: EmbeddedArgs,
}

/// The marketplace settings the load signs with.
fn settings(args: &LoadArgs, key: AccessKey) -> Settings {
    let mut settings = Settings::new(args.protocol, key);
    settings.encrypt_type = args.encrypt_type.into();
    settings.timeout = args.timeout;
    settings
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs `kgsim load`.
pub fn run(args: &LoadArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let key = embedded::access_key(args.key_file.as_deref(), args.target.is_none())?;
    if let (true, Some(url)) = (args.print_request, &args.target) {
        let settings = settings(args, key);
        let request = loadgen::purchase(&settings, &mut Ids::new(rand::random()));
        let wire = wire::sign_now(&request, &settings.access_key, &Edit::default(), None);
        writeln!(out, "{}", http::with_query(url, &wire.query))?;
        if let Some(body) = &wire.body {
            writeln!(out, "{body}")?;
        }
        return Ok(exit::OK);
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let embedded = args
            .embedded
            .merchant(args.protocol, args.encrypt_type.into());
        let timeout = Duration::from_millis(args.timeout.as_millis().max(1) as u64);
        let target = args.target.as_deref();
        let (url, target_name) =
            match embedded::target_or_embedded(target, &embedded, &key, timeout, "request").await {
                Ok(found) => found,
                Err(code) => return Ok(code),
            };
        let client = Client::for_url(&url, timeout, DEFAULT_BODY_CAP)?;
        let settings = settings(args, key);
        let plan = Plan {
            orders: args.orders,
            resends: args.resend,
            concurrency: args.concurrency,
        };
        let cores = || std::thread::available_parallelism().map_or(1, usize::from);
        let threads = args.threads.unwrap_or_else(cores);
        writeln!(
            out,
            "kgsim load · {target_name} · {} · {} orders × (1 + {} resends) · \
             concurrency {} · {threads} threads · {}",
            args.protocol,
            args.orders,
            args.resend,
            args.concurrency,
            client.describe()
        )?;
        let outcome = loadgen::run(settings, client, plan, rand::random(), threads).await?;
        write_summary(&outcome, out)?;
        if let Some(path) = &args.json {
            std::fs::write(
                path,
                serde_json::to_string_pretty(&summary_json(&outcome))? + "\n",
            )
            .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(if outcome.conformant() {
            exit::OK
        } else {
            exit::MISMATCH
        })
    })
}

fn write_summary(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "requests: {} in {:.3}s",
        outcome.requests,
        outcome.wall.as_secs_f64()
    )?;
    writeln!(out, "requests/s: {:.0}", outcome.requests_per_second())?;
    writeln!(
        out,
        "latency: p50 {:.2}ms · p90 {:.2}ms · p99 {:.2}ms · max {:.2}ms",
        ms(outcome.percentile(50.0)),
        ms(outcome.percentile(90.0)),
        ms(outcome.percentile(99.0)),
        ms(outcome.percentile(100.0))
    )?;
    let console: Vec<String> = outcome
        .console_failures
        .iter()
        .map(|(rule, n)| format!("{rule} ×{n}"))
        .collect();
    writeln!(
        out,
        "console failures: {}",
        if console.is_empty() {
            "none".to_owned()
        } else {
            console.join(", ")
        }
    )?;
    writeln!(
        out,
        "idempotency failures: {}",
        outcome.idempotency_failures.len()
    )?;
    for failure in outcome.idempotency_failures.iter().take(10) {
        writeln!(out, "  {failure}")?;
    }
    if outcome.idempotency_failures.len() > 10 {
        writeln!(
            out,
            "  … and {} more",
            outcome.idempotency_failures.len() - 10
        )?;
    }
    let verdict = if outcome.conformant() {
        "conformant under load"
    } else {
        "NOT conformant under load"
    };
    writeln!(out, "verdict: {verdict}")
}

fn summary_json(outcome: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "requests": outcome.requests,
        "wall_s": outcome.wall.as_secs_f64(),
        "requests_per_second": outcome.requests_per_second(),
        "latency_ms": {
            "p50": ms(outcome.percentile(50.0)),
            "p90": ms(outcome.percentile(90.0)),
            "p99": ms(outcome.percentile(99.0)),
            "max": ms(outcome.percentile(100.0)),
        },
        "console_failures": outcome.console_failures,
        "idempotency_failures": outcome.idempotency_failures,
        "conformant": outcome.conformant(),
    })
}
