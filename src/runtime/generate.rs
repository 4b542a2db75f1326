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
    /// Where pvi device files are found; with `pvi`, the PVI templates and
    /// screens are made too (without, only the `ioc.subst` rows).
    pub pvi_settings: Option<crate::pvi::PviSettings>,
}

impl GenerateOptions {
    /// Options of a layout, as ibek reads `$IOC` and `$RUNTIME_DIR` (empty when unset).
    pub fn new(layout: &EpicsLayout, pvi: bool) -> Self {
        GenerateOptions {
            pvi,
            ioc_dir: layout.ioc_var().to_string(),
            runtime_dir: layout.runtime_var().to_string(),
            env: layout.env().clone(),
            // ibek reads device overrides from $EPICS_ROOT/ioc/config, whatever $IOC says
            pvi_settings: pvi.then(|| crate::pvi::PviSettings {
                config_dir: layout.ibek_config(),
                pvi_defs: layout.pvi_defs(),
            }),
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
    /// PVI templates and screens (with `pvi` and `pvi_settings`).
    pub pvi_files: Option<crate::pvi::PviFiles>,
}

pub use crate::source::{io_reason, load_yaml};

/// Reads all definition files; every problem of every file is reported.
pub fn load_definitions(paths: &[PathBuf]) -> Result<Vec<SupportModule>, Diagnostics> {
    // read on every core, the largest files first (areaDetector's ADCore is
    // most of an areaDetector IOC's definitions); modules and diagnostics
    // come back in the order given
    let mut order: Vec<(u64, usize)> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (std::fs::metadata(p).map_or(0, |m| m.len()), i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut read = crate::par::par_map(&order, |&(_, i)| {
        let mut diags = Diagnostics::default();
        let module = match load_yaml(&paths[i]) {
            Ok((src, root)) => read_support(&root, &src, &mut diags),
            Err(d) => {
                diags.push(d);
                None
            }
        };
        (i, module, diags)
    });
    read.sort_by_key(|(i, _, _)| *i);
    let mut diags = Diagnostics::default();
    let mut modules = Vec::new();
    for (_, module, found) in read {
        diags.0.extend(found.0);
        modules.extend(module);
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
    let (pvi_rows, pvi_entities) = if opts.pvi {
        collect_pvi(&mut resolver, &discrete).unwrap_or_else(|d| {
            diags.push(d);
            (Vec::new(), Vec::new())
        })
    } else {
        (Vec::new(), Vec::new())
    };
    let pvi_files = match (&opts.pvi_settings, opts.pvi && !diags.has_errors()) {
        (Some(settings), true) => {
            match crate::pvi::generate_pvi(&pvi_entities, &ioc_name, settings) {
                Ok(f) => Some(f),
                Err(d) => {
                    diags.push(d);
                    None
                }
            }
        }
        _ => None,
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
        pvi_files,
    })
}

/// `ioc.subst` rows of PVI templates, and the pvi request of each entity.
type PviCollected = (Vec<(Database, Entity)>, Vec<crate::pvi::PviEntity>);

/// The PVI template rows and pvi requests (ibek's `generate_pvi`, without
/// formatting): every entity whose model has `pvi` has its `yaml_path`
/// rendered, those with `pv: true` add a `DEVICE.pvi.template` row with
/// their `ui_macros`, and those with `ui_index` have the macros rendered for
/// their index button.
fn collect_pvi(
    resolver: &mut Resolver<'_>,
    entities: &[Entity],
) -> Result<PviCollected, Diagnostic> {
    let mut rows = Vec::new();
    let mut requests = Vec::new();
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
        let device = crate::pvi::device_name(&rel);
        let macros: IndexMap<String, Option<String>> = pvi.ui_macros.clone().unwrap_or_default();
        if pvi.pv && pvi.ui_macros.is_none() {
            // ibek's add_database asserts on a row without args
            return Err(Diagnostic::error(
                &model.source,
                pvi.span,
                format!(
                    "{}: pvi `pv` is on but the definition has no `ui_macros` for the template's row",
                    e.origin.label
                ),
            )
            .with_hint("add `ui_macros:` (e.g. `P:`) to the pvi section, or set `pv: false`"));
        }
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
        let mut index_macros = Vec::new();
        if pvi.ui_index {
            if pvi.ui_macros.is_none() {
                // ibek's render_map asserts here; say what is missing instead
                return Err(Diagnostic::error(
                    &model.source,
                    pvi.span,
                    format!(
                        "{}: pvi `ui_index` is on but the definition has no `ui_macros`",
                        e.origin.label
                    ),
                )
                .with_hint(
                    "add `ui_macros:` (e.g. `P:`) to the pvi section, or set `ui_index: false`",
                ));
            }
            for (k, v) in &macros {
                let text = v.clone().unwrap_or_else(|| format!("{{{{ {k} }}}}"));
                let value = resolver
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
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                index_macros.push((k.clone(), text));
            }
        }
        requests.push(crate::pvi::PviEntity {
            entity: e.origin.label.clone(),
            yaml_path: rel,
            pv: pvi.pv,
            pv_prefix: pvi.pv_prefix.clone(),
            ui_index: pvi.ui_index,
            index_macros,
        });
    }
    Ok((rows, requests))
}

/// Where [`write_pvi`] put the templates.
#[derive(Debug)]
pub enum PviPlaced {
    /// `$EPICS_ROOT/runtime` is the boot folder: the templates joined the
    /// boot files (and the overlay, so `ioc.db` expands from memory).
    WithBootFiles,
    /// Written to this folder, which `ioc.db`'s expansion must search.
    Folder(PathBuf),
}

/// The pvi step's writing, as ibek places the files: templates to
/// `$EPICS_ROOT/runtime` and screens to `$EPICS_ROOT/opi`, also when the
/// boot files go elsewhere (`-o`). When the runtime folder is `boot_dir`
/// itself, the templates are added to `boot_files`, written with them.
/// Errors name the folder that could not be written.
pub fn write_pvi(
    layout: &EpicsLayout,
    pvi: crate::pvi::PviFiles,
    boot_dir: &Path,
    boot_files: &mut OutputSet,
    overlay: &mut crate::runtime::dbexpand::Overlay,
) -> Result<PviPlaced, (PathBuf, std::io::Error)> {
    let runtime = layout.ibek_runtime();
    let placed = if crate::output::same_dir(&runtime, boot_dir) {
        overlay.add(boot_dir, &pvi.templates);
        boot_files.0.extend(pvi.templates.0);
        PviPlaced::WithBootFiles
    } else {
        crate::output::write_files(&runtime, &pvi.templates).map_err(|e| (runtime.clone(), e))?;
        PviPlaced::Folder(runtime)
    };
    let opi = layout.opi();
    crate::output::write_folder(&opi, &pvi.screens).map_err(|e| (opi, e))?;
    Ok(placed)
}
