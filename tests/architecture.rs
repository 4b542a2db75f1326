//! The pipeline's shape holds: no library module imports from `cli/`, and the
//! top-level modules of `src/` import each other without a cycle. (Reading
//! the environment outside `cli/` and `layout.rs` is banned by clippy.toml.)

mod common;

use std::collections::{BTreeMap, BTreeSet};

/// Top-level module → the top-level modules its non-test code names as `crate::X`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = common::root().join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = entry.path().strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = fs_err::read_to_string(entry.path()).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let targets = edges.entry(top.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                targets.insert(name);
            }
        }
    }
    edges
}

fn reachable(edges: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for next in edges.get(&m).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn library_modules_never_import_the_cli() {
    let edges = imports();
    assert!(edges.contains_key("runtime") && edges.contains_key("cli"));
    let offenders: Vec<&String> = edges
        .iter()
        .filter(|(m, to)| *m != "cli" && *m != "main" && to.contains("cli"))
        .map(|(m, _)| m)
        .collect();
    assert!(offenders.is_empty(), "import from cli/: {offenders:?}");
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let edges = imports();
    let mut cycles = Vec::new();
    for (m, to) in &edges {
        for t in to {
            if reachable(&edges, t).contains(m) {
                cycles.push(format!("{m} -> {t}"));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:?}\n{edges:#?}");
}
