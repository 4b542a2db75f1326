//! Source text and positions in it: the bottom of the pipeline.
//!
//! A [`SourceFile`] keeps a file's text alive so that `source/` can parse it
//! and `diag` can quote it; a [`Span`] is where a node came from. Both
//! sides import this module, so neither imports the other's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file read into memory, shared by every node and diagnostic that points into it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it (kept relative so messages stay short).
    pub path: PathBuf,
    /// The whole text of the file.
    pub text: String,
}

impl SourceFile {
    /// Reads `path` into a shared source.
    pub fn read(path: &Path) -> std::io::Result<Arc<SourceFile>> {
        let text = fs_err::read_to_string(path)?;
        Ok(Arc::new(SourceFile {
            path: path.to_path_buf(),
            text,
        }))
    }

    /// Wraps text that did not come from disk (tests, built-in definitions).
    pub fn from_text(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
        })
    }

    /// The byte offset of a character index, clamped to the end of the text.
    pub fn byte_offset(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(b, _)| b)
    }

    /// The text of one line (1-based), without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line.saturating_sub(1)).unwrap_or("")
    }
}

/// A position in a source file: 1-based line, 0-based column and character index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, counted from 1.
    pub line: u32,
    /// Column in characters, counted from 0.
    pub col: u32,
    /// Index in characters from the start of the file.
    pub index: u32,
}

/// The stretch of a source file that a node was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First character of the node.
    pub start: Pos,
    /// One past its last character.
    pub end: Pos,
}

impl Span {
    /// `line:col` with both counted from 1, as editors show them.
    pub fn line_col(&self) -> (u32, u32) {
        (self.start.line, self.start.col + 1)
    }
}
