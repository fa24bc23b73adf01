//! The byte stream under an HTTP/1.1 connection: plain TCP, or TLS (rustls with the
//! platform's trust store, plus any CA the user names for a staging certificate).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use url::Host;

use crate::transport::target::TargetUrl;

/// Which certificates an HTTPS target may present.
#[derive(Clone)]
pub(crate) struct Trust {
    /// Built on the first `https://` connection: loading the platform's trust store costs a
    /// few milliseconds a run against an `http://` merchant never needs.
    connector: Arc<OnceLock<Result<TlsConnector, String>>>,
    /// The certificates of `--target-ca`, read (and checked) at once.
    extra_roots: Arc<Vec<CertificateDer<'static>>>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trust")
    }
}

/// The TLS set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The CA file could not be read or holds no certificate.
    #[error("cannot use {path} as a CA certificate: {why}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// rustls refused the configuration.
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl Trust {
    /// The platform's trust store, plus the certificates of `extra_ca` (a PEM file, read
    /// now so that a bad one is reported before anything runs).
    pub(crate) fn new(extra_ca: Option<&std::path::Path>) -> Result<Self, TrustError> {
        let extra_roots = match extra_ca {
            None => Vec::new(),
            Some(path) => {
                let ca_error = |why: String| TrustError::CaFile {
                    path: path.display().to_string(),
                    why,
                };
                let roots: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                    .map_err(|e| ca_error(e.to_string()))?
                    .collect::<Result<_, _>>()
                    .map_err(|e| ca_error(e.to_string()))?;
                if roots.is_empty() {
                    return Err(ca_error("no certificate in it".into()));
                }
                roots
            }
        };
        Ok(Self {
            connector: Arc::new(OnceLock::new()),
            extra_roots: Arc::new(extra_roots),
        })
    }

    /// The TLS connector, built on first use.
    fn connector(&self) -> Result<&TlsConnector, String> {
        self.connector
            .get_or_init(|| {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let verifier = if self.extra_roots.is_empty() {
                    rustls_platform_verifier::Verifier::new(provider.clone())
                } else {
                    rustls_platform_verifier::Verifier::new_with_extra_roots(
                        self.extra_roots.iter().cloned(),
                        provider.clone(),
                    )
                }
                .map_err(|e| format!("cannot set up TLS: {e}"))?;
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| format!("cannot set up TLS: {e}"))?
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth();
                Ok(TlsConnector::from(Arc::new(config)))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// A connected stream.
pub(crate) enum Stream {
    /// `http://`.
    Tcp(TcpStream),
    /// `https://`.
    Tls(Box<TlsStream<TcpStream>>),
    /// Bytes an answer is replayed from, read as a socket's would be: how the fuzzer drives
    /// the HTTP/1.1 framing without a network ([`super::http1::Connection::replay`]).
    Replay(io::Cursor<Vec<u8>>),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tcp(_) => "Stream::Tcp",
            Self::Tls(_) => "Stream::Tls",
            Self::Replay(_) => "Stream::Replay",
        })
    }
}

/// Why no stream could be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// Nothing accepts connections there.
    Refused(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
}

impl Stream {
    /// Connects to the target (and shakes hands for TLS).
    pub(crate) async fn connect(target: &TargetUrl, trust: &Trust) -> Result<Self, ConnectError> {
        let label = target.connect_label();
        let tcp = match (target.socket_addr(), target.host()) {
            (Some(addr), _) => TcpStream::connect(addr).await,
            (None, Some(Host::Domain(name))) => TcpStream::connect((name, target.port())).await,
            (None, _) => Err(io::Error::other("no host")),
        }
        .map_err(|e| {
            ConnectError::Refused(if e.kind() == io::ErrorKind::ConnectionRefused {
                format!("nothing listens on {label} (connection refused)")
            } else {
                format!("cannot connect to {label}: {e}")
            })
        })?;
        // Requests are written whole; waiting to coalesce them only adds latency.
        let _ = tcp.set_nodelay(true);
        if !target.is_https() {
            return Ok(Self::Tcp(tcp));
        }
        let name = match target.host() {
            Some(Host::Domain(name)) => ServerName::try_from(name.to_owned()),
            Some(Host::Ipv4(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(ip).into())),
            Some(Host::Ipv6(ip)) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(ip).into())),
            None => return Err(ConnectError::Refused("no host".into())),
        }
        .map_err(|e| ConnectError::Tls(e.to_string()))?;
        let connector = trust.connector().map_err(ConnectError::Tls)?;
        let tls = connector.connect(name, tcp).await.map_err(|e| {
            ConnectError::Tls(if speaks_plain_http(&e) {
                format!(
                    "the merchant speaks plain HTTP on this https:// address — use {}",
                    target.as_str().replacen("https://", "http://", 1)
                )
            } else {
                format!("TLS handshake with {label} failed: {e}")
            })
        })?;
        Ok(Self::Tls(Box::new(tls)))
    }

    /// Whether a kept-alive connection may still be used: nothing has arrived on it and the
    /// merchant has not closed it. Checked without waiting, before anything is written, so
    /// that a request is never written to a connection already closed — and never sent twice.
    pub(crate) fn is_reusable(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        let mut byte = [0u8; 1];
        let mut buf = ReadBuf::new(&mut byte);
        // Ready means closed, broken, or bytes nobody asked for: never reuse it.
        Pin::new(self).poll_read(&mut cx, &mut buf).is_pending()
    }
}

/// Whether a failed handshake met a plain HTTP server: rustls finds no TLS record where the
/// server's hello should be (an HTTP answer's first bytes, `HTTP/1.1 400`, are no record type).
fn speaks_plain_http(error: &io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|e| {
            matches!(
                e,
                rustls::Error::InvalidMessage(
                    rustls::InvalidMessage::InvalidContentType
                        | rustls::InvalidMessage::UnknownProtocolVersion
                )
            )
        })
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
            Self::Replay(bytes) => Pin::new(bytes).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
            // A replayed answer was never asked for: what is written goes nowhere.
            Self::Replay(_) => Poll::Ready(Ok(buf.len())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
            Self::Replay(_) => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
            Self::Replay(_) => Poll::Ready(Ok(())),
        }
    }
}
