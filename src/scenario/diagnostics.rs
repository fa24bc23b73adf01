//! Diagnostics for scenario and profile files: a lowercase headline, `file:line:col`, the
//! source line with the offending span marked, and a `help:` with a concrete fix — all the
//! problems of a file at once, rendered by miette.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource, SourceSpan};

/// A source file with the offsets needed to turn parser positions into byte spans.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: Arc<str>,
    /// Byte offset of each character, plus one past the end.
    char_bytes: Arc<[usize]>,
}

impl SourceFile {
    /// A source named `name` (the path as the user gave it) with its text.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        offsets.push(text.len());
        Self {
            name: name.into(),
            text,
            char_bytes: offsets.into(),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte offset of a character index (clamped to the end).
    pub fn byte_of_char(&self, char_index: usize) -> usize {
        self.char_bytes
            .get(char_index)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// A byte span from character indexes.
    pub fn span(&self, start_char: usize, end_char: usize) -> SourceSpan {
        let start = self.byte_of_char(start_char);
        let end = self.byte_of_char(end_char.max(start_char)).max(start);
        SourceSpan::new(start.into(), end - start)
    }

    /// The 1-based line and column of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let before = &self.text[..byte.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    fn named(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(self.name.clone(), self.text.clone())
    }
}

/// One problem in a file.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct Problem {
    message: String,
    #[source_code]
    source_code: NamedSource<Arc<str>>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
    location: (usize, usize),
}

impl Problem {
    /// A problem at a span of a file.
    pub fn new(
        file: &SourceFile,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Self {
            message: message.into(),
            source_code: file.named(),
            location: file.line_col(span.offset()),
            span,
            label: label.into(),
            help: None,
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The headline.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 1-based line and column.
    pub fn location(&self) -> (usize, usize) {
        self.location
    }

    /// The hint, if any.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{file}: {} problem{}", .problems.len(), if .problems.len() == 1 { "" } else { "s" })]
pub struct FileProblems {
    /// The file.
    pub file: String,
    /// The problems, in source order.
    #[related]
    pub problems: Vec<Problem>,
}

/// How to render diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Colours and Unicode box drawing (a terminal without NO_COLOR).
    Terminal,
    /// Unicode box drawing, no colours (pipes, NO_COLOR, snapshots).
    Plain,
}

/// Renders every problem of a file, each with its `file:line:col`, source line, carets and
/// help.
pub fn render(problems: &FileProblems, style: Style) -> String {
    let theme = match style {
        Style::Terminal => GraphicalTheme::unicode(),
        Style::Plain => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for problem in &problems.problems {
        let _ = handler.render_report(&mut out, problem);
    }
    out
}

/// The closest candidate to a misspelt word, when one is close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Terminal => "terminal",
            Self::Plain => "plain",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_convert_characters_to_bytes() {
        let file = SourceFile::new("x.yaml", "名前: a\nkey: b\n");
        let span = file.span(4, 5);
        assert_eq!((span.offset(), span.len()), (8, 1));
        assert_eq!(file.line_col(span.offset()), (1, 5));
        assert_eq!(file.line_col(file.byte_of_char(6)), (2, 1));
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(
            did_you_mean("expcet", ["expect", "faults", "as"]),
            Some("expect")
        );
        assert_eq!(did_you_mean("zzz", ["expect", "faults"]), None);
    }

    #[test]
    fn renders_location_line_and_help() {
        let file = SourceFile::new("s.yaml", "name: x\nexpcet: y\n");
        let problem = Problem::new(
            &file,
            file.span(8, 14),
            "unknown key `expcet`",
            "not a scenario key",
        )
        .with_help("did you mean `expect`?");
        let text = render(
            &FileProblems {
                file: "s.yaml".into(),
                problems: vec![problem],
            },
            Style::Plain,
        );
        assert!(text.contains("s.yaml:2:1"), "{text}");
        assert!(text.contains("expcet: y"), "{text}");
        assert!(text.contains("did you mean `expect`?"), "{text}");
    }
}
