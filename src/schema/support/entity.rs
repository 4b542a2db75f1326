//! The entity model classes of the support file schema: `EntityModel` and
//! the script, database, environment, PVI, validation and sub-entity parts.

use super::params::{PARAM_KINDS, SHARED};
use super::{field, list_field, model, null, obj, reference, s, typed};
use crate::schema::json::Json;

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

/// A `pre_defines` / `post_defines` field: named `Define`s.
fn defines_field(description: &str, title: &str) -> Json {
    obj(vec![
        ("type", s("object")),
        ("additionalProperties", reference("Define")),
        ("default", Json::empty_object()),
        ("description", s(description)),
        ("title", s(title)),
    ])
}

/// A `pre_init` / `post_init` item: text or a comment.
fn script_item() -> Json {
    obj(vec![(
        "anyOf",
        Json::Array(vec![reference("Text"), reference("Comment")]),
    )])
}

/// The `parameters` field: named parameters, one of the kinds by their `type`.
fn parameters_field() -> Json {
    obj(vec![
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
    ])
}

/// The `EntityModel` class.
fn entity_model() -> Json {
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
                defines_field(
                    "Calculated values to use as additional arguments With Jinja evaluation before all Args",
                    "Pre Defines",
                ),
            ),
            ("parameters", parameters_field()),
            (
                "post_defines",
                defines_field(
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
                list_field(script_item(), true, "Startup script snippets to add before iocInit()", "Pre Init"),
            ),
            (
                "post_init",
                list_field(
                    script_item(),
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

/// The `$defs` of the entity model classes.
pub(super) fn defs() -> Vec<(&'static str, Json)> {
    vec![
        ("Validation", validation()),
        ("Text", text()),
        ("Comment", comment()),
        ("When", when_enum()),
        ("Database", database()),
        ("EnvironmentVariable", environment_variable()),
        ("EntityPVI", entity_pvi()),
        ("SubEntity", sub_entity()),
        ("EntityModel", entity_model()),
    ]
}

/// The `Text` and `Comment` classes, which differ in kind, title, description,
/// `when` and the description of `value`.
fn text_or_comment(kind: &str, title: &str, description: &str, when: Json, value: &str) -> Json {
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
}

/// The `Validation` class: an assertion on an entity instance.
fn validation() -> Json {
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
    )
}

/// The `Text` class: a script snippet.
fn text() -> Json {
    text_or_comment(
        "text",
        "Text",
        "A script snippet to insert into the startup script",
        field(
            "string",
            Some(s("every")),
            "One of first / every / last",
            "When",
        ),
        "raw text to add to the startup script",
    )
}

/// The `Comment` class: a script snippet written as a comment.
fn comment() -> Json {
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
    )
}

/// The `When` enum: where a script snippet goes.
fn when_enum() -> Json {
    obj(vec![
        ("type", s("string")),
        (
            "enum",
            Json::Array(["first", "every", "last"].map(s).to_vec()),
        ),
        ("title", s("When")),
    ])
}

/// The `Database` class: a database file and its args.
fn database() -> Json {
    model(
        "Database",
        Some("A database file that should be loaded by the startup script and its args"),
        vec![
            (
                "file",
                field(
                    "string",
                    None,
                    "Filename of the database template in <module_root>/db",
                    "File",
                ),
            ),
            (
                "enabled",
                field(
                    "string",
                    Some(s("True")),
                    "Set to False to disable loading this database",
                    "Enabled",
                ),
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
    )
}

/// The `EnvironmentVariable` class.
fn environment_variable() -> Json {
    model(
        "EnvironmentVariable",
        Some("An environment variable that should be set in the startup script"),
        vec![
            (
                "name",
                field("string", None, "Name of environment variable", "Name"),
            ),
            ("value", field("string", None, "Value to set", "Value")),
        ],
        &["name", "value"],
    )
}

/// The `EntityPVI` class: an entity's PVI definition.
fn entity_pvi() -> Json {
    model(
        "EntityPVI",
        Some("Entity PVI definition"),
        vec![
            (
                "yaml_path",
                field(
                    "string",
                    None,
                    "Path to .pvi.device.yaml - absolute or relative to PVI_DEFS",
                    "Yaml Path",
                ),
            ),
            (
                "ui_index",
                field(
                    "boolean",
                    Some(Json::Bool(true)),
                    "Whether to add the UI to the IOC index.",
                    "Ui Index",
                ),
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
                field(
                    "string",
                    Some(s("")),
                    "PV prefix for PVI PV - e.g. \"$(P)\"",
                    "Pv Prefix",
                ),
            ),
        ],
        &["yaml_path"],
    )
}

/// The `SubEntity` class: an entity a collection instantiates.
fn sub_entity() -> Json {
    let mut m = model(
        "SubEntity",
        Some(
            "A loosely defined class to declare the Entities\nin an ibek.support.yaml file in \
             the 'sub_entities' property of an Entity\nsection",
        ),
        vec![
            (
                "type",
                field("string", None, "The type of this entity", "Type"),
            ),
            (
                "entity_enabled",
                field(
                    "boolean",
                    Some(Json::Bool(true)),
                    "enable or disable this entity instance",
                    "Entity Enabled",
                ),
            ),
        ],
        &["type"],
    );
    // sub-entities take the target model's parameters as extra keys
    m.insert("additionalProperties", Json::Bool(true));
    m
}
