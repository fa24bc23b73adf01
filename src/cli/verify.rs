//! `kgsim verify`: check a captured request or response and name the exact step that
//! differs when it does not verify.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::cli::exit::{self, Exit, Kind as _};
use crate::cli::input::read_body;
use crate::cli::secrets;
use crate::cli::sign::KeyArgs;
use crate::protocol::UnixMillis;
use crate::protocol::apigw;
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
    /// A captured open-API call (SDK-HMAC-SHA256): the raw HTTP request as a file — request
    /// line, headers, a blank line, the body. SK from KGSIM_OPENAPI_SK.
    Apigw {
        /// The raw request, or `-` for standard input.
        #[arg(long, value_name = "FILE")]
        request: PathBuf,
        /// The scheme the request was sent with.
        #[arg(long, default_value = "https")]
        scheme: String,
        /// The app key (AK) the gateway expects.
        #[arg(long, env = secrets::OPENAPI_AK_ENV)]
        app_key: String,
        /// Read the app secret (SK) from this file instead of KGSIM_OPENAPI_SK.
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
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
pub(crate) fn run(command: VerifyCommand, out: &mut dyn Write) -> Exit {
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
        VerifyCommand::Apigw {
            request,
            scheme,
            app_key,
            secret_file,
        } => {
            let secret = secrets::app_secret(secret_file.as_deref())?;
            verify_apigw(&read_body(&request)?, &scheme, &app_key, &secret, out)
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
) -> Exit {
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
) -> Exit {
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

/// A raw HTTP request: method, target, headers, body.
struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads `METHOD target HTTP/1.1`, `Name: value` lines, a blank line and the body (CRLF or LF).
fn parse_raw_request(bytes: &[u8]) -> Result<RawRequest, String> {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, at + 4))
        .or_else(|| {
            bytes
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|at| (at, at + 2))
        });
    let (head, body) = match split {
        Some((end, start)) => (&bytes[..end], bytes[start..].to_vec()),
        None => (bytes, Vec::new()),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let mut words = first.split_whitespace();
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return Err(format!(
            "`{first}` is not a request line such as `GET /path?query HTTP/1.1`"
        ));
    };
    let headers = lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("`{line}` is not a `Name: value` header"))
        })
        .collect::<Result<_, _>>()?;
    Ok(RawRequest {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    })
}

/// `kgsim verify apigw`: the Authorization header of a captured request.
fn verify_apigw(
    raw: &[u8],
    scheme: &str,
    app_key: &str,
    secret: &crate::protocol::AccessKey,
    out: &mut dyn Write,
) -> Exit {
    let request = parse_raw_request(raw).map_err(anyhow::Error::msg).usage()?;
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let host = header("host").unwrap_or("localhost");
    let url = format!("{scheme}://{host}{}", request.target);
    let Some(authorization) = header("authorization") else {
        writeln!(out, "verdict: mismatch")?;
        writeln!(out, "cause: the request has no Authorization header")?;
        return Ok(exit::MISMATCH);
    };
    let pairs: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let signed = apigw::Request {
        method: &request.method,
        url: &url,
        headers: &pairs,
        body: &request.body,
    };
    match apigw::diagnose(app_key, secret, &signed, authorization) {
        Ok(verdict) => print_verdict(out, "signature", &verdict),
        Err(why) => {
            writeln!(out, "verdict: mismatch")?;
            writeln!(out, "cause: {why}")?;
            Ok(exit::MISMATCH)
        }
    }
}

fn print_verdict(out: &mut dyn Write, what: &str, verdict: &Verdict) -> Exit {
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
