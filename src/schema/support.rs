//! The schema of support module definitions (`*.ibek.support.yaml`).
//!
//! This is pydantic's schema of ibek 4.8.2's `Support` model, as
//! `ibek support generate-schema` prints it. It does not depend on any
//! input, so it is written out here field by field, in the order of ibek's
//! model classes, and sorted the way pydantic sorts.

use super::json::{pydantic_sort, Json};

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

const DESCRIBE_ARG: &str = "Description of what the argument will be used for";
const JINJA_PATTERN: &str = r".*\{\{.*\}\}.*";
const SHARED: &str = "A place to create any anchors required for repeating YAML";

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

/// `dict[str, str | None]`, the form of database args and PVI macros.
fn macro_map() -> Json {
    obj(vec![(
        "anyOf",
        Json::Array(vec![
            obj(vec![
                ("type", s("object")),
                (
                    "additionalProperties",
                    obj(vec![("anyOf", Json::Array(vec![typed("string"), null()]))]),
                ),
            ]),
            null(),
        ]),
    )])
}

const PARAM_KINDS: [(&str, &str); 9] = [
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

fn entity_model() -> Json {
    let defines = |description: &str, title: &str| {
        obj(vec![
            ("type", s("object")),
            ("additionalProperties", reference("Define")),
            ("default", Json::empty_object()),
            ("description", s(description)),
            ("title", s(title)),
        ])
    };
    let script = || {
        obj(vec![(
            "anyOf",
            Json::Array(vec![reference("Text"), reference("Comment")]),
        )])
    };
    let parameters = obj(vec![
        ("type", s("object")),
        (
            "additionalProperties",
            obj(vec![
                (
                    "oneOf",
                    Json::Array(PARAM_KINDS.iter().map(|(_, c)| reference(c)).collect()),
                ),
                ("description", s("union of arg types")),
                (
                    "discriminator",
                    obj(vec![
                        ("propertyName", s("type")),
                        (
                            "mapping",
                            Json::object(
                                PARAM_KINDS
                                    .iter()
                                    .map(|(k, c)| (*k, Json::str(format!("#/$defs/{c}")))),
                            ),
                        ),
                    ]),
                ),
            ]),
        ),
        ("default", Json::empty_object()),
        ("description", s("The arguments IOC instance should supply")),
        ("title", s("Parameters")),
    ]);
    let pvi = obj(vec![
        ("anyOf", Json::Array(vec![reference("EntityPVI"), null()])),
        ("default", Json::Null),
        ("description", s("PVI definition for Entity")),
    ]);
    model(
        "EntityModel",
        Some("A Model for a class of Entity that an IOC instance may instantiate"),
        vec![
            (
                "name",
                field(
                    "string",
                    None,
                    "Publish EntityModel as type <module>.<name> for IOC instances",
                    "Name",
                ),
            ),
            (
                "description",
                field("string", None, "A description of the Support module defined here", "Description"),
            ),
            (
                "pre_defines",
                defines(
                    "Calculated values to use as additional arguments With Jinja evaluation before all Args",
                    "Pre Defines",
                ),
            ),
            ("parameters", parameters),
            (
                "post_defines",
                defines(
                    "Calculated values to use as additional arguments With Jinja evaluation after all Args",
                    "Post Defines",
                ),
            ),
            (
                "validate",
                list_field(
                    reference("Validation"),
                    true,
                    "Assertions to check against each enabled instance of this Entity, after all \
                     pre_defines, parameters and post_defines are rendered",
                    "Validate",
                ),
            ),
            (
                "pre_init",
                list_field(script(), true, "Startup script snippets to add before iocInit()", "Pre Init"),
            ),
            (
                "post_init",
                list_field(
                    script(),
                    true,
                    "Startup script snippets to add post iocInit(), such as dbpf",
                    "Post Init",
                ),
            ),
            (
                "databases",
                list_field(reference("Database"), true, "Databases to instantiate", "Databases"),
            ),
            (
                "env_vars",
                list_field(
                    reference("EnvironmentVariable"),
                    true,
                    "Environment variables to set in the boot script",
                    "Env Vars",
                ),
            ),
            ("pvi", pvi),
            (
                "sub_entities",
                list_field(
                    reference("SubEntity"),
                    true,
                    "The sub-entity instances that this collection is to instantiate",
                    "Sub Entities",
                ),
            ),
            ("shared", list_field(Json::empty_object(), true, SHARED, "Shared")),
        ],
        &["name", "description"],
    )
}

/// The JSON schema of `*.ibek.support.yaml` files (ibek 4.8.2's `Support` model).
pub fn support_schema() -> Json {
    let text_or_comment = |kind: &str, title: &str, description: &str, when: Json, value: &str| {
        model(
            title,
            Some(description),
            vec![
                (
                    "type",
                    obj(vec![
                        ("const", s(kind)),
                        ("type", s("string")),
                        ("default", s(kind)),
                        ("title", s("Type")),
                    ]),
                ),
                ("when", when),
                ("value", field("string", Some(s("")), value, "Value")),
            ],
            &[],
        )
    };
    let defs = vec![
        (
            "FloatParam",
            param_model("float", "FloatParam", "An argument with a float value", vec![typed("number"), jinja_string()], vec![]),
        ),
        (
            "StrParam",
            param_model("str", "StrParam", "An argument with a str value", vec![typed("string")], vec![]),
        ),
        (
            "IntParam",
            param_model("int", "IntParam", "An argument with an int value", vec![typed("integer"), jinja_string()], vec![]),
        ),
        (
            "BoolParam",
            param_model("bool", "BoolParam", "An argument with an bool value", vec![typed("boolean"), jinja_string()], vec![]),
        ),
        (
            "ObjectParam",
            param_model(
                "object",
                "ObjectParam",
                "A reference to another entity defined in this IOC",
                vec![typed("string"), Json::empty_object()],
                vec![],
            ),
        ),
        (
            "IdParam",
            param_model("id", "IdParam", "Explicit ID argument that an object can refer to", vec![typed("string")], vec![]),
        ),
        (
            "EnumParam",
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
                        ("description", s("provides a list of values to make this argument an Enum")),
                        ("title", s("Values")),
                    ]),
                )],
            ),
        ),
        (
            "DictParam",
            param_model(
                "dict",
                "DictParam",
                "An argument with dict value",
                vec![obj(vec![("type", s("object")), ("additionalProperties", Json::Bool(true))]), jinja_string()],
                vec![],
            ),
        ),
        (
            "ListParam",
            param_model(
                "list",
                "ListParam",
                "An argument with list value",
                vec![obj(vec![("type", s("array")), ("items", Json::empty_object())]), jinja_string()],
                vec![],
            ),
        ),
        (
            "Define",
            model(
                "Define",
                Some("A calculated value for an Entity Model"),
                vec![
                    (
                        "description",
                        field("string", None, "Description of what the value will be used for", "Description"),
                    ),
                    (
                        "value",
                        obj(vec![("description", s("The contents of the value")), ("title", s("Value"))]),
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
            ),
        ),
        (
            "DefineType",
            obj(vec![
                ("type", s("string")),
                ("enum", Json::Array(["str", "float", "int", "bool", "list"].map(s).to_vec())),
                ("title", s("DefineType")),
                ("description", s("The type of a value")),
            ]),
        ),
        (
            "Validation",
            model(
                "Validation",
                Some(
                    "A check on an Entity instance, evaluated after all of its pre_defines,\n\
                     parameters and post_defines have been rendered",
                ),
                vec![
                    (
                        "assert",
                        field(
                            "string",
                            None,
                            "A Jinja expression, without '{{ }}', that must be true for the Entity \
                             instance to be valid. Any of the Entity's pre_defines, parameters and \
                             post_defines may be used, including attributes of object parameters",
                            "Assert",
                        ),
                    ),
                    (
                        "message",
                        field(
                            "string",
                            None,
                            "The error message reported if the assertion is false. This may contain Jinja",
                            "Message",
                        ),
                    ),
                ],
                &["assert", "message"],
            ),
        ),
        (
            "Text",
            text_or_comment(
                "text",
                "Text",
                "A script snippet to insert into the startup script",
                field("string", Some(s("every")), "One of first / every / last", "When"),
                "raw text to add to the startup script",
            ),
        ),
        (
            "Comment",
            text_or_comment(
                "comment",
                "Comment",
                "A script snippet that will have '# ' prepended to every line\nfor insertion into the startup script",
                obj(vec![
                    ("$ref", s("#/$defs/When")),
                    ("default", s("every")),
                    ("description", s("One of first / every / last")),
                ]),
                "A comment to add into the startup script",
            ),
        ),
        (
            "When",
            obj(vec![
                ("type", s("string")),
                ("enum", Json::Array(["first", "every", "last"].map(s).to_vec())),
                ("title", s("When")),
            ]),
        ),
        (
            "Database",
            model(
                "Database",
                Some("A database file that should be loaded by the startup script and its args"),
                vec![
                    (
                        "file",
                        field("string", None, "Filename of the database template in <module_root>/db", "File"),
                    ),
                    (
                        "enabled",
                        field("string", Some(s("True")), "Set to False to disable loading this database", "Enabled"),
                    ),
                    ("args", {
                        let mut a = macro_map();
                        a.insert(
                            "description",
                            s("Dictionary of args and values to pass through to database. A value of \
                               None is equivalent to ARG: '{{ ARG }}'. See `UTILS.render_map` for more details."),
                        );
                        a.insert("title", s("Args"));
                        a
                    }),
                ],
                &["file", "args"],
            ),
        ),
        (
            "EnvironmentVariable",
            model(
                "EnvironmentVariable",
                Some("An environment variable that should be set in the startup script"),
                vec![
                    ("name", field("string", None, "Name of environment variable", "Name")),
                    ("value", field("string", None, "Value to set", "Value")),
                ],
                &["name", "value"],
            ),
        ),
        (
            "EntityPVI",
            model(
                "EntityPVI",
                Some("Entity PVI definition"),
                vec![
                    (
                        "yaml_path",
                        field("string", None, "Path to .pvi.device.yaml - absolute or relative to PVI_DEFS", "Yaml Path"),
                    ),
                    (
                        "ui_index",
                        field("boolean", Some(Json::Bool(true)), "Whether to add the UI to the IOC index.", "Ui Index"),
                    ),
                    ("ui_macros", {
                        let mut m = macro_map();
                        m.insert("default", Json::Null);
                        m.insert(
                            "description",
                            s("Macros to launch the UI on the IOC index. These must be args of the Entity this is attached to."),
                        );
                        m.insert("title", s("Ui Macros"));
                        m
                    }),
                    (
                        "pv",
                        field(
                            "boolean",
                            Some(Json::Bool(false)),
                            "Whether to generate a PVI PV. This adds a database template with info tags \
                             that create a PVAccess PV representing the device structure.",
                            "Pv",
                        ),
                    ),
                    (
                        "pv_prefix",
                        field("string", Some(s("")), "PV prefix for PVI PV - e.g. \"$(P)\"", "Pv Prefix"),
                    ),
                ],
                &["yaml_path"],
            ),
        ),
        ("SubEntity", {
            let mut m = model(
                "SubEntity",
                Some(
                    "A loosely defined class to declare the Entities\nin an ibek.support.yaml file in \
                     the 'sub_entities' property of an Entity\nsection",
                ),
                vec![
                    ("type", field("string", None, "The type of this entity", "Type")),
                    (
                        "entity_enabled",
                        field("boolean", Some(Json::Bool(true)), "enable or disable this entity instance", "Entity Enabled"),
                    ),
                ],
                &["type"],
            );
            // sub-entities take the target model's parameters as extra keys
            m.insert("additionalProperties", Json::Bool(true));
            m
        }),
        ("EntityModel", entity_model()),
    ];
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
