//! The canonical text of a YAML value: what counts is content, not layout.
//!
//! Two YAML documents that load to the same value (ignoring comments,
//! indentation, flow or block style, quoting, key order, anchors and merge
//! keys, which `source` has already applied) give the same text. The text is
//! compact JSON with keys sorted by their UTF-8 bytes; integers and floats
//! stay apart (`1` and `1.0` differ) and non-finite floats are spelled out,
//! so nothing depends on the machine or the locale.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::source::{Node, NodeKind};

/// The canonical text of a value.
pub fn canonical(node: &Node) -> String {
    let mut out = String::new();
    write_node(&mut out, node);
    out
}

/// The canonical text of a mapping restricted to some top-level keys.
pub fn canonical_subset(node: &Node, keep: &dyn Fn(&str) -> bool) -> String {
    match &node.kind {
        NodeKind::Map(_) => {
            let mut out = String::from("{");
            let mut first = true;
            for (k, v) in sorted_entries(node) {
                if !keep(&k) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(&mut out, &k);
                out.push(':');
                write_node(&mut out, v);
            }
            out.push('}');
            out
        }
        _ => canonical(node),
    }
}

/// The entries of a mapping by key text, sorted; a later duplicate wins.
fn sorted_entries(node: &Node) -> BTreeMap<String, &Node> {
    let mut map = BTreeMap::new();
    if let Some(entries) = node.as_map() {
        for (k, v) in entries {
            map.insert(k.key_text(), v);
        }
    }
    map
}

fn write_node(out: &mut String, node: &Node) {
    match &node.kind {
        NodeKind::Null => out.push_str("null"),
        NodeKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        NodeKind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        NodeKind::Float(f) => write_float(out, *f),
        NodeKind::Str(s) | NodeKind::Timestamp(s) => write_str(out, s),
        NodeKind::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_node(out, item);
            }
            out.push(']');
        }
        NodeKind::Map(_) => {
            out.push('{');
            for (i, (k, v)) in sorted_entries(node).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, &k);
                out.push(':');
                write_node(out, v);
            }
            out.push('}');
        }
    }
}

fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("{\"float\":\"nan\"}");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 {
            "{\"float\":\"inf\"}"
        } else {
            "{\"float\":\"-inf\"}"
        });
    } else {
        // `{:e}` is Rust's shortest round-trip form, identical on every platform
        let _ = write!(out, "{f:e}");
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::String(s.to_string()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse;

    fn canon(text: &str) -> String {
        canonical(&parse(text).unwrap())
    }

    #[test]
    fn comments_layout_order_and_anchors_do_not_count() {
        let a = "# top\nb: [1, 2]\na:\n  x: 'hi'   # why\n";
        let b = "a: {x: hi}\nb:\n  - 1\n  - 2\n";
        assert_eq!(canon(a), canon(b));
        let merged = "s: &s {k: 1}\nt:\n  <<: *s\n";
        let plain = "s: {k: 1}\nt: {k: 1}\n";
        assert_eq!(canon(merged), canon(plain));
    }

    #[test]
    fn types_and_values_count() {
        assert_ne!(canon("a: 1"), canon("a: 1.0"));
        assert_ne!(canon("a: 1"), canon("a: '1'"));
        assert_ne!(canon("a: [1, 2]"), canon("a: [2, 1]"));
        assert_eq!(canon("a: .inf"), "{\"a\":{\"float\":\"inf\"}}");
        assert_eq!(canon("a: 0.5"), "{\"a\":5e-1}");
    }

    #[test]
    fn subset_keeps_only_named_keys() {
        let node = parse("a: 1\nb: 2\nglobal: {x: 1}\n").unwrap();
        let text = canonical_subset(&node, &|k| k != "b");
        assert_eq!(text, "{\"a\":1,\"global\":{\"x\":1}}");
    }
}
