//! `kgsim verify`: check a captured request or response and name the exact step that
//! differs when it does not verify.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::cli::exit;
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
pub enum VerifyCommand {
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
pub fn run(command: VerifyCommand, out: &mut dyn Write) -> anyhow::Result<u8> {
    match command {
        VerifyCommand::V1 { url, key } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let query = url.split_once('?').map_or(url.as_str(), |(_, q)| q);
            print_verdict(out, "authToken", &auth_token::diagnose_query(&key, query)?)
        }
        VerifyCommand::V2 {
            query,
            body,
            now,
            key,
        } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let query = query.split_once('?').map_or(query.as_str(), |(_, q)| q);
            let params = parse_query(query, PlusHandling::AsSpace)?;
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
            let body = read_body(&body)?;
            let mut status = print_verdict(
                out,
                "signature",
                &signature::diagnose(&key, nonce, ts, &body, sig),
            )?;
            match now {
                Some(now) => {
                    match signature::check_freshness(ts, UnixMillis(now), Default::default()) {
                        Ok(()) => writeln!(out, "freshness: ok")?,
                        Err(stale) => {
                            writeln!(out, "freshness: stale ({stale})")?;
                            status = exit::MISMATCH;
                        }
                    }
                }
                None => writeln!(out, "freshness: not checked (pass --now MS)")?,
            }
            Ok(status)
        }
        VerifyCommand::Kit {
            body,
            x_sign,
            x_timestamp,
            x_nonce,
            key,
        } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let body = read_body(&body)?;
            let verdict = if kit::verify(&key, &x_nonce, &x_timestamp, &body, &x_sign) {
                Verdict::Valid
            } else {
                let expected = crate::protocol::v2::canonical::canonical_body(&body)
                    .map(|payload| kit::x_sign(&key, &x_nonce, &x_timestamp, &payload))
                    .unwrap_or_else(|e| format!("({e})"));
                Verdict::Invalid(crate::protocol::verdict::Mismatch {
                    expected,
                    got: x_sign,
                    cause: None,
                })
            };
            print_verdict(out, "x-sign", &verdict)
        }
        VerifyCommand::BodySign { body, header, key } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let body = read_body(&body)?;
            let value = match header.split_once(':') {
                Some((name, value)) => {
                    if name.trim() != body_sign::HEADER {
                        writeln!(out, "verdict: malformed")?;
                        writeln!(
                            out,
                            "cause: the header is named `{}`; the console requires exactly `{}`",
                            name.trim(),
                            body_sign::HEADER
                        )?;
                        return Ok(exit::MISMATCH);
                    }
                    value.trim()
                }
                None => header.trim(),
            };
            match body_sign::BodySign::parse(value) {
                Ok(parsed) => print_verdict(
                    out,
                    "signature",
                    &body_sign::diagnose(&key, &body, &parsed.signature),
                ),
                Err(error) => {
                    writeln!(out, "verdict: malformed")?;
                    writeln!(out, "cause: {error}")?;
                    Ok(exit::MISMATCH)
                }
            }
        }
    }
}

fn print_verdict(out: &mut dyn Write, what: &str, verdict: &Verdict) -> anyhow::Result<u8> {
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
