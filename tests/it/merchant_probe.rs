//! The reference merchant probed by an independent client: signing, Body-Sign checking,
//! SHA1PRNG key derivation and AES decryption are written here from the spec, with the
//! RustCrypto crates directly and a raw HTTP/1.1 socket, sharing no code with kgsim's
//! `protocol` module — so the merchant is checked against the spec, not against itself.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use kgsim::merchant::MerchantConfig;
use kgsim::protocol::{AccessKey, Protocol};

use crate::independent::{hmac, sha1prng};
use crate::support::{start_merchant, vector};

const KEY: &str = "independent-probe-key";

fn decrypt(encrypt_type: &str, value: &str) -> String {
    crate::independent::decrypt(KEY, encrypt_type == "2", value).unwrap()
}

fn pct(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn v1_query(params: &[(&str, &str)], key: &str) -> String {
    let mut sorted: BTreeMap<&str, &str> = params.iter().copied().collect();
    sorted.insert("timeStamp", "20260101120000000");
    let string = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let token = B64.encode(hmac(
        format!("{key}20260101120000000").as_bytes(),
        string.as_bytes(),
    ));
    let mut query: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{k}={}", pct(v)))
        .collect();
    query.push(format!("authToken={}", pct(&token)));
    query.join("&")
}

struct Answer {
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn code(&self) -> String {
        self.json()["resultCode"].as_str().unwrap().to_owned()
    }

    /// A header line matched with its exact name case.
    fn header_exact(&self, name: &str) -> Option<String> {
        self.head
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
    }
}

/// A raw HTTP/1.1 exchange, so header names are seen exactly as sent.
async fn raw(url: &str, method: &str, path_and_query: &str, body: &str) -> Answer {
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let request = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    Answer {
        head: String::from_utf8(bytes[..split].to_vec()).unwrap(),
        body: bytes[split + 4..].to_vec(),
    }
}

async fn v1(url: &str, params: &[(&str, &str)], key: &str) -> Answer {
    raw(
        url,
        "GET",
        &format!("/saasproduce?{}", v1_query(params, key)),
        "",
    )
    .await
}

fn check_body_sign(answer: &Answer) {
    let header = answer
        .header_exact("Body-Sign")
        .expect("a header named exactly Body-Sign");
    let expected = B64.encode(hmac(KEY.as_bytes(), &answer.body));
    assert_eq!(
        header,
        format!("sign_type=\"HMAC-SHA256\", signature= \"{expected}\"")
    );
    assert!(answer.head.starts_with("HTTP/1.1 200"), "{}", answer.head);
    assert!(
        answer
            .header_exact("Content-Type")
            .unwrap()
            .starts_with("application/json")
    );
}

async fn merchant(protocol: Protocol) -> String {
    start_merchant(MerchantConfig::new(protocol, AccessKey::new(KEY))).await
}

#[test]
fn the_independent_key_derivation_matches_the_vector() {
    let seed = vector("v1_field_encryption", "access_key");
    assert_eq!(
        hex::encode(sha1prng(seed.as_bytes(), 32)),
        vector("v1_field_encryption", "aes256_key_hex")
    );
}

fn purchase(order: &str, business: &str) -> Vec<(&'static str, String)> {
    vec![
        ("activity", "newInstance".into()),
        ("customerId", "68cbc86abc2018ab880d92f36422fa0e".into()),
        ("businessId", business.into()),
        ("orderId", order.into()),
        ("skuCode", "sku".into()),
        ("productId", "00301-666666-0--0".into()),
        ("chargingMode", "1".into()),
    ]
}

fn borrow<'a>(params: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    params.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn v1_answers_are_signed_encrypted_and_idempotent() {
    let url = merchant(Protocol::V1).await;
    let first = v1(&url, &borrow(&purchase("CS0000000001AAAAA", "biz-1")), KEY).await;
    check_body_sign(&first);
    let second = v1(&url, &borrow(&purchase("CS0000000001AAAAA", "biz-2")), KEY).await;
    check_body_sign(&second);
    let (a, b) = (first.json(), second.json());
    assert_eq!(a["resultCode"], "000000");
    assert_eq!(a["instanceId"], b["instanceId"]);
    let ty = a["encryptType"].as_str().unwrap_or("1").to_owned();
    assert_eq!(
        decrypt(&ty, a["appInfo"]["userName"].as_str().unwrap()),
        decrypt(&ty, b["appInfo"]["userName"].as_str().unwrap())
    );
    assert_eq!(
        decrypt(&ty, a["appInfo"]["password"].as_str().unwrap()),
        decrypt(&ty, b["appInfo"]["password"].as_str().unwrap())
    );
    let other = v1(&url, &borrow(&purchase("CS0000000002BBBBB", "biz-3")), KEY).await;
    assert_ne!(other.json()["instanceId"], a["instanceId"]);
}

#[tokio::test]
async fn v1_result_codes() {
    let url = merchant(Protocol::V1).await;
    let forged = v1(
        &url,
        &borrow(&purchase("CS0000000003CCCCC", "b")),
        "not-the-key",
    )
    .await;
    assert_eq!(forged.code(), "000001");
    check_body_sign(&forged);
    assert_eq!(
        v1(&url, &[("activity", "noSuchActivity")], KEY)
            .await
            .code(),
        "000002"
    );
    assert_eq!(
        v1(&url, &[("activity", "releaseInstance")], KEY)
            .await
            .code(),
        "000002"
    );
    assert_eq!(
        v1(
            &url,
            &[
                ("activity", "releaseInstance"),
                ("instanceId", "never-issued")
            ],
            KEY
        )
        .await
        .code(),
        "000003"
    );
    let debug = [
        ("activity", "releaseInstance"),
        ("instanceId", "huaweitest123456"),
        ("testFlag", "1"),
    ];
    assert_eq!(v1(&url, &debug, KEY).await.code(), "000000");
}

async fn concurrent_purchase_ids(url: &str, protocol: Protocol) -> BTreeSet<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let url = url.to_owned();
        tasks.spawn(async move {
            let business = format!("concurrent-{n}");
            match protocol {
                Protocol::V1 => v1(&url, &borrow(&purchase("CS0000000004DDDDD", &business)), KEY).await,
                Protocol::V2 => v2(&url, &format!(r#"{{"activity":"newInstance","businessId":"{business}","orderId":"CS0000000004DDDDD","orderLineId":"CS0000000004DDDDD-000001"}}"#), now_ms(), KEY).await,
            }
        });
    }
    let mut ids = BTreeSet::new();
    while let Some(answer) = tasks.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.code(), "000000");
        ids.insert(answer.json()["instanceId"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test]
async fn the_race_fault_gives_concurrent_copies_several_instances() {
    let mut config = MerchantConfig::new(Protocol::V1, AccessKey::new(KEY));
    config.faults = kgsim::merchant::Faults::of([kgsim::merchant::Fault::RaceNew]);
    let url = start_merchant(config).await;
    assert!(concurrent_purchase_ids(&url, Protocol::V1).await.len() > 1);
}

#[tokio::test]
async fn twenty_concurrent_identical_purchases_yield_one_instance() {
    for protocol in Protocol::ALL.iter().copied() {
        let url = merchant(protocol).await;
        let ids = concurrent_purchase_ids(&url, protocol).await;
        assert_eq!(ids.len(), 1, "{protocol}: {ids:?}");
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn v2(url: &str, body: &str, timestamp: i64, key: &str) -> Answer {
    // Canonical payload: top-level keys sorted, compact (the bodies here are flat).
    let map: BTreeMap<String, Value> = serde_json::from_str(body).unwrap();
    let payload = serde_json::to_string(&map).unwrap();
    let inner = hex::encode(hmac(key.as_bytes(), payload.as_bytes()));
    // A fresh nonce per request: replays are refused.
    let nonce = format!("{:032X}", rand::random::<u128>());
    let signature = hex::encode_upper(hmac(
        key.as_bytes(),
        format!("{key}{nonce}{timestamp}{inner}").as_bytes(),
    ));
    raw(
        url,
        "POST",
        &format!("/saasproduce?signature={signature}&timestamp={timestamp}&nonce={nonce}"),
        body,
    )
    .await
}

#[tokio::test]
async fn v2_signatures_and_freshness_are_enforced() {
    let url = merchant(Protocol::V2).await;
    let body = r#"{"orderLineId":"CS0000000005EEEEE-000001","activity":"newInstance","orderId":"CS0000000005EEEEE","businessId":"b5"}"#;
    let ok = v2(&url, body, now_ms(), KEY).await;
    assert_eq!(ok.code(), "000000");
    assert!(ok.header_exact("Body-Sign").is_none());
    assert_eq!(v2(&url, body, now_ms(), "forged").await.code(), "000001");
    assert_ne!(
        v2(&url, body, now_ms() - 120_000, KEY).await.code(),
        "000000",
        "a stale timestamp is rejected"
    );
    let unknown = r#"{"activity":"releaseInstance","instanceId":"never-issued"}"#;
    assert_eq!(v2(&url, unknown, now_ms(), KEY).await.code(), "000003");
    assert_eq!(
        v2(&url, r#"{"activity":"bogus"}"#, now_ms(), KEY)
            .await
            .code(),
        "000002"
    );
}
