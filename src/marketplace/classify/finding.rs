//! The console's rules, and the findings that say which one an answer broke and how.
//!
//! Every rule carries the debug page's message, in the Chinese original where the
//! documentation quotes one (spec: koogallery-saas-v1.md §1 FAQ, koogallery-v2-kit-license.md
//! §8.3), and an English sentence with the specifics of the answer.

use crate::marketplace::clock::Span;
use crate::protocol::ResultCode;
use crate::protocol::v1::body_sign::BodySignFormatError;
use crate::protocol::v1::crypto::EncryptType;
use crate::protocol::v2::client_secret::OaepDigest;

/// A value the merchant sent, as a finding quotes it: at most 64 characters, so that a padded
/// `resultCode` cannot make every message it appears in as large as the answer.
pub(crate) fn clip(value: &str) -> String {
    const SHOWN: usize = 64;
    match value.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

/// A console rule. [`crate::conformance`] maps each to its check id with a `match` the
/// compiler keeps complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The production address must be reachable.
    Reachable,
    /// The answer must arrive within the timeout.
    Timeout,
    /// The answer must be complete HTTP.
    Transport,
    /// HTTP status 200.
    HttpStatus,
    /// `Content-Type: application/json`.
    ContentType,
    /// A JSON object with `resultCode`.
    JsonBody,
    /// V1: a correct `Body-Sign` header.
    BodySign,
    /// `resultCode` 000000.
    ResultCode,
    /// Mandatory answer fields present, of the right type.
    MandatoryFields,
    /// No field over its maximum length.
    FieldLength,
    /// V1: credentials that decrypt.
    AppInfoDecrypt,
    /// queryInstance lists every instance it was asked about.
    QueryListing,
    /// Not the merchant's doing: the scenario failed the attempt on purpose.
    Injected,
}

impl Rule {
    /// A stable kebab-case name, for call logs.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Self::Reachable => "reachable",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::HttpStatus => "http-status",
            Self::ContentType => "content-type",
            Self::JsonBody => "json-body",
            Self::BodySign => "body-sign",
            Self::ResultCode => "result-code",
            Self::MandatoryFields => "mandatory-fields",
            Self::FieldLength => "field-length",
            Self::AppInfoDecrypt => "app-info-decrypt",
            Self::QueryListing => "query-listing",
            Self::Injected => "injected",
        }
    }

    /// Whether breaking the rule withholds what the answer's content is judged on: nothing
    /// arrived, the connection broke, the status was not 200, the body was no JSON object,
    /// the merchant refused (a wrong `resultCode`), or the instance, credentials or listing
    /// are missing. A readable answer with a wrong Content-Type, a badly named `Body-Sign` or
    /// an over-long field still says everything the merchant decided.
    pub(crate) fn withholds_content(self) -> bool {
        !matches!(self, Self::ContentType | Self::BodySign | Self::FieldLength)
    }

    /// Whether the rule judges the fields of an answer that parsed (rather than whether a
    /// usable answer arrived at all): such a finding on an answer that said 000000 where an
    /// error was due follows from accepting the request.
    pub(crate) fn is_about_fields(self) -> bool {
        matches!(
            self,
            Self::MandatoryFields | Self::FieldLength | Self::AppInfoDecrypt | Self::QueryListing
        )
    }
}

/// What the scenario did to an attempt on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    /// The attempt never left the marketplace.
    NotSent,
    /// The merchant answered, but the marketplace was made to lose the answer.
    AnswerDropped,
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
    /// V1: the header is there, but not spelt exactly `Body-Sign` (the console is
    /// case-sensitive, V1 §1).
    BodySignWrongCase(String),
    /// V1: more than one Body-Sign header: which one the console reads is not defined, so the
    /// verdict must not depend on their order.
    BodySignDuplicate(usize),
    /// V1: the Body-Sign header is malformed.
    BodySignMalformed(BodySignFormatError),
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
    /// applicationSync refused with a result code: the merchant could not use the
    /// clientSecret, encrypted with this OAEP digest — which the docs do not name (§10 q7).
    ClientSecretRefused {
        /// The resultCode answered.
        code: String,
        /// The digest kgsim encrypted with.
        digest: OaepDigest,
    },
    /// queryInstance did not list an instance it was asked about (`instanceId` is mandatory
    /// in every answer entry; spec V1 §1 FAQ, V2 §8.3).
    NotListed(String),
    /// The scenario failed the attempt on purpose.
    Injected(Injection),
}

impl Finding {
    /// The rule broken.
    pub(crate) fn rule(&self) -> Rule {
        match self {
            Self::Unreachable(_) => Rule::Reachable,
            Self::Timeout(_) => Rule::Timeout,
            Self::Broken(_) => Rule::Transport,
            Self::HttpStatus(_) => Rule::HttpStatus,
            Self::ContentType(_) => Rule::ContentType,
            Self::NotJson(_) => Rule::JsonBody,
            Self::BodySignMissing
            | Self::BodySignWrongCase(_)
            | Self::BodySignDuplicate(_)
            | Self::BodySignMalformed(_)
            | Self::BodySignWrong { .. } => Rule::BodySign,
            Self::ResultCode(_) | Self::ClientSecretRefused { .. } => Rule::ResultCode,
            Self::MissingField(_) | Self::FieldWrongType { .. } => Rule::MandatoryFields,
            Self::FieldTooLong { .. } => Rule::FieldLength,
            Self::EncryptTypeInvalid(_) | Self::NotDecryptable { .. } => Rule::AppInfoDecrypt,
            Self::NotListed(_) => Rule::QueryListing,
            Self::Injected(_) => Rule::Injected,
        }
    }

    /// The debug page's message, where the documentation quotes it (V1 FAQ, V2 §8.3).
    #[cfg(test)]
    pub(crate) fn console_message(&self) -> Option<String> {
        const BODY_SIGN: &str = "调测失败,生产接口响应头缺少Body-Sign,或Body-Sign格式错误.";
        Some(match self {
            Self::Unreachable(_) => "调测失败,生产地址不可达.".to_owned(),
            Self::Timeout(span) => format!("调测失败,调用接口超时{}s.", span.0 / 1000),
            Self::HttpStatus(code) => {
                format!("调测失败,接口响应httpCode={code},请检查服务器日志,定位失败原因.")
            }
            Self::ContentType(found) => format!(
                "调测失败,响应content-type格式错误,返回的格式为{},正确的格式为\"application/json\".",
                found.as_deref().unwrap_or("")
            ),
            Self::NotJson(_) => {
                "调测失败,解析响应体失败,响应格式参考{\"resultCode\":\"000000\",\"resultMsg\":\"success.\"}."
                    .to_owned()
            }
            Self::BodySignMalformed(
                BodySignFormatError::WrongSignType(_) | BodySignFormatError::EmptySignature,
            ) => "http header->sign_type is not equals HMAC-SHA256 or signature is empty.".to_owned(),
            Self::BodySignMissing
            | Self::BodySignWrongCase(_)
            | Self::BodySignDuplicate(_)
            | Self::BodySignMalformed(_) => BODY_SIGN.to_owned(),
            Self::BodySignWrong { .. } => "响应Http Body签名校验失败,预期的签名值:**********".to_owned(),
            Self::ResultCode(_) | Self::ClientSecretRefused { .. } => {
                "调用失败,生产接口resultCode返回错误.".to_owned()
            }
            Self::MissingField(path) => format!("调测失败,接口响应缺少{path}."),
            Self::NotListed(_) => "调测失败,接口响应缺少instanceId.".to_owned(),
            Self::FieldTooLong { path, .. } => format!("调测失败,字段{path}长度不合法."),
            Self::Broken(_)
            | Self::FieldWrongType { .. }
            | Self::EncryptTypeInvalid(_)
            | Self::NotDecryptable { .. }
            | Self::Injected(_) => return None,
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
            Self::BodySignWrongCase(name) => {
                format!("the header is named `{name}`; the console requires exactly `Body-Sign`")
            }
            Self::BodySignDuplicate(count) => {
                format!("the answer carries {count} Body-Sign headers; it must carry exactly one")
            }
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
            Self::ClientSecretRefused { code, digest } => {
                let others: Vec<String> = OaepDigest::ALL
                    .iter()
                    .filter(|d| *d != digest)
                    .map(|d| format!("`--kit-oaep-digest {d}`"))
                    .collect();
                format!(
                    "applicationSync answered resultCode {code}, not 000000: the merchant could \
                     not use the clientSecret. kgsim encrypted it with RSA-OAEP {digest}; the \
                     docs do not name the digest, so a merchant decrypting with another one \
                     fails here — run with {} to find the one your merchant uses",
                    others.join(" or ")
                )
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
            } => format!("`{path}` does not decrypt with encryptType {encrypt_type}: {reason}"),
            Self::NotListed(id) => {
                format!("queryInstance was asked about `{id}` but did not list it in `info`")
            }
            Self::Injected(Injection::NotSent) => {
                "not sent: the scenario failed this attempt before sending".to_owned()
            }
            Self::Injected(Injection::AnswerDropped) => {
                "the scenario dropped the answer: the marketplace saw no answer".to_owned()
            }
        }
    }

    /// What the rule expects, for "expected vs got".
    pub(crate) fn expected(&self) -> String {
        match self {
            Self::Unreachable(_) | Self::Broken(_) | Self::Injected(_) => {
                "a complete HTTP answer".to_owned()
            }
            Self::Timeout(span) => format!("an answer within {span}"),
            Self::HttpStatus(_) => "200".to_owned(),
            Self::ContentType(_) => "application/json".to_owned(),
            Self::NotJson(_) => r#"{"resultCode":"000000","resultMsg":"success."}"#.to_owned(),
            Self::BodySignMissing
            | Self::BodySignWrongCase(_)
            | Self::BodySignDuplicate(_)
            | Self::BodySignMalformed(_) => {
                r#"one Body-Sign: sign_type="HMAC-SHA256", signature= "<Base64>""#.to_owned()
            }
            Self::BodySignWrong { expected, .. } => format!("signature {expected}"),
            Self::ResultCode(_) | Self::ClientSecretRefused { .. } => "000000".to_owned(),
            Self::MissingField(path) => format!("`{path}` present"),
            Self::FieldTooLong { max, .. } => format!("at most {max} characters"),
            Self::FieldWrongType { expected, .. } => format!("a {expected}"),
            Self::EncryptTypeInvalid(_) => "1 or 2".to_owned(),
            Self::NotDecryptable { encrypt_type, .. } => {
                format!("IV + Base64(AES-CBC) under encryptType {encrypt_type}")
            }
            Self::NotListed(id) => format!("an `info` entry with instanceId `{id}`"),
        }
    }

    /// What came back, for "expected vs got".
    pub(crate) fn got(&self) -> String {
        match self {
            Self::Unreachable(why) | Self::Broken(why) | Self::NotJson(why) => why.clone(),
            Self::Timeout(_) => "no answer".to_owned(),
            Self::HttpStatus(code) => code.to_string(),
            Self::ContentType(found) => found.clone().unwrap_or_else(|| "(none)".to_owned()),
            Self::BodySignMissing => "(no Body-Sign header)".to_owned(),
            Self::BodySignWrongCase(name) => format!("header `{name}`"),
            Self::BodySignDuplicate(count) => format!("{count} Body-Sign headers"),
            Self::BodySignMalformed(why) => why.to_string(),
            Self::BodySignWrong { got, .. } => format!("signature {got}"),
            Self::ResultCode(code) | Self::ClientSecretRefused { code, .. } => code.clone(),
            Self::MissingField(_) => "(absent)".to_owned(),
            Self::FieldTooLong { len, .. } => format!("{len} characters"),
            Self::FieldWrongType { .. } => "another JSON type".to_owned(),
            Self::EncryptTypeInvalid(value) => value.clone(),
            Self::NotDecryptable { reason, .. } => reason.clone(),
            Self::NotListed(_) => "not listed".to_owned(),
            Self::Injected(_) => self.message(),
        }
    }
}
