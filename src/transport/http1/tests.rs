//! The HTTP/1.1 connection against scripted servers: framing, keep-alive, caps, hostile
//! answers, and no request ever written twice.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::transport::wire::Destination;

const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

/// A scripted server: connection `i` answers its requests with `script[i]` in turn, then
/// closes — after reading one more request when `read_last` (a clean close the client
/// sees as end of stream, not a reset). Answered requests are kept, connections counted.
struct Server {
    url: String,
    accepted: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    /// Notified each time a connection's script ends and its stream is dropped.
    closed: Arc<tokio::sync::Notify>,
}

async fn server(script: Vec<Vec<&'static [u8]>>, read_last: bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/saasproduce", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let closed = Arc::new(tokio::sync::Notify::new());
    let (count, log, done) = (accepted.clone(), requests.clone(), closed.clone());
    tokio::spawn(async move {
        for answers in script {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let (log, done) = (log.clone(), done.clone());
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
                drop(stream);
                done.notify_one();
            });
        }
    });
    Server {
        url,
        accepted,
        requests,
        closed,
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

fn trust() -> Trust {
    Trust::new(None).unwrap()
}

fn connection(url: &str, cap: usize) -> Connection {
    let target = Arc::new(TargetUrl::parse(url).unwrap());
    Connection::new(target, trust(), Duration::from_secs(5), cap)
}

fn get() -> Wire {
    Wire {
        method: Method::Get,
        query: "activity=newInstance&authToken=a%2Bb".into(),
        headers: Vec::new(),
        body: None,
        content_type: None,
        to: Destination::Production,
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

#[tokio::test]
async fn keeps_one_connection_alive_across_requests_and_writes_exact_requests() {
    let server = server(vec![vec![OK, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\nbody-Sign: x\r\n\r\nabc"]], false).await;
    let mut connection = connection(&format!("{}?fixed=1", server.url), 1024);
    assert_eq!(answered(&connection.send(&get()).await).body, b"{}");
    let post = Wire {
        method: Method::Post,
        query: "nonce=n".into(),
        headers: vec![("x-nonce".into(), "3F0B".into())],
        body: Some(r#"{"a":"中"}"#.into()),
        content_type: Some(crate::transport::wire::JSON_UTF8),
        to: Destination::Production,
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
        response.headers[1].0, "body-Sign",
        "header names keep the merchant's case"
    );
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
        requests[1].starts_with("POST /saasproduce?fixed=1&nonce=n HTTP/1.1\r\n")
            && requests[1].contains("\r\nx-nonce: 3F0B\r\n"),
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
async fn a_kept_connection_the_merchant_closed_is_noticed_before_writing() {
    // The first connection closes right after its answer (the script ends, the stream drops).
    let server = server(vec![vec![OK], vec![OK]], false).await;
    let mut connection = connection(&server.url, 1024);
    answered(&connection.send(&get()).await);
    server.closed.notified().await;
    answered(&connection.send(&get()).await);
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
    assert_eq!(server.requests.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_request_is_never_written_twice() {
    // The merchant reads the second request on the kept connection, then closes without an
    // answer: the exchange is broken, and the request is not sent again elsewhere.
    let server = server(vec![vec![OK], vec![OK]], true).await;
    let mut connection = connection(&server.url, 1024);
    answered(&connection.send(&get()).await);
    let second = connection.send(&get()).await;
    assert!(
        broken(&second).contains("without answering"),
        "{:?}",
        second.transport
    );
    tokio::task::yield_now().await;
    assert_eq!(
        server.accepted.load(Ordering::SeqCst),
        1,
        "no second connection"
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
        matches!(sent.transport, Transport::Unreachable(ref why) if why.starts_with("nothing listens on 127.0.0.1:")),
        "{:?}",
        sent.transport
    );
}

#[tokio::test]
async fn tls_on_an_http_address_is_named_with_the_https_hint() {
    // A TLS server's answer to plain HTTP: an alert record (21, version 3.1).
    let alert: &'static [u8] = b"\x15\x03\x01\x00\x02\x02\x46";
    let server = server(vec![vec![alert]], false).await;
    let sent = connection(&server.url, 1024).send(&get()).await;
    let why = broken(&sent);
    assert!(why.starts_with("the merchant speaks TLS"), "{why}");
    assert!(why.contains("use https://127.0.0.1:"), "{why}");
}

#[tokio::test]
async fn plain_http_on_an_https_address_is_named_with_the_http_hint() {
    // A plain HTTP server answers the ClientHello as a bad request.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/saasproduce", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 512];
        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut hello).await;
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let sent = connection(&url, 1024).send(&get()).await;
    let why = broken(&sent);
    assert!(
        why.contains("speaks plain HTTP on this https:// address"),
        "{why}"
    );
    assert!(why.contains("use http://127.0.0.1:"), "{why}");
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
    let target = Arc::new(TargetUrl::parse(&url).unwrap());
    let mut connection = Connection::new(target, trust(), Duration::from_secs(20), 1024);
    let sent = connection.send(&get()).await;
    assert_eq!(sent.transport, Transport::TimedOut);
    assert!(
        connection.stream.is_none(),
        "a timed-out connection is never reused"
    );
}

/// A client of the embedded merchant keeps its connection between exchanges; any other
/// client opens one per exchange.
#[tokio::test]
async fn only_a_keeping_client_reuses_its_connection() {
    for (keeping, connections) in [(true, 1), (false, 2)] {
        let served = server(vec![vec![OK, OK], vec![OK, OK]], false).await;
        let target = TargetUrl::parse(&served.url).unwrap();
        let client = crate::transport::Client::new(target, trust(), Duration::from_secs(5));
        let client = if keeping {
            client.keeping_connections()
        } else {
            client
        };
        for _ in 0..2 {
            let sent = client.send(&get()).await;
            assert!(matches!(sent.transport, Transport::Answered(_)), "{sent:?}");
        }
        assert_eq!(
            served.accepted.load(Ordering::SeqCst),
            connections,
            "keeping: {keeping}"
        );
    }
}

#[test]
fn header_values_are_text_with_bytes_that_are_not_utf8_replaced() {
    for bytes in [
        &b"application/json"[..],
        "订单 ok".as_bytes(),
        b"a\xffb",
        b"",
    ] {
        assert_eq!(header_text(bytes), String::from_utf8_lossy(bytes));
    }
    assert_eq!(header_text(b"a\xffb"), "a\u{fffd}b");
}
