//! The build context: the files of a folder, less those `.dockerignore`
//! excludes, as the tar archive the Docker Engine API takes.
//!
//! `.dockerignore` is read and matched as the docker CLI does
//! (moby/patternmatcher and its `ignorefile` reader): patterns are cleaned
//! paths relative to the context root, `*` and `?` stop at `/`, `**` crosses
//! folders, a pattern that matches a folder excludes everything in it, `!`
//! re-includes, and the last matching pattern wins. Patterns become regular
//! expressions as patternmatcher makes them; gitignore crates differ (an
//! unanchored `foo` matches at any depth there, not here). Extra files, such
//! as the generated Dockerfile, are added to the archive whatever the
//! patterns say, as the CLI always sends the Dockerfile.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use regex::Regex;

/// A context that could not be read or archived.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// A `.dockerignore` line is not a valid pattern.
    #[error("`{file}` line {line}: invalid pattern `{pattern}`")]
    BadPattern {
        /// The ignore file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The pattern as written.
        pattern: String,
    },
    /// A file or folder of the context cannot be read.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The archive cannot be written.
    #[error("cannot add `{name}` to the build context archive")]
    Archive {
        /// The entry.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// How one pattern matches (patternmatcher's match types).
#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Regex(Regex),
}

/// One `.dockerignore` pattern.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exclusion: bool,
    matcher: Matcher,
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(p) => path == p,
            Matcher::Prefix(p) => path.starts_with(p.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    // `**/foo` matches `foo`
                    || suffix.strip_prefix('/').is_some_and(|s| path == s)
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }
}

/// `filepath.Clean` for slash-separated paths.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// patternmatcher's `compile`: a pattern to a match type and regex.
fn compile(pattern: &str) -> Option<Matcher> {
    // kinds: 0 exact, 1 prefix, 2 suffix, 3 regex, as detected while scanning
    let mut kind = 0u8;
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        let first = i == 0;
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    if kind == 0 {
                        kind = 1;
                    } else {
                        re.push_str(".*");
                        kind = 3;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = 3;
                }
                if first {
                    kind = 2;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                kind = 3;
            }
            '?' => {
                re.push_str("[^/]");
                kind = 3;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    i += 1;
                    re.push('\\');
                    re.push(next);
                    kind = 3;
                } else {
                    re.push_str("\\\\");
                }
            }
            '[' | ']' => {
                re.push(ch);
                kind = 3;
            }
            _ => re.push(ch),
        }
    }
    Some(match kind {
        0 => Matcher::Exact(pattern.to_string()),
        1 => Matcher::Prefix(pattern[..pattern.len() - 2].to_string()),
        2 => Matcher::Suffix(pattern[2..].to_string()),
        _ => {
            re.push('$');
            Matcher::Regex(Regex::new(&re).ok()?)
        }
    })
}

/// The patterns of a `.dockerignore` file.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

impl DockerIgnore {
    /// Reads `.dockerignore` text as the docker CLI does: a BOM and `#`
    /// comment lines dropped, whitespace trimmed, paths cleaned, a leading
    /// `/` removed.
    pub fn parse(text: &str, file: &Path) -> Result<DockerIgnore, ContextError> {
        let mut patterns = Vec::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (n, raw) in text.lines().enumerate() {
            if raw.starts_with('#') {
                continue;
            }
            let mut p = raw.trim();
            if p.is_empty() {
                continue;
            }
            let exclusion = p.starts_with('!');
            if exclusion {
                p = p[1..].trim();
            }
            let bad = || ContextError::BadPattern {
                file: file.to_path_buf(),
                line: n + 1,
                pattern: raw.trim().to_string(),
            };
            if p.is_empty() {
                return Err(bad());
            }
            let mut cleaned = clean(p);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            let matcher = compile(&cleaned).ok_or_else(bad)?;
            patterns.push(Pattern {
                text: cleaned,
                exclusion,
                matcher,
            });
        }
        Ok(DockerIgnore { patterns })
    }

    /// Reads `ROOT/.dockerignore`; none is an empty set.
    pub fn load(root: &Path) -> Result<DockerIgnore, ContextError> {
        let file = root.join(".dockerignore");
        match fs_err::read_to_string(&file) {
            Ok(text) => DockerIgnore::parse(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerIgnore::default()),
            Err(source) => Err(ContextError::Read { path: file, source }),
        }
    }

    /// Whether the slash-separated context path is excluded
    /// (`MatchesOrParentMatches`: a pattern matching one of its parent
    /// folders matches it too; the last pattern that matches decides).
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let parents: Vec<&str> = match path.rfind('/') {
            Some(i) => path[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.matches(&path);
            if !hit {
                hit = (1..=parents.len()).any(|n| p.matches(&parents[..n].join("/")));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether an excluded folder must still be walked because an exception
    /// (`!pattern`) may re-include something inside it.
    fn may_reinclude_under(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exclusion && format!("{}/", p.text).starts_with(&prefix))
    }
}

/// A file, folder or link of the context, with its archive name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEntry {
    /// The slash-separated name in the archive.
    pub name: String,
    /// The path on disk.
    pub path: PathBuf,
}

/// The entries of the context under `root` that `ignore` keeps, in walk
/// order (sorted by name, folders before their contents).
pub fn context_entries(
    root: &Path,
    ignore: &DockerIgnore,
) -> Result<Vec<ContextEntry>, ContextError> {
    let mut out = Vec::new();
    let mut walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| ContextError::Read {
            path: e.path().unwrap_or(root).to_path_buf(),
            source: e.into(),
        })?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir yields paths under its root");
        let name = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        let is_dir = entry.file_type().is_dir();
        if ignore.excludes(&name) {
            if is_dir && !ignore.may_reinclude_under(&name) {
                walk.skip_current_dir();
            }
            continue;
        }
        out.push(ContextEntry {
            name,
            path: entry.into_path(),
        });
    }
    Ok(out)
}

/// Writes the archive: the context entries, then the extra files (name,
/// contents), which replace entries of the same name.
pub fn write_context_tar<W: Write>(
    out: W,
    entries: &[ContextEntry],
    extra: &[(String, Vec<u8>)],
) -> Result<W, ContextError> {
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    tar.mode(tar::HeaderMode::Deterministic);
    for e in entries {
        if extra.iter().any(|(n, _)| *n == e.name) {
            continue;
        }
        tar.append_path_with_name(&e.path, &e.name)
            .map_err(|source| ContextError::Archive {
                name: e.name.clone(),
                source,
            })?;
    }
    for (name, data) in extra {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mtime(0);
        tar.append_data(&mut header, name, data.as_slice())
            .map_err(|source| ContextError::Archive {
                name: name.clone(),
                source,
            })?;
    }
    tar.into_inner().map_err(|source| ContextError::Archive {
        name: "(end of archive)".into(),
        source,
    })
}

/// The archive of a context folder plus extra files, in memory.
pub fn context_tar(root: &Path, extra: &[(String, Vec<u8>)]) -> Result<Vec<u8>, ContextError> {
    let ignore = DockerIgnore::load(root)?;
    let entries = context_entries(root, &ignore)?;
    write_context_tar(Vec::new(), &entries, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text, Path::new(".dockerignore")).unwrap()
    }

    #[test]
    fn clean_follows_go_filepath_clean() {
        for (input, want) in [
            ("a/b/../c", "a/c"),
            ("./a//b/", "a/b"),
            ("/a/../..", "/"),
            ("../x", "../x"),
            ("", "."),
            ("a/..", "."),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    #[test]
    fn patterns_match_as_patternmatcher_does() {
        // cases of moby/patternmatcher's own tests
        let cases: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**/", "dir/file", true),
            ("**/*", "dir/file", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/dir2/file", true),
            ("**/file", "file", true),
            ("**/file", "dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def", true),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        ];
        for (pattern, path, want) in cases {
            let p = compile(&clean(pattern)).unwrap();
            let pat = Pattern {
                text: (*pattern).into(),
                exclusion: false,
                matcher: p,
            };
            assert_eq!(pat.matches(path), *want, "{pattern} vs {path}");
        }
    }

    #[test]
    fn parent_folders_exceptions_and_last_match() {
        let ig = ignore(
            "\u{feff}# comment\n\n  target  \n/docs/*.md\n!docs/README.md\n*.log\n!keep.log\n**/.git\n",
        );
        assert!(ig.excludes("target"));
        assert!(ig.excludes("target/release/iocforge"));
        assert!(ig.excludes("docs/guide.md"));
        assert!(!ig.excludes("docs/README.md"));
        assert!(!ig.excludes("docs/sub/guide.md"));
        assert!(ig.excludes("build.log"));
        assert!(!ig.excludes("keep.log"));
        // `*.log` is anchored at the root, as in docker (not gitignore)
        assert!(!ig.excludes("sub/build.log"));
        assert!(ig.excludes("repos/counter/.git/HEAD"));
        assert!(!ig.excludes("# comment"));
    }

    #[test]
    fn a_lone_exclamation_mark_is_an_error() {
        let err = DockerIgnore::parse("ok\n!\n", Path::new(".dockerignore")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`.dockerignore` line 2: invalid pattern `!`"
        );
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "ioc.manifest.yaml",
            "iocforge",
            "target/debug/big",
            "ibek-support/counter/counter.install.yml",
            "ibek-support/counter/notes.tmp",
            "docs/a.md",
            "docs/keep/README.md",
        ] {
            let p = dir.path().join(f);
            fs_err::create_dir_all(p.parent().unwrap()).unwrap();
            fs_err::write(&p, f).unwrap();
        }
        std::os::unix::fs::symlink("counter", dir.path().join("ibek-support/link")).unwrap();
        fs_err::write(
            dir.path().join(".dockerignore"),
            "target\n**/*.tmp\ndocs\n!docs/keep/README.md\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn entries_honour_dockerignore_and_walk_into_reincluded_folders() {
        let dir = tree();
        let ig = DockerIgnore::load(dir.path()).unwrap();
        let names: Vec<String> = context_entries(dir.path(), &ig)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            names,
            [
                ".dockerignore",
                "docs/keep/README.md",
                "ibek-support",
                "ibek-support/counter",
                "ibek-support/counter/counter.install.yml",
                "ibek-support/link",
                "ioc.manifest.yaml",
                "iocforge",
            ]
        );
    }

    #[test]
    fn archive_holds_entries_links_and_extra_files() {
        let dir = tree();
        let data = context_tar(
            dir.path(),
            &[("Dockerfile.iocforge".into(), b"FROM scratch\n".to_vec())],
        )
        .unwrap();
        let mut archive = tar::Archive::new(data.as_slice());
        let mut seen = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            if name == "ibek-support/link" {
                assert_eq!(e.header().entry_type(), tar::EntryType::Symlink);
                assert_eq!(e.link_name().unwrap().unwrap().to_string_lossy(), "counter");
            }
            if name == "Dockerfile.iocforge" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut e, &mut text).unwrap();
                assert_eq!(text, "FROM scratch\n");
            }
            seen.push(name.trim_end_matches('/').to_string());
        }
        assert!(seen.contains(&"ibek-support/counter/counter.install.yml".to_string()));
        assert!(!seen.iter().any(|n| n.starts_with("target")));
        assert_eq!(seen.last().unwrap(), "Dockerfile.iocforge");
    }
}
