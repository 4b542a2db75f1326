//! From instance YAML to the list of resolved entities, as ibek does it.
//!
//! For each instance file: `ioc_name` is rendered, every entity is checked
//! and rendered in order (object references resolve to entities defined
//! earlier, across files), and enum keys are swapped for their values. Then
//! sub-entities and `ibek.repeat` are expanded recursively with ibek's
//! accumulating context. The result feeds `render`.

pub mod entity;

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::jinja::{Engine, PyList, Record, Scope};
use crate::model::convert::{py_eq, to_value};
use crate::model::instance::InstanceDoc;
use crate::model::support::{EntityModel, ParamType, SubEntity, SupportModule};
use crate::source::{Node, SourceFile, Span};

pub use entity::{model_dump, EntityInput};

/// The built-in entity types ibek adds to every IOC.
pub const BUILTIN_TYPES: &[&str] = &["ibek.repeat", "ibek.wait_ip", "ibek.wait_usb"];

/// What kind of entity a `type` names.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An entity model from a support module.
    Model(Arc<EntityModel>),
    /// `ibek.repeat`: makes N copies of another entity.
    Repeat,
    /// `ibek.wait_ip`: wait for a TCP port before booting.
    WaitIp,
    /// `ibek.wait_usb`: wait for a USB device (listed, not yet waited for).
    WaitUsb,
}

/// All entity types available to an IOC: support modules' models plus the built-ins.
#[derive(Debug, Default)]
pub struct Registry {
    models: IndexMap<String, Arc<EntityModel>>,
}

impl Registry {
    /// Collects the models of the modules, later definitions replacing earlier ones of the same type.
    pub fn new(modules: &[SupportModule]) -> Registry {
        let mut models = IndexMap::new();
        for m in modules {
            for e in &m.entity_models {
                models.insert(e.full_name(), e.clone());
            }
        }
        Registry { models }
    }

    /// The kind of entity a type names.
    pub fn lookup(&self, ty: &str) -> Option<Kind> {
        match ty {
            "ibek.repeat" => Some(Kind::Repeat),
            "ibek.wait_ip" => Some(Kind::WaitIp),
            "ibek.wait_usb" => Some(Kind::WaitUsb),
            _ => self.models.get(ty).cloned().map(Kind::Model),
        }
    }

    /// Every type name, models first then the built-ins.
    pub fn type_names(&self) -> Vec<String> {
        self.models
            .keys()
            .cloned()
            .chain(BUILTIN_TYPES.iter().map(|s| (*s).to_string()))
            .collect()
    }

    /// The entity models in registration order.
    pub fn models(&self) -> impl Iterator<Item = &Arc<EntityModel>> {
        self.models.values()
    }
}

/// Where an entity came from, for messages.
#[derive(Debug, Clone)]
pub struct Origin {
    /// How the entity is named in messages, e.g. "entity 3 (`asyn.AsynIP`, id `p1`)".
    pub label: String,
    /// The file it was written in.
    pub source: Arc<SourceFile>,
    /// Where in that file.
    pub span: Span,
}

/// A resolved entity.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Its kind.
    pub kind: Kind,
    /// Its attributes (parameters and defines), shared with templates that refer to it.
    pub record: Arc<Record>,
    /// Where it came from.
    pub origin: Arc<Origin>,
}

impl Entity {
    /// Its `entity_enabled` value.
    pub fn enabled(&self) -> bool {
        self.record
            .get("entity_enabled")
            .is_none_or(|v| v.is_true())
    }

    /// Its entity model, unless it is a built-in.
    pub fn model(&self) -> Option<&Arc<EntityModel>> {
        match &self.kind {
            Kind::Model(m) => Some(m),
            _ => None,
        }
    }
}

/// Holds the state of one generation run: the template engine with its
/// `_global` state and the registry of ids.
pub struct Resolver<'r> {
    registry: &'r Registry,
    /// The template engine (its `_global` state lives for the whole run).
    pub engine: Engine,
    /// id → the entity's attributes and where the id was given (`file:line`).
    ids: IndexMap<String, (Arc<Record>, String)>,
}

enum Pending {
    Top(Entity),
    Dict(IndexMap<String, Value>, Arc<Origin>),
    Sub(SubEntity, Arc<Origin>, Arc<SourceFile>),
}

fn entity_label(index: usize, node: &Node, model: Option<&EntityModel>) -> String {
    let ty = node.get("type").and_then(Node::as_str);
    let id = model
        .and_then(|m| m.id_param())
        .and_then(|p| node.get(p))
        .and_then(Node::as_str);
    match (ty, id) {
        (Some(t), Some(i)) => format!("entity {index} (`{t}`, id `{i}`)"),
        (Some(t), None) => format!("entity {index} (`{t}`)"),
        _ => format!("entity {index}"),
    }
}

impl<'r> Resolver<'r> {
    /// A resolver over the given types with fresh state.
    pub fn new(registry: &'r Registry) -> Resolver<'r> {
        Resolver {
            registry,
            engine: Engine::new(),
            ids: IndexMap::new(),
        }
    }

    /// Reads the entities of one instance file, as `IocFactory.deserialize_ioc` does.
    pub fn load_instance(
        &mut self,
        doc: &InstanceDoc,
        diags: &mut Diagnostics,
    ) -> (String, Vec<Entity>) {
        let src = &doc.source;
        let name_value = to_value(&doc.ioc_name);
        let ioc_name = match self
            .engine
            .render_value(&name_value, &Scope::Empty, Some("str"))
        {
            Ok(v) => {
                if let Some(s) = v.as_str() {
                    s.to_string()
                } else {
                    diags.push(
                        Diagnostic::error(src, doc.ioc_name.span, "`ioc_name` must be a string")
                            .with_hint("quote the name"),
                    );
                    crate::jinja::pyfmt::py_str(&v).unwrap_or_default()
                }
            }
            Err(e) => {
                diags.push(e.hint_into(Diagnostic::error(
                    src,
                    doc.ioc_name.span,
                    format!("could not render `ioc_name`: {}", e.message),
                )));
                String::new()
            }
        };
        self.engine.globals().set_ioc_name(&ioc_name);
        let mut out = Vec::new();
        for (i, node) in doc.entities.iter().enumerate() {
            let model = node
                .get("type")
                .and_then(Node::as_str)
                .and_then(|t| self.registry.lookup(t))
                .and_then(|k| match k {
                    Kind::Model(m) => Some(m),
                    _ => None,
                });
            let origin = Origin {
                label: entity_label(i, node, model.as_deref()),
                source: src.clone(),
                span: node.span,
            };
            let Some(entries) = node.as_map() else {
                diags.push(
                    Diagnostic::error(
                        src,
                        node.span,
                        format!(
                            "{}: must be a mapping, got {}",
                            origin.label,
                            node.type_name()
                        ),
                    )
                    .with_hint(
                        "write each entity as `- type: MODULE.ENTITY` followed by its parameters",
                    ),
                );
                continue;
            };
            let mut fields = IndexMap::new();
            let mut spans = HashMap::new();
            for (k, v) in entries {
                let key = k.key_text();
                spans.insert(key.clone(), (src.clone(), v.span));
                fields.insert(key, to_value(v));
            }
            let input = EntityInput {
                fields,
                spans,
                origin,
            };
            match self.build_entity(input) {
                Ok(e) => out.push(e),
                Err(ds) => {
                    for d in ds {
                        diags.push(d);
                    }
                }
            }
        }
        fixup_enums(&out);
        (ioc_name, out)
    }

    /// ibek's `resolve_sub_entities`: expands sub-entities and repeats depth first.
    pub fn expand(&mut self, entities: Vec<Entity>, diags: &mut Diagnostics) -> Vec<Entity> {
        let items = entities.into_iter().map(Pending::Top).collect();
        let mut ctx = IndexMap::new();
        self.resolve(items, &mut ctx, diags)
    }

    fn make_entity(
        &mut self,
        fields: IndexMap<String, Value>,
        context: &IndexMap<String, Value>,
        origin: Arc<Origin>,
        def: Option<(&Arc<SourceFile>, Span)>,
    ) -> Result<Entity, Vec<Diagnostic>> {
        let scope = Scope::Map(Arc::new(context.clone()));
        let mut rendered = IndexMap::new();
        let (src, span) = def.map_or_else(
            || (origin.source.clone(), origin.span),
            |(s, sp)| (s.clone(), sp),
        );
        for (k, v) in fields {
            let text = v.as_str().map(str::to_string);
            match self.engine.render_value(&v, &scope, None) {
                Ok(r) => {
                    rendered.insert(k, r);
                }
                Err(e) => {
                    let mut d = e.hint_into(Diagnostic::error(
                        &src,
                        span,
                        format!("{}: could not render `{k}`: {}", origin.label, e.message),
                    ));
                    if let Some(note) = text.as_deref().and_then(|t| entity::template_note(t, &e)) {
                        d = d.with_note(note);
                    }
                    return Err(vec![d]);
                }
            }
        }
        let spans = rendered
            .keys()
            .map(|k| (k.clone(), (src.clone(), span)))
            .collect();
        let input = EntityInput {
            fields: rendered,
            spans,
            origin: Origin {
                label: origin.label.clone(),
                source: src.clone(),
                span,
            },
        };
        self.build_entity(input)
    }

    fn resolve(
        &mut self,
        items: Vec<Pending>,
        parent_ctx: &mut IndexMap<String, Value>,
        diags: &mut Diagnostics,
    ) -> Vec<Entity> {
        let mut out = Vec::new();
        // ibek copies the context once per call; siblings then accumulate into it
        let mut context = parent_ctx.clone();
        for item in items {
            let made = match item {
                Pending::Top(e) if matches!(e.kind, Kind::Repeat) => {
                    let fields = model_dump(&e.record);
                    let origin = e.origin.clone();
                    self.make_entity(fields, &context, origin, None)
                }
                Pending::Top(e) => Ok(e),
                Pending::Dict(fields, origin) => self.make_entity(fields, &context, origin, None),
                Pending::Sub(sub, parent, src) => {
                    let fields: IndexMap<String, Value> = sub
                        .fields
                        .iter()
                        .map(|(k, v)| (k.clone(), entity::deep_copy(v)))
                        .collect();
                    let ty = fields
                        .get("type")
                        .and_then(|t| t.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let origin = Arc::new(Origin {
                        label: format!("sub-entity `{ty}` of {}", parent.label),
                        source: parent.source.clone(),
                        span: parent.span,
                    });
                    self.make_entity(fields, &context, origin, Some((&src, sub.span)))
                }
            };
            let entity = match made {
                Ok(e) => e,
                Err(ds) => {
                    for d in ds {
                        diags.push(d);
                    }
                    continue;
                }
            };
            context.extend(model_dump(&entity.record));
            if matches!(entity.kind, Kind::Repeat) {
                let produced = self.resolve_repeat(&entity, &mut context, diags);
                out.extend(produced);
            } else {
                let model = entity.model().cloned();
                let origin = entity.origin.clone();
                out.push(entity);
                if let Some(model) = model {
                    for sub in &model.sub_entities {
                        let produced = self.resolve(
                            vec![Pending::Sub(
                                sub.clone(),
                                origin.clone(),
                                model.source.clone(),
                            )],
                            &mut context,
                            diags,
                        );
                        out.extend(produced);
                    }
                }
            }
        }
        out
    }

    fn resolve_repeat(
        &mut self,
        repeat: &Entity,
        context: &mut IndexMap<String, Value>,
        diags: &mut Diagnostics,
    ) -> Vec<Entity> {
        let values = repeat.record.get("values").unwrap_or_default();
        let variable = repeat
            .record
            .get("variable")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "index".into());
        let template = repeat.record.get("entity").unwrap_or_default();
        let items: Vec<Value> = match values.as_str() {
            // ibek iterates a string value character by character
            Some(s) => s.chars().map(|c| Value::from(c.to_string())).collect(),
            None => values
                .downcast_object_ref::<PyList>()
                .map(PyList::snapshot)
                .unwrap_or_default(),
        };
        let mut out = Vec::new();
        for (i, value) in items.into_iter().enumerate() {
            context.insert(variable.clone(), value);
            context.insert(format!("{variable}_num"), Value::from(i as i64));
            let mut fields = IndexMap::new();
            if let Ok(keys) = template.try_iter() {
                for k in keys {
                    let v = template.get_item(&k).unwrap_or_default();
                    fields.insert(crate::jinja::pyfmt::py_str(&k).unwrap_or_default(), v);
                }
            }
            let origin = Arc::new(Origin {
                label: format!("repeat {i} of {}", repeat.origin.label),
                source: repeat.origin.source.clone(),
                span: repeat.origin.span,
            });
            let mut ctx = context.clone();
            out.extend(self.resolve(vec![Pending::Dict(fields, origin)], &mut ctx, diags));
        }
        out
    }
}

/// ibek's `fixup_enums`: top-level entities of a file get enum values in place of keys.
fn fixup_enums(entities: &[Entity]) {
    for e in entities {
        let Some(model) = e.model() else { continue };
        for p in model.parameters.values() {
            if p.typ != ParamType::Enum {
                continue;
            }
            let Some(current) = e.record.get(&p.name) else {
                continue;
            };
            let found = p
                .values
                .iter()
                .find(|(k, _)| py_eq(&to_value(k), &current))
                .map(|(_, v)| to_value(v));
            if let Some(v) = found {
                if !v.is_none() {
                    e.record.set(&p.name, v);
                }
            }
        }
    }
}
