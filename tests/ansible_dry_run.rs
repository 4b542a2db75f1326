//! `iocforge support build MODULE --dry-run` over the ibek-support-style
//! modules of `tests/ansible/`: it succeeds for each, on linux and RTEMS,
//! changes nothing, and names every task of every task file (those a `when`
//! skips too), with its `file:line:col`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible")
}

/// The `name:` values of a task file, read line by line (independently of iocforge's parser).
fn task_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            let name = t.strip_prefix("name: ")?;
            Some(name.trim().trim_matches('"').to_string())
        })
        .collect()
}

#[test]
fn dry_run_names_every_task_of_every_module() {
    let dir = tempfile::tempdir().unwrap();
    let ibek_support = dir.path().join("ibek-support");
    let epics = dir.path().join("epics");
    let mut modules = 0;
    for entry in fs_err::read_dir(fixtures()).unwrap() {
        let folder = entry.unwrap().path();
        let module = folder.file_name().unwrap().to_string_lossy().to_string();
        let install = folder.join(format!("{module}.install.yml"));
        if !install.is_file() {
            continue;
        }
        modules += 1;
        let dest = ibek_support.join(&module);
        fs_err::create_dir_all(&dest).unwrap();
        let mut expected = Vec::new();
        for f in fs_err::read_dir(&folder).unwrap() {
            let p = f.unwrap().path();
            if p.is_file() {
                fs_err::copy(&p, dest.join(p.file_name().unwrap())).unwrap();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if name.ends_with(".yml") && !name.ends_with(".install.yml") {
                    let text = fs_err::read_to_string(&p).unwrap();
                    let count = text.lines().filter(|l| l.starts_with("- ")).count();
                    expected.push((name, task_names(&text), count));
                }
            }
        }
        for arch in ["linux-x86_64", "RTEMS-beatnik"] {
            let out = Command::new(env!("CARGO_BIN_EXE_iocforge"))
                .args(["support", "build", &module, "--dry-run"])
                .current_dir(&ibek_support)
                .env("EPICS_ROOT", &epics)
                .env("EPICS_TARGET_ARCH", arch)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{module} {arch}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            for (file, names, top_level) in &expected {
                assert!(
                    stdout.contains(&format!("ansible tasks {}", dest.join(file).display())),
                    "{module} {arch}: no step for {file}\n{stdout}"
                );
                for name in names {
                    // a templated name is listed rendered: check what precedes the template
                    let name = name.split("{{").next().unwrap_or_default();
                    assert!(
                        stdout.contains(&format!("`{name}")),
                        "{module} {arch}: task `{name}` of {file} is not listed\n{stdout}"
                    );
                }
                // distinct `file:line:col` places listed for this file
                let at = format!("({}:", dest.join(file).display());
                let listed = stdout
                    .lines()
                    .filter_map(|l| {
                        let from = l.find(&at)?;
                        let rest = &l[from..];
                        Some(rest[..rest.find(')')?].to_string())
                    })
                    .collect::<std::collections::HashSet<_>>()
                    .len();
                assert!(
                    listed >= *top_level,
                    "{module} {arch}: {listed} lines for the {top_level} tasks of {file}\n{stdout}"
                );
            }
        }
    }
    assert!(modules >= 6, "found {modules} fixture modules");
    assert!(!epics.exists(), "a dry run writes nothing");
}
