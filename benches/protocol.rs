//! Micro-benchmarks of the work kgsim does per exchange: signing a request, verifying a
//! signature (both sides), encrypting and decrypting a V1 field, and judging an answer.
//! Run with `cargo bench --bench protocol`; `bench/run.sh` collects the figures.
#![expect(
    clippy::unwrap_used,
    reason = "fixed sample inputs; a failure is a bug to see"
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use kgsim::load::purchase;
use kgsim::marketplace::Settings;
use kgsim::marketplace::Span;
use kgsim::marketplace::classify::{Context, RawResponse, Transport, classify};
use kgsim::marketplace::ids::Ids;
use kgsim::protocol::encoding::{PlusHandling, parse_query};
use kgsim::protocol::fields::Rules;
use kgsim::protocol::v1::auth_token;
use kgsim::protocol::v1::body_sign::{self, BodySign, Layout};
use kgsim::protocol::v1::crypto::{self, EncryptType, Iv};
use kgsim::protocol::v2::signature;
use kgsim::protocol::{AccessKey, Activity, Protocol, UnixMillis};
use kgsim::transport::wire::{self, Wire};
use kgsim::transport::wire::{Changes, Edit, WireForm};

const NOW: UnixMillis = UnixMillis(1_767_225_600_000);

fn key() -> AccessKey {
    AccessKey::new("bench-access-key-0123456789abcdef")
}

/// A signed newInstance as kgsim sends it.
fn signed(protocol: Protocol) -> Wire {
    let settings = Settings::new(protocol, key());
    let request = purchase(&settings, &mut Ids::new(1));
    wire::sign(
        &request,
        &key(),
        NOW,
        "4B1C2D3E4F5061728394A5B6C7D8E9F0",
        Changes {
            edit: &Edit::default(),
            tamper: None,
        },
        WireForm::default(),
    )
}

/// A V1 newInstance answer as a correct merchant sends it: encrypted credentials, Body-Sign.
fn v1_answer() -> RawResponse {
    let iv: Iv = "0123456789abcdef".parse().unwrap();
    let user = crypto::encrypt(&key(), EncryptType::Aes256, &iv, "buyer-admin");
    let password = crypto::encrypt(&key(), EncryptType::Aes256, &iv, "S3cret!pass");
    let body = format!(
        r#"{{"resultCode":"000000","resultMsg":"success.","encryptType":"1","instanceId":"5f0b1e5c-59d4-4f8a-9a55-0c5d3e0e1a2b","appInfo":{{"frontEndUrl":"https://app.merchant.example/instances/5f0b1e5c","userName":"{user}","password":"{password}"}}}}"#
    );
    let sign = BodySign::sign(&key(), body.as_bytes()).format(Layout::Documented);
    RawResponse {
        status: 200,
        headers: vec![
            (
                "content-type".into(),
                "application/json;charset=utf-8".into(),
            ),
            ("Body-Sign".into(), sign),
        ],
        body: body.into_bytes(),
    }
}

fn v2_answer() -> RawResponse {
    RawResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"resultCode":"000000","resultMsg":"success.","instanceId":"5f0b1e5c-59d4-4f8a-9a55-0c5d3e0e1a2b"}"#.to_vec(),
    }
}

fn sign(c: &mut Criterion) {
    let key = key();
    let edit = Edit::default();
    let v1 = purchase(&Settings::new(Protocol::V1, key.clone()), &mut Ids::new(1));
    let v2 = purchase(&Settings::new(Protocol::V2, key.clone()), &mut Ids::new(1));
    let nonce = "4B1C2D3E4F5061728394A5B6C7D8E9F0";
    c.bench_function("sign/v1-newInstance", |b| {
        let changes = Changes {
            edit: &edit,
            tamper: None,
        };
        b.iter(|| wire::sign(black_box(&v1), &key, NOW, "", changes, WireForm::default()));
    });
    c.bench_function("sign/v2-newInstance", |b| {
        let changes = Changes {
            edit: &edit,
            tamper: None,
        };
        b.iter(|| {
            wire::sign(
                black_box(&v2),
                &key,
                NOW,
                nonce,
                changes,
                WireForm::default(),
            )
        });
    });
}

/// What a merchant does with a V1 request: decode the query, recompute and compare.
fn verify_v1_query(key: &AccessKey, query: &str) -> bool {
    let params = parse_query(query, PlusHandling::AsSpace).unwrap();
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let token = pairs
        .iter()
        .find(|(n, _)| *n == auth_token::AUTH_TOKEN)
        .map_or("", |(_, v)| v);
    auth_token::verify(key, &pairs, token).unwrap_or(false)
}

fn verify(c: &mut Criterion) {
    let key = key();
    let v1 = signed(Protocol::V1);
    assert!(verify_v1_query(&key, &v1.query));
    c.bench_function("verify/v1-authToken", |b| {
        b.iter(|| verify_v1_query(&key, black_box(&v1.query)));
    });
    let v2 = signed(Protocol::V2);
    let params = parse_query(&v2.query, PlusHandling::AsSpace).unwrap();
    let get = |name: &str| params.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let (nonce, timestamp, received) = (get("nonce"), get("timestamp"), get("signature"));
    let body = v2.body.unwrap();
    let check = |body: &[u8]| signature::verify(&key, &nonce, &timestamp, body, &received);
    assert!(check(body.as_bytes()));
    c.bench_function("verify/v2-signature", |b| {
        b.iter(|| check(black_box(body.as_bytes())));
    });
    let answer = v1_answer();
    let header = BodySign::parse(answer.header("body-sign").unwrap()).unwrap();
    assert!(body_sign::verify(&key, &answer.body, &header.signature));
    c.bench_function("verify/v1-body-sign", |b| {
        b.iter(|| body_sign::verify(&key, black_box(&answer.body), &header.signature));
    });
}

fn encrypt_decrypt(c: &mut Criterion) {
    let key = key();
    let iv: Iv = "0123456789abcdef".parse().unwrap();
    c.bench_function("encrypt/v1-field-aes256", |b| {
        b.iter(|| crypto::encrypt(&key, EncryptType::Aes256, &iv, black_box("13800000000")));
    });
    let sealed = crypto::encrypt(&key, EncryptType::Aes256, &iv, "13800000000");
    c.bench_function("decrypt/v1-field-aes256", |b| {
        b.iter(|| crypto::decrypt(&key, EncryptType::Aes256, black_box(&sealed)));
    });
}

fn judge(c: &mut Criterion) {
    let key = key();
    for (name, protocol, answer) in [
        ("classify/v1-newInstance", Protocol::V1, v1_answer()),
        ("classify/v2-newInstance", Protocol::V2, v2_answer()),
    ] {
        let transport = Transport::Answered(answer);
        let context = Context {
            protocol,
            activity: Activity::NewInstance,
            key: &key,
            timeout: Span::seconds(20),
            rules: Rules::Console,
            must_list: &[],
            oaep_digest: None,
        };
        let judged = classify(&transport, &context);
        assert!(judged.accepted(), "{name}: {:?}", judged.findings);
        c.bench_function(name, |b| {
            b.iter(|| classify(black_box(&transport), &context));
        });
    }
}

criterion_group! {
    name = benches;
    // Each function takes microseconds: two seconds of samples give tight intervals.
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = sign, verify, encrypt_decrypt, judge
}
criterion_main!(benches);
