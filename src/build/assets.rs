//! `ioc extract-runtime-assets`: the runtime files of a developer stage,
//! moved into a new tree for the runtime stage (ibek 4.8.2's
//! `ioc_cmds/assets.py`).
//!
//! ibek's rules, in its order:
//! 1. whole assets: the defaults (`$SOURCE/support/configure`,
//!    `$EPICS_ROOT/{pvi-defs,ibek-defs,ioc}`, the folder holding the IOC
//!    source when `$EPICS_ROOT/ioc` is a link, `/venv` beside the EPICS root,
//!    `$EPICS_ROOT/autosave`), then the extras given, then every line of
//!    `runtime_files_list`; a missing one is a warning;
//! 2. modules: folders that have a `bin`, `lib` or `db` one or two levels
//!    below the source; of each, `bin`, `db`, `lib`, `*/protocol` and `*/Db`.
//!
//! Each asset lands at `DEST/<its absolute path>`, so `COPY --from=runtime_prep
//! /assets /` puts it back where it was. Assets are moved (the stage is thrown
//! away), links are copied as links, and ELF files of `bin`, `lib` and `db`
//! folders are stripped. Where ibek's `mv` would nest a folder inside an
//! existing one of the same name (a runtime file moved first created it),
//! iocforge merges the two.

use std::path::{Path, PathBuf};

/// A move that failed.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// Reading, moving or linking failed.
    #[error("cannot move `{}` to `{}`", src.display(), dest.display())]
    Move {
        /// The asset.
        src: PathBuf,
        /// Where it was going.
        dest: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An entry leads outside the tree it must come from.
    #[error("{what} {source}")]
    Outside {
        /// Which list the entry is in (`runtime_files_list entry`, ...).
        what: String,
        /// Where it leads.
        #[source]
        source: crate::contain::Outside,
    },
    /// `runtime_files_list` exists but cannot be read.
    #[error("cannot read `{}`", path.display())]
    ReadList {
        /// The list.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What `extract` was asked to do.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// The tree to take assets from (`--source`, `/epics`).
    pub source: PathBuf,
    /// The root of the new tree (`DEST`).
    pub destination: PathBuf,
    /// `EPICS_ROOT`: where the default assets are (ibek's globals).
    pub epics_root: PathBuf,
    /// Extra paths to move whole.
    pub extras: Vec<PathBuf>,
    /// Move the default assets too.
    pub defaults: bool,
}

/// One step, reported as it happens (or would happen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetEvent {
    /// A file or folder moved.
    Move {
        /// From.
        src: PathBuf,
        /// To.
        dest: PathBuf,
    },
    /// A link copied as a link.
    Link {
        /// From.
        src: PathBuf,
        /// To.
        dest: PathBuf,
    },
    /// A whole asset that does not exist.
    Missing(PathBuf),
}

/// Folder names whose files are stripped (ibek's `useful_files`).
const USEFUL: [&str; 3] = ["bin", "lib", "db"];

/// What is taken from each module folder (ibek's dynamic-build `asset_matches`).
const MODULE_ASSETS: [&str; 5] = ["bin", "db", "lib", "*/protocol", "*/Db"];

/// `DEST/<path without its root>`.
fn under(destination: &Path, path: &Path) -> PathBuf {
    let rel: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::RootDir))
        .collect();
    destination.join(rel)
}

/// The default assets, in ibek's order.
pub fn default_assets(source: &Path, epics_root: &Path) -> Vec<PathBuf> {
    let ioc = epics_root.join("ioc");
    let mut out = vec![
        source.join("support/configure"),
        epics_root.join("pvi-defs"),
        epics_root.join("ibek-defs"),
        ioc.clone(),
    ];
    // ibek reads the link unconditionally (and fails when it is a folder)
    if let Ok(target) = fs_err::read_link(&ioc) {
        let target = ioc.parent().unwrap_or(Path::new("/")).join(target);
        if let Some(parent) = target.parent() {
            out.push(parent.to_path_buf());
        }
    }
    out.push(epics_root.parent().unwrap_or(Path::new("/")).join("venv"));
    out.push(epics_root.join("autosave"));
    out
}

/// The folder holding what `$EPICS_ROOT/ioc` links to, symlinks resolved.
fn ioc_link_parent(epics_root: &Path) -> Option<PathBuf> {
    let ioc = epics_root.join("ioc");
    let target = fs_err::read_link(&ioc).ok()?;
    let target = ioc.parent().unwrap_or(Path::new("/")).join(target);
    let parent = crate::contain::normalize(&target).parent()?.to_path_buf();
    Some(crate::contain::resolve(&parent, true))
}

/// The lines of `$EPICS_ROOT/support/configure/runtime_files_list`.
pub fn runtime_files(epics_root: &Path) -> Result<Vec<PathBuf>, AssetError> {
    let path = epics_root.join("support/configure/runtime_files_list");
    match fs_err::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(AssetError::ReadList { path, source }),
    }
}

/// The sorted entries of `dir` that are folders (links followed), as
/// pathlib's `*` wildcard selects them (hidden names included).
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// Paths matching a pattern of plain names and `*` components under `root`.
fn glob(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![root.to_path_buf()];
    let parts: Vec<&str> = pattern.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let mut next = Vec::new();
        for dir in &current {
            if *part == "*" {
                next.extend(subdirs(dir));
            } else {
                let p = dir.join(part);
                // the last name only has to exist; inner ones must be folders
                if (last && p.exists()) || p.is_dir() {
                    next.push(p);
                }
            }
        }
        current = next;
    }
    current
}

/// The module folders of a tree: parents of `bin`, `lib`, `db` two or one
/// levels down, first seen first.
pub fn modules(source: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for name in USEFUL {
        for pattern in [format!("*/*/{name}"), format!("*/{name}")] {
            for hit in glob(source, &pattern) {
                if let Some(parent) = hit.parent() {
                    if !out.iter().any(|m| m == parent) {
                        out.push(parent.to_path_buf());
                    }
                }
            }
        }
    }
    out
}

/// The assets of one module folder, in ibek's order.
pub fn module_assets(module: &Path) -> Vec<PathBuf> {
    MODULE_ASSETS
        .iter()
        .flat_map(|pattern| glob(module, pattern))
        .collect()
}

/// Moves a tree, falling back to copy and delete across file systems.
fn move_path(src: &Path, dest: &Path) -> std::io::Result<()> {
    let src_meta = fs_err::symlink_metadata(src)?;
    if src_meta.is_dir() && dest.is_dir() {
        // merge into the folder that is already there
        for entry in fs_err::read_dir(src)? {
            let entry = entry?;
            move_path(&entry.path(), &dest.join(entry.file_name()))?;
        }
        return fs_err::remove_dir(src);
    }
    if fs_err::rename(src, dest).is_ok() {
        return Ok(());
    }
    copy_tree(src, dest)?;
    if src_meta.is_dir() {
        fs_err::remove_dir_all(src)
    } else {
        fs_err::remove_file(src)
    }
}

/// Copies a tree, keeping links as links and permissions.
fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    let meta = fs_err::symlink_metadata(src)?;
    if meta.file_type().is_symlink() {
        let target = fs_err::read_link(src)?;
        std::os::unix::fs::symlink(target, dest)?;
    } else if meta.is_dir() {
        fs_err::create_dir_all(dest)?;
        fs_err::set_permissions(dest, meta.permissions())?;
        for entry in fs_err::read_dir(src)? {
            let entry = entry?;
            copy_tree(&entry.path(), &dest.join(entry.file_name()))?;
        }
    } else {
        fs_err::copy(src, dest)?;
    }
    Ok(())
}

/// Whether a file starts with the ELF magic.
fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

/// The ELF files of a tree (links not followed), for stripping.
pub fn elf_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && is_elf(e.path()))
        .map(walkdir::DirEntry::into_path)
        .collect()
}

/// Moves (or copies, for a link) one asset, as ibek's `move_file` does, and
/// strips what it moved when it is a `bin`, `lib` or `db` folder.
fn move_asset(
    src: &Path,
    dest: &Path,
    log: &mut dyn FnMut(AssetEvent),
    strip: &mut dyn FnMut(&Path),
) -> Result<(), AssetError> {
    let err = |source| AssetError::Move {
        src: src.to_path_buf(),
        dest: dest.to_path_buf(),
        source,
    };
    if let Some(parent) = dest.parent() {
        fs_err::create_dir_all(parent).map_err(err)?;
    }
    let is_link = fs_err::symlink_metadata(src)
        .map_err(err)?
        .file_type()
        .is_symlink();
    if is_link {
        log(AssetEvent::Link {
            src: src.to_path_buf(),
            dest: dest.to_path_buf(),
        });
        if fs_err::symlink_metadata(dest).is_ok() {
            let _ = if dest.is_dir() && !dest.is_symlink() {
                fs_err::remove_dir_all(dest)
            } else {
                fs_err::remove_file(dest)
            };
        }
        let target = fs_err::read_link(src).map_err(err)?;
        std::os::unix::fs::symlink(target, dest).map_err(err)?;
    } else {
        log(AssetEvent::Move {
            src: src.to_path_buf(),
            dest: dest.to_path_buf(),
        });
        move_path(src, dest).map_err(err)?;
    }
    if dest
        .file_name()
        .is_some_and(|n| USEFUL.iter().any(|u| n == *u))
    {
        strip(dest);
    }
    Ok(())
}

/// Runs the extraction: whole assets first, then the module folders found in
/// what is left. With `dry_run` nothing changes and every step is reported
/// as it would happen (modules are found in the unchanged tree, as in ibek).
pub fn extract(
    opts: &ExtractOptions,
    dry_run: bool,
    log: &mut dyn FnMut(AssetEvent),
    strip: &mut dyn FnMut(&Path),
) -> Result<(), AssetError> {
    let mut whole: Vec<PathBuf> = Vec::new();
    if opts.defaults {
        whole.extend(default_assets(&opts.source, &opts.epics_root));
        // the folder holding the IOC source (where `$EPICS_ROOT/ioc` links to)
        // moves whole: it must be a folder inside the tree, never `/` or above it
        if let Some(ioc_parent) = ioc_link_parent(&opts.epics_root) {
            let inside = |root: &Path| {
                let root = crate::contain::resolve(root, true);
                ioc_parent != root && ioc_parent.starts_with(&root)
            };
            if !inside(&opts.source) && !inside(&opts.epics_root) {
                return Err(AssetError::Outside {
                    what: "the `ioc` link's folder".into(),
                    source: crate::contain::Outside {
                        entry: opts.epics_root.join("ioc"),
                        resolved: ioc_parent,
                        root: opts.epics_root.clone(),
                    },
                });
            }
        }
    }
    // relative extras are relative to the source (ibek runs in it)
    whole.extend(opts.extras.iter().map(|e| opts.source.join(e)));
    for f in runtime_files(&opts.epics_root)? {
        // an entry may name its file absolutely, but only inside the source or EPICS root
        let path = crate::contain::normalize(&opts.source.join(&f));
        crate::contain::within_any(&[&opts.source, &opts.epics_root], &path, false).map_err(
            |mut source| {
                source.entry.clone_from(&f);
                AssetError::Outside {
                    what: "runtime_files_list entry".into(),
                    source,
                }
            },
        )?;
        whole.push(path);
    }
    for src in whole {
        // a link counts as present even when dangling (ibek's exists() follows
        // it, but the IOC link's target is moved by then in the same way)
        if fs_err::symlink_metadata(&src).is_err() {
            log(AssetEvent::Missing(src));
            continue;
        }
        let dest = under(&opts.destination, &src);
        if dry_run {
            log(AssetEvent::Move { src, dest });
        } else {
            move_asset(&src, &dest, log, strip)?;
        }
    }
    if !dry_run {
        fs_err::create_dir_all(&opts.destination).map_err(|source| AssetError::Move {
            src: opts.source.clone(),
            dest: opts.destination.clone(),
            source,
        })?;
    }
    for module in modules(&opts.source) {
        for asset in module_assets(&module) {
            let dest = under(&opts.destination, &asset);
            if dry_run {
                log(AssetEvent::Move { src: asset, dest });
            } else if fs_err::symlink_metadata(&asset).is_ok() {
                move_asset(&asset, &dest, log, strip)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An /epics tree after a developer stage, under a temporary folder.
    struct Tree {
        _dir: tempfile::TempDir,
        root: PathBuf,
    }

    impl Tree {
        fn new() -> Tree {
            let dir = tempfile::tempdir().unwrap();
            let root = fs_err::canonicalize(dir.path()).unwrap();
            let t = Tree { _dir: dir, root };
            for f in [
                "epics/epics-base/bin/linux-x86_64/softIoc",
                "epics/epics-base/lib/linux-x86_64/libCom.so.3",
                "epics/epics-base/dbd/softIoc.dbd",
                "epics/epics-base/src/big.c",
                "epics/support/configure/RELEASE",
                "epics/support/asyn/db/asynRecord.db",
                "epics/support/asyn/lib/linux-x86_64/libasyn.a",
                "epics/support/asyn/asynApp/src/asyn.c",
                "epics/support/stream/streamApp/protocol/x.proto",
                "epics/support/stream/lib/linux-x86_64/libstream.a",
                "epics/support/stream/counterApp/Db/c.template",
                "epics/support/stream/docs/index.html",
                "epics/support/widget/widgetApp/protocol/widget.proto",
                "epics/support/widget/db/widget.template",
                "epics/ibek-defs/asyn.ibek.support.yaml",
                "epics/generic-source/ioc/bin/linux-x86_64/ioc",
                "epics/generic-source/ibek-support/asyn/asyn.install.yml",
                "venv/bin/python",
                "python/lib/x.py",
            ] {
                t.write(f, f);
            }
            t.write(
                "epics/support/configure/runtime_files_list",
                &format!(
                    "{}/epics/support/widget/widgetApp/protocol/widget.proto\n\n{}/epics/support/nothing\n",
                    t.root.display(),
                    t.root.display()
                ),
            );
            std::os::unix::fs::symlink(
                t.root.join("epics/generic-source/ioc"),
                t.root.join("epics/ioc"),
            )
            .unwrap();
            t
        }

        fn write(&self, rel: &str, text: &str) {
            let p = self.root.join(rel);
            fs_err::create_dir_all(p.parent().unwrap()).unwrap();
            fs_err::write(p, text).unwrap();
        }

        fn opts(&self) -> ExtractOptions {
            ExtractOptions {
                source: self.root.join("epics"),
                destination: self.root.join("assets"),
                epics_root: self.root.join("epics"),
                extras: vec![self.root.join("python")],
                defaults: true,
            }
        }

        /// Where `rel` (under the tree root) lands in the assets tree.
        fn landed(&self, rel: &str) -> PathBuf {
            under(&self.root.join("assets"), &self.root.join(rel))
        }

        /// A path relative to the tree root; one in the assets tree is shown as
        /// `assets/<path relative to the tree root>`.
        fn rel(&self, p: &Path) -> String {
            let moved = under(&self.root.join("assets"), &self.root);
            match p.strip_prefix(&moved) {
                Ok(r) => format!("assets/{}", r.display()),
                Err(_) => p.strip_prefix(&self.root).unwrap().display().to_string(),
            }
        }

        /// Every file under a folder, relative to the tree root.
        fn files(&self, under: &str) -> Vec<String> {
            let mut out: Vec<String> = walkdir::WalkDir::new(self.root.join(under))
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| !e.file_type().is_dir())
                .map(|e| self.rel(e.path()))
                .collect();
            out.sort();
            out
        }

        fn run(&self, dry_run: bool) -> (Vec<String>, Vec<String>) {
            let mut events = Vec::new();
            let mut stripped = Vec::new();
            extract(
                &self.opts(),
                dry_run,
                &mut |e| {
                    events.push(match e {
                        AssetEvent::Move { src, dest } => {
                            format!("move {} -> {}", self.rel(&src), self.rel(&dest))
                        }
                        AssetEvent::Link { src, dest } => {
                            format!("link {} -> {}", self.rel(&src), self.rel(&dest))
                        }
                        AssetEvent::Missing(p) => format!("missing {}", self.rel(&p)),
                    });
                },
                &mut |p| stripped.push(self.rel(p)),
            )
            .unwrap();
            (events, stripped)
        }
    }

    #[test]
    fn moves_defaults_extras_runtime_files_then_module_outputs() {
        let t = Tree::new();
        let (events, stripped) = t.run(false);
        assert_eq!(
            events,
            [
                "move epics/support/configure -> assets/epics/support/configure",
                "missing epics/pvi-defs",
                "move epics/ibek-defs -> assets/epics/ibek-defs",
                "link epics/ioc -> assets/epics/ioc",
                "move epics/generic-source -> assets/epics/generic-source",
                "move venv -> assets/venv",
                "missing epics/autosave",
                "move python -> assets/python",
                "move epics/support/widget/widgetApp/protocol/widget.proto -> assets/epics/support/widget/widgetApp/protocol/widget.proto",
                "missing epics/support/nothing",
                "move epics/epics-base/bin -> assets/epics/epics-base/bin",
                "move epics/epics-base/lib -> assets/epics/epics-base/lib",
                "move epics/support/asyn/db -> assets/epics/support/asyn/db",
                "move epics/support/asyn/lib -> assets/epics/support/asyn/lib",
                "move epics/support/stream/lib -> assets/epics/support/stream/lib",
                "move epics/support/stream/streamApp/protocol -> assets/epics/support/stream/streamApp/protocol",
                "move epics/support/stream/counterApp/Db -> assets/epics/support/stream/counterApp/Db",
                "move epics/support/widget/db -> assets/epics/support/widget/db",
                "move epics/support/widget/widgetApp/protocol -> assets/epics/support/widget/widgetApp/protocol",
            ]
        );
        assert_eq!(
            stripped,
            [
                "assets/epics/epics-base/bin",
                "assets/epics/epics-base/lib",
                "assets/epics/support/asyn/db",
                "assets/epics/support/asyn/lib",
                "assets/epics/support/stream/lib",
                "assets/epics/support/widget/db",
            ]
        );
        // what is left behind: sources, docs, base's dbd
        assert_eq!(
            t.files("epics"),
            [
                "epics/epics-base/dbd/softIoc.dbd",
                "epics/epics-base/src/big.c",
                "epics/ioc",
                "epics/support/asyn/asynApp/src/asyn.c",
                "epics/support/stream/docs/index.html",
            ]
        );
        let moved: Vec<String> = t.files("assets");
        assert!(moved.contains(&"assets/epics/ioc".to_string()));
        assert!(moved.contains(&"assets/epics/generic-source/ioc/bin/linux-x86_64/ioc".to_string()));
        // the runtime file moved first and the module's folder merged with it
        assert!(moved
            .contains(&"assets/epics/support/widget/widgetApp/protocol/widget.proto".to_string()));
        assert_eq!(
            fs_err::read_link(t.landed("epics/ioc")).unwrap(),
            t.root.join("epics/generic-source/ioc")
        );
    }

    fn extract_error(t: &Tree) -> String {
        let err = extract(&t.opts(), true, &mut |_| {}, &mut |_| {}).unwrap_err();
        format!(
            "{err}: {}",
            std::error::Error::source(&err)
                .map(ToString::to_string)
                .unwrap_or_default()
        )
    }

    #[test]
    fn runtime_files_that_climb_out_of_the_source_are_refused() {
        let t = Tree::new();
        t.write("outside/secret", "s");
        t.write(
            "epics/support/configure/runtime_files_list",
            "../outside/secret\n",
        );
        let err = extract_error(&t);
        assert!(
            err.contains("runtime_files_list entry") && err.contains("../outside/secret"),
            "{err}"
        );
    }

    #[test]
    fn an_ioc_link_to_a_top_level_folder_is_refused() {
        let t = Tree::new();
        fs_err::remove_file(t.root.join("epics/ioc")).unwrap();
        // the link's parent would be `/`: ibek would move the whole file system
        std::os::unix::fs::symlink("/opt", t.root.join("epics/ioc")).unwrap();
        let err = extract_error(&t);
        assert!(err.contains("`ioc` link"), "{err}");
    }

    #[test]
    fn dry_run_changes_nothing() {
        let t = Tree::new();
        let before = t.files("");
        let (events, stripped) = t.run(true);
        assert_eq!(t.files(""), before);
        assert!(stripped.is_empty());
        assert!(events.contains(&"move epics/epics-base/bin -> assets/epics/epics-base/bin".into()));
        assert!(events.contains(&"move epics/ioc -> assets/epics/ioc".into()));
    }

    #[test]
    fn without_defaults_only_extras_runtime_files_and_modules_move() {
        let t = Tree::new();
        let mut opts = t.opts();
        opts.defaults = false;
        opts.extras = vec![PathBuf::from("support/configure")];
        let mut events = Vec::new();
        extract(&opts, false, &mut |e| events.push(e), &mut |_| {}).unwrap();
        assert!(
            matches!(&events[0], AssetEvent::Move { src, .. } if src.ends_with("support/configure"))
        );
        assert!(t.root.join("epics/ibek-defs").exists());
        assert!(t.landed("epics/support/configure/RELEASE").exists());
        assert!(!t.root.join("epics/epics-base/bin").exists());
    }

    #[test]
    fn elf_files_are_found_by_their_magic() {
        let t = Tree::new();
        let mut elf = b"\x7fELF".to_vec();
        elf.extend([0u8; 16]);
        fs_err::write(
            t.root.join("epics/epics-base/bin/linux-x86_64/softIoc"),
            elf,
        )
        .unwrap();
        let found = elf_files(&t.root.join("epics/epics-base"));
        assert_eq!(found.len(), 1);
        assert!(found[0].ends_with("softIoc"));
    }

    #[test]
    fn modules_are_found_one_and_two_levels_down() {
        let t = Tree::new();
        let found: Vec<String> = modules(&t.root.join("epics"))
            .iter()
            .map(|m| t.rel(m))
            .collect();
        assert_eq!(
            found,
            [
                "epics/generic-source/ioc",
                "epics/epics-base",
                "epics/ioc",
                "epics/support/asyn",
                "epics/support/stream",
                "epics/support/widget",
            ]
        );
    }
}
