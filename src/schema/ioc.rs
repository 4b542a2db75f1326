//! The IOC instance schema: what `ibek ioc generate-schema` writes.
//!
//! ibek turns every entity model into a pydantic class (`module_Name`) whose
//! fields are `type`, `entity_enabled` and the parameters, unions them with
//! the built-in `ibek.*` entities under a discriminator on `type`, and prints
//! pydantic's JSON schema of the resulting `NewIOC` model. This module builds
//! the same document: each part in the order pydantic inserts it, `$defs`
//! named as pydantic names them, and finally pydantic's key sort, so the
//! printed text matches byte for byte.

use std::sync::Arc;

use indexmap::IndexMap;

use super::builtin::{entity_enabled_field, Builtin};
use super::encode::encode_value;
use super::enums::{enum_def, enum_members};
use super::json::{pydantic_sort, Json};
use super::names::{choose_names, field_title, DefNamer};
use super::SchemaError;
use crate::model::convert::{is_jinja, lax_bool, lax_float, lax_int, to_value};
use crate::model::support::{EntityModel, Param, ParamType, SupportModule};

/// ibek's `JINJA` pattern, offered as an alternative for typed parameters.
const JINJA_PATTERN: &str = r".*\{\{.*\}\}.*";

/// The module ibek creates entity classes and enums in (it names `$defs` on clashes).
const FACTORY_MODULE: &str = "ibek.entity_factory";

/// Field names pydantic refuses on a model (`create_model` raises).
const RESERVED_FIELDS: &[&str] = &[
    "model_config",
    "model_dump",
    "model_dump_json",
    "model_validate",
    "model_validate_json",
    "model_validate_strings",
];

#[derive(Debug, Clone)]
enum Member {
    Model(Arc<EntityModel>),
    Builtin(Builtin),
}

/// A `$defs` entry before its final name is known.
struct Def {
    candidates: Vec<String>,
    schema: Json,
}

impl Def {
    /// The name pydantic uses until it shortens names; refs are written with it first.
    fn provisional(&self) -> &str {
        self.candidates.last().map_or("", String::as_str)
    }
}

fn ref_to(name: &str) -> Json {
    Json::str(format!("#/$defs/{name}"))
}

/// The JSON schema of an IOC instance file using the entity models of `modules`.
///
/// Modules are taken in order; a later model with the same `module.name`
/// replaces an earlier one in its place, as ibek's registry does.
pub fn ioc_schema(modules: &[SupportModule]) -> Result<Json, SchemaError> {
    let (defs, union) = entity_defs(modules)?;
    let pairs: Vec<(Vec<String>, &Json)> = defs
        .iter()
        .map(|d| (d.candidates.clone(), &d.schema))
        .collect();
    let names = choose_names(&pairs);
    let renames: IndexMap<String, String> = defs
        .iter()
        .zip(&names)
        .map(|(d, n)| {
            (
                format!("#/$defs/{}", d.provisional()),
                format!("#/$defs/{n}"),
            )
        })
        .collect();

    let entities = entities_field(&defs, &union);
    let mut all_defs: IndexMap<String, Json> = IndexMap::new();
    for (def, name) in defs.into_iter().zip(names) {
        // equal schemas may share a name; as in a Python dict, the last one stays
        all_defs.insert(name, def.schema);
    }
    let mut schema = Json::object([
        ("type", Json::str("object")),
        (
            "properties",
            Json::object([
                (
                    "ioc_name",
                    plain_field("string", "Name of IOC instance", "Ioc Name"),
                ),
                (
                    "description",
                    plain_field("string", "Description of what the IOC does", "Description"),
                ),
                ("entities", entities),
                ("shared", shared_field()),
            ]),
        ),
        (
            "required",
            Json::Array(vec![
                Json::str("ioc_name"),
                Json::str("description"),
                Json::str("entities"),
            ]),
        ),
        ("title", Json::str("NewIOC")),
        ("additionalProperties", Json::Bool(false)),
        ("$defs", Json::Object(all_defs)),
    ]);
    rename_refs(&mut schema, &renames);
    Ok(pydantic_sort(schema))
}

/// The union of entity types: each `type` with the index of its class in the defs.
type Union = Vec<(String, usize)>;

/// The `$defs` of every entity class (and the enums they use) under provisional
/// names, and the union of entity types.
fn entity_defs(modules: &[SupportModule]) -> Result<(Vec<Def>, Union), SchemaError> {
    let mut members: IndexMap<String, Member> = IndexMap::new();
    for m in modules {
        for e in &m.entity_models {
            members.insert(e.full_name(), Member::Model(e.clone()));
        }
    }
    for b in Builtin::ALL {
        members.insert(b.type_name().to_string(), Member::Builtin(b));
    }

    // pydantic meets each model's enums, then the model itself, in union order
    let mut namer = DefNamer::default();
    let mut defs: Vec<Def> = Vec::new();
    let mut union: Union = Vec::new();
    for (type_name, member) in &members {
        let index = match member {
            Member::Model(model) => model_def(model, &mut namer, &mut defs)?,
            Member::Builtin(b) => {
                defs.push(Def {
                    candidates: namer.candidates(b.module(), b.class()),
                    schema: b.schema(),
                });
                defs.len() - 1
            }
        };
        union.push((type_name.clone(), index));
    }
    Ok((defs, union))
}

/// The `entities` property: a list whose items are one of the entity classes,
/// told apart by their `type`.
fn entities_field(defs: &[Def], union: &[(String, usize)]) -> Json {
    let one_of: Vec<Json> = union
        .iter()
        .map(|(_, i)| Json::object([("$ref", ref_to(defs[*i].provisional()))]))
        .collect();
    let mapping = Json::object(
        union
            .iter()
            .map(|(t, i)| (t.clone(), ref_to(defs[*i].provisional()))),
    );
    Json::object([
        ("type", Json::str("array")),
        (
            "items",
            Json::object([
                ("oneOf", Json::Array(one_of)),
                (
                    "discriminator",
                    Json::object([("propertyName", Json::str("type")), ("mapping", mapping)]),
                ),
            ]),
        ),
        (
            "description",
            Json::str("List of entities this IOC instantiates"),
        ),
        ("title", Json::str("Entities")),
    ])
}

/// Replaces provisional `$ref`s (and discriminator mapping targets) with final names.
fn rename_refs(value: &mut Json, renames: &IndexMap<String, String>) {
    match value {
        Json::Str(s) => {
            if let Some(new) = renames.get(s.as_str()) {
                s.clone_from(new);
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renames)),
        Json::Object(map) => map.values_mut().for_each(|v| rename_refs(v, renames)),
        _ => {}
    }
}

/// `{"type": ..., "description": ..., "title": ...}` in pydantic's insertion order.
fn plain_field(typ: &str, description: &str, title: &str) -> Json {
    Json::object([
        ("type", Json::str(typ)),
        ("description", Json::str(description)),
        ("title", Json::str(title)),
    ])
}

/// The `shared` field of instances and entity models (a place for YAML anchors).
fn shared_field() -> Json {
    Json::object([
        ("type", Json::str("array")),
        ("items", Json::empty_object()),
        ("default", Json::Array(vec![])),
        (
            "description",
            Json::str("A place to create any anchors required for repeating YAML"),
        ),
        ("title", Json::str("Shared")),
    ])
}

/// The schema of one entity model's class; its enums are added to `defs` first.
fn model_def(
    model: &Arc<EntityModel>,
    namer: &mut DefNamer,
    defs: &mut Vec<Def>,
) -> Result<usize, SchemaError> {
    let full_name = model.full_name();
    let class_name = full_name.replace('.', "_");
    let mut properties: IndexMap<String, Json> = IndexMap::new();
    properties.insert(
        "type".into(),
        Json::object([
            ("const", Json::str(&full_name)),
            ("type", Json::str("string")),
            ("description", Json::str(&model.description)),
            ("title", Json::str("Type")),
        ]),
    );
    properties.insert("entity_enabled".into(), entity_enabled_field());
    let mut required: Vec<String> = vec!["type".into()];
    for (name, param) in &model.parameters {
        // `type` is replaced by the discriminator; leading underscores make
        // private attributes, which pydantic leaves out of the schema
        if name == "type" || name.starts_with('_') {
            continue;
        }
        if RESERVED_FIELDS.contains(&name.as_str()) {
            return Err(SchemaError::ReservedParameter {
                entity: full_name,
                param: name.clone(),
                file: model.source.clone(),
                span: param.span,
            });
        }
        let field = param_field(&full_name, model, param, namer, defs)?;
        if param.default_node.is_none() {
            required.push(name.clone());
        }
        properties.insert(name.clone(), field);
    }
    // an `entity_enabled` parameter keeps the base field's place; required follows field order
    let required: Vec<Json> = properties
        .keys()
        .filter(|k| required.contains(k))
        .map(Json::str)
        .collect();
    let schema = Json::object([
        ("type", Json::str("object")),
        ("properties", Json::Object(properties)),
        ("required", Json::Array(required)),
        ("title", Json::str(&class_name)),
        ("additionalProperties", Json::Bool(false)),
    ]);
    defs.push(Def {
        candidates: namer.candidates(FACTORY_MODULE, &class_name),
        schema,
    });
    Ok(defs.len() - 1)
}

/// The schema of one parameter field.
fn param_field(
    full_name: &str,
    model: &EntityModel,
    param: &Param,
    namer: &mut DefNamer,
    defs: &mut Vec<Def>,
) -> Result<Json, SchemaError> {
    let default = param_default(param);
    let title = field_title(&param.name);
    let description = Json::str(&param.description);
    let mut field = Json::empty_object();
    match param.typ {
        ParamType::Str | ParamType::Id => {
            field.insert("type", Json::str("string"));
            push_default(&mut field, default);
            field.insert("description", description);
            field.insert("title", Json::str(title));
        }
        ParamType::Object => {
            push_default(&mut field, default);
            field.insert("description", description);
            field.insert("title", Json::str(title));
        }
        ParamType::Enum => {
            let members = enum_members(full_name, model, param)?;
            if members.is_empty() {
                // pydantic inlines an enum without members instead of referring to it
                field.insert("title", Json::str(&param.name));
                field.insert("enum", Json::Array(vec![]));
                push_default(&mut field, default);
                field.insert("description", description);
            } else {
                let def = enum_def(&param.name, members);
                let candidates = namer.candidates(FACTORY_MODULE, &param.name);
                field.insert("$ref", ref_to(candidates.last().map_or("", String::as_str)));
                defs.push(Def {
                    candidates,
                    schema: def,
                });
                push_default(&mut field, default);
                field.insert("description", description);
            }
        }
        ParamType::Int | ParamType::Float | ParamType::Bool | ParamType::List | ParamType::Dict => {
            let (json_type, class) = match param.typ {
                ParamType::Int => ("integer", "int"),
                ParamType::Float => ("number", "float"),
                ParamType::Bool => ("boolean", "bool"),
                ParamType::List => ("array", "list"),
                _ => ("object", "dict"),
            };
            let jinja = Json::object([
                ("type", Json::str("string")),
                ("pattern", Json::str(JINJA_PATTERN)),
                (
                    "description",
                    Json::str(format!("jinja that renders to <class '{class}'>")),
                ),
            ]);
            let mut typed = Json::object([("type", Json::str(json_type))]);
            match param.typ {
                ParamType::List => typed.insert("items", Json::empty_object()),
                ParamType::Dict => typed.insert("additionalProperties", Json::Bool(true)),
                _ => {}
            }
            typed.insert("description", description);
            field.insert("anyOf", Json::Array(vec![jinja, typed]));
            push_default(&mut field, default);
            // ibek's f-string leaves `{typ}` unformatted in the second half
            field.insert(
                "description",
                Json::str(format!(
                    "union of <class '{class}'> and jinja representation of {{typ}}"
                )),
            );
            field.insert("title", Json::str(title));
        }
    }
    Ok(field)
}

fn push_default(field: &mut Json, default: Option<Json>) {
    if let Some(d) = default {
        field.insert("default", d);
    }
}

/// The default as pydantic holds it after validating the support file:
/// typed parameters convert (`"12"` → `12`, `5` → `5.0` for a float) unless
/// the default is a Jinja string; the others keep the YAML value.
fn param_default(param: &Param) -> Option<Json> {
    let node = param.default_node.as_ref()?;
    let jinja = node.as_str().is_some_and(is_jinja);
    let converted = match param.typ {
        _ if jinja => None,
        ParamType::Int => lax_int(&to_value(node)).ok().map(Json::Int),
        ParamType::Float => lax_float(&to_value(node)).ok().map(Json::Float),
        ParamType::Bool => lax_bool(&to_value(node)).ok().map(Json::Bool),
        _ => None,
    };
    Some(converted.unwrap_or_else(|| encode_value(node)))
}
