//! YAML text to a [`Node`] tree with spans, following ruamel.yaml's safe loader.
//!
//! The event stream comes from `saphyr-parser`; this module builds the tree,
//! resolves aliases, applies merge keys (`<<`) in ruamel's order and rejects
//! duplicate keys as ruamel does.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span as PSpan, Tag};

use super::scalar::{construct_float, construct_int, resolve_plain};
use super::{Node, NodeKind, Pos, Span};

/// A YAML document that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// What went wrong, in lower case.
    pub message: String,
    /// Where it went wrong.
    pub span: Span,
    /// What to do about it, when we know.
    pub hint: Option<String>,
}

fn pos(m: Marker) -> Pos {
    Pos {
        line: m.line() as u32,
        col: m.col() as u32,
        index: m.index() as u32,
    }
}

fn span(s: PSpan) -> Span {
    Span {
        start: pos(s.start),
        end: pos(s.end),
    }
}

fn error(message: impl Into<String>, span: Span, hint: Option<&str>) -> YamlError {
    YamlError {
        message: message.into(),
        span,
        hint: hint.map(str::to_string),
    }
}

enum Frame {
    Seq {
        anchor: usize,
        start: Span,
        items: Vec<Node>,
        units: u64,
    },
    Map {
        anchor: usize,
        start: Span,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        units: u64,
    },
}

/// What a node costs against the `yaml-nodes` budget: one per node, plus
/// one per 32 bytes of a scalar's text (an alias to a long string copies it).
fn scalar_units(value: &str) -> u64 {
    1 + value.len() as u64 / 32
}

/// The name of the alias at `at` (`*name`), read back from the text.
fn alias_name(text: &str, at: Span) -> String {
    let rest: String = text
        .chars()
        .skip(at.start.index as usize)
        .take(200)
        .collect();
    let name: String = rest
        .trim_start_matches('*')
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}'))
        .collect();
    name
}

/// Parses the first document of `text`; an empty stream is `null`, as ruamel loads it.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    parse_within(text, crate::limits::get().yaml_nodes)
}

/// [`parse`] with a budget for the nodes (see [`scalar_units`]) that aliases
/// copy into the tree; plain nodes are bounded by the size of the text.
/// Alias bombs (`a: &a [*b, *b, …]` nested) stop with an error naming the
/// alias that would go over it.
pub fn parse_within(text: &str, budget: u64) -> Result<Node, YamlError> {
    if let Some(node) = super::fast::parse(text, budget) {
        return Ok(node);
    }
    parse_events(text, budget)
}

/// [`parse_within`] with `saphyr-parser`'s events, for any YAML.
pub(super) fn parse_events(text: &str, budget: u64) -> Result<Node, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut tree = Tree::default();
    let mut documents = 0;

    while let Some(next) = parser.next_event() {
        let (event, ev_span) = next.map_err(|e| {
            let p = pos(*e.marker());
            error(
                format!("invalid YAML: {}", e.info()),
                Span { start: p, end: p },
                Some("check the indentation and quoting around this point"),
            )
        })?;
        let ev_span = span(ev_span);
        let (node, units) = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(error(
                        "expected a single document in the stream but found another document",
                        ev_span,
                        Some("remove the second `---` document or split the file"),
                    ));
                }
                continue;
            }
            Event::Alias(id) => tree.expand_alias(id, text, budget, ev_span)?,
            Event::Scalar(value, style, anchor, tag) => {
                let units = scalar_units(&value);
                let kind = scalar_kind(&value, style, tag.as_deref(), ev_span)?;
                let node = Node {
                    kind,
                    span: ev_span,
                };
                tree.anchor(anchor, &node, units);
                (node, units)
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", ev_span)?;
                tree.stack.push(Frame::Seq {
                    anchor,
                    start: ev_span,
                    items: Vec::new(),
                    units: 1,
                });
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", ev_span)?;
                tree.stack.push(Frame::Map {
                    anchor,
                    start: ev_span,
                    entries: Vec::new(),
                    key: None,
                    units: 1,
                });
                continue;
            }
            Event::SequenceEnd => tree.end_sequence(ev_span)?,
            Event::MappingEnd => tree.end_mapping(ev_span)?,
        };
        tree.attach(node, units);
    }
    Ok(tree.root.unwrap_or(Node {
        kind: NodeKind::Null,
        span: Span::default(),
    }))
}

/// The document being built from parser events: open collections, anchored
/// nodes with their cost, and the units aliases have copied so far.
#[derive(Default)]
struct Tree {
    anchors: HashMap<usize, (Node, u64)>,
    total: u64,
    stack: Vec<Frame>,
    root: Option<Node>,
}

impl Tree {
    /// Remembers `node` under `anchor` (0 means none) for later aliases.
    fn anchor(&mut self, anchor: usize, node: &Node, units: u64) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), units));
        }
    }

    /// Copies the node anchored as `id`, charging its units to `budget`.
    fn expand_alias(
        &mut self,
        id: usize,
        text: &str,
        budget: u64,
        at: Span,
    ) -> Result<(Node, u64), YamlError> {
        let Some((n, units)) = self.anchors.get(&id) else {
            return Err(error("found undefined alias", at, None));
        };
        self.total = self.total.saturating_add(*units);
        if self.total > budget {
            let name = alias_name(text, at);
            return Err(error(
                format!(
                    "alias `*{name}` makes the aliases of this document copy more than \
                     {budget} nodes (anchor `&{name}` holds {units})"
                ),
                at,
                Some(
                    "this looks like an alias bomb; expand fewer aliases, or raise \
                     the limit with IOCFORGE_LIMITS=yaml-nodes=N",
                ),
            ));
        }
        Ok((
            Node {
                kind: n.kind.clone(),
                span: at,
            },
            *units,
        ))
    }

    /// Closes the sequence on top of the stack at `end`.
    fn end_sequence(&mut self, end: Span) -> Result<(Node, u64), YamlError> {
        let Some(Frame::Seq {
            anchor,
            start,
            items,
            units,
        }) = self.stack.pop()
        else {
            return Err(error("unbalanced sequence", end, None));
        };
        let node = Node {
            kind: NodeKind::Seq(items),
            span: Span {
                start: start.start,
                end: end.end,
            },
        };
        self.anchor(anchor, &node, units);
        Ok((node, units))
    }

    /// Closes the mapping on top of the stack at `end`.
    fn end_mapping(&mut self, end: Span) -> Result<(Node, u64), YamlError> {
        let Some(Frame::Map {
            anchor,
            start,
            entries,
            units,
            ..
        }) = self.stack.pop()
        else {
            return Err(error("unbalanced mapping", end, None));
        };
        let node = Node {
            kind: NodeKind::Map(build_mapping(entries)?),
            span: Span {
                start: start.start,
                end: end.end,
            },
        };
        self.anchor(anchor, &node, units);
        Ok((node, units))
    }

    /// Puts a finished node into the collection it belongs to (as a key or
    /// value of a mapping, an item of a sequence), or makes it the root.
    fn attach(&mut self, node: Node, units: u64) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq {
                items, units: u, ..
            }) => {
                *u = u.saturating_add(units);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                units: u,
                ..
            }) => {
                *u = u.saturating_add(units);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                }
            }
        }
    }
}

fn scalar_kind(
    value: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    at: Span,
) -> Result<NodeKind, YamlError> {
    if let Some(tag) = tag {
        if tag.handle == "!" && tag.suffix.is_empty() {
            // the non-specific tag `!` forces a string
            return Ok(NodeKind::Str(value.to_string()));
        }
        if !tag.is_yaml_core_schema() {
            return Err(error(
                format!("could not determine a constructor for the tag '{tag}'"),
                at,
                Some("ibek reads YAML with the safe loader, which knows only the core tags"),
            ));
        }
        let bad = || {
            error(
                format!("`{value}` is not a valid !!{}", tag.suffix),
                at,
                None,
            )
        };
        return match tag.suffix.as_str() {
            "str" => Ok(NodeKind::Str(value.to_string())),
            "int" => construct_int(value).map(NodeKind::Int).ok_or_else(bad),
            "float" => construct_float(value).map(NodeKind::Float).ok_or_else(bad),
            "bool" => match value.to_lowercase().as_str() {
                "true" | "yes" | "on" | "y" => Ok(NodeKind::Bool(true)),
                "false" | "no" | "off" | "n" => Ok(NodeKind::Bool(false)),
                _ => Err(bad()),
            },
            "null" => Ok(NodeKind::Null),
            other => Err(error(
                format!("unsupported tag `!!{other}` on a scalar"),
                at,
                None,
            )),
        };
    }
    Ok(match style {
        ScalarStyle::Plain => resolve_plain(value),
        _ => NodeKind::Str(value.to_string()),
    })
}

fn check_collection_tag(tag: Option<&Tag>, expect: &str, at: Span) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(t) if t.is_yaml_core_schema() && t.suffix == expect => Ok(()),
        Some(t) if t.handle == "!" && t.suffix.is_empty() => Ok(()),
        Some(t) => Err(error(
            format!("could not determine a constructor for the tag '{t}'"),
            at,
            None,
        )),
    }
}

fn is_merge_key(node: &Node) -> bool {
    // only a plain `<<` is a merge key; a quoted one is spans four characters
    matches!(&node.kind, NodeKind::Str(s) if s == "<<")
        && node.span.end.index - node.span.start.index == 2
}

fn key_eq(a: &NodeKind, b: &NodeKind) -> bool {
    // Python dict keys: 1 == 1.0 == True, so these collide too
    match (a, b) {
        (NodeKind::Int(x), NodeKind::Float(y)) | (NodeKind::Float(y), NodeKind::Int(x)) => {
            (*x as f64) == *y
        }
        (NodeKind::Bool(x), NodeKind::Int(y)) | (NodeKind::Int(y), NodeKind::Bool(x)) => {
            i128::from(*x) == *y
        }
        _ => a == b,
    }
}

/// Applies ruamel's merge-key rules: merged entries come first (a list of
/// maps is merged last-to-first), the node's own entries follow, and only a
/// map without merges is checked for duplicate keys.
pub(super) fn build_mapping(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut merged: Vec<(Node, Node)> = Vec::new();
    let mut own: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
    let mut saw_merge = false;
    for (k, v) in entries {
        if is_merge_key(&k) {
            if saw_merge {
                return Err(error(
                    "found duplicate merge key \"<<\"",
                    k.span,
                    Some("merge several anchors with one key: `<<: [*a, *b]`"),
                ));
            }
            saw_merge = true;
            match v.kind {
                NodeKind::Map(m) => merged.extend(m),
                NodeKind::Seq(items) => {
                    let mut groups = Vec::new();
                    for item in items {
                        match item.kind {
                            NodeKind::Map(m) => groups.push(m),
                            _ => {
                                return Err(error(
                                    "expected a mapping for merging",
                                    item.span,
                                    None,
                                ))
                            }
                        }
                    }
                    for g in groups.into_iter().rev() {
                        merged.extend(g);
                    }
                }
                _ => {
                    return Err(error(
                        "expected a mapping or list of mappings for merging",
                        v.span,
                        None,
                    ))
                }
            }
        } else {
            own.push((k, v));
        }
    }
    if !saw_merge {
        for (i, (k, _)) in own.iter().enumerate() {
            if matches!(k.kind, NodeKind::Map(_)) {
                return Err(error("found unhashable key", k.span, None));
            }
            if let Some((first, _)) = own[..i].iter().find(|(p, _)| key_eq(&p.kind, &k.kind)) {
                return Err(error(
                    format!(
                        "found duplicate key \"{}\" (first defined on line {})",
                        k.key_text(),
                        first.span.start.line
                    ),
                    k.span,
                    Some("remove or rename one of the two entries"),
                ));
            }
        }
        return Ok(own);
    }
    merged.extend(own);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: &Node) -> Vec<String> {
        n.map_entries().unwrap().keys().cloned().collect()
    }

    #[test]
    fn merge_keys_follow_ruamel_order() {
        let doc = "a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  <<: [*a, *b]\n  w: 0\n";
        let root = parse(doc).unwrap();
        let c = root.get("c").unwrap();
        assert_eq!(keys(c), ["y", "z", "x", "w"]);
        assert_eq!(c.get("y").unwrap().kind, NodeKind::Int(2));
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(
            err.message.contains("duplicate key \"a\""),
            "{}",
            err.message
        );
        assert_eq!(err.span.start.line, 3);
    }

    #[test]
    fn own_keys_override_merged_ones_without_duplicate_error() {
        let root = parse("m: &m {name: a, v: 1}\nx:\n  <<: *m\n  name: b\n").unwrap();
        let x = root.get("x").unwrap();
        assert_eq!(x.get("name").unwrap().as_str(), Some("b"));
        assert_eq!(keys(x), ["name", "v"]);
    }

    #[test]
    fn empty_stream_is_null_and_spans_are_one_based_lines() {
        assert_eq!(parse("# only a comment\n").unwrap().kind, NodeKind::Null);
        let root = parse("a:\n  b: 1\n").unwrap();
        let b = root.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.span.line_col(), (2, 6));
    }

    #[test]
    fn bad_indentation_is_reported() {
        let err = parse("a:\n  b: 1\n c: 2\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
    }
}
