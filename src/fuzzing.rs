//! Entry points for the fuzz harness (`tests/fuzz`), not an API: each takes arbitrary bytes
//! and drives, the way kgsim runs it, one parser of what a merchant or a user sends that is
//! not reachable through the public API — the HTTP/1.1 answer framing, what the open-API
//! server reads from a merchant, the console's JSON request bodies. A target returns
//! normally whatever the input; only a panic is a finding.

use std::sync::Arc;

use axum::body::Bytes;

use crate::open_api::Keys;
use crate::open_api::book::Book;
use crate::open_api::ops::Received;
use crate::open_api::server::OpenApi;
use crate::protocol::{AccessKey, UnixMillis};
use crate::transport::http1::Connection;
use crate::transport::stream::Trust;
use crate::transport::target::TargetUrl;

thread_local! {
    /// One single-threaded runtime per fuzzing thread: the targets are async, not slow.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    /// A connection reused across executions, as a run reuses one across answers.
    static CONNECTION: std::cell::RefCell<Option<Connection>> = const { std::cell::RefCell::new(None) };
    /// The open-API server, with the MOCK orders published.
    static OPEN_API: Arc<OpenApi> = open_api();
}

fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// `head`, a blank line, `body`: the input cut at its first blank line. Without one, it is
/// all head (`head_only`) or all body.
fn head_and_body(input: &[u8], head_only: bool) -> (&[u8], &[u8]) {
    match input.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&input[..at], &input[at + 2..]),
        None if head_only => (input, &input[..0]),
        None => (&input[..0], input),
    }
}

/// `Name: value` lines as header pairs; lines without a colon are left out.
fn header_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// The bytes of one answer as a merchant would send them, read through the answer framing
/// (head, Content-Length, chunked, until close) with a 64 KiB body cap; the status read, when
/// the answer was acceptable HTTP.
pub fn http1_answer(input: &[u8]) -> Option<u16> {
    CONNECTION.with(|cell| {
        let mut slot = cell.borrow_mut();
        let connection = slot.get_or_insert_with(|| {
            let target = TargetUrl::parse("http://127.0.0.1:9/saasproduce").expect("a URL");
            let trust = Trust::new(None).expect("the platform's trust store");
            Connection::new(
                Arc::new(target),
                trust,
                std::time::Duration::from_secs(1),
                64 * 1024,
            )
        });
        block_on(connection.replay(input.to_vec()))
            .ok()
            .map(|answer| answer.status)
    })
}

fn open_api() -> Arc<OpenApi> {
    let book = Book::new();
    crate::open_api::mock::seed(&book, UnixMillis(1_700_000_000_000));
    Arc::new(OpenApi {
        book,
        keys: Keys {
            app_key: "fuzz-ak".to_owned(),
            app_secret: AccessKey::new("fuzz-sk"),
            usage_key: AccessKey::new("fuzz-access-key"),
        },
        scheme: "http",
    })
}

/// A call to the open APIs: `METHOD PATH[?QUERY]`, `Name: value` header lines, a blank line,
/// the body. The first byte chooses between the whole gateway (signature and date checked
/// first, as for any caller) and the operation alone, so that mutated bodies reach the usage,
/// License, identity and multipart parsers behind a signature no mutation keeps valid.
/// Returns the answer's status (none for a path that is no API, taken straight).
pub fn open_api_call(input: &[u8]) -> Option<u16> {
    let (choice, rest) = input.split_first().unwrap_or((&0, &[]));
    let (head, body) = head_and_body(rest, true);
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let (method, target) = request_line
        .split_once(' ')
        .unwrap_or(("GET", request_line));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let received = Received {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: header_lines(lines),
        body: Bytes::copy_from_slice(body),
    };
    let now = UnixMillis(1_700_000_000_000);
    OPEN_API.with(|api| {
        if choice & 1 == 0 {
            Some(block_on(api.handle(&received, now)).1.status)
        } else {
            block_on(api.operate_trusted(&received, now)).map(|reply| reply.status)
        }
    })
}

/// A JSON body for one of the console's API routes (the first byte picks it; the second, a
/// JSON or another Content-Type), parsed and checked as the route does; whether it was taken.
pub fn console_body(input: &[u8]) -> bool {
    let (route, rest) = input.split_first().unwrap_or((&0, &[]));
    let (kind, body) = rest.split_first().unwrap_or((&0, &[]));
    let content_type = match kind % 4 {
        0 | 1 => "application/json",
        2 => "application/json; charset=utf-8",
        _ => "text/plain",
    };
    block_on(crate::console::http::api::check_body(
        *route,
        content_type,
        body.to_vec(),
    ))
}

/// A merchant's answer to one of the Kit syncs (the first byte picks the sync and the OAEP
/// digest the clientSecret went out with): `Name: value` header lines, a blank line, the
/// body — judged by the console's rules as a Kit answer is; the rules it broke.
pub fn kit_answer(input: &[u8]) -> Vec<&'static str> {
    use crate::marketplace::classify::{self as console, Context};
    use crate::protocol::v2::client_secret::OaepDigest;
    use crate::protocol::{Activity, Protocol};
    let (choice, rest) = input.split_first().unwrap_or((&0, &[]));
    let syncs: Vec<Activity> = Activity::ALL
        .iter()
        .copied()
        .filter(|a| a.is_kit())
        .collect();
    let activity = syncs[usize::from(*choice) % syncs.len()];
    let digest = OaepDigest::ALL[usize::from(choice / 8) % OaepDigest::ALL.len()];
    let (head, body) = head_and_body(rest, false);
    let headers = header_lines(String::from_utf8_lossy(head).lines());
    let key = AccessKey::new("fuzz-kit-key");
    let context = Context {
        protocol: Protocol::V2,
        activity,
        key: &key,
        timeout: crate::marketplace::Span::seconds(20),
        rules: crate::protocol::fields::Rules::Console,
        must_list: &[],
        oaep_digest: Some(digest),
    };
    let response = crate::marketplace::RawResponse {
        status: 200,
        headers,
        body: body.to_vec(),
    };
    let judgement = console::classify(&crate::marketplace::Transport::Answered(response), &context);
    judgement
        .findings
        .iter()
        .map(|finding| {
            let _ = (finding.message(), finding.expected(), finding.got());
            finding.rule().slug()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(target: &str, name: &str) -> Vec<u8> {
        let path = format!(
            "{}/fixtures/fuzz/{target}/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The targets reach what they are meant to: the seeds are read as a merchant's, not
    /// refused at the door.
    #[test]
    fn the_seeds_reach_the_parsers_they_drive() {
        for name in ["length", "chunked", "until-close", "interim"] {
            assert_eq!(http1_answer(&corpus("http1", name)), Some(200), "{name}");
        }
        assert_eq!(
            http1_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}"),
            None
        );
        // Straight to the operation: a License activation, a token request.
        assert!(open_api_call(&corpus("open_api", "04")).is_some());
        assert!(open_api_call(&corpus("open_api", "07")).is_some());
        // Through the gateway: the made-up signature is refused.
        assert_eq!(open_api_call(&corpus("open_api", "00")), Some(401));
        assert!(console_body(&corpus("console_api", "00")));
        assert!(console_body(&corpus("console_api", "05")));
        assert!(
            !console_body(b"\x04\x03{\"by\":\"3h\"}"),
            "text/plain is refused"
        );
        assert_eq!(
            kit_answer(&corpus("kit_answer", "ok-0")),
            Vec::<&str>::new()
        );
        assert_eq!(
            kit_answer(&corpus("kit_answer", "refused")),
            vec!["result-code"]
        );
    }
}
