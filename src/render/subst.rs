//! `ioc.subst`: one `file` block per database template, with aligned rows.
//!
//! Follows ibek's `RenderDb`: args whose name holds `*` or `?` are regexes
//! matched (Python `re.match`, anchored at the start only) against every
//! attribute of the entity, `type` and `entity_enabled` included; an arg
//! without a value takes the attribute of the same name; the first row of
//! a file fixes its column order; every value is quoted without escaping
//! and columns are padded to the widest cell.

use indexmap::IndexMap;
use minijinja::context;
use regex::Regex;

use super::{fill_template, SUBST_TEMPLATE};
use crate::diag::{Diagnostic, Diagnostics};
use crate::jinja::{pyfmt, Scope};
use crate::model::support::Database;
use crate::resolve::entity::template_note;
use crate::resolve::{Entity, Resolver};
use crate::source::Span;

struct Block {
    keys: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// One database row as written to `ioc.subst`, with the entity it came from.
#[derive(Debug, Clone)]
pub struct Row {
    /// The template file name as rendered.
    pub file: String,
    /// Macro name to value, in column order.
    pub values: IndexMap<String, String>,
}

/// Collects database rows in ibek's order.
#[derive(Default)]
pub struct SubstBuilder {
    blocks: IndexMap<String, Block>,
}

fn db_error(entity: &Entity, span: Span, message: String) -> Diagnostic {
    let src = entity
        .model()
        .map_or_else(|| entity.origin.source.clone(), |m| m.source.clone());
    Diagnostic::error(&src, span, format!("{}: {message}", entity.origin.label)).with_note(format!(
        "the entity is defined at {}:{}",
        crate::diag::display_path(&entity.origin.source.path),
        entity.origin.span.start.line
    ))
}

fn str_to_bool(s: &str) -> bool {
    matches!(s.to_lowercase().as_str(), "yes" | "true" | "1")
}

/// The database's args with each regex arg (one holding `*` or `?`) replaced
/// by the entity attributes it matches, all taking the regex arg's value.
fn expand_args(
    db: &Database,
    entity: &Entity,
) -> Result<IndexMap<String, Option<String>>, Diagnostic> {
    let has_regex = db.args.keys().any(|a| a.contains('*') || a.contains('?'));
    let attributes: Vec<String> = if has_regex {
        entity.record.keys()
    } else {
        Vec::new()
    };
    let mut expanded: IndexMap<String, Option<String>> = IndexMap::new();
    for (arg, value) in &db.args {
        if arg.contains('*') || arg.contains('?') {
            let re = Regex::new(&format!("^(?:{arg})")).map_err(|e| {
                db_error(
                    entity,
                    db.span,
                    format!("database arg `{arg}` is not a valid regex: {e}"),
                )
            })?;
            for a in attributes.iter().filter(|a| re.is_match(a)) {
                expanded.insert(a.clone(), value.clone());
            }
        } else {
            expanded.insert(arg.clone(), value.clone());
        }
    }
    Ok(expanded)
}

/// Fails on the first arg without a value that names neither an attribute of
/// the entity nor a global, with a hint at the closest attribute.
fn check_args_defined(
    resolver: &Resolver<'_>,
    db: &Database,
    entity: &Entity,
    expanded: &IndexMap<String, Option<String>>,
    file_template: &str,
) -> Result<(), Diagnostic> {
    for (arg, value) in expanded {
        if value.is_none()
            && !entity.record.has(arg)
            && !resolver.engine.globals().has_variable(arg)
        {
            let mut d = db_error(
                entity,
                db.span,
                format!("'{arg}' in database template '{file_template}' not found in context"),
            );
            let attributes = entity.record.keys();
            let names: Vec<&str> = attributes.iter().map(String::as_str).collect();
            d = match crate::diag::closest(arg, names) {
                Some(c) => d.with_hint(format!("an arg without a value takes the parameter of the same name; did you mean `{c}`?")),
                None => d.with_hint(format!("give `{arg}` a value, or add a parameter named `{arg}`")),
            };
            return Err(d);
        }
    }
    Ok(())
}

/// Renders each arg's value (an arg without one renders `{{ arg }}`) as
/// Python's `str` would print it.
fn render_args(
    resolver: &mut Resolver<'_>,
    scope: &Scope,
    db: &Database,
    entity: &Entity,
    expanded: &IndexMap<String, Option<String>>,
    filename: &str,
) -> Result<IndexMap<String, String>, Diagnostic> {
    let mut values = IndexMap::new();
    for (key, template) in expanded {
        let text = template
            .clone()
            .unwrap_or_else(|| format!("{{{{ {key} }}}}"));
        let v = resolver
            .engine
            .render_value(&minijinja::Value::from(text.as_str()), scope, None)
            .map_err(|e| {
                let mut d = e.hint_into(db_error(
                    entity,
                    db.span,
                    format!(
                        "could not render arg `{key}` of database `{filename}`: {}",
                        e.message
                    ),
                ));
                if let Some(note) = template_note(&text, &e) {
                    d = d.with_note(note);
                }
                d
            })?;
        values.insert(key.clone(), pyfmt::py_str(&v).unwrap_or_default());
    }
    Ok(values)
}

/// The error for a row whose columns differ from those the file's first row fixed.
fn columns_mismatch(
    keys: &[String],
    values: &IndexMap<String, String>,
    db: &Database,
    entity: &Entity,
    filename: &str,
) -> Diagnostic {
    let quote = |v: Vec<&String>| {
        v.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let missing: Vec<&String> = keys.iter().filter(|k| !values.contains_key(*k)).collect();
    let extra: Vec<&String> = values.keys().filter(|k| !keys.contains(k)).collect();
    let mut what = Vec::new();
    if !missing.is_empty() {
        what.push(format!("lacks {}", quote(missing)));
    }
    if !extra.is_empty() {
        what.push(format!("adds {}", quote(extra)));
    }
    db_error(
        entity,
        db.span,
        format!(
            "the args of database `{filename}` do not match the rows before it: `{}` {}",
            entity.record.type_name,
            what.join(" and ")
        ),
    )
    .with_hint("every entity that loads a template must give it the same set of args (columns)")
}

impl SubstBuilder {
    /// Adds the rows of one database of one entity (ibek's `add_database`).
    pub fn add_database(
        &mut self,
        resolver: &mut Resolver<'_>,
        db: &Database,
        entity: &Entity,
    ) -> Result<(), Diagnostic> {
        let scope = Scope::Record(entity.record.clone());
        let enabled = resolver
            .engine
            .render_str(&db.enabled, &scope)
            .map_err(|e| {
                db_error(
                    entity,
                    db.span,
                    format!(
                        "could not render `enabled` of database `{}`: {}",
                        db.file, e.message
                    ),
                )
            })?;
        if !str_to_bool(&enabled) {
            return Ok(());
        }
        let file_template = db.file.trim_matches('\n');
        let expanded = expand_args(db, entity)?;
        check_args_defined(resolver, db, entity, &expanded, file_template)?;
        let filename = resolver
            .engine
            .render_str(file_template, &scope)
            .map_err(|e| {
                db_error(
                    entity,
                    db.span,
                    format!(
                        "could not render the database file name `{file_template}`: {}",
                        e.message
                    ),
                )
            })?;
        let values = render_args(resolver, &scope, db, entity, &expanded, &filename)?;
        let block = self
            .blocks
            .entry(filename.clone())
            .or_insert_with(|| Block {
                keys: values.keys().cloned().collect(),
                rows: Vec::new(),
            });
        let same =
            values.len() == block.keys.len() && block.keys.iter().all(|k| values.contains_key(k));
        if !same {
            return Err(columns_mismatch(
                &block.keys,
                &values,
                db,
                entity,
                &filename,
            ));
        }
        block
            .rows
            .push(block.keys.iter().map(|k| values[k].clone()).collect());
        Ok(())
    }

    /// The rows collected so far, in file order.
    pub fn rows(&self) -> Vec<Row> {
        let mut out = Vec::new();
        for (file, b) in &self.blocks {
            for r in &b.rows {
                out.push(Row {
                    file: file.clone(),
                    values: b.keys.iter().cloned().zip(r.iter().cloned()).collect(),
                });
            }
        }
        out
    }

    /// The text of `ioc.subst`.
    pub fn render(&self) -> Result<String, Diagnostic> {
        let mut files = Vec::new();
        for (name, b) in &self.blocks {
            let mut table: Vec<Vec<String>> = Vec::with_capacity(b.rows.len() + 1);
            table.push(b.keys.clone());
            table.extend(b.rows.iter().cloned());
            let ncols = b.keys.len();
            let mut widths = vec![0usize; ncols];
            for row in &mut table {
                for (i, cell) in row.iter_mut().enumerate() {
                    *cell = format!("\"{cell}\"");
                    if i + 1 < ncols {
                        cell.push_str(", ");
                    }
                    widths[i] = widths[i].max(cell.chars().count());
                }
            }
            let rows = table
                .iter()
                .map(|row| {
                    let mut line = String::new();
                    for (i, c) in row.iter().enumerate() {
                        line.push_str(c);
                        let pad = widths[i] - c.chars().count();
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    line
                })
                .collect();
            let rows: Vec<String> = rows;
            files.push(minijinja::Value::from_pairs([
                ("name", minijinja::Value::from(name.as_str())),
                ("rows", minijinja::Value::from(rows)),
            ]));
        }
        fill_template(SUBST_TEMPLATE, context! { files => files })
    }
}

/// Collects the rows of `ioc.subst`: databases of enabled entities, then PVI rows.
///
/// Failing rows are reported in `diags` and the others still collected.
pub fn render_substitution(
    resolver: &mut Resolver<'_>,
    entities: &[Entity],
    pvi_rows: &[(Database, Entity)],
    diags: &mut Diagnostics,
) -> SubstBuilder {
    let mut b = SubstBuilder::default();
    for entity in entities.iter().filter(|e| e.enabled()) {
        let Some(model) = entity.model().cloned() else {
            continue;
        };
        for db in &model.databases {
            if let Err(d) = b.add_database(resolver, db, entity) {
                diags.push(d);
            }
        }
    }
    for (db, entity) in pvi_rows {
        if let Err(d) = b.add_database(resolver, db, entity) {
            diags.push(d);
        }
    }
    b
}
