//! Finding support definition files: ibek's globs, in one place.
//!
//! ibek looks for `*ibek.support.yaml` in three ways: `runtime generate2`
//! (and the container start) walks `$EPICS_ROOT/ibek-defs` and the config
//! folder recursively; `ioc generate-schema` and `ioc build` read only the
//! files directly in `ibek-defs`. The order of Python's globs depends on
//! the file system, so iocforge sorts.

use std::path::{Path, PathBuf};

use crate::layout::EpicsLayout;

/// The file name ending of support definitions.
pub const SUPPORT_SUFFIX: &str = "ibek.support.yaml";

/// All files under `dir` (recursively, following links) whose name ends with `suffix`, sorted.
pub fn find_definitions(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(suffix))
        .map(walkdir::DirEntry::into_path)
        .collect();
    out.sort();
    out
}

/// The support definitions directly in `dir` (ibek's non-recursive glob), sorted.
pub fn definitions_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(SUPPORT_SUFFIX))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// `generate2`'s definitions: everything under `$EPICS_ROOT/ibek-defs`, then
/// the config folder's `*.ibek.support.yaml`.
pub fn runtime_definitions(layout: &EpicsLayout, config_folder: Option<&Path>) -> Vec<PathBuf> {
    let mut defs = find_definitions(&layout.ibek_defs(), SUPPORT_SUFFIX);
    if let Some(folder) = config_folder {
        defs.extend(find_definitions(folder, ".ibek.support.yaml"));
    }
    defs
}
