//! [`InstallSpec`]: an install.yml with its templates rendered, its
//! conditions decided and ibek-support's defaults applied.
//!
//! This is the input of the pure planner (`plan.rs`). Every `when:` has been
//! evaluated for the target architecture, so items that do not apply are
//! simply absent; strings are final; paths are absolute where ibek-support's
//! roles make them so. Resolution reports every problem at once, each at the
//! line of the install.yml it comes from.

use std::path::PathBuf;
use std::sync::Arc;

use super::command::split_words;
use super::install::{Flag, InstallFile, Text};
use super::vars::Variables;
use super::BuildEnv;
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::SourceFile;

/// A file to download before the apt installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// Where from.
    pub url: String,
    /// Where to.
    pub dest: PathBuf,
}

/// A `comment_out` item that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentOutEdit {
    /// File relative to the clone.
    pub path: String,
    /// Regexp of the lines to comment out.
    pub regexp: String,
}

/// A `patch_lines` item that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEdit {
    /// File relative to the clone.
    pub path: String,
    /// The last line matching it is replaced.
    pub regexp: String,
    /// The line to have.
    pub line: String,
    /// After `make`.
    pub post_build: bool,
}

/// A `patch_blocks` item that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEdit {
    /// File relative to the clone.
    pub path: String,
    /// The block text.
    pub block: String,
    /// `EOF` or a regexp of the line to insert after.
    pub insertafter: String,
    /// Marker template with `{mark}`.
    pub marker: String,
    /// After `make`.
    pub post_build: bool,
}

/// The `patch_file` when it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchSpec {
    /// Patch relative to the ibek-support folder.
    pub path: String,
    /// Commit to check out first.
    pub commit: Option<String>,
}

/// A script, a bash command or an Ansible task, before or after `make`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// Script or task path (relative to the ibek-support folder), or the bash command.
    pub text: String,
    /// After `make`.
    pub post_build: bool,
}

/// A `tasks` item: an Ansible task file, before or after `make`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFileRef {
    /// Task file relative to the ibek-support folder.
    pub path: String,
    /// After `make`.
    pub post_build: bool,
    /// `None` when its `when` holds, else the condition as written (the
    /// file is still checked and listed by `--dry-run`).
    pub skipped_by: Option<String>,
}

/// What one module's build does, fully decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallSpec {
    /// `module`.
    pub module: String,
    /// `version` (or the `-v` override).
    pub version: String,
    /// `dbds`.
    pub dbds: Vec<String>,
    /// `libs`.
    pub libs: Vec<String>,
    /// `git_repo` (default `organization/module`).
    pub git_repo: String,
    /// `recursive`.
    pub recursive: bool,
    /// `protocol_files`, relative to the clone.
    pub protocol_files: Vec<String>,
    /// `macro` (default: the module name, upper case, `-` → `_`).
    pub macro_name: String,
    /// `remove_macros`.
    pub remove_macros: Vec<String>,
    /// `extra_release_macros`, in file order.
    pub extra_release_macros: Vec<(String, String)>,
    /// `make_options`, split into words.
    pub make_options: Vec<String>,
    /// `apt_developer`.
    pub apt_developer: Vec<String>,
    /// `apt_runtime`.
    pub apt_runtime: Vec<String>,
    /// `download_extras`.
    pub download_extras: Vec<Download>,
    /// `runtime_files`.
    pub runtime_files: Vec<String>,
    /// `local_path` (default `$EPICS_ROOT/support/module`).
    pub local_path: PathBuf,
    /// `comment_out` items whose `when` holds.
    pub comment_out: Vec<CommentOutEdit>,
    /// `patch_lines` items whose `when` holds.
    pub patch_lines: Vec<LineEdit>,
    /// `patch_blocks` items whose `when` holds.
    pub patch_blocks: Vec<BlockEdit>,
    /// `patch_file`, when its `when` holds.
    pub patch_file: Option<PatchSpec>,
    /// `scripts`.
    pub scripts: Vec<Hook>,
    /// `tasks` (Ansible task files), with whether their `when` holds.
    pub tasks: Vec<TaskFileRef>,
    /// `bash` items whose `when` holds.
    pub bash: Vec<Hook>,
    /// `remove_files_prebuild`.
    pub remove_files_prebuild: Vec<String>,
}

/// The marker ibek-support's roles use when an item gives none.
pub const DEFAULT_MARKER: &str = "# {mark} ANSIBLE MANAGED BLOCK";

struct Resolver<'a> {
    vars: Variables,
    src: &'a Arc<SourceFile>,
    diags: Diagnostics,
}

impl Resolver<'_> {
    fn text(&mut self, t: &Text, what: &str) -> String {
        match self.vars.render(&t.value) {
            Ok(s) => s,
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    self.src,
                    t.span,
                    format!("cannot render {what}: {e}"),
                ));
                String::new()
            }
        }
    }

    fn texts(&mut self, list: &[Text], what: &str) -> Vec<String> {
        list.iter().map(|t| self.text(t, what)).collect()
    }

    fn flag(&mut self, flag: Option<&Flag>, default: bool, what: &str) -> bool {
        match self.vars.flag(flag, default) {
            Ok(b) => b,
            Err(e) => {
                let d = match flag {
                    Some(Flag::Text(t)) => {
                        Diagnostic::error(self.src, t.span, format!("{what}: {e}"))
                    }
                    _ => Diagnostic::plain(Some(self.src), format!("{what}: {e}")),
                };
                self.diags.push(
                    d.with_hint("write true, false, or a condition such as \"{{ is_linux }}\""),
                );
                default
            }
        }
    }

    /// A variable that has a default, reported at its field when the file sets it.
    fn var(&mut self, name: &str, field: Option<&Text>) -> String {
        match self.vars.get_str(name) {
            Ok(Some(s)) => s,
            Ok(None) => String::new(),
            Err(e) => {
                let msg = format!("cannot render `{name}`: {e}");
                let d = match field {
                    Some(t) => Diagnostic::error(self.src, t.span, msg),
                    None => Diagnostic::plain(Some(self.src), msg),
                };
                self.diags.push(d);
                String::new()
            }
        }
    }

    /// The `comment_out` edits whose `when` holds.
    fn comment_outs(&mut self, file: &InstallFile) -> Vec<CommentOutEdit> {
        let mut comment_out = Vec::new();
        for c in &file.comment_out {
            if self.flag(c.when.as_ref(), true, "`when` of a `comment_out` item") {
                comment_out.push(CommentOutEdit {
                    path: self.text(&c.path, "`path`"),
                    regexp: self.text(&c.regexp, "`regexp`"),
                });
            }
        }
        comment_out
    }

    /// The `patch_lines` edits whose `when` holds.
    fn patch_lines(&mut self, file: &InstallFile) -> Vec<LineEdit> {
        let mut patch_lines = Vec::new();
        for p in &file.patch_lines {
            if self.flag(p.when.as_ref(), true, "`when` of a `patch_lines` item") {
                patch_lines.push(LineEdit {
                    path: self.text(&p.path, "`path`"),
                    regexp: self.text(&p.regexp, "`regexp`"),
                    line: self.text(&p.line, "`line`"),
                    post_build: self.flag(p.post_build.as_ref(), false, "`post_build`"),
                });
            }
        }
        patch_lines
    }

    /// The `patch_blocks` edits whose `when` holds, with ibek's defaults for
    /// `insertafter` and `marker`.
    fn patch_blocks(&mut self, file: &InstallFile) -> Vec<BlockEdit> {
        let mut patch_blocks = Vec::new();
        for b in &file.patch_blocks {
            if self.flag(b.when.as_ref(), true, "`when` of a `patch_blocks` item") {
                patch_blocks.push(BlockEdit {
                    path: self.text(&b.path, "`path`"),
                    block: self.text(&b.block, "`block`"),
                    insertafter: b
                        .insertafter
                        .as_ref()
                        .map_or_else(|| "EOF".to_string(), |t| self.text(t, "`insertafter`")),
                    marker: b
                        .marker
                        .as_ref()
                        .map_or_else(|| DEFAULT_MARKER.to_string(), |t| self.text(t, "`marker`")),
                    post_build: self.flag(b.post_build.as_ref(), false, "`post_build`"),
                });
            }
        }
        patch_blocks
    }

    /// The `patch_file`, when it applies (its `when` defaults to false).
    fn patch_file(&mut self, file: &InstallFile) -> Option<PatchSpec> {
        let mut patch_file = None;
        if let Some(p) = &file.patch_file {
            if self.flag(p.when.as_ref(), false, "`when` of `patch_file`") {
                if let Some(path) = &p.path {
                    patch_file = Some(PatchSpec {
                        path: self.text(path, "`path`"),
                        commit: p.commit.as_ref().map(|c| self.text(c, "`commit`")),
                    });
                } else {
                    self.diags.push(
                        Diagnostic::plain(
                            Some(&file.source),
                            "`patch_file` applies but has no `path`",
                        )
                        .with_hint(
                            "add `path:` naming a patch in the module's ibek-support folder",
                        ),
                    );
                }
            }
        }
        patch_file
    }

    /// Every `tasks` item; one whose `when` is false is kept, marked with why it is skipped.
    fn tasks(&mut self, file: &InstallFile) -> Vec<TaskFileRef> {
        let mut tasks = Vec::new();
        for t in &file.tasks {
            let applies = self.flag(t.when.as_ref(), true, "`when` of a `tasks` item");
            let skipped_by = (!applies).then(|| match &t.when {
                Some(Flag::Text(w)) => w.value.clone(),
                _ => "false".to_string(),
            });
            tasks.push(TaskFileRef {
                path: self.text(&t.path, "`path`"),
                post_build: self.flag(t.post_build.as_ref(), false, "`post_build`"),
                skipped_by,
            });
        }
        tasks
    }

    /// The `bash` hooks whose `when` holds.
    fn bash(&mut self, file: &InstallFile) -> Vec<Hook> {
        let mut bash = Vec::new();
        for b in &file.bash {
            if self.flag(b.when.as_ref(), true, "`when` of a `bash` item") {
                bash.push(Hook {
                    text: self.text(&b.cmd, "`cmd`"),
                    post_build: self.flag(b.post_build.as_ref(), false, "`post_build`"),
                });
            }
        }
        bash
    }
}

/// Renders an install file against the build's variables (see `vars.rs`).
pub fn resolve_install(
    file: &InstallFile,
    env: &BuildEnv,
    version: Option<&str>,
) -> Result<InstallSpec, Diagnostics> {
    let mut r = Resolver {
        vars: Variables::for_install(file, env, version),
        src: &file.source,
        diags: Diagnostics::default(),
    };
    let module = r.var("module", Some(&file.module));
    let version = if file.version.is_none() && version.is_none() {
        r.diags.push(
            Diagnostic::plain(Some(&file.source), "the install file has no `version`")
                .with_hint("add `version: <tag, branch or commit>`, or pass `-v VERSION`"),
        );
        String::new()
    } else {
        r.var("version", file.version.as_ref())
    };
    let git_repo = r.var(
        "git_repo",
        file.git_repo.as_ref().or(file.organization.as_ref()),
    );
    let macro_name = r.var("macro", file.macro_name.as_ref());
    let local_path = PathBuf::from(r.var("local_path", file.local_path.as_ref()));
    let make_options = split_words(&r.var("make_options", file.make_options.as_ref()));
    let recursive = r.flag(file.recursive.as_ref(), false, "`recursive`");

    let comment_out = r.comment_outs(file);
    let patch_lines = r.patch_lines(file);
    let patch_blocks = r.patch_blocks(file);
    let patch_file = r.patch_file(file);
    let scripts = file
        .scripts
        .iter()
        .map(|s| Hook {
            text: r.text(&s.path, "`path`"),
            post_build: r.flag(s.post_build.as_ref(), false, "`post_build`"),
        })
        .collect();
    let tasks = r.tasks(file);
    let bash = r.bash(file);
    let download_extras = file
        .download_extras
        .iter()
        .map(|d| Download {
            url: r.text(&d.url, "`url`"),
            dest: PathBuf::from(r.text(&d.dest, "`dest`")),
        })
        .collect();
    let extra_release_macros = file
        .extra_release_macros
        .iter()
        .map(|(k, v)| (r.text(k, "a macro name"), r.text(v, "a macro value")))
        .collect();
    let spec = InstallSpec {
        module,
        version,
        dbds: r.texts(&file.dbds, "an item of `dbds`"),
        libs: r.texts(&file.libs, "an item of `libs`"),
        git_repo,
        recursive,
        protocol_files: r.texts(&file.protocol_files, "an item of `protocol_files`"),
        macro_name,
        remove_macros: r.texts(&file.remove_macros, "an item of `remove_macros`"),
        extra_release_macros,
        make_options,
        apt_developer: r.texts(&file.apt_developer, "an item of `apt_developer`"),
        apt_runtime: r.texts(&file.apt_runtime, "an item of `apt_runtime`"),
        download_extras,
        runtime_files: r.texts(&file.runtime_files, "an item of `runtime_files`"),
        local_path,
        comment_out,
        patch_lines,
        patch_blocks,
        patch_file,
        scripts,
        tasks,
        bash,
        remove_files_prebuild: r.texts(
            &file.remove_files_prebuild,
            "an item of `remove_files_prebuild`",
        ),
    };
    if r.diags.has_errors() {
        Err(r.diags)
    } else {
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::install::parse_install;
    use std::path::Path;

    fn resolve(
        text: &str,
        env: &BuildEnv,
        version: Option<&str>,
    ) -> Result<InstallSpec, Diagnostics> {
        let file = parse_install(&SourceFile::from_text("m.install.yml", text)).unwrap();
        resolve_install(&file, env, version)
    }

    fn env() -> BuildEnv {
        BuildEnv::new(Path::new("/tmp/epics"), Path::new("/src/ibek-support/m"))
    }

    #[test]
    fn defaults_follow_ibek_support() {
        let s = resolve("module: my-mod\nversion: R1\n", &env(), None).unwrap();
        assert_eq!(s.git_repo, "https://github.com/epics-modules/my-mod");
        assert_eq!(s.macro_name, "MY_MOD");
        assert_eq!(s.local_path, Path::new("/tmp/epics/support/my-mod"));
        assert_eq!(s.make_options, ["-j1"]);
        assert!(!s.recursive);
    }

    #[test]
    fn organization_and_version_override() {
        let s = resolve(
            "module: StreamDevice\nversion: 2.8.26\norganization: https://github.com/paulscherrerinstitute/\n",
            &env(),
            Some("2.8.24"),
        )
        .unwrap();
        assert_eq!(
            s.git_repo,
            "https://github.com/paulscherrerinstitute/StreamDevice"
        );
        assert_eq!(s.version, "2.8.24");
    }

    #[test]
    fn conditions_pick_items_for_the_target() {
        let text = "module: m\nversion: v\npatch_lines:\n\
            \x20 - path: \"{{ config_linux_host }}\"\n    regexp: PCRE_LIB\n    line: PCRE_LIB=/usr/lib\n    when: \"{{ is_linux }}\"\n\
            \x20 - path: \"{{ config_linux_host }}\"\n    regexp: PCRE_LIB\n    line: PCRE_LIB=/epics/support/PCRE/lib\n    when: \"{{ is_rtems }}\"\n\
            patch_file:\n  path: m.patch\n  when: \"{{ is_rtems | bool }}\"\n";
        let linux = resolve(text, &env(), None).unwrap();
        assert_eq!(linux.patch_lines.len(), 1);
        assert_eq!(
            linux.patch_lines[0].path,
            "configure/CONFIG_SITE.linux-x86_64.Common"
        );
        assert_eq!(linux.patch_lines[0].line, "PCRE_LIB=/usr/lib");
        assert_eq!(linux.patch_file, None);
        let mut rtems_env = env();
        rtems_env.target_arch = "RTEMS-beatnik".into();
        let rtems = resolve(text, &rtems_env, None).unwrap();
        assert_eq!(
            rtems.patch_lines[0].line,
            "PCRE_LIB=/epics/support/PCRE/lib"
        );
        assert_eq!(
            rtems.patch_file.as_ref().map(|p| p.path.as_str()),
            Some("m.patch")
        );
    }

    #[test]
    fn a_file_variable_overrides_a_group_variable() {
        let text = "module: m\nversion: v\nis_rtems: true\nbash:\n  - cmd: echo rtems\n    when: \"{{ is_rtems }}\"\n";
        let s = resolve(text, &env(), None).unwrap();
        assert_eq!(s.bash.len(), 1);
    }

    #[test]
    fn templates_see_the_ibek_support_folder() {
        let text = "module: m\nversion: v\nbash:\n  - cmd: cp {{ ibek_support_folder }}/x.template db/\n    post_build: true\n";
        let s = resolve(text, &env(), None).unwrap();
        assert_eq!(s.bash[0].text, "cp /src/ibek-support/m/x.template db/");
        assert!(s.bash[0].post_build);
    }

    #[test]
    fn template_errors_point_at_the_field() {
        let text = "module: m\nversion: v\ncomment_out:\n  - path: \"{{ config_linux_hots }}\"\n    regexp: x\n";
        let e = resolve(text, &env(), None).unwrap_err().render();
        assert!(e.contains("m.install.yml:4:11: error: cannot render `path`: undefined variable `config_linux_hots`"), "{e}");
    }

    #[test]
    fn version_is_required_without_an_override() {
        let e = resolve("module: m\n", &env(), None).unwrap_err().render();
        assert!(e.contains("has no `version`"), "{e}");
        assert_eq!(
            resolve("module: m\n", &env(), Some("v2")).unwrap().version,
            "v2"
        );
    }
}
