//! `services changed` against real Helm renderings over a history of edits.
//!
//! The test builds a services repository of its own (tests/services/repo,
//! with the real layout's symlinks into `.helm-shared/`), commits a series
//! of edits of every kind the issue names, then for every commit pair
//! compares `iocforge services changed` with what Helm (helm-python-sdk,
//! Helm v4 as a shared library, driven by tests/services/render.py) renders
//! for each service with the layered values. Dependencies are resolved from
//! tests/services/charts/NAME-VERSION, the stand-in for the chart registry.
#![allow(clippy::print_stderr)]
// the edit table reads better as one-expression closures
#![allow(clippy::semicolon_if_nothing_returned)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    common::root().join("tests/services")
}

/// The Python of the helm-python-sdk venv that `.ci/setup` installs.
fn helm_python() -> PathBuf {
    let p = common::tools().join("helm/bin/python");
    assert!(
        p.exists(),
        "helm-python-sdk venv not found at {}: run `.ci/setup` first",
        p.display()
    );
    p
}

struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        fs_err::write(p, text).unwrap();
    }

    fn append(&self, rel: &str, text: &str) {
        let old = fs_err::read_to_string(self.path(rel)).unwrap();
        self.write(rel, &format!("{old}{text}"));
    }

    fn replace(&self, rel: &str, from: &str, to: &str) {
        let old = fs_err::read_to_string(self.path(rel)).unwrap();
        assert!(old.contains(from), "`{from}` not in {rel}:\n{old}");
        self.write(rel, &old.replacen(from, to, 1));
    }

    fn link(&self, target: &str, rel: &str) {
        let p = self.path(rel);
        let _ = fs_err::remove_file(&p);
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    fn remove(&self, rel: &str) {
        self.git(&["rm", "-rq", rel]);
    }

    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// An IOC service linked to the shared chart and templates.
    fn ioc(&self, name: &str, templates: &str) {
        self.write(
            &format!("services/{name}/values.yaml"),
            &format!("ioc-instance:\n  image: ghcr.io/example/ioc-{name}:1.0\n"),
        );
        self.write(
            &format!("services/{name}/config/ioc.yaml"),
            &format!("ioc_name: {name}\ndescription: {name}\nentities: []\n"),
        );
        self.link(
            "../../.helm-shared/Chart.yaml",
            &format!("services/{name}/Chart.yaml"),
        );
        self.link(
            &format!("../../.helm-shared/{templates}"),
            &format!("services/{name}/templates"),
        );
    }
}

/// The fixture repository with its symlinks, committed once.
fn new_repo(dir: &Path) -> Repo {
    common::copy_dir(&fixtures().join("repo"), dir);
    let repo = Repo {
        dir: dir.to_path_buf(),
    };
    repo.git(&["init", "-q", "-b", "main"]);
    for i in ["01", "02", "03", "04", "05", "06"] {
        repo.link(
            "../../.helm-shared/Chart.yaml",
            &format!("services/ioc-{i}/Chart.yaml"),
        );
        let templates = if i == "05" || i == "06" {
            "templates-extra"
        } else {
            "templates"
        };
        repo.link(
            &format!("../../.helm-shared/{templates}"),
            &format!("services/ioc-{i}/templates"),
        );
    }
    repo.link(
        "../../.helm-shared/LegacyChart.yaml",
        "services/legacy-01/Chart.yaml",
    );
    repo
}

type Edit = Box<dyn Fn(&Repo)>;

/// The history: (what, whether nothing deployed may change, the edit).
// a flat table of the history's 41 edits, read top to bottom like a git log
#[allow(clippy::too_many_lines)]
fn edits() -> Vec<(&'static str, bool, Edit)> {
    let v = "services/values.yaml";
    vec![
        (
            "ioc-01 image tag",
            false,
            Box::new(|r: &Repo| r.replace("services/ioc-01/values.yaml", "1.0.01", "1.1.0")),
        ),
        (
            "ioc-01 values comment",
            true,
            Box::new(|r: &Repo| r.append("services/ioc-01/values.yaml", "# pinned for the run\n")),
        ),
        (
            "ioc-02 values reformatted",
            true,
            Box::new(|r: &Repo| {
                r.write(
                    "services/ioc-02/values.yaml",
                    "{\"ioc-instance\": {image: 'ghcr.io/example/ioc-generic-02:1.0.02'}}\n",
                )
            }),
        ),
        (
            "ioc-02 config value",
            false,
            Box::new(|r: &Repo| {
                r.replace(
                    "services/ioc-02/config/ioc.yaml",
                    "test IOC 02",
                    "test IOC two",
                )
            }),
        ),
        (
            "ioc-03 config comment (the ConfigMap carries it)",
            false,
            Box::new(|r: &Repo| r.append("services/ioc-03/config/ioc.yaml", "# checked\n")),
        ),
        (
            "ioc-03 new config file",
            false,
            Box::new(|r: &Repo| {
                r.write("services/ioc-03/config/extra.db", "record(ai, \"X\") {}\n")
            }),
        ),
        (
            "shared volume path",
            false,
            Box::new(move |r: &Repo| {
                r.replace(v, "path: /exports/data", "path: /exports/beamline")
            }),
        ),
        (
            "shared values comments and layout",
            true,
            Box::new(move |r: &Repo| {
                r.replace(
                    v,
                    "# shared values for all services\n",
                    "# shared values\n# for every service\n",
                );
                r.replace(
                    v,
                    "global:\n  domain: t01\n  location: bl01t\n",
                    "global: {location: bl01t, domain: \"t01\"}\n",
                );
            }),
        ),
        (
            "shared dev-c7 image",
            false,
            Box::new(move |r: &Repo| {
                r.replace(
                    v,
                    "dev-c7:\n  <<: *shared\n",
                    "dev-c7:\n  <<: *shared\n  image: dev-c7:2.0\n",
                )
            }),
        ),
        (
            "shared global domain",
            false,
            Box::new(move |r: &Repo| r.replace(v, "domain: \"t01\"", "domain: \"t02\"")),
        ),
        (
            "shared monitor replicas",
            false,
            Box::new(move |r: &Repo| {
                r.replace(v, "monitor:\n  replicas: 1", "monitor:\n  replicas: 2")
            }),
        ),
        (
            "shared anchor content",
            false,
            Box::new(move |r: &Repo| r.replace(v, "hostNetwork: true", "hostNetwork: false")),
        ),
        (
            "shared key nobody reads",
            true,
            Box::new(move |r: &Repo| r.append(v, "newchart:\n  enabled: true\n")),
        ),
        (
            "shared template through symlinks",
            false,
            Box::new(|r: &Repo| {
                r.append(".helm-shared/templates/ioc_instance.yaml", "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-owner\ndata:\n  owner: controls\n")
            }),
        ),
        (
            "second shared template folder",
            false,
            Box::new(|r: &Repo| {
                r.replace(".helm-shared/templates-extra/service.yaml", "5064", "5065")
            }),
        ),
        (
            "ioc-instance 1.0.0 -> 1.1.0",
            false,
            Box::new(|r: &Repo| {
                r.replace(
                    ".helm-shared/Chart.yaml",
                    "version: 1.0.0\n    repository",
                    "version: 1.1.0\n    repository",
                )
            }),
        ),
        (
            "dev-c7 1.0.0 -> 1.0.1 (same templates)",
            false,
            Box::new(|r: &Repo| {
                r.replace(
                    ".helm-shared/LegacyChart.yaml",
                    "version: 1.0.0\n    repository",
                    "version: 1.0.1\n    repository",
                )
            }),
        ),
        (
            "add ioc-07",
            false,
            Box::new(|r: &Repo| r.ioc("ioc-07", "templates")),
        ),
        (
            "remove ioc-04",
            false,
            Box::new(|r: &Repo| r.remove("services/ioc-04")),
        ),
        (
            "rename ioc-03 to ioc-03b",
            false,
            Box::new(|r: &Repo| {
                r.git(&["mv", "services/ioc-03", "services/ioc-03b"])
                    .truncate(0)
            }),
        ),
        (
            "monitor template",
            false,
            Box::new(|r: &Repo| {
                r.replace(
                    "services/monitor/templates/deployment.yaml",
                    "  labels:\n",
                    "  labels:\n    team: controls\n",
                )
            }),
        ),
        (
            "monitor values comment",
            true,
            Box::new(|r: &Repo| r.append("services/monitor/values.yaml", "# reviewed\n")),
        ),
        (
            "monitor README (in the chart, not rendered)",
            false,
            Box::new(|r: &Repo| r.append("services/monitor/README.md", "\nMore words.\n")),
        ),
        (
            "ioc-05 image",
            false,
            Box::new(|r: &Repo| r.replace("services/ioc-05/values.yaml", "1.0.05", "2.0.0")),
        ),
        (
            "ioc-06 values quoted and commented",
            true,
            Box::new(|r: &Repo| {
                r.write("services/ioc-06/values.yaml", "ioc-instance:\n    image: \"ghcr.io/example/ioc-generic-06:1.0.06\"   # pinned\n")
            }),
        ),
        (
            "ioc-01 hostNetwork override",
            false,
            Box::new(|r: &Repo| r.append("services/ioc-01/values.yaml", "  hostNetwork: true\n")),
        ),
        (
            "ioc-02 links its own chart (ioc-instance 1.0.0)",
            false,
            Box::new(|r: &Repo| {
                let shared = fs_err::read_to_string(r.path(".helm-shared/Chart.yaml")).unwrap();
                r.write(
                    ".helm-shared/Chart-1.0.yaml",
                    &shared.replace(
                        "version: 1.1.0\n    repository",
                        "version: 1.0.0\n    repository",
                    ),
                );
                r.link(
                    "../../.helm-shared/Chart-1.0.yaml",
                    "services/ioc-02/Chart.yaml",
                );
            }),
        ),
        (
            "ioc-05 config and ioc-06 image",
            false,
            Box::new(|r: &Repo| {
                r.append(
                    "services/ioc-05/config/ioc.yaml",
                    "  - type: epics.EpicsCaMaxArrayBytes\n",
                );
                r.replace("services/ioc-06/values.yaml", "1.0.06", "1.0.7");
            }),
        ),
        (
            "ioc-07 config file replaced",
            false,
            Box::new(|r: &Repo| {
                r.remove("services/ioc-07/config/ioc.yaml");
                r.write(
                    "services/ioc-07/config/st.cmd",
                    "dbLoadDatabase dbd/ioc.dbd\niocInit\n",
                );
            }),
        ),
        (
            "legacy-01 values reformatted",
            true,
            Box::new(|r: &Repo| {
                r.write(
                    "services/legacy-01/values.yaml",
                    "dev-c7: {workingDir: \"/dls_sw/prod/ioc/BL01T-EA-IOC-01\"}\n",
                )
            }),
        ),
        (
            "legacy-01 workingDir",
            false,
            Box::new(|r: &Repo| r.replace("services/legacy-01/values.yaml", "IOC-01", "IOC-02")),
        ),
        (
            "shared ioc-instance replicas",
            false,
            Box::new(move |r: &Repo| {
                r.replace(
                    v,
                    "ioc-instance:\n  <<: *shared\n",
                    "ioc-instance:\n  <<: *shared\n  replicas: 2\n",
                )
            }),
        ),
        (
            "ioc-01 templates retargeted",
            false,
            Box::new(|r: &Repo| {
                r.link(
                    "../../.helm-shared/templates-extra",
                    "services/ioc-01/templates",
                )
            }),
        ),
        (
            "shared Chart.yaml comment",
            true,
            Box::new(|r: &Repo| {
                r.replace(
                    ".helm-shared/Chart.yaml",
                    "type: application\n",
                    "type: application\n# the library chart below does the work\n",
                )
            }),
        ),
        (
            "shared global location (only IOC charts read it)",
            false,
            Box::new(move |r: &Repo| r.replace(v, "location: bl01t", "location: bl01x")),
        ),
        (
            "add an other-chart service",
            false,
            Box::new(|r: &Repo| {
                r.write(
                    "services/proxy/Chart.yaml",
                    "apiVersion: v2\nname: proxy\nversion: 0.1.0\n",
                );
                r.write("services/proxy/values.yaml", "image: alpine/socat:1.7\n");
                r.write("services/proxy/templates/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n    - name: socat\n      image: {{ .Values.image }}\n");
            }),
        ),
        (
            "remove monitor",
            false,
            Box::new(|r: &Repo| r.remove("services/monitor")),
        ),
        (
            "rename ioc-07 to ioc-08 with an edit",
            false,
            Box::new(|r: &Repo| {
                r.git(&["mv", "services/ioc-07", "services/ioc-08"]);
                r.replace("services/ioc-08/values.yaml", ":1.0", ":1.1");
            }),
        ),
        (
            "files outside services, a template folder",
            true,
            Box::new(|r: &Repo| {
                r.write("README.md", "# t01-services\n");
                r.write(".gitignore", "charts/\n");
                r.write(
                    "services/.ioc_template/values.yaml",
                    "ioc-instance:\n  image: x\n",
                );
                r.link(
                    "../../.helm-shared/Chart.yaml",
                    "services/.ioc_template/Chart.yaml",
                );
            }),
        ),
        (
            "proxy image",
            false,
            Box::new(|r: &Repo| r.replace("services/proxy/values.yaml", "1.7", "1.8")),
        ),
    ]
}

fn run_iocforge(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(common::iocforge())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `services changed` as (name -> (status, reasons)).
fn changed(
    repo: &Repo,
    since: &str,
    until: Option<&str>,
) -> BTreeMap<String, (String, Vec<String>)> {
    let dir = repo.dir.to_string_lossy().into_owned();
    let mut args = vec![
        "services", "changed", &dir, "--since", since, "--format", "json",
    ];
    if let Some(u) = until {
        args.extend(["--until", u]);
    }
    let (code, stdout, stderr) = run_iocforge(&args);
    assert_eq!(code, 0, "services changed failed: {stderr}");
    let items: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    items
        .into_iter()
        .map(|i| {
            let reasons = i["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            (
                i["name"].as_str().unwrap().to_string(),
                (i["status"].as_str().unwrap().to_string(), reasons),
            )
        })
        .collect()
}

/// Helm's renderings of every service at every commit: commit -> service -> manifests.
fn render_all(
    repo: &Repo,
    commits: &[String],
    scratch: &Path,
) -> BTreeMap<String, BTreeMap<String, Value>> {
    let mut trees = Vec::new();
    for (i, c) in commits.iter().enumerate() {
        let tree = scratch.join(format!("c{i:02}"));
        repo.git(&[
            "worktree",
            "add",
            "-q",
            "--detach",
            &tree.to_string_lossy(),
            c,
        ]);
        trees.push(tree);
    }
    let out = Command::new(helm_python())
        .arg(fixtures().join("render.py"))
        .arg(fixtures().join("charts"))
        .args(&trees)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: BTreeMap<String, BTreeMap<String, Value>> =
        serde_json::from_slice(&out.stdout).unwrap();
    let mut by_commit = BTreeMap::new();
    for (tree, c) in trees.iter().zip(commits) {
        let services = all[&tree.to_string_lossy().into_owned()].clone();
        for (name, manifests) in &services {
            assert!(
                manifests.get("error").is_none(),
                "helm cannot render {name} at {c}: {}",
                manifests["error"]
            );
        }
        by_commit.insert(c.clone(), services);
    }
    by_commit
}

fn version_only(reasons: &[String]) -> bool {
    !reasons.is_empty()
        && reasons
            .iter()
            .all(|r| r.starts_with("dependency `") && r.contains(" version "))
}

#[test]
// one scenario: build the history, render every pair with Helm, compare, report
#[allow(clippy::too_many_lines)]
fn changed_matches_helm_renderings_over_commit_pairs() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = new_repo(&tmp.path().join("repo"));
    let mut commits = vec![repo.commit("initial services")];
    let mut quiet = BTreeSet::new();
    let mut what = vec!["initial"];
    for (desc, is_quiet, edit) in edits() {
        edit(&repo);
        commits.push(repo.commit(desc));
        if is_quiet {
            quiet.insert(commits.len() - 1);
        }
        what.push(desc);
    }
    let scratch = tmp.path().join("trees");
    fs_err::create_dir_all(&scratch).unwrap();
    let rendered = render_all(&repo, &commits, &scratch);

    let mut pairs: Vec<(usize, usize)> = (1..commits.len()).map(|i| (i - 1, i)).collect();
    pairs.extend((0..commits.len() - 4).step_by(3).map(|i| (i, i + 4)));
    pairs.push((0, commits.len() - 1));
    assert!(pairs.len() >= 40, "only {} commit pairs", pairs.len());

    let (mut truly, mut reported, mut over, mut excused) = (0usize, 0usize, 0usize, 0usize);
    let (mut diff_missed, mut diff_over) = (0usize, 0usize);
    let mut problems = Vec::new();
    for &(a, b) in &pairs {
        let label = format!("{} .. {} ({})", a, b, what[b]);
        let (ra, rb) = (&rendered[&commits[a]], &rendered[&commits[b]]);
        let mut truth = BTreeMap::new();
        for name in ra.keys().chain(rb.keys()) {
            let status = match (ra.get(name), rb.get(name)) {
                (Some(x), Some(y)) if x != y => "changed",
                (Some(_), None) => "removed",
                (None, Some(_)) => "added",
                _ => continue,
            };
            truth.insert(name.clone(), status);
        }
        let got = changed(&repo, &commits[a], Some(&commits[b]));
        if b == a + 1 && quiet.contains(&b) && !got.is_empty() {
            problems.push(format!("{label}: a layout-only edit reported {got:?}"));
        }
        for (name, status) in &truth {
            match got.get(name) {
                Some((s, _)) if s == status => {}
                other => problems.push(format!(
                    "{label}: `{name}` is {status} in Helm's renderings, iocforge says {other:?}"
                )),
            }
        }
        for (name, (status, reasons)) in &got {
            assert!(
                !reasons.is_empty(),
                "{label}: `{name}` reported without reasons"
            );
            if truth.contains_key(name) {
                continue;
            }
            if status != "changed" {
                problems.push(format!(
                    "{label}: `{name}` reported {status} but exists on both sides"
                ));
            } else if version_only(reasons) {
                excused += 1;
            } else {
                over += 1;
                eprintln!("over-report {label}: `{name}` {reasons:?}");
            }
        }
        // today's services CI: `git diff --name-only` under services/, minus the shared values
        let diff = repo.git(&[
            "diff",
            "--name-only",
            &commits[a],
            &commits[b],
            "--",
            "services/",
        ]);
        let picked: BTreeSet<&str> = diff
            .lines()
            .filter(|l| *l != "services/values.yaml")
            .filter_map(|l| l.split('/').nth(1))
            .collect();
        diff_missed += truth
            .keys()
            .filter(|n| !picked.contains(n.as_str()))
            .count();
        diff_over += picked.iter().filter(|n| !truth.contains_key(**n)).count();
        truly += truth.len();
        reported += got.len();
    }
    eprintln!(
        "{} commit pairs: {truly} service changes in Helm's renderings, {reported} reported, \
         {over} over-reported, {excused} dependency-version-only; \
         `git diff` as services CI uses it: {diff_missed} missed, {diff_over} over-reported",
        pairs.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        truly >= 60,
        "the history should change many services, got {truly}"
    );
    assert!(
        over * 10 <= truly,
        "over-reported {over} of {truly} (more than 10%)"
    );
    assert!(
        diff_missed > 0,
        "the history should hold changes that `git diff` does not attribute"
    );
    assert!(
        excused >= 1,
        "the dev-c7 1.0.1 bump should be reported as version-only"
    );

    // the work tree: an edit, an untracked file, and an ignored `charts/` leftover
    repo.append("services/ioc-05/config/ioc.yaml", "# local edit\n");
    repo.write("services/ioc-02/config/new.db", "record(bo, \"Y\") {}\n");
    repo.write(
        "services/ioc-06/charts/ioc-instance-1.1.0.tgz",
        "not a chart",
    );
    let got = changed(&repo, "HEAD", None);
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(names, ["ioc-02", "ioc-05"], "{got:?}");
    assert_eq!(got["ioc-02"].1, ["config/new.db added"]);
}

#[test]
fn dependency_version_bump_is_reported_with_that_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = new_repo(&tmp.path().join("repo"));
    let first = repo.commit("initial");
    repo.replace(
        ".helm-shared/LegacyChart.yaml",
        "version: 1.0.0\n    repository",
        "version: 1.0.1\n    repository",
    );
    let got = changed(&repo, &first, None);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got["legacy-01"],
        (
            "changed".to_string(),
            vec!["dependency `dev-c7` version 1.0.0 → 1.0.1".to_string()]
        )
    );
}

#[test]
fn list_names_kinds_images_and_versions_and_digests_do_not_depend_on_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let a = new_repo(&tmp.path().join("a"));
    let b = new_repo(&tmp.path().join("elsewhere/b"));
    let list = |r: &Repo| {
        let (code, stdout, stderr) = run_iocforge(&[
            "services",
            "list",
            &r.dir.to_string_lossy(),
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str::<Vec<Value>>(&stdout).unwrap()
    };
    let (la, lb) = (list(&a), list(&b));
    assert_eq!(
        la, lb,
        "the listing (digests included) depends on where the repository is"
    );
    let by_name: BTreeMap<&str, &Value> = la
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s))
        .collect();
    let names: Vec<&str> = by_name.keys().copied().collect();
    assert_eq!(
        names,
        [
            "ioc-01",
            "ioc-02",
            "ioc-03",
            "ioc-04",
            "ioc-05",
            "ioc-06",
            "legacy-01",
            "monitor"
        ]
    );
    let ioc = by_name["ioc-01"];
    assert_eq!(ioc["kind"], "ioc-instance");
    assert_eq!(ioc["image"], "ghcr.io/example/ioc-generic-01:1.0.01");
    assert_eq!(ioc["chart"]["name"], "ec-service");
    assert_eq!(ioc["dependencies"][0]["name"], "ioc-instance");
    assert_eq!(ioc["dependencies"][0]["version"], "1.0.0");
    assert_eq!(by_name["legacy-01"]["kind"], "chart");
    assert_eq!(by_name["legacy-01"]["dependencies"][0]["version"], "1.0.0");
    assert_eq!(by_name["monitor"]["image"], "ghcr.io/example/monitor:2.0");
    assert_eq!(ioc["digest"].as_str().unwrap().len(), 64);
    assert_ne!(by_name["ioc-01"]["digest"], by_name["ioc-02"]["digest"]);
}

#[test]
fn bad_yaml_points_at_file_line_col_and_bad_revision_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = new_repo(&tmp.path().join("repo"));
    repo.commit("initial");
    repo.write(
        "services/ioc-03/values.yaml",
        "ioc-instance:\n  image: [unclosed\n",
    );
    let dir = repo.dir.to_string_lossy().into_owned();
    let (code, _, stderr) = run_iocforge(&["services", "list", &dir]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("services/ioc-03/values.yaml:3:"),
        "no file:line:col in {stderr}"
    );
    // history may hold such files (conflict markers were committed in a real
    // repository): `changed` warns, and counts the file by its bytes
    let (code, stdout, stderr) = run_iocforge(&[
        "services", "changed", &dir, "--since", "HEAD", "--format", "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("services/ioc-03/values.yaml:3:") && stderr.contains("warning"),
        "{stderr}"
    );
    let items: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(items.len(), 1, "{stdout}");
    assert_eq!(items[0]["name"], "ioc-03");
    let reasons = items[0]["reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r == "values.yaml"), "{stdout}");
    let (code, _, stderr) = run_iocforge(&["services", "changed", &dir, "--since", "no-such-tag"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`no-such-tag` names no commit"), "{stderr}");
    let sub = format!("{dir}/services");
    let (code, _, stderr) = run_iocforge(&["services", "changed", &sub, "--since", "HEAD"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pass the top of the work tree"), "{stderr}");
}

#[test]
fn packages_are_reproducible_and_render_like_the_layered_services() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = new_repo(&tmp.path().join("repo"));
    let elsewhere = new_repo(&tmp.path().join("other/place"));
    let charts = fixtures().join("charts");
    let package = |r: &Repo, out: &Path| {
        let (code, stdout, stderr) = run_iocforge(&[
            "services",
            "package",
            &r.dir.to_string_lossy(),
            "--version",
            "1.2.3",
            "--out",
            &out.to_string_lossy(),
            "--charts",
            &charts.to_string_lossy(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        stdout.lines().map(PathBuf::from).collect::<Vec<_>>()
    };
    let first = package(&repo, &tmp.path().join("out1"));
    let second = package(&repo, &tmp.path().join("out2"));
    let third = package(&elsewhere, &tmp.path().join("out3"));
    assert_eq!(first.len(), 8);
    for ((a, b), c) in first.iter().zip(&second).zip(&third) {
        let bytes = fs_err::read(a).unwrap();
        assert_eq!(
            bytes,
            fs_err::read(b).unwrap(),
            "{} differs between runs",
            a.display()
        );
        assert_eq!(
            bytes,
            fs_err::read(c).unwrap(),
            "{} depends on the path",
            a.display()
        );
    }

    // Helm renders each archive alone exactly as the layered service
    let commit = repo.commit("initial");
    let rendered = render_all(
        &repo,
        std::slice::from_ref(&commit),
        &tmp.path().join("trees"),
    );
    let pairs: Vec<String> = first
        .iter()
        .map(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            let release = file.strip_suffix("-1.2.3.tgz").unwrap().to_string();
            format!("{release}={}", p.display())
        })
        .collect();
    let out = Command::new(helm_python())
        .arg(fixtures().join("render.py"))
        .arg("--archives")
        .args(&pairs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archives: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    for pair in &pairs {
        let (release, archive) = pair.split_once('=').unwrap();
        let from_archive = &archives[archive];
        assert!(
            from_archive.get("error").is_none(),
            "{release}: {from_archive}"
        );
        // template paths carry the chart name, which the package renames: compare the manifests
        let texts = |v: &Value| {
            let mut t: Vec<String> = v
                .as_object()
                .unwrap()
                .values()
                .map(|m| m.as_str().unwrap().to_string())
                .collect();
            t.sort();
            t
        };
        assert_eq!(
            texts(from_archive),
            texts(&rendered[&commit][release]),
            "{release}: the packaged chart renders differently"
        );
    }
}
