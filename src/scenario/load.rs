//! Loading a scenario file: YAML → typed [`Scenario`], checking every key against the format's
//! tables and every value against its kind, and collecting every problem of the file with its
//! span, so that an author sees all of them at once.

use std::collections::HashMap;
use std::path::Path;

use crate::marketplace::Span;
use crate::protocol::{Activity, BillingMode, Period, Protocol};
use crate::scenario::diagnostics::{FileProblems, Problem, SourceFile, did_you_mean};
use crate::scenario::model::{
    Action, Advance, Applicability, Attempts, DebugCases, Edit, Expect, Expectation, Faults,
    Interface, Location, Ref, ResultExpectation, Scenario, Step,
};
use crate::scenario::schema::{self, Kind, Shape};
use crate::scenario::wire::Tamper;
use crate::scenario::yaml::{self, Node, NodeKind};

/// How long a stale-timestamp tamper backdates a V2 request: well past the 60 s window.
pub const STALE_BY: Span = Span::minutes(5);

/// Loads one scenario from its text; `known_checks` are the ids `check:` may name.
pub fn load(
    name: &str,
    text: &str,
    known_checks: &[&'static str],
) -> Result<Scenario, FileProblems> {
    let file = SourceFile::new(name, text);
    let mut decoder = Decoder {
        file: &file,
        problems: Vec::new(),
        captures: HashMap::new(),
        known_checks,
    };
    let scenario = match yaml::parse(text) {
        Ok(root) => decoder.scenario(&root, Path::new(name)),
        Err(error) => {
            let span = file.span(error.at, error.at + 1);
            decoder.problems.push(
                Problem::new(
                    &file,
                    span,
                    format!("invalid YAML: {}", error.message),
                    "here",
                )
                .with_help("check the indentation and quoting around this point"),
            );
            None
        }
    };
    match scenario {
        Some(scenario) if decoder.problems.is_empty() => Ok(scenario),
        _ => {
            let mut problems = decoder.problems;
            problems.sort_by_key(Problem::location);
            Err(FileProblems {
                file: name.to_owned(),
                problems,
            })
        }
    }
}

/// What a capture name stands for, to check references as the file is read.
#[derive(Debug, Clone, Copy)]
struct Capture {
    line: usize,
    has_instance: bool,
}

struct Decoder<'a> {
    file: &'a SourceFile,
    problems: Vec<Problem>,
    captures: HashMap<String, Capture>,
    known_checks: &'a [&'static str],
}

/// A mapping checked against its shape.
struct Obj<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Obj<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    fn key_node(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| *k)
    }
}

fn expected(kind: &Kind) -> String {
    match kind {
        Kind::Text | Kind::Ref => "text".into(),
        Kind::Integer { min } => format!("a whole number of at least {min}"),
        Kind::Boolean => "true or false".into(),
        Kind::Choice(words) => format!("one of {}", words.join(", ")),
        Kind::Duration => "a duration such as 3h, 30m, 15d".into(),
        Kind::Period => "a period such as 1 month, 1 year, 7 days".into(),
        Kind::DurationOrPeriod => "a duration (3h, 15d) or a period (1 month)".into(),
        Kind::List(_) => "a list".into(),
        Kind::AllOr(_) => "`all` or a list".into(),
        Kind::Object(shape) => format!("a `{}` mapping", shape.name),
        Kind::TextMap => "a mapping of names to text".into(),
        Kind::ResultCodes => {
            "a quoted result code such as \"000000\", a list of them, or `rejected`".into()
        }
    }
}

impl<'a> Decoder<'a> {
    fn location(&self, node: &Node) -> Location {
        let (line, col) = self.file.line_col(self.file.byte_of_char(node.span.start));
        Location { line, col }
    }

    fn problem(
        &mut self,
        node: &Node,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        let end = if node.span.end > node.span.start {
            node.span.end
        } else {
            node.span.start + 1
        };
        let mut problem = Problem::new(
            self.file,
            self.file.span(node.span.start, end),
            message,
            label,
        );
        if let Some(help) = help {
            problem = problem.with_help(help);
        }
        self.problems.push(problem);
    }

    fn wrong(&mut self, node: &Node, kind: &Kind, what: &str) {
        let shown = node
            .scalar()
            .map_or_else(|| node.kind_name().to_owned(), |s| format!("`{s}`"));
        self.problem(
            node,
            format!("{what} is {shown}, not {}", expected(kind)),
            format!("expected {}", expected(kind)),
            None,
        );
    }

    fn object<'n>(&mut self, node: &'n Node, shape: &'static Shape) -> Option<Obj<'n>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            if node.is_null() && !shape.keys.iter().any(|k| k.required) {
                return Some(Obj {
                    entries: Vec::new(),
                });
            }
            self.problem(
                node,
                format!(
                    "`{}` must be a mapping, not {}",
                    shape.name,
                    node.kind_name()
                ),
                "expected a mapping",
                Some(format!(
                    "{}; keys: {}",
                    shape.doc,
                    shape.names().collect::<Vec<_>>().join(", ")
                )),
            );
            return None;
        };
        let mut obj = Obj {
            entries: Vec::new(),
        };
        for (key, value) in entries {
            let Some(name) = key.scalar() else {
                self.problem(
                    key,
                    format!("a `{}` key must be text", shape.name),
                    "not a key",
                    None,
                );
                continue;
            };
            if shape.key(name).is_none() {
                let help = match did_you_mean(name, shape.names()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "`{}` keys are: {}",
                        shape.name,
                        shape.names().collect::<Vec<_>>().join(", ")
                    ),
                };
                self.problem(
                    key,
                    format!("unknown key `{name}` in {}", shape.name),
                    format!("not a `{}` key", shape.name),
                    Some(help),
                );
                continue;
            }
            obj.entries.push((name, key, value));
        }
        for required in shape.keys.iter().filter(|k| k.required) {
            if obj.get(required.name).is_none() {
                let at = entries.first().map_or(node, |(k, _)| k);
                self.problem(
                    at,
                    format!("missing key `{}` in {}", required.name, shape.name),
                    format!("this {} has no `{}`", shape.name, required.name),
                    Some(format!("add `{}:` — {}", required.name, required.doc)),
                );
            }
        }
        Some(obj)
    }

    /// Decodes an optional key: `Ok(None)` when absent, `Err(())` when present but invalid
    /// (already reported), so that a caller checks every key before giving up.
    fn opt<T>(
        &mut self,
        node: Option<&Node>,
        decode: impl FnOnce(&mut Self, &Node) -> Option<T>,
    ) -> Result<Option<T>, ()> {
        match node {
            None => Ok(None),
            Some(node) => decode(self, node).map(Some).ok_or(()),
        }
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Scalar { text, .. } if !node.is_null() => Some(text.clone()),
            _ => {
                self.wrong(node, &Kind::Text, what);
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, min: i64, what: &str) -> Option<i64> {
        match node.scalar().and_then(|s| s.parse::<i64>().ok()) {
            Some(n) if n >= min => Some(n),
            _ => {
                self.wrong(node, &Kind::Integer { min }, what);
                None
            }
        }
    }

    fn count(&mut self, node: &Node, min: i64, what: &str) -> Option<u32> {
        self.integer(node, min, what)
            .and_then(|n| u32::try_from(n).ok())
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match (node.scalar(), &node.kind) {
            (Some("true"), NodeKind::Scalar { plain: true, .. }) => Some(true),
            (Some("false"), NodeKind::Scalar { plain: true, .. }) => Some(false),
            _ => {
                self.wrong(node, &Kind::Boolean, what);
                None
            }
        }
    }

    fn choice(
        &mut self,
        node: &Node,
        words: &'static [&'static str],
        what: &str,
    ) -> Option<&'static str> {
        let text = node.scalar()?;
        if let Some(word) = words.iter().find(|w| **w == text) {
            return Some(word);
        }
        let help = did_you_mean(text, words.iter().copied())
            .map(|close| format!("did you mean `{close}`?"));
        self.problem(
            node,
            format!("{what} is `{text}`, not {}", expected(&Kind::Choice(words))),
            "not a known value",
            help,
        );
        None
    }

    fn duration(&mut self, node: &Node, what: &str) -> Option<Span> {
        match node.scalar().map(str::parse::<Span>) {
            Some(Ok(span)) => Some(span),
            _ => {
                self.wrong(node, &Kind::Duration, what);
                None
            }
        }
    }

    fn period(&mut self, node: &Node, what: &str) -> Option<Period> {
        match node.scalar().map(str::parse::<Period>) {
            Some(Ok(period)) => Some(period),
            _ => {
                self.wrong(node, &Kind::Period, what);
                None
            }
        }
    }

    fn list<'n, T>(
        &mut self,
        node: &'n Node,
        what: &str,
        mut item: impl FnMut(&mut Self, &'n Node) -> Option<T>,
    ) -> Option<Vec<T>> {
        let NodeKind::Sequence(items) = &node.kind else {
            self.wrong(node, &Kind::List(&Kind::Text), what);
            return None;
        };
        let values: Vec<Option<T>> = items.iter().map(|n| item(self, n)).collect();
        values.into_iter().collect()
    }

    fn reference(&mut self, node: &Node, what: &str, needs_instance: bool) -> Option<Ref> {
        let name = self.text(node, what)?;
        let at = self.location(node);
        match self.captures.get(&name) {
            Some(capture) if needs_instance && !capture.has_instance => {
                let line = capture.line;
                self.problem(
                    node,
                    format!("step `{name}` (line {line}) has no instance"),
                    "not an instance",
                    Some("refer to the `as:` name of a purchase".into()),
                );
                None
            }
            Some(_) => Some(Ref { name, at }),
            None => {
                let names: Vec<String> = self.captures.keys().cloned().collect();
                let help = match did_you_mean(&name, names.iter().map(String::as_str)) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None if names.is_empty() => {
                        "name an earlier step with `as: NAME` to refer to it".into()
                    }
                    None => format!("earlier steps are named: {}", {
                        let mut n = names.clone();
                        n.sort();
                        n.join(", ")
                    }),
                };
                self.problem(
                    node,
                    format!("no earlier step is named `{name}`"),
                    "unknown name",
                    Some(help),
                );
                None
            }
        }
    }

    fn scenario(&mut self, root: &Node, file: &Path) -> Option<Scenario> {
        let obj = self.object(root, &schema::SCENARIO)?;
        let name = obj.get("name").and_then(|n| self.text(n, "the name"));
        let description = obj
            .get("description")
            .and_then(|n| self.text(n, "the description"));
        let tags = match obj.get("tags") {
            Some(n) => self
                .list(n, "tags", |d, item| d.text(item, "a tag"))
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let applies = match obj.get("applies") {
            Some(n) => self.applies(n).unwrap_or_default(),
            None => Applicability::default(),
        };
        let steps = match obj.get("steps") {
            Some(node) => {
                let NodeKind::Sequence(items) = &node.kind else {
                    self.wrong(node, &Kind::List(&Kind::Text), "`steps`");
                    return None;
                };
                if items.is_empty() {
                    self.problem(
                        node,
                        "a scenario needs at least one step",
                        "empty",
                        Some("add a step such as `- purchase: {}`".into()),
                    );
                }
                items
                    .iter()
                    .filter_map(|item| self.step(item))
                    .collect::<Vec<_>>()
            }
            None => Vec::new(),
        };
        Some(Scenario {
            file: file.to_owned(),
            name: name?,
            description,
            tags,
            applies,
            steps,
        })
    }

    fn applies(&mut self, node: &Node) -> Option<Applicability> {
        let obj = self.object(node, &schema::APPLIES)?;
        let mut applies = Applicability::default();
        if let Some(n) = obj.get("protocols") {
            applies.protocols = self.list(n, "a protocol", |d, item| {
                d.choice(item, schema::PROTOCOLS, "the protocol")
                    .and_then(|p| p.parse::<Protocol>().ok())
            })?;
        }
        if let Some(n) = obj.get("billing") {
            applies.billing = self.list(n, "a billing mode", |d, item| {
                d.choice(item, schema::BILLING, "the billing mode")
                    .and_then(|b| b.parse::<BillingMode>().ok())
            })?;
        }
        if let Some(n) = obj.get("requires") {
            applies.requires = self.list(n, "an interface", |d, item| {
                let name = d.choice(item, schema::INTERFACES, "the interface")?;
                Interface::ALL.into_iter().find(|i| i.name() == name)
            })?;
        }
        Some(applies)
    }

    /// Registers a step's `as:` name (even when the step has problems, so that later
    /// references to it do not add errors of their own).
    fn capture(
        &mut self,
        node: Option<&Node>,
        at: Location,
        has_instance: bool,
    ) -> Result<Option<String>, ()> {
        let Some(node) = node else { return Ok(None) };
        let name = self.text(node, "the step name").ok_or(())?;
        if let Some(previous) = self.captures.get(&name) {
            let line = previous.line;
            self.problem(
                node,
                format!("`{name}` already names the step at line {line}"),
                "duplicate name",
                Some("pick another name".into()),
            );
            return Err(());
        }
        self.captures.insert(
            name.clone(),
            Capture {
                line: at.line,
                has_instance,
            },
        );
        Ok(Some(name))
    }

    fn step(&mut self, node: &Node) -> Option<Step> {
        let obj = self.object(node, &schema::STEP)?;
        let at = self.location(node);
        let actions: Vec<&str> = obj
            .entries
            .iter()
            .map(|(k, _, _)| *k)
            .filter(|k| schema::action_keys().any(|a| a == *k))
            .collect();
        let is_purchase = actions.first() == Some(&"purchase");
        let action_name = match actions.as_slice() {
            [one] => *one,
            [] => {
                let at_key = obj.entries.first().map_or(node, |(_, key, _)| *key);
                self.problem(
                    at_key,
                    "this step has no action",
                    "a step does one thing",
                    Some(format!(
                        "add one of: {}",
                        schema::action_keys().collect::<Vec<_>>().join(", ")
                    )),
                );
                let _ = self.capture(obj.get("as"), at, false);
                return None;
            }
            [first, second, ..] => {
                let second_node = obj.key_node(second).unwrap_or(node);
                self.problem(
                    second_node,
                    format!("this step has two actions, `{first}` and `{second}`"),
                    "second action",
                    Some("split it into two steps".into()),
                );
                let _ = self.capture(obj.get("as"), at, is_purchase);
                return None;
            }
        };
        let action_node = obj.get(action_name).unwrap_or(node);
        let action = self.action(action_name, action_node);
        let faults = self.opt(obj.get("faults"), Self::faults);
        let check = self.opt(obj.get("check"), Self::check_id);
        let expect = self.opt(obj.get("expect"), |d, n| d.expect(n, action.as_ref()));
        let capture = self.capture(obj.get("as"), at, is_purchase);
        let (Some(action), Ok(faults), Ok(check), Ok(expect), Ok(capture)) =
            (action, faults, check, expect, capture)
        else {
            return None;
        };
        let (subject, expect) = expect.unwrap_or_default();
        Some(Step {
            at,
            action,
            capture,
            faults: faults.unwrap_or_else(|| Faults {
                copies: 1,
                ..Faults::default()
            }),
            expect,
            subject,
            check,
        })
    }

    fn check_id(&mut self, node: &Node) -> Option<&'static str> {
        let text = self.text(node, "the check")?;
        if let Some(id) = self.known_checks.iter().find(|id| **id == text) {
            return Some(id);
        }
        let help = did_you_mean(&text, self.known_checks.iter().copied()).map_or_else(
            || "`kgsim checks` lists the check ids".to_owned(),
            |close| format!("did you mean `{close}`?"),
        );
        self.problem(
            node,
            format!("unknown check `{text}`"),
            "not a check id",
            Some(help),
        );
        None
    }

    fn instance_of(&mut self, node: &Node, shape: &'static Shape) -> Option<(Ref, Option<Period>)> {
        let obj = self.object(node, shape)?;
        let instance = obj
            .get("instance")
            .and_then(|n| self.reference(n, "the instance", true));
        let period = match obj.get("period") {
            Some(n) => Some(self.period(n, "the period")?),
            None => None,
        };
        Some((instance?, period))
    }

    fn action(&mut self, name: &str, node: &Node) -> Option<Action> {
        let instance = |d: &mut Self| d.reference(node, "the instance", true);
        Some(match name {
            "purchase" => {
                let obj = self.object(node, &schema::PURCHASE)?;
                let billing = self.opt(obj.get("billing"), |d, n| {
                    d.choice(n, schema::BILLING, "the billing mode")
                        .and_then(|b| b.parse().ok())
                });
                let period = self.opt(obj.get("period"), |d, n| d.period(n, "the period"));
                let trial = self.opt(obj.get("trial"), |d, n| d.boolean(n, "trial"));
                let products = self.opt(obj.get("products"), |d, n| d.count(n, 1, "products"));
                let (Ok(billing), Ok(period), Ok(trial), Ok(products)) =
                    (billing, period, trial, products)
                else {
                    return None;
                };
                Action::Purchase {
                    billing,
                    period,
                    trial: trial.unwrap_or(false),
                    products: products.unwrap_or(1),
                }
            }
            "resend" => Action::Resend(self.reference(node, "the step to re-send", false)?),
            "restart" => Action::Restart(self.reference(node, "the step to restart", false)?),
            "renew" => {
                let (instance, period) = self.instance_of(node, &schema::RENEW)?;
                Action::Renew { instance, period }
            }
            "convert-trial" => {
                let (instance, period) = self.instance_of(node, &schema::RENEW)?;
                Action::ConvertTrial { instance, period }
            }
            "refund-renewal" => Action::RefundRenewal(instance(self)?),
            "upgrade" => Action::Upgrade(instance(self)?),
            "freeze" => Action::Freeze(instance(self)?),
            "unfreeze" => Action::Unfreeze(instance(self)?),
            "expire" => Action::Expire(instance(self)?),
            "unsubscribe" => Action::Unsubscribe(instance(self)?),
            "change-check" => Action::ChangeCheck(instance(self)?),
            "query" => {
                let obj = self.object(node, &schema::QUERY)?;
                let instances = match obj.get("instances") {
                    Some(n) => self.list(n, "an instance", |d, item| {
                        d.reference(item, "the instance", true)
                    })?,
                    None => Vec::new(),
                };
                let unknown = match obj.get("unknown") {
                    Some(n) => self.count(n, 0, "unknown")?,
                    None => 0,
                };
                if instances.is_empty() && unknown == 0 {
                    self.problem(
                        node,
                        "this query names no instance",
                        "empty batch",
                        Some("add `instances: [NAME]` or `unknown: 1`".into()),
                    );
                    return None;
                }
                Action::Query { instances, unknown }
            }
            "debug" => {
                let obj = self.object(node, &schema::DEBUG)?;
                let activities = match obj.get("activities") {
                    Some(n) if n.scalar() == Some("all") => Activity::ALL.to_vec(),
                    Some(n) => self.list(n, "an activity", |d, item| d.activity(item))?,
                    None => Activity::ALL.to_vec(),
                };
                let variant = match obj.get("variant") {
                    Some(n) => Some(self.count(n, 0, "variant")? as usize),
                    None => None,
                };
                let repeat = match obj.get("repeat") {
                    Some(n) => self.count(n, 1, "repeat")?,
                    None => 1,
                };
                Action::Debug(DebugCases {
                    activities,
                    variant,
                    repeat,
                })
            }
            "send" => {
                let obj = self.object(node, &schema::SEND)?;
                let activity = obj.get("activity").and_then(|n| self.activity(n));
                let instance = match obj.get("instance") {
                    Some(n) if n.scalar() == Some("unknown") => None,
                    Some(n) => Some(self.reference(n, "the instance", true)?),
                    None => None,
                };
                Action::Send {
                    activity: activity?,
                    instance,
                }
            }
            "advance" => {
                let text = node.scalar().unwrap_or_default();
                if let Ok(period) = text.parse::<Period>() {
                    Action::Advance(Advance::Period(period))
                } else if let Ok(span) = text.parse::<Span>() {
                    Action::Advance(Advance::Span(span))
                } else {
                    self.wrong(node, &Kind::DurationOrPeriod, "`advance`");
                    return None;
                }
            }
            _ => return None,
        })
    }

    fn activity(&mut self, node: &Node) -> Option<Activity> {
        let slug = self.choice(node, schema::ACTIVITIES, "the activity")?;
        Activity::ALL.into_iter().find(|a| a.slug() == slug)
    }

    fn attempts(&mut self, node: &Node, what: &str) -> Option<Attempts> {
        if node.scalar() == Some("all") {
            return Some(Attempts::All);
        }
        let list = self.list(node, what, |d, item| d.count(item, 1, "an attempt number"))?;
        Some(Attempts::Only(list))
    }

    fn faults(&mut self, node: &Node) -> Option<Faults> {
        let obj = self.object(node, &schema::FAULTS)?;
        let drop_response = self.opt(obj.get("drop-response"), |d, n| {
            d.attempts(n, "drop-response")
        });
        let fail_before_send = self.opt(obj.get("fail-before-send"), |d, n| {
            d.attempts(n, "fail-before-send")
        });
        let tamper = self.opt(obj.get("tamper"), |d, n| {
            d.choice(n, schema::TAMPERS, "the tamper")
                .map(|kind| match kind {
                    "signature" => Tamper::Signature,
                    "missing-signature" => Tamper::MissingSignature,
                    "parameter" => Tamper::Parameter,
                    _ => Tamper::StaleTimestamp(STALE_BY),
                })
        });
        let edit = self.opt(obj.get("edit"), Self::edit);
        let delay = self.opt(obj.get("delay"), |d, n| d.duration(n, "the delay"));
        let copies = self.opt(obj.get("copies"), |d, n| d.count(n, 1, "copies"));
        let (Ok(drop_response), Ok(fail_before_send), Ok(tamper), Ok(edit), Ok(delay), Ok(copies)) =
            (drop_response, fail_before_send, tamper, edit, delay, copies)
        else {
            return None;
        };
        Some(Faults {
            drop_response: drop_response.unwrap_or_default(),
            fail_before_send: fail_before_send.unwrap_or_default(),
            tamper,
            edit: edit.unwrap_or_default(),
            delay: delay.unwrap_or_default(),
            copies: copies.unwrap_or(1),
        })
    }

    fn edit(&mut self, node: &Node) -> Option<Edit> {
        let obj = self.object(node, &schema::EDIT)?;
        let set = self.opt(obj.get("set"), |d, set| {
            let NodeKind::Mapping(entries) = &set.kind else {
                d.wrong(set, &Kind::TextMap, "`set`");
                return None;
            };
            let pairs: Vec<Option<(String, String)>> = entries
                .iter()
                .map(|(k, v)| {
                    let name = d.text(k, "a parameter name");
                    let value = d.text(v, "a parameter value");
                    name.zip(value)
                })
                .collect();
            pairs.into_iter().collect::<Option<Vec<_>>>()
        });
        let remove = self.opt(obj.get("remove"), |d, n| {
            d.list(n, "a parameter name", |d, item| {
                d.text(item, "a parameter name")
            })
        });
        let (Ok(set), Ok(remove)) = (set, remove) else {
            return None;
        };
        Some(Edit {
            set: set.unwrap_or_default(),
            remove: remove.unwrap_or_default(),
        })
    }

    fn expect(
        &mut self,
        node: &Node,
        action: Option<&Action>,
    ) -> Option<(Option<Ref>, Vec<Expectation>)> {
        let obj = self.object(node, &schema::EXPECT)?;
        let subject = match obj.get("of") {
            Some(n) => Some(self.reference(n, "the subject", false)?),
            None => None,
        };
        let own_subject = matches!(
            action,
            Some(
                Action::Purchase { .. }
                    | Action::Renew { .. }
                    | Action::ConvertTrial { .. }
                    | Action::RefundRenewal(_)
                    | Action::Upgrade(_)
                    | Action::Freeze(_)
                    | Action::Unfreeze(_)
                    | Action::Expire(_)
                    | Action::Unsubscribe(_)
            )
        );
        let mut expectations = Vec::new();
        let mut valid = true;
        for (key, key_node, value) in &obj.entries {
            let at = self.location(key_node);
            if *key == "of" {
                continue;
            }
            let Some(expect) = self.expectation(key, value) else {
                valid = false;
                continue;
            };
            let needs_subject = matches!(
                expect,
                Expect::Order(_) | Expect::Instance(_) | Expect::SettledAfter(_)
            );
            if needs_subject && subject.is_none() && !own_subject {
                self.problem(
                    key_node,
                    format!(
                        "`{key}` needs a subject: this step has no order or instance of its own"
                    ),
                    "no subject",
                    Some(
                        "add `of: NAME` to say which earlier step's order or instance is meant"
                            .into(),
                    ),
                );
                valid = false;
                continue;
            }
            expectations.push(Expectation { expect, at });
        }
        if !valid {
            return None;
        }
        Some((subject, expectations))
    }

    fn expectation(&mut self, key: &str, value: &Node) -> Option<Expect> {
        Some(match key {
            "result" => Expect::Result(self.result_codes(value)?),
            "same-instance-as" => {
                Expect::SameInstance(self.reference(value, "the instance", true)?)
            }
            "different-instance-from" => {
                Expect::DifferentInstance(self.reference(value, "the instance", true)?)
            }
            "same-app-info-as" => {
                Expect::SameAppInfo(self.reference(value, "the instance", true)?)
            }
            "instances" => Expect::DistinctInstances(self.count(value, 0, "instances")?),
            "order" => Expect::Order(
                self.choice(value, schema::ORDER_STATES, "the order state")?
                    .to_owned(),
            ),
            "instance" => Expect::Instance(
                self.choice(value, schema::INSTANCE_STATES, "the instance state")?
                    .to_owned(),
            ),
            "attempts" => Expect::Attempts(self.count(value, 0, "attempts")?),
            "attempt-times" => Expect::AttemptTimes(self.list(value, "a time", |d, item| {
                d.duration(item, "an attempt time")
            })?),
            "settled-after" => Expect::SettledAfter(self.duration(value, "settled-after")?),
            "listed" => Expect::Listed(self.count(value, 0, "listed")?),
            _ => return None,
        })
    }

    fn result_codes(&mut self, node: &Node) -> Option<ResultExpectation> {
        let valid = |code: &str| code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        match &node.kind {
            NodeKind::Scalar { text, .. } if text == "rejected" => {
                Some(ResultExpectation::Rejected)
            }
            NodeKind::Scalar { text, .. } if valid(text) => {
                Some(ResultExpectation::OneOf(vec![text.clone()]))
            }
            NodeKind::Sequence(items) => {
                let codes: Option<Vec<String>> = items
                    .iter()
                    .map(|item| match item.scalar() {
                        Some(code) if valid(code) => Some(code.to_owned()),
                        _ => {
                            self.wrong(item, &Kind::ResultCodes, "a result code");
                            None
                        }
                    })
                    .collect();
                codes.map(ResultExpectation::OneOf)
            }
            _ => {
                self.wrong(node, &Kind::ResultCodes, "the result");
                if let Some(problem) = self.problems.pop() {
                    self.problems.push(problem.with_help(
                        "result codes have six digits, written in quotes: \"000000\", \"000001\"",
                    ));
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECKS: &[&str] = &["security.forged-signature", "lifecycle.order-state"];

    fn problems(text: &str) -> Vec<(usize, usize, String, Option<String>)> {
        match load("t.yaml", text, CHECKS) {
            Ok(_) => vec![],
            Err(file) => file
                .problems
                .iter()
                .map(|p| {
                    (
                        p.location().0,
                        p.location().1,
                        p.message().to_owned(),
                        p.help().map(str::to_owned),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn loads_a_full_scenario() {
        let text = r#"
name: resend
description: same order, same instance
tags: [idempotency, listing]
applies: {protocols: [v1], billing: [period, package], requires: [upgrade]}
steps:
  - purchase: {period: 1 year}
    as: first
    expect: {result: "000000", order: opened}
  - resend: first
    faults: {copies: 3, drop-response: [1], tamper: stale-timestamp, edit: {set: {activity: nope}, remove: [orderId]}}
    expect: {same-instance-as: first, instances: 1}
  - advance: 1 month
    expect: {of: first, instance: frozen, attempt-times: [0s, 1h]}
  - send: {activity: expire-instance, instance: unknown}
    check: security.forged-signature
    expect: {result: ["000003"]}
  - debug: {activities: all, repeat: 2}
"#;
        let scenario = load("t.yaml", text, CHECKS).unwrap();
        assert_eq!(scenario.steps.len(), 5);
        assert_eq!(scenario.applies.requires, vec![Interface::Upgrade]);
        assert_eq!(scenario.steps[0].capture.as_deref(), Some("first"));
        assert_eq!(scenario.steps[1].faults.copies, 3);
        assert_eq!(
            scenario.steps[1].faults.edit.remove,
            vec!["orderId".to_owned()]
        );
        assert_eq!(scenario.steps[2].subject.as_ref().unwrap().name, "first");
        assert_eq!(scenario.steps[3].check, Some("security.forged-signature"));
        assert_eq!(scenario.steps[1].at.line, 10);
        assert_eq!(
            scenario.steps[1].expect[0].at,
            Location { line: 12, col: 14 }
        );
    }

    #[test]
    fn reports_every_problem_of_a_file_at_once_with_hints() {
        let text = "name: x\nsteps:\n  - purchase: {}\n    expcet: {result: \"000000\"}\n  - renew: {instance: frist}\n  - advance: 3x\n";
        let found = problems(text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (4, 5));
        assert!(found[0].2.contains("unknown key `expcet`"));
        assert_eq!(found[0].3.as_deref(), Some("did you mean `expect`?"));
        assert!(found[1].2.contains("no earlier step is named `frist`"));
        assert!(found[2].2.contains("`3x`"));
    }

    #[test]
    fn structural_problems() {
        assert!(
            problems("steps: []\n")
                .iter()
                .any(|p| p.2 == "missing key `name` in scenario")
        );
        assert!(
            problems("name: x\nsteps:\n  - as: a\n")
                .iter()
                .any(|p| p.2 == "this step has no action")
        );
        assert!(
            problems("name: x\nsteps:\n  - purchase: {}\n    advance: 1h\n")
                .iter()
                .any(|p| p.2.contains("two actions"))
        );
        assert!(
            problems("name: x\nsteps:\n  - advance: 1h\n    expect: {order: opened}\n")
                .iter()
                .any(|p| p.2.contains("needs a subject"))
        );
        assert!(
            problems("name: x\nsteps:\n  - purchase: {}\n    check: security.forged\n")[0]
                .3
                .as_deref()
                == Some("did you mean `security.forged-signature`?")
        );
        assert!(
            problems("name: x\nsteps:\n  - purchase: {billing: ondemand}\n")[0]
                .3
                .as_deref()
                == Some("did you mean `on-demand`?")
        );
        assert!(
            problems("name: x\nsteps:\n  - purchase: {}\n    expect: {result: 0}\n")[0]
                .2
                .contains("not a quoted result code")
        );
        assert!(
            problems("name: x\nsteps: [\n")
                .iter()
                .any(|p| p.2.starts_with("invalid YAML"))
        );
        assert!(
            problems("name: x\nsteps:\n  - purchase: {}\n    as: a\n  - purchase: {}\n    as: a\n")
                [0]
            .2
            .contains("already names")
        );
        assert!(
            problems("name: x\nsteps:\n  - advance: 1h\n    as: t\n  - renew: {instance: t}\n")[0]
                .2
                .contains("has no instance")
        );
    }
}
