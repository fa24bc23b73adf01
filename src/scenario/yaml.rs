//! A YAML document as a small tree of nodes that remember their character spans, built with
//! saphyr without resolving scalars — so `000000` stays text and kgsim, not the YAML core
//! schema, decides what each value means.

use saphyr::{MarkedYamlOwned, ScalarStyle, YamlDataOwned, YamlLoader};

/// A span of characters, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CharSpan {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where it is.
    pub span: CharSpan,
    /// What it is.
    pub kind: NodeKind,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
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
    /// Anything else (aliases, tagged nodes): not part of the format.
    Unsupported(&'static str),
}

impl Node {
    /// A short name of the node's kind for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { plain: true, text } if is_null(text) => "nothing",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a mapping",
            NodeKind::Unsupported(what) => what,
        }
    }

    /// Whether the node is an explicit or empty null.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true } if is_null(text))
    }

    /// The scalar text, if a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// The document could not be parsed as YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where, as a character index.
    pub at: usize,
    /// What the parser said.
    pub message: String,
}

/// Parses the first document of a YAML text (an empty text is a null document).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut loader: YamlLoader<'_, MarkedYamlOwned> = YamlLoader::default();
    loader.early_parse(false);
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut loader, false) {
        return Err(SyntaxError {
            at: error.marker().index(),
            message: error.info().to_owned(),
        });
    }
    if let Some(error) = loader.error() {
        return Err(SyntaxError {
            at: error.marker().index(),
            message: error.info().to_owned(),
        });
    }
    let documents = loader.into_documents();
    Ok(documents.first().map(convert).unwrap_or(Node {
        span: CharSpan::default(),
        kind: NodeKind::Scalar {
            text: String::new(),
            plain: true,
        },
    }))
}

fn convert(node: &MarkedYamlOwned) -> Node {
    let span = CharSpan {
        start: node.span.start.index(),
        end: node.span.end.index(),
    };
    let kind = match &node.data {
        YamlDataOwned::Representation(text, style, _) => NodeKind::Scalar {
            text: text.clone(),
            plain: *style == ScalarStyle::Plain,
        },
        YamlDataOwned::Value(value) => NodeKind::Scalar {
            text: scalar_text(value),
            plain: true,
        },
        YamlDataOwned::Sequence(items) => NodeKind::Sequence(items.iter().map(convert).collect()),
        YamlDataOwned::Mapping(map) => {
            NodeKind::Mapping(map.iter().map(|(k, v)| (convert(k), convert(v))).collect())
        }
        YamlDataOwned::Alias(_) => NodeKind::Unsupported("an alias"),
        YamlDataOwned::Tagged(..) => NodeKind::Unsupported("a tagged node"),
        YamlDataOwned::BadValue => NodeKind::Unsupported("an invalid value"),
    };
    Node { span, kind }
}

fn scalar_text(value: &saphyr::ScalarOwned) -> String {
    match value {
        saphyr::ScalarOwned::Null => String::new(),
        saphyr::ScalarOwned::Boolean(b) => b.to_string(),
        saphyr::ScalarOwned::Integer(i) => i.to_string(),
        saphyr::ScalarOwned::FloatingPoint(f) => f.to_string(),
        saphyr::ScalarOwned::String(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_scalar_text_and_spans() {
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
        assert_eq!(
            entries[1].1.kind,
            NodeKind::Scalar {
                text: "x y".into(),
                plain: false
            }
        );
        assert!(matches!(&entries[2].1.kind, NodeKind::Sequence(items) if items.len() == 2));
    }

    #[test]
    fn reports_syntax_errors_with_a_position() {
        let error = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(error.at > 0 && !error.message.is_empty());
        assert!(parse("a: 1\na: 2\n").is_err(), "duplicate keys are errors");
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
}
