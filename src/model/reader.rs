//! Checked reading of YAML mappings into model structs.
//!
//! pydantic reports every problem of a document at once: missing fields,
//! unknown fields (`extra="forbid"`), wrong types. [`MapReader`] does the
//! same while keeping the span of each field for the diagnostic.

use std::collections::HashSet;
use std::sync::Arc;

use indexmap::IndexMap;

use super::convert::{lax_bool, to_value};
use crate::diag::{closest, Diagnostic, Diagnostics};
use crate::source::{Node, NodeKind, SourceFile};

/// Where diagnostics go while a document is read.
pub struct Sink<'a> {
    /// The file being read.
    pub src: &'a Arc<SourceFile>,
    /// The problems found so far.
    pub diags: &'a mut Diagnostics,
}

impl Sink<'_> {
    /// Records an error at a node.
    pub fn error(&mut self, node: &Node, message: impl Into<String>, hint: Option<String>) {
        let mut d = Diagnostic::error(self.src, node.span, message);
        d.hint = hint;
        self.diags.push(d);
    }
}

/// A mapping being read field by field.
pub struct MapReader<'n> {
    node: &'n Node,
    entries: IndexMap<String, &'n Node>,
    used: HashSet<String>,
    what: String,
}

impl<'n> MapReader<'n> {
    /// Starts reading `node`, which must be a mapping; `what` names it in messages.
    pub fn new(node: &'n Node, what: impl Into<String>, sink: &mut Sink<'_>) -> Option<Self> {
        let what = what.into();
        if let Some(entries) = node.map_entries() {
            Some(MapReader {
                node,
                entries,
                used: HashSet::new(),
                what,
            })
        } else {
            sink.error(
                node,
                format!("{what} must be a mapping, got {}", node.type_name()),
                None,
            );
            None
        }
    }

    /// What the mapping is, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The mapping node itself.
    pub fn node(&self) -> &'n Node {
        self.node
    }

    /// An optional field.
    pub fn opt(&mut self, key: &str) -> Option<&'n Node> {
        let v = self.entries.get(key).copied();
        if v.is_some() {
            self.used.insert(key.to_string());
        }
        v
    }

    /// A required field; reports it when missing.
    pub fn req(&mut self, key: &str, sink: &mut Sink<'_>) -> Option<&'n Node> {
        let v = self.opt(key);
        if v.is_none() {
            sink.error(
                self.node,
                format!("{} is missing the required field `{key}`", self.what),
                Some(format!("add `{key}:` to it")),
            );
        }
        v
    }

    /// A required string field.
    pub fn req_str(&mut self, key: &str, sink: &mut Sink<'_>) -> Option<String> {
        let node = self.req(key, sink)?;
        self.check_str(key, node, sink)
    }

    /// An optional string field (`null` is an error, as for pydantic's `str`).
    pub fn opt_str(&mut self, key: &str, sink: &mut Sink<'_>) -> Option<Option<String>> {
        match self.opt(key) {
            None => Some(None),
            Some(node) => self.check_str(key, node, sink).map(Some),
        }
    }

    /// An optional string field that may also be `null`.
    pub fn opt_str_or_null(&mut self, key: &str, sink: &mut Sink<'_>) -> Option<Option<String>> {
        match self.opt(key) {
            None => Some(None),
            Some(node) if node.kind == NodeKind::Null => Some(None),
            Some(node) => self.check_str(key, node, sink).map(Some),
        }
    }

    fn check_str(&self, key: &str, node: &Node, sink: &mut Sink<'_>) -> Option<String> {
        if let Some(s) = node.as_str() {
            Some(s.to_string())
        } else {
            sink.error(
                node,
                format!(
                    "`{key}` of {} expects a string, got {}",
                    self.what,
                    super::convert::describe(&to_value(node))
                ),
                Some("quote the value to make it a string".into()),
            );
            None
        }
    }

    /// An optional bool field with pydantic's lax rules.
    pub fn opt_bool(&mut self, key: &str, sink: &mut Sink<'_>) -> Option<Option<bool>> {
        match self.opt(key) {
            None => Some(None),
            Some(node) => match lax_bool(&to_value(node)) {
                Ok(b) => Some(Some(b)),
                Err(e) => {
                    sink.error(node, format!("`{key}` of {} {}", self.what, e.0), None);
                    None
                }
            },
        }
    }

    /// An optional list field.
    pub fn opt_seq(&mut self, key: &str, sink: &mut Sink<'_>) -> Option<&'n [Node]> {
        let node = self.opt(key)?;
        if let Some(items) = node.as_seq() {
            Some(items)
        } else {
            sink.error(
                node,
                format!(
                    "`{key}` of {} must be a list, got {}",
                    self.what,
                    node.type_name()
                ),
                None,
            );
            None
        }
    }

    /// An optional mapping field, as (key node, value node) pairs.
    pub fn opt_map(&mut self, key: &str, sink: &mut Sink<'_>) -> Option<&'n [(Node, Node)]> {
        let node = self.opt(key)?;
        if let Some(entries) = node.as_map() {
            Some(entries)
        } else {
            sink.error(
                node,
                format!(
                    "`{key}` of {} must be a mapping, got {}",
                    self.what,
                    node.type_name()
                ),
                None,
            );
            None
        }
    }

    /// Reports every key that is not in `allowed`, with a suggestion.
    pub fn finish(self, allowed: &[&str], sink: &mut Sink<'_>) {
        let Some(entries) = self.node.as_map() else {
            return;
        };
        for (k, _) in entries {
            let name = k.key_text();
            if self.used.contains(&name) || allowed.contains(&name.as_str()) {
                continue;
            }
            let hint = match closest(&name, allowed.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the fields of {} are: {}", self.what, allowed.join(", ")),
            };
            sink.error(
                k,
                format!("{} has an unknown field `{name}`", self.what),
                Some(hint),
            );
        }
    }
}
