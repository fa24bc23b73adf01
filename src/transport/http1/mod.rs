//! One persistent HTTP/1.1 connection to the merchant, over TCP or TLS: each request written
//! whole, each answer parsed in place with `httparse`, header names kept exactly as the
//! merchant wrote them (the console's `Body-Sign` rule is case-sensitive, spec V1 §1).
//!
//! Every guarantee a hostile merchant needs: a timeout on every exchange, a cap on every head
//! and body, redirects returned as answers and never followed, chunked and read-to-close
//! bodies, and every broken answer turned into a [`Transport`] value. A request that was
//! written is never written again: a kept-alive connection is checked before reuse, and a
//! connection that fails after the write is reported as broken — KooGallery does not re-send
//! a non-idempotent POST on its own either.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::error::Elapsed;

use crate::marketplace::{RawResponse, Transport};
use crate::transport::Sent;
use crate::transport::stream::{ConnectError, Stream, Trust};
use crate::transport::target::TargetUrl;
use crate::transport::wire::{Method, Wire};

/// The largest response head read (status line and headers).
const HEAD_CAP: usize = 64 * 1024;
/// The most headers one answer may carry.
const MAX_HEADERS: usize = 64;
/// A read buffer larger than this is freed after the answer it held.
const RETAINED_BUFFER: usize = 64 * 1024;
/// The longest chunk-size or trailer line.
const LINE_CAP: usize = 4 * 1024;

/// Why an exchange failed.
enum Failure {
    /// No connection could be made.
    Unreachable(String),
    /// The connection broke or the answer was not acceptable HTTP.
    Broken(String),
}

impl Failure {
    /// A read from the merchant failed.
    fn broke(error: &std::io::Error) -> Self {
        Self::Broken(format!("the connection broke: {error}"))
    }

    fn into_transport(self) -> Transport {
        match self {
            Self::Unreachable(why) => Transport::Unreachable(why),
            Self::Broken(why) => Transport::Broken(why),
        }
    }
}

impl From<ConnectError> for Failure {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Refused(why) => Self::Unreachable(why),
            ConnectError::Tls(why) => Self::Broken(why),
        }
    }
}

/// How the answer body is delimited.
enum Framing {
    /// No body (204, 304).
    Empty,
    /// `Content-Length`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the merchant closes the connection.
    UntilClose,
}

/// One persistent connection to a merchant.
#[derive(Debug)]
pub(crate) struct Connection {
    target: Arc<TargetUrl>,
    /// `host:port` for the `Host` header, made once.
    authority: String,
    trust: Trust,
    timeout: Duration,
    body_cap: usize,
    stream: Option<Stream>,
    /// The request being sent, reused between requests.
    request: Vec<u8>,
    /// How much of it has been written.
    written: usize,
    /// Bytes read and not yet consumed start at `read_pos`.
    read: Vec<u8>,
    read_pos: usize,
}

impl Connection {
    /// A connection (opened on first use) with a per-exchange timeout and a body cap.
    pub(crate) fn new(
        target: Arc<TargetUrl>,
        trust: Trust,
        timeout: Duration,
        body_cap: usize,
    ) -> Self {
        Self {
            authority: target.authority(),
            target,
            trust,
            timeout,
            body_cap,
            stream: None,
            request: Vec::with_capacity(1024),
            written: 0,
            read: Vec::with_capacity(8 * 1024),
            read_pos: 0,
        }
    }

    /// Whether the connection can carry another request (open, and nothing unexpected on it).
    pub(crate) fn is_reusable(&mut self) -> bool {
        self.stream.as_mut().is_some_and(Stream::is_reusable)
    }

    /// The outcome of a step run under the timeout; on any failure the stream is dropped
    /// (whatever was half-written or half-read is lost with it).
    fn settle<T>(&mut self, outcome: Result<Result<T, Failure>, Elapsed>) -> Result<T, Transport> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(failure)) => {
                self.stream = None;
                Err(failure.into_transport())
            }
            Err(_) => {
                self.stream = None;
                Err(Transport::TimedOut)
            }
        }
    }

    /// Sends one signed request and reads the answer within the timeout and the body cap.
    pub(crate) async fn send(&mut self, wire: &Wire) -> Sent {
        // One clock reading serves as the latency's start and the timeout's (`timeout`
        // would read the clock again).
        let started = tokio::time::Instant::now();
        let deadline = started + self.timeout;
        let outcome = tokio::time::timeout_at(deadline, self.exchange(wire)).await;
        Sent {
            transport: self.settle(outcome).map_or_else(|t| t, Transport::Answered),
            elapsed: started.elapsed(),
        }
    }

    async fn exchange(&mut self, wire: &Wire) -> Result<RawResponse, Failure> {
        self.encode(wire);
        let reused = self.open().await?;
        self.write(..self.request.len()).await?;
        self.receive().await.map_err(|failure| match failure {
            Failure::Broken(why) if reused && why.contains("without answering") => {
                Failure::Broken(format!(
                    "{why} on a kept-alive connection: its previous answer did not announce \
                     `Connection: close` (RFC 9112 §9.6), so the request was sent on it"
                ))
            }
            other => other,
        })
    }

    /// Makes sure a usable stream is open: the kept one when it is still good (returns
    /// `true`), else a new one (`false`).
    async fn open(&mut self) -> Result<bool, Failure> {
        if self.is_reusable() {
            return Ok(true);
        }
        self.stream = Some(Stream::connect(&self.target, &self.trust).await?);
        Ok(false)
    }

    /// Writes the encoded request up to `end`, from where the last write stopped.
    async fn write(&mut self, range: std::ops::RangeTo<usize>) -> Result<(), Failure> {
        let Some(stream) = &mut self.stream else {
            return Err(Failure::Broken("the connection is closed".into()));
        };
        let from = self.written.min(range.end);
        self.written = range.end;
        let written = async {
            stream.write_all(&self.request[from..range.end]).await?;
            stream.flush().await
        };
        written
            .await
            .map_err(|e| Failure::Broken(format!("cannot send the request: {e}")))
    }

    /// Reads the answer to the request just written and decides whether to keep the stream.
    async fn receive(&mut self) -> Result<RawResponse, Failure> {
        self.read.clear();
        self.read_pos = 0;
        let (response, keep_alive) = self.read_response().await?;
        if !keep_alive || self.read_pos < self.read.len() {
            // Closed by the merchant, or bytes nobody asked for: never reuse it.
            self.stream = None;
        }
        if self.read.capacity() > RETAINED_BUFFER {
            // The body was copied out; a large answer's buffer is not kept for the next one.
            self.read = Vec::new();
        }
        Ok(response)
    }

    /// Reads one answer from `bytes` as if the merchant had sent them on this connection:
    /// the same head, Content-Length, chunked and until-close framing, the same caps. What
    /// the fuzzer drives; the connection is left closed.
    pub(crate) async fn replay(&mut self, bytes: Vec<u8>) -> Result<RawResponse, Transport> {
        self.stream = Some(Stream::Replay(std::io::Cursor::new(bytes)));
        let outcome = self.receive().await.map_err(Failure::into_transport);
        self.stream = None;
        outcome
    }

    /// Opens the connection and writes all of `wire` but its last byte, so that several
    /// copies can then be completed at the same instant ([`Self::release`]): the way to make
    /// concurrent copies arrive together whatever the network does.
    pub(crate) async fn stage(&mut self, wire: &Wire) -> Result<(), Transport> {
        self.encode(wire);
        let timeout = self.timeout;
        let staged = async {
            self.open().await?;
            self.write(..self.request.len().saturating_sub(1)).await
        };
        let outcome = tokio::time::timeout(timeout, staged).await;
        self.settle(outcome)
    }

    /// Writes the last byte of a staged request; returns when it left.
    pub(crate) async fn release(&mut self) -> Result<Instant, Transport> {
        let (last, timeout) = (self.request.len(), self.timeout);
        let outcome = tokio::time::timeout(timeout, self.write(..last)).await;
        self.settle(outcome).map(|()| Instant::now())
    }

    /// Reads the answer to a released request within the timeout.
    pub(crate) async fn finish(&mut self, started: Instant) -> Sent {
        let timeout = self.timeout;
        let outcome = tokio::time::timeout(timeout, self.receive()).await;
        Sent {
            transport: self.settle(outcome).map_or_else(|t| t, Transport::Answered),
            elapsed: started.elapsed(),
        }
    }

    /// Writes the whole request into the reused buffer.
    fn encode(&mut self, wire: &Wire) {
        self.written = 0;
        let request = &mut self.request;
        request.clear();
        // Written piece by piece into the reused buffer: no string is formatted per request.
        request.extend_from_slice(wire.method.as_str().as_bytes());
        request.push(b' ');
        self.target.push_request_target(&wire.query, request);
        for part in [
            " HTTP/1.1\r\nHost: ",
            &self.authority,
            concat!("\r\nUser-Agent: kgsim/", env!("CARGO_PKG_VERSION"), "\r\n"),
        ] {
            request.extend_from_slice(part.as_bytes());
        }
        for (name, value) in &wire.headers {
            for part in [name.as_str(), ": ", value, "\r\n"] {
                request.extend_from_slice(part.as_bytes());
            }
        }
        match (wire.method, &wire.body) {
            (Method::Post, body) => {
                let body = body.as_deref().unwrap_or_default();
                let content_type = wire.content_type.unwrap_or("application/json");
                for part in [
                    "Content-Type: ",
                    content_type,
                    "\r\nAccept: application/json\r\nContent-Length: ",
                ] {
                    request.extend_from_slice(part.as_bytes());
                }
                push_decimal(request, body.len());
                request.extend_from_slice(b"\r\n\r\n");
                request.extend_from_slice(body.as_bytes());
            }
            (Method::Get, _) => request.extend_from_slice(b"Accept: */*\r\n\r\n"),
        }
    }

    /// Reads more bytes; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> Result<usize, Failure> {
        let Some(stream) = &mut self.stream else {
            return Ok(0);
        };
        if self.read_pos > 0 && self.read_pos == self.read.len() {
            self.read.clear();
            self.read_pos = 0;
        }
        self.read.reserve(8 * 1024);
        stream
            .read_buf(&mut self.read)
            .await
            .map_err(|e| Failure::broke(&e))
    }

    fn unread(&self) -> &[u8] {
        &self.read[self.read_pos..]
    }

    /// Reads the status line and headers of one answer (interim ones included).
    async fn read_head(&mut self) -> Result<(u16, Vec<(String, String)>, u8), Failure> {
        loop {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut slots);
            match parsed.parse(self.unread()) {
                Ok(httparse::Status::Complete(len)) => {
                    let headers: Vec<(String, String)> = parsed
                        .headers
                        .iter()
                        .map(|h| (h.name.to_owned(), header_text(h.value)))
                        .collect();
                    let head = (
                        parsed.code.unwrap_or_default(),
                        headers,
                        parsed.version.unwrap_or_default(),
                    );
                    self.read_pos += len;
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) if self.unread().len() > HEAD_CAP => {
                    return Err(Failure::Broken(format!(
                        "the answer head is larger than {HEAD_CAP} bytes"
                    )));
                }
                Ok(httparse::Status::Partial) => {}
                Err(_) if is_tls_record(self.unread()) => {
                    return Err(Failure::Broken(format!(
                        "the merchant speaks TLS: the answer is a TLS record, not HTTP — use \
                         {}",
                        self.target.as_str().replacen("http://", "https://", 1)
                    )));
                }
                Err(error) => {
                    return Err(Failure::Broken(format!(
                        "the answer is not HTTP/1.x: {error}"
                    )));
                }
            }
            let nothing_yet = self.unread().is_empty();
            match self.fill().await? {
                0 if nothing_yet => {
                    return Err(Failure::Broken(
                        "the merchant closed the connection without answering".into(),
                    ));
                }
                0 => {
                    return Err(Failure::Broken(
                        "the connection closed in the middle of the answer head".into(),
                    ));
                }
                _ => {}
            }
        }
    }

    async fn read_response(&mut self) -> Result<(RawResponse, bool), Failure> {
        loop {
            let (status, headers, version) = self.read_head().await?;
            match status {
                101 => return Err(Failure::Broken("the merchant switched protocols".into())),
                // Interim answers (100 Continue, 103 Early Hints) precede the real one.
                100..=199 => continue,
                _ => {}
            }
            let framing = framing(status, &headers)?;
            let connection = header(&headers, "connection")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let mut keep_alive = if version == 1 {
                !connection.contains("close")
            } else {
                connection.contains("keep-alive")
            };
            let body = match framing {
                Framing::Empty => Vec::new(),
                Framing::Length(len) => self.read_exact(len).await?,
                Framing::Chunked => self.read_chunked().await?,
                Framing::UntilClose => {
                    keep_alive = false;
                    self.read_until_close().await?
                }
            };
            let response = RawResponse {
                status,
                headers,
                body,
            };
            return Ok((response, keep_alive));
        }
    }

    fn too_large(&self) -> Failure {
        Failure::Broken(format!("the body is larger than {} bytes", self.body_cap))
    }

    async fn read_exact(&mut self, len: usize) -> Result<Vec<u8>, Failure> {
        if len > self.body_cap {
            return Err(self.too_large());
        }
        // What is already buffered is moved out; the rest is read straight into the body, so
        // a large answer is held once, not once in the read buffer and again as the body.
        let buffered = self.unread().len().min(len);
        let mut body = Vec::with_capacity(len);
        body.extend_from_slice(&self.unread()[..buffered]);
        self.read_pos += buffered;
        while body.len() < len {
            let Some(stream) = &mut self.stream else {
                break;
            };
            let missing = (len - body.len()) as u64;
            let read = (&mut *stream)
                .take(missing)
                .read_buf(&mut body)
                .await
                .map_err(|e| Failure::broke(&e))?;
            if read == 0 {
                break;
            }
        }
        if body.len() < len {
            return Err(Failure::Broken(
                "the connection closed in the middle of the body".into(),
            ));
        }
        Ok(body)
    }

    async fn read_line(&mut self) -> Result<String, Failure> {
        loop {
            if let Some(end) = self.unread().windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.unread()[..end]).into_owned();
                self.read_pos += end + 2;
                return Ok(line);
            }
            if self.unread().len() > LINE_CAP {
                return Err(Failure::Broken("a chunk line is too long".into()));
            }
            if self.fill().await? == 0 {
                return Err(Failure::Broken(
                    "the connection closed in the middle of a chunked body".into(),
                ));
            }
        }
    }

    async fn read_chunked(&mut self) -> Result<Vec<u8>, Failure> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| Failure::Broken(format!("bad chunk size line `{line}`")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > self.body_cap {
                return Err(self.too_large());
            }
            body.extend_from_slice(&self.read_exact(size).await?);
            if !self.read_line().await?.is_empty() {
                return Err(Failure::Broken("a chunk does not end with CRLF".into()));
            }
        }
    }

    async fn read_until_close(&mut self) -> Result<Vec<u8>, Failure> {
        loop {
            if self.unread().len() > self.body_cap {
                return Err(self.too_large());
            }
            if self.fill().await? == 0 {
                break;
            }
        }
        let body = self.unread().to_vec();
        self.read_pos = self.read.len();
        Ok(body)
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A header value as text, bytes that are not UTF-8 replaced. Values are nearly always
/// ASCII: the plain UTF-8 check is several times cheaper than the lossy conversion's walk.
fn header_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The first header of a name, compared case-insensitively.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// How the body of an answer is delimited (RFC 9112 §6.3).
fn framing(status: u16, headers: &[(String, String)]) -> Result<Framing, Failure> {
    if status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if let Some(encoding) = header(headers, "transfer-encoding") {
        let chunked = encoding
            .to_ascii_lowercase()
            .trim_end()
            .ends_with("chunked");
        return Ok(if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut lengths = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim());
    let Some(first) = lengths.next() else {
        return Ok(Framing::UntilClose);
    };
    if lengths.any(|other| other != first) {
        return Err(Failure::Broken(
            "the answer has conflicting Content-Length headers".into(),
        ));
    }
    first
        .parse()
        .map(Framing::Length)
        .map_err(|_| Failure::Broken(format!("bad Content-Length `{first}`")))
}

/// Whether bytes start like a TLS record: a handshake (22) or an alert (21), then major
/// version 3 — what a TLS server sends to a client that spoke plain HTTP to it.
fn is_tls_record(bytes: &[u8]) -> bool {
    matches!(bytes, [0x15 | 0x16, 0x03, ..])
}

#[cfg(test)]
mod tests;
