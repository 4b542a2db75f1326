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
pub mod template;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::output::OutputSet;
use device::{Component, Device, Item, Kind, SearchPath};

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
pub fn generate_pvi(
    entities: &[PviEntity],
    title: &str,
    settings: &PviSettings,
) -> Result<PviFiles, Diagnostic> {
    let search = SearchPath::new(vec![settings.config_dir.clone(), settings.pvi_defs.clone()]);
    let mut files = PviFiles::default();
    let mut devices: HashMap<PathBuf, Device> = HashMap::new();
    let mut formatted: Vec<String> = Vec::new();
    // (device label, screen file, macros) per index button
    let mut index: Vec<IndexEntry> = Vec::new();
    for e in entities {
        let path = find_device(e, settings)?;
        let name = device_name(&path.display().to_string());
        if !(e.pv || !formatted.contains(&name) || e.ui_index) {
            continue;
        }
        if !devices.contains_key(&path) {
            let mut device = search.load(&path).map_err(|d| about(d, e))?;
            device::resolve_parents(&mut device, &search).map_err(|d| about(d, e))?;
            devices.insert(path.clone(), device);
        }
        let device = &devices[&path];
        if e.pv {
            files.templates.insert(
                format!("{name}.pvi.template"),
                template::format_template(device, &e.pv_prefix),
            );
        }
        let bob_name = format!("{name}.pvi.bob");
        if !formatted.contains(&name) {
            format_device(device, &format!("{name}.pvi"), &mut files.screens)
                .map_err(|d| about(d, e))?;
            formatted.push(name.clone());
        }
        if e.ui_index {
            index.push((device.label.clone(), bob_name, e.index_macros.clone()));
        }
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

/// Lays out and writes a device's screen (`{stem}.bob`) and its sub-screens.
fn format_device(device: &Device, stem: &str, out: &mut OutputSet) -> Result<(), Diagnostic> {
    let components = device.components();
    let (screen, subs) = screen::layout_screen(components, &device.label, stem, &screen::DLS_BOB)?;
    out.insert(format!("{stem}.bob"), bob::format_bob(&screen)?);
    for (name, sub) in subs {
        out.insert(format!("{name}.bob"), bob::format_bob(&sub)?);
    }
    Ok(())
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
}
