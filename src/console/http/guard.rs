//! The protections of a tool that listens on the developer's machine while they browse the
//! web: a request whose `Host` is not this console is refused (DNS rebinding: a page on
//! `evil.example` resolved to 127.0.0.1), and a state-changing request from another site is
//! refused (CSRF) — by its `Origin`/`Sec-Fetch-Site` headers, by a content type that a foreign
//! page cannot send without a CORS preflight (JSON, which this server never allows), and,
//! for the console's own HTML forms, by a token made afresh at every start.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, Method, StatusCode, header};

use crate::protocol::secret::constant_time_eq;

/// What the guard lets in.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    /// The address the console is bound to.
    pub(crate) bound: SocketAddr,
    /// Host names allowed besides loopback names and the bound address (`--allow-host`).
    pub(crate) extra_hosts: Vec<String>,
    /// The per-start token the console's forms carry.
    pub(crate) token: String,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    /// The status to answer with.
    pub(crate) status: StatusCode,
    /// Why, for the body.
    pub(crate) why: String,
}

impl Guard {
    /// A guard for an address, with a fresh token.
    pub(crate) fn new(bound: SocketAddr, extra_hosts: Vec<String>) -> Self {
        Self {
            bound,
            extra_hosts,
            token: hex::encode(rand::random::<[u8; 16]>()),
        }
    }

    /// Checks a request's headers.
    pub(crate) fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), Refused> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if !self.host_allowed(host) {
            return Err(refused(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "Host {host:?} is not this console (DNS rebinding protection); open it as http://localhost:{}/ or pass --allow-host",
                    self.bound.port()
                ),
            ));
        }
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        if let Some(site) = headers.get("sec-fetch-site").and_then(|h| h.to_str().ok()) {
            if site == "cross-site" || site == "same-site" {
                return Err(refused(
                    StatusCode::FORBIDDEN,
                    format!("a {site} request may not change the console (CSRF protection)"),
                ));
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("null");
            if !self.origin_allowed(origin) {
                return Err(refused(
                    StatusCode::FORBIDDEN,
                    format!("Origin {origin:?} may not change the console (CSRF protection)"),
                ));
            }
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match content_type.as_str() {
            "application/json" | "application/x-www-form-urlencoded" | "" => Ok(()),
            other => Err(refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("{other} is not accepted: send application/json"),
            )),
        }
    }

    /// Whether a form's token is this start's.
    pub(crate) fn token_matches(&self, token: &str) -> bool {
        constant_time_eq(token.as_bytes(), self.token.as_bytes())
    }

    fn host_allowed(&self, host: &str) -> bool {
        let (name, port) = split_host(host);
        if port.is_some_and(|p| p != self.bound.port()) {
            return false;
        }
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "localhost" => return true,
            "" => return false,
            _ => {}
        }
        if let Ok(ip) = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return ip.is_loopback() || ip == self.bound.ip();
        }
        self.extra_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&name))
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        origin
            .strip_prefix("http://")
            .is_some_and(|host| self.host_allowed(host))
    }
}

/// `name[:port]`, with IPv6 literals in brackets.
fn split_host(host: &str) -> (&str, Option<u16>) {
    let split = if host.starts_with('[') {
        host.rfind("]:").map(|i| i + 1)
    } else {
        host.rfind(':')
    };
    match split {
        Some(i) => match host[i + 1..].parse() {
            Ok(port) => (&host[..i], Some(port)),
            Err(_) => (host, Some(0)),
        },
        None => (host, None),
    }
}

fn refused(status: StatusCode, why: String) -> Refused {
    Refused { status, why }
}

/// Whether an address is loopback (the console warns when it is not).
pub(crate) fn is_loopback(address: SocketAddr) -> bool {
    address.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new("127.0.0.1:8787".parse().unwrap(), vec!["devbox".into()])
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_this_consoles_host_names_are_served() {
        let guard = guard();
        for host in [
            "localhost:8787",
            "127.0.0.1:8787",
            "[::1]:8787",
            "LOCALHOST",
            "devbox:8787",
        ] {
            assert!(
                guard
                    .check(&Method::GET, &headers(&[("host", host)]))
                    .is_ok(),
                "{host}"
            );
        }
        for host in [
            "evil.example:8787",
            "evil.example",
            "localhost:9999",
            "10.0.0.1:8787",
            "",
            "localhost:x",
        ] {
            let refused = guard
                .check(&Method::GET, &headers(&[("host", host)]))
                .unwrap_err();
            assert_eq!(refused.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        }
    }

    #[test]
    fn cross_site_changes_are_refused_and_same_origin_ones_pass() {
        let guard = guard();
        let post = |pairs: &[(&'static str, &str)]| guard.check(&Method::POST, &headers(pairs));
        let host = ("host", "localhost:8787");
        assert!(
            post(&[host, ("content-type", "application/json")]).is_ok(),
            "curl from CI"
        );
        assert!(
            post(&[
                host,
                ("origin", "http://localhost:8787"),
                ("sec-fetch-site", "same-origin"),
                ("content-type", "application/x-www-form-urlencoded")
            ])
            .is_ok()
        );
        for refused in [
            post(&[
                host,
                ("origin", "http://evil.example"),
                ("content-type", "application/x-www-form-urlencoded"),
            ]),
            post(&[
                host,
                ("origin", "null"),
                ("content-type", "application/x-www-form-urlencoded"),
            ]),
            post(&[host, ("sec-fetch-site", "cross-site")]),
            post(&[host, ("origin", "https://localhost:8787")]),
            post(&[host, ("content-type", "text/plain")]),
            post(&[host, ("content-type", "multipart/form-data; boundary=x")]),
        ] {
            assert!(refused.is_err());
        }
    }

    #[test]
    fn the_token_is_fresh_and_compared_whole() {
        let (a, b) = (guard(), guard());
        assert_ne!(a.token, b.token);
        assert!(a.token_matches(&a.token.clone()));
        assert!(!a.token_matches(&b.token));
        assert!(!a.token_matches(""));
    }
}
