//! `kgsim run`: drive a merchant (or the embedded reference merchant) through scenarios and
//! report conformance check by check. Everything is checked before the first request — the
//! target, the profile, the scenarios, the output paths — so that a run either happens and is
//! recorded, or stops at once with the reason.

use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::crypt::EncryptTypeArg;
use crate::cli::embedded::{Embedded, TargetArgs};
use crate::cli::exit::{self, Exit, Failure, Kind as _};
use crate::cli::open_api_link::{NOT_SERVED, OpenApiFlags, Served};
use crate::cli::product::{KitKeys, ProductFlags};
use crate::fsio::{self, INPUT_FILE_CAP};
use crate::marketplace::Span;
use crate::marketplace::kind::Interfaces;
use crate::marketplace::settings::{InterfaceKeys, KitSettings};
use crate::pipeline::{SuiteRun, run_suite};
use crate::protocol::{Activity, BillingMode, Protocol, UnixMillis};
use crate::report::junit;
use crate::report::model::{Report, RunVerdict};
use crate::report::snapshot::{Mode, Snapshots};
use crate::report::terminal::{self, Colour};
use crate::scenario::format::diagnostics::{Style, render};
use crate::scenario::format::model::Scenario;
use crate::scenario::profile::redactions::Redactions;
use crate::scenario::profile::{Overrides, Profile};
use crate::scenario::run::runner::OpenApiLink;
use crate::scenario::sources::{self, Loaded};

/// The merchant and the product: what `kgsim run` and `kgsim explore` share.
#[derive(Debug, Clone, Args)]
pub(crate) struct SetupArgs {
    /// Where the merchant is, and its key.
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// The open APIs the merchant calls.
    #[command(flatten)]
    pub(crate) open_api: OpenApiFlags,
    /// What is sold, the Kit, order notification.
    #[command(flatten)]
    pub(crate) product: ProductFlags,
    /// The product profile (TOML); flags override it.
    #[arg(long, value_name = "FILE")]
    pub(crate) profile: Option<PathBuf>,
    /// Protocol: v1 or v2.
    #[arg(long)]
    pub(crate) protocol: Option<Protocol>,
    /// Billing mode: period, one-time, on-demand, package.
    #[arg(long)]
    pub(crate) billing: Option<BillingMode>,
    /// encryptType the merchant declares: 1 (AES-256) or 2 (AES-128).
    #[arg(long, value_enum)]
    pub(crate) encrypt_type: Option<EncryptTypeArg>,
    /// An optional interface the product implements (repeatable), beyond the ones its kind
    /// requires: upgrade, query-instance, instance-status (V1 period), change-instance-check
    /// (V2 period). Replaces the profile's list.
    #[arg(long = "interface", value_name = "NAME")]
    pub(crate) interfaces: Vec<Activity>,
    /// Per-call timeout (default 20s, the console's).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub(crate) timeout: Option<Span>,
}

/// Flags of `kgsim run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files or directories (recursively); the built-in suite when none.
    pub(crate) paths: Vec<PathBuf>,
    /// The merchant and the product.
    #[command(flatten)]
    pub(crate) setup: SetupArgs,
    /// Scenarios run at once (I/O-bound: not the core count).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: u16,
    /// Only scenarios whose name or file contains PATTERN (`*` wildcards), or `tag:NAME`;
    /// repeatable (a scenario matching any runs).
    #[arg(long, value_name = "PATTERN")]
    pub(crate) filter: Vec<String>,
    /// Seed for order and business ids (random by default, so reruns never collide).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Write the JSON report here (schema: docs/report-format.md); `-` for standard output
    /// (the human report then goes to standard error).
    #[arg(long, value_name = "PATH")]
    pub(crate) json: Option<PathBuf>,
    /// Write a JUnit XML report here (one test case per scenario); `-` for standard output.
    #[arg(long, value_name = "PATH")]
    pub(crate) junit: Option<PathBuf>,
    /// Where transcripts are kept and compared.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub(crate) snapshots: PathBuf,
    /// Accept every transcript of this run as the new snapshot.
    #[arg(long, conflicts_with = "no_snapshots")]
    pub(crate) update_snapshots: bool,
    /// Do not compare or write transcripts.
    #[arg(long)]
    pub(crate) no_snapshots: bool,
    /// Redact an answer field from transcripts (a JSON path such as appInfo.userName;
    /// repeatable), for values that change from run to run.
    #[arg(long = "redact", value_name = "PATH")]
    pub(crate) redact: Vec<String>,
    /// Show every failed scenario's timeline, also those the run's diagnosis explains.
    #[arg(long, short)]
    pub(crate) verbose: bool,
    /// Exit 0 when nothing failed although scenarios the product's kind requires did not run
    /// for want of configuration (the verdict still says "incomplete"): for local use, never
    /// for a gate.
    #[arg(long)]
    pub(crate) allow_incomplete: bool,
    /// Start every scenario's virtual clock here (`yyyyMMddHHmmss`, UTC) instead of now, for
    /// reports that are identical from run to run.
    #[arg(long, value_name = "TIME", value_parser = parse_start)]
    pub(crate) virtual_start: Option<UnixMillis>,
}

fn parse_start(text: &str) -> Result<UnixMillis, String> {
    UnixMillis::parse_compact(text).map_err(|e| e.to_string())
}

fn parse_timeout(text: &str) -> Result<Span, String> {
    match text.parse::<Span>() {
        Ok(span) if span.as_millis() > 0 && span <= Span::hours(1) => Ok(span),
        Ok(_) => Err(format!("`{text}` is not a timeout between 1ms and 1h")),
        Err(error) => Err(error.to_string()),
    }
}

use crate::open_api::IDENTITY_UNSERVED;

/// Loads scenarios from paths, or the built-in suite.
pub(crate) fn load(paths: &[PathBuf]) -> Loaded {
    if paths.is_empty() {
        sources::builtin()
    } else {
        sources::load_paths(paths)
    }
}

pub(crate) fn diagnostics_style() -> Style {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Style::Terminal
    } else {
        Style::Plain
    }
}

/// Prints every file's problems to stderr; returns whether there were any.
pub(crate) fn report_problems(loaded: &Loaded) -> bool {
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    for problems in &loaded.problems {
        eprint!("{}", render(problems, diagnostics_style()));
    }
    !loaded.problems.is_empty()
}

pub(crate) fn resolve_profile(args: &SetupArgs) -> Result<Profile, Failure> {
    let overrides = Overrides {
        protocol: args.protocol,
        billing: args.billing,
        encrypt_type: args.encrypt_type.map(Into::into),
        interfaces: (!args.interfaces.is_empty()).then(|| args.interfaces.clone()),
        timeout: args.timeout,
        open_apis: (!args.open_api.uses.is_empty()).then(|| args.open_api.uses.clone()),
        product: args.product.product,
        kit: args.product.kit.then_some(true),
        kit_public_key: (args.product.kit_public_key.as_ref()).map(|p| p.display().to_string()),
        kit_oaep_digest: args.product.kit_oaep_digest,
        login_url: args.product.login_url.clone(),
        order_notify: args.product.order_notify.clone(),
    };
    let profile = match &args.profile {
        None => Profile::with_overrides(&overrides),
        Some(path) => {
            let text = fsio::read_text_capped(path, INPUT_FILE_CAP).could_not_run()?;
            Profile::load(&path.display().to_string(), &text, &overrides).map_err(|problems| {
                eprint!("{}", render(&problems, diagnostics_style()));
                Failure::Reported(exit::USAGE)
            })?
        }
    };
    match profile.invalid() {
        Some(why) => Err(Failure::Usage(anyhow::anyhow!(why))),
        None => Ok(profile),
    }
}

fn select_scenarios(args: &RunArgs) -> Result<Vec<Arc<Scenario>>, Failure> {
    let loaded = load(&args.paths);
    if report_problems(&loaded) {
        return Err(Failure::Reported(exit::USAGE));
    }
    crate::pipeline::select(loaded.scenarios, &args.filter)
        .map_err(|message| Failure::Usage(anyhow::anyhow!(message)))
}

/// Whether this is a CI run (`CI=true`, as GitHub Actions, GitLab CI and most others set).
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Where transcripts go, and what the run may write there.
fn snapshots(args: &RunArgs) -> Option<Snapshots> {
    if args.no_snapshots {
        return None;
    }
    let mode = if args.update_snapshots {
        Mode::Update
    } else if in_ci() {
        Mode::ReadOnly
    } else {
        Mode::Pending
    };
    Some(Snapshots {
        dir: args.snapshots.clone(),
        mode,
    })
}

/// Checks every output path before the run, so that a run is never lost for want of a
/// writable report file.
fn check_outputs(args: &RunArgs, snapshots: Option<&Snapshots>) -> Result<(), Failure> {
    if args.junit.as_deref().is_some_and(fsio::is_stdout)
        && args.json.as_deref().is_some_and(fsio::is_stdout)
    {
        return Err(anyhow::anyhow!(
            "--junit and --json cannot both go to standard output (`-`): give one a file"
        ))
        .usage();
    }
    for (flag, path) in [("--junit", &args.junit), ("--json", &args.json)] {
        if let Some(path) = path.as_deref().filter(|p| !fsio::is_stdout(p)) {
            fsio::check_writable(path)
                .with_context(|| format!("cannot write the {flag} report to {}", path.display()))
                .could_not_run()?;
        }
    }
    if let Some(snapshots) = snapshots.filter(|s| s.mode != Mode::ReadOnly) {
        fsio::check_writable_dir(&snapshots.dir)
            .with_context(|| format!("cannot write snapshots under {}", snapshots.dir.display()))
            .could_not_run()?;
    }
    Ok(())
}

/// Runs `kgsim run`.
pub(crate) fn run(args: &RunArgs, out: &mut dyn Write) -> Exit {
    args.setup.target.target()?;
    let profile = resolve_profile(&args.setup)?;
    for note in Interfaces::ignored_notes(profile.kind(), &profile.interfaces) {
        eprintln!("{note}");
    }
    let scenarios = select_scenarios(args)?;
    let redactions = Redactions::parse(args.redact.iter().map(String::as_str))
        .usage()?
        .merged(profile.redactions());
    let snapshots = snapshots(args);
    check_outputs(args, snapshots.as_ref())?;
    let key = args.setup.target.access_key()?;
    let keys = crate::cli::secrets::interface_keys()?;
    let embedded = args.setup.target.target_text.is_none();
    let kit_keys = ProductFlags::kit_keys(&profile, embedded)?;
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .could_not_run()?;
    let report = runtime.block_on(async {
        let (mut run, _served) =
            prepare(&args.setup, profile, key, scenarios, (keys, kit_keys)).await?;
        run.seed = args.seed.unwrap_or(run.seed);
        run.start = args.virtual_start;
        run.jobs = usize::from(args.jobs);
        run.snapshots = snapshots.clone();
        run.redactions = redactions;
        let progress = progress_bar(run.scenarios.len());
        let on_done = |_: &crate::scenario::result::ScenarioRun| {
            if let Some(bar) = &progress {
                bar.inc(1);
            }
        };
        let report = run_suite(run, &on_done).await;
        if let Some(bar) = &progress {
            bar.finish_and_clear();
        }
        report
            .with_context(|| format!("cannot write snapshots under {}", args.snapshots.display()))
            .could_not_run()
    })?;
    write_reports(&report, args, out)?;
    Ok(match report.verdict {
        RunVerdict::Conformant => exit::OK,
        RunVerdict::Incomplete if args.allow_incomplete => exit::OK,
        RunVerdict::Incomplete | RunVerdict::NotConformant => exit::MISMATCH,
    })
}

/// Everything before the first scenario: the open APIs served, the merchant reached (or the
/// embedded one started), the notification address, the Kit's settings. The open APIs stop
/// when the returned handle is dropped.
pub(crate) async fn prepare(
    args: &SetupArgs,
    profile: Profile,
    key: crate::protocol::AccessKey,
    scenarios: Vec<Arc<Scenario>>,
    (keys, kit_keys): (InterfaceKeys, Option<KitKeys>),
) -> Result<(SuiteRun, Option<Served>), Failure> {
    let embedded = args.target.target_text.is_none();
    let timeout = Duration::from_millis(profile.timeout.as_millis().max(1) as u64);
    let kind = (profile.protocol, profile.encrypt_type);
    let served = args.open_api.serve(&key, embedded).await?;
    if served.is_none() && !profile.open_apis().is_empty() {
        eprintln!("{NOT_SERVED}");
    }
    if let (Some(served), false) = (&served, embedded) {
        eprintln!(
            "open APIs at {} (AK from KGSIM_OPENAPI_AK)",
            served.running.base_url
        );
    }
    let extras = Embedded {
        open_api: served.as_ref().map(|s| s.client.clone()),
        kit: kit_keys
            .as_ref()
            .and_then(|k| k.private.clone())
            .map(|private_key| crate::merchant::KitConfig {
                key: keys.kit.clone(),
                private_key,
                digest: profile.kit.digest,
            }),
        license_key: keys.license_code.clone(),
        notify_key: keys.notify.clone(),
    };
    let (client, target_name) = args
        .target
        .reach(kind, &key, timeout, "scenario", extras)
        .await?;
    let client = match ProductFlags::notify_target(&profile, client.target())? {
        Some(notify) => client.with_notify(notify),
        None => client,
    };
    let software_url =
        args.open_api.software_url.clone().or_else(|| {
            embedded.then(|| client.target().with_path(crate::merchant::SOFTWARE_PATH))
        });
    let login_url = profile
        .kit
        .login_url
        .clone()
        .or_else(|| embedded.then(|| client.target().with_path(crate::merchant::LOGIN_PATH)));
    let kit = kit_keys.map(|k| KitSettings {
        public_key: k.public,
        digest: profile.kit.digest,
        domain_name: served.as_ref().map_or_else(
            || IDENTITY_UNSERVED.to_owned(),
            |s| s.running.base_url.clone(),
        ),
    });
    let link = served.as_ref().map(|s| {
        let mut link = OpenApiLink::new(s.running.book.clone(), software_url);
        link.await_within = args.open_api.await_within;
        link.merchant_owes = embedded.then(|| s.client.outstanding.watch());
        link
    });
    let mut run = SuiteRun::new(profile, key, client, scenarios);
    run.target_name = target_name;
    run.open_api = link;
    run.keys = keys;
    run.kit = kit;
    run.login_url = login_url;
    Ok((run, served))
}

/// The terminal report, then the JUnit and JSON files (see [`fsio::write_atomic`]); a report
/// written to standard output (`-`) moves the terminal report to standard error.
fn write_reports(report: &Report, args: &RunArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let to_stdout = [&args.junit, &args.json]
        .into_iter()
        .any(|p| p.as_deref().is_some_and(fsio::is_stdout));
    if to_stdout {
        let colour = Colour::detect(std::io::stderr().is_terminal());
        eprint!("{}", terminal::render(report, colour, args.verbose));
    } else {
        let colour = Colour::detect(std::io::stdout().is_terminal());
        write!(out, "{}", terminal::render(report, colour, args.verbose))?;
    }
    if let Some(path) = &args.junit {
        let xml = junit::render(report).could_not_run()?;
        write_output(path, xml.as_bytes(), "JUnit report", out)?;
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(report).could_not_run()? + "\n";
        write_output(path, json.as_bytes(), "JSON report", out)?;
    }
    Ok(())
}

/// Writes an output to its path, or to `out` for `-`.
pub(crate) fn write_output(
    path: &Path,
    bytes: &[u8],
    what: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if fsio::is_stdout(path) {
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write the {what} to standard output"))
            .could_not_run();
    }
    fsio::write_atomic(path, bytes)
        .with_context(|| format!("cannot write the {what} to {}", path.display()))
        .could_not_run()
}

fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    if len < 2 {
        return None;
    }
    bar_on_terminal(len as u64, "{bar:30} {pos}/{len} scenarios {elapsed}")
}

/// A progress bar of `len` in `template`, on standard error when it is a terminal (never in
/// a log or a pipe).
pub(crate) fn bar_on_terminal(len: u64, template: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
