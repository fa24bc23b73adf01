//! `kgsim reproduce`: a request from production's logs — a V1 URL, a V2 URL and body, or a
//! curl command — re-signed with the local key and sent to the merchant (the embedded
//! reference merchant when no --target), judged as the console judges. Exit 0 accepted,
//! 1 rejected, 2 the request could not be read, 3 it could not be sent.

use std::io::{Read as _, Write};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::cli::crypt::EncryptTypeArg;
use crate::cli::embedded::{Embedded, TargetArgs};
use crate::cli::exit::{self, Exit, Failure, Kind as _};
use crate::marketplace::Span;
use crate::marketplace::settings::Settings;
use crate::protocol::Protocol;
use crate::reproduce::{self, paste};

/// Flags of `kgsim reproduce`.
#[derive(Debug, Args)]
pub(crate) struct ReproduceArgs {
    /// Where the merchant is, and its key.
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// V1 or V2 (read from the request when left out: a V1 query names its activity).
    #[arg(long)]
    pub(crate) protocol: Option<Protocol>,
    /// encryptType the merchant declares: 1 (AES-256) or 2 (AES-128).
    #[arg(long, value_enum, default_value = "1")]
    pub(crate) encrypt_type: EncryptTypeArg,
    /// Per-call timeout.
    #[arg(long, default_value = "20s")]
    pub(crate) timeout: Span,
    /// The request as the logs hold it (quote it); `-` reads it from standard input.
    pub(crate) request: String,
}

/// Runs `kgsim reproduce`.
pub(crate) fn run(args: &ReproduceArgs, out: &mut dyn Write) -> Exit {
    let text = if args.request == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(crate::fsio::INPUT_FILE_CAP)
            .read_to_string(&mut text)
            .context("cannot read the request from standard input")?;
        text
    } else {
        args.request.clone()
    };
    let read = paste::read(&text).and_then(|pasted| {
        let protocol = match args.protocol {
            Some(protocol) => protocol,
            None => reproduce::protocol_of(&pasted)?,
        };
        Ok((reproduce::request_of(&pasted, protocol)?, protocol))
    });
    let (request, protocol) = read.map_err(|e| Failure::Usage(anyhow::anyhow!("{e}")))?;
    args.target.target()?;
    let key = args.target.access_key()?;
    let mut settings = Settings::new(protocol, key.clone());
    settings.encrypt_type = args.encrypt_type.into();
    settings.timeout = args.timeout;
    let runtime = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .could_not_run()?;
    let timeout = Duration::from_millis(args.timeout.as_millis().max(1) as u64);
    let reproduced = runtime.block_on(async {
        let (client, target) = args
            .target
            .reach(
                (protocol, settings.encrypt_type),
                &key,
                timeout,
                "request",
                Embedded::default(),
            )
            .await?;
        writeln!(
            out,
            "kgsim reproduce · {target} · {protocol} · re-signed with the local key"
        )?;
        Ok::<_, Failure>(reproduce::send(&request, &settings, &client).await)
    })?;
    match &reproduced.answer {
        Some((status, body)) => writeln!(out, "{} → HTTP {status}\n{body}", reproduced.activity)?,
        None => writeln!(out, "{} → no answer", reproduced.activity)?,
    }
    Ok(match (&reproduced.failed, &reproduced.answer) {
        (None, _) if reproduced.accepted => {
            writeln!(out, "accepted")?;
            exit::OK
        }
        (Some((check, message)), None) if *check == crate::checks::CheckId::ConsoleReachable => {
            writeln!(out, "could not send: {message}")?;
            exit::COULD_NOT_RUN
        }
        (failed, _) => {
            match failed {
                Some((check, message)) => writeln!(out, "rejected: {} — {message}", check.id())?,
                None => writeln!(out, "rejected")?,
            }
            exit::MISMATCH
        }
    })
}
