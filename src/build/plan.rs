//! The pure planner: an [`InstallSpec`] and a [`BuildEnv`] in, the ordered
//! [`Step`]s of ibek-support's `support` role out.
//!
//! The phases are the role's task files, in its order: system (apt),
//! clone, pre-build, release, build, post-build, runtime. A step is plain
//! data (a command, or a file edit with its arguments), so the plan is
//! printed by `--dry-run`, checked by unit tests without a disk, and can
//! later be turned into Dockerfile stages; `executor.rs` carries it out.

use super::apt::Apt;
use super::command::CommandSpec;
use super::patch::Insert;
use super::release::{global_release, INCLUDE_LOCAL, INCLUDE_LOCAL_RE};
use super::spec::InstallSpec;
use super::step::{Action, Phase, RunIf, Step};
use super::BuildEnv;

/// Whether a version names a commit rather than a tag or branch: a shallow
/// `git clone --branch` cannot fetch a commit, so those get a full clone.
pub fn is_commit(version: &str) -> bool {
    (7..=40).contains(&version.len()) && version.bytes().all(|b| b.is_ascii_hexdigit())
}

fn run(phase: Phase, command: CommandSpec) -> Step {
    Step {
        phase,
        action: Action::Run {
            command,
            when: RunIf::Always,
            ignore_errors: false,
        },
    }
}

fn after_clone(command: CommandSpec) -> Step {
    Step {
        phase: Phase::Clone,
        action: Action::Run {
            command,
            when: RunIf::FreshClone,
            ignore_errors: false,
        },
    }
}

fn step(phase: Phase, action: Action) -> Step {
    Step { phase, action }
}

/// The steps that build `spec` in `env`, in ibek-support's order.
pub fn plan(spec: &InstallSpec, env: &BuildEnv) -> Vec<Step> {
    let mut steps = Vec::new();
    system(spec, env, &mut steps);
    clone(spec, env, &mut steps);
    tasks(spec, env, false, &mut steps);
    pre_build(spec, env, &mut steps);
    release(spec, env, &mut steps);
    build(spec, env, &mut steps);
    post_build(spec, env, &mut steps);
    tasks(spec, env, true, &mut steps);
    runtime(spec, env, &mut steps);
    steps
}

fn system(spec: &InstallSpec, env: &BuildEnv, steps: &mut Vec<Step>) {
    let apt = Apt { sudo: env.sudo };
    if !env.skip_apt {
        if env.is_linux() && !spec.apt_developer.is_empty() {
            steps.push(step(
                Phase::System,
                Action::AptUpdate {
                    command: apt.update(),
                    sentinel: env.apt_sentinel.clone(),
                },
            ));
        }
        for d in &spec.download_extras {
            steps.push(run(Phase::System, env.downloader.fetch(&d.url, &d.dest)));
        }
        if env.is_linux() {
            let (local, registry): (Vec<String>, Vec<String>) = spec
                .apt_developer
                .iter()
                .cloned()
                .partition(|p| p.starts_with('/'));
            if !registry.is_empty() {
                steps.push(run(Phase::System, apt.install(&registry)));
            }
            for deb in local {
                // ibek-support ignores errors here: a local package may already be installed
                steps.push(step(
                    Phase::System,
                    Action::Run {
                        command: apt.install(&[deb]),
                        when: RunIf::Always,
                        ignore_errors: true,
                    },
                ));
            }
        }
    }
    // recorded even with --skip-apt: the runtime stage needs the list, and it costs nothing
    if env.is_linux() && !spec.apt_runtime.is_empty() {
        steps.push(step(
            Phase::System,
            Action::RecordLines {
                file: env.runtime_debs(),
                lines: spec.apt_runtime.clone(),
            },
        ));
    }
}

fn clone(spec: &InstallSpec, env: &BuildEnv, steps: &mut Vec<Step>) {
    let local = &spec.local_path;
    let commit = is_commit(&spec.version);
    let full = commit || spec.patch_file.is_some();
    let mut args: Vec<String> = vec!["clone".into()];
    if !full {
        args.extend(["--depth".into(), "1".into()]);
    }
    if !commit {
        args.extend(["--branch".into(), spec.version.clone()]);
    }
    if spec.recursive {
        args.push("--recurse-submodules".into());
        if !full {
            args.push("--shallow-submodules".into());
        }
    }
    args.push(spec.git_repo.clone());
    args.push(local.display().to_string());
    steps.push(step(
        Phase::Clone,
        Action::Run {
            command: CommandSpec::new("git", args),
            when: RunIf::Absent(local.clone()),
            ignore_errors: false,
        },
    ));
    if commit {
        steps.push(after_clone(
            CommandSpec::new("git", ["checkout", "--quiet", &spec.version]).in_dir(local),
        ));
        if spec.recursive {
            steps.push(after_clone(
                CommandSpec::new("git", ["submodule", "update", "--init", "--recursive"])
                    .in_dir(local),
            ));
        }
    }
    if let Some(patch) = &spec.patch_file {
        if let Some(c) = &patch.commit {
            steps.push(after_clone(
                CommandSpec::new("git", ["checkout", "--quiet", "--force", c]).in_dir(local),
            ));
        }
        let file = env.ibek_support_folder.join(&patch.path);
        steps.push(after_clone(
            CommandSpec::new("git", ["apply".to_string(), file.display().to_string()])
                .in_dir(local),
        ));
    }
}

fn tasks(spec: &InstallSpec, env: &BuildEnv, post_build: bool, steps: &mut Vec<Step>) {
    let phase = if post_build {
        Phase::PostBuild
    } else {
        Phase::PreBuild
    };
    for t in spec.tasks.iter().filter(|t| t.post_build == post_build) {
        steps.push(step(
            phase,
            Action::AnsibleTask {
                file: env.ibek_support_folder.join(&t.path),
                skipped_by: t.skipped_by.clone(),
            },
        ));
    }
}

/// The `patch_blocks`, `patch_lines`, `scripts` and `bash` items of one side of `make`.
fn patches_and_hooks(spec: &InstallSpec, env: &BuildEnv, post_build: bool, steps: &mut Vec<Step>) {
    let phase = if post_build {
        Phase::PostBuild
    } else {
        Phase::PreBuild
    };
    let local = &spec.local_path;
    for b in spec
        .patch_blocks
        .iter()
        .filter(|b| b.post_build == post_build)
    {
        steps.push(step(
            phase,
            Action::BlockInFile {
                file: local.join(&b.path),
                block: b.block.clone(),
                marker: b.marker.clone(),
                insert_after: b.insertafter.clone(),
            },
        ));
    }
    for l in spec
        .patch_lines
        .iter()
        .filter(|l| l.post_build == post_build)
    {
        steps.push(step(
            phase,
            Action::LineInFile {
                file: local.join(&l.path),
                regexp: Some(l.regexp.clone()),
                line: l.line.clone(),
                insert: Insert::Eof,
            },
        ));
    }
    for s in spec.scripts.iter().filter(|s| s.post_build == post_build) {
        let script = env.ibek_support_folder.join(&s.text);
        steps.push(run(
            phase,
            CommandSpec::new("bash", [script.display().to_string()]).in_dir(local),
        ));
    }
    for b in spec.bash.iter().filter(|b| b.post_build == post_build) {
        steps.push(run(
            phase,
            CommandSpec::new("bash", ["-c", b.text.as_str()]).in_dir(local),
        ));
    }
}

fn pre_build(spec: &InstallSpec, env: &BuildEnv, steps: &mut Vec<Step>) {
    let local = &spec.local_path;
    for f in &spec.remove_files_prebuild {
        steps.push(step(
            Phase::PreBuild,
            Action::Remove {
                path: local.join(f),
            },
        ));
    }
    for c in &spec.comment_out {
        steps.push(step(
            Phase::PreBuild,
            Action::CommentOut {
                file: local.join(&c.path),
                regexp: c.regexp.clone(),
            },
        ));
    }
    if env.is_rtems() {
        steps.push(step(
            Phase::PreBuild,
            Action::LineInFile {
                file: local.join("configure/CONFIG_SITE.Common.linux-x86_64"),
                regexp: Some(".*VALID_BUILDS.*".into()),
                line: "VALID_BUILDS=Host".into(),
                insert: Insert::Eof,
            },
        ));
    }
    patches_and_hooks(spec, env, false, steps);
}

fn release(spec: &InstallSpec, env: &BuildEnv, steps: &mut Vec<Step>) {
    let local = &spec.local_path;
    let global = env.release_file();
    let mac = &spec.macro_name;
    steps.push(step(
        Phase::Release,
        Action::CreateIfMissing {
            file: global.clone(),
            text: global_release(&env.epics_root),
        },
    ));
    steps.push(step(
        Phase::Release,
        Action::LineInFile {
            file: local.join("configure/RELEASE"),
            regexp: Some(INCLUDE_LOCAL_RE.into()),
            line: INCLUDE_LOCAL.into(),
            insert: Insert::Eof,
        },
    ));
    steps.push(step(
        Phase::Release,
        Action::Symlink {
            target: global.clone(),
            link: local.join("configure/RELEASE.local"),
        },
    ));
    steps.push(step(
        Phase::Release,
        Action::LineInFile {
            file: global.clone(),
            regexp: Some(format!("^{} *=.*", regex::escape(mac))),
            line: format!("{mac} = {}", local.display()),
            insert: Insert::Eof,
        },
    ));
    for (k, v) in &spec.extra_release_macros {
        steps.push(step(
            Phase::Release,
            Action::LineInFile {
                file: global.clone(),
                regexp: Some(format!("^{} *=.*", regex::escape(k))),
                line: format!("{k}={v}"),
                insert: Insert::Eof,
            },
        ));
    }
    for name in &spec.remove_macros {
        steps.push(step(
            Phase::Release,
            Action::BlankMacro {
                file: global.clone(),
                name: name.clone(),
                module_macro: mac.clone(),
            },
        ));
    }
}

fn build(spec: &InstallSpec, env: &BuildEnv, steps: &mut Vec<Step>) {
    let local = &spec.local_path;
    steps.push(run(
        Phase::Build,
        CommandSpec::new("make", ["clean"]).in_dir(local),
    ));
    steps.push(run(
        Phase::Build,
        CommandSpec::new("make", spec.make_options.iter().cloned()).in_dir(local),
    ));
    if !env.skip_clean {
        steps.push(step(
            Phase::Build,
            Action::Run {
                command: CommandSpec::new("make", ["clean"]).in_dir(local),
                when: RunIf::Always,
                ignore_errors: true,
            },
        ));
    }
}

fn post_build(spec: &InstallSpec, env: &BuildEnv, steps: &mut Vec<Step>) {
    let mac = &spec.macro_name;
    let shell = env.release_shell_file();
    steps.push(step(
        Phase::PostBuild,
        Action::LineInFile {
            file: shell.clone(),
            regexp: Some(format!("export *{} *=.*$", regex::escape(mac))),
            line: format!("export {mac}=\"{}\"", spec.local_path.display()),
            insert: Insert::Eof,
        },
    ));
    steps.push(step(
        Phase::PostBuild,
        Action::DbIncludePath {
            file: shell,
            support: env.support(),
        },
    ));
    for (file, lines) in [
        (env.lib_list(), &spec.libs),
        (env.dbd_list(), &spec.dbds),
        (env.runtime_files_list(), &spec.runtime_files),
    ] {
        if !lines.is_empty() {
            steps.push(step(
                Phase::PostBuild,
                Action::RecordLines {
                    file,
                    lines: lines.clone(),
                },
            ));
        }
    }
    patches_and_hooks(spec, env, true, steps);
}

fn runtime(spec: &InstallSpec, env: &BuildEnv, steps: &mut Vec<Step>) {
    steps.push(step(
        Phase::Runtime,
        Action::MakeDirs {
            dirs: vec![
                env.ibek_defs(),
                env.pvi_defs(),
                env.autosave(),
                env.protocol(),
            ],
        },
    ));
    for (suffix, into) in [
        (".ibek.support.yaml", env.ibek_defs()),
        (".pvi.device.yaml", env.pvi_defs()),
        (".req", env.autosave()),
    ] {
        steps.push(step(
            Phase::Runtime,
            Action::LinkMatching {
                from: env.ibek_support_folder.clone(),
                suffix: suffix.into(),
                into,
            },
        ));
    }
    for p in &spec.protocol_files {
        steps.push(step(
            Phase::Runtime,
            Action::CopyInto {
                file: spec.local_path.join(p),
                dir: env.protocol(),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::install::parse_install;
    use crate::build::spec::resolve_install;
    use crate::source::SourceFile;
    use std::path::{Path, PathBuf};

    fn env() -> BuildEnv {
        let mut env = BuildEnv::new(Path::new("/e"), Path::new("/src/ibek-support/asyn"));
        env.vcpus = 4;
        env.apt_sentinel = PathBuf::from("/tmp/.apt_cache_updated");
        env
    }

    fn plan_for(text: &str, env: &BuildEnv) -> Vec<String> {
        let file = parse_install(&SourceFile::from_text("asyn.install.yml", text)).unwrap();
        let spec = resolve_install(&file, env, None).unwrap();
        plan(&spec, env).iter().map(ToString::to_string).collect()
    }

    const ASYN: &str = "module: asyn\nversion: R4-45\ndbds: [asyn.dbd, drvAsynIPPort.dbd]\nlibs: [asyn]\n\
        apt_developer: [libtirpc-dev]\napt_runtime: [libtirpc3]\n\
        patch_lines:\n  - path: \"{{ config_linux_host }}\"\n    regexp: TIRPC\n    line: TIRPC = YES\n\
        remove_macros: [SNCSEQ, IPAC]\n\
        comment_out:\n  - path: Makefile\n    regexp: test|iocBoot\n";

    #[test]
    fn asyn_plan_follows_the_role_order() {
        let lines = plan_for(ASYN, &env());
        let expected = [
            "system     DEBIAN_FRONTEND=noninteractive apt-get update  # once, unless /tmp/.apt_cache_updated exists",
            "system     DEBIAN_FRONTEND=noninteractive apt-get install -y libtirpc-dev",
            "system     record libtirpc3 in /e/support/configure/runtime_debs",
            "clone      git clone --depth 1 --branch R4-45 https://github.com/epics-modules/asyn /e/support/asyn  # unless /e/support/asyn exists",
            "pre-build  comment out lines matching /test|iocBoot/ in /e/support/asyn/Makefile",
            "pre-build  line `TIRPC = YES` in /e/support/asyn/configure/CONFIG_SITE.linux-x86_64.Common replacing /TIRPC/",
            "release    create /e/support/configure/RELEASE unless it exists",
            "release    line `-include $(TOP)/configure/RELEASE.local` in /e/support/asyn/configure/RELEASE replacing /include.*TOP./configure/RELEASE.local/",
            "release    ln -sfn /e/support/configure/RELEASE /e/support/asyn/configure/RELEASE.local",
            "release    line `ASYN = /e/support/asyn` in /e/support/configure/RELEASE replacing /^ASYN *=.*/",
            "release    blank `SNCSEQ =` in /e/support/configure/RELEASE unless set",
            "release    blank `IPAC =` in /e/support/configure/RELEASE unless set",
            "build      cd /e/support/asyn && make clean",
            "build      cd /e/support/asyn && make -j4",
            "build      cd /e/support/asyn && make clean  # errors ignored",
            "post-build line `export ASYN=\"/e/support/asyn\"` in /e/support/configure/RELEASE.shell replacing /export *ASYN *=.*$/",
            "post-build EPICS_DB_INCLUDE_PATH of /e/support/*/db in /e/support/configure/RELEASE.shell",
            "post-build record asyn in /e/support/configure/lib_list",
            "post-build record asyn.dbd drvAsynIPPort.dbd in /e/support/configure/dbd_list",
            "runtime    mkdir -p /e/ibek-defs /e/pvi-defs /e/autosave /e/support/configure/protocol",
            "runtime    link /src/ibek-support/asyn/*.ibek.support.yaml into /e/ibek-defs",
            "runtime    link /src/ibek-support/asyn/*.pvi.device.yaml into /e/pvi-defs",
            "runtime    link /src/ibek-support/asyn/*.req into /e/autosave",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn skip_apt_still_records_runtime_packages_and_skip_clean_drops_the_last_clean() {
        let mut e = env();
        e.skip_apt = true;
        e.skip_clean = true;
        let lines = plan_for(ASYN, &e);
        assert!(!lines.iter().any(|l| l.contains("apt-get")));
        assert!(lines.iter().any(|l| l.contains("record libtirpc3")));
        assert_eq!(lines.iter().filter(|l| l.contains("make clean")).count(), 1);
    }

    #[test]
    fn rtems_targets_skip_apt_and_set_valid_builds() {
        let mut e = env();
        e.target_arch = "RTEMS-beatnik".into();
        let lines = plan_for(ASYN, &e);
        assert!(!lines.iter().any(|l| l.starts_with("system")));
        assert!(lines.iter().any(|l| l.contains("line `VALID_BUILDS=Host`")));
    }

    #[test]
    fn commits_patches_and_submodules_get_a_full_clone() {
        let text = "module: m\nversion: 3d192ed\nrecursive: true\norganization: /git\n\
            patch_file:\n  path: m.patch\n  commit: 4226b12\n  when: true\n";
        let lines = plan_for(text, &env());
        assert_eq!(
            &lines[..5],
            [
                "clone      git clone --recurse-submodules /git/m /e/support/m  # unless /e/support/m exists",
                "clone      cd /e/support/m && git checkout --quiet 3d192ed  # after a fresh clone",
                "clone      cd /e/support/m && git submodule update --init --recursive  # after a fresh clone",
                "clone      cd /e/support/m && git checkout --quiet --force 4226b12  # after a fresh clone",
                "clone      cd /e/support/m && git apply /src/ibek-support/asyn/m.patch  # after a fresh clone",
            ]
        );
    }

    #[test]
    fn hooks_split_around_make_and_local_debs_ignore_errors() {
        let text = "module: m\nversion: v1\nmake_options: \"\"\n\
            apt_developer: [cmake, /tmp/x.deb]\n\
            download_extras:\n  - url: http://h/x.deb\n    dest: /tmp/x.deb\n\
            scripts:\n  - path: pre.sh\n  - path: post.sh\n    post_build: true\n\
            bash:\n  - cmd: rm -r snmpApp/srcDisplay\n  - cmd: sed -i x db/*.template\n    post_build: true\n\
            tasks:\n  - path: t.yml\n\
            patch_blocks:\n  - path: x\n    block: |\n      A=1\n    post_build: true\n\
            extra_release_macros:\n  AREA_DETECTOR: $(SUPPORT)\n\
            protocol_files: [mApp/protocol/m.proto]\n";
        let lines = plan_for(text, &env());
        let find = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no `{needle}` in {lines:#?}"))
        };
        assert!(find("curl -fsSL -o /tmp/x.deb http://h/x.deb") < find("apt-get install -y cmake"));
        assert!(lines[find("apt-get install -y /tmp/x.deb")].ends_with("# errors ignored"));
        assert!(lines[find("ansible tasks /src/ibek-support/asyn/t.yml")].starts_with("pre-build"));
        assert!(
            find("bash /src/ibek-support/asyn/pre.sh") < find("bash -c 'rm -r snmpApp/srcDisplay'")
        );
        assert!(find("bash -c 'rm -r snmpApp/srcDisplay'") < find("make clean"));
        assert!(lines.iter().any(|l| l.ends_with("cd /e/support/m && make")));
        assert!(
            find("block `# BEGIN ANSIBLE MANAGED BLOCK` (1 line) in /e/support/m/x")
                > find("make clean")
        );
        assert!(find("bash /src/ibek-support/asyn/post.sh") > find("make clean"));
        assert!(find("line `AREA_DETECTOR=$(SUPPORT)`") < find("make clean"));
        assert!(lines
            .last()
            .unwrap()
            .contains("cp /e/support/m/mApp/protocol/m.proto /e/support/configure/protocol/"));
    }

    #[test]
    fn is_commit_tells_shas_from_tags() {
        assert!(is_commit("3d192ed"));
        assert!(is_commit("fee9e5a240eb4209cd01e24cfc6d5273159a39de"));
        assert!(!is_commit("R4-45"));
        assert!(!is_commit("2.8.26"));
        assert!(!is_commit("pvxs"));
    }
}
