//! PVI: device templates and screens for entities whose model has `pvi:`.
//!
//! After resolve, `runtime generate` hands every entity with a `pvi`
//! section here ([`PviEntity`]: its rendered `yaml_path`, `pv`, `pv_prefix`,
//! `ui_index` and rendered index macros). As ibek 4.8.2's `generate_pvi`
//! does with pvi 0.14.4, each device file is found (the IOC config folder
//! wins over `$EPICS_ROOT/pvi-defs`, for parents too), read ([`read`], into the
//! [`device`] model) and its parents merged ([`parents`]), and three kinds of file made: `DEVICE.pvi.template` for
//! entities with `pv: true` ([`template`]), the device's `.bob` screen and
//! sub-screens once per device ([`screen`] lays out, [`bob`] writes XML),
//! and `index.bob` with a button per `ui_index` entity. Nothing is written
//! here: the caller writes [`PviFiles`] to `$EPICS_ROOT/runtime` and
//! `$EPICS_ROOT/opi`.

pub mod bob;
pub mod device;
pub mod parents;
pub mod read;
pub mod screen;
pub mod stencil;
pub mod template;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::output::OutputSet;
use device::{Component, Device, Item, Kind, SearchPath};
use screen::Screen;

/// Where pvi device files are looked for.
#[derive(Debug, Clone)]
pub struct PviSettings {
    /// The IOC instance config folder (`$EPICS_ROOT/ioc/config`); its files win.
    pub config_dir: PathBuf,
    /// `$EPICS_ROOT/pvi-defs`.
    pub pvi_defs: PathBuf,
}

/// One entity's pvi request, already rendered.
#[derive(Debug, Clone)]
pub struct PviEntity {
    /// How the entity is named in messages.
    pub entity: String,
    /// The rendered `yaml_path`.
    pub yaml_path: String,
    /// Make a PVI template.
    pub pv: bool,
    /// PV prefix of the PVI PV (as written, not rendered, as ibek does).
    pub pv_prefix: String,
    /// Add a button to `index.bob`.
    pub ui_index: bool,
    /// Rendered `ui_macros` for the index button.
    pub index_macros: Vec<(String, String)>,
}

/// What PVI generation made.
#[derive(Debug, Clone, Default)]
pub struct PviFiles {
    /// `DEVICE.pvi.template` files, for `$EPICS_ROOT/runtime`.
    pub templates: OutputSet,
    /// `.bob` screens and `index.bob`, for `$EPICS_ROOT/opi`.
    pub screens: OutputSet,
}

type IndexEntry = (String, String, Vec<(String, String)>);

/// The device name of a device file: its file name up to the first dot.
pub fn device_name(yaml_path: &str) -> String {
    let file = Path::new(yaml_path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.split('.').next().unwrap_or_default().to_string()
}

/// Generates the templates, screens and index for `entities` (ibek's `generate_pvi`
/// and `generate_index`); `title` is the IOC name.
///
/// The result, errors included, is what handling the entities one by one
/// gives (the first failing entity's error), but each device file is read,
/// resolved and formatted once, on as many threads as the machine has.
pub fn generate_pvi(
    entities: &[PviEntity],
    title: &str,
    settings: &PviSettings,
) -> Result<PviFiles, Diagnostic> {
    let search = SearchPath::new(vec![settings.config_dir.clone(), settings.pvi_defs.clone()]);
    let (steps, jobs, stopped) = plan(entities, settings);
    let mut done = run_jobs(&jobs, &search);

    let mut files = PviFiles::default();
    // (device label, screen file, macros) per index button
    let mut index: Vec<IndexEntry> = Vec::new();
    for step in &steps {
        let e = step.entity;
        let job = &mut done[step.job];
        let device = job.device.as_ref().map_err(|d| about(d.clone(), e))?;
        if e.pv {
            let text = job
                .templates
                .iter()
                .find(|(prefix, _)| *prefix == e.pv_prefix)
                .map(|(_, t)| t.clone())
                .unwrap_or_default();
            files
                .templates
                .insert(format!("{}.pvi.template", step.name), text);
        }
        if step.formats {
            // only the first entity of a device formats its screens: they move out once
            if let Some(screens) = job.screens.take() {
                files.screens.0.extend(screens.map_err(|d| about(d, e))?.0);
            }
        }
        if e.ui_index {
            index.push((
                device.label.clone(),
                format!("{}.pvi.bob", step.name),
                e.index_macros.clone(),
            ));
        }
    }
    if let Some(err) = stopped {
        return Err(err);
    }
    let children = index
        .into_iter()
        .map(|(label, ui, macros)| {
            let name = device::enforce_pascal_case(&label);
            if name.is_empty() || !device::is_pascal(&name) {
                return Err(Diagnostic::plain(
                    None,
                    format!("pvi device label `{label}` cannot name an index button"),
                ));
            }
            Ok(Item::Component(Component {
                name,
                label: Some(label.clone()),
                description: None,
                kind: Kind::DeviceRef {
                    pv: label.to_uppercase(),
                    ui,
                    macros,
                },
            }))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let index_device = Device {
        label: title.to_string(),
        parent: None,
        resolved: children
            .iter()
            .filter_map(|i| match i {
                Item::Component(c) => Some(c.clone()),
                Item::Include(_) => None,
            })
            .collect(),
        children,
    };
    format_device(&index_device, "index", &mut files.screens)?;
    Ok(files)
}

/// What one entity asks of the pvi step, decided before any device file is read.
struct Step<'a> {
    entity: &'a PviEntity,
    /// The device name (file name up to the first dot).
    name: String,
    /// The first entity of this device name: its device's screens are written.
    formats: bool,
    /// Index into the jobs.
    job: usize,
}

/// One device file to read, resolve and format.
struct Job {
    path: PathBuf,
    /// The screen stem, when this device's screens are written.
    screen: Option<String>,
    /// The `pv_prefix`es its templates are made with.
    prefixes: Vec<String>,
}

/// What a job made.
struct Done {
    device: Result<Device, Diagnostic>,
    screens: Option<Result<OutputSet, Diagnostic>>,
    templates: Vec<(String, String)>,
}

/// ibek's loop over the entities without reading any device file: which
/// entities count (an entity without `pv` or `ui_index` whose device's
/// screen is already written adds nothing), which one writes each screen,
/// the device files to read (in first-use order), and the error that ends
/// the loop when a device file cannot be found.
fn plan<'a>(
    entities: &'a [PviEntity],
    settings: &PviSettings,
) -> (Vec<Step<'a>>, Vec<Job>, Option<Diagnostic>) {
    let mut steps = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut formatted: HashSet<String> = HashSet::new();
    for e in entities {
        let path = match find_device(e, settings) {
            Ok(p) => p,
            Err(d) => return (steps, jobs, Some(d)),
        };
        let name = device_name(&path.display().to_string());
        if !e.pv && !e.ui_index && formatted.contains(&name) {
            continue;
        }
        let formats = formatted.insert(name.clone());
        let job = if let Some(i) = jobs.iter().position(|j| j.path == path) {
            i
        } else {
            jobs.push(Job {
                path,
                screen: None,
                prefixes: Vec::new(),
            });
            jobs.len() - 1
        };
        if formats {
            jobs[job].screen = Some(format!("{name}.pvi"));
        }
        if e.pv && !jobs[job].prefixes.contains(&e.pv_prefix) {
            jobs[job].prefixes.push(e.pv_prefix.clone());
        }
        steps.push(Step {
            entity: e,
            name,
            formats,
            job,
        });
    }
    (steps, jobs, None)
}

/// Reads, resolves and lays out each device (one job a device), then writes
/// every laid-out screen's XML (one job a screen, so the threads share the
/// big devices' many sub-screens evenly); results come back in order.
fn run_jobs(jobs: &[Job], search: &SearchPath) -> Vec<Done> {
    let laid = crate::par::par_map(jobs, |job| run_job(job, search));
    let screens: Vec<&(String, Screen)> = laid
        .iter()
        .filter_map(|l| l.screens.as_ref().and_then(|s| s.as_ref().ok()))
        .flatten()
        .collect();
    let mut written = crate::par::par_map(&screens, |(name, screen)| {
        bob::format_bob(screen).map(|text| (format!("{name}.bob"), text))
    })
    .into_iter();
    laid.into_iter()
        .map(|l| Done {
            screens: l.screens.map(|s| {
                let n = s?.len();
                // this device's screens, taken whole so the next device's stay aligned
                let mine: Vec<_> = written.by_ref().take(n).collect();
                let mut out = OutputSet::default();
                for made in mine {
                    let (name, text) = made?;
                    out.insert(name, text);
                }
                Ok(out)
            }),
            device: l.device,
            templates: l.templates,
        })
        .collect()
}

/// A device read, resolved and laid out (its screens not yet written).
struct Laid {
    device: Result<Device, Diagnostic>,
    /// The screen and sub-screens by file stem, when this device's are written.
    screens: Option<Result<Vec<(String, Screen)>, Diagnostic>>,
    templates: Vec<(String, String)>,
}

fn run_job(job: &Job, search: &SearchPath) -> Laid {
    let device = search.load(&job.path).and_then(|d| {
        let mut device = Device::clone(&d);
        device::resolve_parents(&mut device, search)?;
        Ok(device)
    });
    let Ok(dev) = &device else {
        return Laid {
            device,
            screens: None,
            templates: Vec::new(),
        };
    };
    let templates = job
        .prefixes
        .iter()
        .map(|p| (p.clone(), template::format_template(dev, p)))
        .collect();
    let screens = job.screen.as_ref().map(|stem| lay_out(dev, stem));
    Laid {
        device,
        screens,
        templates,
    }
}

/// A device's screen (`{stem}`) and its sub-screens, laid out.
fn lay_out(device: &Device, stem: &str) -> Result<Vec<(String, Screen)>, Diagnostic> {
    let (screen, subs) =
        screen::layout_screen(device.components(), &device.label, stem, &screen::DLS_BOB)?;
    let mut all = vec![(stem.to_string(), screen)];
    all.extend(subs);
    Ok(all)
}

/// Lays out and writes a device's screen (`{stem}.bob`) and its sub-screens.
fn format_device(device: &Device, stem: &str, out: &mut OutputSet) -> Result<(), Diagnostic> {
    for (name, screen) in lay_out(device, stem)? {
        out.insert(format!("{name}.bob"), bob::format_bob(&screen)?);
    }
    Ok(())
}

fn about(d: Diagnostic, e: &PviEntity) -> Diagnostic {
    let note = format!(
        "while making the pvi files of {} (`yaml_path`: `{}`)",
        e.entity, e.yaml_path
    );
    d.with_note(note)
}

/// ibek's `find_pvi_device`: a file of the same name in the config folder
/// wins, else the path relative to pvi-defs (absolute paths pass through).
fn find_device(e: &PviEntity, settings: &PviSettings) -> Result<PathBuf, Diagnostic> {
    let rel = Path::new(&e.yaml_path);
    // containment (README, "Differences from ibek"): ibek joins any path,
    // `..` and absolute ones included, and so reads outside its folders
    if !stays_inside(rel) {
        return Err(Diagnostic::plain(
            None,
            format!(
                "{}: pvi device path `{}` leaves the device folders",
                e.entity, e.yaml_path
            ),
        )
        .with_hint(format!(
            "name the device file relative to `{}` (or put it into `{}`), without `..` or a leading `/`",
            settings.pvi_defs.display(),
            settings.config_dir.display()
        )));
    }
    if let Some(file) = rel.file_name() {
        let over = settings.config_dir.join(file);
        if over.is_file() {
            return Ok(over);
        }
    }
    let path = settings.pvi_defs.join(rel);
    if path.is_file() {
        return Ok(path);
    }
    let mut searched = vec![settings
        .config_dir
        .join(rel.file_name().unwrap_or_default())];
    searched.push(path);
    Err(Diagnostic::plain(
        None,
        format!(
            "{}: pvi device file `{}` not found (searched {})",
            e.entity,
            e.yaml_path,
            searched
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .with_hint(format!(
        "install the support module's pvi device file into `{}`, or put `{}` into the IOC config folder `{}`",
        settings.pvi_defs.display(),
        rel.file_name().unwrap_or_default().to_string_lossy(),
        settings.config_dir.display()
    )))
}

/// Whether a relative path names something inside the folder it is joined to
/// (only plain names: no `..`, no root, no `.`-only path).
pub(crate) fn stays_inside(rel: &Path) -> bool {
    let mut parts = rel.components().peekable();
    parts.peek().is_some() && parts.all(|c| matches!(c, std::path::Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(yaml_path: &str) -> PviEntity {
        PviEntity {
            entity: "cam1".into(),
            yaml_path: yaml_path.into(),
            pv: true,
            pv_prefix: String::new(),
            ui_index: false,
            index_macros: Vec::new(),
        }
    }

    #[test]
    fn device_paths_outside_the_device_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = PviSettings {
            config_dir: dir.path().join("ioc/config"),
            pvi_defs: dir.path().join("pvi-defs"),
        };
        fs_err::create_dir_all(&settings.pvi_defs).unwrap();
        fs_err::create_dir_all(&settings.config_dir).unwrap();
        let outside = dir.path().join("secret.pvi.device.yaml");
        fs_err::write(&outside, "label: x\n").unwrap();
        fs_err::write(settings.pvi_defs.join("ok.pvi.device.yaml"), "label: ok\n").unwrap();
        for bad in [
            "../secret.pvi.device.yaml".to_string(),
            outside.display().to_string(),
        ] {
            let err = find_device(&entity(&bad), &settings).unwrap_err();
            assert!(
                format!("{err:?}").contains("leaves the device folders"),
                "{bad}: {err:?}"
            );
        }
        assert_eq!(
            find_device(&entity("ok.pvi.device.yaml"), &settings).unwrap(),
            settings.pvi_defs.join("ok.pvi.device.yaml")
        );
    }

    #[test]
    fn the_first_failing_entity_gives_the_error_as_one_by_one_would() {
        let dir = tempfile::tempdir().unwrap();
        let settings = PviSettings {
            config_dir: dir.path().join("ioc/config"),
            pvi_defs: dir.path().join("pvi-defs"),
        };
        fs_err::create_dir_all(&settings.pvi_defs).unwrap();
        fs_err::create_dir_all(&settings.config_dir).unwrap();
        for n in ["Good1", "Good2", "Good3"] {
            fs_err::write(
                settings.pvi_defs.join(format!("{n}.pvi.device.yaml")),
                format!("label: {n}\nchildren: []\n"),
            )
            .unwrap();
        }
        fs_err::write(
            settings.pvi_defs.join("Broken.pvi.device.yaml"),
            "label: [unclosed\n",
        )
        .unwrap();
        let named = |names: &[&str]| -> Vec<PviEntity> {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| PviEntity {
                    entity: format!("entity{i}"),
                    ..entity(&format!("{n}.pvi.device.yaml"))
                })
                .collect()
        };
        let err = |names: &[&str]| {
            format!(
                "{:?}",
                generate_pvi(&named(names), "ioc", &settings).unwrap_err()
            )
        };
        // a broken file before a missing one: the broken one's error, and the reverse
        let e = err(&["Good1", "Broken", "Good2", "Missing"]);
        assert!(e.contains("entity1") && !e.contains("Missing"), "{e}");
        let e = err(&["Good1", "Missing", "Broken", "Good2"]);
        assert!(e.contains("Missing") && !e.contains("entity2"), "{e}");
        // all good: every template, in whatever order the threads finished
        let files = generate_pvi(&named(&["Good3", "Good1", "Good2"]), "ioc", &settings).unwrap();
        let names: Vec<_> = files
            .templates
            .0
            .keys()
            .map(|k| k.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "Good1.pvi.template",
                "Good2.pvi.template",
                "Good3.pvi.template"
            ]
        );
    }

    #[test]
    fn screens_formatted_on_many_threads_land_with_their_device() {
        let dir = tempfile::tempdir().unwrap();
        let settings = PviSettings {
            config_dir: dir.path().join("ioc/config"),
            pvi_defs: dir.path().join("pvi-defs"),
        };
        fs_err::create_dir_all(&settings.pvi_defs).unwrap();
        fs_err::create_dir_all(&settings.config_dir).unwrap();
        let with_pages = |label: &str, pages: usize| {
            let mut y = format!("label: {label}\nchildren:\n");
            for p in 0..pages {
                y += &format!(
                    "  - type: Group\n    name: Page{p}\n    layout:\n      type: SubScreen\n    children:\n      - type: SignalR\n        name: Value{p}\n        read_pv: $(P){label}{p}\n"
                );
            }
            y
        };
        for (n, pages) in [("Alpha", 3), ("Beta", 1), ("Gamma", 4)] {
            fs_err::write(
                settings.pvi_defs.join(format!("{n}.pvi.device.yaml")),
                with_pages(n, pages),
            )
            .unwrap();
        }
        fs_err::write(
            settings.pvi_defs.join("Bad.pvi.device.yaml"),
            "label: Bad\nchildren:\n  - type: Group\n    name: Line\n    layout:\n      type: Row\n    children:\n      - type: SignalW\n        name: Go\n        write_pv: $(P)Go\n        write_widget:\n          type: ButtonPanel\n",
        )
        .unwrap();
        let named = |names: &[&str]| -> Vec<PviEntity> {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| PviEntity {
                    entity: format!("entity{i}"),
                    ..entity(&format!("{n}.pvi.device.yaml"))
                })
                .collect()
        };
        let files = generate_pvi(&named(&["Alpha", "Beta", "Gamma"]), "ioc", &settings).unwrap();
        for (n, pages) in [("Alpha", 3), ("Beta", 1), ("Gamma", 4)] {
            let main = files.screens.get(&format!("{n}.pvi.bob")).unwrap();
            assert!(main.contains(&format!("<text>{n}</text>")), "{n}: {main}");
            // (pvi draws a lone sub-screen group in place)
            for p in (0..pages).filter(|_| pages > 1) {
                let sub = files
                    .screens
                    .get(&format!("{n}_Page{p}.pvi.bob"))
                    .unwrap_or_else(|| panic!("{n} page {p}: {:?}", files.screens.0.keys()));
                assert!(
                    sub.contains(&format!("$(P){n}{p}")),
                    "{n} page {p} holds its own PV"
                );
            }
        }
        // a screen pvi cannot draw fails its own entity, wherever it sits
        let e = format!(
            "{:?}",
            generate_pvi(&named(&["Alpha", "Bad", "Gamma"]), "ioc", &settings).unwrap_err()
        );
        assert!(e.contains("entity1") && e.contains("ButtonPanel"), "{e}");
    }
}
