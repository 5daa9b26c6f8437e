//! Errors in spec files, with the file, the line and what to write instead.

use std::fmt;
use std::ops::Range;

/// One mistake in a spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given to the generator (`spec/contacts.toml`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to write instead, when the generator can tell.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Every mistake found in a spec set (the generator reports them all, not just the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Whether any message contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.0.iter().any(|d| d.to_string().contains(needle))
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "error: {d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "{n} error{} in the spec; fix {} and run `cargo xtask gen` again",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" }
        )
    }
}

impl std::error::Error for Diagnostics {}

/// A spec file's text with a line index, for turning byte offsets into positions.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(path: &str, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            path: path.to_owned(),
            text: text.to_owned(),
            line_starts,
        }
    }

    /// 1-based (line, column) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line + 1, column)
    }

    /// A diagnostic at `span` (the start of it).
    pub fn diag(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        let (line, column) = self.position(span.start);
        Diagnostic {
            file: self.path.clone(),
            line,
            column,
            message: message.into(),
            help,
        }
    }

    /// The span of the first `needle` at or after `offset` (to point at a value that has no span
    /// of its own, like a field name inside `rules`).
    pub fn find_after(&self, offset: usize, needle: &str) -> Option<Range<usize>> {
        let start = offset + self.text.get(offset..)?.find(needle)?;
        Some(start..start + needle.len())
    }

    /// `file:line` of a span, for "first declared at" notes.
    pub fn at(&self, span: Range<usize>) -> String {
        let (line, _) = self.position(span.start);
        format!("{}:{line}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let s = Source::new("a.toml", "ab\n中c\n\nx");
        assert_eq!(s.position(0), (1, 1));
        assert_eq!(s.position(1), (1, 2));
        assert_eq!(s.position(3), (2, 1));
        assert_eq!(s.position(6), (2, 2));
        assert_eq!(s.position(8), (3, 1));
        assert_eq!(s.position(9), (4, 1));
        assert_eq!(s.position(10), (4, 2));
        assert_eq!(s.position(100), (4, 2));
    }
}
