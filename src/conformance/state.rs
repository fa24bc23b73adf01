//! Expectations about the marketplace's state after a step: the order and instance of the
//! step's subject, how many attempts its first call made and when, and when its order
//! settled. They follow from whether the console accepted the merchant's answers.

use crate::conformance::Judged;
use crate::conformance::answers::judged;
use crate::marketplace::Span;
use crate::scenario::result::SubjectFacts;

fn list(spans: &[Span]) -> String {
    let shown: Vec<String> = spans.iter().map(ToString::to_string).collect();
    format!("[{}]", shown.join(", "))
}

/// `order:` — the subject's order is in this state.
pub(crate) fn order(subject: &SubjectFacts, wanted: &str) -> Judged {
    let got = subject.order_state.unwrap_or("none");
    judged(
        got == wanted,
        format!("the order of `{}` is {got}", subject.name),
        wanted.to_owned(),
        got.to_owned(),
        Vec::new(),
    )
}

/// `instance:` — the subject's instance is in this state.
pub(crate) fn instance(subject: &SubjectFacts, wanted: &str) -> Judged {
    let got = subject.instance_state.unwrap_or("none");
    judged(
        got == wanted,
        format!("the instance of `{}` is {got}", subject.name),
        wanted.to_owned(),
        got.to_owned(),
        Vec::new(),
    )
}

/// The due times (after the first) of the performed attempts of the subject's first call.
fn performed_attempts(subject: &SubjectFacts) -> Vec<Span> {
    subject.calls.first().map_or_else(Vec::new, |call| {
        call.attempts
            .iter()
            .filter(|(_, accepted)| accepted.is_some())
            .map(|(at, _)| *at)
            .collect()
    })
}

/// `attempts:` — the subject's first call made this many attempts.
pub(crate) fn attempts(subject: &SubjectFacts, wanted: u32) -> Judged {
    let got = performed_attempts(subject).len() as u32;
    judged(
        got == wanted,
        format!("the first call of `{}` made {got} attempt(s)", subject.name),
        wanted.to_string(),
        got.to_string(),
        Vec::new(),
    )
}

/// `attempt-times:` — those attempts were due at these offsets.
pub(crate) fn attempt_times(subject: &SubjectFacts, wanted: &[Span]) -> Judged {
    let got = performed_attempts(subject);
    judged(
        got == wanted,
        format!("attempts of `{}` were due at {}", subject.name, list(&got)),
        list(wanted),
        list(&got),
        Vec::new(),
    )
}

/// `settled-after:` — the subject's order opened or failed this long after it was placed.
pub(crate) fn settled_after(subject: &SubjectFacts, wanted: Span) -> Judged {
    let got = subject
        .settled_after
        .map_or_else(|| "not settled".to_owned(), |s| s.to_string());
    judged(
        subject.settled_after == Some(wanted),
        format!("the order of `{}` settled after {got}", subject.name),
        wanted.to_string(),
        got,
        Vec::new(),
    )
}
