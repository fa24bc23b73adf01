//! A shrunk walk written as a scenario file: the steps in the scenario language, a header
//! comment with the seed, the check, the walk's original length and the replay command, and
//! `applies:` naming the product kind (and the optional interfaces the steps need) so that
//! a run for another kind skips it with the reason.

use std::fmt::Write as _;

use crate::marketplace::kind::ProductKind;
use crate::protocol::Activity;
use crate::scenario::format::model::{
    Action, Advance, Attempts, Awaited, AwaitedCall, Expect, ResultExpectation, Step,
};

/// What the header and the name say about the finding.
pub(crate) struct Header<'a> {
    /// The seed of the exploration.
    pub(crate) seed: u64,
    /// The check that failed, and what it said.
    pub(crate) check: &'a str,
    /// Its message.
    pub(crate) message: &'a str,
    /// How many steps the walk had when it failed.
    pub(crate) walk_length: usize,
    /// `kgsim run FILE …` with the product options.
    pub(crate) replay: &'a str,
    /// The kind explored.
    pub(crate) kind: ProductKind,
    /// The optional interfaces the product declared.
    pub(crate) declared: &'a [Activity],
}

fn reference_list(names: &[&str]) -> String {
    format!("[{}]", names.join(", "))
}

/// The action as a YAML mapping entry (`renew: {instance: p1}`).
fn action(action: &Action) -> String {
    let r = |r: &crate::scenario::format::model::Ref| r.name.clone();
    match action {
        Action::Purchase { trial: true, .. } => "purchase: {trial: true}".to_owned(),
        Action::Purchase { .. } => "purchase: {}".to_owned(),
        Action::Renew { instance, .. } => format!("renew: {{instance: {}}}", r(instance)),
        Action::ConvertTrial { instance, .. } => {
            format!("convert-trial: {{instance: {}}}", r(instance))
        }
        Action::Query { instances, .. } => {
            let names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
            format!("query: {{instances: {}}}", reference_list(&names))
        }
        Action::Advance(Advance::Span(span)) => format!("advance: {span}"),
        Action::Await(Awaited {
            call: AwaitedCall::LicenseActivate(purchase),
            ..
        }) => format!("await: {{license-activate: {}}}", r(purchase)),
        Action::Advance(Advance::Period(period)) => format!("advance: {period}"),
        Action::Send { activity, instance } => match instance {
            Some(instance) => format!(
                "send: {{activity: {}, instance: {}}}",
                activity.slug(),
                r(instance)
            ),
            None => format!("send: {{activity: {}}}", activity.slug()),
        },
        other => match other.references().first() {
            Some(subject) => format!("{}: {}", other.keyword(), subject.name),
            None => format!("{}: {{}}", other.keyword()),
        },
    }
}

fn attempts(list: &Attempts) -> Option<String> {
    match list {
        Attempts::None => None,
        Attempts::All => Some("all".to_owned()),
        Attempts::Only(numbers) => {
            let numbers: Vec<String> = numbers.iter().map(u32::to_string).collect();
            Some(format!("[{}]", numbers.join(", ")))
        }
    }
}

/// The step's `faults:` mapping, if it has any.
fn faults(step: &Step) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(list) = attempts(&step.faults.drop_response) {
        parts.push(format!("drop-response: {list}"));
    }
    if step.faults.copies > 1 {
        parts.push(format!("copies: {}", step.faults.copies));
    }
    if let Some(tamper) = step.faults.tamper {
        parts.push(format!("tamper: {tamper}"));
    }
    (!parts.is_empty()).then(|| format!("{{{}}}", parts.join(", ")))
}

/// The step's `expect:` mapping, if it has any.
fn expectations(step: &Step) -> Option<String> {
    let mut parts = Vec::new();
    for expectation in &step.expect {
        parts.push(match &expectation.expect {
            Expect::Result(ResultExpectation::OneOf(codes)) => {
                let codes: Vec<String> = codes
                    .iter()
                    .map(|c| format!("\"{}\"", c.as_str()))
                    .collect();
                match codes.as_slice() {
                    [one] => format!("result: {one}"),
                    many => format!("result: [{}]", many.join(", ")),
                }
            }
            Expect::Result(ResultExpectation::Rejected) => "result: rejected".to_owned(),
            Expect::SameInstance(r) => format!("same-instance-as: {}", r.name),
            Expect::DifferentInstance(r) => format!("different-instance-from: {}", r.name),
            Expect::DistinctInstances(n) => format!("instances: {n}"),
            Expect::Instance(state) => format!("instance: {state}"),
            Expect::Order(state) => format!("order: {state}"),
            // The explorer states no other expectation.
            _ => continue,
        });
    }
    (!parts.is_empty()).then(|| format!("{{{}}}", parts.join(", ")))
}

/// The scenario file for `steps`.
pub(crate) fn scenario(steps: &[Step], header: &Header<'_>) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Found by `kgsim explore --seed {}`: {} failed after a walk of {} steps,\n\
         # shrunk to {}. Replay (exit 1 while the fault is there, 0 once fixed):\n\
         #   {}",
        header.seed,
        header.check,
        header.walk_length,
        steps.len(),
        header.replay
    );
    let _ = writeln!(
        text,
        "name: \"explore seed {}: {}\"",
        header.seed, header.check
    );
    let message = header.message.replace(['\n', '\r'], " ");
    let _ = writeln!(text, "description: >\n  {message}");
    text.push_str("tags: [explore]\napplies:\n");
    let _ = writeln!(text, "  protocols: [{}]", header.kind.protocol);
    let _ = writeln!(text, "  billing: [{}]", header.kind.billing);
    if header.kind.product != crate::marketplace::kind::ProductType::Saas {
        let _ = writeln!(text, "  products: [{}]", header.kind.product);
    }
    let needed: Vec<&str> = header
        .declared
        .iter()
        .filter(|a| steps.iter().any(|s| needs(s, **a)))
        .map(|a| a.slug())
        .collect();
    if !needed.is_empty() {
        let _ = writeln!(text, "  requires: {}", reference_list(&needed));
    }
    text.push_str("steps:\n");
    for step in steps {
        let _ = writeln!(text, "  - {}", action(&step.action));
        if let Some(name) = &step.capture {
            let _ = writeln!(text, "    as: {name}");
        }
        if let Some(faults) = faults(step) {
            let _ = writeln!(text, "    faults: {faults}");
        }
        if let Some(check) = step.check {
            let _ = writeln!(text, "    check: {}", check.id());
        }
        if let Some(expect) = expectations(step) {
            let _ = writeln!(text, "    expect: {expect}");
        }
    }
    text
}

/// Whether a step sends an optional interface.
fn needs(step: &Step, activity: Activity) -> bool {
    matches!(
        (&step.action, activity),
        (Action::Upgrade(_), Activity::Upgrade)
            | (Action::Query { .. }, Activity::QueryInstance)
            | (Action::ChangeCheck(_), Activity::ChangeInstanceCheck)
            | (
                Action::Freeze(_) | Action::Unfreeze(_),
                Activity::InstanceStatus
            )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketplace::Span;
    use crate::protocol::{BillingMode, Protocol};
    use crate::scenario::format::model::{Expectation, Location, Ref};

    fn named(name: &str) -> Ref {
        Ref {
            name: name.to_owned(),
            at: Location::default(),
        }
    }

    #[test]
    fn the_written_scenario_loads_back_as_the_same_steps() {
        let mut buy = Step::of(Action::Purchase {
            billing: None,
            period: None,
            trial: true,
            products: 1,
            package_for: None,
            stop_when_used_up: false,
            quota: None,
        });
        buy.capture = Some("p1".into());
        buy.faults.copies = 2;
        let mut renew = Step::of(Action::Renew {
            instance: named("p1"),
            period: None,
        });
        renew.faults.drop_response = Attempts::Only(vec![1]);
        renew.expect.push(Expectation {
            expect: Expect::Instance("active".into()),
            at: Location::default(),
        });
        let steps = vec![
            buy,
            renew,
            Step::of(Action::Advance(Advance::Span(Span::hours(745)))),
            Step::of(Action::Upgrade(named("p1"))),
        ];
        let header = Header {
            seed: 7,
            check: "console.result-code",
            message: "resultCode 000005\nnot 000000",
            walk_length: 12,
            replay: "kgsim run x.yaml --protocol v1 --billing period --interface upgrade",
            kind: ProductKind::saas(Protocol::V1, BillingMode::Period),
            declared: &[Activity::Upgrade],
        };
        let text = scenario(&steps, &header);
        let loaded = crate::scenario::format::decode::decode("x.yaml", &text)
            .unwrap_or_else(|problems| panic!("{problems:?}\n{text}"));
        let keywords: Vec<&str> = loaded.steps.iter().map(|s| s.action.keyword()).collect();
        assert_eq!(keywords, ["purchase", "renew", "advance", "upgrade"]);
        assert_eq!(loaded.steps[0].faults.copies, 2);
        assert_eq!(
            loaded.steps[1].faults.drop_response,
            Attempts::Only(vec![1])
        );
        assert_eq!(
            loaded.steps[2].action,
            Action::Advance(Advance::Span(Span::hours(745)))
        );
        assert_eq!(loaded.applies.requires, [Activity::Upgrade]);
        assert!(
            text.starts_with("# Found by `kgsim explore --seed 7`"),
            "{text}"
        );
    }
}
