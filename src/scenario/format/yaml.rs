//! A YAML document as a small tree of nodes that remember where they were written, built from
//! saphyr-parser's event stream without resolving scalars — so `000000` stays text and kgsim,
//! not the YAML core schema, decides what each value means.
//!
//! The tree is built with an explicit stack, never by recursion, and refuses nesting deeper
//! than [`MAX_DEPTH`]: a hostile file of 20,000 nested lists is an error message, not a stack
//! overflow. Only one document is read: anything after a `---` would otherwise be ignored
//! silently, so a second document is an error. Aliases, tags and duplicate keys are errors
//! too (the format has no use for them, and each hides what a reader sees).

use std::collections::HashSet;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// How deeply mappings and sequences may nest (a scenario needs six levels).
pub(crate) const MAX_DEPTH: usize = 64;

/// A span of characters, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CharSpan {
    /// First character.
    pub(crate) start: usize,
    /// One past the last character.
    pub(crate) end: usize,
}

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where it is, in characters.
    pub(crate) span: CharSpan,
    /// Its 1-based line and column.
    pub(crate) line_col: (usize, usize),
    /// What it is.
    pub(crate) kind: NodeKind,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// A scalar, as written.
    Scalar {
        /// Its text.
        text: String,
        /// Whether it was plain (unquoted): only plain scalars can be null, booleans or numbers.
        plain: bool,
    },
    /// A sequence.
    Sequence(Vec<Node>),
    /// A mapping, in source order.
    Mapping(Vec<(Node, Node)>),
}

impl Node {
    /// A short name of the node's kind for messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { plain: true, text } if is_null(text) => "nothing",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a mapping",
        }
    }

    /// Whether the node is an explicit or empty null.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true } if is_null(text))
    }

    /// The scalar text, if a scalar.
    pub(crate) fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    fn null() -> Self {
        Self {
            span: CharSpan::default(),
            line_col: (1, 1),
            kind: NodeKind::Scalar {
                text: String::new(),
                plain: true,
            },
        }
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// The document could not be read as the format's YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where, as a character index.
    pub(crate) at: usize,
    /// What went wrong.
    pub(crate) message: String,
    /// How to fix it.
    pub(crate) help: &'static str,
}

impl SyntaxError {
    fn new(at: usize, message: impl Into<String>, help: &'static str) -> Self {
        Self {
            at,
            message: message.into(),
            help,
        }
    }
}

/// A collection being built.
enum Open {
    Sequence(Node),
    Mapping(Node, Option<Node>),
}

/// Builds the tree from events with an explicit stack.
struct Builder {
    stack: Vec<Open>,
    root: Option<Node>,
    documents: usize,
}

impl Builder {
    fn node(span: saphyr_parser::Span, kind: NodeKind) -> Node {
        Node {
            span: CharSpan {
                start: span.start.index(),
                end: span.end.index(),
            },
            line_col: (span.start.line(), span.start.col() + 1),
            kind,
        }
    }

    /// Places a finished node in the collection being built, or as the root.
    fn place(&mut self, node: Node) -> Result<(), SyntaxError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Sequence(seq)) => {
                if let NodeKind::Sequence(items) = &mut seq.kind {
                    items.push(node);
                }
            }
            Some(Open::Mapping(_, pending @ None)) => *pending = Some(node),
            Some(Open::Mapping(map, pending @ Some(_))) => {
                if let (NodeKind::Mapping(entries), Some(key)) = (&mut map.kind, pending.take()) {
                    entries.push((key, node));
                }
            }
        }
        Ok(())
    }

    fn open(&mut self, open: Open, at: usize) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError::new(
                at,
                format!("the document nests deeper than {MAX_DEPTH} levels"),
                "a scenario needs a handful of levels; flatten the lists and mappings",
            ));
        }
        self.stack.push(open);
        Ok(())
    }

    fn close(&mut self, end: usize) -> Result<(), SyntaxError> {
        let node = match self.stack.pop() {
            Some(Open::Sequence(mut node)) => {
                node.span.end = end;
                node
            }
            Some(Open::Mapping(mut node, _)) => {
                node.span.end = end;
                check_unique_keys(&node)?;
                node
            }
            None => return Ok(()),
        };
        self.place(node)
    }

    fn on_event(&mut self, event: Event<'_>, span: saphyr_parser::Span) -> Result<(), SyntaxError> {
        let at = span.start.index();
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(SyntaxError::new(
                        at,
                        "a second YAML document follows the scenario",
                        "a scenario file holds one document: remove the `---` and what follows, or put it in its own file",
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(unsupported(at, "anchors and tags"));
                }
                let plain = style == ScalarStyle::Plain;
                let text = text.into_owned();
                self.place(Self::node(span, NodeKind::Scalar { text, plain }))?;
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag)
                if anchor != 0 || tag.is_some() =>
            {
                return Err(unsupported(at, "anchors and tags"));
            }
            Event::SequenceStart(..) => {
                let node = Self::node(span, NodeKind::Sequence(Vec::new()));
                self.open(Open::Sequence(node), at)?;
            }
            Event::MappingStart(..) => {
                let node = Self::node(span, NodeKind::Mapping(Vec::new()));
                self.open(Open::Mapping(node, None), at)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span.end.index())?,
            Event::Alias(_) => return Err(unsupported(at, "aliases")),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }
}

fn unsupported(at: usize, what: &str) -> SyntaxError {
    SyntaxError::new(
        at,
        format!("{what} are not part of the scenario format"),
        "write the value out where it is used",
    )
}

fn check_unique_keys(mapping: &Node) -> Result<(), SyntaxError> {
    let NodeKind::Mapping(entries) = &mapping.kind else {
        return Ok(());
    };
    let mut seen = HashSet::with_capacity(entries.len());
    for (key, _) in entries {
        if let Some(text) = key.scalar()
            && !seen.insert(text)
        {
            return Err(SyntaxError::new(
                key.span.start,
                format!("duplicate key `{text}`"),
                "each key appears once in a mapping; remove or rename one",
            ));
        }
    }
    Ok(())
}

/// Parses a one-document YAML text (an empty text is a null document).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder {
        stack: Vec::new(),
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| {
            SyntaxError::new(
                error.marker().index(),
                format!("invalid YAML: {}", error.info()),
                "check the indentation and quoting around this point",
            )
        })?;
        builder.on_event(event, span)?;
    }
    Ok(builder.root.unwrap_or_else(Node::null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_scalar_text_spans_and_positions() {
        let node = parse("result: 000000\nname: \"x y\"\nlist: [1, 2]\n").unwrap();
        let NodeKind::Mapping(entries) = node.kind else {
            panic!()
        };
        assert_eq!(
            entries[0].1.kind,
            NodeKind::Scalar {
                text: "000000".into(),
                plain: true
            }
        );
        assert_eq!(entries[0].1.span, CharSpan { start: 8, end: 14 });
        assert_eq!(entries[0].1.line_col, (1, 9));
        assert_eq!(
            entries[1].1.kind,
            NodeKind::Scalar {
                text: "x y".into(),
                plain: false
            }
        );
        assert_eq!(entries[2].0.line_col, (3, 1));
        assert!(matches!(&entries[2].1.kind, NodeKind::Sequence(items) if items.len() == 2));
    }

    #[test]
    fn reports_syntax_errors_with_a_position() {
        let error = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(error.at > 0 && error.message.starts_with("invalid YAML"));
        let error = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            (error.at, error.message.as_str()),
            (10, "duplicate key `a`")
        );
    }

    #[test]
    fn empty_documents_are_null() {
        assert!(parse("").unwrap().is_null());
        assert!(
            parse("key:\n")
                .map(|n| matches!(n.kind, NodeKind::Mapping(ref e) if e[0].1.is_null()))
                .unwrap()
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("name: d\nsteps:\n  {}x\n", "- ".repeat(20_000));
        let error = parse(&deep).unwrap_err();
        assert!(error.message.contains("deeper than 64"), "{error:?}");
        let flow = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&flow).is_err());
        let fine = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn a_second_document_aliases_and_tags_are_refused() {
        let error = parse("name: a\n---\nname: b\n").unwrap_err();
        assert!(error.message.contains("second YAML document"), "{error:?}");
        assert_eq!(error.at, 8);
        assert!(
            parse("name: a\n...\n").is_ok(),
            "an explicit end alone is fine"
        );
        assert!(parse("a: &x 1\nb: *x\n").is_err());
        assert!(parse("a: !!str 1\n").is_err());
    }
}
