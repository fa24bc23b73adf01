//! Expectations about the content of the merchant's answers: result codes, the same or a
//! different instance, the same credentials, how many instances a burst yielded, how many
//! a query listed. Each judges the step's own calls (or its subject's, with `of:`).

use std::collections::{BTreeMap, BTreeSet};

use crate::conformance::Judged;
use crate::protocol::ResultCode;
use crate::scenario::format::model::{Ref, ResultExpectation};
use crate::scenario::result::{CallFacts, StepFacts};

/// The expectation's verdict before it is placed: passed, message, expected, got, and the
/// calls it failed on.
pub(crate) fn judged(
    passed: bool,
    message: String,
    expected: String,
    got: String,
    failing_calls: Vec<usize>,
) -> Judged {
    Judged {
        passed,
        message,
        expected,
        got,
        failing_calls,
    }
}

fn no_calls() -> Judged {
    judged(
        false,
        "the step made no call to judge".into(),
        "a call".into(),
        "none".into(),
        Vec::new(),
    )
}

fn describe_code(call: &CallFacts) -> String {
    match (&call.final_code, call.final_rule) {
        (Some(code), _) => code.clone(),
        (None, Some(rule)) => format!("no usable answer (console {})", rule.slug()),
        (None, None) => "no attempt made yet".into(),
    }
}

/// `result:` — the final answer of every call has one of the codes.
pub(crate) fn result(calls: &[CallFacts], wanted: &ResultExpectation) -> Judged {
    if calls.is_empty() {
        return no_calls();
    }
    let expected = match wanted {
        ResultExpectation::OneOf(codes) => {
            let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            codes.join(" or ")
        }
        ResultExpectation::Rejected => "any code but 000000".into(),
    };
    let matches = |code: &str| match wanted {
        ResultExpectation::OneOf(codes) => codes.iter().any(|w| w.as_str() == code),
        ResultExpectation::Rejected => code != ResultCode::Success.as_str(),
    };
    let wrong: Vec<&CallFacts> = calls
        .iter()
        .filter(|c| !c.final_code.as_deref().is_some_and(matches))
        .collect();
    let got = describe_code(wrong.first().copied().unwrap_or(&calls[0]));
    let message = match wrong.first() {
        None => format!("every call answered {expected} ({} call(s))", calls.len()),
        Some(call) => format!(
            "{} of {} call(s) did not answer {expected} (first: {})",
            wrong.len(),
            calls.len(),
            call.activity.slug()
        ),
    };
    let failing = wrong.iter().map(|c| c.id).collect();
    judged(wrong.is_empty(), message, expected, got, failing)
}

fn instance_ids_of<'f>(facts: &'f StepFacts, reference: &Ref) -> &'f [String] {
    facts
        .captures
        .get(&reference.name)
        .map_or(&[], |c| c.instance_ids.as_slice())
}

/// `same-instance-as:` — every call returned the instance of an earlier step.
pub(crate) fn same_instance(calls: &[CallFacts], facts: &StepFacts, reference: &Ref) -> Judged {
    let wanted = instance_ids_of(facts, reference);
    let Some(first_wanted) = wanted.first() else {
        return judged(
            false,
            format!("`{}` never got an instance to compare with", reference.name),
            "an instanceId".into(),
            "none".into(),
            Vec::new(),
        );
    };
    if calls.is_empty() {
        return no_calls();
    }
    let mut mismatches: Vec<(usize, String, String)> = Vec::new();
    for call in calls {
        let expected_id = call
            .expected_instance
            .clone()
            .filter(|id| wanted.contains(id))
            .unwrap_or_else(|| first_wanted.clone());
        match call.returned_ids.last() {
            Some(id) if *id == expected_id => {}
            Some(id) => mismatches.push((call.id, expected_id, id.clone())),
            None => {
                let got = format!("no instanceId ({})", describe_code(call));
                mismatches.push((call.id, expected_id, got));
            }
        }
    }
    match mismatches.first() {
        None => judged(
            true,
            format!("every resend returned the instance of `{}`", reference.name),
            first_wanted.clone(),
            first_wanted.clone(),
            Vec::new(),
        ),
        Some((_, expected, got)) => judged(
            false,
            format!(
                "{} of {} resend(s) did not return the instanceId of `{}`",
                mismatches.len(),
                calls.len(),
                reference.name
            ),
            expected.clone(),
            got.clone(),
            mismatches.iter().map(|m| m.0).collect(),
        ),
    }
}

/// `different-instance-from:` — no call returned an instance of an earlier step.
pub(crate) fn different_instance(
    calls: &[CallFacts],
    facts: &StepFacts,
    reference: &Ref,
) -> Judged {
    let earlier = instance_ids_of(facts, reference);
    let returned: Vec<(usize, &String)> = calls
        .iter()
        .filter_map(|c| c.returned_ids.last().map(|id| (c.id, id)))
        .collect();
    if returned.is_empty() {
        return judged(
            false,
            "no call returned an instanceId".into(),
            format!("an instanceId other than `{}`'s", reference.name),
            "none".into(),
            calls.iter().map(|c| c.id).collect(),
        );
    }
    let shared: Vec<usize> = returned
        .iter()
        .filter(|(_, id)| earlier.contains(id))
        .map(|(c, _)| *c)
        .collect();
    let verb = if shared.is_empty() {
        "differs from"
    } else {
        "is"
    };
    let got: Vec<&str> = returned.iter().map(|(_, id)| id.as_str()).collect();
    judged(
        shared.is_empty(),
        format!("the new order's instanceId {verb} `{}`'s", reference.name),
        format!("not {}", earlier.join(", ")),
        got.join(", "),
        shared,
    )
}

fn render_credentials(credentials: &[(String, String)]) -> String {
    credentials
        .iter()
        .map(|(k, v)| format!("{k}={}", if k == "password" { "[password]" } else { v }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `same-app-info-as:` — every call returned the credentials of an earlier step.
pub(crate) fn same_app_info(calls: &[CallFacts], facts: &StepFacts, reference: &Ref) -> Judged {
    let wanted = facts
        .captures
        .get(&reference.name)
        .map(|c| c.credentials.clone())
        .unwrap_or_default();
    let differing: Vec<&CallFacts> = calls.iter().filter(|c| c.credentials != wanted).collect();
    if wanted.is_empty() {
        let got = differing.first().map_or(&wanted, |c| &c.credentials);
        return judged(
            false,
            format!(
                "`{}` returned no credentials to compare with",
                reference.name
            ),
            render_credentials(&wanted),
            render_credentials(got),
            calls.iter().map(|c| c.id).collect(),
        );
    }
    let Some(call) = differing.first() else {
        let passed = !calls.is_empty();
        return judged(
            passed,
            format!("every resend returned `{}`'s appInfo", reference.name),
            render_credentials(&wanted),
            render_credentials(&wanted),
            Vec::new(),
        );
    };
    let field = call
        .credentials
        .iter()
        .zip(&wanted)
        .find(|(a, b)| a != b)
        .map_or("appInfo", |(a, _)| a.0.as_str());
    judged(
        false,
        format!("a resend's {field} differs from `{}`'s", reference.name),
        render_credentials(&wanted),
        render_credentials(&call.credentials),
        differing.iter().map(|c| c.id).collect(),
    )
}

/// `instances:` — the calls returned this many distinct instanceIds.
pub(crate) fn distinct_instances(calls: &[CallFacts], wanted: u32) -> Judged {
    // Each order on its own: a step with `rounds:` places one order per round.
    let mut orders: BTreeMap<Option<&str>, (BTreeSet<&String>, Vec<usize>)> = BTreeMap::new();
    for call in calls {
        let entry = orders.entry(call.order.as_deref()).or_default();
        entry.0.extend(call.returned_ids.iter());
        entry.1.push(call.id);
    }
    let counts: Vec<u32> = orders.values().map(|(ids, _)| ids.len() as u32).collect();
    let failing: Vec<usize> = orders
        .values()
        .filter(|(ids, _)| ids.len() as u32 != wanted)
        .flat_map(|(_, calls)| calls.iter().copied())
        .collect();
    let wrong = counts.iter().filter(|n| **n != wanted).count();
    let got = counts
        .iter()
        .copied()
        .find(|n| *n != wanted)
        .unwrap_or(wanted);
    let message = if orders.len() > 1 {
        format!(
            "{wrong} of {} orders got other than {wanted} distinct instanceId(s) ({} calls)",
            orders.len(),
            calls.len()
        )
    } else {
        format!(
            "{} call(s) returned {got} distinct instanceId(s)",
            calls.len()
        )
    };
    judged(
        failing.is_empty(),
        message,
        wanted.to_string(),
        got.to_string(),
        failing,
    )
}

/// `listed:` — the query listed this many instances.
pub(crate) fn listed(calls: &[CallFacts], wanted: u32) -> Judged {
    let got = calls.first().and_then(|c| c.listed);
    let passed = got == Some(wanted as usize);
    let shown = got.map_or_else(|| "nothing".to_owned(), |n| format!("{n} instance(s)"));
    judged(
        passed,
        format!("queryInstance listed {shown}"),
        wanted.to_string(),
        got.map_or_else(|| "no listing".to_owned(), |n| n.to_string()),
        if passed {
            Vec::new()
        } else {
            calls.iter().map(|c| c.id).collect()
        },
    )
}
