//! The merchant's production address, parsed once with `url` and checked before any
//! connection is made: only `http`/`https`, a host, a real port, no fragment (a `#…` would
//! swallow the signed query and the merchant would be blamed for a signature it never saw),
//! no credentials (KooGallery never sends any, and a report must never print them).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use url::{Host, Url};

/// Why a production address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL at all.
    #[error("`{0}` is not a URL ({1})")]
    NotUrl(String, String),
    /// Neither http nor https.
    #[error(
        "`{0}` is not an http:// or https:// address (KooGallery calls HTTPS, or HTTP locally)"
    )]
    Scheme(String),
    /// No host.
    #[error("`{0}` names no host")]
    NoHost(String),
    /// Port 0 cannot be connected to.
    #[error("`{0}` names port 0, which nothing can listen on")]
    PortZero(String),
    /// A fragment: everything after `#` never reaches the merchant.
    #[error(
        "`{0}` has a fragment (`#…`): the signed query would be appended after it and never reach the merchant; remove the `#` part"
    )]
    Fragment(String),
    /// Credentials in the URL.
    #[error(
        "the target names credentials (`user:password@`): KooGallery sends none, and kgsim will not print them into reports; remove them"
    )]
    Credentials,
}

/// A validated production address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl {
    url: Url,
}

/// The address as typed, with anything between `//` and `@` (credentials) hidden, for
/// messages.
fn shown(text: &str) -> String {
    match (text.find("//"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}//[credentials]@{}", &text[..start], &text[at + 1..])
        }
        _ => text.to_owned(),
    }
}

impl TargetUrl {
    /// Parses and checks an address such as `http://localhost:8080/saasproduce`.
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let url =
            Url::parse(text.trim()).map_err(|e| TargetError::NotUrl(shown(text), e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TargetError::Scheme(shown(text)));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        if url.host().is_none() {
            return Err(TargetError::NoHost(shown(text)));
        }
        if url.port() == Some(0) {
            return Err(TargetError::PortZero(shown(text)));
        }
        if url.fragment().is_some() {
            return Err(TargetError::Fragment(shown(text)));
        }
        Ok(Self { url })
    }

    /// The address, normalised (`HTTP://` reads `http://`).
    pub(crate) fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// Whether calls go over TLS.
    pub(crate) fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The host as a name for DNS and TLS (no brackets around IPv6).
    pub(crate) fn host(&self) -> Option<Host<&str>> {
        self.url.host()
    }

    /// The port, the scheme's default when none is written.
    pub(crate) fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(80)
    }

    /// The `Host` header: host and, when written, port.
    pub(crate) fn authority(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// `host:port` for messages.
    pub(crate) fn connect_label(&self) -> String {
        format!(
            "{}:{}",
            self.url.host_str().unwrap_or_default(),
            self.port()
        )
    }

    /// The socket address when the host is an IP literal.
    pub(crate) fn socket_addr(&self) -> Option<SocketAddr> {
        let ip = match self.url.host()? {
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
            Host::Domain(_) => return None,
        };
        Some(SocketAddr::new(ip, self.port()))
    }

    /// What joins a signed query to the address: `&` when it already has a query.
    fn separator(&self) -> &'static str {
        if self.url.query().is_some() { "&" } else { "?" }
    }

    /// The request target of the request line: the path, the address's own query, then the
    /// signed query.
    #[cfg(test)]
    pub(crate) fn request_target(&self, query: &str) -> String {
        let mut target = Vec::with_capacity(self.url.path().len() + query.len() + 1);
        self.push_request_target(query, &mut target);
        String::from_utf8_lossy(&target).into_owned()
    }

    /// Appends the request target for `query` to `out`: what the HTTP client writes into
    /// each request without an intermediate string.
    pub(crate) fn push_request_target(&self, query: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(self.url.path().as_bytes());
        if let Some(own) = self.url.query() {
            out.push(b'?');
            out.extend_from_slice(own.as_bytes());
        }
        if !query.is_empty() {
            out.extend_from_slice(self.separator().as_bytes());
            out.extend_from_slice(query.as_bytes());
        }
    }

    /// The full URL of a signed request.
    pub(crate) fn with_query(&self, query: &str) -> String {
        if query.is_empty() {
            return self.as_str().to_owned();
        }
        format!("{}{}{query}", self.as_str(), self.separator())
    }

    /// The same host with `path` instead of the address's path (no query), as text.
    pub(crate) fn with_path(&self, path: &str) -> String {
        let mut url = self.url.clone();
        url.set_path(path);
        url.set_query(None);
        url.to_string()
    }

    /// The same address with another path (the Kit sub-paths, spec V2 §1.1).
    pub(crate) fn join_path(&self, suffix: &str) -> Self {
        let mut url = self.url.clone();
        let path = format!("{}{suffix}", url.path().trim_end_matches('/'));
        url.set_path(&path);
        Self { url }
    }
}

impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_a_merchant_serves_and_normalises_it() {
        let target = TargetUrl::parse("HTTP://127.0.0.1:8080/saasproduce").unwrap();
        assert_eq!(target.as_str(), "http://127.0.0.1:8080/saasproduce");
        assert_eq!(target.authority(), "127.0.0.1:8080");
        assert_eq!(
            target.request_target("a=1"),
            "/saasproduce?a=1",
            "the signed query follows the path"
        );
        let defaults = TargetUrl::parse("https://m.example?x=1").unwrap();
        assert_eq!(
            (defaults.port(), defaults.authority()),
            (443, "m.example".into())
        );
        assert_eq!(defaults.request_target("a=1"), "/?x=1&a=1");
        assert_eq!(defaults.with_query("a=1"), "https://m.example/?x=1&a=1");
        let v6 = TargetUrl::parse("http://[::1]:9/p").unwrap();
        assert_eq!(v6.socket_addr(), Some("[::1]:9".parse().unwrap()));
        assert_eq!(v6.authority(), "[::1]:9");
        assert_eq!(
            target.join_path("/produceAPI/v2/tenantSync").as_str(),
            "http://127.0.0.1:8080/saasproduce/produceAPI/v2/tenantSync"
        );
    }

    #[test]
    fn refuses_what_would_be_blamed_on_the_merchant_or_leak() {
        let refused = |text: &str| TargetUrl::parse(text).unwrap_err();
        assert!(matches!(refused("ftp://m/p"), TargetError::Scheme(_)));
        assert!(matches!(refused("http://m:0/p"), TargetError::PortZero(_)));
        assert!(matches!(
            refused("http://[::1]:99999/p"),
            TargetError::NotUrl(..)
        ));
        assert!(matches!(
            refused("http://m/saasproduce#x"),
            TargetError::Fragment(_)
        ));
        assert!(matches!(
            refused("http://u:p@m/p"),
            TargetError::Credentials
        ));
        assert!(
            !refused("http://u:secret@m/p")
                .to_string()
                .contains("secret")
        );
        assert!(matches!(refused("localhost:8080"), TargetError::Scheme(_)));
        assert!(matches!(refused("not a url"), TargetError::NotUrl(..)));
    }
}
