//! The command line: clap definitions and the wiring of the other modules. No business logic
//! lives here; each subcommand resolves its flags and calls into the library.

mod crypt;
mod embedded;
mod exit;
mod explore;
mod info;
mod input;
mod load;
mod merchant;
mod open_api;
mod open_api_link;
mod product;
mod reproduce;
mod run;
mod secrets;
mod serve;
mod sign;
mod snapshots;
mod verify;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A local Huawei Cloud KooGallery marketplace and conformance harness for merchants'
/// production interfaces.
#[derive(Debug, Parser)]
#[command(name = "kgsim", version, about, after_help = exit::HELP)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Drive a merchant through scenarios and report conformance (the embedded reference
    /// merchant when --target is omitted).
    Run(Box<run::RunArgs>),
    /// Check scenario files and report every problem with its file:line:col.
    Validate(info::ValidateArgs),
    /// Print the JSON Schema of the scenario format, for editors.
    Schema,
    /// List every check with its rationale and spec section.
    Checks,
    /// Review, accept or reject the transcripts a run left pending.
    #[command(subcommand)]
    Snapshots(snapshots::SnapshotsCommand),
    /// Compute a signature step by step (the access key comes from KGSIM_ACCESS_KEY).
    #[command(subcommand)]
    Sign(sign::SignCommand),
    /// Check a captured request or response and name the step that differs.
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    /// Encrypt or decrypt V1 sensitive fields.
    #[command(subcommand)]
    Crypt(crypt::CryptCommand),
    /// Serve the reference merchant (correct, or broken with --fault).
    Merchant(merchant::MerchantArgs),
    /// Send a burst of purchases (optionally resent) and judge every answer under load.
    Load(load::LoadArgs),
    /// Walk the product's lifecycle at random (seeded), judged by the suite's checks; shrink
    /// the first failure to a scenario `kgsim run FILE` replays.
    Explore(Box<explore::ExploreArgs>),
    /// Re-sign a request from production's logs (a V1 URL, a V2 URL and body, or a curl
    /// command) with the local key, send it to the merchant and judge the answer.
    Reproduce(Box<reproduce::ReproduceArgs>),
    /// Serve the marketplace's open APIs (query-order, usage push, License) with the MOCK
    /// data, and print every call the merchant makes with what it broke.
    #[command(name = "openapi")]
    OpenApi(open_api::OpenApiArgs),
    /// Serve the local seller console (web pages and a JSON API) with its state in SQLite.
    Serve(serve::ServeArgs),
}

/// Runs a parsed command, writing results to `out`; returns the exit code.
fn run(cli: Cli, out: &mut dyn Write) -> exit::Exit {
    match cli.command {
        Command::Run(args) => run::run(&args, out),
        Command::Validate(args) => info::validate(&args, out),
        Command::Schema => info::schema(out),
        Command::Checks => info::checks(out),
        Command::Snapshots(command) => snapshots::run(&command, out),
        Command::Sign(command) => sign::run(command, out),
        Command::Verify(command) => verify::run(command, out),
        Command::Crypt(command) => crypt::run(command, out),
        Command::Merchant(args) => merchant::run(args, out),
        Command::Load(args) => load::run(&args, out),
        Command::Explore(args) => explore::run(&args, out),
        Command::Reproduce(args) => reproduce::run(&args, out),
        Command::OpenApi(args) => open_api::run(&args, out),
        Command::Serve(args) => serve::run(&args, out),
    }
}

/// The binary's entry point: parse, run, print errors to stderr, exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let code = match run(cli, &mut out) {
        Ok(code) => exit::code(code),
        Err(failure) => {
            let _ = out.flush();
            exit::code(exit::report(failure))
        }
    };
    record_peak_memory();
    code
}

/// With `KGSIM_PEAK_MEMORY_FILE=PATH`, writes this process's peak resident memory in KiB
/// (Linux `VmHWM`) to PATH: how the hostile-input tests and the benchmarks measure a run,
/// since a parent's rusage also counts the memory its child had before `exec`.
fn record_peak_memory() {
    let Some(path) = std::env::var_os("KGSIM_PEAK_MEMORY_FILE") else {
        return;
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
        .unwrap_or_default();
    let _ = std::fs::write(path, kib);
}
