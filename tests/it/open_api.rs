//! `kgsim openapi` from the outside: a real process on a real socket, called by a client that
//! signs with its own code (tests/it/independent.rs), over HTTP and HTTPS.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::independent::{
    apigw_authorization, basic_iso, now_secs, sha256_hex, sort_keys, usage_signature,
};
use crate::support::temp_file;

const AK: &str = "merchant-ak";
const SK: &str = "merchant-sk-0123";
const ACCESS_KEY: &str = "usage-access-key-42";
const PREFIX: &str = "/api/mkp-openapi-public/global";

/// A running `kgsim openapi`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    host: String,
    ca: Option<String>,
    output: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(https: bool) -> Self {
        let ca_path = temp_file("openapi-ca.pem", b"");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kgsim"));
        command
            .args(["openapi", "--listen", "127.0.0.1:0"])
            .env("KGSIM_OPENAPI_AK", AK)
            .env("KGSIM_OPENAPI_SK", SK)
            .env("KGSIM_ACCESS_KEY", ACCESS_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if https {
            command.args(["--https", "--ca-out", ca_path.to_str().unwrap()]);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, output) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let first = output
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("kgsim openapi prints its base URL");
        let base = first.strip_prefix("base-url: ").unwrap().to_owned();
        let host = base.split("://").nth(1).unwrap().to_owned();
        let ca = https.then(|| {
            let line = output.recv().unwrap();
            assert!(line.starts_with("ca: "), "{line}");
            std::fs::read_to_string(&ca_path).unwrap()
        });
        Self {
            child,
            base,
            host,
            ca,
            output,
        }
    }

    /// What the server printed, up to a line holding `text` (or 30 s of silence).
    fn printed_until(&self, text: &str) -> String {
        let mut printed = String::new();
        while !printed.contains(text) {
            let Ok(line) = self.output.recv_timeout(std::time::Duration::from_secs(30)) else {
                break;
            };
            printed.push_str(&line);
            printed.push('\n');
        }
        printed
    }

    fn client(&self) -> reqwest::Client {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        if let Some(pem) = &self.ca {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .build()
            .unwrap()
    }
}

fn sdk_date() -> String {
    basic_iso(now_secs())
}

/// Sends an APIGW-signed call; `secret` signs it (the merchant's SK, or a wrong one).
async fn signed(
    server: &Server,
    method: &str,
    path: &str,
    query: &str,
    body: &str,
    secret: &str,
) -> (u16, Value) {
    let date = sdk_date();
    let headers = [
        ("Host", server.host.as_str()),
        ("X-Sdk-Date", date.as_str()),
        ("Content-Type", "application/json"),
    ];
    let authorization =
        apigw_authorization(AK, secret, method, path, query, &headers, body.as_bytes());
    let url = if query.is_empty() {
        format!("{}{path}", server.base)
    } else {
        format!("{}{path}?{query}", server.base)
    };
    let request = server
        .client()
        .request(method.parse().unwrap(), url)
        .header("X-Sdk-Date", date)
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .body(body.to_owned());
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Sends a usage push signed with `key`.
async fn push(server: &Server, records: &[Value], key: &str) -> (u16, Value) {
    let body = json!({ "usage_records": records });
    let sorted = sort_keys(&body).to_string();
    let (ts, nonce) = ("1709690865879", "6c63c221-1f6b-4141-8ff4-22f5dfe82b65");
    let response = server
        .client()
        .post(format!("{}{PREFIX}/v1/isv/usage-data", server.base))
        .header("Content-Type", "application/json")
        .header("ts", ts)
        .header("nonce", nonce)
        .header("signature", usage_signature(key, ts, nonce, &sorted))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn record(begin: &str, end: &str, sn: &str, instance: &str) -> Value {
    json!({
        "instance_id": instance,
        "record_time": end,
        "begin_time": begin,
        "end_time": end,
        "usage_value": "1.5",
        "metering_sn": sn,
    })
}

/// `yyyyMMdd'T'HHmmss'Z'` of `hours` ago.
fn hours_ago(hours: u64) -> String {
    basic_iso(now_secs() - hours * 3600)
}

#[tokio::test(flavor = "multi_thread")]
async fn query_order_answers_every_mock_order_with_its_type_and_charging_mode() {
    let server = Server::start(false);
    let mocks = [
        ("MOCKPERIODYEARNEW", "NEW", "PERIOD"),
        ("MOCKONETIMENEW", "NEW", "ONE_TIME"),
        ("MOCKONDEMAND", "NEW", "ON_DEMAND"),
        ("MOCKONDEMANDPKG", "NEW", "ON_DEMAND_PKG"),
        ("MOCKPERIODDAYTRIAL", "TRIAL", "PERIOD"),
        ("MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL", "PERIOD"),
        ("MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE", "PERIOD"),
        ("MOCKMONTYRENEW", "RENEW", "PERIOD"),
        ("MOCKMONTYCHANGE", "CHANGE", "PERIOD"),
    ];
    let path = format!("{PREFIX}/v1/order/query");
    for (order, order_type, mode) in mocks {
        let query = format!("orderId={order}&orderLineId={order}-000001");
        let (status, answer) = signed(&server, "GET", &path, &query, "", SK).await;
        assert_eq!(status, 200, "{order}: {answer}");
        // The success code of the page's own example.
        assert_eq!(answer["resultCode"], "MKT.0000");
        assert_eq!(answer["orderInfo"]["orderType"], order_type, "{order}");
        assert_eq!(
            answer["orderInfo"]["orderLine"][0]["chargingMode"], mode,
            "{order}"
        );
    }
    let (status, answer) = signed(&server, "GET", &path, "orderId=NOSUCHORDER", "", SK).await;
    assert_eq!((status, &answer["resultCode"]), (400, &json!("CBC.0101")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_apigw_signature_is_refused_and_reported() {
    let server = Server::start(false);
    let path = format!("{PREFIX}/v1/order/query");
    let (status, answer) = signed(
        &server,
        "GET",
        &path,
        "orderId=MOCKONDEMAND",
        "",
        "not-the-sk",
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["error_code"], "APIGW.0303");
    let unsigned = server
        .client()
        .get(format!("{}{path}?orderId=MOCKONDEMAND", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    // The server prints each call as it logs it.
    let printed = server.printed_until("#2 ");
    assert!(printed.contains("✗ openapi.signature"), "{printed}");
}

#[test]
fn the_published_apigw_vector_verifies_and_a_changed_one_does_not() {
    let vector = crate::support::vectors()["apigw_sdk_hmac_sha256"].clone();
    let mut raw =
        "POST /api/mkp-openapi-public/global/v1/license/activate HTTP/1.1\r\n".to_string();
    for (name, value) in vector["headers"].as_object().unwrap() {
        raw.push_str(&format!("{name}: {}\r\n", value.as_str().unwrap()));
    }
    let authorization = format!(
        "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={}",
        vector["app_key"].as_str().unwrap(),
        vector["signed_headers"].as_str().unwrap(),
        vector["signature"].as_str().unwrap()
    );
    let good = format!("{raw}Authorization: {authorization}\r\n\r\n");
    let file = temp_file("vector.http", good.as_bytes());
    let run = crate::support::kgsim_env(
        &[
            "verify",
            "apigw",
            "--request",
            file.to_str().unwrap(),
            "--app-key",
            "test",
        ],
        None,
        None,
        &[("KGSIM_OPENAPI_SK", vector["app_secret"].as_str().unwrap())],
    );
    assert_eq!(
        (run.code, run.line("verdict")),
        (0, "valid".to_owned()),
        "{}",
        run.stderr
    );
    let changed = temp_file("changed.http", good.replace("RELEASE", "TEST").as_bytes());
    let run = crate::support::kgsim_env(
        &[
            "verify",
            "apigw",
            "--request",
            changed.to_str().unwrap(),
            "--app-key",
            "test",
        ],
        None,
        None,
        &[("KGSIM_OPENAPI_SK", vector["app_secret"].as_str().unwrap())],
    );
    assert_eq!(run.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_pushes_are_checked_signature_and_size_first_then_record_by_record() {
    let server = Server::start(false);
    let instance = "MOCKONDEMAND-instance";
    let (begin, end) = (hours_ago(1), hours_ago(0));
    let good = record(&begin, &end, "sn-1", instance);
    let (status, answer) = push(&server, std::slice::from_ref(&good), "wrong-key").await;
    assert_eq!((status, &answer["error_code"]), (400, &json!("MKT.0102")));
    let many: Vec<Value> = (0..1001)
        .map(|i| record(&begin, &end, &format!("sn-{i}"), "no-such-instance"))
        .collect();
    let (status, answer) = push(&server, &many, ACCESS_KEY).await;
    assert_eq!((status, &answer["error_code"]), (500, &json!("MKT.9003")));
    let (_, answer) = push(&server, &many, "wrong-key").await;
    assert_eq!(
        answer["error_code"], "MKT.0102",
        "the signature is checked before the size"
    );
    let (status, answer) = push(&server, std::slice::from_ref(&good), ACCESS_KEY).await;
    assert_eq!(
        (status, &answer["error_code"]),
        (200, &json!("MKT.0000")),
        "{answer}"
    );
    // Record anomalies are not refused at the interface (the usage page): the push is
    // answered MKT.0000 and each abnormal record is reported with its code.
    let (status, again) = push(&server, std::slice::from_ref(&good), ACCESS_KEY).await;
    assert_eq!(
        (status, &again["error_code"]),
        (200, &json!("MKT.0000")),
        "{again}"
    );
    let package = record(&begin, &end, "sn-pkg", "MOCKONDEMANDPKG-instance");
    let (status, answer) = push(&server, &[package], ACCESS_KEY).await;
    assert_eq!(
        (status, &answer["error_code"]),
        (200, &json!("MKT.0000")),
        "{answer}"
    );
    let printed = server.printed_until("record 0: 012");
    assert!(printed.contains("record 0: 005"), "{printed}");
    assert!(printed.contains("record 0: 012"), "{printed}");
    let old = record("20200101T000000Z", &end, "sn-old", instance);
    assert_eq!(
        push(&server, &[old], ACCESS_KEY).await.1["error_code"],
        "MKT.9004"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn license_codes_activate_once_and_only_when_received() {
    let server = Server::start(false);
    let activate = format!("{PREFIX}/v1/license/activate");
    let call = |code: &str| format!(r#"{{"license":"{code}"}}"#);
    let (status, first) = signed(&server, "POST", &activate, "", &call("PLMOCKRECEIVED"), SK).await;
    assert_eq!(
        (status, &first["error_code"]),
        (200, &json!("92020000")),
        "{first}"
    );
    let info: Value =
        serde_json::from_str(first["data"]["license_code_info"].as_str().unwrap()).unwrap();
    assert_eq!(info["status"], "ALIVE");
    let again = signed(&server, "POST", &activate, "", &call("PLMOCKRECEIVED"), SK)
        .await
        .1;
    assert_eq!(again["error_code"], "92020003");
    let early = signed(
        &server,
        "POST",
        &activate,
        "",
        &call("PLMOCKNOTRECEIVED"),
        SK,
    )
    .await
    .1;
    assert_eq!(early["error_code"], "92020004");
    let heartbeat = format!("{PREFIX}/v1/license/heartbeat");
    let expired = signed(&server, "POST", &heartbeat, "", &call("PLMOCKEXPIRED"), SK)
        .await
        .1;
    assert_eq!(expired["data"]["status"], "EXPIRED", "{expired}");
    let unknown = signed(&server, "POST", &heartbeat, "", &call("PLNOSUCHCODE"), SK)
        .await
        .1;
    assert_eq!(unknown["error_code"], "92020005");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_the_generated_ca_and_uploads() {
    let server = Server::start(true);
    assert!(server.base.starts_with("https://"));
    let path = format!("{PREFIX}/v1/order/query");
    let (status, answer) = signed(&server, "GET", &path, "orderId=MOCKONETIMENEW", "", SK).await;
    assert_eq!(status, 200, "{answer}");
    let upload = |event: &str, request: Value, file: Option<&[u8]>| {
        let boundary = "kgsim-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"isvUpdateFileReq\"\r\nContent-Type: application/json\r\n\r\n{request}\r\n"
        )
        .into_bytes();
        if let Some(bytes) = file {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.lic\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (
            format!("{PREFIX}/v1/market-event/{event}/file"),
            body,
            format!("multipart/form-data; boundary={boundary}"),
        )
    };
    let event = "87b94795-0603-4e24-8ae5-69420d60e3c8";
    let cases = [
        (
            event,
            json!({"type": "CHARACTERS", "characters": "LICENSE-TEXT"}),
            None,
            "CBC.0000",
        ),
        (
            event,
            json!({"type": "FILE", "file_name": "l.lic", "sha256": sha256_hex(b"lic")}),
            Some(&b"lic"[..]),
            "CBC.0000",
        ),
        (
            event,
            json!({"type": "FILE", "file_name": "l.lic", "sha256": sha256_hex(b"other")}),
            Some(&b"lic"[..]),
            "CBC.0101",
        ),
        (
            "no-such-event",
            json!({"type": "CHARACTERS", "characters": "x"}),
            None,
            "CBC.0150",
        ),
    ];
    for (event, request, file, code) in cases {
        let (path, body, content_type) = upload(event, request, file);
        let date = sdk_date();
        let headers = [
            ("Host", server.host.as_str()),
            ("X-Sdk-Date", date.as_str()),
            ("Content-Type", content_type.as_str()),
        ];
        let authorization = apigw_authorization(AK, SK, "POST", &path, "", &headers, &body);
        let response = server
            .client()
            .post(format!("{}{path}", server.base))
            .header("X-Sdk-Date", &date)
            .header("Content-Type", &content_type)
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await
            .unwrap();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error_code"], code, "{event}: {answer}");
    }
}
