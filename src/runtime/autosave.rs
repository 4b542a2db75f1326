//! Autosave request files from the IOC's substitution file (ibek's `generate-autosave`).
//!
//! Convention: a database template `X.template` may come with request
//! templates `X_settings.req` and `X_positions.req`. All `*.req` files are
//! linked into `$EPICS_ROOT/autosave` (support modules first, without
//! overwriting the links ibek-support made at build time; then the instance
//! config folder, overriding), then for each suffix a substitution file
//! with the rows of `ioc.subst` pointed at the request templates is written
//! and expanded into `autosave_settings.req` / `autosave_positions.req`.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::db::{expand_substitutions, MsiError, MsiOptions};
use crate::layout::EpicsLayout;

/// Why the autosave request files could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AutosaveError {
    /// The request templates could not be linked into `$EPICS_ROOT/autosave`.
    #[error("cannot link autosave request files: {0}")]
    Link(#[source] std::io::Error),
    /// A request substitution file did not expand.
    #[error("cannot expand `{subst}`: {source}")]
    Expand {
        /// The substitution file, as it is named in the runtime folder.
        subst: String,
        /// msi's error.
        source: MsiError,
    },
}

/// ibek's `generate-autosave`, the one implementation of the step.
///
/// Links the request templates where ibek finds them (`$EPICS_ROOT/support`
/// and `$EPICS_ROOT/ioc/config`, ibek's `GLOBALS`, whatever `$SUPPORT` and
/// `$IOC` say) into `$EPICS_ROOT/autosave`, then returns, per suffix,
/// `autosave_<suffix>.subst` and its expansion `autosave_<suffix>.req`
/// (file names relative to `runtime_dir`, where they are written).
pub fn request_files(
    layout: &EpicsLayout,
    subst: &str,
    runtime_dir: &Path,
) -> Result<Vec<(String, String)>, AutosaveError> {
    let autosave_dir = layout.autosave();
    link_req_files(&autosave_dir, &layout.ibek_support(), &layout.ibek_config())
        .map_err(AutosaveError::Link)?;
    let subs = autosave_substitutions(subst, &|req| autosave_dir.join(req).exists());
    let opts = MsiOptions {
        include_path: vec![autosave_dir.display().to_string()],
        ..MsiOptions::default()
    };
    let mut files = Vec::new();
    for (suffix, text) in subs {
        let subst_name = format!("autosave_{suffix}.subst");
        let subst_path = runtime_dir.join(&subst_name).display().to_string();
        let exp =
            expand_substitutions(&text, &subst_path, &opts, layout.env()).map_err(|source| {
                AutosaveError::Expand {
                    subst: subst_path.clone(),
                    source,
                }
            })?;
        files.push((subst_name, text));
        files.push((format!("autosave_{suffix}.req"), exp.text));
    }
    Ok(files)
}

/// ibek's pattern for one `file` block of a substitution file: the template
/// name, and the block from its opening brace to the brace that closes it.
static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"file *"?([^" ]*)"[\s\S]*?((?:\{[\s\S]*?)*?\}[\s\S]\})"#).expect("static regex")
});

/// The request kinds, in the order ibek writes them.
pub const SUFFIXES: [&str; 2] = ["settings", "positions"];

/// `Path.stem` of a template name that may hold macros (`$(ADCORE)/db/NDStats.template` → `NDStats`).
fn stem(name: &str) -> &str {
    let file = name.rsplit('/').next().unwrap_or(name);
    match file.rfind('.') {
        Some(0) | None => file,
        Some(dot) => &file[..dot],
    }
}

/// For each suffix with at least one request template, the text of
/// `autosave_<suffix>.subst`: the blocks of `subst` whose template has a
/// `<stem>_<suffix>.req` (as `has_req` says), renamed to the request file.
pub fn autosave_substitutions(
    subst: &str,
    has_req: &dyn Fn(&str) -> bool,
) -> Vec<(&'static str, String)> {
    let entries: Vec<(String, String)> = ENTRY
        .captures_iter(subst)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    let mut out = Vec::new();
    for suffix in SUFFIXES {
        let mut text = String::new();
        for (file, pattern) in &entries {
            let req = format!("{}_{suffix}.req", stem(file));
            if has_req(&req) {
                text.push_str(&format!("file \"{req}\" {pattern}\n\n"));
            }
        }
        if !text.is_empty() {
            out.push((suffix, text));
        }
    }
    out
}

fn req_files(dir: &Path, recursive: bool) -> Vec<PathBuf> {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .max_depth(if recursive { usize::MAX } else { 1 });
    let mut out: Vec<PathBuf> = walker
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".req"))
        .map(walkdir::DirEntry::into_path)
        .collect();
    out.sort();
    out
}

/// Links the request files into `autosave_dir`: every `*.req` under the
/// support folder unless a link of that name exists, then the config
/// folder's, replacing any. Returns how many links were made.
pub fn link_req_files(
    autosave_dir: &Path,
    support_dir: &Path,
    config_dir: &Path,
) -> std::io::Result<usize> {
    fs_err::create_dir_all(autosave_dir)?;
    let mut made = 0;
    for req in req_files(support_dir, true) {
        let link = autosave_dir.join(req.file_name().unwrap_or_default());
        if link.symlink_metadata().is_err() {
            std::os::unix::fs::symlink(&req, &link)?;
            made += 1;
        }
    }
    for req in req_files(config_dir, false) {
        let link = autosave_dir.join(req.file_name().unwrap_or_default());
        if link.symlink_metadata().is_ok() {
            fs_err::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(&req, &link)?;
        made += 1;
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBST: &str = "#####\n# header\n#####\n\nfile \"$(ADCORE)/db/NDStats.template\" {\npattern \n\t{ \"P\", \"R\" }\n\t{ \"A\", \"B\" }\n}\n\nfile \"asynRecord.db\" {\npattern \n\t{ \"P\" }\n\t{ \"X\" }\n}\n";

    #[test]
    fn rows_follow_their_request_templates() {
        let out = autosave_substitutions(SUBST, &|r| {
            r == "NDStats_settings.req" || r == "asynRecord_positions.req"
        });
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, "settings");
        assert_eq!(
            out[0].1,
            "file \"NDStats_settings.req\" {\npattern \n\t{ \"P\", \"R\" }\n\t{ \"A\", \"B\" }\n}\n\n"
        );
        assert_eq!(out[1].0, "positions");
        assert!(out[1].1.starts_with("file \"asynRecord_positions.req\" {"));
    }

    #[test]
    fn no_request_templates_means_no_files() {
        assert!(autosave_substitutions(SUBST, &|_| false).is_empty());
    }

    #[test]
    fn config_requests_override_support_ones() {
        let d = tempfile::tempdir().unwrap();
        let support = d.path().join("support/mod/db");
        let config = d.path().join("config");
        fs_err::create_dir_all(&support).unwrap();
        fs_err::create_dir_all(&config).unwrap();
        fs_err::write(support.join("a_settings.req"), "support").unwrap();
        fs_err::write(support.join("b_settings.req"), "support").unwrap();
        fs_err::write(config.join("a_settings.req"), "config").unwrap();
        let auto = d.path().join("autosave");
        fs_err::create_dir_all(&auto).unwrap();
        // a link made at build time is kept
        fs_err::write(d.path().join("prebuilt.req"), "prebuilt").unwrap();
        std::os::unix::fs::symlink(d.path().join("prebuilt.req"), auto.join("b_settings.req"))
            .unwrap();
        link_req_files(&auto, &d.path().join("support"), &config).unwrap();
        assert_eq!(
            fs_err::read_to_string(auto.join("a_settings.req")).unwrap(),
            "config"
        );
        assert_eq!(
            fs_err::read_to_string(auto.join("b_settings.req")).unwrap(),
            "prebuilt"
        );
    }
}
