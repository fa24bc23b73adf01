//! The console classification, answer by answer.

use super::*;
use crate::protocol::v1::body_sign::{self, BodySign};
use crate::protocol::v1::crypto::Iv;
use crate::protocol::v1::crypto::{self, EncryptType};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn context(protocol: Protocol, activity: Activity) -> (AccessKey, Protocol, Activity) {
    (AccessKey::new(KEY), protocol, activity)
}

fn judge(protocol: Protocol, activity: Activity, transport: &Transport) -> Judgement {
    let (key, protocol, activity) = context(protocol, activity);
    classify(
        transport,
        &Context {
            protocol,
            activity,
            key: &key,
            timeout: Span::seconds(20),
            rules: Rules::Console,
            must_list: &[],
            oaep_digest: None,
        },
    )
}

fn v1_answer(body: &str) -> Transport {
    let key = AccessKey::new(KEY);
    let sign = BodySign::sign(&key, body.as_bytes()).format(body_sign::Layout::Documented);
    Transport::Answered(RawResponse {
        status: 200,
        headers: vec![
            (
                "content-type".into(),
                "application/json;charset=UTF-8".into(),
            ),
            ("Body-Sign".into(), sign),
        ],
        body: body.as_bytes().to_vec(),
    })
}

fn with(transport: Transport, edit: impl FnOnce(&mut RawResponse)) -> Transport {
    let Transport::Answered(mut response) = transport else {
        unreachable!()
    };
    edit(&mut response);
    Transport::Answered(response)
}

fn rules(judgement: &Judgement) -> Vec<&'static str> {
    judgement.findings.iter().map(|f| f.rule().slug()).collect()
}

fn encrypted(plain: &str, ty: EncryptType) -> String {
    crypto::encrypt(
        &AccessKey::new(KEY),
        ty,
        &"AbCdEf0123456789".parse::<Iv>().unwrap(),
        plain,
    )
}

fn good_new_instance() -> String {
    format!(
        r#"{{"resultCode":"000000","resultMsg":"success.","encryptType":"1","instanceId":"i-1","appInfo":{{"frontEndUrl":"https://a","userName":"{}","password":"{}"}}}}"#,
        encrypted("admin", EncryptType::Aes256),
        encrypted("s3cret", EncryptType::Aes256)
    )
}

#[test]
fn a_correct_v1_answer_is_accepted_and_credentials_decrypt() {
    let judgement = judge(
        Protocol::V1,
        Activity::NewInstance,
        &v1_answer(&good_new_instance()),
    );
    assert_eq!(judgement.findings, vec![]);
    let answer = judgement.answer.unwrap();
    assert_eq!(answer.instance_id(), Some("i-1"));
    assert_eq!(answer.decrypted.len(), 2);
    assert_eq!(answer.decrypted[0].plaintext, "admin");
}

#[test]
fn transport_failures_are_single_findings() {
    let j = judge(
        Protocol::V1,
        Activity::NewInstance,
        &Transport::Unreachable("connection refused".into()),
    );
    assert_eq!(rules(&j), vec!["reachable"]);
    assert_eq!(
        j.findings[0].console_message().unwrap(),
        "调测失败,生产地址不可达."
    );
    let j = judge(Protocol::V1, Activity::NewInstance, &Transport::TimedOut);
    assert_eq!(
        j.findings[0].console_message().unwrap(),
        "调测失败,调用接口超时20s."
    );
    let j = judge(
        Protocol::V2,
        Activity::NewInstance,
        &Transport::Broken("connection reset".into()),
    );
    assert_eq!(rules(&j), vec!["transport"]);
}

#[test]
fn status_and_content_type() {
    let t = with(v1_answer(&good_new_instance()), |r| r.status = 500);
    let j = judge(Protocol::V1, Activity::NewInstance, &t);
    assert_eq!(rules(&j), vec!["http-status"]);
    assert!(
        j.findings[0]
            .console_message()
            .unwrap()
            .contains("httpCode=500")
    );
    let t = with(v1_answer(&good_new_instance()), |r| {
        r.headers[0].1 = "text/plain".into();
    });
    assert_eq!(
        rules(&judge(Protocol::V1, Activity::NewInstance, &t)),
        vec!["content-type"]
    );
    let t = with(v1_answer(&good_new_instance()), |r| {
        r.headers.remove(0);
    });
    assert_eq!(
        rules(&judge(Protocol::V1, Activity::NewInstance, &t)),
        vec!["content-type"]
    );
    let t = with(v1_answer(&good_new_instance()), |r| {
        r.headers[0].1 = "Application/JSON".into();
    });
    assert_eq!(
        rules(&judge(Protocol::V1, Activity::NewInstance, &t)),
        Vec::<&str>::new()
    );
}

#[test]
fn unparseable_bodies() {
    for body in ["OK", "[1]", r#"{"resultMsg":"x"}"#, r#"{"resultCode":0}"#] {
        let j = judge(Protocol::V1, Activity::RefreshInstance, &v1_answer(body));
        assert_eq!(rules(&j), vec!["json-body"], "{body}");
    }
    let t = with(v1_answer("{}"), |r| r.body = vec![0xff, 0xfe]);
    assert!(rules(&judge(Protocol::V2, Activity::RefreshInstance, &t)).contains(&"json-body"));
}

#[test]
fn body_sign_missing_malformed_or_wrong() {
    let body = r#"{"resultCode":"000000","resultMsg":"success."}"#;
    let t = with(v1_answer(body), |r| {
        r.headers.remove(1);
    });
    assert_eq!(
        judge(Protocol::V1, Activity::ExpireInstance, &t).findings,
        vec![Finding::BodySignMissing]
    );
    let t = with(v1_answer(body), |r| {
        r.headers[1].1 = "sign_type=HMAC-SHA256, signature=abc".into();
    });
    assert_eq!(
        rules(&judge(Protocol::V1, Activity::ExpireInstance, &t)),
        vec!["body-sign"]
    );
    let t = with(v1_answer(body), |r| r.body.push(b'\n'));
    let j = judge(Protocol::V1, Activity::ExpireInstance, &t);
    assert!(matches!(j.findings[..], [Finding::BodySignWrong { .. }]));
    assert_eq!(
        j.findings[0].console_message().unwrap(),
        "响应Http Body签名校验失败,预期的签名值:**********"
    );
    // V2 answers are not signed.
    let t = with(v1_answer(body), |r| {
        r.headers.remove(1);
    });
    assert!(judge(Protocol::V2, Activity::RefreshInstance, &t).accepted());
}

#[test]
fn result_codes_and_async_provisioning() {
    let j = judge(
        Protocol::V1,
        Activity::RefreshInstance,
        &v1_answer(r#"{"resultCode":"000005","resultMsg":"x"}"#),
    );
    assert_eq!(rules(&j), vec!["result-code"]);
    assert!(j.findings[0].message().contains("other internal error"));
    let provisioning = r#"{"resultCode":"000004","resultMsg":"processing","instanceId":"i"}"#;
    let j = judge(
        Protocol::V2,
        Activity::NewInstance,
        &v1_answer(provisioning),
    );
    assert!(j.accepted() && j.provisioning);
    let j = judge(
        Protocol::V1,
        Activity::NewInstance,
        &v1_answer(provisioning),
    );
    assert_eq!(
        rules(&j),
        vec!["result-code"],
        "V1 has no asynchronous path"
    );
}

#[test]
fn mandatory_and_over_long_fields() {
    let j = judge(
        Protocol::V1,
        Activity::NewInstance,
        &v1_answer(r#"{"resultCode":"000000","resultMsg":"ok"}"#),
    );
    assert_eq!(
        j.findings,
        vec![
            Finding::MissingField("instanceId".into()),
            Finding::MissingField("appInfo".into())
        ]
    );
    assert_eq!(
        j.findings[0].console_message().unwrap(),
        "调测失败,接口响应缺少instanceId."
    );
    let long = format!(
        r#"{{"resultCode":"000000","resultMsg":"ok","instanceId":"i","appInfo":{{"frontEndUrl":"{}"}}}}"#,
        "u".repeat(600)
    );
    let j = judge(Protocol::V1, Activity::NewInstance, &v1_answer(&long));
    assert_eq!(
        j.findings,
        vec![Finding::FieldTooLong {
            path: "appInfo.frontEndUrl".into(),
            len: 600,
            max: 512
        }]
    );
    assert_eq!(
        j.findings[0].console_message().unwrap(),
        "调测失败,字段appInfo.frontEndUrl长度不合法."
    );
    let j = judge(
        Protocol::V2,
        Activity::NewInstance,
        &v1_answer(r#"{"resultCode":"000000","resultMsg":"ok"}"#),
    );
    assert_eq!(j.findings, vec![Finding::MissingField("instanceId".into())]);
    let query = r#"{"resultCode":"000000","resultMsg":"ok","info":[{"instanceId":"i","usageInfo":[{"usageValue":1.5}]}]}"#;
    let j = judge(Protocol::V2, Activity::QueryInstance, &v1_answer(query));
    assert_eq!(
        j.findings,
        vec![Finding::MissingField(
            "info[0].usageInfo[0].statisticalTime".into()
        )]
    );
    // An error answer only needs resultCode and resultMsg.
    let j = judge(
        Protocol::V1,
        Activity::NewInstance,
        &v1_answer(r#"{"resultCode":"000001","resultMsg":"auth"}"#),
    );
    assert_eq!(rules(&j), vec!["result-code"]);
}

#[test]
fn credentials_that_do_not_decrypt() {
    let wrong_type = good_new_instance().replace(r#""encryptType":"1""#, r#""encryptType":"2""#);
    let j = judge(Protocol::V1, Activity::NewInstance, &v1_answer(&wrong_type));
    assert_eq!(rules(&j), vec!["app-info-decrypt", "app-info-decrypt"]);
    let j = judge(
        Protocol::V1,
        Activity::NewInstance,
        &v1_answer(&good_new_instance().replace(r#""encryptType":"1""#, r#""encryptType":"3""#)),
    );
    assert_eq!(j.findings, vec![Finding::EncryptTypeInvalid("3".into())]);
    let plain = r#"{"resultCode":"000000","resultMsg":"ok","instanceId":"i","appInfo":{"frontEndUrl":"u","userName":"admin"}}"#;
    let j = judge(Protocol::V1, Activity::NewInstance, &v1_answer(plain));
    assert_eq!(rules(&j), vec!["app-info-decrypt"]);
    // V2 credentials travel in clear.
    assert!(
        judge(
            Protocol::V2,
            Activity::QueryInstance,
            &v1_answer(
                &plain
                    .replace(
                        "instanceId\":\"i\",\"appInfo",
                        "info\":[{\"instanceId\":\"i\",\"appInfo"
                    )
                    .replace("}}", "}}]}")
            )
        )
        .accepted()
    );
}

#[test]
fn body_sign_must_be_spelt_exactly_and_sent_once() {
    let body = r#"{"resultCode":"000000","resultMsg":"success."}"#;
    let t = with(v1_answer(body), |r| r.headers[1].0 = "body-sign".into());
    let j = judge(Protocol::V1, Activity::ExpireInstance, &t);
    assert_eq!(
        j.findings,
        vec![Finding::BodySignWrongCase("body-sign".into())]
    );
    assert_eq!(
        j.findings[0].console_message().unwrap(),
        "调测失败,生产接口响应头缺少Body-Sign,或Body-Sign格式错误."
    );
    // A second header, right or wrong, in either order: the verdict cannot depend on order.
    for wrong_first in [false, true] {
        let t = with(v1_answer(body), |r| {
            let good = r.headers[1].clone();
            let bad = (
                "Body-Sign".to_owned(),
                "sign_type=\"HMAC-SHA256\", signature=\"AAAA\"".to_owned(),
            );
            r.headers.truncate(1);
            if wrong_first {
                r.headers.extend([bad, good]);
            } else {
                r.headers.extend([good, bad]);
            }
        });
        let j = judge(Protocol::V1, Activity::ExpireInstance, &t);
        assert_eq!(
            j.findings,
            vec![Finding::BodySignDuplicate(2)],
            "{wrong_first}"
        );
    }
}

#[test]
fn a_successful_query_must_list_every_instance_asked_about() {
    let key = AccessKey::new(KEY);
    let wanted = vec!["i-1".to_owned(), "i-2".to_owned()];
    let context = Context {
        protocol: Protocol::V2,
        activity: Activity::QueryInstance,
        key: &key,
        timeout: Span::seconds(20),
        rules: Rules::Console,
        must_list: &wanted,
        oaep_digest: None,
    };
    let bare = v1_answer(r#"{"resultCode":"000000","resultMsg":"ok"}"#);
    let j = classify(&bare, &context);
    assert_eq!(
        j.findings,
        vec![
            Finding::NotListed("i-1".into()),
            Finding::NotListed("i-2".into())
        ]
    );
    let one = v1_answer(
        r#"{"resultCode":"000000","resultMsg":"ok","info":[{"instanceId":"i-2","appInfo":{"frontEndUrl":"u"}}]}"#,
    );
    assert_eq!(
        classify(&one, &context).findings,
        vec![Finding::NotListed("i-1".into())]
    );
    let refused = v1_answer(r#"{"resultCode":"000003","resultMsg":"no"}"#);
    assert_eq!(
        classify(&refused, &context).findings,
        vec![Finding::ResultCode("000003".into())],
        "an error answer lists nothing"
    );
}

#[test]
fn injected_faults_are_their_own_outcomes() {
    let j = judge(Protocol::V1, Activity::NewInstance, &Transport::NotSent);
    assert_eq!(j.findings, vec![Finding::Injected(Injection::NotSent)]);
    assert_eq!(j.first_rule(), Some(Rule::Injected));
    let j = judge(Protocol::V2, Activity::NewInstance, &Transport::Dropped);
    assert_eq!(
        j.findings,
        vec![Finding::Injected(Injection::AnswerDropped)]
    );
    assert!(!j.accepted(), "the marketplace saw no answer");
}

/// A refused applicationSync names the clientSecret and the OAEP digests to try, not the
/// newInstance table's meaning of the code ("mobile number empty or duplicate").
#[test]
fn a_refused_application_sync_names_the_oaep_digest() {
    let key = AccessKey::new(KEY);
    let context = Context {
        protocol: Protocol::V2,
        activity: Activity::ApplicationSync,
        key: &key,
        timeout: Span::seconds(20),
        rules: Rules::Console,
        must_list: &[],
        oaep_digest: Some(OaepDigest::Sha256Mgf1Sha1),
    };
    let refused = v1_answer(r#"{"resultCode":"000101","resultMsg":"decrypt failed"}"#);
    let judgement = classify(&refused, &context);
    let finding = judgement
        .findings
        .iter()
        .find(|f| f.rule() == Rule::ResultCode)
        .unwrap();
    let message = finding.message();
    assert!(message.contains("clientSecret"), "{message}");
    assert!(message.contains("RSA-OAEP sha256-mgf1-sha1"), "{message}");
    assert!(
        message.contains("`--kit-oaep-digest sha1` or `--kit-oaep-digest sha256`"),
        "{message}"
    );
    assert!(!message.contains("mobile"), "{message}");
    assert_eq!(finding.got(), "000101");
}
