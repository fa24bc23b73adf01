//! `kgsim run` and `kgsim load` judge a merchant through the same client and the same console
//! rules: the same hostile answer gives the same console findings on both paths.

use std::collections::BTreeSet;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::fault_matrix::failing_checks;
use crate::support::{kgsim, kgsim_json, temp_file};

const KEY: &str = "differential-test-key";

/// A merchant that answers every request with the same bytes (after reading its head), then
/// closes the connection (so that a short body ends instead of stalling to the timeout). Each
/// path sends each request on a connection of its own, so both see the same answer.
async fn scripted(answer: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                if matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {
                    let _ = socket.write_all(answer).await;
                }
            });
        }
    });
    format!("http://{address}/saasproduce")
}

const JSON_OK: &str = r#"{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1","appInfo":{"frontEndUrl":"https://m"}}"#;

/// Hostile answers, each breaking something different.
fn answers() -> Vec<(&'static str, &'static [u8])> {
    let leak = |text: String| -> &'static [u8] { Box::leak(text.into_bytes().into_boxed_slice()) };
    let ok = |head: &str| {
        leak(format!(
            "HTTP/1.1 200 OK\r\n{head}Content-Length: {}\r\n\r\n{JSON_OK}",
            JSON_OK.len()
        ))
    };
    vec![
        ("text/plain", ok("Content-Type: text/plain\r\n")),
        (
            "lowercase body-sign",
            ok(
                "Content-Type: application/json\r\nbody-sign: sign_type=\"HMAC-SHA256\", signature=\"AAAA\"\r\n",
            ),
        ),
        (
            "two body-signs",
            ok("Content-Type: application/json\r\nBody-Sign: a\r\nBody-Sign: b\r\n"),
        ),
        (
            "status 500",
            leak(format!(
                "HTTP/1.1 500 Oops\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{JSON_OK}",
                JSON_OK.len()
            )),
        ),
        (
            "not json",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\nOK",
        ),
        (
            "redirect",
            b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\n\r\n",
        ),
        ("not http", b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
        (
            "short body",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{}",
        ),
    ]
}

fn load_checks(url: &str) -> BTreeSet<String> {
    let json = temp_file("load.json", b"");
    let run = kgsim(
        &[
            "load",
            "--target",
            url,
            "--orders",
            "1",
            "--concurrency",
            "1",
            "--timeout",
            "2s",
            "--json",
            json.to_str().unwrap(),
        ],
        Some(KEY),
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    report["console_failures"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn run_checks(url: &str) -> BTreeSet<String> {
    let (run, report) = kgsim_json(
        &[
            "run",
            "--no-snapshots",
            "--target",
            url,
            "--timeout",
            "2s",
            "--filter",
            "purchase/period",
        ],
        Some(KEY),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    failing_checks(&report)
        .into_iter()
        .filter(|c| c.starts_with("console."))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn run_and_load_judge_hostile_answers_alike() {
    let mut differences = Vec::new();
    for (name, answer) in answers() {
        let url = scripted(answer).await;
        let (run, load) =
            tokio::task::spawn_blocking(move || (run_checks(&url), load_checks(&url)))
                .await
                .unwrap();
        if load.is_empty() || load != run {
            differences.push(format!("{name}: run {run:?}, load {load:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
