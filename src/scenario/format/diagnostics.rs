//! Diagnostics for scenario and profile files: a lowercase headline, `file:line:col`, the
//! source line with the offending span marked, and a `help:` with a concrete fix — all the
//! problems of a file at once, rendered by miette.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, MietteError, MietteSpanContents,
    NamedSource, SourceCode, SourceSpan, SpanContents,
};

/// How many characters apart the checkpoints of [`SourceFile`]'s character index are.
const CHECKPOINT: usize = 64;

/// A source file with the indexes needed to turn parser positions (character indexes) into
/// byte spans and `line:col`, in time that does not grow with the file: a byte offset every
/// [`CHECKPOINT`] characters (none at all for ASCII text) and the start of every line.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    name: String,
    text: Arc<str>,
    /// Byte offset of every [`CHECKPOINT`]th character; empty when the text is ASCII.
    checkpoints: Arc<[usize]>,
    /// Byte offset of the start of every line.
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    /// A source named `name` (the path as the user gave it) with its text.
    pub(crate) fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let checkpoints: Vec<usize> = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(CHECKPOINT)
                .map(|(i, _)| i)
                .collect()
        };
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            checkpoints: checkpoints.into(),
            line_starts: line_starts.into(),
        }
    }

    /// The byte offset of a character index (clamped to the end).
    pub(crate) fn byte_of_char(&self, char_index: usize) -> usize {
        if self.checkpoints.is_empty() {
            return char_index.min(self.text.len());
        }
        let Some(&base) = self.checkpoints.get(char_index / CHECKPOINT) else {
            return self.text.len();
        };
        self.text[base..]
            .char_indices()
            .nth(char_index % CHECKPOINT)
            .map_or(self.text.len(), |(i, _)| base + i)
    }

    /// A byte span from character indexes.
    pub(crate) fn span(&self, start_char: usize, end_char: usize) -> SourceSpan {
        let start = self.byte_of_char(start_char);
        let end = self.byte_of_char(end_char.max(start_char)).max(start);
        SourceSpan::new(start.into(), end - start)
    }

    /// The 1-based line and column of a byte offset.
    pub(crate) fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= byte);
        let start = self.line_starts[line.saturating_sub(1)];
        let col = self.text.get(start..byte).map_or(0, |s| s.chars().count());
        (line, col + 1)
    }

    /// What a problem at `span` shows of the file: the lines around it, or — when its line is
    /// longer than [`LONG_LINE`] characters — a window of that line around the span.
    fn shown(&self, span: SourceSpan) -> Shown {
        let (line, col) = self.line_col(span.offset());
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        if end - start <= LONG_LINE {
            return Shown::Whole(NamedSource::new(self.name.clone(), self.text.clone()));
        }
        let first_col = (col - 1).saturating_sub(WINDOW_BEFORE);
        let from = self.char_to_byte_in(start, end, first_col);
        let to = self.char_to_byte_in(start, end, first_col + WINDOW);
        Shown::Window(Window {
            name: self.name.clone(),
            text: format!("{}…", &self.text[from..to]),
            base: from,
            line: line - 1,
            column: col - 1,
        })
    }

    /// The byte offset of the `chars`th character of the line `start..end` (clamped).
    fn char_to_byte_in(&self, start: usize, end: usize, chars: usize) -> usize {
        self.text[start..end]
            .char_indices()
            .nth(chars)
            .map_or(end, |(i, _)| start + i)
    }
}

/// Lines longer than this are shown as a window around the problem.
const LONG_LINE: usize = 160;
/// How many characters of a long line are shown before the problem.
const WINDOW_BEFORE: usize = 40;
/// How many characters of a long line are shown.
const WINDOW: usize = 100;

/// The part of a file a problem shows.
#[derive(Debug, Clone)]
enum Shown {
    /// The file, for miette to cut the lines around the problem from.
    Whole(NamedSource<Arc<str>>),
    /// A window of one very long line (a 40 KB line would otherwise be printed whole).
    Window(Window),
}

/// A window of one line, placed where it is in the file so that miette reports the right
/// `line:col`.
#[derive(Debug, Clone)]
struct Window {
    name: String,
    text: String,
    /// Byte offset of the window's start in the file.
    base: usize,
    /// 0-based line.
    line: usize,
    /// 0-based column of the problem (what the `file:line:col` header shows).
    column: usize,
}

impl SourceCode for Shown {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        match self {
            Self::Whole(source) => source.read_span(span, before, after),
            Self::Window(window) => Ok(Box::new(MietteSpanContents::new_named(
                window.name.clone(),
                window.text.as_bytes(),
                SourceSpan::new(window.base.into(), window.text.len()),
                window.line,
                window.column,
                1,
            ))),
        }
    }
}

/// One problem in a file.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub(crate) struct Problem {
    message: String,
    #[source_code]
    source_code: Shown,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
    location: (usize, usize),
}

impl Problem {
    /// A problem at a span of a file.
    pub(crate) fn new(
        file: &SourceFile,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Self {
            message: message.into(),
            source_code: file.shown(span),
            location: file.line_col(span.offset()),
            span,
            label: label.into(),
            help: None,
        }
    }

    /// Adds a hint.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The headline.
    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// 1-based line and column.
    pub(crate) fn location(&self) -> (usize, usize) {
        self.location
    }

    /// The hint, if any.
    #[cfg(test)]
    pub(crate) fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{file}: {} problem{}", .problems.len() + .omitted, if .problems.len() + .omitted == 1 { "" } else { "s" })]
pub struct FileProblems {
    /// The file.
    pub(crate) file: String,
    /// The problems, in source order (at most [`MAX_PROBLEMS`]).
    #[related]
    pub(crate) problems: Vec<Problem>,
    /// How many more problems were found and not kept.
    pub(crate) omitted: usize,
}

/// How many problems of one file are kept and shown: enough to fix a file in one pass, few
/// enough that a file of a thousand broken steps does not bury the terminal.
pub(crate) const MAX_PROBLEMS: usize = 20;

/// Proof that a problem was reported. Only a [`Sink`] makes one, so a decoder that returns
/// `Err(Reported)` has necessarily told the user why: "invalid, with no diagnostic" cannot
/// happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported(());

/// Where a decoder reports problems.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    problems: Vec<Problem>,
    omitted: usize,
}

impl Sink {
    /// Records a problem; returns the proof that it was reported.
    pub(crate) fn report(&mut self, problem: Problem) -> Reported {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        } else {
            self.omitted += 1;
        }
        Reported(())
    }

    /// Adds a hint to the last problem reported.
    pub(crate) fn help_last(&mut self, help: &str) {
        if let Some(last) = self.problems.pop() {
            self.problems.push(last.with_help(help));
        }
    }

    /// Whether nothing was reported.
    pub(crate) fn is_empty(&self) -> bool {
        self.problems.is_empty() && self.omitted == 0
    }

    /// The problems of a file, in source order.
    pub(crate) fn into_file_problems(self, file: &str) -> FileProblems {
        let mut problems = self.problems;
        problems.sort_by_key(Problem::location);
        FileProblems {
            file: file.to_owned(),
            problems,
            omitted: self.omitted,
        }
    }
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
    if problems.omitted > 0 {
        out.push_str(&format!(
            "  … and {} more problem(s) in {} not shown; fix these first\n",
            problems.omitted, problems.file
        ));
    }
    out
}

/// The closest candidate to a misspelt word, when one is close enough to suggest.
pub(crate) fn did_you_mean<'a>(
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
    fn positions_stay_right_on_long_and_non_ascii_text() {
        let text = format!("{}\n名前: a\n", "é".repeat(200));
        let file = SourceFile::new("x.yaml", text.as_str());
        assert_eq!(file.byte_of_char(199), 398);
        assert_eq!(file.byte_of_char(201), 401);
        assert_eq!(file.line_col(file.byte_of_char(203)), (2, 3));
        let ascii = SourceFile::new("a.yaml", "ab\ncd");
        assert_eq!(ascii.line_col(ascii.byte_of_char(4)), (2, 2));
        assert_eq!(ascii.byte_of_char(99), 5);
    }

    #[test]
    fn the_sink_keeps_the_first_problems_and_counts_the_rest() {
        let file = SourceFile::new("s.yaml", "x");
        let mut sink = Sink::default();
        for _ in 0..MAX_PROBLEMS + 5 {
            let _ = sink.report(Problem::new(&file, file.span(0, 1), "bad", "here"));
        }
        let problems = sink.into_file_problems("s.yaml");
        assert_eq!(
            (problems.problems.len(), problems.omitted),
            (MAX_PROBLEMS, 5)
        );
        let text = render(&problems, Style::Plain);
        assert!(text.contains("and 5 more problem(s)"), "{text}");
        assert_eq!(problems.to_string(), "s.yaml: 25 problems");
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
                omitted: 0,
            },
            Style::Plain,
        );
        assert!(text.contains("s.yaml:2:1"), "{text}");
        assert!(text.contains("expcet: y"), "{text}");
        assert!(text.contains("did you mean `expect`?"), "{text}");
    }
}
