//! `runtime generate`: definitions + instance files → `st.cmd`, `ioc.subst`, `wait_list.yaml`.
//!
//! ibek's `do_generate`, step for step: definitions are read, the first
//! instance file names `ioc_yaml_file_name`, each instance is validated and
//! rendered (its `ioc_name` first), sub-entities and repeats are expanded,
//! PVI rows are collected, then the boot script and the substitution file
//! are rendered. Nothing is written here; the caller writes the returned
//! [`OutputSet`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::jinja::Scope;
use crate::layout::{Environment, EpicsLayout};
use crate::model::instance::read_instance;
use crate::model::support::{read_support, Database, SupportModule};
use crate::output::OutputSet;
use crate::render::render_startup;
use crate::render::subst::{render_substitution, Row};
use crate::render::wait::render_wait_list;
use crate::resolve::{Entity, Registry, Resolver};
use crate::source::{self, SourceFile};

/// Settings of one generation.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Add PVI template rows (ibek's `--pvi`, on by default).
    pub pvi: bool,
    /// The `cd` target in `st.cmd` (ibek uses `$IOC`).
    pub ioc_dir: String,
    /// Where `st.cmd` loads `ioc.db` from (ibek uses `$RUNTIME_DIR`).
    pub runtime_dir: String,
    /// What templates read with `_global.get_env` and `env`.
    pub env: Environment,
}

impl GenerateOptions {
    /// Options of a layout, as ibek reads `$IOC` and `$RUNTIME_DIR` (empty when unset).
    pub fn new(layout: &EpicsLayout, pvi: bool) -> Self {
        GenerateOptions {
            pvi,
            ioc_dir: layout.ioc_var().to_string(),
            runtime_dir: layout.runtime_var().to_string(),
            env: layout.env().clone(),
        }
    }
}

/// What a generation produced.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The files to write.
    pub files: OutputSet,
    /// The database rows of `ioc.subst`, for database expansion.
    pub rows: Vec<Row>,
    /// The rendered IOC name.
    pub ioc_name: String,
}

pub use crate::source::{io_reason, load_yaml};

/// Reads all definition files; every problem of every file is reported.
pub fn load_definitions(paths: &[PathBuf]) -> Result<Vec<SupportModule>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut modules = Vec::new();
    for path in paths {
        match load_yaml(path) {
            Ok((src, root)) => {
                if let Some(m) = read_support(&root, &src, &mut diags) {
                    modules.push(m);
                }
            }
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(modules)
}

/// The instance files of a config folder: `ioc.yaml` then `runtime.yaml`, where they exist.
pub fn config_instances(folder: &Path) -> Vec<PathBuf> {
    ["ioc.yaml", "runtime.yaml"]
        .iter()
        .map(|name| folder.join(name))
        .filter(|p| p.exists())
        .collect()
}

/// The step: reads `definitions` and generates from `instances` with the
/// layout's `$IOC`, `$RUNTIME_DIR` and environment.
pub fn generate_ioc(
    layout: &EpicsLayout,
    instances: &[PathBuf],
    definitions: &[PathBuf],
    pvi: bool,
) -> Result<Generated, Diagnostics> {
    let modules = load_definitions(definitions)?;
    generate(instances, &modules, &GenerateOptions::new(layout, pvi))
}

/// Runs the whole generation over already loaded definitions.
pub fn generate(
    instances: &[PathBuf],
    modules: &[SupportModule],
    opts: &GenerateOptions,
) -> Result<Generated, Diagnostics> {
    let (parsed, stem) = read_instances(instances);
    generate_parsed(&parsed, &stem, modules, opts)
}

/// Reads every instance file, and the stem of the first (ibek's `ioc_yaml_file_name`).
pub fn read_instances(instances: &[PathBuf]) -> (Vec<ParsedInstance>, String) {
    let parsed = instances.iter().map(|p| load_yaml(p)).collect();
    let stem = instances
        .first()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    (parsed, stem)
}

/// An instance file as read: its text and YAML tree, or why it could not be read.
pub type ParsedInstance = Result<(Arc<SourceFile>, source::Node), Diagnostic>;

/// [`generate`] over instance files already read (`ioc_yaml_file_name` is `stem`).
pub fn generate_parsed(
    instances: &[ParsedInstance],
    stem: &str,
    modules: &[SupportModule],
    opts: &GenerateOptions,
) -> Result<Generated, Diagnostics> {
    let registry = Registry::new(modules);
    let mut resolver = Resolver::new(&registry);
    resolver.engine.set_environment(&opts.env);
    let mut diags = Diagnostics::default();
    resolver.engine.globals().set_file_name(stem);
    let mut entities = Vec::new();
    let mut ioc_name = String::new();
    for (i, parsed) in instances.iter().enumerate() {
        let (src, root) = match parsed {
            Ok(x) => x,
            Err(d) => {
                diags.push(d.clone());
                continue;
            }
        };
        let Some(doc) = read_instance(root, src, &mut diags) else {
            continue;
        };
        let (name, mut found) = resolver.load_instance(&doc, &mut diags);
        if i == 0 {
            ioc_name = name;
        }
        entities.append(&mut found);
    }
    // later stages run on the entities that were built, so one run reports
    // every problem; nothing is returned for writing while any error stands
    let all = resolver.expand(entities, &mut diags);
    let discrete: Vec<Entity> = all
        .iter()
        .filter(|e| e.model().is_some())
        .cloned()
        .collect();
    let pvi_rows = if opts.pvi {
        collect_pvi(&mut resolver, &discrete).unwrap_or_else(|d| {
            diags.push(d);
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let mut files = OutputSet::default();
    let st_cmd = render_startup(
        &mut resolver,
        &discrete,
        &opts.ioc_dir,
        &opts.runtime_dir,
        &mut diags,
    );
    let subst = render_substitution(&mut resolver, &discrete, &pvi_rows, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    files.insert("st.cmd", st_cmd);
    files.insert("ioc.subst", subst.render().map_err(Diagnostics::from)?);
    if let Some(w) = render_wait_list(&all) {
        files.insert("wait_list.yaml", w);
    }
    Ok(Generated {
        files,
        rows: subst.rows(),
        ioc_name,
    })
}

/// The PVI template rows (ibek's `generate_pvi`, without writing screens):
/// every entity whose model has `pvi` has its `yaml_path` rendered, and those
/// with `pv: true` add a `DEVICE.pvi.template` row with their `ui_macros`.
fn collect_pvi(
    resolver: &mut Resolver<'_>,
    entities: &[Entity],
) -> Result<Vec<(Database, Entity)>, Diagnostic> {
    let mut rows = Vec::new();
    for e in entities {
        let Some(model) = e.model() else { continue };
        let Some(pvi) = &model.pvi else { continue };
        let scope = Scope::Record(e.record.clone());
        let rel = resolver
            .engine
            .render_str(&pvi.yaml_path, &scope)
            .map_err(|err| {
                Diagnostic::error(
                    &model.source,
                    pvi.span,
                    format!(
                        "{}: could not render the pvi `yaml_path`: {}",
                        e.origin.label, err.message
                    ),
                )
            })?;
        let file_name = Path::new(&rel)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let device = file_name.split('.').next().unwrap_or_default().to_string();
        let macros: IndexMap<String, Option<String>> = pvi.ui_macros.clone().unwrap_or_default();
        if pvi.pv {
            rows.push((
                Database {
                    file: format!("{device}.pvi.template"),
                    enabled: "True".into(),
                    args: macros.clone(),
                    span: pvi.span,
                },
                e.clone(),
            ));
        }
        if pvi.ui_index {
            // rendered for its side effects and errors, as ibek renders the index macros
            for (k, v) in &macros {
                let text = v.clone().unwrap_or_else(|| format!("{{{{ {k} }}}}"));
                resolver
                    .engine
                    .render_value(&minijinja::Value::from(text.as_str()), &scope, None)
                    .map_err(|err| {
                        Diagnostic::error(
                            &model.source,
                            pvi.span,
                            format!(
                                "{}: could not render pvi macro `{k}`: {}",
                                e.origin.label, err.message
                            ),
                        )
                    })?;
            }
        }
    }
    Ok(rows)
}
