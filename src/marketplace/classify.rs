//! Judging a merchant's answer exactly as the seller console's debug page does
//! (spec: koogallery-saas-v1.md §1 and its FAQ; koogallery-v2-kit-license.md §8.3).
//!
//! The page rejects, in this order of discovery: an unreachable address, no answer within
//! the timeout (20 s), an HTTP status other than 200, a Content-Type other than
//! `application/json`, a body that does not parse or lacks `resultCode`, (V1) a missing,
//! malformed or wrong `Body-Sign`, a `resultCode` other than `000000`, a missing mandatory
//! field, an over-long field — and kgsim adds (V1) `appInfo` credentials that do not decrypt
//! with the declared `encryptType`. Every rule carries the console's message, in the Chinese
//! original where the documentation quotes one, and in English.
//!
//! Header names reach kgsim through an HTTP client that folds their case, so the console's
//! exact-case rule for `Body-Sign` cannot be judged on a live exchange; `kgsim verify
//! body-sign` judges it on a captured header.

use serde_json::{Map, Value};

use crate::marketplace::clock::Span;
use crate::protocol::fields::{Rules, Violation, validate};
use crate::protocol::v1::body_sign::{self, BodySign, BodySignFormatError};
use crate::protocol::v1::crypto::{self, EncryptType};
use crate::protocol::{AccessKey, Activity, Protocol, ResultCode, v1, v2};

/// What came back from one attempt, as the transport saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// An HTTP response arrived in full.
    Answered(RawResponse),
    /// No connection could be made (or the scenario failed the attempt before sending).
    Unreachable(String),
    /// No complete answer within the timeout (or the scenario dropped the answer).
    TimedOut,
    /// The connection broke mid-answer, the answer was not HTTP, was a redirect, or was
    /// larger than the size cap.
    Broken(String),
}

/// An HTTP response as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers in arrival order.
    pub headers: Vec<(String, String)>,
    /// Body bytes, exactly.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One console rule an answer broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The address could not be reached.
    Unreachable(String),
    /// No answer within the timeout.
    Timeout(Span),
    /// The connection broke or the answer was not usable HTTP.
    Broken(String),
    /// HTTP status other than 200.
    HttpStatus(u16),
    /// Content-Type other than application/json.
    ContentType(Option<String>),
    /// The body is not a JSON object with a resultCode.
    NotJson(String),
    /// V1: no Body-Sign header.
    BodySignMissing,
    /// V1: the Body-Sign header is malformed.
    BodySignMalformed(String),
    /// V1: the Body-Sign signature does not match the body.
    BodySignWrong {
        /// The signature kgsim computed over the exact body (a MAC, safe to show).
        expected: String,
        /// What the header carried.
        got: String,
    },
    /// resultCode other than 000000 (or 000004 where asynchronous provisioning is allowed).
    ResultCode(String),
    /// A mandatory field is missing.
    MissingField(String),
    /// A field is longer than its maximum.
    FieldTooLong {
        /// Dotted path.
        path: String,
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A field has the wrong JSON type.
    FieldWrongType {
        /// Dotted path.
        path: String,
        /// What the table says.
        expected: &'static str,
    },
    /// V1: encryptType is not 1 or 2.
    EncryptTypeInvalid(String),
    /// V1: an encrypted appInfo field does not decrypt with the declared encryptType.
    NotDecryptable {
        /// Dotted path.
        path: String,
        /// The declared (or default) encryptType.
        encrypt_type: EncryptType,
        /// Why.
        reason: String,
    },
}

impl Finding {
    /// A stable kebab-case name of the rule (the check id is `console.<rule>`).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "reachable",
            Self::Timeout(_) => "timeout",
            Self::Broken(_) => "transport",
            Self::HttpStatus(_) => "http-status",
            Self::ContentType(_) => "content-type",
            Self::NotJson(_) => "json-body",
            Self::BodySignMissing | Self::BodySignMalformed(_) | Self::BodySignWrong { .. } => {
                "body-sign"
            }
            Self::ResultCode(_) => "result-code",
            Self::MissingField(_) | Self::FieldWrongType { .. } => "mandatory-fields",
            Self::FieldTooLong { .. } => "field-length",
            Self::EncryptTypeInvalid(_) | Self::NotDecryptable { .. } => "app-info-decrypt",
        }
    }

    /// The debug page's message, where the documentation quotes it (V1 FAQ, V2 §8.3).
    pub fn console_message(&self) -> Option<String> {
        Some(match self {
            Self::Unreachable(_) => "调测失败,生产地址不可达.".to_owned(),
            Self::Timeout(span) => format!("调测失败,调用接口超时{}s.", span.0 / 1000),
            Self::HttpStatus(code) => format!("调测失败,接口响应httpCode={code},请检查服务器日志,定位失败原因."),
            Self::ContentType(found) => format!(
                "调测失败,响应content-type格式错误,返回的格式为{},正确的格式为\"application/json\".",
                found.as_deref().unwrap_or("")
            ),
            Self::NotJson(_) => {
                "调测失败,解析响应体失败,响应格式参考{\"resultCode\":\"000000\",\"resultMsg\":\"success.\"}.".to_owned()
            }
            Self::BodySignMissing => "调测失败,生产接口响应头缺少Body-Sign,或Body-Sign格式错误.".to_owned(),
            Self::BodySignMalformed(reason) if reason.contains("sign_type") || reason.contains("empty") => {
                "http header->sign_type is not equals HMAC-SHA256 or signature is empty.".to_owned()
            }
            Self::BodySignMalformed(_) => "调测失败,生产接口响应头缺少Body-Sign,或Body-Sign格式错误.".to_owned(),
            Self::BodySignWrong { .. } => "响应Http Body签名校验失败,预期的签名值:**********".to_owned(),
            Self::ResultCode(_) => "调用失败,生产接口resultCode返回错误.".to_owned(),
            Self::MissingField(path) => format!("调测失败,接口响应缺少{path}."),
            Self::FieldTooLong { path, .. } => format!("调测失败,字段{path}长度不合法."),
            _ => return None,
        })
    }

    /// The rule in English, with the specifics of this answer.
    pub fn message(&self) -> String {
        match self {
            Self::Unreachable(why) => format!("the production address is unreachable ({why})"),
            Self::Timeout(span) => format!("no answer within {span}"),
            Self::Broken(why) => format!("the answer could not be read: {why}"),
            Self::HttpStatus(code) => format!("HTTP status {code}, not 200"),
            Self::ContentType(found) => format!(
                "Content-Type is {}, not application/json",
                found
                    .as_deref()
                    .map_or("missing".to_owned(), |ct| format!("`{ct}`"))
            ),
            Self::NotJson(why) => format!("the body is not a JSON object with resultCode: {why}"),
            Self::BodySignMissing => "the Body-Sign header is missing".to_owned(),
            Self::BodySignMalformed(why) => format!("the Body-Sign header is malformed: {why}"),
            Self::BodySignWrong { .. } => {
                "the Body-Sign signature does not match the body as sent".to_owned()
            }
            Self::ResultCode(code) => {
                let meaning = code
                    .parse::<ResultCode>()
                    .map(ResultCode::meaning)
                    .unwrap_or("undocumented code");
                format!("resultCode {code} ({meaning}), not 000000")
            }
            Self::MissingField(path) => format!("mandatory field `{path}` is missing"),
            Self::FieldTooLong { path, len, max } => {
                format!("field `{path}` is {len} characters, over its maximum of {max}")
            }
            Self::FieldWrongType { path, expected } => {
                format!("field `{path}` is not a {expected}")
            }
            Self::EncryptTypeInvalid(value) => format!("encryptType `{value}` is not 1 or 2"),
            Self::NotDecryptable {
                path,
                encrypt_type,
                reason,
            } => {
                format!("`{path}` does not decrypt with encryptType {encrypt_type}: {reason}")
            }
        }
    }

    /// What the rule expects, for "expected vs got".
    pub fn expected(&self) -> String {
        match self {
            Self::Unreachable(_) | Self::Broken(_) => "a complete HTTP answer".to_owned(),
            Self::Timeout(span) => format!("an answer within {span}"),
            Self::HttpStatus(_) => "200".to_owned(),
            Self::ContentType(_) => "application/json".to_owned(),
            Self::NotJson(_) => r#"{"resultCode":"000000","resultMsg":"success."}"#.to_owned(),
            Self::BodySignMissing | Self::BodySignMalformed(_) => {
                r#"Body-Sign: sign_type="HMAC-SHA256", signature= "<Base64>""#.to_owned()
            }
            Self::BodySignWrong { expected, .. } => format!("signature {expected}"),
            Self::ResultCode(_) => "000000".to_owned(),
            Self::MissingField(path) => format!("`{path}` present"),
            Self::FieldTooLong { max, .. } => format!("at most {max} characters"),
            Self::FieldWrongType { expected, .. } => format!("a {expected}"),
            Self::EncryptTypeInvalid(_) => "1 or 2".to_owned(),
            Self::NotDecryptable { encrypt_type, .. } => {
                format!("IV + Base64(AES-CBC) under encryptType {encrypt_type}")
            }
        }
    }

    /// What came back, for "expected vs got".
    pub fn got(&self) -> String {
        match self {
            Self::Unreachable(why) | Self::Broken(why) | Self::NotJson(why) => why.clone(),
            Self::Timeout(_) => "no answer".to_owned(),
            Self::HttpStatus(code) => code.to_string(),
            Self::ContentType(found) => found.clone().unwrap_or_else(|| "(none)".to_owned()),
            Self::BodySignMissing => "(no Body-Sign header)".to_owned(),
            Self::BodySignMalformed(why) => why.clone(),
            Self::BodySignWrong { got, .. } => format!("signature {got}"),
            Self::ResultCode(code) => code.clone(),
            Self::MissingField(_) => "(absent)".to_owned(),
            Self::FieldTooLong { len, .. } => format!("{len} characters"),
            Self::FieldWrongType { .. } => "another JSON type".to_owned(),
            Self::EncryptTypeInvalid(value) => value.clone(),
            Self::NotDecryptable { reason, .. } => reason.clone(),
        }
    }
}

/// What the judge needs to know about the call.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// V1 or V2.
    pub protocol: Protocol,
    /// The activity that was called.
    pub activity: Activity,
    /// The access key.
    pub key: &'a AccessKey,
    /// The timeout that applied (for the message).
    pub timeout: Span,
    /// Whether the console's stricter required fields apply.
    pub rules: Rules,
}

/// A decrypted credential, kept for reports (the password is redacted there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// Dotted path, e.g. `appInfo.userName` or `info[0].appInfo.password`.
    pub path: String,
    /// The plaintext.
    pub plaintext: String,
}

/// The parsed answer, when the body was a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The JSON object.
    pub body: Map<String, Value>,
    /// `resultCode`, when present as a string.
    pub result_code: Option<String>,
    /// Credentials that decrypted (V1).
    pub decrypted: Vec<Decrypted>,
}

impl Answer {
    /// `instanceId` at the top level (newInstance).
    pub fn instance_id(&self) -> Option<&str> {
        self.body.get("instanceId").and_then(Value::as_str)
    }

    /// The instance ids listed in `info` (queryInstance).
    pub fn listed_instances(&self) -> Vec<&str> {
        self.body
            .get("info")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("instanceId").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The console's verdict on one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Every rule broken, in the order the console discovers them.
    pub findings: Vec<Finding>,
    /// The parsed answer, when there was one.
    pub answer: Option<Answer>,
    /// V2 newInstance answered 000004: provisioning continues asynchronously.
    pub provisioning: bool,
}

impl Judgement {
    /// Whether the console accepts the answer (no finding).
    pub fn accepted(&self) -> bool {
        self.findings.is_empty()
    }

    /// The first finding's id, for call logs.
    pub fn first_rule(&self) -> Option<&'static str> {
        self.findings.first().map(Finding::rule)
    }
}

/// Judges one attempt.
pub fn classify(transport: &Transport, context: &Context<'_>) -> Judgement {
    let response = match transport {
        Transport::Answered(response) => response,
        Transport::Unreachable(why) => return failed(Finding::Unreachable(why.clone())),
        Transport::TimedOut => return failed(Finding::Timeout(context.timeout)),
        Transport::Broken(why) => return failed(Finding::Broken(why.clone())),
    };
    let mut findings = Vec::new();
    if response.status != 200 {
        findings.push(Finding::HttpStatus(response.status));
    }
    let content_type = response.header("content-type");
    if !content_type.is_some_and(is_json_media_type) {
        findings.push(Finding::ContentType(content_type.map(str::to_owned)));
    }
    let answer = parse_answer(&response.body);
    let mut answer = match answer {
        Ok(answer) => Some(answer),
        Err(why) => {
            findings.push(Finding::NotJson(why));
            None
        }
    };
    if context.protocol == Protocol::V1 {
        findings.extend(check_body_sign(response, context.key));
    }
    let mut provisioning = false;
    if let Some(answer) = answer.as_mut() {
        let code = answer.result_code.clone().unwrap_or_default();
        let async_allowed =
            context.protocol == Protocol::V2 && context.activity == Activity::NewInstance;
        provisioning = async_allowed && code == ResultCode::Processing.as_str();
        if code != ResultCode::Success.as_str() && !provisioning {
            findings.push(Finding::ResultCode(code.clone()));
        }
        let table = if code == ResultCode::Success.as_str() || provisioning {
            match context.protocol {
                Protocol::V1 => v1::messages::response_table(context.activity),
                Protocol::V2 => v2::messages::response_table(context.activity),
            }
        } else {
            v1::messages::ResultResponse::TABLE
        };
        findings.extend(
            validate(&answer.body, table, context.rules)
                .into_iter()
                .map(|violation| match violation {
                    Violation::Missing { path } => Finding::MissingField(path),
                    Violation::TooLong { path, len, max } => {
                        Finding::FieldTooLong { path, len, max }
                    }
                    Violation::WrongType { path, expected } => {
                        Finding::FieldWrongType { path, expected }
                    }
                }),
        );
        if context.protocol == Protocol::V1 {
            findings.extend(decrypt_credentials(answer, context.key));
        }
    }
    Judgement {
        findings,
        answer,
        provisioning,
    }
}

fn failed(finding: Finding) -> Judgement {
    Judgement {
        findings: vec![finding],
        answer: None,
        provisioning: false,
    }
}

fn is_json_media_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn parse_answer(body: &[u8]) -> Result<Answer, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(body) = value else {
        return Err("JSON, but not an object".to_owned());
    };
    let result_code = match body.get("resultCode") {
        Some(Value::String(code)) => Some(code.clone()),
        Some(_) => return Err("resultCode is not a string".to_owned()),
        None => return Err("no resultCode".to_owned()),
    };
    Ok(Answer {
        body,
        result_code,
        decrypted: Vec::new(),
    })
}

fn check_body_sign(response: &RawResponse, key: &AccessKey) -> Option<Finding> {
    let Some(value) = response.header(body_sign::HEADER) else {
        return Some(Finding::BodySignMissing);
    };
    match BodySign::parse(value) {
        Err(
            error @ (BodySignFormatError::WrongSignType(_) | BodySignFormatError::EmptySignature),
        ) => Some(Finding::BodySignMalformed(error.to_string())),
        Err(error) => Some(Finding::BodySignMalformed(error.to_string())),
        Ok(parsed) if body_sign::verify(key, &response.body, &parsed.signature) => None,
        Ok(parsed) => Some(Finding::BodySignWrong {
            expected: body_sign::signature(key, &response.body),
            got: parsed.signature,
        }),
    }
}

/// Decrypts `userName`/`password` of every appInfo (top level and in `info[]`) with the
/// declared encryptType, recording plaintexts and findings.
fn decrypt_credentials(answer: &mut Answer, key: &AccessKey) -> Vec<Finding> {
    let mut findings = Vec::new();
    let encrypt_type = match answer.body.get("encryptType").and_then(Value::as_str) {
        None => EncryptType::default(),
        Some(text) => match text.parse::<EncryptType>() {
            Ok(ty) => ty,
            Err(_) => return vec![Finding::EncryptTypeInvalid(text.to_owned())],
        },
    };
    let mut app_infos: Vec<(String, &Map<String, Value>)> = Vec::new();
    if let Some(info) = answer.body.get("appInfo").and_then(Value::as_object) {
        app_infos.push(("appInfo".to_owned(), info));
    }
    if let Some(items) = answer.body.get("info").and_then(Value::as_array) {
        for (i, item) in items.iter().enumerate() {
            if let Some(info) = item.get("appInfo").and_then(Value::as_object) {
                app_infos.push((format!("info[{i}].appInfo"), info));
            }
        }
    }
    let mut decrypted = Vec::new();
    for (prefix, info) in app_infos {
        for field in ["userName", "password"] {
            let Some(value) = info.get(field).and_then(Value::as_str) else {
                continue;
            };
            let path = format!("{prefix}.{field}");
            match crypto::decrypt(key, encrypt_type, value) {
                Ok(plaintext) => decrypted.push(Decrypted { path, plaintext }),
                Err(error) => findings.push(Finding::NotDecryptable {
                    path,
                    encrypt_type,
                    reason: error.to_string(),
                }),
            }
        }
    }
    answer.decrypted = decrypted;
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::v1::crypto::Iv;

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
                ("body-sign".into(), sign),
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
        judgement.findings.iter().map(Finding::rule).collect()
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
        let wrong_type =
            good_new_instance().replace(r#""encryptType":"1""#, r#""encryptType":"2""#);
        let j = judge(Protocol::V1, Activity::NewInstance, &v1_answer(&wrong_type));
        assert_eq!(rules(&j), vec!["app-info-decrypt", "app-info-decrypt"]);
        let j = judge(
            Protocol::V1,
            Activity::NewInstance,
            &v1_answer(
                &good_new_instance().replace(r#""encryptType":"1""#, r#""encryptType":"3""#),
            ),
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
}
