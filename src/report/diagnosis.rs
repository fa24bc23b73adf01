//! The run-level diagnosis: when one cause explains most of a run's failures — every request
//! refused with 000001, every call timed out, one console rule broken by every answer — the
//! report opens with it, names the likely mistake and the command that pins it down, and the
//! scenarios it explains are folded to one line each.
//!
//! The diagnosis reads the exchanges kgsim sent as the marketplace would (those a scenario
//! tampered with, dropped or never sent on purpose are left out: a forged request is meant to
//! be refused) and speaks only when at least [`SHARE`] of them agree.

use crate::checks::CheckId;
use crate::protocol::ResultCode;
use crate::report::model::{Diagnosis, ExchangeReport, Report, ScenarioReport, Status, Symptom};

/// The share of exchanges that must show the same cause, in percent.
pub(crate) const SHARE: usize = 90;
/// Fewer exchanges than this never make a diagnosis (one failing call is its own story).
const MIN_EXCHANGES: usize = 5;

/// What one exchange showed.
struct Seen<'a> {
    result_code: Option<String>,
    findings: &'a [String],
}

fn seen(exchange: &ExchangeReport) -> Seen<'_> {
    let result_code = exchange.response.as_ref().and_then(|r| {
        serde_json::from_str::<serde_json::Value>(&r.body)
            .ok()?
            .get("resultCode")?
            .as_str()
            .map(str::to_owned)
    });
    Seen {
        result_code,
        findings: &exchange.findings,
    }
}

/// The exchanges sent as the marketplace would send them.
fn plain_exchanges(report: &Report) -> Vec<Seen<'_>> {
    report
        .scenarios
        .iter()
        .filter(|s| s.status != Status::Skipped)
        .flat_map(|s| &s.steps)
        .flat_map(|s| &s.exchanges)
        .filter(|e| e.fault.is_none())
        .map(seen)
        .collect()
}

fn share(count: usize, of: usize) -> bool {
    of >= MIN_EXCHANGES && count * 100 >= of * SHARE
}

/// The diagnosis of a run, if one cause dominates.
pub(crate) fn diagnose(report: &Report) -> Option<Diagnosis> {
    if report.summary.failed == 0 {
        return None;
    }
    let seen = plain_exchanges(report);
    let total = seen.len();
    let count = |check: CheckId| {
        seen.iter()
            .filter(|s| s.findings.iter().any(|f| f == check.id()))
            .count()
    };
    let v1 = report.profile.protocol == "v1";
    let refused = seen
        .iter()
        .filter(|s| s.result_code.as_deref() == Some("000001"))
        .count();
    let ((checks, summary, likely, next), symptom) = if share(count(CheckId::ConsoleTimeout), total)
    {
        (
            timeouts(count(CheckId::ConsoleTimeout), total),
            Symptom::Finding(CheckId::ConsoleTimeout.id().to_owned()),
        )
    } else if share(refused, total) {
        (
            refused_everywhere(refused, total, v1, count(CheckId::ConsoleBodySign)),
            Symptom::Code("000001".to_owned()),
        )
    } else if let Some(broken) = RULES.iter().find(|(check, ..)| share(count(*check), total)) {
        (
            specific_cause(report, broken.0)
                .unwrap_or_else(|| one_rule(broken, count(broken.0), total)),
            Symptom::Finding(broken.0.id().to_owned()),
        )
    } else {
        let (found, code) = same_code_everywhere(&seen)?;
        (found, Symptom::Code(code))
    };
    let checks: Vec<String> = checks.iter().map(|c| c.id().to_owned()).collect();
    let mut diagnosis = Diagnosis {
        scenarios: 0,
        checks,
        summary,
        likely_cause: likely,
        next_step: next,
        symptom,
    };
    diagnosis.scenarios = explained(report, &diagnosis);
    Some(diagnosis)
}

/// Whether an exchange shows the diagnosed symptom.
fn shows(symptom: &Symptom, seen: &Seen<'_>) -> bool {
    match symptom {
        Symptom::None => false,
        Symptom::Code(code) => seen.result_code.as_deref() == Some(code.as_str()),
        Symptom::Finding(check) => seen.findings.contains(check),
    }
}

/// When nearly every finding of `check` names the same specific cause — a header spelt
/// `Body-sign`, a Content-Type missing rather than wrong, one field missing — the diagnosis
/// leads with it rather than with the rule's usual suspects.
fn specific_cause(report: &Report, check: CheckId) -> Option<Found> {
    let findings: Vec<(&str, &str)> = report
        .scenarios
        .iter()
        .filter(|s| s.status != Status::Skipped)
        .flat_map(|s| &s.steps)
        .flat_map(|s| &s.outcomes)
        .filter(|o| !o.passed && o.exchange.is_some() && o.check == check.id())
        .map(|o| (o.got.as_str(), without_attempt(&o.message)))
        .collect();
    let mut counts: std::collections::BTreeMap<(&str, &str), usize> =
        std::collections::BTreeMap::new();
    for finding in &findings {
        *counts.entry(*finding).or_default() += 1;
    }
    let ((got, message), n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    let m = findings.len();
    if !share(n, m) {
        return None;
    }
    let (summary, likely, next) = match check {
        CheckId::ConsoleBodySign if got.starts_with("header `") => (
            format!(
                "{n} of {m} answers named the {}; the console requires exactly `Body-Sign`",
                got
            ),
            "an HTTP server or framework that normalises header names: com.sun.net.httpserver \
             sends `Body-sign`; Servlet containers, Spring, Express and Go's net/http keep what \
             you write or canonicalise to `Body-Sign`"
                .to_owned(),
            "set the header through an API that keeps its case (or put a proxy that writes \
             `Body-Sign` in front); `kgsim run --filter purchase/period --verbose` shows one \
             answer's headers as received"
                .to_owned(),
        ),
        CheckId::ConsoleBodySign if got.starts_with("(no ") => (
            format!("{n} of {m} answers carried no Body-Sign header"),
            "the answers are not signed at all (spec V1 §2.3: every answer carries `Body-Sign`)"
                .to_owned(),
            "sign the exact bytes you send: HMAC-SHA256 with the access key, \
             `sign_type=\"HMAC-SHA256\", signature= \"<Base64>\"`; `kgsim sign body-sign` \
             computes one"
                .to_owned(),
        ),
        CheckId::ConsoleContentType if got == "(none)" => (
            format!("{n} of {m} answers carried no Content-Type"),
            "the body is written as raw bytes without a Content-Type (some frameworks add none \
             then)"
                .to_owned(),
            "set `Content-Type: application/json;charset=UTF-8` on every answer (spec V1 §1)"
                .to_owned(),
        ),
        CheckId::ConsoleContentType => (
            format!("{n} of {m} answers said Content-Type `{got}`"),
            "the framework's default Content-Type is sent, not application/json".to_owned(),
            "set `Content-Type: application/json;charset=UTF-8` on every answer (spec V1 §1)"
                .to_owned(),
        ),
        _ => (
            format!("{n} of {m} answers: {message}"),
            "every answer is built the same way, with this one defect".to_owned(),
            "compare one answer with the response table of the activity (`kgsim checks` names \
             the spec section)"
                .to_owned(),
        ),
    };
    Some((vec![check], summary, likely, next))
}

/// A finding's message without its `(attempt N of activity)` suffix.
fn without_attempt(message: &str) -> &str {
    message
        .rfind(" (attempt ")
        .map_or(message, |at| &message[..at])
}

type Found = (Vec<CheckId>, String, String, String);

fn timeouts(count: usize, total: usize) -> Found {
    (
        vec![CheckId::ConsoleTimeout],
        format!("{count} of {total} calls got no answer within the timeout"),
        "the merchant does its work before answering, or the address reaches something that \
         accepts connections and never answers (a proxy, a stopped worker)"
            .to_owned(),
        "answer first and finish slow work asynchronously (spec V1 §1: the console waits 20 s); \
         `kgsim run --filter purchase/period --verbose` shows one call end to end"
            .to_owned(),
    )
}

fn refused_everywhere(refused: usize, total: usize, v1: bool, body_sign: usize) -> Found {
    let both_ways = v1 && share(body_sign, total);
    let likely = if both_ways {
        "kgsim and the merchant use different access keys: the merchant refuses kgsim's \
         authToken and kgsim cannot verify the merchant's Body-Sign either"
    } else {
        "kgsim and the merchant use different access keys, or the merchant computes the \
         signature differently (parameter order, URL decoding, the timeStamp in the key)"
    };
    let next = if v1 {
        "log one request URL your merchant received and run `kgsim verify v1 --url '<that URL>'` \
         with the merchant's key: it names the step where the two computations part"
    } else {
        "log one request your merchant received and run `kgsim verify v2 --query '<its query>' \
         --body <its body file>` with the merchant's key: it names the step that differs"
    };
    let mut checks = vec![CheckId::ConsoleResultCode];
    if both_ways {
        checks.push(CheckId::ConsoleBodySign);
    }
    (
        checks,
        format!("{refused} of {total} requests were refused with 000001 (authentication failed)"),
        likely.to_owned(),
        next.to_owned(),
    )
}

/// The same unsuccessful resultCode on nearly every answer: the merchant fails before the
/// business logic (a configuration, a database, a dependency it cannot reach).
fn same_code_everywhere(seen: &[Seen<'_>]) -> Option<(Found, String)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for code in seen.iter().filter_map(|s| s.result_code.as_deref()) {
        *counts.entry(code).or_default() += 1;
    }
    let (code, count) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    if code == ResultCode::Success.as_str() || !share(count, seen.len()) {
        return None;
    }
    let meaning = code
        .parse::<ResultCode>()
        .map_or("an undocumented code", ResultCode::meaning);
    Some((
        (
            vec![CheckId::ConsoleResultCode],
            format!("{count} of {} answers said {code} ({meaning})", seen.len()),
            "the merchant fails every call of this run in the same way before its business logic \
         runs (configuration, database, a dependency it cannot reach)"
                .to_owned(),
            "look at the merchant's log for the first call; `kgsim run --filter purchase/period \
         --verbose` sends just one purchase"
                .to_owned(),
        ),
        code.to_owned(),
    ))
}

/// Console rules that a merchant typically breaks on every answer, with the likely mistake
/// and the fix.
const RULES: &[(CheckId, &str, &str)] = &[
    (
        CheckId::ConsoleContentType,
        "the framework's default Content-Type (text/plain or text/html) is sent",
        "set `Content-Type: application/json;charset=UTF-8` on every answer (spec V1 §1)",
    ),
    (
        CheckId::ConsoleBodySign,
        "the answers are not signed, or signed over other bytes than those sent (the body \
         re-serialised after signing) or with another key",
        "sign the exact bytes you send with HMAC-SHA256 and the access key; \
         `kgsim verify body-sign --body <a saved answer> --header '<its Body-Sign>'` names the step \
         that differs",
    ),
    (
        CheckId::ConsoleHttpStatus,
        "errors are answered with an HTTP error status",
        "answer every call with HTTP 200 and put the outcome in resultCode (spec V1 §1)",
    ),
    (
        CheckId::ConsoleJsonBody,
        "the answer is not a JSON object (an HTML error page, plain text, a JSON string)",
        "answer `{\"resultCode\":…,\"resultMsg\":…}` as a JSON object",
    ),
    (
        CheckId::ConsoleMandatoryFields,
        "a mandatory answer field is left out everywhere (resultMsg, or instanceId on \
         newInstance)",
        "compare one answer with the response table of the activity (`kgsim checks` names the \
         spec section)",
    ),
];

fn one_rule(rule: &(CheckId, &str, &str), count: usize, total: usize) -> Found {
    let (check, likely, next) = *rule;
    (
        vec![check],
        format!("{count} of {total} answers broke {}", check.id()),
        likely.to_owned(),
        next.to_owned(),
    )
}

/// How many failed scenarios the diagnosis explains.
fn explained(report: &Report, diagnosis: &Diagnosis) -> usize {
    report
        .scenarios
        .iter()
        .filter(|s| is_explained(s, diagnosis))
        .count()
}

/// Whether the diagnosis explains a failed scenario: its first counting failure is one of
/// the diagnosed checks, or every exchange it sent as the marketplace would shows the
/// diagnosed symptom (then whatever else failed had no chance to be judged otherwise).
pub(crate) fn is_explained(scenario: &ScenarioReport, diagnosis: &Diagnosis) -> bool {
    if scenario.status != Status::Failed {
        return false;
    }
    let first = scenario
        .failures()
        .next()
        .is_some_and(|(_, o)| diagnosis.checks.contains(&o.check));
    let mut plain = scenario
        .steps
        .iter()
        .flat_map(|s| &s.exchanges)
        .filter(|e| e.fault.is_none())
        .map(seen)
        .peekable();
    first || (plain.peek().is_some() && plain.all(|e| shows(&diagnosis.symptom, &e)))
}
