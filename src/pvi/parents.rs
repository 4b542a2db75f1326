//! `parent` chains and `Include` statements, resolved and merged as pvi's
//! `Device.deserialize_parents` does: device files are found in the IOC
//! config folder before `$EPICS_ROOT/pvi-defs`, each read once, and their
//! components merged group by group.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::device::{is_pascal, Component, Device, Include, Item, Kind, Layout};
use super::read::{load_device, DEVICE_SUFFIX};
use crate::diag::Diagnostic;

/// Where device files are looked for, first match wins (ibek: the IOC's
/// config folder, then `$EPICS_ROOT/pvi-defs`); each file is read once,
/// also when several threads resolve devices that share parents.
#[derive(Debug, Default)]
pub struct SearchPath {
    dirs: Vec<PathBuf>,
    cache: Mutex<HashMap<PathBuf, Arc<Loaded>>>,
}

/// A device file, read by the first thread that asks for it.
type Loaded = OnceLock<Result<Arc<Device>, Diagnostic>>;

impl SearchPath {
    /// A search path over `dirs`.
    pub fn new(dirs: Vec<PathBuf>) -> SearchPath {
        SearchPath {
            dirs,
            cache: Mutex::default(),
        }
    }

    /// The device file at `path`, read and checked once.
    pub fn load(&self, path: &Path) -> Result<Arc<Device>, Diagnostic> {
        let cell = {
            // a poisoned lock only means another thread panicked, which aborts
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(cache.entry(path.to_path_buf()).or_default())
        };
        // reading one file never asks for another, so no thread waits on itself
        cell.get_or_init(|| load_device(path).map(Arc::new)).clone()
    }

    /// pvi's `find_pvi_yaml`: the first folder holding an entry of that name.
    pub fn find(&self, file_name: &str) -> Option<PathBuf> {
        // a parent named with `..` or `/` would be read from outside these folders
        if !super::stays_inside(Path::new(file_name)) {
            return None;
        }
        self.dirs.iter().find_map(|dir| {
            let p = dir.join(file_name);
            (dir.is_dir() && p.symlink_metadata().is_ok()).then_some(p)
        })
    }

    fn describe(&self) -> String {
        self.dirs
            .iter()
            .map(|d| format!("`{}`", d.display()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Resolves `parent` and `Include` statements and merges the components, as
/// pvi's `Device.deserialize_parents` does.
pub fn resolve_parents(device: &mut Device, search: &SearchPath) -> Result<(), Diagnostic> {
    if device.parent.as_deref() == Some("asynPortDriver") {
        // pvi resolves nothing then, and fails later on a remaining Include
        let mut resolved = Vec::new();
        for item in &device.children {
            match item {
                Item::Component(c) => resolved.push(c.clone()),
                Item::Include(i) => {
                    return Err(Diagnostic::plain(
                        None,
                        format!(
                            "pvi leaves `Include` of `{}` unresolved in a device whose parent is asynPortDriver",
                            i.file_name
                        ),
                    ))
                }
            }
        }
        device.resolved = resolved;
        return Ok(());
    }
    let mut children = device.children.clone();
    if let Some(p) = &device.parent {
        children.push(Item::Include(Include {
            file_name: p.clone(),
            in_subscreen: false,
            macros: None,
        }));
    }
    let mut flat = Vec::new();
    for item in children {
        match item {
            Item::Include(inc) => flat.extend(expand_include(&inc, search, 0)?),
            Item::Component(c) => flat.push(c),
        }
    }
    device.resolved = merge_components(flat)?;
    Ok(())
}

fn find_components(name: &str, search: &SearchPath) -> Result<Vec<Item>, Diagnostic> {
    if name == "asynPortDriver" {
        return Ok(Vec::new());
    }
    let file = format!("{name}{DEVICE_SUFFIX}");
    let Some(path) = search.find(&file) else {
        return Err(Diagnostic::plain(
            None,
            format!(
                "cannot find pvi device `{file}` (searched {})",
                search.describe()
            ),
        )
        .with_hint(
            "put the parent's device file into the IOC's config folder or $EPICS_ROOT/pvi-defs",
        ));
    };
    let device = search.load(&path)?;
    let mut children = device.children.clone();
    if let Some(p) = &device.parent {
        children.push(Item::Include(Include {
            file_name: p.clone(),
            in_subscreen: false,
            macros: None,
        }));
    }
    Ok(children)
}

fn expand_include(
    inc: &Include,
    search: &SearchPath,
    depth: usize,
) -> Result<Vec<Component>, Diagnostic> {
    if depth > 64 {
        return Err(Diagnostic::plain(
            None,
            format!(
                "pvi device `{}` includes itself (include chain deeper than 64)",
                inc.file_name
            ),
        ));
    }
    let mut resolved = Vec::new();
    for item in find_components(&inc.file_name, search)? {
        match item {
            Item::Include(nested) => {
                // a re-scoped sub-device brings only its own components
                if inc.macros.is_some() {
                    continue;
                }
                resolved.extend(expand_include(&nested, search, depth + 1)?);
            }
            Item::Component(c) => resolved.push(c),
        }
    }
    if let Some(macros) = &inc.macros {
        for c in &mut resolved {
            apply_macros(c, macros);
        }
    }
    if inc.in_subscreen {
        if !is_pascal(&inc.file_name) {
            return Err(Diagnostic::plain(
                None,
                format!("included device name `{}` is not PascalCase, so it cannot name a sub-screen group", inc.file_name),
            ));
        }
        resolved = vec![Component {
            name: inc.file_name.clone(),
            label: None,
            description: None,
            kind: Kind::Group {
                layout: Layout::SubScreen {
                    labelled: false,
                    stacked: false,
                },
                children: resolved,
            },
        }];
    }
    Ok(resolved)
}

/// Replaces `$(NAME)` in PVs (and DeviceRef macros) with the include's macros.
fn apply_macros(c: &mut Component, macros: &[(String, String)]) {
    let sub = |s: &str| -> String { substitute(s, macros) };
    match &mut c.kind {
        Kind::Group { children, .. } => {
            for ch in children {
                apply_macros(ch, macros);
            }
        }
        Kind::SignalR { read_pv, .. } => *read_pv = sub(read_pv),
        Kind::SignalW { write_pv, .. } | Kind::SignalX { write_pv, .. } => {
            *write_pv = sub(write_pv);
        }
        Kind::SignalRW {
            read_pv, write_pv, ..
        } => {
            *read_pv = sub(read_pv);
            *write_pv = sub(write_pv);
        }
        Kind::DeviceRef {
            pv, macros: own, ..
        } => {
            for (_, v) in own.iter_mut() {
                *v = sub(v);
            }
            for (k, v) in macros {
                if !own.iter().any(|(k2, _)| k2 == k) {
                    own.push((k.clone(), v.clone()));
                }
            }
            *pv = sub(pv);
        }
        Kind::Ignored | Kind::SignalRef => {}
    }
}

/// pvi's `MACRO_RE` (`\$\((\w+)\)`) substitution; unknown macros stay.
fn substitute(s: &str, macros: &[(String, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(after.len(), |(j, _)| j);
        if end > 0 && after[end..].starts_with(')') {
            let name = &after[..end];
            if let Some((_, v)) = macros.iter().find(|(k, _)| k == name) {
                out.push_str(v);
            } else {
                out.push_str("$(");
                out.push_str(name);
                out.push(')');
            }
            rest = &after[end + 1..];
        } else {
            out.push_str("$(");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The PV fields pvi compares when a merged group repeats a child.
fn pv_fields(c: &Component) -> [(&'static str, Option<&str>); 3] {
    let (r, w, p) = match &c.kind {
        Kind::SignalR { read_pv, .. } => (Some(read_pv.as_str()), None, None),
        Kind::SignalW { write_pv, .. } | Kind::SignalX { write_pv, .. } => {
            (None, Some(write_pv.as_str()), None)
        }
        Kind::SignalRW {
            read_pv, write_pv, ..
        } => (Some(read_pv.as_str()), Some(write_pv.as_str()), None),
        Kind::DeviceRef { pv, .. } => (None, None, Some(pv.as_str())),
        _ => (None, None, None),
    };
    [("read_pv", r), ("write_pv", w), ("pv", p)]
}

fn children_of(c: &Component) -> &[Component] {
    match &c.kind {
        Kind::Group { children, .. } => children,
        _ => &[],
    }
}

/// pvi's `merge_components`: groups of the same name merge (a repeated child
/// takes the later definition in the earlier position), a new group drops
/// children already in another group, and a non-group named like a group
/// replaces it.
fn merge_components(components: Vec<Component>) -> Result<Vec<Component>, Diagnostic> {
    struct Registered {
        name: String,
        // the slot in `merged` the group took first
        slot: usize,
        // where the group went when a non-group took its slot
        orphan: Option<usize>,
    }
    let mut merged: Vec<Component> = Vec::new();
    let mut orphans: Vec<Component> = Vec::new();
    let mut groups: Vec<Registered> = Vec::new();
    for component in components {
        let is_group = matches!(component.kind, Kind::Group { .. });
        let existing = groups.iter().position(|g| g.name == component.name);
        if !is_group {
            if let Some(gi) = existing {
                let g = &mut groups[gi];
                let old = std::mem::replace(&mut merged[g.slot], component);
                if g.orphan.is_none() {
                    orphans.push(old);
                    g.orphan = Some(orphans.len() - 1);
                }
            } else {
                merged.push(component);
            }
            continue;
        }
        let Some(gi) = existing else {
            let mut component = component;
            let taken: std::collections::HashSet<&str> = groups
                .iter()
                .flat_map(|g| {
                    let group = match g.orphan {
                        Some(o) => &orphans[o],
                        None => &merged[g.slot],
                    };
                    children_of(group).iter().map(|c| c.name.as_str())
                })
                .collect();
            if !taken.is_empty() {
                if let Kind::Group { children, .. } = &mut component.kind {
                    children.retain(|c| !taken.contains(c.name.as_str()));
                }
            }
            groups.push(Registered {
                name: component.name.clone(),
                slot: merged.len(),
                orphan: None,
            });
            merged.push(component);
            continue;
        };
        let group = match groups[gi].orphan {
            Some(o) => &mut orphans[o],
            None => &mut merged[groups[gi].slot],
        };
        let Kind::Group {
            children: existing, ..
        } = &mut group.kind
        else {
            continue;
        };
        let Kind::Group { children: new, .. } = component.kind else {
            continue;
        };
        merge_children(&component.name, existing, new)?;
    }
    Ok(merged)
}

/// Merges a repeated group's `new` children into the `existing` ones: a child defined
/// again keeps its place and takes the later definition (its PVs must agree), and the
/// other new children follow in first-seen order.
fn merge_children(
    group: &str,
    existing: &mut Vec<Component>,
    new: Vec<Component>,
) -> Result<(), Diagnostic> {
    let mut new: Vec<Option<Component>> = new.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(existing.len() + new.len());
    for old in existing.drain(..) {
        // Python's dict keeps the last child of a name
        let dup = new
            .iter()
            .rposition(|n| n.as_ref().is_some_and(|n| n.name == old.name));
        if let Some(di) = dup {
            let d = new[di].take().expect("position found above");
            for n in &mut new {
                if n.as_ref().is_some_and(|n| n.name == old.name) {
                    *n = None;
                }
            }
            for ((f, a), (_, b)) in pv_fields(&old).iter().zip(pv_fields(&d)) {
                if let (Some(a), Some(b)) = (a, b) {
                    if *a != b {
                        return Err(Diagnostic::plain(
                            None,
                            format!(
                                "pvi group `{}`: child `{}` has {f} `{b}`, which collides with `{a}`",
                                group, d.name
                            ),
                        ));
                    }
                }
            }
            out.push(d);
        } else {
            out.push(old);
        }
    }
    // the remaining new children in first-seen order, last definition winning
    let mut rest: Vec<Component> = Vec::new();
    for n in new.into_iter().flatten() {
        if let Some(slot) = rest.iter_mut().find(|r| r.name == n.name) {
            *slot = n;
        } else {
            rest.push(n);
        }
    }
    out.extend(rest);
    *existing = out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pvi::device::Layout;

    fn group(name: &str, kids: &[&str]) -> Component {
        Component {
            name: name.into(),
            label: None,
            description: None,
            kind: Kind::Group {
                layout: Layout::Grid {
                    labelled: true,
                    stacked: false,
                },
                children: kids.iter().map(|k| signal(k)).collect(),
            },
        }
    }

    fn signal(name: &str) -> Component {
        Component {
            name: name.into(),
            label: None,
            description: None,
            kind: Kind::SignalR {
                read_pv: format!("{name}1"),
                read_widget: None,
            },
        }
    }

    fn shape(cs: &[Component]) -> Vec<(String, Vec<String>)> {
        cs.iter()
            .map(|c| {
                let kids = match &c.kind {
                    Kind::Group { children, .. } => {
                        children.iter().map(|k| k.name.clone()).collect()
                    }
                    _ => Vec::new(),
                };
                (c.name.clone(), kids)
            })
            .collect()
    }

    #[test]
    fn merge_follows_pvi() {
        // answer from pvi 0.14.4's Device.merge_components on the same input
        let merged = merge_components(vec![
            group("A", &["X", "Y"]),
            signal("B"),
            group("A", &["Y", "Z"]),
            group("C", &["X", "W"]),
            group("D", &[]),
            signal("D"),
        ])
        .unwrap();
        let want: Vec<(String, Vec<String>)> = vec![
            ("A".into(), vec!["X".into(), "Y".into(), "Z".into()]),
            ("B".into(), vec![]),
            ("C".into(), vec!["W".into()]),
            ("D".into(), vec![]),
        ];
        assert_eq!(shape(&merged), want);
        assert!(matches!(merged[3].kind, Kind::SignalR { .. }));
    }

    #[test]
    fn merge_rejects_colliding_pvs() {
        let mut other = group("A", &["X"]);
        if let Kind::Group { children, .. } = &mut other.kind {
            children[0].kind = Kind::SignalR {
                read_pv: "elsewhere".into(),
                read_widget: None,
            };
        }
        let err = merge_components(vec![group("A", &["X"]), other]).unwrap_err();
        assert!(err.message.contains("collides"), "{}", err.message);
    }

    #[test]
    fn macros_substitute_known_names_only() {
        let m = vec![("R".to_string(), "TS:".to_string())];
        assert_eq!(substitute("$(P)$(R)Val", &m), "$(P)TS:Val");
        assert_eq!(substitute("$(R", &m), "$(R");
    }
}
