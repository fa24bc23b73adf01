//! Reading an answer as the console reads it: the JSON body, the V1 `Body-Sign` header with
//! its exact name, and the V1 credentials under the declared `encryptType`.

use std::borrow::Cow;

use crate::marketplace::classify::RawResponse;
use crate::marketplace::classify::finding::Finding;
use crate::protocol::json_ref::{JsonRef, Members};
use crate::protocol::v1::body_sign;
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

/// What the console read of an answer whose body was a JSON object with a string
/// `resultCode`: the members the run goes on to use, kept without the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// `resultCode`.
    pub(crate) result_code: Option<String>,
    /// `instanceId` at the top level, when a string (newInstance).
    pub(crate) instance_id: Option<String>,
    /// When the answer has an `info` member (queryInstance): the string `instanceId`s of its
    /// objects, in order.
    pub(crate) info: Option<Vec<String>>,
    /// `userName` and `password` of `info[0].appInfo` as sent, when strings (V2 sends them
    /// in clear).
    pub(crate) clear_credentials: Vec<(String, String)>,
    /// Credentials that decrypted (V1).
    pub(crate) decrypted: Vec<Decrypted>,
}

impl Answer {
    /// `instanceId` at the top level (newInstance).
    pub(crate) fn instance_id(&self) -> Option<&str> {
        self.instance_id.as_deref()
    }

    /// The instance ids listed in `info` (queryInstance).
    pub fn listed_instances(&self) -> &[String] {
        self.info.as_deref().unwrap_or_default()
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
    read(body).map(|(_, answer)| answer)
}

/// Reads a body in place, for judging: its members (borrowing `body`) and the answer the run
/// keeps; or says why it is not an answer.
pub(crate) fn read(body: &[u8]) -> Result<(Members<'_>, Answer), String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let value = JsonRef::parse(text).map_err(|e| format!("not JSON ({e})"))?;
    let JsonRef::Object(members) = value else {
        return Err("JSON, but not an object".to_owned());
    };
    let result_code = match members.get("resultCode") {
        Some(JsonRef::Text(code)) => Some(code.as_ref().to_owned()),
        Some(_) => return Err("resultCode is not a string".to_owned()),
        None => return Err("no resultCode".to_owned()),
    };
    let info = members.get("info");
    let answer = Answer {
        result_code,
        instance_id: members
            .get("instanceId")
            .and_then(JsonRef::as_str)
            .map(str::to_owned),
        info: info.map(listed_instances),
        clear_credentials: info.map_or_else(Vec::new, clear_credentials),
        decrypted: Vec::new(),
    };
    Ok((members, answer))
}

/// The string `instanceId`s of the objects of an `info` array.
fn listed_instances(info: &JsonRef<'_>) -> Vec<String> {
    info.as_array()
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.as_object()?.get("instanceId")?.as_str())
        .map(str::to_owned)
        .collect()
}

/// `userName` and `password` of an `info` array's first `appInfo`, when strings.
fn clear_credentials(info: &JsonRef<'_>) -> Vec<(String, String)> {
    let app_info = info
        .as_array()
        .and_then(<[JsonRef<'_>]>::first)
        .and_then(JsonRef::as_object)
        .and_then(|item| item.get("appInfo"))
        .and_then(JsonRef::as_object);
    let Some(app_info) = app_info else {
        return Vec::new();
    };
    ["userName", "password"]
        .into_iter()
        .filter_map(|field| {
            let value = app_info.get(field)?.as_str()?;
            Some((field.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Whether a `Content-Type` value names JSON (parameters such as `charset` allowed).
pub(crate) fn is_json_media_type(value: &str) -> bool {
    // Up to the first `;` (parameters follow it); searched as a byte, which `split(';')`
    // is not (its char searcher compares through `memcmp` on every judged answer).
    let media = value
        .bytes()
        .position(|byte| byte == b';')
        .map_or(value, |end| &value[..end]);
    media.trim().eq_ignore_ascii_case("application/json")
}

/// The console's `Body-Sign` rules (V1 §1, §2.3): exactly one header, named exactly
/// `Body-Sign`, well formed, signing the exact body bytes.
pub(crate) fn check_body_sign(response: &RawResponse, key: &AccessKey) -> Vec<Finding> {
    let mut headers = response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(body_sign::HEADER));
    let Some((name, value)) = headers.next() else {
        return vec![Finding::BodySignMissing];
    };
    let more = headers.count();
    if more > 0 {
        return vec![Finding::BodySignDuplicate(1 + more)];
    }
    let mut findings = Vec::new();
    if name != body_sign::HEADER {
        findings.push(Finding::BodySignWrongCase(name.clone()));
    }
    match body_sign::signature_in(value) {
        Err(error) => findings.push(Finding::BodySignMalformed(error)),
        Ok(signature) if body_sign::verify(key, &response.body, signature) => {}
        Ok(signature) => findings.push(Finding::BodySignWrong {
            expected: body_sign::signature(key, &response.body),
            got: signature.to_owned(),
        }),
    }
    findings
}

/// Decrypts `userName`/`password` of every appInfo (top level and in `info[]`) with the
/// declared encryptType, recording plaintexts and findings.
pub(crate) fn decrypt_credentials(
    members: &Members<'_>,
    answer: &mut Answer,
    key: &AccessKey,
) -> Vec<Finding> {
    let encrypt_type = match members.get("encryptType").and_then(JsonRef::as_str) {
        None => EncryptType::default(),
        Some(text) => match text.parse::<EncryptType>() {
            Ok(ty) => ty,
            Err(_) => return vec![Finding::EncryptTypeInvalid(super::finding::clip(text))],
        },
    };
    let mut findings = Vec::new();
    let mut decrypted = Vec::new();
    for (prefix, info) in app_infos(members) {
        for field in ["userName", "password"] {
            let Some(value) = info.get(field).and_then(JsonRef::as_str) else {
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
fn app_infos<'m, 'a>(members: &'m Members<'a>) -> Vec<(Cow<'static, str>, &'m Members<'a>)> {
    let mut found = Vec::new();
    if let Some(info) = members.get("appInfo").and_then(JsonRef::as_object) {
        found.push((Cow::Borrowed("appInfo"), info));
    }
    let items = members.get("info").and_then(JsonRef::as_array);
    for (i, item) in items.unwrap_or_default().iter().enumerate() {
        if let Some(info) = item
            .as_object()
            .and_then(|item| item.get("appInfo"))
            .and_then(JsonRef::as_object)
        {
            found.push((Cow::Owned(format!("info[{i}].appInfo")), info));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_members_the_run_reads_and_not_the_body() {
        let body = r#"{"resultCode":"000000","instanceId":"i-\u4e2d","resultMsg":"long",
            "info":[{"instanceId":"a","appInfo":{"userName":"u","password":"p","x":1}},
                    {"instanceId":7},"b",{"instanceId":"c"}]}"#;
        let answer = parse(body.as_bytes()).expect("an answer");
        assert_eq!(answer.result_code.as_deref(), Some("000000"));
        assert_eq!(answer.instance_id(), Some("i-中"));
        assert_eq!(answer.listed_instances(), ["a", "c"]);
        assert_eq!(
            answer.clear_credentials,
            [
                ("userName".into(), "u".into()),
                ("password".into(), "p".into())
            ]
        );
        assert!(answer.succeeded());
    }

    #[test]
    fn an_info_member_of_any_type_lists_what_it_holds() {
        let null = parse(br#"{"resultCode":"000000","info":null}"#).expect("an answer");
        assert_eq!(null.info, Some(Vec::new()));
        let absent = parse(br#"{"resultCode":"000001"}"#).expect("an answer");
        assert_eq!(absent.info, None);
        assert!(!absent.succeeded());
    }

    #[test]
    fn says_why_a_body_is_not_an_answer() {
        for (body, why) in [
            (&b"\xff"[..], "the body is not UTF-8"),
            (b"[]", "JSON, but not an object"),
            (b"{\"resultCode\":0}", "resultCode is not a string"),
            (b"{}", "no resultCode"),
        ] {
            assert_eq!(parse(body), Err(why.to_owned()));
        }
        let broken = parse(b"{").expect_err("not JSON");
        assert!(
            broken.starts_with("not JSON (EOF while parsing"),
            "{broken}"
        );
    }
}
