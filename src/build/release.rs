//! The shared RELEASE files of the support tree.
//!
//! Every module built in an image links to one global
//! `$EPICS_ROOT/support/configure/RELEASE` (its `configure/RELEASE.local` is a
//! symlink to it), so each module sees every module built before it.
//! `configure/RELEASE.shell` exports the same paths, plus
//! `EPICS_DB_INCLUDE_PATH`, for shells and for msi at IOC start. This module
//! holds the text rules; the executor applies them to the files.

use std::path::{Path, PathBuf};

use regex::Regex;

use super::patch::{line_in_file, Insert};

/// The global RELEASE a fresh support tree starts with: ibek-support's
/// `_ansible/RELEASE.global` with `/epics` replaced by `epics_root`.
pub fn global_release(epics_root: &Path) -> String {
    let root = epics_root.display().to_string();
    let root = root.trim_end_matches('/');
    format!(
        "# Global configure/RELEASE file for epics-containers IOCs\n\
         \n\
         SUPPORT={root}/support\n\
         -include $(TOP)/configure/SUPPORT.$(EPICS_HOST_ARCH)\n\
         -include $(TOP)/configure/EPICS_BASE\n\
         -include $(TOP)/configure/EPICS_BASE.$(EPICS_HOST_ARCH)\n\
         \n\
         # Paths to modules built in epics-base container\n\
         EPICS_BASE={root}/epics-base\n\
         PVXS={root}/support/pvxs\n\
         \n\
         # Additional Support Modules for individual IOCs will be added below this line\n"
    )
}

/// The line a module's `configure/RELEASE` needs to read the global RELEASE.
pub const INCLUDE_LOCAL: &str = "-include $(TOP)/configure/RELEASE.local";

/// The regexp that finds an existing include of `RELEASE.local`.
pub const INCLUDE_LOCAL_RE: &str = "include.*TOP./configure/RELEASE.local";

/// `remove_macros`: unless the global RELEASE already sets `name` (a module
/// of that name was built), insert a blank `name =` before this module's
/// macro so the module's own `configure/RELEASE` entry is overridden.
/// Returns `None` when nothing changes.
pub fn blank_macro(text: &str, name: &str, module_macro: &str) -> Option<String> {
    // ibek-support greps unanchored: `grep -q 'NAME *=.*'`
    let set = Regex::new(&format!("{} *=", regex::escape(name))).expect("escaped name");
    if set.is_match(text) {
        return None;
    }
    let before = Insert::Before(format!("^{} *=.*", regex::escape(module_macro)));
    let out = line_in_file(Some(text), None, &format!("{name} ="), &before)
        .expect("escaped regexps compile");
    (out != text).then_some(out)
}

/// The `*/db` entries of the support folder, as the shell glob
/// `$SUPPORT/*/db` lists them (hidden folders left out, names in byte order).
pub fn db_folders(support: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if !support.is_dir() {
        return Ok(found);
    }
    for entry in fs_err::read_dir(support)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let db = entry.path().join("db");
        if db.exists() {
            found.push(db);
        }
    }
    found.sort();
    Ok(found)
}

/// The `RELEASE.shell` line for a list of db folders.
pub fn db_include_line(folders: &[PathBuf]) -> String {
    let joined: Vec<String> = folders.iter().map(|p| p.display().to_string()).collect();
    format!("export EPICS_DB_INCLUDE_PATH=\"{}\"", joined.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_release_follows_epics_root() {
        let text = global_release(Path::new("/tmp/x/epics/"));
        assert!(text.contains("\nSUPPORT=/tmp/x/epics/support\n"));
        assert!(text.contains("\nEPICS_BASE=/tmp/x/epics/epics-base\n"));
        assert!(text.ends_with("below this line\n"));
    }

    #[test]
    fn blank_macro_goes_before_the_module_macro() {
        let text = "SUPPORT=/s\nASYN = /s/asyn\n";
        assert_eq!(
            blank_macro(text, "SNCSEQ", "ASYN").as_deref(),
            Some("SUPPORT=/s\nSNCSEQ =\nASYN = /s/asyn\n")
        );
    }

    #[test]
    fn blank_macro_leaves_a_built_module_alone() {
        let text = "SNCSEQ = /s/seq\nASYN = /s/asyn\n";
        assert_eq!(blank_macro(text, "SNCSEQ", "ASYN"), None);
        let blanked = "SNCSEQ =\nASYN = /s/asyn\n";
        assert_eq!(blank_macro(blanked, "SNCSEQ", "ASYN"), None);
    }

    #[test]
    fn db_include_line_joins_with_colons() {
        let line = db_include_line(&[PathBuf::from("/s/a/db"), PathBuf::from("/s/b/db")]);
        assert_eq!(line, "export EPICS_DB_INCLUDE_PATH=\"/s/a/db:/s/b/db\"");
    }
}
