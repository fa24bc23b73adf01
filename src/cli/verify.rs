//! `kgsim verify`: check a captured request or response and name the exact step that
//! differs when it does not verify.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::cli::exit::{self, Kind as _, Outcome};
use crate::cli::input::read_body;
use crate::cli::secrets;
use crate::cli::sign::KeyArgs;
use crate::protocol::UnixMillis;
use crate::protocol::encoding::{PlusHandling, parse_query};
use crate::protocol::v1::{auth_token, body_sign};
use crate::protocol::v2::{kit, signature};
use crate::protocol::verdict::Verdict;

/// What to verify.
#[derive(Debug, Subcommand)]
pub(crate) enum VerifyCommand {
    /// A captured V1 request: its full URL or just its query string.
    V1 {
        /// `https://host/path?activity=…&authToken=…` or `activity=…&authToken=…`.
        #[arg(long)]
        url: String,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// A captured V2 basic call: its query string and its body.
    V2 {
        /// `signature=…&timestamp=…&nonce=…` (a full URL is accepted too).
        #[arg(long)]
        query: String,
        /// The body exactly as received, or `-` for standard input.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// Also check the 60 s freshness window against this instant (Unix ms).
        #[arg(long, value_name = "MS")]
        now: Option<i64>,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// A captured Kit call: body and its x-sign, x-timestamp, x-nonce headers.
    Kit {
        /// The body exactly as received, or `-`.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// The x-sign header.
        #[arg(long)]
        x_sign: String,
        /// The x-timestamp header.
        #[arg(long)]
        x_timestamp: String,
        /// The x-nonce header.
        #[arg(long)]
        x_nonce: String,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// A V1 response: its body and its Body-Sign header (`Body-Sign: …` or just the value).
    BodySign {
        /// The body exactly as received, or `-`.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// The header line or value.
        #[arg(long)]
        header: String,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
}

/// Runs `kgsim verify …`; returns 0 when valid, 1 on any mismatch.
pub(crate) fn run(command: VerifyCommand, out: &mut dyn Write) -> Outcome {
    match command {
        VerifyCommand::V1 { url, key } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let query = url.split_once('?').map_or(url.as_str(), |(_, q)| q);
            let verdict = auth_token::diagnose_query(&key, query).usage()?;
            print_verdict(out, "authToken", &verdict)
        }
        VerifyCommand::V2 {
            query,
            body,
            now,
            key,
        } => verify_v2(&query, &body, now, &key, out),
        VerifyCommand::Kit {
            body,
            x_sign,
            x_timestamp,
            x_nonce,
            key,
        } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let body = read_body(&body)?;
            let verdict = kit::diagnose(&key, &x_nonce, &x_timestamp, &body, &x_sign);
            print_verdict(out, "x-sign", &verdict)
        }
        VerifyCommand::BodySign { body, header, key } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            verify_body_sign(&key, &read_body(&body)?, &header, out)
        }
    }
}

/// `kgsim verify v2`: the query signature, and the freshness window when `--now` is given.
fn verify_v2(
    query: &str,
    body: &std::path::Path,
    now: Option<i64>,
    key: &KeyArgs,
    out: &mut dyn Write,
) -> Outcome {
    let key = secrets::access_key(key.key_file.as_deref())?;
    let query = query.split_once('?').map_or(query, |(_, q)| q);
    let params = parse_query(query, PlusHandling::AsSpace).usage()?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(sig), Some(ts), Some(nonce)) = (
        get(signature::SIGNATURE),
        get(signature::TIMESTAMP),
        get(signature::NONCE),
    ) else {
        writeln!(out, "verdict: malformed")?;
        writeln!(out, "cause: the query needs signature, timestamp and nonce")?;
        return Ok(exit::MISMATCH);
    };
    let body = read_body(body)?;
    let verdict = signature::diagnose(&key, nonce, ts, &body, sig);
    let mut status = print_verdict(out, "signature", &verdict)?;
    let Some(now) = now else {
        writeln!(out, "freshness: not checked (pass --now MS)")?;
        return Ok(status);
    };
    match signature::check_freshness(ts, UnixMillis(now), Default::default()) {
        Ok(()) => writeln!(out, "freshness: ok")?,
        Err(stale) => {
            writeln!(out, "freshness: stale ({stale})")?;
            status = exit::MISMATCH;
        }
    }
    Ok(status)
}

/// `kgsim verify body-sign`: the header's exact name, its form, and its signature.
fn verify_body_sign(
    key: &crate::protocol::AccessKey,
    body: &[u8],
    header: &str,
    out: &mut dyn Write,
) -> Outcome {
    let value = match header.split_once(':') {
        Some((name, _)) if name.trim() != body_sign::HEADER => {
            writeln!(out, "verdict: malformed")?;
            writeln!(
                out,
                "cause: the header is named `{}`; the console requires exactly `{}`",
                name.trim(),
                body_sign::HEADER
            )?;
            return Ok(exit::MISMATCH);
        }
        Some((_, value)) => value.trim(),
        None => header.trim(),
    };
    match body_sign::BodySign::parse(value) {
        Ok(parsed) => {
            let verdict = body_sign::diagnose(key, body, &parsed.signature);
            print_verdict(out, "signature", &verdict)
        }
        Err(error) => {
            writeln!(out, "verdict: malformed")?;
            writeln!(out, "cause: {error}")?;
            Ok(exit::MISMATCH)
        }
    }
}

fn print_verdict(out: &mut dyn Write, what: &str, verdict: &Verdict) -> Outcome {
    match verdict {
        Verdict::Valid => {
            writeln!(out, "verdict: valid")?;
            Ok(exit::OK)
        }
        Verdict::Invalid(mismatch) => {
            writeln!(out, "verdict: mismatch")?;
            writeln!(out, "expected {what}: {}", mismatch.expected)?;
            writeln!(out, "got {what}: {}", mismatch.got)?;
            match mismatch.cause {
                Some(cause) => writeln!(out, "cause: {cause}")?,
                None => writeln!(
                    out,
                    "cause: no known mistake reproduces the received value: the keys differ, or the request changed after it was signed"
                )?,
            }
            Ok(exit::MISMATCH)
        }
    }
}
