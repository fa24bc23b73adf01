//! Decoding a scenario file: YAML → typed [`Scenario`], checking every key against the format's
//! tables ([`crate::scenario::format::schema`]) and every value against its kind and range, and
//! collecting every problem of the file with its span, so that an author sees all of them at
//! once.
//!
//! Every decoding function returns [`Decoded`]: a value, or [`Reported`] — the proof, which
//! only the diagnostics [`Sink`] can make, that the user was told why. A file cannot be found
//! invalid without a diagnostic. Value ranges come from the schema's own `Kind`s, so that the
//! published JSON Schema and the decoder cannot drift.
//!
//! The decoding of steps ([`step`]), of their actions ([`action`]), faults ([`faults`]) and
//! expectations ([`expect`]) each live in their own file; this one holds the primitives.

mod action;
mod expect;
mod faults;
mod step;

use std::collections::HashMap;

use crate::marketplace::Span;
use crate::protocol::Period;
use crate::scenario::format::diagnostics::{
    FileProblems, Problem, Reported, Sink, SourceFile, did_you_mean,
};
use crate::scenario::format::model::{Location, Ref, Scenario};
use crate::scenario::format::schema::{Kind, MAX_SPAN, Shape};
use crate::scenario::format::yaml::{self, Node, NodeKind};

/// A decoded value, or the proof that its problem was reported.
pub(crate) type Decoded<T> = Result<T, Reported>;

/// How long a stale-timestamp tamper backdates a V2 request: well past the 60 s window.
pub(crate) const STALE_BY: Span = Span::minutes(5);

/// Decodes one scenario from its text; `name` is the file as the user named it.
pub fn decode(name: &str, text: &str) -> Result<Scenario, FileProblems> {
    let file = SourceFile::new(name, text);
    let mut decoder = Decoder {
        file: &file,
        sink: Sink::default(),
        captures: HashMap::new(),
    };
    let decoded = match yaml::parse(text) {
        Ok(root) => decoder.scenario(&root, name),
        Err(error) => {
            let span = file.span(error.at, error.at + 1);
            let problem = Problem::new(&file, span, error.message, "here").with_help(error.help);
            Err(decoder.sink.report(problem))
        }
    };
    match decoded {
        Ok(scenario) if decoder.sink.is_empty() => Ok(scenario),
        _ => Err(decoder.sink.into_file_problems(name)),
    }
}

/// What a capture name stands for, to check references as the file is read.
#[derive(Debug, Clone, Copy)]
struct Capture {
    line: usize,
    has_instance: bool,
    has_enterprise: bool,
}

struct Decoder<'a> {
    file: &'a SourceFile,
    sink: Sink,
    captures: HashMap<String, Capture>,
}

/// A mapping checked against its shape: only known keys, each with its key node.
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

/// What a kind of value looks like, for messages.
fn expected(kind: &Kind) -> String {
    match kind {
        Kind::Text | Kind::Ref => "text".into(),
        Kind::Integer { min, max } => format!("a whole number from {min} to {max}"),
        Kind::Boolean => "true or false".into(),
        Kind::Choice(words) => format!("one of {}", words.join(", ")),
        Kind::Duration => format!("a duration such as 3h, 30m, 15d (at most {MAX_SPAN})"),
        Kind::Period => "a period such as 1 month, 1 year, 7 days".into(),
        Kind::DurationOrPeriod => "a duration (3h, 15d) or a period (1 month)".into(),
        Kind::List(_) => "a list".into(),
        Kind::AllOr(_) => "`all` or a list".into(),
        Kind::Object(shape) => format!("a `{}` mapping", shape.name),
        Kind::TextMap => "a mapping of names to text".into(),
        Kind::ResultCodes => {
            "a quoted result code such as \"000000\", a list of them, or `rejected`".into()
        }
        Kind::Check => "a check id (`kgsim checks` lists them)".into(),
    }
}

impl Decoder<'_> {
    fn location(node: &Node) -> Location {
        Location {
            line: node.line_col.0,
            col: node.line_col.1,
        }
    }

    fn problem(
        &mut self,
        node: &Node,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Reported {
        let end = node.span.end.max(node.span.start + 1);
        let mut problem = Problem::new(
            self.file,
            self.file.span(node.span.start, end),
            message,
            label,
        );
        if let Some(help) = help {
            problem = problem.with_help(help);
        }
        self.sink.report(problem)
    }

    fn wrong(&mut self, node: &Node, kind: &Kind, what: &str) -> Reported {
        let shown = node
            .scalar()
            .map_or_else(|| node.kind_name().to_owned(), |s| format!("`{s}`"));
        self.problem(
            node,
            format!("{what} is {shown}, not {}", expected(kind)),
            format!("expected {}", expected(kind)),
            None,
        )
    }

    /// Checks a mapping against its shape: unknown keys are reported (with a did-you-mean);
    /// the known keys are returned either way. Required keys are asked for with
    /// [`Self::required`].
    fn object<'n>(&mut self, node: &'n Node, shape: &'static Shape) -> Decoded<Obj<'n>> {
        let NodeKind::Mapping(entries) = &node.kind else {
            if node.is_null() && !shape.keys.iter().any(|k| k.required) {
                return Ok(Obj {
                    entries: Vec::new(),
                });
            }
            let keys = shape.names().collect::<Vec<_>>().join(", ");
            return Err(self.problem(
                node,
                format!(
                    "`{}` must be a mapping, not {}",
                    shape.name,
                    node.kind_name()
                ),
                "expected a mapping",
                Some(format!("{}; keys: {keys}", shape.doc)),
            ));
        };
        let mut obj = Obj {
            entries: Vec::new(),
        };
        for (key, value) in entries {
            match key.scalar() {
                Some(name) if shape.key(name).is_some() => obj.entries.push((name, key, value)),
                Some(name) => {
                    self.unknown_key(key, name, shape);
                }
                None => {
                    let message = format!("a `{}` key must be text", shape.name);
                    self.problem(key, message, "not a key", None);
                }
            }
        }
        Ok(obj)
    }

    /// A key the shape requires (`required` in the schema): its value, or the problem that it
    /// is missing, reported at the mapping's first key.
    fn required<'n>(
        &mut self,
        obj: &Obj<'n>,
        node: &'n Node,
        shape: &'static Shape,
        name: &str,
    ) -> Decoded<&'n Node> {
        if let Some(value) = obj.get(name) {
            return Ok(value);
        }
        let doc = shape.key(name).map_or("", |k| k.doc);
        let at = obj.entries.first().map_or(node, |(_, key, _)| key);
        Err(self.problem(
            at,
            format!("missing key `{name}` in {}", shape.name),
            format!("this {} has no `{name}`", shape.name),
            Some(format!("add `{name}:` — {doc}")),
        ))
    }

    fn unknown_key(&mut self, key: &Node, name: &str, shape: &'static Shape) -> Reported {
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
        )
    }

    /// Decodes an optional key: `Ok(None)` when absent.
    fn opt<T>(
        &mut self,
        node: Option<&Node>,
        decode: impl FnOnce(&mut Self, &Node) -> Decoded<T>,
    ) -> Decoded<Option<T>> {
        node.map(|node| decode(self, node)).transpose()
    }

    fn text(&mut self, node: &Node, what: &str) -> Decoded<String> {
        match &node.kind {
            NodeKind::Scalar { text, .. } if !node.is_null() => Ok(text.clone()),
            _ => Err(self.wrong(node, &Kind::Text, what)),
        }
    }

    /// A whole number within the range of its schema `kind` (an `Integer`).
    fn integer(&mut self, node: &Node, kind: &Kind, what: &str) -> Decoded<u32> {
        let Kind::Integer { min, max } = *kind else {
            return Err(self.wrong(node, kind, what));
        };
        match node.scalar().and_then(|s| s.parse::<i64>().ok()) {
            Some(n) if (i64::from(min)..=i64::from(max)).contains(&n) => {
                Ok(u32::try_from(n).unwrap_or(max))
            }
            _ => Err(self.wrong(node, kind, what)),
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Decoded<bool> {
        match (node.scalar(), &node.kind) {
            (Some("true"), NodeKind::Scalar { plain: true, .. }) => Ok(true),
            (Some("false"), NodeKind::Scalar { plain: true, .. }) => Ok(false),
            _ => Err(self.wrong(node, &Kind::Boolean, what)),
        }
    }

    fn choice(
        &mut self,
        node: &Node,
        words: &'static [&'static str],
        what: &str,
    ) -> Decoded<&'static str> {
        let Some(text) = node.scalar() else {
            return Err(self.wrong(node, &Kind::Choice(words), what));
        };
        if let Some(word) = words.iter().find(|w| **w == text) {
            return Ok(word);
        }
        let help = did_you_mean(text, words.iter().copied())
            .map(|close| format!("did you mean `{close}`?"));
        let message = format!("{what} is `{text}`, not {}", expected(&Kind::Choice(words)));
        Err(self.problem(node, message, "not a known value", help))
    }

    fn duration(&mut self, node: &Node, what: &str) -> Decoded<Span> {
        match node.scalar().map(str::parse::<Span>) {
            Some(Ok(span)) if span <= MAX_SPAN => Ok(span),
            _ => Err(self.wrong(node, &Kind::Duration, what)),
        }
    }

    fn period(&mut self, node: &Node, what: &str) -> Decoded<Period> {
        match node.scalar().map(str::parse::<Period>) {
            Some(Ok(period)) if period_within_bounds(period) => Ok(period),
            _ => Err(self.wrong(node, &Kind::Period, what)),
        }
    }

    /// A list whose items each decode; every item is checked before giving up.
    fn list<'n, T>(
        &mut self,
        node: &'n Node,
        what: &str,
        mut item: impl FnMut(&mut Self, &'n Node) -> Decoded<T>,
    ) -> Decoded<Vec<T>> {
        let NodeKind::Sequence(items) = &node.kind else {
            return Err(self.wrong(node, &Kind::List(&Kind::Text), what));
        };
        let values: Vec<Decoded<T>> = items.iter().map(|n| item(self, n)).collect();
        values.into_iter().collect()
    }

    fn reference(&mut self, node: &Node, what: &str, needs_instance: bool) -> Decoded<Ref> {
        let name = self.text(node, what)?;
        let at = Self::location(node);
        match self.captures.get(&name) {
            Some(capture) if needs_instance && !capture.has_instance => {
                let line = capture.line;
                Err(self.problem(
                    node,
                    format!("step `{name}` (line {line}) has no instance"),
                    "not an instance",
                    Some("refer to the `as:` name of a purchase".into()),
                ))
            }
            Some(_) => Ok(Ref { name, at }),
            None => {
                let help = self.reference_help(&name);
                let message = format!("no earlier step is named `{name}`");
                Err(self.problem(node, message, "unknown name", Some(help)))
            }
        }
    }

    /// A reference to a step that announced a Kit enterprise.
    fn enterprise_reference(&mut self, node: &Node) -> Decoded<Ref> {
        let reference = self.reference(node, "the enterprise", false)?;
        match self.captures.get(&reference.name) {
            Some(capture) if !capture.has_enterprise => {
                let line = capture.line;
                Err(self.problem(
                    node,
                    format!("step `{}` (line {line}) announced no enterprise", reference.name),
                    "not an enterprise",
                    Some(
                        "refer to the `as:` name of a bind-enterprise, apply-credential or kit-sync step"
                            .into(),
                    ),
                ))
            }
            _ => Ok(reference),
        }
    }

    fn reference_help(&self, name: &str) -> String {
        let mut names: Vec<&str> = self.captures.keys().map(String::as_str).collect();
        names.sort_unstable();
        match did_you_mean(name, names.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None if names.is_empty() => {
                "name an earlier step with `as: NAME` to refer to it".into()
            }
            None => format!("earlier steps are named: {}", names.join(", ")),
        }
    }
}

/// Whether a period stays within [`MAX_SPAN`].
fn period_within_bounds(period: Period) -> bool {
    let start = crate::protocol::UnixMillis(0);
    period.end_from(start) <= start.plus_ms(MAX_SPAN.as_millis())
}

#[cfg(test)]
mod tests;
