//! Reading an answer as the console reads it: the JSON body, the V1 `Body-Sign` header with
//! its exact name, and the V1 credentials under the declared `encryptType`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::marketplace::classify::RawResponse;
use crate::marketplace::classify::finding::Finding;
use crate::protocol::fields::member;
use crate::protocol::v1::body_sign::{self, BodySign};
use crate::protocol::v1::crypto::{self, EncryptType};
use crate::protocol::{AccessKey, ResultCode};

/// A decrypted credential, kept for reports (the password is redacted there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decrypted {
    /// Dotted path, e.g. `appInfo.userName` or `info[0].appInfo.password`.
    pub(crate) path: String,
    /// The plaintext.
    pub(crate) plaintext: String,
}

/// The parsed answer, when the body was a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The JSON object.
    pub(crate) body: Map<String, Value>,
    /// `resultCode`, when present as a string.
    pub(crate) result_code: Option<String>,
    /// Credentials that decrypted (V1).
    pub(crate) decrypted: Vec<Decrypted>,
}

impl Answer {
    /// `instanceId` at the top level (newInstance).
    pub(crate) fn instance_id(&self) -> Option<&str> {
        member(&self.body, "instanceId").and_then(Value::as_str)
    }

    /// The instance ids listed in `info` (queryInstance).
    pub fn listed_instances(&self) -> Vec<&str> {
        member(&self.body, "info")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_object().and_then(|i| member(i, "instanceId")))
                    .filter_map(Value::as_str)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the answer said 000000 or, where allowed, 000004: the merchant did the work.
    pub(crate) fn succeeded(&self) -> bool {
        self.result_code.as_deref().is_some_and(|code| {
            code == ResultCode::Success.as_str() || code == ResultCode::Processing.as_str()
        })
    }
}

/// Parses a body into an answer, or says why it is not one.
pub(crate) fn parse(body: &[u8]) -> Result<Answer, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(body) = value else {
        return Err("JSON, but not an object".to_owned());
    };
    let result_code = match member(&body, "resultCode") {
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

/// Whether a `Content-Type` value names JSON (parameters such as `charset` allowed).
pub(crate) fn is_json_media_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The console's `Body-Sign` rules (V1 §1, §2.3): exactly one header, named exactly
/// `Body-Sign`, well formed, signing the exact body bytes.
pub(crate) fn check_body_sign(response: &RawResponse, key: &AccessKey) -> Vec<Finding> {
    let headers: Vec<&(String, String)> = response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(body_sign::HEADER))
        .collect();
    let (name, value) = match headers.as_slice() {
        [] => return vec![Finding::BodySignMissing],
        [one] => (&one.0, &one.1),
        several => return vec![Finding::BodySignDuplicate(several.len())],
    };
    let mut findings = Vec::new();
    if name != body_sign::HEADER {
        findings.push(Finding::BodySignWrongCase(name.clone()));
    }
    match BodySign::parse(value) {
        Err(error) => findings.push(Finding::BodySignMalformed(error)),
        Ok(parsed) if body_sign::verify(key, &response.body, &parsed.signature) => {}
        Ok(parsed) => findings.push(Finding::BodySignWrong {
            expected: body_sign::signature(key, &response.body),
            got: parsed.signature,
        }),
    }
    findings
}

/// Decrypts `userName`/`password` of every appInfo (top level and in `info[]`) with the
/// declared encryptType, recording plaintexts and findings.
pub(crate) fn decrypt_credentials(answer: &mut Answer, key: &AccessKey) -> Vec<Finding> {
    let encrypt_type = match member(&answer.body, "encryptType").and_then(Value::as_str) {
        None => EncryptType::default(),
        Some(text) => match text.parse::<EncryptType>() {
            Ok(ty) => ty,
            Err(_) => return vec![Finding::EncryptTypeInvalid(super::finding::clip(text))],
        },
    };
    let mut findings = Vec::new();
    let mut decrypted = Vec::new();
    for (prefix, info) in app_infos(&answer.body) {
        for field in ["userName", "password"] {
            let Some(value) = member(info, field).and_then(Value::as_str) else {
                continue;
            };
            let path = [prefix.as_ref(), ".", field].concat();
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

/// Every appInfo object of an answer with its dotted path.
fn app_infos(body: &Map<String, Value>) -> Vec<(Cow<'static, str>, &Map<String, Value>)> {
    let mut found = Vec::new();
    if let Some(info) = member(body, "appInfo").and_then(Value::as_object) {
        found.push((Cow::Borrowed("appInfo"), info));
    }
    for (i, item) in member(body, "info")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(info) = item
            .as_object()
            .and_then(|item| member(item, "appInfo"))
            .and_then(Value::as_object)
        {
            found.push((Cow::Owned(format!("info[{i}].appInfo")), info));
        }
    }
    found
}
