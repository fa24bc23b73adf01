//! `kgsim sign`: compute what the marketplace (or the merchant) would send, step by step, so
//! a merchant can compare each intermediate value with their own code's.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::exit::{Exit, Failure, Kind as _};
use crate::cli::input::{parse_header, parse_pair, read_body};
use crate::cli::secrets;
use crate::protocol::v1::{auth_token, body_sign};
use crate::protocol::v2::{canonical, kit, signature};
use crate::protocol::{apigw, usage_push};

/// Which signature to compute.
#[derive(Debug, Subcommand)]
pub(crate) enum SignCommand {
    /// V1 request authToken from decoded parameters (timeStamp included as a --param).
    V1 {
        /// A request parameter, NAME=VALUE, URL-decoded (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_pair, required = true)]
        params: Vec<(String, String)>,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// V1 response Body-Sign header over a body file's exact bytes.
    BodySign {
        /// The response body, or `-` for standard input.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// Where the access key comes from.
        #[command(flatten)]
        key: KeyArgs,
    },
    /// V2 basic-interface query signature.
    V2 {
        /// The signed call.
        #[command(flatten)]
        call: SignedCallArgs,
    },
    /// V2 joint-operation Kit x-sign header.
    Kit {
        /// The signed call.
        #[command(flatten)]
        call: SignedCallArgs,
    },
    /// Usage-push signature header (merchant to marketplace).
    #[command(alias = "usage")]
    UsagePush {
        /// The signed call.
        #[command(flatten)]
        call: SignedCallArgs,
    },
    /// API Gateway SDK-HMAC-SHA256 Authorization header (open APIs); SK from KGSIM_OPENAPI_SK (or KGSIM_APP_SECRET).
    Apigw {
        /// HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// The full URL.
        #[arg(long)]
        url: String,
        /// A header to sign, 'Name: value' (repeatable; include X-Sdk-Date and Host).
        #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
        headers: Vec<(String, String)>,
        /// The body, or `-` for standard input; empty when omitted.
        #[arg(long, value_name = "FILE")]
        body: Option<PathBuf>,
        /// The app key (AK); not secret, it travels in the header.
        #[arg(long)]
        app_key: String,
        /// Read the app secret (SK) from this file instead of KGSIM_OPENAPI_SK.
        #[arg(long, value_name = "PATH")]
        secret_file: Option<PathBuf>,
    },
}

/// Where the access key comes from.
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// Read the access key from this file instead of KGSIM_ACCESS_KEY.
    #[arg(long, value_name = "PATH")]
    pub(crate) key_file: Option<PathBuf>,
}

/// A body signed together with a timestamp and a nonce.
#[derive(Debug, Args)]
pub(crate) struct SignedCallArgs {
    /// The request body, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) body: PathBuf,
    /// Unix milliseconds (`timestamp`, `x-timestamp` or `ts`).
    #[arg(long, value_name = "MS", visible_alias = "ts")]
    pub(crate) timestamp: String,
    /// The nonce.
    #[arg(long, value_name = "N")]
    pub(crate) nonce: String,
    /// Where the access key comes from.
    #[command(flatten)]
    pub(crate) key: KeyArgs,
}

/// Runs `kgsim sign …`, printing one `name: value` line per intermediate value.
pub(crate) fn run(command: SignCommand, out: &mut dyn Write) -> Exit {
    match command {
        SignCommand::V1 { params, key } => sign_v1(&params, &key, out)?,
        SignCommand::BodySign { body, key } => {
            let key = secrets::access_key(key.key_file.as_deref())?;
            let body = read_body(&body)?;
            let signed = body_sign::BodySign::sign(&key, &body);
            writeln!(out, "signature: {}", signed.signature)?;
            let header = signed.format(body_sign::Layout::Documented);
            writeln!(out, "{}: {header}", body_sign::HEADER)?;
        }
        SignCommand::V2 { call } => {
            let (key, payload) = load_call(&call, canonical::canonical_body)?;
            writeln!(out, "canonical-body: {payload}")?;
            writeln!(out, "inner: {}", signature::inner_hash(&key, &payload))?;
            let sig = signature::signature(&key, &call.nonce, &call.timestamp, &payload);
            writeln!(out, "signature: {sig}")?;
            let query = signature::SignedQuery {
                signature: sig,
                timestamp: call.timestamp,
                nonce: call.nonce,
            };
            writeln!(out, "query: {}", query.to_query())?;
        }
        SignCommand::Kit { call } => {
            let (key, payload) = load_call(&call, canonical::canonical_body)?;
            writeln!(out, "canonical-body: {payload}")?;
            let sign = kit::x_sign(&key, &call.nonce, &call.timestamp, &payload);
            writeln!(out, "{}: {sign}", kit::X_SIGN)?;
            writeln!(out, "{}: {}", kit::X_TIMESTAMP, call.timestamp)?;
            writeln!(out, "{}: {}", kit::X_NONCE, call.nonce)?;
        }
        SignCommand::UsagePush { call } => {
            let (key, payload) = load_call(&call, usage_push::canonical_body)?;
            writeln!(out, "canonical-body: {payload}")?;
            let sig = usage_push::signature(&key, &call.timestamp, &call.nonce, &payload);
            writeln!(out, "signature: {sig}")?;
            writeln!(out, "ts: {}", call.timestamp)?;
            writeln!(out, "nonce: {}", call.nonce)?;
        }
        SignCommand::Apigw {
            method,
            url,
            headers,
            body,
            app_key,
            secret_file,
        } => {
            let secret = secrets::app_secret(secret_file.as_deref())?;
            let body = body.map(|path| read_body(&path)).transpose()?;
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let request = apigw::Request {
                method: &method,
                url: &url,
                headers: &headers,
                body: body.as_deref().unwrap_or_default(),
            };
            let signed = apigw::sign(&app_key, &secret, &request).usage()?;
            writeln!(out, "signed-headers: {}", signed.signed_headers)?;
            writeln!(out, "signature: {}", signed.signature)?;
            writeln!(out, "Authorization: {}", signed.authorization)?;
        }
    }
    Ok(crate::cli::exit::OK)
}

/// `kgsim sign v1`: the string to sign, the HMAC key's shape, the token and the query.
fn sign_v1(params: &[(String, String)], key: &KeyArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let key = secrets::access_key(key.key_file.as_deref())?;
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let token = auth_token::compute(&key, &pairs).usage()?;
    let time_stamp = pairs
        .iter()
        .find(|(n, _)| *n == auth_token::TIME_STAMP)
        .map(|(_, v)| *v)
        .unwrap_or_default();
    let string = auth_token::string_to_sign(pairs.iter().copied());
    writeln!(out, "string-to-sign: {string}")?;
    writeln!(out, "hmac-key: {}", auth_token::hmac_key_shape(time_stamp))?;
    writeln!(out, "authToken: {token}")?;
    let query = auth_token::signed_query(&key, &pairs).usage()?;
    writeln!(out, "query: {query}")?;
    Ok(())
}

fn load_call(
    call: &SignedCallArgs,
    canonicalise: fn(&[u8]) -> Result<String, canonical::CanonicalError>,
) -> Result<(crate::protocol::AccessKey, String), Failure> {
    let key = secrets::access_key(call.key.key_file.as_deref())?;
    let payload = canonicalise(&read_body(&call.body)?).usage()?;
    Ok((key, payload))
}
