//! `kgsim run`: drive a merchant (or the embedded reference merchant) through scenarios and
//! report conformance check by check.

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;

use crate::cli::crypt::EncryptTypeArg;
use crate::cli::embedded::{self, EmbeddedArgs};
use crate::cli::exit;
use crate::conformance::{evaluate, registry};
use crate::marketplace::Span;
use crate::protocol::{AccessKey, BillingMode, Protocol};
use crate::report::junit;
use crate::report::model::{ProfileSummary, ReportContext, build};
use crate::report::snapshot::{Mode, Snapshots};
use crate::report::terminal::{self, Colour};
use crate::scenario::diagnostics::{Style, render};
use crate::scenario::http::{DEFAULT_BODY_CAP, Target};
use crate::scenario::model::Interface;
use crate::scenario::profile::{Overrides, Profile};
use crate::scenario::runner::RunContext;
use crate::scenario::suite::{self, DEFAULT_JOBS, Loaded};

/// Flags of `kgsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or directories (recursively); the built-in suite when none.
    pub paths: Vec<PathBuf>,
    /// The merchant's production address, e.g. http://localhost:8080/saasproduce; the embedded
    /// reference merchant when omitted.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The product profile (TOML); flags override it.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Protocol: v1 or v2.
    #[arg(long)]
    pub protocol: Option<Protocol>,
    /// Billing mode: period, one-time, on-demand, package.
    #[arg(long)]
    pub billing: Option<BillingMode>,
    /// encryptType the merchant declares: 1 (AES-256) or 2 (AES-128).
    #[arg(long, value_enum)]
    pub encrypt_type: Option<EncryptTypeArg>,
    /// An optional interface the product implements (repeatable): upgrade, query-instance,
    /// change-instance-check. Replaces the profile's list.
    #[arg(long = "interface", value_name = "NAME", value_parser = parse_interface)]
    pub interfaces: Vec<Interface>,
    /// Per-call timeout (default 20s, the console's).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<Span>,
    /// Scenarios run at once (I/O-bound: not the core count).
    #[arg(long, default_value_t = DEFAULT_JOBS)]
    pub jobs: usize,
    /// Only scenarios whose name or file contains PATTERN (`*` wildcards), or `tag:NAME`;
    /// repeatable (a scenario matching any runs).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
    /// Seed for order and business ids (random by default, so reruns never collide).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the JSON report here (schema: docs/report-format.md).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report here (one test case per scenario).
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Where transcripts are kept and compared.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    pub snapshots: PathBuf,
    /// Accept every transcript of this run as the new snapshot.
    #[arg(long, conflicts_with = "no_snapshots")]
    pub update_snapshots: bool,
    /// Do not compare or write transcripts.
    #[arg(long)]
    pub no_snapshots: bool,
    /// Start every scenario's virtual clock here (`yyyyMMddHHmmss`, UTC) instead of now, for
    /// reports that are identical from run to run.
    #[arg(long, value_name = "TIME", value_parser = parse_start)]
    pub virtual_start: Option<crate::protocol::UnixMillis>,
    /// Read the access key from this file instead of KGSIM_ACCESS_KEY.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// The embedded merchant's fault switches.
    #[command(flatten)]
    pub embedded: EmbeddedArgs,
}

fn parse_start(text: &str) -> Result<crate::protocol::UnixMillis, String> {
    crate::protocol::UnixMillis::parse_compact(text).map_err(|e| e.to_string())
}

fn parse_interface(text: &str) -> Result<Interface, String> {
    Interface::ALL
        .into_iter()
        .find(|i| i.name() == text)
        .ok_or_else(|| format!("`{text}` is not upgrade, query-instance or change-instance-check"))
}

/// Loads scenarios from paths, or the built-in suite.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let checks = registry::ids();
    if paths.is_empty() {
        suite::builtin(&checks)
    } else {
        suite::load_paths(paths, &checks)
    }
}

fn diagnostics_style() -> Style {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Style::Terminal
    } else {
        Style::Plain
    }
}

/// Prints every file's problems to stderr; returns whether there were any.
pub fn report_problems(loaded: &Loaded) -> bool {
    for problems in &loaded.problems {
        eprint!("{}", render(problems, diagnostics_style()));
    }
    !loaded.problems.is_empty()
}

fn resolve_profile(args: &RunArgs) -> Result<Profile, u8> {
    let overrides = Overrides {
        protocol: args.protocol,
        billing: args.billing,
        encrypt_type: args.encrypt_type.map(Into::into),
        interfaces: (!args.interfaces.is_empty()).then(|| args.interfaces.clone()),
        timeout: args.timeout,
    };
    let Some(path) = &args.profile else {
        return Ok(Profile::with_overrides(&overrides));
    };
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: cannot read the profile {name}: {error}");
            return Err(exit::USAGE);
        }
    };
    Profile::load(&name, &text, &overrides).map_err(|problems| {
        eprint!("{}", render(&problems, diagnostics_style()));
        exit::USAGE
    })
}

/// Runs `kgsim run`.
pub fn run(args: RunArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let profile = match resolve_profile(&args) {
        Ok(profile) => profile,
        Err(code) => return Ok(code),
    };
    let loaded = load(&args.paths);
    if report_problems(&loaded) {
        return Ok(exit::USAGE);
    }
    let scenarios: Vec<_> = loaded
        .scenarios
        .into_iter()
        .filter(|s| {
            args.filter.is_empty() || args.filter.iter().any(|pattern| suite::matches(s, pattern))
        })
        .collect();
    if scenarios.is_empty() {
        let patterns = args
            .filter
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ");
        eprintln!(
            "error: no scenario to run{}",
            if patterns.is_empty() {
                String::new()
            } else {
                format!(" matches {patterns}")
            }
        );
        return Ok(exit::USAGE);
    }
    let key = embedded::access_key(args.key_file.as_deref(), args.target.is_none())?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_suite(args, profile, key, scenarios, out))
}

async fn run_suite(
    args: RunArgs,
    profile: Profile,
    key: AccessKey,
    scenarios: Vec<Arc<crate::scenario::model::Scenario>>,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let timeout = Duration::from_millis(profile.timeout.as_millis().max(1) as u64);
    let embedded = args
        .embedded
        .merchant(profile.protocol, profile.encrypt_type);
    let target = args.target.as_deref();
    let (url, target_name) =
        match embedded::target_or_embedded(target, &embedded, &key, timeout, "scenario").await {
            Ok(found) => found,
            Err(code) => return Ok(code),
        };
    let target = match Target::new(&url, timeout, DEFAULT_BODY_CAP) {
        Ok(target) => target,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(exit::USAGE);
        }
    };
    let context = RunContext {
        profile: profile.clone(),
        key: key.clone(),
        target,
        seed: args.seed.unwrap_or_else(rand::random),
        start: args.virtual_start,
    };
    let progress = progress_bar(scenarios.len());
    let on_done = |_: &crate::scenario::runner::ScenarioRun| {
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    };
    let runs = suite::run_all(&scenarios, &context, args.jobs, &on_done).await;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let verdicts: Vec<_> = runs.iter().map(evaluate).collect();
    let report_context = ReportContext {
        target: target_name,
        profile: ProfileSummary {
            protocol: profile.protocol.to_string(),
            billing: profile.billing.to_string(),
            encrypt_type: profile.encrypt_type.to_string(),
            interfaces: profile
                .interfaces
                .iter()
                .map(|i| i.name().to_owned())
                .collect(),
        },
        key,
        encrypt_type: profile.encrypt_type,
        wall_ms: started.elapsed().as_millis() as u64,
    };
    let mut report = build(&runs, &verdicts, &report_context);
    if !args.no_snapshots {
        let mode = if args.update_snapshots {
            Mode::Update
        } else if in_ci() {
            Mode::ReadOnly
        } else {
            Mode::Pending
        };
        Snapshots {
            dir: args.snapshots.clone(),
            mode,
        }
        .check(&mut report)
        .with_context(|| format!("cannot write snapshots under {}", args.snapshots.display()))?;
    }
    let colour = Colour::detect(std::io::stdout().is_terminal());
    write!(out, "{}", terminal::render(&report, colour))?;
    if let Some(path) = &args.junit {
        let xml = junit::render(&report)?;
        std::fs::write(path, xml)
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))?;
    }
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write the JSON report to {}", path.display()))?;
    }
    Ok(if report.conformant() {
        exit::OK
    } else {
        exit::MISMATCH
    })
}

/// Whether this is a CI run (`CI=true`, as GitHub Actions, GitLab CI and most others set).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || len < 2 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios {elapsed}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
