//! A lean HTTP/1.1 client connection for load mode: one persistent plain-HTTP connection per
//! request in flight, each request written in one call and each answer parsed in place.
//!
//! Why not the [`Target`](crate::scenario::http::Target) client: profiling `kgsim load` showed
//! about 60 % of its CPU inside reqwest and hyper's per-request machinery (re-parsing the long
//! signed URL, pool checkout, handing every request to a separate connection task), which on a
//! shared machine is CPU taken from the merchant under test. This connection keeps every
//! guarantee of that client — a timeout on every exchange, a cap on every body, redirects
//! returned as answers and never followed, hostile answers turned into [`Transport`] values —
//! and speaks only what a marketplace call needs: `GET` or `POST`, `Content-Length`, chunked
//! and read-to-close bodies, keep-alive. HTTPS targets go through the reqwest client.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::marketplace::Transport;
use crate::marketplace::classify::RawResponse;
use crate::scenario::http::{Sent, connect_address, query_separator};
use crate::scenario::wire::{Method, Wire};

/// The largest response head read (status line and headers).
const HEAD_CAP: usize = 64 * 1024;
/// The most headers one answer may carry.
const MAX_HEADERS: usize = 64;
/// The longest chunk-size or trailer line.
const LINE_CAP: usize = 4 * 1024;

/// A plain `http://` production address, split for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` as written in the URL, for the `Host` header.
    authority: String,
    /// `host:port` to connect to (port 80 added when the URL has none).
    connect_to: String,
    /// The path, with any query the address itself carries.
    path: String,
}

impl Endpoint {
    /// Splits an `http://host[:port][/path][?query]` address; `None` for anything else
    /// (https, user info, characters that would need encoding), which then goes through the
    /// full client.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("http://")?;
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let plain = |s: &str| s.bytes().all(|b| b.is_ascii_graphic() && b != b'#');
        if authority.is_empty() || authority.contains('@') || !plain(authority) || !plain(path) {
            return None;
        }
        let connect_to = connect_address(authority, 80);
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Some(Self {
            authority: authority.to_owned(),
            connect_to,
            path,
        })
    }
}

/// Why an attempt failed.
enum Failure {
    /// A reused keep-alive connection was closed by the merchant before any answer byte: the
    /// request is sent again once on a fresh connection, as HTTP clients do.
    Stale,
    /// No connection could be made.
    Unreachable(String),
    /// The connection broke or the answer was not acceptable HTTP.
    Broken(String),
}

impl Failure {
    fn into_transport(self) -> Transport {
        match self {
            Self::Stale => Transport::Broken("the connection closed before an answer".into()),
            Self::Unreachable(why) => Transport::Unreachable(why),
            Self::Broken(why) => Transport::Broken(why),
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
pub struct Connection {
    endpoint: Endpoint,
    timeout: Duration,
    body_cap: usize,
    stream: Option<TcpStream>,
    /// The request being sent, reused between requests.
    request: Vec<u8>,
    /// Bytes read and not yet consumed start at `read_pos`.
    read: Vec<u8>,
    read_pos: usize,
}

impl Connection {
    /// A connection (opened on first use) with a per-exchange timeout and a body cap.
    pub fn new(endpoint: Endpoint, timeout: Duration, body_cap: usize) -> Self {
        Self {
            endpoint,
            timeout,
            body_cap,
            stream: None,
            request: Vec::with_capacity(1024),
            read: Vec::with_capacity(8 * 1024),
            read_pos: 0,
        }
    }

    /// Sends one signed request and reads the answer within the timeout and the body cap.
    pub async fn send(&mut self, wire: &Wire) -> Sent {
        let started = Instant::now();
        let transport = match tokio::time::timeout(self.timeout, self.exchange(wire)).await {
            Ok(transport) => transport,
            Err(_) => {
                // Whatever was half-read is lost with the connection.
                self.stream = None;
                Transport::TimedOut
            }
        };
        Sent {
            transport,
            elapsed: started.elapsed(),
        }
    }

    async fn exchange(&mut self, wire: &Wire) -> Transport {
        self.encode(wire);
        let reused = self.stream.is_some();
        let mut outcome = self.attempt(reused).await;
        if reused && matches!(outcome, Err(Failure::Stale)) {
            outcome = self.attempt(false).await;
        }
        match outcome {
            Ok(response) => Transport::Answered(response),
            Err(failure) => {
                self.stream = None;
                failure.into_transport()
            }
        }
    }

    /// Writes the whole request into the reused buffer.
    fn encode(&mut self, wire: &Wire) {
        let request = &mut self.request;
        request.clear();
        for part in [
            wire.method.as_str(),
            " ",
            &self.endpoint.path,
            query_separator(&self.endpoint.path),
            &wire.query,
            " HTTP/1.1\r\nHost: ",
            &self.endpoint.authority,
            concat!("\r\nUser-Agent: kgsim/", env!("CARGO_PKG_VERSION"), "\r\n"),
        ] {
            request.extend_from_slice(part.as_bytes());
        }
        match (wire.method, &wire.body) {
            (Method::Post, body) => {
                let body = body.as_deref().unwrap_or_default();
                request.extend_from_slice(
                    b"Content-Type: application/json;charset=utf-8\r\nAccept: application/json\r\n",
                );
                request.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                request.extend_from_slice(body.as_bytes());
            }
            (Method::Get, _) => request.extend_from_slice(b"Accept: */*\r\n\r\n"),
        }
    }

    async fn attempt(&mut self, reused: bool) -> Result<RawResponse, Failure> {
        if !reused {
            self.stream = None;
        }
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(&self.endpoint.connect_to)
                    .await
                    .map_err(|e| {
                        Failure::Unreachable(format!(
                            "cannot connect to {}: {e}",
                            self.endpoint.connect_to
                        ))
                    })?;
                // Requests are written whole; waiting to coalesce them only adds latency.
                let _ = stream.set_nodelay(true);
                self.stream.insert(stream)
            }
        };
        self.read.clear();
        self.read_pos = 0;
        if let Err(error) = stream.write_all(&self.request).await {
            return Err(if reused {
                Failure::Stale
            } else {
                Failure::Broken(format!("cannot send the request: {error}"))
            });
        }
        let (response, keep_alive) = self.read_response(reused).await?;
        if !keep_alive || self.read_pos < self.read.len() {
            // Closed by the merchant, or bytes nobody asked for: never reuse it.
            self.stream = None;
        }
        Ok(response)
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
            .map_err(|e| Failure::Broken(format!("the connection broke: {e}")))
    }

    fn unread(&self) -> &[u8] {
        &self.read[self.read_pos..]
    }

    async fn read_response(&mut self, reused: bool) -> Result<(RawResponse, bool), Failure> {
        loop {
            let (status, headers, version, head_len) = loop {
                let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut parsed = httparse::Response::new(&mut slots);
                match parsed.parse(self.unread()) {
                    Ok(httparse::Status::Complete(len)) => {
                        let headers: Vec<(String, String)> = parsed
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_ascii_lowercase(),
                                    String::from_utf8_lossy(h.value).into_owned(),
                                )
                            })
                            .collect();
                        break (
                            parsed.code.unwrap_or_default(),
                            headers,
                            parsed.version.unwrap_or_default(),
                            len,
                        );
                    }
                    Ok(httparse::Status::Partial) if self.unread().len() > HEAD_CAP => {
                        return Err(Failure::Broken(format!(
                            "the answer head is larger than {HEAD_CAP} bytes"
                        )));
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(error) => {
                        return Err(Failure::Broken(format!(
                            "the answer is not HTTP/1.x: {error}"
                        )));
                    }
                }
                let nothing_yet = self.unread().is_empty();
                match self.fill().await {
                    Ok(0) | Err(_) if nothing_yet && reused => return Err(Failure::Stale),
                    Ok(0) if nothing_yet => {
                        return Err(Failure::Broken(
                            "the merchant closed the connection without answering".into(),
                        ));
                    }
                    Ok(0) => {
                        return Err(Failure::Broken(
                            "the connection closed in the middle of the answer head".into(),
                        ));
                    }
                    Ok(_) => {}
                    Err(failure) => return Err(failure),
                }
            };
            self.read_pos += head_len;
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
            return Ok((
                RawResponse {
                    status,
                    headers,
                    body,
                },
                keep_alive,
            ));
        }
    }

    fn too_large(&self) -> Failure {
        Failure::Broken(format!("the body is larger than {} bytes", self.body_cap))
    }

    async fn read_exact(&mut self, len: usize) -> Result<Vec<u8>, Failure> {
        if len > self.body_cap {
            return Err(self.too_large());
        }
        while self.unread().len() < len {
            if self.fill().await? == 0 {
                return Err(Failure::Broken(
                    "the connection closed in the middle of the body".into(),
                ));
            }
        }
        let body = self.unread()[..len].to_vec();
        self.read_pos += len;
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

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// How the body of an answer is delimited (RFC 9112 §6.3).
fn framing(status: u16, headers: &[(String, String)]) -> Result<Framing, Failure> {
    if status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if let Some(encoding) = header(headers, "transfer-encoding") {
        return if encoding
            .to_ascii_lowercase()
            .trim_end()
            .ends_with("chunked")
        {
            Ok(Framing::Chunked)
        } else {
            Ok(Framing::UntilClose)
        };
    }
    let mut lengths = headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.trim());
    match lengths.next() {
        None => Ok(Framing::UntilClose),
        Some(first) => {
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
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use tokio::net::TcpListener;

    use super::*;

    const OK: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

    /// A scripted server: connection `i` answers its requests with `script[i]` in turn, then
    /// closes — after reading one more request when `read_last` (a clean close the client
    /// sees as end of stream, not a reset). Answered requests are kept, connections counted.
    struct Server {
        url: String,
        accepted: Arc<AtomicUsize>,
        requests: Arc<Mutex<Vec<String>>>,
    }

    async fn server(script: Vec<Vec<&'static [u8]>>, read_last: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/saasproduce", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (accepted.clone(), requests.clone());
        tokio::spawn(async move {
            for answers in script {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let log = log.clone();
                tokio::spawn(async move {
                    for answer in answers {
                        let Some(request) = read_request(&mut stream).await else {
                            return;
                        };
                        log.lock().unwrap().push(request);
                        if stream.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                    if read_last {
                        let _ = read_request(&mut stream).await;
                    }
                });
            }
        });
        Server {
            url,
            accepted,
            requests,
        }
    }

    /// Reads one request (head and Content-Length body).
    async fn read_request(stream: &mut TcpStream) -> Option<String> {
        let mut bytes = Vec::new();
        loop {
            if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .map_or(0, |n| n.parse().unwrap());
                while bytes.len() < end + 4 + length {
                    if stream.read_buf(&mut bytes).await.ok()? == 0 {
                        return None;
                    }
                }
                return Some(String::from_utf8_lossy(&bytes).into_owned());
            }
            if stream.read_buf(&mut bytes).await.ok()? == 0 {
                return None;
            }
        }
    }

    fn connection(url: &str, cap: usize) -> Connection {
        Connection::new(Endpoint::parse(url).unwrap(), Duration::from_secs(5), cap)
    }

    fn get() -> Wire {
        Wire {
            method: Method::Get,
            query: "activity=newInstance&authToken=a%2Bb".into(),
            body: None,
        }
    }

    fn answered(sent: &Sent) -> &RawResponse {
        match &sent.transport {
            Transport::Answered(response) => response,
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    fn broken(sent: &Sent) -> &str {
        match &sent.transport {
            Transport::Broken(why) => why,
            other => panic!("expected a broken exchange, got {other:?}"),
        }
    }

    #[test]
    fn endpoints_are_split_for_the_wire_and_the_rest_is_left_to_the_full_client() {
        let plain = Endpoint::parse("http://127.0.0.1:8080/saasproduce").unwrap();
        assert_eq!(
            (plain.connect_to.as_str(), plain.path.as_str()),
            ("127.0.0.1:8080", "/saasproduce")
        );
        let defaults = Endpoint::parse("http://merchant.example?x=1").unwrap();
        assert_eq!(
            (defaults.connect_to.as_str(), defaults.authority.as_str()),
            ("merchant.example:80", "merchant.example")
        );
        assert_eq!(defaults.path, "/?x=1");
        assert_eq!(
            Endpoint::parse("http://[::1]/p").unwrap().connect_to,
            "[::1]:80"
        );
        assert_eq!(
            Endpoint::parse("http://[::1]:9/p").unwrap().connect_to,
            "[::1]:9"
        );
        for other in [
            "https://m.example/p",
            "http://user@m.example/p",
            "http://m.example/a b",
            "ftp://m",
            "http:///p",
        ] {
            assert_eq!(Endpoint::parse(other), None, "{other}");
        }
    }

    #[tokio::test]
    async fn keeps_one_connection_alive_across_requests_and_writes_exact_requests() {
        let server = server(vec![vec![OK, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\nBody-Sign: x\r\n\r\nabc"]], false).await;
        let mut connection = connection(&format!("{}?fixed=1", server.url), 1024);
        assert_eq!(answered(&connection.send(&get()).await).body, b"{}");
        let post = Wire {
            method: Method::Post,
            query: "nonce=n".into(),
            body: Some(r#"{"a":"中"}"#.into()),
        };
        let second = connection.send(&post).await;
        let response = answered(&second);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"abc"[..]),
            "interim answers are skipped"
        );
        assert_eq!(response.header("body-sign"), Some("x"));
        assert_eq!(
            server.accepted.load(Ordering::SeqCst),
            1,
            "one connection for both"
        );
        let requests = server.requests.lock().unwrap().clone();
        let host = server
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/saasproduce");
        assert!(requests[0].starts_with(&format!("GET /saasproduce?fixed=1&activity=newInstance&authToken=a%2Bb HTTP/1.1\r\nHost: {host}\r\n")), "{}", requests[0]);
        assert!(
            requests[1].starts_with("POST /saasproduce?fixed=1&nonce=n HTTP/1.1\r\n"),
            "{}",
            requests[1]
        );
        assert!(
            requests[1].contains(&format!("Content-Length: {}\r\n", r#"{"a":"中"}"#.len()))
                && requests[1].ends_with("\r\n\r\n{\"a\":\"中\"}"),
            "{}",
            requests[1]
        );
    }

    #[tokio::test]
    async fn decodes_chunked_bodies_and_reads_unframed_ones_to_the_close() {
        let chunked: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n";
        let unframed: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"b\":2}";
        let server = server(vec![vec![chunked, unframed], vec![OK]], false).await;
        let mut connection = connection(&server.url, 1024);
        assert_eq!(answered(&connection.send(&get()).await).body, br#"{"a":1}"#);
        assert_eq!(answered(&connection.send(&get()).await).body, br#"{"b":2}"#);
        assert_eq!(answered(&connection.send(&get()).await).body, b"{}");
        assert_eq!(
            server.accepted.load(Ordering::SeqCst),
            2,
            "an unframed answer ends its connection"
        );
    }

    #[tokio::test]
    async fn resends_once_when_a_kept_connection_was_closed_by_the_merchant() {
        // The first connection closes after one answer without saying so.
        let server = server(vec![vec![OK], vec![OK]], true).await;
        let mut connection = connection(&server.url, 1024);
        answered(&connection.send(&get()).await);
        answered(&connection.send(&get()).await);
        assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
        assert_eq!(
            server.requests.lock().unwrap().len(),
            2,
            "each connection answered one"
        );
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused_against_the_cap() {
        let long: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        let chunks: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n";
        let unframed: &[u8] = b"HTTP/1.1 200 OK\r\n\r\n0123456789abcdef";
        let server = server(vec![vec![long], vec![chunks], vec![unframed]], false).await;
        let mut connection = connection(&server.url, 10);
        for _ in 0..3 {
            assert_eq!(
                broken(&connection.send(&get()).await),
                "the body is larger than 10 bytes"
            );
        }
    }

    #[tokio::test]
    async fn hostile_answers_become_findings_not_panics() {
        let cases: [(&'static [u8], &str); 5] = [
            (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not HTTP/1.x"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                "conflicting Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                "bad Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "bad chunk size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
                "closed in the middle of the body",
            ),
        ];
        for (answer, expected) in cases {
            let server = server(vec![vec![answer]], false).await;
            let sent = connection(&server.url, 1024).send(&get()).await;
            assert!(
                broken(&sent).contains(expected),
                "{expected}: {:?}",
                sent.transport
            );
        }
        let silent = server(vec![vec![]], true).await;
        let sent = connection(&silent.url, 1024).send(&get()).await;
        assert!(
            broken(&sent).contains("closed the connection without answering"),
            "{:?}",
            sent.transport
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/p", listener.local_addr().unwrap());
        drop(listener);
        let sent = connection(&url, 1024).send(&get()).await;
        assert!(
            matches!(sent.transport, Transport::Unreachable(ref why) if why.contains("cannot connect")),
            "{:?}",
            sent.transport
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_merchant_times_out_on_the_virtual_clock() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/p", listener.local_addr().unwrap());
        // Accepts and reads, never answers.
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = read_request(&mut stream).await;
            std::future::pending::<()>().await;
        });
        let mut connection = Connection::new(
            Endpoint::parse(&url).unwrap(),
            Duration::from_secs(20),
            1024,
        );
        let sent = connection.send(&get()).await;
        assert_eq!(sent.transport, Transport::TimedOut);
        assert!(
            connection.stream.is_none(),
            "a timed-out connection is never reused"
        );
    }
}
