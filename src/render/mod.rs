//! `st.cmd`, `ioc.subst` and `wait_list.yaml` from resolved entities.
//!
//! The order of every render matters, because templates have side effects
//! (counters, `_global.set`, list appends): environment variables of all
//! entities first, then `pre_init`, then `post_init`, then database rows,
//! then PVI rows, as ibek does.

pub mod subst;
pub mod wait;

use std::collections::HashSet;

use minijinja::{context, Environment};

use crate::diag::{Diagnostic, Diagnostics};
use crate::jinja::{pyfmt, Scope};
use crate::model::support::{ScriptItem, When};
use crate::resolve::entity::template_note;
use crate::resolve::{Entity, Resolver};

/// The boot script template (`ioc-templates/st.cmd.jinja`).
pub const ST_CMD_TEMPLATE: &str = include_str!("../../ioc-templates/st.cmd.jinja");
/// The substitution file template (`ioc-templates/ioc.subst.jinja`).
pub const SUBST_TEMPLATE: &str = include_str!("../../ioc-templates/ioc.subst.jinja");

fn render_error(
    entity: &Entity,
    what: &str,
    text: &str,
    span: crate::source::Span,
    e: &crate::jinja::TemplateError,
) -> Diagnostic {
    let src = entity
        .model()
        .map_or_else(|| entity.origin.source.clone(), |m| m.source.clone());
    let mut d = e
        .hint_into(Diagnostic::error(
            &src,
            span,
            format!(
                "{}: could not render {what}: {}",
                entity.origin.label, e.message
            ),
        ))
        .with_note(format!(
            "the entity is defined at {}:{}",
            crate::diag::display_path(&entity.origin.source.path),
            entity.origin.span.start.line
        ));
    if let Some(note) = template_note(text, e) {
        d = d.with_note(note);
    }
    d
}

/// Renders the `pre_init` / `post_init` items of one entity (ibek's `render_script`).
fn render_script(
    resolver: &mut Resolver<'_>,
    entity: &Entity,
    items: &[ScriptItem],
    once: &mut HashSet<String>,
    what: &str,
) -> Result<String, Diagnostic> {
    let Some(model) = entity.model() else {
        return Ok(String::new());
    };
    let scope = Scope::Record(entity.record.clone());
    let mut out = String::new();
    for item in items {
        let text = if item.comment {
            item.value
                .split('\n')
                .map(|l| format!("# {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            item.value.clone()
        };
        match &item.when {
            When::First => {
                // ibek keys "first" on the model name without its module
                let key = format!(
                    "{}{}",
                    model.name,
                    if item.comment { "comment" } else { "text" }
                );
                if !once.insert(key) {
                    continue;
                }
            }
            When::Last => {
                return Err(Diagnostic::error(
                    &model.source,
                    item.span,
                    format!(
                        "{}: `when: last` is not implemented by ibek",
                        entity.origin.label
                    ),
                )
                .with_hint("use `first` or `every`"));
            }
            When::Every | When::Other(_) => {}
        }
        let rendered = resolver
            .engine
            .render_str(&text, &scope)
            .map_err(|e| render_error(entity, what, &text, item.span, &e))?;
        if !rendered.is_empty() {
            out.push_str(&rendered);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Renders `st.cmd` for the entities (only those with a model; disabled ones are skipped).
///
/// Every failing entity is reported in `diags` and rendering goes on, so one
/// run shows all problems; the text is only meaningful when `diags` has no errors.
pub fn render_startup(
    resolver: &mut Resolver<'_>,
    entities: &[Entity],
    ioc_dir: &str,
    runtime_dir: &str,
    diags: &mut Diagnostics,
) -> String {
    let mut env_vars = String::new();
    for entity in entities.iter().filter(|e| e.enabled()) {
        let Some(model) = entity.model().cloned() else {
            continue;
        };
        if model.env_vars.is_empty() {
            continue;
        }
        let scope = Scope::Record(entity.record.clone());
        // ibek joins one entity's variables without a separator, then adds one newline
        let mut text = String::new();
        for var in &model.env_vars {
            let template = format!("epicsEnvSet {} {}", var.name, var.value);
            match resolver.engine.render_value(
                &minijinja::Value::from(template.as_str()),
                &scope,
                None,
            ) {
                Ok(v) => text.push_str(&pyfmt::py_str(&v).unwrap_or_default()),
                Err(e) => diags.push(render_error(
                    entity,
                    "an environment variable",
                    &template,
                    var.span,
                    &e,
                )),
            }
        }
        env_vars.push_str(&text);
        env_vars.push('\n');
    }
    let mut once = HashSet::new();
    let mut pre_init = String::new();
    for entity in entities.iter().filter(|e| e.enabled()) {
        let Some(model) = entity.model().cloned() else {
            continue;
        };
        match render_script(resolver, entity, &model.pre_init, &mut once, "pre_init") {
            Ok(text) => pre_init.push_str(&text),
            Err(d) => diags.push(d),
        }
    }
    let mut post_init = String::new();
    for entity in entities.iter().filter(|e| e.enabled()) {
        let Some(model) = entity.model().cloned() else {
            continue;
        };
        match render_script(resolver, entity, &model.post_init, &mut once, "post_init") {
            Ok(text) => post_init.push_str(&text),
            Err(d) => diags.push(d),
        }
    }
    match fill_template(
        ST_CMD_TEMPLATE,
        context! {
            ioc_dir => ioc_dir,
            runtime_dir => runtime_dir,
            env_vars => env_vars,
            pre_init => pre_init,
            post_init => post_init,
        },
    ) {
        Ok(text) => text,
        Err(d) => {
            diags.push(d);
            String::new()
        }
    }
}

/// Renders one of the fixed templates of `ioc-templates/`.
pub fn fill_template(template: &str, ctx: minijinja::Value) -> Result<String, Diagnostic> {
    let env = Environment::new();
    env.render_str(template, ctx)
        .map_err(|e| Diagnostic::plain(None, format!("internal error in a built-in template: {e}")))
}
