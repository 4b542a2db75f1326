//! Source files and the YAML documents read from them.
//!
//! Every byte the tool reads from the user's YAML passes through here: a
//! [`SourceFile`] keeps the text alive so diagnostics can quote it, and
//! [`yaml::parse`] turns it into a [`Node`] tree whose nodes carry the
//! [`Span`] they came from. Scalars are typed as ibek's loader
//! (`ruamel.yaml`, safe, YAML 1.2) types them, so `No` stays a string and
//! `0x1F` is an int.

pub mod emit;
mod fast;
pub mod scalar;
pub mod yaml;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;

pub use yaml::{parse, YamlError};

use crate::diag::Diagnostic;
pub use crate::span::{Pos, SourceFile, Span};

/// Parses a source's YAML, with a diagnostic pointing at the problem.
pub fn parse_source(src: &Arc<SourceFile>) -> Result<Node, Diagnostic> {
    parse(&src.text).map_err(|e| {
        let mut d = Diagnostic::error(src, e.span, e.message.clone());
        d.hint.clone_from(&e.hint);
        d
    })
}

/// Reads and parses a YAML file; an unreadable file is an environment failure.
pub fn load_yaml(path: &Path) -> Result<(Arc<SourceFile>, Node), Diagnostic> {
    let src = SourceFile::read(path).map_err(|e| {
        Diagnostic::plain(
            None,
            format!("cannot read `{}`: {}", path.display(), io_reason(&e)),
        )
        .with_hint("check the path")
        .io()
    })?;
    let root = parse_source(&src)?;
    Ok((src, root))
}

/// The reason of an I/O error without the path `fs_err` adds.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e
            .get_ref()
            .and_then(|inner| inner.source())
            .map_or_else(|| e.to_string(), ToString::to_string),
    }
}

/// A YAML value typed as ruamel's safe loader types it.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false` in any of the YAML 1.2 spellings.
    Bool(bool),
    /// Any integer the YAML 1.2 resolver accepts (decimal, `0x`, `0o`, `0b`, `_` separators).
    Int(i128),
    /// A float, including `.inf` and `.nan`.
    Float(f64),
    /// A string: quoted, block, or a plain scalar that resolves to nothing else.
    Str(String),
    /// A plain scalar in timestamp form; ruamel makes a date of it, which no ibek field accepts.
    Timestamp(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, merge keys (`<<`) already applied in ruamel's order.
    Map(Vec<(Node, Node)>),
}

/// A YAML node with the span it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The typed value.
    pub kind: NodeKind,
    /// Where in the file it was written.
    pub span: Span,
}

impl Node {
    /// The string value of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks a string key up in a mapping (the last entry wins, as in a Python dict).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The mapping as Python would build it: later duplicates (possible only
    /// through merge keys) replace the value but keep the first position.
    pub fn map_entries(&self) -> Option<IndexMap<String, &Node>> {
        let entries = self.as_map()?;
        let mut out = IndexMap::with_capacity(entries.len());
        for (k, v) in entries {
            out.insert(k.key_text(), v);
        }
        Some(out)
    }

    /// A mapping key as text (keys other than strings print as Python prints them).
    pub fn key_text(&self) -> String {
        match &self.kind {
            NodeKind::Str(s) | NodeKind::Timestamp(s) => s.clone(),
            other => NodeKind::describe_scalar(other),
        }
    }

    /// A short name for the node's type, as pydantic names input types.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "bool",
            NodeKind::Int(_) => "int",
            NodeKind::Float(_) => "float",
            NodeKind::Str(_) => "str",
            NodeKind::Timestamp(_) => "date",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "dict",
        }
    }
}

impl NodeKind {
    fn describe_scalar(kind: &NodeKind) -> String {
        match kind {
            NodeKind::Null => "None".into(),
            NodeKind::Bool(true) => "True".into(),
            NodeKind::Bool(false) => "False".into(),
            NodeKind::Int(i) => i.to_string(),
            NodeKind::Float(f) => crate::jinja::pyfmt::float_repr(*f),
            NodeKind::Str(s) | NodeKind::Timestamp(s) => s.clone(),
            NodeKind::Seq(_) => "[...]".into(),
            NodeKind::Map(_) => "{...}".into(),
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&NodeKind::describe_scalar(&self.kind))
    }
}
