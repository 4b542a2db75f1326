//! Building one entity: field validation, then ibek's rendering order.
//!
//! This is ibek's `Entity` pydantic model at work: each field is checked in
//! lax mode (a Jinja string is accepted for typed fields), defaults fill
//! the gaps, and then `pre_defines`, parameters and `post_defines` are
//! rendered in that order, each seeing the values rendered before it.
//! `object` parameters are looked up by id among the entities built so far,
//! `id` parameters join that registry, and `validate` assertions run on
//! enabled entities.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Value, ValueKind};

use super::{Entity, Kind, Origin, Resolver};
use crate::diag::{closest, Diagnostic};
use crate::jinja::{PyList, Record, Scope, TemplateError};
use crate::model::convert::{describe, is_jinja, lax_bool, lax_float, lax_int, py_eq, to_value};
use crate::model::support::{EntityModel, Param, ParamType};
use crate::source::{SourceFile, Span};

/// The input of one entity: field values with the place each was written.
pub struct EntityInput {
    /// Field name to value, in the order written.
    pub fields: IndexMap<String, Value>,
    /// Where each field was written (file and span), when known.
    pub spans: HashMap<String, (Arc<SourceFile>, Span)>,
    /// The whole entity's place and label.
    pub origin: Origin,
}

/// A copy of a value as pydantic makes one for each default (lists and dicts are fresh).
pub fn deep_copy(v: &Value) -> Value {
    if let Some(list) = v.downcast_object_ref::<PyList>() {
        return PyList::new_value(list.snapshot().iter().map(deep_copy).collect());
    }
    if v.kind() == ValueKind::Map && !v.is_tuple() && v.downcast_object_ref::<Record>().is_none() {
        if let Ok(keys) = v.try_iter() {
            let pairs: Vec<(Value, Value)> = keys
                .map(|k| {
                    let val = v.get_item(&k).unwrap_or_default();
                    (k, deep_copy(&val))
                })
                .collect();
            return crate::jinja::literal::dict_from_pairs(pairs);
        }
    }
    v.clone()
}

/// pydantic's `model_dump()`: declared fields only, entities turned into dicts, lists copied.
pub fn model_dump(record: &Record) -> IndexMap<String, Value> {
    dump_record(record, &mut Vec::new())
}

fn dump_record(record: &Record, stack: &mut Vec<*const Record>) -> IndexMap<String, Value> {
    stack.push(std::ptr::from_ref(record));
    let out = record
        .dump_pairs()
        .into_iter()
        .map(|(k, v)| {
            let v = dump_value(&v, stack);
            (k, v)
        })
        .collect();
    stack.pop();
    out
}

fn dump_value(v: &Value, stack: &mut Vec<*const Record>) -> Value {
    if let Some(r) = v.downcast_object_ref::<Record>() {
        // pydantic stops at a reference cycle (an entity that refers to itself)
        if stack.contains(&std::ptr::from_ref(r)) {
            return v.clone();
        }
        let pairs: Vec<(Value, Value)> = dump_record(r, stack)
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect();
        return crate::jinja::literal::dict_from_pairs(pairs);
    }
    if let Some(list) = v.downcast_object_ref::<PyList>() {
        return PyList::new_value(
            list.snapshot()
                .iter()
                .map(|i| dump_value(i, stack))
                .collect(),
        );
    }
    if v.kind() == ValueKind::Map && !v.is_tuple() {
        if let Ok(keys) = v.try_iter() {
            let pairs: Vec<(Value, Value)> = keys
                .map(|k| {
                    let val = v.get_item(&k).unwrap_or_default();
                    (k, dump_value(&val, stack))
                })
                .collect();
            return crate::jinja::literal::dict_from_pairs(pairs);
        }
    }
    v.clone()
}

/// Formats a template failure as a note quoting the failing template line.
pub fn template_note(text: &str, err: &TemplateError) -> Option<String> {
    let line = err.line?;
    let src = text.lines().nth(line.saturating_sub(1))?;
    let shown: String = src.trim().chars().take(160).collect();
    Some(format!("in template line {line}: {shown}"))
}

impl Resolver<'_> {
    fn field_diag(input: &EntityInput, field: &str, message: String) -> Diagnostic {
        let (src, span) = input
            .spans
            .get(field)
            .cloned()
            .unwrap_or_else(|| (input.origin.source.clone(), input.origin.span));
        Diagnostic::error(&src, span, format!("{}: {message}", input.origin.label))
    }

    fn entity_diag(input: &EntityInput, message: String) -> Diagnostic {
        Diagnostic::error(
            &input.origin.source,
            input.origin.span,
            format!("{}: {message}", input.origin.label),
        )
    }

    /// Checks one entity's fields and, for model entities, renders it.
    pub fn build_entity(&mut self, input: EntityInput) -> Result<Entity, Vec<Diagnostic>> {
        let Some(tv) = input.fields.get("type") else {
            return Err(vec![Self::entity_diag(&input, "has no `type`".into())
                .with_hint("start the entity with `- type: MODULE.ENTITY`")]);
        };
        let Some(ty) = tv.as_str().map(str::to_string) else {
            return Err(vec![Self::field_diag(
                &input,
                "type",
                format!("`type` must be a string, got {}", describe(tv)),
            )]);
        };
        let Some(kind) = self.registry.lookup(&ty) else {
            let names = self.registry.type_names();
            let hint = if let Some(c) = closest(&ty, names.iter().map(String::as_str)) {
                format!("did you mean `{c}`?")
            } else {
                let module = ty.split('.').next().unwrap_or("");
                let same: Vec<&str> = names
                    .iter()
                    .map(String::as_str)
                    .filter(|n| n.starts_with(&format!("{module}.")))
                    .collect();
                if same.is_empty() {
                    format!(
                        "no definitions of module `{module}` were loaded; pass its *.ibek.support.yaml"
                    )
                } else {
                    format!("module `{module}` defines: {}", same.join(", "))
                }
            };
            return Err(vec![Self::field_diag(
                &input,
                "type",
                format!("unknown entity type `{ty}`"),
            )
            .with_hint(hint)]);
        };
        match kind {
            Kind::Model(model) => self.build_model_entity(input, &ty, model),
            builtin => self.build_builtin(input, &ty, builtin),
        }
    }

    /// `type` and `entity_enabled`, the fields every entity starts with.
    fn base_fields(
        input: &EntityInput,
        ty: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> IndexMap<String, Value> {
        let mut fields: IndexMap<String, Value> = IndexMap::new();
        fields.insert("type".into(), Value::from(ty));
        let enabled = match input.fields.get("entity_enabled") {
            None => true,
            Some(v) => lax_bool(v).unwrap_or_else(|e| {
                errors.push(Self::field_diag(
                    input,
                    "entity_enabled",
                    format!("`entity_enabled` {}", e.0),
                ));
                true
            }),
        };
        fields.insert("entity_enabled".into(), Value::from(enabled));
        fields
    }

    fn check_param(&self, input: &EntityInput, p: &Param, v: &Value) -> Result<Value, Diagnostic> {
        let bad = |msg: String| {
            let hint = match p.typ {
                ParamType::Int => Some("write a whole number, or a Jinja expression in `{{ }}`"),
                ParamType::Float => Some("write a number, or a Jinja expression in `{{ }}`"),
                ParamType::Bool => Some("write true or false, or a Jinja expression in `{{ }}`"),
                ParamType::Str | ParamType::Id => Some("quote the value to make it a string"),
                _ => None,
            };
            let d = Self::field_diag(input, &p.name, format!("parameter `{}` {msg}", p.name));
            match hint {
                Some(h) => d.with_hint(h),
                None => d,
            }
        };
        let jinja = v.as_str().filter(|s| is_jinja(s)).map(Value::from);
        match p.typ {
            ParamType::Str | ParamType::Id => match v.as_str() {
                Some(_) => Ok(v.clone()),
                None => Err(bad(format!("expects a string, got {}", describe(v)))),
            },
            ParamType::Int => {
                jinja.map_or_else(|| lax_int(v).map(int_value).map_err(|e| bad(e.0)), Ok)
            }
            ParamType::Float => {
                jinja.map_or_else(|| lax_float(v).map(Value::from).map_err(|e| bad(e.0)), Ok)
            }
            ParamType::Bool => {
                jinja.map_or_else(|| lax_bool(v).map(Value::from).map_err(|e| bad(e.0)), Ok)
            }
            ParamType::List => match jinja {
                Some(j) => Ok(j),
                None if v.downcast_object_ref::<PyList>().is_some() => Ok(v.clone()),
                None if v.is_tuple() => Ok(PyList::new_value(
                    v.try_iter().map(Iterator::collect).unwrap_or_default(),
                )),
                None => Err(bad(format!(
                    "expects a list or a Jinja string, got {}",
                    describe(v)
                ))),
            },
            ParamType::Dict => match jinja {
                Some(j) => Ok(j),
                None if v.kind() == ValueKind::Map
                    && !v.is_tuple()
                    && v.downcast_object_ref::<Record>().is_none() =>
                {
                    Ok(v.clone())
                }
                None => Err(bad(format!(
                    "expects a mapping or a Jinja string, got {}",
                    describe(v)
                ))),
            },
            ParamType::Object => Ok(v.clone()),
            ParamType::Enum => {
                for (k, _) in &p.values {
                    let key = to_value(k);
                    if py_eq(&key, v) {
                        return Ok(key);
                    }
                }
                let keys: Vec<String> = p
                    .values
                    .iter()
                    .map(|(k, _)| format!("`{}`", k.key_text()))
                    .collect();
                let d = bad(format!(
                    "is {}, which is not one of its values",
                    describe(v)
                ));
                let hint = match v.as_str().and_then(|s| {
                    p.values
                        .iter()
                        .map(|(k, _)| k)
                        .find(|k| k.key_text().eq_ignore_ascii_case(s))
                }) {
                    Some(k) => format!(
                        "did you mean `{}`? the values are: {}",
                        k.key_text(),
                        keys.join(", ")
                    ),
                    None => format!("use one of: {}", keys.join(", ")),
                };
                Err(d.with_hint(hint))
            }
        }
    }

    fn build_model_entity(
        &mut self,
        input: EntityInput,
        ty: &str,
        model: Arc<EntityModel>,
    ) -> Result<Entity, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut fields = Self::base_fields(&input, ty, &mut errors);
        for p in model.parameters.values() {
            match input.fields.get(&p.name) {
                Some(v) => match self.check_param(&input, p, v) {
                    Ok(v) => {
                        fields.insert(p.name.clone(), v);
                    }
                    Err(d) => errors.push(d),
                },
                None => match &p.default {
                    Some(d) => {
                        fields.insert(p.name.clone(), deep_copy(d));
                    }
                    None => errors.push(
                        Self::entity_diag(
                            &input,
                            format!("the required parameter `{}` is missing", p.name),
                        )
                        .with_hint(format!(
                            "add `{}: ...` ({}: {})",
                            p.name,
                            p.typ.name(),
                            first_line(&p.description)
                        )),
                    ),
                },
            }
        }
        for key in input.fields.keys() {
            if key == "type" || key == "entity_enabled" || model.parameters.contains_key(key) {
                continue;
            }
            let names: Vec<&str> = model.parameters.keys().map(String::as_str).collect();
            let hint = match closest(key, names.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None if names.is_empty() => format!("`{ty}` takes no parameters"),
                None => format!("the parameters of `{ty}` are: {}", names.join(", ")),
            };
            errors.push(
                Self::field_diag(&input, key, format!("unknown parameter `{key}`")).with_hint(hint),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let record = Record::new(ty.to_string(), model.id_param().map(str::to_string), fields);
        let entity = Entity {
            kind: Kind::Model(model.clone()),
            record,
            origin: Arc::new(input.origin.clone()),
        };
        self.process_fields(&input, &entity, &model)
            .map_err(|d| vec![d])?;
        Ok(entity)
    }

    /// ibek's `add_ibek_attributes`: `pre_defines`, parameters, `post_defines`, then validations.
    fn process_fields(
        &mut self,
        input: &EntityInput,
        entity: &Entity,
        model: &EntityModel,
    ) -> Result<(), Diagnostic> {
        let scope = Scope::Record(entity.record.clone());
        for d in &model.pre_defines {
            self.process_field(
                input,
                entity,
                &scope,
                &d.name,
                d.value.clone(),
                d.typ,
                Some((&model.source, d.span)),
            )?;
        }
        for p in model.parameters.values() {
            let value = entity.record.get(&p.name).unwrap_or_default();
            let at = if input.spans.contains_key(&p.name) {
                None
            } else {
                p.default_node.as_ref().map(|n| (&model.source, n.span))
            };
            self.process_field(
                input,
                entity,
                &scope,
                &p.name,
                value,
                Some(p.typ.name()),
                at,
            )?;
        }
        for d in &model.post_defines {
            self.process_field(
                input,
                entity,
                &scope,
                &d.name,
                d.value.clone(),
                d.typ,
                Some((&model.source, d.span)),
            )?;
        }
        if entity.enabled() {
            for v in &model.validate {
                let test = format!(
                    "{{% if {} %}}True{{% else %}}False{{% endif %}}",
                    v.assertion
                );
                let result = self.engine.render_str(&test, &scope).map_err(|e| {
                    Diagnostic::error(
                        &model.source,
                        v.span,
                        format!(
                            "{}: could not evaluate validation `{}`: {}",
                            input.origin.label, v.assertion, e.message
                        ),
                    )
                })?;
                if result != "True" {
                    let message = self
                        .engine
                        .render_str(&v.message, &scope)
                        .unwrap_or_else(|_| v.message.clone());
                    let (src, span) = input
                        .spans
                        .get("type")
                        .cloned()
                        .unwrap_or((input.origin.source.clone(), input.origin.span));
                    return Err(Diagnostic::error(
                        &src,
                        span,
                        format!("{}: validation failed: {message}", input.origin.label),
                    )
                    .with_note(format!(
                        "the assertion `{}` of `{}` is false",
                        v.assertion,
                        model.full_name()
                    )));
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn process_field(
        &mut self,
        input: &EntityInput,
        entity: &Entity,
        scope: &Scope,
        name: &str,
        value: Value,
        typ: Option<&str>,
        def_at: Option<(&Arc<SourceFile>, Span)>,
    ) -> Result<(), Diagnostic> {
        let locate = |msg: String| -> Diagnostic {
            match (input.spans.get(name), def_at) {
                (Some((src, span)), _) => {
                    Diagnostic::error(src, *span, format!("{}: {msg}", input.origin.label))
                }
                (None, Some((src, span))) => {
                    Diagnostic::error(src, span, format!("{}: {msg}", input.origin.label))
                        .with_note(format!(
                            "the entity is defined at {}:{}",
                            crate::diag::display_path(&input.origin.source.path),
                            input.origin.span.start.line
                        ))
                }
                (None, None) => Self::entity_diag(input, msg),
            }
        };
        let mut value = value;
        if let Some(text) = value.as_str().map(str::to_string) {
            value = self.engine.render_value(&value, scope, typ).map_err(|e| {
                let mut d =
                    e.hint_into(locate(format!("could not render `{name}`: {}", e.message)));
                if let Some(note) = template_note(&text, &e) {
                    d = d.with_note(note);
                }
                d
            })?;
        }
        if typ == Some("object") {
            if let Some(id) = value.as_str().map(str::to_string) {
                if let Some((target, _)) = self.ids.get(&id) {
                    value = Value::from_dyn_object(target.clone());
                } else {
                    let known: Vec<&str> = self.ids.keys().map(String::as_str).collect();
                    let hint = match closest(&id, known.iter().copied()) {
                        Some(c) => format!("did you mean `{c}`? an object must name the id of an entity defined earlier"),
                        None if known.is_empty() => "no entity with an id is defined before this one".to_string(),
                        None => format!("an object must name the id of an entity defined earlier; the ids are: {}", known.join(", ")),
                    };
                    return Err(
                        locate(format!("object `{id}` not found (parameter `{name}`)"))
                            .with_hint(hint),
                    );
                }
            }
        }
        entity.record.set(name, value.clone());
        if typ == Some("id") {
            let id = crate::jinja::pyfmt::py_str(&value).unwrap_or_default();
            if let Some((_, first)) = self.ids.get(&id) {
                return Err(locate(format!("duplicate id `{id}`"))
                    .with_note(format!("`{id}` is already the id of the entity at {first}"))
                    .with_hint("every id in an IOC instance must be unique; rename one of them"));
            }
            let (src, span) = input
                .spans
                .get(name)
                .cloned()
                .unwrap_or_else(|| (input.origin.source.clone(), input.origin.span));
            let at = format!(
                "{}:{}",
                crate::diag::display_path(&src.path),
                span.start.line
            );
            self.ids.insert(id, (entity.record.clone(), at));
        }
        Ok(())
    }

    fn build_builtin(
        &mut self,
        input: EntityInput,
        ty: &str,
        kind: Kind,
    ) -> Result<Entity, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut fields = Self::base_fields(&input, ty, &mut errors);
        let spec: &[(&str, &str, Option<Value>)] = match kind {
            Kind::Repeat => &[
                ("values", "list|str", None),
                ("variable", "str", Some(Value::from("index"))),
                ("entity", "dict", None),
            ],
            Kind::WaitIp => &[
                ("device", "str", Some(Value::from("DEVICE"))),
                ("timeout", "int", Some(Value::from(0))),
                ("address", "str", None),
            ],
            Kind::WaitUsb => &[
                ("device", "str", Some(Value::from("DEVICE"))),
                ("timeout", "int", Some(Value::from(0))),
                ("id", "str", None),
            ],
            Kind::Model(_) => unreachable!("models are built by build_model_entity"),
        };
        for (name, typ, default) in spec {
            let Some(value) = input.fields.get(*name).cloned() else {
                match default {
                    Some(d) => {
                        fields.insert((*name).into(), d.clone());
                    }
                    None => errors.push(Self::entity_diag(
                        &input,
                        format!("the required field `{name}` of `{ty}` is missing"),
                    )),
                }
                continue;
            };
            let checked = match *typ {
                "str" => value
                    .as_str()
                    .map(|_| value.clone())
                    .ok_or_else(|| format!("expects a string, got {}", describe(&value))),
                "int" => lax_int(&value).map(int_value).map_err(|e| e.0),
                "dict" => (value.kind() == ValueKind::Map && !value.is_tuple())
                    .then(|| value.clone())
                    .ok_or_else(|| {
                        format!(
                            "expects a mapping (the entity to repeat), got {}",
                            describe(&value)
                        )
                    }),
                _ => (value.as_str().is_some() || value.downcast_object_ref::<PyList>().is_some())
                    .then(|| value.clone())
                    .ok_or_else(|| format!("expects a list or a string, got {}", describe(&value))),
            };
            match checked {
                Ok(v) => {
                    fields.insert((*name).into(), v);
                }
                Err(msg) => errors.push(Self::field_diag(&input, name, format!("`{name}` {msg}"))),
            }
        }
        for key in input.fields.keys() {
            if key == "type" || key == "entity_enabled" || spec.iter().any(|(n, _, _)| n == key) {
                continue;
            }
            let names: Vec<&str> = spec.iter().map(|(n, _, _)| *n).collect();
            let hint = match closest(key, names.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("the fields of `{ty}` are: {}", names.join(", ")),
            };
            errors.push(
                Self::field_diag(&input, key, format!("unknown field `{key}`")).with_hint(hint),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Entity {
            kind,
            record: Record::new(ty.to_string(), None, fields),
            origin: Arc::new(input.origin),
        })
    }
}

fn int_value(i: i128) -> Value {
    match i64::try_from(i) {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(i),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}
