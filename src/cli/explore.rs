//! `kgsim explore`: seeded random walks through the product's lifecycle against a merchant
//! (the embedded reference merchant when no --target), the first failure shrunk and written
//! as a scenario that `kgsim run FILE` replays. Exit 0: nothing found within the budget;
//! 1: a failure found and written; 2: invalid command line; 3: could not run.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use crate::cli::exit::{self, Exit, Failure, Kind as _};
use crate::cli::product::ProductFlags;
use crate::cli::run::{SetupArgs, bar_on_terminal, prepare, resolve_profile, write_output};
use crate::explore::write::{Header, scenario};
use crate::explore::{Budget, Exploration, Outcome, Progress};
use crate::marketplace::Span;
use crate::report::coverage::Coverage;
use crate::scenario::profile::Profile;

/// Flags of `kgsim explore`.
#[derive(Debug, Args)]
pub(crate) struct ExploreArgs {
    /// The merchant and the product, as for `kgsim run`.
    #[command(flatten)]
    pub(crate) setup: SetupArgs,
    /// The seed every walk derives from (random by default, and printed).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Marketplace events to explore at most.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) steps: u32,
    /// Wall time to explore at most (`30s`, `5m`); no limit by default.
    #[arg(long, value_name = "DURATION")]
    pub(crate) time: Option<Span>,
    /// Where the shrunk scenario is written.
    #[arg(long, value_name = "DIR", default_value = "explore")]
    pub(crate) out: PathBuf,
    /// Write the JSON summary here (`-` for standard output).
    #[arg(long, value_name = "PATH")]
    pub(crate) json: Option<PathBuf>,
}

impl ExploreArgs {
    /// The options that make `kgsim run FILE` replay against the same product and merchant.
    fn replay_command(&self, file: &str, profile: &Profile) -> String {
        let mut words = vec!["kgsim".to_owned(), "run".to_owned(), file.to_owned()];
        let mut flag = |name: &str, value: String| {
            words.push(format!("--{name}"));
            words.push(value);
        };
        match &self.setup.target.target_text {
            Some(target) => flag("target", target.clone()),
            None => {
                for fault in &self.setup.target.merchant_faults {
                    flag("merchant-fault", fault.to_string());
                }
            }
        }
        if let Some(path) = &self.setup.profile {
            flag("profile", path.display().to_string());
        }
        flag("protocol", profile.protocol.to_string());
        flag("billing", profile.billing.to_string());
        if profile.product != crate::marketplace::kind::ProductType::Saas {
            flag("product", profile.product.to_string());
        }
        for interface in profile.implemented().declared() {
            flag("interface", interface.slug().to_owned());
        }
        if self.setup.product.kit {
            words.push("--kit".to_owned());
        }
        words.join(" ")
    }
}

/// The JSON summary.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    seed: u64,
    walks: u64,
    steps: usize,
    exchanges: usize,
    events_per_second: f64,
    coverage: &'a Coverage,
    finding: Option<FindingSummary>,
    model_errors: &'a [String],
}

#[derive(Debug, Serialize)]
struct FindingSummary {
    check: String,
    message: String,
    walk: u64,
    walk_length: usize,
    shrunk_length: usize,
    shrink_runs: usize,
    shrink_ms: u64,
    file: String,
    replay: String,
}

/// Runs `kgsim explore`.
pub(crate) fn run(args: &ExploreArgs, out: &mut dyn Write) -> Exit {
    let setup = &args.setup;
    setup.target.target()?;
    let profile = resolve_profile(setup)?;
    let key = setup.target.access_key()?;
    let keys = crate::cli::secrets::interface_keys()?;
    let kit_keys = ProductFlags::kit_keys(&profile, setup.target.target_text.is_none())?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .could_not_run()?;
    let progress = bar_on_terminal(
        u64::from(args.steps),
        "{bar:30} {pos}/{len} steps · {msg} · {elapsed}",
    );
    let outcome = runtime.block_on(async {
        let (suite, _served) =
            prepare(setup, profile.clone(), key, Vec::new(), (keys, kit_keys)).await?;
        let codes_enterable = suite
            .open_api
            .as_ref()
            .is_some_and(|link| link.software_url.is_some());
        if profile.product == crate::marketplace::kind::ProductType::LicenseCode && !codes_enterable
        {
            return Err(Failure::Usage(anyhow::anyhow!(
                "a License-code product's walks enter each code into the merchant's software: \
                 pass --software-url URL, and serve the open APIs (KGSIM_OPENAPI_AK and \
                 KGSIM_OPENAPI_SK) so that the software can activate it"
            )));
        }
        let exploration = Exploration {
            context: suite.context(),
            lifecycle: suite.lifecycle(),
            seed,
            ids: suite.seed,
            budget: Budget {
                steps: args.steps as usize,
                time: args
                    .time
                    .map(|t| Duration::from_millis(t.as_millis().max(0) as u64)),
            },
        };
        let on_progress = |p: Progress| {
            if let Some(bar) = &progress {
                bar.set_position(p.steps as u64);
                bar.set_message(format!(
                    "{} exchanges · {}/{} transitions",
                    p.exchanges, p.exercised, p.total
                ));
            }
        };
        Ok::<Outcome, Failure>(exploration.run(&on_progress).await)
    })?;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    report(args, &profile, seed, &outcome, out)
}

/// Writes the shrunk scenario (checked to load as any scenario does), the summary and the
/// JSON; the exit code says what was found.
fn report(
    args: &ExploreArgs,
    profile: &Profile,
    seed: u64,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> Exit {
    let rate = outcome.steps as f64 / outcome.walk_wall.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "kgsim explore · seed {seed} · {} · {} walks, {} steps, {} exchanges in {:.2}s ({rate:.0} steps/s)",
        profile.kind().name(),
        outcome.walks,
        outcome.steps,
        outcome.exchanges,
        outcome.walk_wall.as_secs_f64()
    )?;
    write!(out, "{}", outcome.coverage.render())?;
    let mut finding_summary = None;
    if let Some(finding) = &outcome.finding {
        finding_summary = Some(write_finding(args, profile, seed, finding, out)?);
    } else {
        writeln!(out, "\nnothing found within the budget")?;
    }
    for error in &outcome.model_errors {
        writeln!(
            out,
            "kgsim bug: a walk's step was refused by the engine: {error}"
        )?;
    }
    if let Some(path) = &args.json {
        let summary = Summary {
            seed,
            walks: outcome.walks,
            steps: outcome.steps,
            exchanges: outcome.exchanges,
            events_per_second: rate,
            coverage: &outcome.coverage,
            finding: finding_summary,
            model_errors: &outcome.model_errors,
        };
        let json = serde_json::to_string_pretty(&summary).could_not_run()? + "\n";
        write_output(path, json.as_bytes(), "JSON summary", out)?;
    }
    Ok(match (&outcome.finding, outcome.model_errors.is_empty()) {
        (Some(_), _) => exit::MISMATCH,
        (None, false) => exit::COULD_NOT_RUN,
        (None, true) => exit::OK,
    })
}

/// Writes the shrunk scenario (checked to load as any scenario does) and says where.
fn write_finding(
    args: &ExploreArgs,
    profile: &Profile,
    seed: u64,
    finding: &crate::explore::Finding,
    out: &mut dyn Write,
) -> Result<FindingSummary, Failure> {
    let check = finding.failure.check.id();
    let kind = profile.kind();
    let product = match kind.product {
        crate::marketplace::kind::ProductType::Saas => String::new(),
        other => format!("-{other}"),
    };
    let file = args.out.join(format!(
        "{}-{}{product}-seed-{seed}-{}.yaml",
        kind.protocol,
        kind.billing,
        check.replace('.', "-")
    ));
    let file_text = file.display().to_string();
    let replay = args.replay_command(&file_text, profile);
    let text = scenario(
        &finding.steps,
        &Header {
            seed,
            check,
            message: &finding.failure.message,
            walk_length: finding.walk_length,
            replay: &replay,
            kind: profile.kind(),
            declared: profile.implemented().declared(),
        },
    );
    if let Err(problems) = crate::scenario::format::decode::decode(&file_text, &text) {
        return Err(Failure::CouldNotRun(anyhow::anyhow!(
            "the shrunk scenario does not load: {problems:?}"
        )));
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))
        .could_not_run()?;
    write_output(&file, text.as_bytes(), "shrunk scenario", out)?;
    writeln!(
        out,
        "\nFOUND  {check} after {} steps of walk {}, shrunk to {} steps ({} candidate walks, {:.2}s):\n  {}\n  written to {file_text}\n  replay: {replay}",
        finding.walk_length,
        finding.walk,
        finding.steps.len(),
        finding.shrink_runs,
        finding.shrink_wall.as_secs_f64(),
        finding.failure.message,
    )?;
    Ok(FindingSummary {
        check: check.to_owned(),
        message: finding.failure.message.clone(),
        walk: finding.walk,
        walk_length: finding.walk_length,
        shrunk_length: finding.steps.len(),
        shrink_runs: finding.shrink_runs,
        shrink_ms: finding.shrink_wall.as_millis() as u64,
        file: file_text,
        replay,
    })
}
