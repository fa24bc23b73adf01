//! Judging a merchant's answer exactly as the seller console's debug page does
//! (spec: koogallery-saas-v1.md §1 and its FAQ; koogallery-v2-kit-license.md §8.3).
//!
//! The page rejects, in this order of discovery: an unreachable address, no answer within
//! the timeout (20 s), an HTTP status other than 200, a Content-Type other than
//! `application/json`, a body that does not parse or lacks `resultCode`, (V1) a missing,
//! malformed, wrongly cased or wrong `Body-Sign`, a `resultCode` other than `000000`, a
//! missing mandatory field (queryInstance: an instance asked about and not listed), an
//! over-long field — and kgsim adds (V1) `appInfo` credentials that do not decrypt with the
//! declared `encryptType`. [`finding`] holds the rules and their messages, [`answer`] the
//! reading of bodies and headers.

pub(crate) mod answer;
pub(crate) mod finding;

use crate::marketplace::clock::Span;
use crate::protocol::fields::{Rules, Violation, validate};
use crate::protocol::json_ref::Members;
use crate::protocol::v2::client_secret::OaepDigest;
use crate::protocol::{AccessKey, Activity, Protocol, ResultCode, v1, v2};

pub(crate) use answer::Answer;
pub use finding::{Finding, Injection, Rule};

/// What came back from one attempt, as the transport saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// An HTTP response arrived in full.
    Answered(RawResponse),
    /// No connection could be made.
    Unreachable(String),
    /// No complete answer within the timeout.
    TimedOut,
    /// The connection broke mid-answer, the answer was not HTTP, was a redirect, or was
    /// larger than the size cap.
    Broken(String),
    /// The scenario failed the attempt before sending (fault `fail-before-send`).
    NotSent,
    /// The merchant answered, but the scenario made the marketplace lose the answer (fault
    /// `drop-response`): KooGallery would have seen a timeout.
    Dropped,
}

/// An HTTP response as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers in arrival order, names in the case the merchant wrote them.
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
    /// queryInstance: the instance ids a successful answer must list.
    pub must_list: &'a [String],
    /// The OAEP digest applicationSync's clientSecret was encrypted with (Kit products).
    pub oaep_digest: Option<OaepDigest>,
}

impl<'a> Context<'a> {
    /// The same context for a queryInstance whose answer must list these ids.
    pub(crate) fn listing(self, ids: &'a [String]) -> Self {
        Self {
            must_list: ids,
            ..self
        }
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
    pub(crate) provisioning: bool,
}

impl Judgement {
    /// Whether the console accepts the answer (no finding).
    pub fn accepted(&self) -> bool {
        self.findings.is_empty()
    }

    /// The first rule broken, for call logs.
    pub(crate) fn first_rule(&self) -> Option<Rule> {
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
        Transport::NotSent => return failed(Finding::Injected(Injection::NotSent)),
        Transport::Dropped => return failed(Finding::Injected(Injection::AnswerDropped)),
    };
    let mut findings = Vec::new();
    if response.status != 200 {
        findings.push(Finding::HttpStatus(response.status));
    }
    let content_type = response.header("content-type");
    if !content_type.is_some_and(answer::is_json_media_type) {
        findings.push(Finding::ContentType(content_type.map(str::to_owned)));
    }
    let mut parsed = match answer::read(&response.body) {
        Ok(read) => Some(read),
        Err(why) => {
            findings.push(Finding::NotJson(why));
            None
        }
    };
    if context.protocol == Protocol::V1 {
        findings.extend(answer::check_body_sign(response, context.key));
    }
    let mut provisioning = false;
    if let Some((members, answer)) = parsed.as_mut() {
        provisioning = judge_fields(members, answer, context, &mut findings);
    }
    Judgement {
        findings,
        answer: parsed.map(|(_, answer)| answer),
        provisioning,
    }
}

/// The rules about a parsed answer's content: result code, the table's fields, the listing
/// of queried instances, (V1) decryptable credentials. Returns whether the answer is an
/// accepted V2 asynchronous provisioning (000004 to newInstance).
fn judge_fields(
    members: &Members<'_>,
    answer: &mut Answer,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> bool {
    let code = answer.result_code.clone().unwrap_or_default();
    // "000000 资源同步开通, 000004 资源异步开通": newInstance (V2 §2.1) and getLicenseAsync (§4.5).
    let async_allowed = context.protocol == Protocol::V2
        && matches!(
            context.activity,
            Activity::NewInstance | Activity::GetLicenseAsync
        );
    let provisioning = async_allowed && code == ResultCode::Processing.as_str();
    let success = code == ResultCode::Success.as_str();
    if !success && !provisioning {
        let code = finding::clip(&code);
        // The code table is newInstance's: a refused applicationSync says the clientSecret
        // could not be used (§3.3), whatever the code.
        findings.push(match (context.activity, context.oaep_digest) {
            (Activity::ApplicationSync, Some(digest)) => {
                Finding::ClientSecretRefused { code, digest }
            }
            _ => Finding::ResultCode(code),
        });
    }
    // An error answer is judged against the bare result table only.
    let table = match (success || provisioning, context.protocol) {
        (false, _) => v1::messages::ResultResponse::TABLE,
        (true, Protocol::V1) => v1::messages::response_table(context.activity),
        (true, Protocol::V2) => v2::messages::response_table(context.activity),
    };
    findings.extend(
        validate(members, table, context.rules)
            .into_iter()
            .map(|violation| match violation {
                Violation::Missing { path } => Finding::MissingField(path),
                Violation::TooLong { path, len, max } => Finding::FieldTooLong { path, len, max },
                Violation::WrongType { path, expected } => {
                    Finding::FieldWrongType { path, expected }
                }
            }),
    );
    if success {
        let listed = answer.listed_instances();
        findings.extend(
            context
                .must_list
                .iter()
                .filter(|id| !listed.contains(id))
                .map(|id| Finding::NotListed(id.clone())),
        );
    }
    if context.protocol == Protocol::V1 {
        findings.extend(answer::decrypt_credentials(members, answer, context.key));
    }
    provisioning
}

fn failed(finding: Finding) -> Judgement {
    Judgement {
        findings: vec![finding],
        answer: None,
        provisioning: false,
    }
}

#[cfg(test)]
mod tests;
