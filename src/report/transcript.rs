//! A scenario's exchanges as a readable transcript: the text a snapshot stores and a reviewer
//! reads. Built from the normalised result model, so it holds no id, timestamp, nonce,
//! signature, password or key that changes from run to run — or that should stay secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::marketplace::Span;

use crate::report::model::{ExchangeReport, MerchantCallReport, ProfileSummary, ScenarioReport};

/// One exchange. Its time is shown after its call's first attempt (`+1h` for an hourly
/// retry): a retry schedule is a fixed span, while a time since the scenario's start mixes
/// calendar months with days and would read differently from one start date to another.
fn exchange(out: &mut String, exchange: &ExchangeReport, first_attempt: i64) {
    let fault = exchange
        .fault
        .as_ref()
        .map(|f| format!(" · [{f}]"))
        .unwrap_or_default();
    let after = Span(exchange.at_ms - first_attempt);
    let _ = writeln!(
        out,
        "\n  call {} · attempt {} · {} · +{after}{fault}",
        exchange.call, exchange.attempt, exchange.activity
    );
    if let Some(method) = &exchange.method {
        let to = exchange
            .to
            .as_ref()
            .map(|to| format!(" {to}"))
            .unwrap_or_default();
        let content_type = exchange
            .content_type
            .as_ref()
            .map(|c| format!(" · {c}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  > {method}{to}{content_type}");
        for (name, value) in &exchange.request {
            let _ = writeln!(out, "  >   {name}: {value}");
        }
    }
    if let Some(response) = &exchange.response {
        let content_type = response
            .content_type
            .as_deref()
            .unwrap_or("(no Content-Type)");
        let sign = response
            .body_sign
            .as_ref()
            .map(|s| format!(" · Body-Sign {s}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  < {} {content_type}{sign}", response.status);
        for line in response.body.lines() {
            let _ = writeln!(out, "  <   {line}");
        }
    }
    if let Some(transport) = &exchange.transport {
        let _ = writeln!(out, "  < ({transport})");
    }
    let findings = if exchange.findings.is_empty() {
        String::new()
    } else {
        format!(": {}", exchange.findings.join(", "))
    };
    let _ = writeln!(out, "  = {}{findings}", exchange.verdict);
}

/// The transcript of one scenario.
pub(crate) fn render(scenario: &ScenarioReport, profile: &ProfileSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# kgsim transcript · {}", scenario.file);
    let _ = writeln!(out, "# {}", scenario.name);
    let _ = writeln!(
        out,
        "# {}, {} billing, encryptType {}",
        profile.protocol, profile.billing, profile.encrypt_type
    );
    let _ = writeln!(
        out,
        "# instance and order ids aliased in order of appearance; timestamps, nonces, signatures,\n# business ids and passwords redacted; expiry times relative to the scenario's start,\n# attempt times relative to their call's first attempt"
    );
    let mut first_attempts: BTreeMap<usize, i64> = BTreeMap::new();
    for step in &scenario.steps {
        let _ = writeln!(
            out,
            "\nstep {} · {} · line {}",
            step.number, step.action, step.line
        );
        if let Some(blocked) = &step.blocked {
            let _ = writeln!(out, "  (not performed: {blocked})");
        }
        for e in &step.exchanges {
            let first = *first_attempts.entry(e.call).or_insert(e.at_ms);
            exchange(&mut out, e, first);
        }
        for call in &step.merchant_calls {
            merchant_call(&mut out, call);
        }
    }
    out
}

/// One call the merchant made to the open APIs.
fn merchant_call(out: &mut String, call: &MerchantCallReport) {
    let _ = writeln!(
        out,
        "
  merchant → {} · {}",
        call.api, call.request
    );
    for line in call.body.lines() {
        let _ = writeln!(out, "  →   {line}");
    }
    let _ = writeln!(out, "  ← {}", call.status);
    for line in call.answer.lines() {
        let _ = writeln!(out, "  ←   {line}");
    }
    if !call.findings.is_empty() {
        let _ = writeln!(out, "  = {}", call.findings.join(", "));
    }
}
