//! Diagnostics: what went wrong, where in the user's YAML, and what to do.
//!
//! Every error about user input is a [`Diagnostic`] that names the file,
//! line and column, quotes the offending lines with the span underlined,
//! and ends with a hint, compiler style:
//!
//! ```text
//! ioc.yaml:12:11: error: entity 3 (`asyn.AsynIP`): parameter `port` expects an int, got "abc"
//!    |
//! 12 |     port: abc
//!    |           ^^^
//!    = hint: write a whole number, or a Jinja expression in `{{ }}`
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::span::{SourceFile, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input is invalid; the command fails.
    Error,
    /// Worth knowing; the command goes on.
    Warning,
}

/// One problem in the user's input.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file the problem is in, when there is one.
    pub source: Option<Arc<SourceFile>>,
    /// Where in the file.
    pub span: Option<Span>,
    /// What is wrong, lower case, no trailing period.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Further context (e.g. the template line that failed).
    pub notes: Vec<String>,
    /// The problem is the environment (a file that cannot be read), not the input.
    pub io: bool,
}

impl Diagnostic {
    /// An error at a span of a file.
    pub fn error(source: &Arc<SourceFile>, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            source: Some(source.clone()),
            span: Some(span),
            message: message.into(),
            hint: None,
            notes: Vec::new(),
            io: false,
        }
    }

    /// An error about a file as a whole (or no file at all).
    pub fn plain(source: Option<&Arc<SourceFile>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            source: source.cloned(),
            span: None,
            message: message.into(),
            hint: None,
            notes: Vec::new(),
            io: false,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Marks this as an environment failure (exit code 2).
    #[must_use]
    pub fn io(mut self) -> Self {
        self.io = true;
        self
    }

    /// Makes this a warning.
    #[must_use]
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// `file:line:col` (or just the file) of the diagnostic.
    pub fn location(&self) -> String {
        let file = self
            .source
            .as_ref()
            .map(|s| display_path(&s.path))
            .unwrap_or_default();
        match (self.span, file.is_empty()) {
            (Some(span), false) => {
                let (l, c) = span.line_col();
                format!("{file}:{l}:{c}")
            }
            (_, false) => file,
            (_, true) => String::new(),
        }
    }

    /// The human form: header line, quoted source with the span underlined, notes and hint.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let loc = self.location();
        if loc.is_empty() {
            let _ = writeln!(out, "{level}: {}", self.message);
        } else {
            let _ = writeln!(out, "{loc}: {level}: {}", self.message);
        }
        if let (Some(src), Some(span)) = (&self.source, self.span) {
            out.push_str(&snippet(src, span));
        }
        for note in &self.notes {
            let _ = writeln!(out, "   = note: {note}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "   = hint: {hint}");
        }
        out
    }

    /// The machine form used by `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        let (line, col, end_line, end_col) = match self.span {
            Some(s) => (
                Some(s.start.line),
                Some(s.start.col + 1),
                Some(s.end.line),
                Some(s.end.col + 1),
            ),
            None => (None, None, None, None),
        };
        serde_json::json!({
            "severity": self.severity,
            "file": self.source.as_ref().map(|s| display_path(&s.path)),
            "line": line,
            "column": col,
            "end_line": end_line,
            "end_column": end_col,
            "message": self.message,
            "hint": self.hint,
            "notes": self.notes,
        })
    }
}

/// A path as we print it: as given, without a leading `./`.
pub fn display_path(p: &Path) -> String {
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// Quotes the first line of a span with carets under the spanned text.
///
/// A span over several lines (a whole entity, say) is shown by its first
/// line only: the header already says what is wrong with it.
fn snippet(src: &SourceFile, span: Span) -> String {
    let line_no = span.start.line.max(1) as usize;
    let text = src.line_text(line_no);
    let len = text.chars().count();
    let start = (span.start.col as usize).min(len);
    let end = if span.end.line == span.start.line {
        (span.end.col as usize).min(len)
    } else {
        text.trim_end().chars().count()
    };
    let end = end.max(start + 1);
    let width = line_no.to_string().len();
    let mut out = String::new();
    let _ = writeln!(out, "{:width$} |", "");
    let _ = writeln!(out, "{line_no:>width$} | {text}");
    let _ = writeln!(
        out,
        "{:width$} | {}{}",
        "",
        " ".repeat(start),
        "^".repeat(end - start)
    );
    out
}

/// Several diagnostics at once: the error type of every stage that checks user input.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Whether any error (not just warnings) was found.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Whether every error is an environment failure rather than bad input.
    pub fn only_io(&self) -> bool {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .all(|d| d.io)
            && self.has_errors()
    }

    /// Whether there are none at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All of them, rendered for humans, separated by blank lines; a
    /// diagnostic that recurs (the same mistake in every item of an
    /// `ibek.repeat`, say) is shown once with the count of its recurrences.
    pub fn render(&self) -> String {
        self.grouped()
            .into_iter()
            .map(|(d, n)| {
                if n == 1 {
                    d.render()
                } else {
                    let more = n - 1;
                    let times = if more == 1 { "time" } else { "times" };
                    d.clone()
                        .with_note(format!("the same error recurs {more} more {times}"))
                        .render()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One diagnostic per cause, in first-seen order, with how often it occurs.
    ///
    /// Two diagnostics share a cause when they have the same severity,
    /// file, span, notes and message once numbers are ignored (so `repeat 3
    /// of entity 0` and `repeat 4 of entity 0` are one cause).
    pub fn grouped(&self) -> Vec<(&Diagnostic, usize)> {
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut out: Vec<(&Diagnostic, usize)> = Vec::new();
        for d in &self.0 {
            let key = cause_key(d);
            if let Some(&i) = index.get(&key) {
                out[i].1 += 1;
            } else {
                index.insert(key, out.len());
                out.push((d, 1));
            }
        }
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.render().trim_end())
    }
}

impl std::error::Error for Diagnostics {}

fn cause_key(d: &Diagnostic) -> String {
    let mut key = format!(
        "{:?}\u{0}{}\u{0}{:?}\u{0}",
        d.severity,
        d.source
            .as_ref()
            .map(|s| s.path.display().to_string())
            .unwrap_or_default(),
        d.span
            .map(|s| (s.start.line, s.start.col, s.end.line, s.end.col)),
    );
    let mut in_digits = false;
    for c in d
        .message
        .chars()
        .chain(d.notes.iter().flat_map(|n| n.chars()))
    {
        if c.is_ascii_digit() {
            if !in_digits {
                key.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            key.push(c);
        }
    }
    key
}

/// A failure of the environment, not of the user's input: a file that
/// cannot be read or written, a missing tool, an unreachable daemon. It is
/// a [`Diagnostic`] without a source (message, notes, hint) marked as an
/// environment failure, so it renders like the others and exits with 2.
#[derive(Debug, Clone)]
pub struct EnvFailure(Box<Diagnostic>);

impl EnvFailure {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        EnvFailure(Box::new(Diagnostic::plain(None, message).io()))
    }

    /// A failure whose message is an error and its whole `source()` chain.
    pub fn from_error(e: &dyn std::error::Error) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                let _ = write!(message, ": {text}");
            }
            source = s.source();
        }
        EnvFailure::new(message)
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        EnvFailure(Box::new(self.0.with_hint(hint)))
    }

    /// Adds a note.
    #[must_use]
    pub fn with_note(self, note: impl Into<String>) -> Self {
        EnvFailure(Box::new(self.0.with_note(note)))
    }

    /// The diagnostic it renders as.
    pub fn to_diagnostic(&self) -> Diagnostic {
        (*self.0).clone()
    }
}

impl std::fmt::Display for EnvFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.render().trim_end())
    }
}

impl std::error::Error for EnvFailure {}

/// The closest of `candidates` to `name`, for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Pos;

    #[test]
    fn env_failures_render_like_diagnostics() {
        let f = EnvFailure::new("cannot reach `x`")
            .with_note("tried twice")
            .with_hint("start it");
        assert_eq!(
            f.to_diagnostic().render(),
            "error: cannot reach `x`\n   = note: tried twice\n   = hint: start it\n"
        );
        assert!(Diagnostics::from(f.to_diagnostic()).only_io());
    }

    #[test]
    fn renders_location_snippet_and_hint() {
        let src = SourceFile::from_text("ioc.yaml", "entities:\n  - type: x\n    port: abc\n");
        let span = Span {
            start: Pos {
                line: 3,
                col: 10,
                index: 0,
            },
            end: Pos {
                line: 3,
                col: 13,
                index: 0,
            },
        };
        let d = Diagnostic::error(&src, span, "bad port").with_hint("use a number");
        assert_eq!(
            d.render(),
            "ioc.yaml:3:11: error: bad port\n  |\n3 |     port: abc\n  |           ^^^\n   = hint: use a number\n"
        );
    }

    #[test]
    fn recurring_errors_are_shown_once_with_a_count() {
        let src = SourceFile::from_text("ioc.yaml", "entities:\n  - type: ibek.repeat\n");
        let span = Span {
            start: Pos {
                line: 2,
                col: 4,
                index: 0,
            },
            end: Pos {
                line: 2,
                col: 21,
                index: 0,
            },
        };
        let mut diags = Diagnostics::default();
        for i in 0..500 {
            diags.push(Diagnostic::error(
                &src,
                span,
                format!("repeat {i} of entity 0: bad"),
            ));
        }
        diags.push(Diagnostic::error(&src, span, "another cause"));
        let text = diags.render();
        assert_eq!(text.matches(": error:").count(), 2, "{text}");
        assert!(text.contains("repeat 0 of entity 0: bad"), "{text}");
        assert!(
            text.contains("the same error recurs 499 more times"),
            "{text}"
        );
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            closest("asyn.AsynIp", ["asyn.AsynIP", "asyn.AsynSerial"]),
            Some("asyn.AsynIP")
        );
        assert_eq!(closest("zzz", ["asyn.AsynIP"]), None);
    }
}
