//! Enum parameters as ibek makes them: `Enum(name, {str(k): k for k in values})`.
//!
//! The members are the `values` keys, named by Python's `str()`; Python's
//! `Enum` drops dunder and private names and refuses `mro`, empty and
//! `_sunder_` names. The schema lists the members' values under `enum`, with
//! a `type` when they share one JSON type.

use indexmap::IndexMap;

use super::encode::{encode_value, py_dict, py_str};
use super::json::Json;
use super::SchemaError;
use crate::model::support::{EntityModel, Param};
use crate::source::Node;

/// The values an enum parameter's class ends up with: Python's
/// `Enum(name, {str(k): k for k in values})`.
pub(super) fn enum_members(
    full_name: &str,
    model: &EntityModel,
    param: &Param,
) -> Result<Vec<Json>, SchemaError> {
    let mut by_name: IndexMap<String, &Node> = IndexMap::new();
    for (key, _) in py_dict(&param.values) {
        by_name.insert(py_str(key), key);
    }
    let mut members = Vec::new();
    for (name, key) in by_name {
        if is_dunder(&name) || is_private(&param.name, &name) {
            // Enum turns these into plain attributes, not members
            continue;
        }
        if name.is_empty() || name == "mro" || is_sunder(&name) {
            return Err(SchemaError::EnumMember {
                entity: full_name.to_string(),
                param: param.name.clone(),
                member: name,
                file: model.source.clone(),
                span: key.span,
            });
        }
        members.push(encode_value(key));
    }
    Ok(members)
}

fn is_dunder(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 4
        && name.starts_with("__")
        && name.ends_with("__")
        && b[2] != b'_'
        && b[b.len() - 3] != b'_'
}

fn is_sunder(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 2 && b[0] == b'_' && b[b.len() - 1] == b'_' && b[1] != b'_' && b[b.len() - 2] != b'_'
}

fn is_private(class: &str, name: &str) -> bool {
    let prefix = format!("_{class}__");
    name.len() > prefix.len() && name.starts_with(&prefix) && !(name.ends_with("__"))
}

/// An enum's `$defs` entry; `type` only when all values share one JSON type.
pub(super) fn enum_def(name: &str, members: Vec<Json>) -> Json {
    let kind = |v: &Json| match v {
        Json::Str(_) => Some("string"),
        Json::Int(_) => Some("integer"),
        Json::Float(_) => Some("number"),
        Json::Bool(_) => Some("boolean"),
        Json::Array(_) => Some("array"),
        _ => None,
    };
    let first = members.first().and_then(kind);
    let shared = first.filter(|k| members.iter().all(|m| kind(m) == Some(k)));
    let mut def = Json::object([("title", Json::str(name)), ("enum", Json::Array(members))]);
    if let Some(t) = shared {
        def.insert("type", Json::str(t));
    }
    def
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_member_names_follow_python_enum() {
        assert!(is_dunder("__d__"));
        assert!(!is_dunder("__d"));
        assert!(is_sunder("_order_"));
        assert!(!is_sunder("_x"));
        assert!(is_private("e", "_e__x"));
        assert!(!is_private("e", "_e__x__"));
    }

    #[test]
    fn enum_type_only_when_values_agree() {
        let d = enum_def("e", vec![Json::Int(1), Json::str("a")]);
        assert!(d.get("type").is_none());
        let d = enum_def("e", vec![Json::Bool(true), Json::Bool(false)]);
        assert_eq!(d.get("type"), Some(&Json::str("boolean")));
    }
}
