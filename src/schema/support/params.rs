//! The parameter and define classes of the support file schema
//! (`IntParam`, `EnumParam`, ..., `Define`).

use super::{field, model, null, obj, reference, s, typed};
use crate::schema::json::Json;

const DESCRIBE_ARG: &str = "Description of what the argument will be used for";
const JINJA_PATTERN: &str = r".*\{\{.*\}\}.*";
/// The description of every `shared` field.
pub(super) const SHARED: &str = "A place to create any anchors required for repeating YAML";

/// A parameter class (`IntParam`, ...): `type`, `description`, `default` and extras.
fn param_model(
    kind: &str,
    title: &str,
    description: &str,
    default_types: Vec<Json>,
    extra: Vec<(&str, Json)>,
) -> Json {
    let mut any_of = default_types;
    any_of.push(null());
    let mut props = vec![
        (
            "type",
            obj(vec![
                ("const", s(kind)),
                ("type", s("string")),
                ("default", s(kind)),
                ("title", s("Type")),
            ]),
        ),
        (
            "description",
            field("string", None, DESCRIBE_ARG, "Description"),
        ),
        (
            "default",
            obj(vec![
                ("anyOf", Json::Array(any_of)),
                ("default", Json::Null),
                ("title", s("Default")),
            ]),
        ),
    ];
    let mut required = vec!["description"];
    for (name, value) in extra {
        props.push((name, value));
        required.push(name);
    }
    model(title, Some(description), props, &required)
}

fn jinja_string() -> Json {
    obj(vec![
        ("type", s("string")),
        ("pattern", s(JINJA_PATTERN)),
        ("description", s("A Jinja2 template string")),
    ])
}

/// The parameter types in the order of ibek's union, with their class names.
pub(super) const PARAM_KINDS: [(&str, &str); 9] = [
    ("float", "FloatParam"),
    ("str", "StrParam"),
    ("int", "IntParam"),
    ("bool", "BoolParam"),
    ("object", "ObjectParam"),
    ("id", "IdParam"),
    ("enum", "EnumParam"),
    ("dict", "DictParam"),
    ("list", "ListParam"),
];

/// The `$defs` of the parameter classes, then `Define` and `DefineType`.
pub(super) fn defs() -> Vec<(&'static str, Json)> {
    vec![
        param_def(
            "float",
            "FloatParam",
            "An argument with a float value",
            vec![typed("number"), jinja_string()],
        ),
        param_def(
            "str",
            "StrParam",
            "An argument with a str value",
            vec![typed("string")],
        ),
        param_def(
            "int",
            "IntParam",
            "An argument with an int value",
            vec![typed("integer"), jinja_string()],
        ),
        param_def(
            "bool",
            "BoolParam",
            "An argument with an bool value",
            vec![typed("boolean"), jinja_string()],
        ),
        param_def(
            "object",
            "ObjectParam",
            "A reference to another entity defined in this IOC",
            vec![typed("string"), Json::empty_object()],
        ),
        param_def(
            "id",
            "IdParam",
            "Explicit ID argument that an object can refer to",
            vec![typed("string")],
        ),
        ("EnumParam", enum_param()),
        param_def(
            "dict",
            "DictParam",
            "An argument with dict value",
            vec![
                obj(vec![
                    ("type", s("object")),
                    ("additionalProperties", Json::Bool(true)),
                ]),
                jinja_string(),
            ],
        ),
        param_def(
            "list",
            "ListParam",
            "An argument with list value",
            vec![
                obj(vec![("type", s("array")), ("items", Json::empty_object())]),
                jinja_string(),
            ],
        ),
        ("Define", define()),
        ("DefineType", define_type()),
    ]
}

/// A parameter class without extra fields, with its `$defs` key (its class name).
fn param_def(
    kind: &str,
    class: &'static str,
    description: &str,
    default_types: Vec<Json>,
) -> (&'static str, Json) {
    (
        class,
        param_model(kind, class, description, default_types, vec![]),
    )
}

/// The `EnumParam` class, whose `values` list the enum's members.
fn enum_param() -> Json {
    param_model(
        "enum",
        "EnumParam",
        "An argument with an enum value",
        vec![Json::empty_object()],
        vec![(
            "values",
            obj(vec![
                ("type", s("object")),
                ("additionalProperties", Json::Bool(true)),
                (
                    "description",
                    s("provides a list of values to make this argument an Enum"),
                ),
                ("title", s("Values")),
            ]),
        )],
    )
}

/// The `Define` class: a calculated value.
fn define() -> Json {
    model(
        "Define",
        Some("A calculated value for an Entity Model"),
        vec![
            (
                "description",
                field(
                    "string",
                    None,
                    "Description of what the value will be used for",
                    "Description",
                ),
            ),
            (
                "value",
                obj(vec![
                    ("description", s("The contents of the value")),
                    ("title", s("Value")),
                ]),
            ),
            (
                "type",
                obj(vec![
                    ("anyOf", Json::Array(vec![reference("DefineType"), null()])),
                    ("default", s("str")),
                    ("description", s("The type of the value")),
                ]),
            ),
        ],
        &["description", "value"],
    )
}

/// The `DefineType` enum: the types a define's value may have.
fn define_type() -> Json {
    obj(vec![
        ("type", s("string")),
        (
            "enum",
            Json::Array(["str", "float", "int", "bool", "list"].map(s).to_vec()),
        ),
        ("title", s("DefineType")),
        ("description", s("The type of a value")),
    ])
}
