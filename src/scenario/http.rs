//! Calling the merchant's production address for real: reqwest over real sockets, with a
//! timeout on every call, a cap on every body, and no redirects followed. Whatever a hostile
//! or broken merchant does — refuse, reset, stall, redirect, answer gigabytes — comes back as
//! a [`Transport`] value for the console classification, never as a panic or a hang.

use std::time::{Duration, Instant};

use crate::marketplace::Transport;
use crate::marketplace::classify::RawResponse;
use crate::scenario::wire::{Method, Wire};

/// The largest answer body kgsim reads (1 MiB): every documented answer is a few hundred
/// bytes, so anything near this is a broken merchant.
pub const DEFAULT_BODY_CAP: usize = 1024 * 1024;

/// The merchant's production address and how to call it.
#[derive(Debug, Clone)]
pub struct Target {
    client: reqwest::Client,
    url: String,
    timeout: Duration,
    body_cap: usize,
}

/// The target could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The URL is not http(s).
    #[error("target `{0}` is not an http:// or https:// URL")]
    NotHttp(String),
    /// The client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What one exchange looked like from the marketplace side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// What the transport saw.
    pub transport: Transport,
    /// Wall time the exchange took.
    pub elapsed: Duration,
}

impl Target {
    /// A target at `url` (the full production address, path included) with a per-call
    /// timeout and a body cap.
    pub fn new(url: &str, timeout: Duration, body_cap: usize) -> Result<Self, TargetError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(TargetError::NotHttp(url.to_owned()));
        }
        // reqwest is built without a default TLS provider (ring builds without cmake);
        // installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(64)
            .user_agent(concat!("kgsim/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            url: url.trim_end_matches('?').to_owned(),
            timeout,
            body_cap,
        })
    }

    /// The same target with a connection pool of its own (a pool's connections belong to the
    /// runtime that opened them).
    pub fn with_own_pool(&self) -> Result<Self, TargetError> {
        Self::new(&self.url, self.timeout, self.body_cap)
    }

    /// The production address.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The full URL of a signed request.
    pub fn request_url(&self, wire: &Wire) -> String {
        with_query(&self.url, &wire.query)
    }

    /// Sends one signed request and reads the answer within the timeout and the body cap.
    pub async fn send(&self, wire: &Wire) -> Sent {
        let started = Instant::now();
        let transport = match tokio::time::timeout(self.timeout, self.exchange(wire)).await {
            Ok(transport) => transport,
            Err(_) => Transport::TimedOut,
        };
        Sent {
            transport,
            elapsed: started.elapsed(),
        }
    }

    async fn exchange(&self, wire: &Wire) -> Transport {
        let url = self.request_url(wire);
        let request = match wire.method {
            Method::Get => self.client.get(url),
            Method::Post => self
                .client
                .post(url)
                .header("Content-Type", "application/json;charset=utf-8")
                .header("Accept", "application/json")
                .body(wire.body.clone().unwrap_or_default()),
        };
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => return transport_error(&error),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.body_cap {
                        return Transport::Broken(format!(
                            "the body is larger than {} bytes",
                            self.body_cap
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => return transport_error(&error),
            }
        }
        Transport::Answered(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// What joins a signed query to an address: `&` when the address already has a query.
pub fn query_separator(address: &str) -> &'static str {
    if address.contains('?') { "&" } else { "?" }
}

/// An address with a signed query appended.
pub fn with_query(address: &str, query: &str) -> String {
    format!("{address}{}{query}", query_separator(address))
}

/// `host:port` to connect to for a URL's authority (`host`, `host:port`, `[v6]`,
/// `[v6]:port`), with the scheme's default port when none is written.
pub fn connect_address(authority: &str, default_port: u16) -> String {
    let has_port = match authority.rfind(']') {
        Some(bracket) => authority[bracket..].contains(':'),
        None => authority.contains(':'),
    };
    if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    }
}

/// Whether the target accepts connections at all, so that "unreachable" is reported once
/// (exit 3) rather than as a failure of every check or request.
pub async fn preflight(url: &str, timeout: Duration) -> Result<(), String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let default_port = if url.starts_with("https://") { 443 } else { 80 };
    let address = connect_address(authority, default_port);
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(format!("cannot connect to {address}: {error}")),
        Err(_) => Err(format!(
            "cannot connect to {address} within {}s",
            timeout.as_secs()
        )),
    }
}

fn transport_error(error: &reqwest::Error) -> Transport {
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        Transport::TimedOut
    } else if error.is_connect() {
        Transport::Unreachable(chain)
    } else {
        Transport::Broken(chain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_addresses_get_the_default_port_only_when_none_is_written() {
        assert_eq!(connect_address("m.example", 80), "m.example:80");
        assert_eq!(connect_address("m.example:8443", 443), "m.example:8443");
        assert_eq!(connect_address("[::1]", 443), "[::1]:443");
        assert_eq!(connect_address("[::1]:9", 80), "[::1]:9");
    }
}
