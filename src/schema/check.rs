//! Checking an instance document against the generated JSON schema.
//!
//! Editors validate `ioc.yaml` with the schema as the user types; ibek's
//! runtime is laxer (it takes `"12"` or `true` for an int). `ioc validate`
//! reports what the schema rejects so the file is clean in the editor too.
//! Each entity is checked against the schema of its own `type` (the
//! discriminator's target), which gives precise messages where a plain
//! `oneOf` would only say "not valid under any of the schemas".

use std::collections::HashMap;

use jsonschema::Validator;
use serde_json::{json, Map, Value};

use crate::source::{Node, NodeKind, Span};

/// One schema violation, located in the document.
#[derive(Debug, Clone)]
pub struct SchemaProblem {
    /// JSON pointer of the offending value (`/entities/3/ADDR`).
    pub pointer: String,
    /// Where that value is written.
    pub span: Span,
    /// The validator's message.
    pub message: String,
}

/// Validators for the document and for each entity type.
pub struct SchemaChecker {
    top: Validator,
    by_type: HashMap<String, Validator>,
}

/// A YAML node as the JSON document editors validate (keys as strings).
pub fn node_to_json(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => i64::try_from(*i).map_or_else(|_| json!(*i as f64), Value::from),
        NodeKind::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        NodeKind::Str(s) | NodeKind::Timestamp(s) => Value::String(s.clone()),
        NodeKind::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        NodeKind::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                m.insert(k.key_text(), node_to_json(v));
            }
            Value::Object(m)
        }
    }
}

fn span_at(root: &Node, pointer: &str) -> Span {
    let mut node = root;
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        let next = match &node.kind {
            NodeKind::Map(entries) => entries.iter().rev().find(|(k, _)| k.key_text() == seg).map(|(_, v)| v),
            NodeKind::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.span
}

impl SchemaChecker {
    /// Compiles the instance schema (as `ioc generate-schema` writes it).
    pub fn new(schema: &Value) -> Result<SchemaChecker, String> {
        let mut top_schema = schema.clone();
        // entities are checked one by one against their own type below
        if let Some(items) = top_schema.pointer_mut("/properties/entities/items") {
            *items = json!({"type": "object"});
        }
        let top = jsonschema::validator_for(&top_schema).map_err(|e| e.to_string())?;
        let defs = schema.get("$defs").cloned().unwrap_or_else(|| json!({}));
        let mapping = schema
            .pointer("/properties/entities/items/discriminator/mapping")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut by_type = HashMap::new();
        for (ty, target) in mapping {
            let Some(target) = target.as_str() else { continue };
            let sub = json!({"$ref": target, "$defs": defs});
            let v = jsonschema::validator_for(&sub).map_err(|e| e.to_string())?;
            by_type.insert(ty, v);
        }
        Ok(SchemaChecker { top, by_type })
    }

    /// Every schema violation of a document.
    pub fn check(&self, root: &Node) -> Vec<SchemaProblem> {
        let doc = node_to_json(root);
        let mut out = Vec::new();
        let mut push = |pointer: String, message: String| {
            // jsonschema's words for ibek's "type or Jinja string" fields say little
            let message = match message.strip_suffix(" is not valid under any of the schemas listed in the 'anyOf' keyword") {
                Some(value) => format!("{value} is neither of the field's type nor a Jinja string (`{{{{ ... }}}}`)"),
                None => message,
            };
            out.push(SchemaProblem {
                span: span_at(root, &pointer),
                pointer,
                message,
            });
        };
        for e in self.top.iter_errors(&doc) {
            push(e.instance_path().to_string(), e.to_string());
        }
        if let Some(entities) = doc.get("entities").and_then(Value::as_array) {
            for (i, entity) in entities.iter().enumerate() {
                let ty = entity.get("type").and_then(Value::as_str);
                match ty.and_then(|t| self.by_type.get(t)) {
                    Some(v) => {
                        for e in v.iter_errors(entity) {
                            push(format!("/entities/{i}{}", e.instance_path()), e.to_string());
                        }
                    }
                    None if entity.is_object() => push(
                        format!("/entities/{i}/type"),
                        format!("`{}` is not one of the entity types of the schema", ty.unwrap_or("(no type)")),
                    ),
                    None => {}
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_errors_are_precise_and_located() {
        let schema = json!({
            "$defs": {"m_E": {"additionalProperties": false, "properties": {
                "type": {"const": "m.E", "type": "string"},
                "n": {"anyOf": [{"pattern": ".*\\{\\{.*\\}\\}.*", "type": "string"}, {"type": "integer"}]}
            }, "required": ["type", "n"], "type": "object"}},
            "properties": {"entities": {"items": {"discriminator": {"mapping": {"m.E": "#/$defs/m_E"}, "propertyName": "type"}, "oneOf": [{"$ref": "#/$defs/m_E"}]}, "type": "array"}},
            "type": "object"
        });
        let checker = SchemaChecker::new(&schema).unwrap();
        let doc = crate::source::parse("entities:\n  - type: m.E\n    n: '12'\n  - type: m.E\n    n: 3\n").unwrap();
        let problems = checker.check(&doc);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/entities/0/n");
        assert_eq!(problems[0].span.line_col(), (3, 8));
    }
}
