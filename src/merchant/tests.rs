//! Handler tests: the reference merchant driven through `oneshot`, no sockets. Answers are
//! judged with the console classification, so each fault is shown to break the rule it is
//! meant to break.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request as HttpRequest;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::*;
use crate::marketplace::classify::{Context, RawResponse, Transport, classify};
use crate::marketplace::clock::Span;
use crate::protocol::fields::Rules;
use crate::protocol::v1::auth_token;
use crate::protocol::v2::signature as v2sig;
use crate::protocol::{Activity, ResultCode};

const KEY: &str = "merchant-test-key";
const NOW: UnixMillis = UnixMillis(1_767_225_600_000);

fn fixed_clock() -> UnixMillis {
    NOW
}

fn merchant(protocol: Protocol, faults: &[Fault]) -> Arc<Merchant> {
    let mut config = MerchantConfig::new(protocol, AccessKey::new(KEY));
    config.faults = Faults::of(faults.iter().copied());
    config.slow = Duration::ZERO;
    config.clock = fixed_clock;
    Arc::new(Merchant::new(config))
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

async fn send(merchant: &Arc<Merchant>, request: HttpRequest<Body>) -> RawResponse {
    let response = router(merchant.clone()).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    // `oneshot` hands names over lowercased; on the wire `serve` writes them title-cased
    // (`Body-Sign`), which is what the console reads.
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                title_case(n.as_str()),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    RawResponse {
        status,
        headers,
        body,
    }
}

async fn v1(merchant: &Arc<Merchant>, params: &[(&str, &str)], key: &str) -> RawResponse {
    let mut pairs = params.to_vec();
    pairs.push(("timeStamp", "20260101000000000"));
    let query = auth_token::signed_query(&AccessKey::new(key), &pairs).unwrap();
    send(
        merchant,
        HttpRequest::get(format!("/saasproduce?{query}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn v2(merchant: &Arc<Merchant>, body: &str, timestamp: UnixMillis, key: &str) -> RawResponse {
    let payload = crate::protocol::v2::canonical::canonical_body(body.as_bytes()).unwrap();
    // A fresh nonce per request: the merchant refuses replays.
    let nonce = crate::transport::wire::fresh_nonce();
    let signed = v2sig::sign(&AccessKey::new(key), &nonce, timestamp, &payload);
    let request = HttpRequest::post(format!("/saasproduce?{}", signed.to_query()))
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(merchant, request).await
}

fn judge(protocol: Protocol, activity: Activity, response: &RawResponse) -> Vec<&'static str> {
    let key = AccessKey::new(KEY);
    let context = Context {
        protocol,
        activity,
        key: &key,
        timeout: Span::seconds(20),
        rules: Rules::Console,
        must_list: &[],
        oaep_digest: None,
    };
    classify(&Transport::Answered(response.clone()), &context)
        .findings
        .iter()
        .map(|f| f.rule().slug())
        .collect()
}

fn code(response: &RawResponse) -> String {
    let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    value["resultCode"].as_str().unwrap().to_owned()
}

fn json(response: &RawResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body).unwrap()
}

const NEW: &[(&str, &str)] = &[
    ("activity", "newInstance"),
    ("customerId", "c"),
    ("businessId", "b-1"),
    ("orderId", "CS1"),
    ("skuCode", "s"),
    ("productId", "p"),
    ("chargingMode", "1"),
];

#[tokio::test]
async fn v1_purchase_is_signed_encrypted_and_idempotent() {
    let m = merchant(Protocol::V1, &[]);
    let first = v1(&m, NEW, KEY).await;
    assert_eq!(
        judge(Protocol::V1, Activity::NewInstance, &first),
        Vec::<&str>::new()
    );
    assert!(
        first
            .header("body-sign")
            .unwrap()
            .starts_with("sign_type=\"HMAC-SHA256\", signature= \"")
    );
    let mut resend = NEW.to_vec();
    resend[2] = ("businessId", "b-2");
    let second = v1(&m, &resend, KEY).await;
    assert_eq!(json(&first)["instanceId"], "b-1");
    assert_eq!(json(&second)["instanceId"], "b-1");
    let key = AccessKey::new(KEY);
    let decrypt = |r: &RawResponse, field: &str| {
        crate::protocol::v1::crypto::decrypt(
            &key,
            EncryptType::Aes256,
            json(r)["appInfo"][field].as_str().unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        decrypt(&first, "password"),
        decrypt(&second, "password"),
        "the same credentials on a resend"
    );
}

#[tokio::test]
async fn v1_rejects_forged_requests_and_bad_parameters() {
    let m = merchant(Protocol::V1, &[]);
    assert_eq!(code(&v1(&m, NEW, "wrong key").await), "000001");
    let unsigned = send(
        &m,
        HttpRequest::get("/?activity=newInstance&timeStamp=1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code(&unsigned), "000001");
    assert_eq!(code(&v1(&m, &[("activity", "bogus")], KEY).await), "000002");
    assert_eq!(
        code(&v1(&m, &[("activity", "expireInstance")], KEY).await),
        "000002"
    );
    assert_eq!(
        code(
            &v1(
                &m,
                &[("activity", "expireInstance"), ("instanceId", "nope")],
                KEY
            )
            .await
        ),
        "000003"
    );
    let debug = [
        ("activity", "expireInstance"),
        ("instanceId", "huaweitest123456"),
        ("testFlag", "1"),
    ];
    assert_eq!(code(&v1(&m, &debug, KEY).await), "000000");
    // Every answer, errors included, carries a valid Body-Sign.
    let error = v1(&m, &[("activity", "bogus")], KEY).await;
    assert_eq!(
        judge(Protocol::V1, Activity::NewInstance, &error),
        vec!["result-code"]
    );
}

#[tokio::test]
async fn v1_query_lists_live_instances_with_usage_for_on_demand() {
    let m = merchant(Protocol::V1, &[]);
    let mut on_demand = NEW.to_vec();
    on_demand[6] = ("chargingMode", "0");
    v1(&m, &on_demand, KEY).await;
    let query = v1(
        &m,
        &[("activity", "queryInstance"), ("instanceId", "b-1,unknown")],
        KEY,
    )
    .await;
    assert_eq!(
        judge(Protocol::V1, Activity::QueryInstance, &query),
        Vec::<&str>::new()
    );
    let info = &json(&query)["info"];
    assert_eq!(info.as_array().unwrap().len(), 1);
    assert_eq!(
        info[0]["usageInfo"][0]["statisticalTime"],
        NOW.to_v1_timestamp()
    );
}

#[tokio::test]
async fn a_replayed_v2_request_is_refused() {
    let m = merchant(Protocol::V2, &[]);
    let body = r#"{"activity":"queryInstance","instanceId":"none"}"#;
    let payload = crate::protocol::v2::canonical::canonical_body(body.as_bytes()).unwrap();
    let signed = v2sig::sign(&AccessKey::new(KEY), "REPLAYED", NOW, &payload);
    let request = || {
        HttpRequest::post(format!("/saasproduce?{}", signed.to_query()))
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    assert_ne!(code(&send(&m, request()).await), "000002");
    assert_eq!(code(&send(&m, request()).await), "000002", "the replay");
}

#[tokio::test]
async fn v2_signature_and_freshness() {
    let m = merchant(Protocol::V2, &[]);
    let body = r#"{"activity":"newInstance","businessId":"b-1","orderId":"CS1","orderLineId":"CS1-000001"}"#;
    let ok = v2(&m, body, NOW, KEY).await;
    assert_eq!(
        judge(Protocol::V2, Activity::NewInstance, &ok),
        Vec::<&str>::new()
    );
    assert!(
        ok.header("body-sign").is_none(),
        "V2 answers are not signed"
    );
    assert_eq!(code(&v2(&m, body, NOW, "wrong").await), "000001");
    assert_eq!(
        code(&v2(&m, body, NOW.plus_ms(-61_000), KEY).await),
        "000002",
        "stale"
    );
    assert_eq!(
        code(&v2(&m, body, NOW.plus_ms(-59_000), KEY).await),
        "000000"
    );
    let stale_ok = merchant(Protocol::V2, &[Fault::AcceptStale]);
    assert_eq!(
        code(&v2(&stale_ok, body, NOW.plus_ms(-3_600_000), KEY).await),
        "000000"
    );
    let tampered = {
        let payload = crate::protocol::v2::canonical::canonical_body(body.as_bytes()).unwrap();
        let signed = v2sig::sign(&AccessKey::new(KEY), "N", NOW, &payload);
        let request = HttpRequest::post(format!("/?{}", signed.to_query()))
            .body(Body::from(body.replace("CS1\"", "CS2\"")))
            .unwrap();
        send(&m, request).await
    };
    assert_eq!(code(&tampered), "000001");
}

#[tokio::test]
async fn v2_refund_of_a_renewal_reuses_its_order_but_applies() {
    let m = merchant(Protocol::V2, &[]);
    v2(
        &m,
        r#"{"activity":"newInstance","businessId":"i","orderId":"CS1","orderLineId":"CS1-000001"}"#,
        NOW,
        KEY,
    )
    .await;
    for scene in ["RENEWAL", "UNSUBSCRIBE_RENEWAL_PERIOD", "RENEWAL"] {
        let body = format!(
            r#"{{"activity":"refreshInstance","expireTime":"20260301000000","instanceId":"i","orderId":"R1","orderLineId":"R1-000001","scene":"{scene}"}}"#
        );
        assert_eq!(code(&v2(&m, &body, NOW, KEY).await), "000000", "{scene}");
    }
}

#[tokio::test]
async fn v2_async_provisioning() {
    let mut config = MerchantConfig::new(Protocol::V2, AccessKey::new(KEY));
    config.async_provisioning = true;
    config.clock = fixed_clock;
    let m = Arc::new(Merchant::new(config));
    let created = v2(
        &m,
        r#"{"activity":"newInstance","businessId":"a","orderId":"CS1","orderLineId":"CS1-000001"}"#,
        NOW,
        KEY,
    )
    .await;
    assert_eq!(code(&created), "000004");
    assert_eq!(
        judge(Protocol::V2, Activity::NewInstance, &created),
        Vec::<&str>::new()
    );
    let query = r#"{"activity":"queryInstance","instanceId":"a"}"#;
    assert_eq!(code(&v2(&m, query, NOW, KEY).await), "000004");
    assert_eq!(code(&v2(&m, query, NOW, KEY).await), "000000");
}

/// Each answer-shaping fault breaks exactly the console rule it is named after.
#[tokio::test]
async fn answer_faults_break_their_console_rule() {
    let cases: &[(Fault, &[&str])] = &[
        (Fault::BadBodySign, &["body-sign"]),
        (Fault::MissingBodySign, &["body-sign"]),
        (Fault::UnquotedBodySign, &["body-sign"]),
        (Fault::WrongContentType, &["content-type"]),
        (Fault::Http500, &["http-status"]),
        (Fault::NotJson, &["json-body"]),
        (Fault::NoResultMsg, &["mandatory-fields"]),
        (Fault::MissingInstanceId, &["mandatory-fields"]),
        (Fault::LongFrontEndUrl, &["field-length"]),
        (Fault::PaddedResultMsg(1000), &["field-length"]),
        (
            Fault::UndecryptableAppInfo,
            &["app-info-decrypt", "app-info-decrypt"],
        ),
        (Fault::FailAlways, &["result-code"]),
        (Fault::Slow, &[]),
    ];
    for (fault, expected) in cases {
        let m = merchant(Protocol::V1, &[*fault]);
        let response = v1(&m, NEW, KEY).await;
        assert_eq!(
            judge(Protocol::V1, Activity::NewInstance, &response),
            expected.to_vec(),
            "{fault}"
        );
    }
}

#[tokio::test]
async fn idempotency_faults() {
    let m = merchant(Protocol::V1, &[Fault::NonIdempotentNew]);
    let a = v1(&m, NEW, KEY).await;
    let mut resend = NEW.to_vec();
    resend[2] = ("businessId", "b-2");
    let b = v1(&m, &resend, KEY).await;
    assert_ne!(json(&a)["instanceId"], json(&b)["instanceId"]);

    let m = merchant(
        Protocol::V1,
        &[Fault::ExpireNotIdempotent, Fault::ReleaseNotIdempotent],
    );
    v1(&m, NEW, KEY).await;
    let expire = [("activity", "expireInstance"), ("instanceId", "b-1")];
    assert_eq!(code(&v1(&m, &expire, KEY).await), "000000");
    assert_ne!(code(&v1(&m, &expire, KEY).await), "000000");
    let release = [("activity", "releaseInstance"), ("instanceId", "b-1")];
    assert_eq!(code(&v1(&m, &release, KEY).await), "000000");
    assert_eq!(
        code(&v1(&m, &release, KEY).await),
        ResultCode::InstanceNotFound.as_str()
    );
}

#[tokio::test]
async fn security_faults() {
    let m = merchant(Protocol::V1, &[Fault::SkipAuth]);
    assert_eq!(code(&v1(&m, NEW, "forged").await), "000000");
    let m = merchant(Protocol::V1, &[Fault::LenientParams]);
    assert_eq!(code(&v1(&m, &[("activity", "bogus")], KEY).await), "000000");
    let m = merchant(Protocol::V1, &[Fault::UnknownInstanceOk]);
    assert_eq!(
        code(
            &v1(
                &m,
                &[("activity", "expireInstance"), ("instanceId", "nope")],
                KEY
            )
            .await
        ),
        "000000"
    );
    let m = merchant(Protocol::V1, &[Fault::StrictDebug]);
    let debug = [
        ("activity", "expireInstance"),
        ("instanceId", "huaweitest123456"),
        ("testFlag", "1"),
    ];
    assert_eq!(code(&v1(&m, &debug, KEY).await), "000003");
}
