//! `kgsim load`: a burst of distinct purchases, optionally resent, every answer judged.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::crypt::EncryptTypeArg;
use crate::cli::embedded::TargetArgs;
use crate::cli::exit::{self, Exit, Failure, Kind as _};
use crate::fsio;
use crate::load::{self, Plan};
use crate::marketplace::ids::Ids;
use crate::marketplace::{Settings, Span};
use crate::protocol::{AccessKey, Protocol};
use crate::transport::wire::{self, Edit};

/// Flags of `kgsim load`.
#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// Where the merchant is, and its key.
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Protocol: v1 or v2.
    #[arg(long, default_value = "v1")]
    pub(crate) protocol: Protocol,
    /// Distinct orders (one newInstance each).
    #[arg(long, default_value_t = 1000)]
    pub(crate) orders: usize,
    /// Orders in flight at once (one connection each, plus one per resend).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) concurrency: u16,
    /// Resends of each order, each with its own businessId: the first goes out together with
    /// the original, the rest together once both are answered.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=100))]
    pub(crate) resend: u16,
    /// Sending threads (default: one per core, like wrk's -t).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
    /// encryptType the merchant declares (V1).
    #[arg(long, value_enum, default_value = "1")]
    pub(crate) encrypt_type: EncryptTypeArg,
    /// Per-request timeout.
    #[arg(long, default_value = "20s")]
    pub(crate) timeout: Span,
    /// Write the figures as JSON here.
    #[arg(long, value_name = "PATH")]
    pub(crate) json: Option<PathBuf>,
    /// Print the URL of one signed purchase, exactly as the load sends it, and exit (to
    /// compare with a general-purpose load tool on the same request).
    #[arg(long, requires = "target_text")]
    pub(crate) print_request: bool,
    /// Print `--orders` signed purchases, each a new order (one URL per line, a V2 body on
    /// the line after its URL), and exit: a general-purpose load tool that sends these makes
    /// the merchant do the work `kgsim load` makes it do, not answer one duplicate again.
    #[arg(long, requires = "target_text", conflicts_with = "print_request")]
    pub(crate) print_requests: bool,
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
pub(crate) fn run(args: &LoadArgs, out: &mut dyn Write) -> Exit {
    let target = args.target.target()?;
    let key = args.target.access_key()?;
    if let (true, Some(target)) = (args.print_request || args.print_requests, target) {
        let settings = settings(args, key);
        let mut ids = Ids::new(rand::random());
        let mut request = load::purchase(&settings, &mut ids);
        let count = if args.print_requests { args.orders } else { 1 };
        let mut out = std::io::BufWriter::new(out);
        for sequence in 0..count {
            if sequence > 0 {
                // A new order, renumbered as a load worker renumbers its buyer's purchase.
                load::renumber(&mut request, &mut ids);
            }
            let form = wire::WireForm::of(&settings, sequence, 1);
            let wire = wire::sign_now(&request, &settings.access_key, &Edit::default(), None, form);
            writeln!(out, "{}", target.with_query(&wire.query))?;
            if let Some(body) = &wire.body {
                writeln!(out, "{body}")?;
            }
        }
        out.flush()?;
        return Ok(exit::OK);
    }
    if let Some(path) = args.json.as_deref().filter(|p| !fsio::is_stdout(p)) {
        fsio::check_writable(path)
            .with_context(|| format!("cannot write {}", path.display()))
            .could_not_run()?;
    }
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .could_not_run()?;
    let outcome = runtime.block_on(run_load(args, key, out))?;
    if args.json.as_deref().is_some_and(fsio::is_stdout) {
        // The JSON takes standard output; the summary goes to standard error.
        write_summary(&outcome, &mut std::io::stderr())?;
    } else {
        write_summary(&outcome, out)?;
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&summary_json(&outcome)).could_not_run()? + "\n";
        crate::cli::run::write_output(path, json.as_bytes(), "JSON summary", out)?;
    }
    Ok(if outcome.conformant() {
        exit::OK
    } else {
        exit::MISMATCH
    })
}

async fn run_load(
    args: &LoadArgs,
    key: AccessKey,
    out: &mut dyn Write,
) -> Result<load::LoadResult, Failure> {
    let timeout = Duration::from_millis(args.timeout.as_millis().max(1) as u64);
    let kind = (args.protocol, args.encrypt_type.into());
    let (client, target_name) = args
        .target
        .reach(kind, &key, timeout, "request", Default::default())
        .await?;
    let plan = Plan {
        orders: args.orders,
        resends: usize::from(args.resend),
        concurrency: usize::from(args.concurrency),
    };
    let cores = || std::thread::available_parallelism().map_or(1, usize::from);
    let threads = args.threads.map_or_else(cores, usize::from);
    writeln!(
        out,
        "kgsim load · {target_name} · {} · {} orders × (1 + {} resends) · \
         concurrency {} · {threads} threads · keep-alive HTTP/1.1 connections",
        args.protocol, args.orders, args.resend, args.concurrency,
    )?;
    let settings = settings(args, key);
    load::run(settings, client, plan, rand::random(), threads)
        .await
        .context("the load stopped")
        .could_not_run()
}

fn write_summary(outcome: &load::LoadResult, out: &mut dyn Write) -> std::io::Result<()> {
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
    if outcome.console_failures.is_empty() {
        writeln!(out, "console failures: none")?;
    } else {
        writeln!(out, "console failures:")?;
        for (check, failures) in &outcome.console_failures {
            writeln!(
                out,
                "  {check} ×{} — e.g. {}",
                failures.count, failures.example
            )?;
        }
    }
    writeln!(
        out,
        "idempotency failures: {}",
        outcome.idempotency_failures.len()
    )?;
    for failure in outcome.idempotency_failures.iter().take(10) {
        writeln!(out, "  {failure}")?;
    }
    if outcome.idempotency_failures.len() > 10 {
        let more = outcome.idempotency_failures.len() - 10;
        writeln!(out, "  … and {more} more")?;
    }
    let verdict = if outcome.conformant() {
        "conformant under load"
    } else {
        "NOT conformant under load"
    };
    writeln!(out, "verdict: {verdict}")
}

fn summary_json(outcome: &load::LoadResult) -> serde_json::Value {
    let console: serde_json::Map<String, serde_json::Value> = outcome
        .console_failures
        .iter()
        .map(|(check, f)| {
            let value = serde_json::json!({"count": f.count, "example": f.example});
            (check.id().to_owned(), value)
        })
        .collect();
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
        "console_failures": console,
        "idempotency_failures": outcome.idempotency_failures,
        "conformant": outcome.conformant(),
    })
}
