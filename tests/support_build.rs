//! `iocforge support build` and `apt-install-runtime-packages`, end to end:
//! the real binary, real git, make, cc and ar, on the fixture modules of
//! `tests/build/` in a temporary `/epics` tree. apt-get is a fake script
//! first on `PATH` that logs its arguments.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A temporary world: `src/ibek-support`, `src/repos/*` (git), `epics/`, a fake apt-get.
struct Tree {
    _dir: tempfile::TempDir,
    base: PathBuf,
}

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/build")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&dest).unwrap();
        } else {
            fs_err::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// git with no user or system configuration, so every machine behaves alike.
fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "iocforge tests")
        .env("GIT_AUTHOR_EMAIL", "tests@iocforge.invalid")
        .env("GIT_COMMITTER_NAME", "iocforge tests")
        .env("GIT_COMMITTER_EMAIL", "tests@iocforge.invalid")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let base = fs_err::canonicalize(dir.path()).unwrap();
        copy_dir(
            &fixtures().join("ibek-support"),
            &base.join("src/ibek-support"),
        );
        copy_dir(
            &fixtures().join("epics-base"),
            &base.join("epics/epics-base"),
        );
        for name in ["widget", "gadget", "broken", "tasky"] {
            let repo = base.join("src/repos").join(name);
            copy_dir(&fixtures().join("repos").join(name), &repo);
            git(&repo, &["init", "-q", "-b", "main"]);
            git(&repo, &["add", "-A"]);
            git(&repo, &["commit", "-q", "-m", "R1-0"]);
            git(&repo, &["tag", "R1-0"]);
        }
        // widget R1-1 differs in its dbd
        let widget = base.join("src/repos/widget");
        fs_err::write(
            widget.join("src/widget.dbd"),
            "registrar(widgetRegister)\nvariable(widgetDebug, int)\n",
        )
        .unwrap();
        git(&widget, &["commit", "-q", "-am", "R1-1"]);
        git(&widget, &["tag", "R1-1"]);

        let bin = base.join("bin");
        fs_err::create_dir_all(&bin).unwrap();
        let fake = bin.join("apt-get");
        fs_err::write(&fake, "#!/bin/sh\necho \"$*\" >> \"$FAKE_APT_LOG\"\n").unwrap();
        set_executable(&fake);
        fs_err::create_dir_all(base.join("tmp")).unwrap();
        Tree { _dir: dir, base }
    }

    fn epics(&self) -> PathBuf {
        self.base.join("epics")
    }

    fn ibek_support(&self) -> PathBuf {
        self.base.join("src/ibek-support")
    }

    /// A path under `$EPICS_ROOT`.
    fn path(&self, rel: &str) -> PathBuf {
        self.epics().join(rel)
    }

    /// A file under `$EPICS_ROOT`.
    fn read(&self, rel: &str) -> String {
        fs_err::read_to_string(self.path(rel)).unwrap()
    }

    fn apt_log(&self) -> String {
        fs_err::read_to_string(self.base.join("apt.log")).unwrap_or_default()
    }

    #[allow(clippy::disallowed_methods)] // the test's own PATH, extended
    fn run(&self, args: &[&str]) -> Run {
        let path = format!(
            "{}:{}",
            self.base.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new(env!("CARGO_BIN_EXE_iocforge"))
            .args(args)
            .current_dir(self.ibek_support())
            .env("EPICS_ROOT", self.epics())
            .env("EPICS_TARGET_ARCH", "linux-x86_64")
            .env("TMPDIR", self.base.join("tmp"))
            .env("PATH", path)
            .env("FAKE_APT_LOG", self.base.join("apt.log"))
            .env("IOCFORGE_APT_NO_SUDO", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("EPICS_HOST_ARCH")
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .env_remove("MAKELEVEL")
            .output()
            .expect("the iocforge binary runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and insists on success.
    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "{args:?} failed:\n{}", r.stderr);
        r
    }
}

fn global_release_head(root: &Path) -> String {
    let root = root.display();
    format!(
        "# Global configure/RELEASE file for epics-containers IOCs\n\n\
         SUPPORT={root}/support\n\
         -include $(TOP)/configure/SUPPORT.$(EPICS_HOST_ARCH)\n\
         -include $(TOP)/configure/EPICS_BASE\n\
         -include $(TOP)/configure/EPICS_BASE.$(EPICS_HOST_ARCH)\n\n\
         # Paths to modules built in epics-base container\n\
         EPICS_BASE={root}/epics-base\n\
         PVXS={root}/support/pvxs\n\n\
         # Additional Support Modules for individual IOCs will be added below this line\n"
    )
}

/// The widget build itself: make ran on the edited sources, hooks ran before and
/// after it, then `make clean`.
fn assert_widget_built(t: &Tree) {
    let module = t.epics().join("support/widget");
    // the build itself: make ran with the patched configuration, then `make clean`
    assert!(module.join("lib/linux-x86_64/libwidget.a").is_file());
    assert_eq!(
        t.read("support/widget/dbd/widget.dbd"),
        "registrar(widgetRegister)\n"
    );
    assert!(
        !module.join("O.linux-x86_64").exists(),
        "the final make clean ran"
    );
    assert_eq!(t.read("support/widget/build.log"), "built\n");
    // patch_file, before the build, and a post-build patch_lines on what make made
    assert_eq!(
        t.read("support/widget/db/widget.template"),
        "record(ai, \"$(P)WIDGET\") {\n    field(DESC, \"widget\")\n    field(EGU, \"patched\")\n}\n# patched after the build\n"
    );
    // pre-build edits
    assert!(!module.join("configure/CONFIG_SITE.local").exists());
    let makefile = t.read("support/widget/Makefile");
    assert!(makefile.contains("\n# SELFTEST_DIRS += selftest\n# all: $(SELFTEST_DIRS)\n"));
    assert!(
        makefile.contains("\nall: lib/$(ARCH)/libwidget.a"),
        "the RTEMS-only comment_out is skipped"
    );
    assert_eq!(
        t.read("support/widget/configure/CONFIG_SITE.linux-x86_64.Common"),
        "# Host settings\nWIDGET_MODE = fast\n# BEGIN ANSIBLE MANAGED BLOCK\nWIDGET_FLAGS = -DWIDGET_BLOCK=1\n# END ANSIBLE MANAGED BLOCK\n"
    );
    // scripts and bash, before and after make
    assert_eq!(
        t.read("support/widget/src/generated.h"),
        "#define GENERATED_ANSWER 42\n"
    );
    assert_eq!(
        t.read("support/widget/extra/pre_bash.txt"),
        "pre widget R1-0\n"
    );
    assert_eq!(
        t.read("support/widget/extra/post_script.txt"),
        "libwidget.a\n"
    );
    assert!(module.join("db/widget_extra.template").is_file());
}

/// The module's RELEASE, its link to the global one, and the global RELEASE files.
fn assert_widget_release(t: &Tree) {
    let root = t.epics();
    let module = root.join("support/widget");
    // RELEASE handling
    assert!(t.read("support/widget/configure/RELEASE").ends_with(
        "EPICS_BASE=/nonexistent/epics-base\n-include $(TOP)/configure/RELEASE.local\n"
    ));
    assert_eq!(
        fs_err::read_link(module.join("configure/RELEASE.local")).unwrap(),
        root.join("support/configure/RELEASE")
    );
    assert_eq!(
        t.read("support/configure/RELEASE"),
        format!(
            "{}SNCSEQ =\nWIDGET = {}\nWIDGET_EXTRA=$(SUPPORT)/widget/extra\n",
            global_release_head(&root),
            module.display()
        )
    );
    assert_eq!(
        t.read("support/configure/RELEASE.shell"),
        format!(
            "export WIDGET=\"{m}\"\nexport EPICS_DB_INCLUDE_PATH=\"{m}/db\"\n",
            m = module.display()
        )
    );
}

/// The lists for the IOC build and the runtime stage, and the runtime links and copies.
fn assert_widget_lists_and_links(t: &Tree) {
    let root = t.epics();
    // lists for the IOC build and the runtime stage
    assert_eq!(t.read("support/configure/lib_list"), "widget\n");
    assert_eq!(t.read("support/configure/dbd_list"), "widget.dbd\n");
    assert_eq!(
        t.read("support/configure/runtime_files_list"),
        "/epics/support/widget/widgetApp/protocol/widget.proto\n"
    );
    assert_eq!(
        t.read("support/configure/runtime_debs"),
        "libwidget1\nlibwidget-data\n"
    );
    assert_eq!(t.apt_log(), "update\ninstall -y libwidget-dev\n");
    assert!(t.base.join("tmp/.apt_cache_updated").exists());

    // runtime links and copies
    let defs = t.ibek_support().join("widget");
    for (link, name) in [
        ("ibek-defs", "widget.ibek.support.yaml"),
        ("pvi-defs", "widget.pvi.device.yaml"),
        ("autosave", "widget_settings.req"),
    ] {
        assert_eq!(
            fs_err::read_link(root.join(link).join(name)).unwrap(),
            defs.join(name),
            "{link}/{name}"
        );
    }
    assert_eq!(
        t.read("support/configure/protocol/widget.proto"),
        t.read("support/widget/widgetApp/protocol/widget.proto")
    );
}

#[test]
fn builds_a_module_with_every_build_variable() {
    let t = Tree::new();
    let r = t.ok(&["support", "build", "widget"]);
    assert_widget_built(&t);
    assert_widget_release(&t);
    assert_widget_lists_and_links(&t);

    // one line per step on stderr, with its duration; nothing on stdout
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .contains("[widget] clone      git clone --branch R1-0 file://"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("[widget] build      cd "), "{}", r.stderr);
    let timed = r.stderr.lines().filter(|l| l.ends_with("s)")).count();
    assert!(timed >= 20, "{}", r.stderr);
    assert!(t
        .read("support/configure/iocforge/widget.stamp")
        .contains("\nversion: R1-0\n"));
}

#[test]
fn a_second_build_does_nothing_and_force_builds_again() {
    let t = Tree::new();
    t.ok(&["support", "build", "widget"]);
    let release = t.read("support/configure/RELEASE");
    let makefile = t.read("support/widget/Makefile");

    let again = t.ok(&["support", "build", "widget"]);
    assert!(
        again.stderr.contains("[widget] R1-0 is up to date"),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("make"), "{}", again.stderr);
    assert_eq!(t.read("support/widget/build.log"), "built\n");
    assert_eq!(t.apt_log(), "update\ninstall -y libwidget-dev\n");

    let forced = t.ok(&["support", "build", "widget", "--force"]);
    assert!(
        forced.stderr.contains("(skipped: "),
        "the clone is kept: {}",
        forced.stderr
    );
    assert_eq!(t.read("support/widget/build.log"), "built\nbuilt\n");
    // every edit is idempotent
    assert_eq!(t.read("support/configure/RELEASE"), release);
    assert_eq!(t.read("support/widget/Makefile"), makefile);
    assert_eq!(t.read("support/configure/lib_list"), "widget\n");
    assert_eq!(
        t.read("support/configure/runtime_debs"),
        "libwidget1\nlibwidget-data\n"
    );
    assert_eq!(
        t.read("support/widget/configure/RELEASE")
            .matches("RELEASE.local")
            .count(),
        1
    );
    // apt's cache is updated once per container
    assert_eq!(
        t.apt_log(),
        "update\ninstall -y libwidget-dev\ninstall -y libwidget-dev\n"
    );

    // a changed input is a new build, without --force
    let install = t.ibek_support().join("widget/widget.install.yml");
    let text = fs_err::read_to_string(&install).unwrap();
    fs_err::write(&install, format!("{text}\n# edited\n")).unwrap();
    t.ok(&["support", "build", "widget"]);
    assert_eq!(t.read("support/widget/build.log"), "built\nbuilt\nbuilt\n");
}

#[test]
fn modules_see_each_other_through_the_global_release() {
    let t = Tree::new();
    t.ok(&["support", "build", "widget", "--skip-apt"]);
    let r = t.ok(&["support", "build", "gadget"]);
    let root = t.epics();

    // gadget's Makefile found widget's library through $(WIDGET)
    assert!(root
        .join("support/gadget/lib/linux-x86_64/libgadget.a")
        .is_file());
    assert!(
        r.stderr.contains("&& make  ("),
        "empty make_options: {}",
        r.stderr
    );
    let release = t.read("support/configure/RELEASE");
    assert!(release.ends_with(&format!(
        "WIDGET = {w}\nWIDGET_EXTRA=$(SUPPORT)/widget/extra\nGADGET = {g}\n",
        w = root.join("support/widget").display(),
        g = root.join("support/gadget").display()
    )));
    assert!(
        !release.contains("WIDGET =\n"),
        "a built module is not blanked"
    );
    assert_eq!(
        t.read("support/gadget/configure/RELEASE"),
        "-include $(TOP)/configure/RELEASE.local\n"
    );
    assert_eq!(
        t.read("support/configure/RELEASE.shell"),
        format!(
            "export WIDGET=\"{w}\"\nexport EPICS_DB_INCLUDE_PATH=\"{g}/db:{w}/db\"\nexport GADGET=\"{g}\"\n",
            w = root.join("support/widget").display(),
            g = root.join("support/gadget").display()
        )
    );
    assert_eq!(t.read("support/configure/lib_list"), "widget\ngadget\n");
    assert_eq!(
        t.read("support/configure/dbd_list"),
        "widget.dbd\ngadget.dbd\n"
    );
    assert!(root.join("autosave/gadget_positions.req").is_symlink());
    assert!(root.join("autosave/widget_settings.req").is_symlink());
    assert_eq!(t.apt_log(), "", "--skip-apt, and gadget needs no packages");
}

#[test]
fn a_version_override_is_cloned_and_an_other_versions_clone_is_refused() {
    let t = Tree::new();
    t.ok(&["support", "build", "widget", "-v", "R1-1", "--skip-apt"]);
    assert_eq!(
        t.read("support/widget/dbd/widget.dbd"),
        "registrar(widgetRegister)\nvariable(widgetDebug, int)\n"
    );
    assert!(t
        .read("support/configure/iocforge/widget.stamp")
        .contains("\nversion: R1-1\n"));

    let r = t.run(&["support", "build", "widget", "--skip-apt"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("holds `widget` version R1-1, not R1-0"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: delete"), "{}", r.stderr);
}

#[test]
fn a_failing_make_shows_the_command_and_the_tail_of_its_output() {
    let t = Tree::new();
    let r = t.run(&["support", "build", "broken"]);
    assert_eq!(
        r.code, 2,
        "make's own exit status passes through:\n{}",
        r.stderr
    );
    let module = t.path("support/broken");
    assert!(
        r.stderr.contains(&format!(
            "[broken] build      cd {} && make -j",
            module.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("(FAILED after "), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "error: build step `cd {} && make -j",
            module.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("exited with status 2"), "{}", r.stderr);
    assert!(
        r.stderr.contains("last 40 lines of its output:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("  | broken.c:3: error: expected ';' before '}' token"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("  | compiling unit 60\n"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("  | compiling unit 1\n"),
        "only the tail: {}",
        r.stderr
    );
    // nothing after the failure ran, and nothing was recorded as built
    assert!(!t.path("support/configure/RELEASE.shell").exists());
    assert!(!t.path("support/configure/iocforge/broken.stamp").exists());
}

#[test]
fn a_patch_that_does_not_apply_fails_and_removes_the_fresh_clone() {
    let t = Tree::new();
    let r = t.run(&["support", "build", "badpatch", "--skip-apt"]);
    assert_eq!(
        r.code, 1,
        "git apply's status passes through:\n{}",
        r.stderr
    );
    assert!(r.stderr.contains("error: clone step `cd "), "{}", r.stderr);
    assert!(r.stderr.contains("&& git apply "), "{}", r.stderr);
    assert!(
        r.stderr.contains("  | error: patch failed: Makefile:1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("note: removed the fresh clone"),
        "{}",
        r.stderr
    );
    assert!(!t.path("support/badpatch").exists());
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let t = Tree::new();
    let r = t.ok(&["support", "build", "widget", "--dry-run"]);
    let root = t.epics();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("system     DEBIAN_FRONTEND=noninteractive apt-get update"),
        "{}",
        r.stdout
    );
    assert_eq!(
        lines[1],
        "system     DEBIAN_FRONTEND=noninteractive apt-get install -y libwidget-dev"
    );
    assert!(
        lines.contains(
            &format!(
                "clone      git clone --branch R1-0 file://{}/repos/widget {}  # unless {} exists",
                t.base.join("src").display(),
                root.join("support/widget").display(),
                root.join("support/widget").display()
            )
            .as_str()
        ),
        "{}",
        r.stdout
    );
    assert!(lines
        .iter()
        .any(|l| l.starts_with("clone      cd ") && l.contains("git apply ")));
    assert!(lines.last().unwrap().starts_with("runtime    cp "));
    assert!(!root.join("support").exists(), "a dry run writes nothing");
    assert_eq!(t.apt_log(), "");

    let quick = t.ok(&[
        "support",
        "build",
        "widget",
        "--dry-run",
        "--skip-apt",
        "--skip-clean",
    ]);
    assert!(!quick.stdout.contains("apt-get"));
    assert!(quick
        .stdout
        .contains("system     record libwidget1 libwidget-data in "));
    assert_eq!(quick.stdout.matches("make clean").count(), 1);
}

#[test]
fn an_invalid_install_file_points_at_the_line() {
    let t = Tree::new();
    let bad = t.ibek_support().join("bad");
    fs_err::create_dir_all(&bad).unwrap();
    fs_err::write(
        bad.join("bad.install.yml"),
        "module: bad\nversion: R1\ncomment_out:\n  - path: Makefile\n    regex: x\n",
    )
    .unwrap();
    let r = t.run(&["support", "build", "bad"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("bad.install.yml:4:5: error: item 1 of `comment_out` is missing the required field `regexp`"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "bad.install.yml:5:5: error: item 1 of `comment_out` has an unknown field `regex`"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hint: did you mean `regexp`?"),
        "{}",
        r.stderr
    );

    fs_err::write(
        bad.join("bad.install.yml"),
        "module: bad\nversion: R1\nbash:\n  - cmd: echo {{ modul }}\n",
    )
    .unwrap();
    let r = t.run(&["support", "build", "bad"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("undefined variable `modul` (did you mean `module`?)"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_unreadable_install_file_is_an_environment_failure() {
    let t = Tree::new();
    let folder = t.ibek_support().join("latin1");
    fs_err::create_dir_all(&folder).unwrap();
    // not UTF-8: the read fails whoever runs the test, root included
    fs_err::write(folder.join("latin1.install.yml"), b"module: caf\xe9\n").unwrap();
    let r = t.run(&["support", "build", "latin1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot read `"), "{}", r.stderr);
    assert!(r.stderr.contains("latin1.install.yml`"), "{}", r.stderr);
}

#[test]
fn an_unknown_module_says_where_it_looked() {
    let t = Tree::new();
    let r = t.run(&["support", "build", "nosuch"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no `nosuch/nosuch.install.yml` in"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&t.ibek_support().display().to_string()),
        "{}",
        r.stderr
    );
}

#[test]
fn ansible_task_files_run_natively_in_the_role_order() {
    let t = Tree::new();
    let r = t.ok(&["support", "build", "tasky", "--skip-apt"]);
    // pre-build tasks ran in the clone, in loop order, with `debug` in the log
    assert_eq!(t.read("support/tasky/tasks.log"), "one\ntwo\n");
    assert!(
        r.stderr.contains("(debug: hello from tasky)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("task `Not on linux` (")
            && r.stderr.contains("skipped: `when: is_rtems` is false"),
        "{}",
        r.stderr
    );
    assert!(!t.path("support/tasky/rtems.marker").exists());
    assert!(
        r.stderr
            .contains("rtems-only.yml  # skipped: `when: {{ is_rtems }}` is false"),
        "{}",
        r.stderr
    );
    // the post-build file ran after make, with the fact the pre-build file set
    let marker = t.path("support/tasky/db/tasky.marker");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&fs_err::metadata(&marker).unwrap().permissions())
            & 0o777,
        0o600
    );

    let dry = t.ok(&["support", "build", "tasky", "--dry-run", "--force"]);
    for name in [
        "Say hello",
        "Pick the marker name",
        "Log each word in the clone (item=one)",
        "Not on linux",
        "Only for RTEMS targets",
        "Mark the build",
    ] {
        assert!(
            dry.stdout.contains(&format!("task `{name}` (")),
            "no `{name}` in\n{}",
            dry.stdout
        );
    }
    assert!(
        dry.stdout.contains("tasky-post.yml:1:3): file path="),
        "{}",
        dry.stdout
    );
}

#[test]
fn literal_epics_paths_in_task_files_follow_epics_root() {
    // pmac-tasks.yml spells out `/epics/support/pmac/configure/...`; with
    // EPICS_ROOT elsewhere those paths must name the files of this tree
    let t = Tree::new();
    let repo = t.base.join("src/repos/tasky");
    fs_err::write(
        repo.join("configure/CONFIG_SITE.linux-x86_64.Common"),
        "SITE_ONLY = /site/only\n",
    )
    .unwrap();
    fs_err::write(repo.join("configure/SITE_NOTES"), "first\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "site files"]);
    git(&repo, &["tag", "-f", "R1-0"]);
    fs_err::write(
        t.ibek_support().join("tasky/tasky-tasks.yml"),
        "- name: Remove site specific CONFIG\n  ansible.builtin.file:\n    path: \"{{ item }}\"\n    state: absent\n  \
         with_items:\n    - /epics/support/tasky/configure/CONFIG_SITE.linux-x86_64.Common\n\n\
         - name: Note the build\n  ansible.builtin.lineinfile:\n    path: /epics/support/tasky/configure/SITE_NOTES\n    \
         regexp: ^second\n    line: second\n\n\
         - name: Log from the clone\n  ansible.builtin.shell:\n    cmd: pwd > where.log\n    \
         chdir: /epics/support/tasky\n    creates: /epics/support/tasky/never-there\n\n\
         - name: The post-build file's marker\n  ansible.builtin.set_fact:\n    marker: tasky.marker\n",
    )
    .unwrap();

    let dry = t.ok(&["support", "build", "tasky", "--skip-apt", "--dry-run"]);
    let root = t.epics().display().to_string();
    assert!(
        dry.stdout.contains(&format!(
            "file path={root}/support/tasky/configure/CONFIG_SITE.linux-x86_64.Common state=absent"
        )),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains(&format!(
            "chdir={root}/support/tasky creates={root}/support/tasky/never-there"
        )),
        "{}",
        dry.stdout
    );

    t.ok(&["support", "build", "tasky", "--skip-apt"]);
    assert!(
        !t.path("support/tasky/configure/CONFIG_SITE.linux-x86_64.Common")
            .exists(),
        "the clone's site file is removed"
    );
    assert_eq!(
        t.read("support/tasky/configure/SITE_NOTES"),
        "first\nsecond\n"
    );
    assert_eq!(
        t.read("support/tasky/where.log").trim(),
        t.path("support/tasky").display().to_string()
    );
}

#[test]
fn skip_tasks_builds_without_task_files() {
    let t = Tree::new();
    let r = t.ok(&["support", "build", "tasky", "--skip-apt", "--skip-tasks"]);
    assert!(r.stderr.contains("(skipped: --skip-tasks)"), "{}", r.stderr);
    assert!(t.path("support/tasky/db/tasky.db").is_file());
    assert!(!t.path("support/tasky/tasks.log").exists());
}

#[test]
fn an_unknown_ansible_module_fails_before_anything_runs() {
    let t = Tree::new();
    let dir = t.ibek_support().join("tasky");
    fs_err::write(
        dir.join("tasky-post.yml"),
        "- name: Mark the build\n  ansible.builtin.file:\n    path: /x\n    state: touch\n\
         - name: Install\n  ansible.builtin.apt:\n    name: libevent-dev\n",
    )
    .unwrap();
    let r = t.run(&["support", "build", "tasky", "--skip-apt"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("tasky-post.yml:6:3: error: unknown Ansible module `ansible.builtin.apt`"),
        "{}",
        r.stderr
    );
    assert!(!t.path("support/tasky").exists(), "nothing ran: no clone");
}

#[test]
fn an_undefined_variable_in_a_task_fails_before_anything_runs() {
    let t = Tree::new();
    fs_err::write(
        t.ibek_support().join("tasky/tasky-post.yml"),
        "- name: Mark the build\n  ansible.builtin.file:\n    path: \"{{ local_pth }}/x\"\n    state: touch\n",
    )
    .unwrap();
    let r = t.run(&["support", "build", "tasky", "--skip-apt"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("tasky-post.yml:1:3: task `Mark the build` failed: cannot render `path`: undefined variable `local_pth` (did you mean `local_path`?)"),
        "{}",
        r.stderr
    );
    assert!(!t.path("support/tasky").exists(), "nothing ran: no clone");
}

#[test]
fn build_prints_the_url_git_resolves_through_instead_of() {
    let t = Tree::new();
    let dir = t.ibek_support().join("mirrored");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::write(
        dir.join("mirrored.install.yml"),
        "module: mirrored\nversion: R1-0\ngit_repo: https://github.com/iocforge-tests/tasky\n",
    )
    .unwrap();
    let mirror = format!("{}/", t.base.join("src/repos").display());
    let out = Command::new(env!("CARGO_BIN_EXE_iocforge"))
        .args(["support", "build", "mirrored", "--skip-apt"])
        .current_dir(t.ibek_support())
        .env("EPICS_ROOT", t.epics())
        .env("EPICS_TARGET_ARCH", "linux-x86_64")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", format!("url.{mirror}.insteadOf"))
        .env("GIT_CONFIG_VALUE_0", "https://github.com/iocforge-tests/")
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "from https://github.com/iocforge-tests/tasky (git resolves it to {mirror}tasky)"
        )),
        "{stderr}"
    );
    assert!(t.path("support/mirrored/db/tasky.db").is_file());
}

#[test]
fn runtime_packages_are_recorded_with_skip_apt_and_installed_later() {
    let t = Tree::new();
    let none = t.ok(&["support", "apt-install-runtime-packages"]);
    assert!(
        none.stderr.contains("no runtime packages recorded"),
        "{}",
        none.stderr
    );

    t.ok(&["support", "build", "widget", "--skip-apt"]);
    assert_eq!(t.apt_log(), "");
    assert_eq!(
        t.read("support/configure/runtime_debs"),
        "libwidget1\nlibwidget-data\n"
    );

    let dry = t.ok(&["support", "apt-install-runtime-packages", "--dry-run"]);
    assert_eq!(
        dry.stdout,
        "DEBIAN_FRONTEND=noninteractive apt-get update\n\
         DEBIAN_FRONTEND=noninteractive apt-get upgrade -y\n\
         DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libwidget1 libwidget-data\n\
         bash -c 'rm -rf /var/lib/apt/lists/*'\n"
    );
    assert_eq!(t.apt_log(), "");

    let r = t.ok(&[
        "support",
        "apt-install-runtime-packages",
        "--keep-apt-lists",
    ]);
    assert!(
        r.stderr
            .contains("installing packages: libwidget1 libwidget-data"),
        "{}",
        r.stderr
    );
    assert_eq!(
        t.apt_log(),
        "update\nupgrade -y\ninstall -y --no-install-recommends libwidget1 libwidget-data\n"
    );
}

#[test]
fn help_describes_the_build_command() {
    let t = Tree::new();
    let r = t.ok(&["support", "build", "--help"]);
    assert!(r.stdout.contains("-v, --version <VERSION>"), "{}", r.stdout);
    assert!(r.stdout.contains("[env: EPICS_ROOT="), "{}", r.stdout);
    let r = t.ok(&["support", "apt-install-runtime-packages", "--help"]);
    assert!(r.stdout.contains("--keep-apt-lists"), "{}", r.stdout);
}
