//! Support module definitions: `*.ibek.support.yaml` in ibek 4.x format.
//!
//! A [`SupportModule`] lists the entity models an IOC instance can create.
//! Reading follows ibek's pydantic models field for field (unknown fields
//! are errors, required fields are required, types are checked in lax mode)
//! so that the same files are accepted and rejected.

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::Value;

use super::convert::{is_jinja, lax_bool, lax_float, lax_int, to_value};
use super::reader::{MapReader, Sink};
use crate::diag::Diagnostics;
use crate::source::{Node, NodeKind, SourceFile, Span};

/// The type of an entity model parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `str`
    Str,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `bool`
    Bool,
    /// `enum` with `values`
    Enum,
    /// `object`: a reference to another entity by id
    Object,
    /// `id`: the name other entities refer to this one by
    Id,
    /// `list`
    List,
    /// `dict`
    Dict,
}

impl ParamType {
    /// The name used in YAML and in ibek's type coercion.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Str => "str",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Enum => "enum",
            ParamType::Object => "object",
            ParamType::Id => "id",
            ParamType::List => "list",
            ParamType::Dict => "dict",
        }
    }

    fn parse(s: &str) -> Option<ParamType> {
        Some(match s {
            "str" => ParamType::Str,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "bool" => ParamType::Bool,
            "enum" => ParamType::Enum,
            "object" => ParamType::Object,
            "id" => ParamType::Id,
            "list" => ParamType::List,
            "dict" => ParamType::Dict,
            _ => return None,
        })
    }

    /// The YAML spellings of all types, for hints.
    pub const ALL: &'static [&'static str] = &[
        "float", "str", "int", "bool", "object", "id", "enum", "dict", "list",
    ];

    /// Whether instances may give a Jinja string in place of a typed value.
    pub fn accepts_jinja_string(self) -> bool {
        !matches!(
            self,
            ParamType::Str | ParamType::Object | ParamType::Enum | ParamType::Id
        )
    }
}

/// One parameter of an entity model.
#[derive(Debug, Clone)]
pub struct Param {
    /// The parameter name.
    pub name: String,
    /// Its type.
    pub typ: ParamType,
    /// Its description (shown in the schema).
    pub description: String,
    /// The default after pydantic's conversion; `None` means required.
    pub default: Option<Value>,
    /// The default as written, for the schema.
    pub default_node: Option<Node>,
    /// Enum keys (what instances write) and values (what templates see).
    pub values: Vec<(Node, Node)>,
    /// Where the parameter is defined.
    pub span: Span,
}

/// A pre- or post-define: a value computed for every entity.
#[derive(Debug, Clone)]
pub struct Define {
    /// The define name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The value (a template string or any YAML value; lists are shared between entities).
    pub value: Value,
    /// The type the rendered value is coerced to; `None` for `type: null`.
    pub typ: Option<&'static str>,
    /// Where the value is written.
    pub span: Span,
}

/// When a script snippet is emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// Once per entity model name (and kind of snippet).
    First,
    /// For every entity.
    Every,
    /// Not implemented by ibek; an error when used.
    Last,
    /// Any other word (allowed for `text` items by ibek; behaves as every).
    Other(String),
}

/// A `pre_init` / `post_init` item.
#[derive(Debug, Clone)]
pub struct ScriptItem {
    /// `comment` items have `# ` put before each line.
    pub comment: bool,
    /// When to emit it.
    pub when: When,
    /// The template text.
    pub value: String,
    /// Where the text is written.
    pub span: Span,
}

/// A database template instantiated by an entity.
#[derive(Debug, Clone)]
pub struct Database {
    /// The template file name (may hold Jinja and macros).
    pub file: String,
    /// A template deciding whether the row is written (`True` by default).
    pub enabled: String,
    /// Macro names (or regexes) to values; `None` means "the parameter of the same name".
    pub args: IndexMap<String, Option<String>>,
    /// Where the database is defined.
    pub span: Span,
}

/// An environment variable set in `st.cmd`.
#[derive(Debug, Clone)]
pub struct EnvVar {
    /// Variable name template.
    pub name: String,
    /// Value template.
    pub value: String,
    /// Where it is defined.
    pub span: Span,
}

/// An entity's PVI definition.
#[derive(Debug, Clone)]
pub struct Pvi {
    /// Path of the `.pvi.device.yaml`, absolute or relative to `PVI_DEFS`.
    pub yaml_path: String,
    /// Whether to add a button to the IOC's index screen.
    pub ui_index: bool,
    /// Macros for the screen and the PVI template row.
    pub ui_macros: Option<IndexMap<String, Option<String>>>,
    /// Whether to add a PVI PV template to the database.
    pub pv: bool,
    /// PV prefix of the PVI PV.
    pub pv_prefix: String,
    /// Where it is defined.
    pub span: Span,
}

/// An assertion checked on every enabled instance of a model.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Jinja expression without braces.
    pub assertion: String,
    /// Message template used when the assertion is false.
    pub message: String,
    /// Where it is defined.
    pub span: Span,
}

/// An entity created for every instance of its parent model.
#[derive(Debug, Clone)]
pub struct SubEntity {
    /// `type`, `entity_enabled` and the parameters, in YAML order (type first).
    pub fields: IndexMap<String, Value>,
    /// Where it is defined.
    pub span: Span,
}

/// A class of entity that an IOC instance may create.
#[derive(Debug, Clone)]
pub struct EntityModel {
    /// The support module it comes from.
    pub module: String,
    /// Its name within the module.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Values computed before the parameters.
    pub pre_defines: Vec<Define>,
    /// Parameters in declaration order.
    pub parameters: IndexMap<String, Param>,
    /// Values computed after the parameters.
    pub post_defines: Vec<Define>,
    /// Assertions on enabled instances.
    pub validate: Vec<Validation>,
    /// Startup script lines before `iocInit`.
    pub pre_init: Vec<ScriptItem>,
    /// Startup script lines after `iocInit`.
    pub post_init: Vec<ScriptItem>,
    /// Database templates.
    pub databases: Vec<Database>,
    /// Environment variables.
    pub env_vars: Vec<EnvVar>,
    /// PVI definition.
    pub pvi: Option<Pvi>,
    /// Entities created along with each instance.
    pub sub_entities: Vec<SubEntity>,
    /// The file it was read from.
    pub source: Arc<SourceFile>,
    /// Where it is defined.
    pub span: Span,
}

impl EntityModel {
    /// `module.name`, the `type` instances use.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }

    /// The name of the `id` parameter, if the model has one.
    pub fn id_param(&self) -> Option<&str> {
        self.parameters
            .values()
            .find(|p| p.typ == ParamType::Id)
            .map(|p| p.name.as_str())
    }
}

/// A support module definition file.
#[derive(Debug, Clone)]
pub struct SupportModule {
    /// The module name (the prefix of entity types).
    pub module: String,
    /// Its entity models.
    pub entity_models: Vec<Arc<EntityModel>>,
    /// The file it was read from.
    pub source: Arc<SourceFile>,
}

/// The longest module or entity model name accepted (README, "Limits").
pub const MAX_NAME_LEN: usize = 1024;

const SUPPORT_FIELDS: &[&str] = &["shared", "module", "entity_models"];
const MODEL_FIELDS: &[&str] = &[
    "name",
    "description",
    "pre_defines",
    "parameters",
    "post_defines",
    "validate",
    "validate_",
    "pre_init",
    "post_init",
    "databases",
    "env_vars",
    "pvi",
    "sub_entities",
    "shared",
];

/// Reads one support file (already parsed) into a module; problems go to `diags`.
pub fn read_support(
    root: &Node,
    src: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Option<SupportModule> {
    let before = diags.0.len();
    let mut sink = Sink { src, diags };
    let mut r = MapReader::new(root, "the support definition", &mut sink)?;
    let module = r.req_str("module", &mut sink);
    if let Some(shared) = r.opt("shared") {
        check_seq(shared, "`shared`", &mut sink);
    }
    let mut models = Vec::new();
    if let Some(list) = r.req("entity_models", &mut sink) {
        match list.as_seq() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(m) =
                        read_model(item, i, module.as_deref().unwrap_or(""), src, &mut sink)
                    {
                        models.push(m);
                    }
                }
            }
            None => sink.error(
                list,
                format!("`entity_models` must be a list, got {}", list.type_name()),
                None,
            ),
        }
    }
    r.finish(SUPPORT_FIELDS, &mut sink);
    // a name is copied into every schema definition and entity type name: a
    // megabyte-long one (hostile input) would make the schema gigabytes
    if let Some(m) = module.as_deref().filter(|m| m.len() > MAX_NAME_LEN) {
        sink.diags.push(
            crate::diag::Diagnostic::error(
                src,
                root.span,
                format!(
                    "the `module` name is {} bytes long; iocforge accepts names up to {MAX_NAME_LEN} bytes",
                    m.len()
                ),
            )
            .with_hint("name the support module like its folder in ibek-support"),
        );
    }
    for m in models.iter().filter(|m| m.name.len() > MAX_NAME_LEN) {
        sink.diags.push(crate::diag::Diagnostic::error(
            src,
            m.span,
            format!(
                "an entity model name is {} bytes long; iocforge accepts names up to {MAX_NAME_LEN} bytes",
                m.name.len()
            ),
        ));
    }
    let mut seen: IndexMap<String, Span> = IndexMap::new();
    for m in &models {
        if let Some(first) = seen.get(&m.name) {
            let d = crate::diag::Diagnostic::error(
                src,
                m.span,
                format!("duplicate entity model name `{}`", m.name),
            )
            .with_hint(format!(
                "the first `{}` is on line {}",
                m.name, first.start.line
            ));
            sink.diags.push(d);
        } else {
            seen.insert(m.name.clone(), m.span);
        }
    }
    if diags.0.len() > before {
        return None;
    }
    Some(SupportModule {
        module: module?,
        entity_models: models.into_iter().map(Arc::new).collect(),
        source: src.clone(),
    })
}

fn check_seq(node: &Node, what: &str, sink: &mut Sink<'_>) {
    if node.as_seq().is_none() {
        sink.error(
            node,
            format!("{what} must be a list, got {}", node.type_name()),
            None,
        );
    }
}

fn read_model(
    node: &Node,
    index: usize,
    module: &str,
    src: &Arc<SourceFile>,
    sink: &mut Sink<'_>,
) -> Option<EntityModel> {
    let label = node.get("name").and_then(Node::as_str).map_or_else(
        || format!("entity model {index}"),
        |n| format!("entity model `{module}.{n}`"),
    );
    let mut r = MapReader::new(node, label.clone(), sink)?;
    let name = r.req_str("name", sink);
    let description = r.req_str("description", sink);
    let pre_defines = read_defines(&mut r, "pre_defines", &label, sink);
    let parameters = read_params(&mut r, &label, sink);
    let post_defines = read_defines(&mut r, "post_defines", &label, sink);
    let validate = read_validations(&mut r, &label, sink);
    let pre_init = read_script(&mut r, "pre_init", &label, sink);
    let post_init = read_script(&mut r, "post_init", &label, sink);
    let databases = read_items(&mut r, "databases", &label, sink, read_database);
    let env_vars = read_items(&mut r, "env_vars", &label, sink, read_env_var);
    let pvi = match r.opt("pvi") {
        Some(n) if n.kind == NodeKind::Null => None,
        Some(n) => read_pvi(n, &label, sink),
        None => None,
    };
    let sub_entities = read_items(&mut r, "sub_entities", &label, sink, read_sub_entity);
    if let Some(shared) = r.opt("shared") {
        check_seq(shared, "`shared`", sink);
    }
    r.finish(MODEL_FIELDS, sink);
    Some(EntityModel {
        module: module.to_string(),
        name: name?,
        description: description?,
        pre_defines,
        parameters,
        post_defines,
        validate,
        pre_init,
        post_init,
        databases,
        env_vars,
        pvi,
        sub_entities,
        source: src.clone(),
        span: node.span,
    })
}

/// The `parameters` mapping of an entity model, in the order written.
fn read_params(r: &mut MapReader<'_>, label: &str, sink: &mut Sink<'_>) -> IndexMap<String, Param> {
    let mut parameters = IndexMap::new();
    if let Some(entries) = r.opt_map("parameters", sink) {
        for (k, v) in entries {
            let pname = k.key_text();
            if let Some(p) = read_param(&pname, v, label, sink) {
                parameters.insert(pname, p);
            }
        }
    }
    parameters
}

/// Each item of the list under `key`, read by `read`; items that fail are reported and left out.
fn read_items<T>(
    r: &mut MapReader<'_>,
    key: &str,
    label: &str,
    sink: &mut Sink<'_>,
    read: fn(&Node, &str, &mut Sink<'_>) -> Option<T>,
) -> Vec<T> {
    let mut out = Vec::new();
    if let Some(items) = r.opt_seq(key, sink) {
        for item in items {
            if let Some(v) = read(item, label, sink) {
                out.push(v);
            }
        }
    }
    out
}

/// The `validate` list (ibek also accepts `validate_`); a non-list is reported.
fn read_validations(r: &mut MapReader<'_>, label: &str, sink: &mut Sink<'_>) -> Vec<Validation> {
    let mut validate = Vec::new();
    let vnode = r.opt("validate").or_else(|| r.opt("validate_"));
    if let Some(vnode) = vnode {
        match vnode.as_seq() {
            Some(items) => {
                for item in items {
                    if let Some(v) = read_validation(item, label, sink) {
                        validate.push(v);
                    }
                }
            }
            None => check_seq(vnode, "`validate`", sink),
        }
    }
    validate
}

/// One `validate` item: `assert` (or `assert_`) and `message`.
fn read_validation(item: &Node, label: &str, sink: &mut Sink<'_>) -> Option<Validation> {
    let mut vr = MapReader::new(item, format!("a `validate` item of {label}"), sink)?;
    let assertion = vr
        .opt_str("assert", sink)
        .flatten()
        .or_else(|| vr.opt_str("assert_", sink).flatten());
    if assertion.is_none() && vr.node().get("assert").is_none() {
        sink.error(
            item,
            format!("a `validate` item of {label} is missing the required field `assert`"),
            None,
        );
    }
    let message = vr.req_str("message", sink);
    vr.finish(&["assert", "assert_", "message"], sink);
    Some(Validation {
        assertion: assertion?,
        message: message?,
        span: item.span,
    })
}

/// One `env_vars` item: `name` and `value`.
fn read_env_var(item: &Node, label: &str, sink: &mut Sink<'_>) -> Option<EnvVar> {
    let mut er = MapReader::new(item, format!("an `env_vars` item of {label}"), sink)?;
    let name = er.req_str("name", sink);
    let value = er.req_str("value", sink);
    er.finish(&["name", "value"], sink);
    Some(EnvVar {
        name: name?,
        value: value?,
        span: item.span,
    })
}

fn read_defines(r: &mut MapReader<'_>, key: &str, label: &str, sink: &mut Sink<'_>) -> Vec<Define> {
    let mut out = Vec::new();
    let Some(entries) = r.opt_map(key, sink) else {
        return out;
    };
    for (k, v) in entries {
        let name = k.key_text();
        let what = format!("{key} `{name}` of {label}");
        let Some(mut dr) = MapReader::new(v, what.clone(), sink) else {
            continue;
        };
        let description = dr.req_str("description", sink);
        let value = dr.req("value", sink);
        let typ = match dr.opt("type") {
            None => Some(Some("str")),
            Some(t) if t.kind == NodeKind::Null => Some(None),
            Some(t) => {
                if let Some(s @ ("str" | "float" | "int" | "bool" | "list")) = t.as_str() {
                    Some(Some(match s {
                        "str" => "str",
                        "float" => "float",
                        "int" => "int",
                        "bool" => "bool",
                        _ => "list",
                    }))
                } else {
                    sink.error(
                        t,
                        format!("`type` of {what} must be one of str, float, int, bool, list"),
                        None,
                    );
                    None
                }
            }
        };
        dr.finish(&["description", "value", "type"], sink);
        if let (Some(description), Some(value), Some(typ)) = (description, value, typ) {
            out.push(Define {
                name,
                description,
                value: to_value(value),
                typ,
                span: value.span,
            });
        }
    }
    out
}

fn read_param(name: &str, node: &Node, label: &str, sink: &mut Sink<'_>) -> Option<Param> {
    let what = format!("parameter `{name}` of {label}");
    let mut r = MapReader::new(node, what.clone(), sink)?;
    let tnode = r.req("type", sink)?;
    let Some(typ) = tnode.as_str().and_then(ParamType::parse) else {
        let hint = format!("use one of: {}", ParamType::ALL.join(", "));
        sink.error(
            tnode,
            format!("{what} has an unknown type `{tnode}`"),
            Some(hint),
        );
        return None;
    };
    let description = r.req_str("description", sink);
    let default_node = r.opt("default").filter(|d| d.kind != NodeKind::Null);
    let mut values = Vec::new();
    let mut allowed = vec!["type", "description", "default"];
    if typ == ParamType::Enum {
        allowed.push("values");
        if let Some(v) = r.req("values", sink) {
            match v.as_map() {
                Some(entries) => values = entries.to_vec(),
                None => sink.error(v, format!("`values` of {what} must be a mapping"), None),
            }
        }
    }
    r.finish(&allowed, sink);
    let default = match default_node {
        None => None,
        Some(d) => match convert_default(typ, d) {
            Ok(v) => Some(v),
            Err(msg) => {
                sink.error(d, format!("the default of {what} {msg}"), None);
                return None;
            }
        },
    };
    Some(Param {
        name: name.to_string(),
        typ,
        description: description?,
        default,
        default_node: default_node.cloned(),
        values,
        span: node.span,
    })
}

/// Converts a parameter default as pydantic does for that parameter class.
fn convert_default(typ: ParamType, node: &Node) -> Result<Value, String> {
    let jinja_ok = |d: &Node| d.as_str().filter(|s| is_jinja(s)).map(Value::from);
    let d = node;
    let v = to_value(node);
    let v = &v;
    match typ {
        ParamType::Str | ParamType::Id => d
            .as_str()
            .map(Value::from)
            .ok_or_else(|| format!("expects a string, got {}", super::convert::describe(v))),
        ParamType::Int => match &d.kind {
            NodeKind::Int(_) | NodeKind::Bool(_) | NodeKind::Float(_) => {
                lax_int(v).map(Value::from).map_err(|e| e.0)
            }
            _ => jinja_ok(d).map_or_else(|| lax_int(v).map(Value::from).map_err(|e| e.0), Ok),
        },
        ParamType::Float => match &d.kind {
            NodeKind::Int(_) | NodeKind::Bool(_) | NodeKind::Float(_) => {
                lax_float(v).map(Value::from).map_err(|e| e.0)
            }
            _ => jinja_ok(d).map_or_else(|| lax_float(v).map(Value::from).map_err(|e| e.0), Ok),
        },
        ParamType::Bool => match &d.kind {
            NodeKind::Bool(_) => lax_bool(v).map(Value::from).map_err(|e| e.0),
            _ => jinja_ok(d).map_or_else(|| lax_bool(v).map(Value::from).map_err(|e| e.0), Ok),
        },
        ParamType::List => match &d.kind {
            NodeKind::Seq(_) => Ok(to_value(d)),
            _ => jinja_ok(d).ok_or_else(|| "expects a list or a Jinja string".to_string()),
        },
        ParamType::Dict => match &d.kind {
            NodeKind::Map(_) => Ok(to_value(d)),
            _ => jinja_ok(d).ok_or_else(|| "expects a mapping or a Jinja string".to_string()),
        },
        ParamType::Enum | ParamType::Object => Ok(to_value(d)),
    }
}

fn read_script(
    r: &mut MapReader<'_>,
    key: &str,
    label: &str,
    sink: &mut Sink<'_>,
) -> Vec<ScriptItem> {
    let mut out = Vec::new();
    let Some(items) = r.opt_seq(key, sink) else {
        return out;
    };
    for item in items {
        let what = format!("a `{key}` item of {label}");
        let Some(mut ir) = MapReader::new(item, what.clone(), sink) else {
            continue;
        };
        let comment = match ir.opt("type") {
            None => false,
            Some(t) => match t.as_str() {
                Some("text") => false,
                Some("comment") => true,
                _ => {
                    sink.error(
                        t,
                        format!("`type` of {what} must be `text` or `comment`"),
                        None,
                    );
                    continue;
                }
            },
        };
        let when = match ir.opt_str("when", sink) {
            None => continue,
            Some(None) => When::Every,
            Some(Some(w)) => match w.as_str() {
                "first" => When::First,
                "every" => When::Every,
                "last" => When::Last,
                other if !comment => When::Other(other.to_string()),
                other => {
                    let n = item.get("when").unwrap_or(item);
                    sink.error(
                        n,
                        format!("`when` of {what} is `{other}`, not one of first, every, last"),
                        None,
                    );
                    continue;
                }
            },
        };
        let vnode = ir.opt("value");
        let value = match ir.opt_str("value", sink) {
            None => continue,
            Some(v) => v.unwrap_or_default(),
        };
        ir.finish(&["type", "when", "value"], sink);
        out.push(ScriptItem {
            comment,
            when,
            value,
            span: vnode.map_or(item.span, |n| n.span),
        });
    }
    out
}

fn read_str_map(
    node: &Node,
    what: &str,
    sink: &mut Sink<'_>,
) -> Option<IndexMap<String, Option<String>>> {
    let Some(entries) = node.as_map() else {
        sink.error(
            node,
            format!("{what} must be a mapping, got {}", node.type_name()),
            None,
        );
        return None;
    };
    let mut out = IndexMap::new();
    let mut ok = true;
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            sink.error(
                k,
                format!("the keys of {what} must be strings"),
                Some("quote the key".into()),
            );
            ok = false;
            continue;
        };
        match &v.kind {
            NodeKind::Null => {
                out.insert(key.to_string(), None);
            }
            NodeKind::Str(s) => {
                out.insert(key.to_string(), Some(s.clone()));
            }
            _ => {
                sink.error(
                    v,
                    format!(
                        "`{key}` of {what} must be a string or empty, got {}",
                        v.type_name()
                    ),
                    Some("quote the value to make it a string".into()),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn read_database(node: &Node, label: &str, sink: &mut Sink<'_>) -> Option<Database> {
    let what = format!("a database of {label}");
    let mut r = MapReader::new(node, what.clone(), sink)?;
    let file = r.req_str("file", sink);
    let enabled = r.opt_str("enabled", sink)?;
    let args = match r.req("args", sink) {
        None => None,
        Some(a) if a.kind == NodeKind::Null => Some(None),
        Some(a) => read_str_map(a, &format!("the args of {what}"), sink).map(Some),
    };
    r.finish(&["file", "enabled", "args"], sink);
    Some(Database {
        file: file?,
        enabled: enabled.unwrap_or_else(|| "True".to_string()),
        args: args?.unwrap_or_default(),
        span: node.span,
    })
}

fn read_pvi(node: &Node, label: &str, sink: &mut Sink<'_>) -> Option<Pvi> {
    let what = format!("the pvi of {label}");
    let mut r = MapReader::new(node, what.clone(), sink)?;
    let yaml_path = r.req_str("yaml_path", sink);
    let ui_index = r.opt_bool("ui_index", sink)?;
    let ui_macros = match r.opt("ui_macros") {
        None => None,
        Some(n) if n.kind == NodeKind::Null => None,
        Some(n) => Some(read_str_map(n, &format!("`ui_macros` of {what}"), sink)?),
    };
    let pv = r.opt_bool("pv", sink)?;
    let pv_prefix = r.opt_str("pv_prefix", sink)?;
    r.finish(
        &["yaml_path", "ui_index", "ui_macros", "pv", "pv_prefix"],
        sink,
    );
    Some(Pvi {
        yaml_path: yaml_path?,
        ui_index: ui_index.unwrap_or(true),
        ui_macros,
        pv: pv.unwrap_or(false),
        pv_prefix: pv_prefix.unwrap_or_default(),
        span: node.span,
    })
}

fn read_sub_entity(node: &Node, label: &str, sink: &mut Sink<'_>) -> Option<SubEntity> {
    let what = format!("a sub-entity of {label}");
    let Some(entries) = node.map_entries() else {
        sink.error(
            node,
            format!("{what} must be a mapping, got {}", node.type_name()),
            None,
        );
        return None;
    };
    let Some(t) = entries.get("type") else {
        sink.error(
            node,
            format!("{what} is missing the required field `type`"),
            None,
        );
        return None;
    };
    let ty = if let Some(s) = t.as_str() {
        s.to_string()
    } else {
        sink.error(t, format!("`type` of {what} must be a string"), None);
        return None;
    };
    let enabled = match entries.get("entity_enabled") {
        None => true,
        Some(n) => match lax_bool(&to_value(n)) {
            Ok(b) => b,
            Err(e) => {
                sink.error(n, format!("`entity_enabled` of {what} {}", e.0), None);
                return None;
            }
        },
    };
    // pydantic dumps declared fields first (type, entity_enabled), then extras in YAML order
    let mut fields = IndexMap::new();
    fields.insert("type".to_string(), Value::from(ty));
    fields.insert("entity_enabled".to_string(), Value::from(enabled));
    for (k, v) in entries {
        if k != "type" && k != "entity_enabled" {
            fields.insert(k, to_value(v));
        }
    }
    Some(SubEntity {
        fields,
        span: node.span,
    })
}
