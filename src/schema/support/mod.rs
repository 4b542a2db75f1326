//! The schema of support module definitions (`*.ibek.support.yaml`).
//!
//! This is pydantic's schema of ibek 4.8.2's `Support` model, as
//! `ibek support generate-schema` prints it. It does not depend on any
//! input, so it is written out here class by class, fields in the order of
//! ibek's model classes, and sorted the way pydantic sorts.

mod entity;
mod params;

use super::json::{pydantic_sort, Json};
use params::SHARED;

fn s(text: &str) -> Json {
    Json::str(text)
}

fn obj(pairs: Vec<(&str, Json)>) -> Json {
    Json::object(pairs)
}

fn typed(t: &str) -> Json {
    obj(vec![("type", s(t))])
}

fn reference(name: &str) -> Json {
    obj(vec![("$ref", Json::str(format!("#/$defs/{name}")))])
}

fn null() -> Json {
    typed("null")
}

/// A field with a JSON type, optional default, description and title.
fn field(t: &str, default: Option<Json>, description: &str, title: &str) -> Json {
    let mut f = typed(t);
    if let Some(d) = default {
        f.insert("default", d);
    }
    f.insert("description", s(description));
    f.insert("title", s(title));
    f
}

/// A list field whose items are `items`.
fn list_field(items: Json, default: bool, description: &str, title: &str) -> Json {
    let mut f = obj(vec![("type", s("array")), ("items", items)]);
    if default {
        f.insert("default", Json::Array(vec![]));
    }
    f.insert("description", s(description));
    f.insert("title", s(title));
    f
}

/// A model class: fields in declaration order, the required ones listed.
fn model(
    title: &str,
    description: Option<&str>,
    props: Vec<(&str, Json)>,
    required: &[&str],
) -> Json {
    let mut m = obj(vec![("type", s("object")), ("properties", obj(props))]);
    if !required.is_empty() {
        m.insert(
            "required",
            Json::Array(required.iter().map(|r| s(r)).collect()),
        );
    }
    m.insert("title", s(title));
    if let Some(d) = description {
        m.insert("description", s(d));
    }
    m.insert("additionalProperties", Json::Bool(false));
    m
}

/// The JSON schema of `*.ibek.support.yaml` files (ibek 4.8.2's `Support` model).
pub fn support_schema() -> Json {
    let mut defs = params::defs();
    defs.extend(entity::defs());
    let schema = obj(vec![
        ("type", s("object")),
        (
            "properties",
            obj(vec![
                ("shared", list_field(Json::empty_object(), true, SHARED, "Shared")),
                ("module", field("string", None, "Support module name, normally the repo name", "Module")),
                (
                    "entity_models",
                    list_field(
                        reference("EntityModel"),
                        false,
                        "The Entity Models an IOC can create using this module",
                        "Entity Models",
                    ),
                ),
            ]),
        ),
        ("required", Json::Array(vec![s("module"), s("entity_models")])),
        ("title", s("Support")),
        (
            "description",
            s("Lists the EntityModels for a support module, this defines what Entities it supports"),
        ),
        ("additionalProperties", Json::Bool(false)),
        ("$defs", Json::object(defs)),
    ]);
    pydantic_sort(schema)
}
