//! IOC instance files (`ioc.yaml`, `runtime.yaml`): the top-level document.
//!
//! An instance has `ioc_name` (a template), `description`, `entities` and
//! optionally `shared` (anchors for YAML reuse). The entities themselves are
//! checked against their entity models by `resolve`, which needs the
//! template engine.

use std::sync::Arc;

use super::reader::{MapReader, Sink};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{Node, NodeKind, SourceFile};

/// An instance file read at the top level.
#[derive(Debug, Clone)]
pub struct InstanceDoc {
    /// The file.
    pub source: Arc<SourceFile>,
    /// The `ioc_name` node (a string template, or whatever the user wrote).
    pub ioc_name: Node,
    /// The entity nodes, in order.
    pub entities: Vec<Node>,
}

const FIELDS: &[&str] = &["ioc_name", "description", "entities", "shared"];

/// Checks the top level of an instance document.
///
/// Like ibek, a document that is not a mapping with `ioc_name` is rejected
/// outright; other problems (missing `description`, unknown keys) are
/// reported but the entities are still returned so that every problem of the
/// file can be reported in one run.
pub fn read_instance(
    root: &Node,
    src: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Option<InstanceDoc> {
    let Some(entries) = root.map_entries() else {
        let what = match root.kind {
            NodeKind::Null => {
                "the file holds no YAML document (it is empty or only comments)".to_string()
            }
            _ => format!("the top level is {}, not a mapping", root.type_name()),
        };
        diags.push(
            Diagnostic::plain(Some(src), format!("not a valid IOC instance: {what}")).with_hint(
                "an instance is a mapping with `ioc_name`, `description` and `entities`",
            ),
        );
        return None;
    };
    let Some(ioc_name) = entries.get("ioc_name") else {
        diags.push(
            Diagnostic::error(
                src,
                root.span,
                "not a valid IOC instance: `ioc_name` is missing",
            )
            .with_hint(
                "add `ioc_name: \"{{ _global.get_env('IOC_NAME') }}\"` at the top of the file",
            ),
        );
        return None;
    };
    let ioc_name = (*ioc_name).clone();
    let mut sink = Sink { src, diags };
    let mut r = MapReader::new(root, "the IOC instance", &mut sink)?;
    r.opt("ioc_name");
    r.req_str("description", &mut sink);
    if let Some(shared) = r.opt("shared") {
        if shared.as_seq().is_none() {
            sink.error(shared, "`shared` must be a list", None);
        }
    }
    let mut entities = Vec::new();
    if let Some(list) = r.req("entities", &mut sink) {
        match list.as_seq() {
            Some(items) => entities = items.to_vec(),
            None => sink.error(
                list,
                format!("`entities` must be a list, got {}", list.type_name()),
                Some("write each entity as a `- type: ...` item".into()),
            ),
        }
    }
    r.finish(FIELDS, &mut sink);
    Some(InstanceDoc {
        source: src.clone(),
        ioc_name,
        entities,
    })
}
