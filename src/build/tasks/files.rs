//! The file-system modules of a task file: `file`, `lineinfile`, `copy`,
//! `get_url` and `unarchive`, in process, with Ansible's rules.
//!
//! Each function takes rendered arguments and returns whether it changed
//! anything, or the message Ansible's module would fail with. The rules
//! followed are those the differential test (`tests/ansible_differential.rs`)
//! checks against ansible-core: new files get the umask's mode unless
//! `mode` is given, `directory` creates and modes every missing parent,
//! `link` refuses to replace a file without `force`, `lineinfile` needs
//! `create: true` for a missing file, `copy`/`get_url` keep an existing
//! destination when `force` is false.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::build::apt::Downloader;
use crate::build::command::{CommandSpec, ProcessRunner, Runner};
use crate::build::patch::{line_in_file, Insert};

/// The failure message of a module.
pub type Failed = String;

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> Failed {
    let what = what.to_string();
    let path = path.display().to_string();
    move |e| format!("cannot {what} `{path}`: {}", crate::source::io_reason(&e))
}

/// `mode: "0644"` as bits.
pub fn parse_mode(text: &str) -> Result<u32, Failed> {
    let digits = text.trim();
    let digits = digits.strip_prefix("0o").unwrap_or(digits);
    u32::from_str_radix(digits, 8)
        .ok()
        .filter(|m| *m <= 0o7777 && !digits.is_empty())
        .ok_or_else(|| format!("mode `{text}` is not an octal mode such as \"0644\""))
}

/// Sets the mode of `path` (not through a link) when it differs.
fn set_mode(path: &Path, mode: Option<u32>) -> Result<bool, Failed> {
    let Some(mode) = mode else {
        return Ok(false);
    };
    let meta = fs_err::symlink_metadata(path).map_err(|e| e.to_string())?;
    // Linux has no lchmod: Ansible leaves a link and its target as they are
    if meta.file_type().is_symlink() || meta.permissions().mode() & 0o7777 == mode {
        return Ok(false);
    }
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io("set the mode of", path))?;
    Ok(true)
}

/// Python's `glob.glob(pattern)` is not empty: what `creates` asks
/// (`creates: /usr/local/lib/libopen62541.so.*`). `*`, `?` and `[...]` match
/// within one path component, and not a leading `.`.
pub fn glob_matches(pattern: &str) -> bool {
    if !pattern.contains(['*', '?', '[']) {
        return fs_err::symlink_metadata(pattern).is_ok();
    }
    let absolute = pattern.starts_with('/');
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let start = if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    };
    matches_from(&start, &parts)
}

fn matches_from(dir: &Path, parts: &[&str]) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return true;
    };
    if !first.contains(['*', '?', '[']) {
        let next = dir.join(first);
        return fs_err::symlink_metadata(&next).is_ok() && matches_from(&next, rest);
    }
    let Some(re) = component_regex(first) else {
        return false;
    };
    let Ok(entries) = fs_err::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        (!name.starts_with('.') || first.starts_with('.'))
            && re.is_match(&name)
            && matches_from(&e.path(), rest)
    })
}

/// `fnmatch.translate` for one component.
fn component_regex(pattern: &str) -> Option<regex::Regex> {
    let mut re = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let mut class = String::new();
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == ']' && !class.is_empty() {
                        closed = true;
                        break;
                    }
                    class.push(d);
                }
                if closed {
                    let class = class
                        .strip_prefix('!')
                        .map_or(class.clone(), |c| format!("^{c}"));
                    re.push('[');
                    re.push_str(&class.replace('\\', "\\\\"));
                    re.push(']');
                } else {
                    re.push_str(&regex::escape(&format!("[{class}")));
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

/// `file: state=absent`: deletes a file, link or whole folder.
pub fn absent(path: &Path) -> Result<bool, Failed> {
    match fs_err::symlink_metadata(path) {
        Err(_) => Ok(false),
        Ok(m) if m.is_dir() => fs_err::remove_dir_all(path)
            .map(|()| true)
            .map_err(io("remove", path)),
        Ok(_) => fs_err::remove_file(path)
            .map(|()| true)
            .map_err(io("remove", path)),
    }
}

/// `file: state=directory`: creates each missing folder, giving each `mode`.
pub fn directory(path: &Path, mode: Option<u32>) -> Result<bool, Failed> {
    let mut missing = Vec::new();
    let mut cur = Some(path);
    while let Some(p) = cur {
        match fs_err::metadata(p) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(format!(
                    "`{}` already exists as a file, not a folder",
                    p.display()
                ))
            }
            Err(_) => missing.push(p.to_path_buf()),
        }
        cur = p.parent().filter(|p| !p.as_os_str().is_empty());
    }
    let mut changed = false;
    for dir in missing.iter().rev() {
        fs_err::create_dir(dir).map_err(io("create the folder", dir))?;
        set_mode(dir, mode)?;
        changed = true;
    }
    Ok(set_mode(path, mode)? || changed)
}

/// `file: state=touch`: creates an empty file if missing, then sets `mode`.
pub fn touch(path: &Path, mode: Option<u32>) -> Result<bool, Failed> {
    let existed = fs_err::symlink_metadata(path).is_ok();
    if existed {
        let f = fs_err::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io("touch", path))?;
        f.set_modified(std::time::SystemTime::now())
            .map_err(io("touch", path))?;
    } else {
        fs_err::write(path, "").map_err(io("create", path))?;
    }
    set_mode(path, mode)?;
    Ok(true)
}

/// `file:` without a state: the path must exist; sets `mode`.
pub fn existing(path: &Path, mode: Option<u32>) -> Result<bool, Failed> {
    if fs_err::symlink_metadata(path).is_err() {
        return Err(format!(
            "file (`{}`) is absent, cannot continue",
            path.display()
        ));
    }
    set_mode(path, mode)
}

/// `file: state=link`: makes `dest` a symlink to `src`. A `mode` goes to
/// the target when there is one: Ansible's `chmod` follows the link.
pub fn link(src: &str, dest: &Path, force: bool, mode: Option<u32>) -> Result<bool, Failed> {
    let made = make_link(src, dest, force)?;
    let mut changed = made;
    if let (Some(mode), Ok(meta)) = (mode, fs_err::metadata(dest)) {
        if meta.permissions().mode() & 0o7777 != mode {
            fs_err::set_permissions(dest, std::fs::Permissions::from_mode(mode))
                .map_err(io("set the mode of", dest))?;
            changed = true;
        }
    }
    Ok(changed)
}

fn make_link(src: &str, dest: &Path, force: bool) -> Result<bool, Failed> {
    let target = Path::new(src);
    let resolved = if target.is_absolute() {
        target.to_path_buf()
    } else {
        dest.parent().unwrap_or(Path::new(".")).join(target)
    };
    if !force && fs_err::symlink_metadata(&resolved).is_err() {
        return Err(format!(
            "src file `{}` does not exist, use \"force: true\" if you really want to create the link",
            resolved.display()
        ));
    }
    match fs_err::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => {
            if fs_err::read_link(dest).is_ok_and(|t| t == target) {
                return Ok(false);
            }
            fs_err::remove_file(dest).map_err(io("replace the link", dest))?;
        }
        Ok(m) if m.is_dir() => {
            let empty = fs_err::read_dir(dest).is_ok_and(|mut d| d.next().is_none());
            if !(force && empty) {
                return Err(format!(
                    "refusing to convert from directory to symlink for `{}`",
                    dest.display()
                ));
            }
            fs_err::remove_dir(dest).map_err(io("replace the folder", dest))?;
        }
        Ok(_) => {
            if !force {
                return Err(format!(
                    "refusing to convert from file to symlink for `{}`",
                    dest.display()
                ));
            }
            fs_err::remove_file(dest).map_err(io("replace the file", dest))?;
        }
        Err(_) => {}
    }
    fs_err::os::unix::fs::symlink(target, dest).map_err(io("make the link", dest))?;
    Ok(true)
}

/// `lineinfile` with `state: present`.
pub fn lineinfile(
    path: &Path,
    regexp: Option<&str>,
    line: &str,
    insert: &Insert,
    create: bool,
    mode: Option<u32>,
) -> Result<bool, Failed> {
    let old = if path.exists() {
        Some(fs_err::read_to_string(path).map_err(io("read", path))?)
    } else if create {
        None
    } else {
        return Err(format!("destination `{}` does not exist", path.display()));
    };
    let new = line_in_file(old.as_deref(), regexp, line, insert)
        .map_err(|e| format!("invalid regexp: {e}"))?;
    let mut changed = false;
    if old.as_deref() != Some(new.as_str()) {
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(io("create the folder", parent))?;
        }
        fs_err::write(path, &new).map_err(io("write", path))?;
        changed = true;
    }
    Ok(set_mode(path, mode)? || changed)
}

/// Where a file named `name` lands for a `dest` that may be a folder.
fn into_dest(dest: &str, name: &str) -> PathBuf {
    let d = Path::new(dest);
    if dest.ends_with('/') || d.is_dir() {
        d.join(name)
    } else {
        d.to_path_buf()
    }
}

/// Writes `bytes` to `dest` unless it holds them (or exists and `force` is false).
fn put(dest: &Path, bytes: &[u8], force: bool, mode: Option<u32>) -> Result<bool, Failed> {
    let mut changed = false;
    match fs_err::read(dest) {
        Ok(_) if !force => {}
        Ok(old) if old == bytes => {}
        _ => {
            if let Some(parent) = dest.parent() {
                if !parent.is_dir() {
                    return Err(format!(
                        "destination folder `{}` does not exist",
                        parent.display()
                    ));
                }
            }
            fs_err::write(dest, bytes).map_err(io("write", dest))?;
            changed = true;
        }
    }
    Ok(set_mode(dest, mode)? || changed)
}

/// `copy` of a local file (`src`) or of `content`.
pub fn copy(
    src: Option<&str>,
    content: Option<&str>,
    dest: &str,
    force: bool,
    mode: Option<u32>,
) -> Result<bool, Failed> {
    let (bytes, target) = match (src, content) {
        (Some(src), _) => {
            let p = Path::new(src);
            if p.is_dir() {
                return Err(format!(
                    "`{src}` is a folder: iocforge's `copy` copies files"
                ));
            }
            let bytes = fs_err::read(p).map_err(io("read", p))?;
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if dest.ends_with('/') {
                fs_err::create_dir_all(dest).map_err(io("create the folder", Path::new(dest)))?;
            }
            (bytes, into_dest(dest, &name))
        }
        (None, Some(c)) => (c.as_bytes().to_vec(), PathBuf::from(dest)),
        (None, None) => return Err("`copy` needs `src` or `content`".into()),
    };
    put(&target, &bytes, force, mode)
}

/// `get_url`: `file://` URLs are read in process, others fetched with curl or wget.
pub fn get_url(
    url: &str,
    dest: &str,
    force: bool,
    mode: Option<u32>,
    downloader: Downloader,
) -> Result<bool, Failed> {
    let name = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("index.html");
    let target = into_dest(dest, name);
    // Ansible fetches even when `dest` exists and `force` is false, asking
    // the server for a newer copy only (a `file://` URL always gives one)
    let bytes = if let Some(local) = url.strip_prefix("file://") {
        fs_err::read(local).map_err(io("read", Path::new(local)))?
    } else {
        if !force && target.exists() && downloader != Downloader::Curl {
            return set_mode(&target, mode);
        }
        let tmp = tempfile::NamedTempFile::new()
            .map_err(|e| format!("cannot make a temporary file: {e}"))?;
        let mut cmd: CommandSpec = downloader.fetch(url, tmp.path());
        if !force && target.exists() {
            cmd.args
                .splice(0..0, ["-z".to_string(), target.display().to_string()]);
        }
        let out = ProcessRunner::default()
            .run(&cmd)
            .map_err(|e| format!("{e}: {}", e.source))?;
        if !out.success {
            return Err(format!(
                "`{cmd}` failed: {}",
                out.tail.last().map_or("", String::as_str)
            ));
        }
        let bytes = fs_err::read(tmp.path()).map_err(io("read", tmp.path()))?;
        if bytes.is_empty() && !force && target.exists() {
            // curl -z: the server has nothing newer than the local copy
            return set_mode(&target, mode);
        }
        bytes
    };
    put(&target, &bytes, true, mode)
}

/// `unarchive` of a local tar archive (any compression GNU tar knows), with
/// the system's `tar` as Ansible's module uses it.
pub fn unarchive(src: &Path, dest: &Path) -> Result<bool, Failed> {
    if !src.is_file() {
        return Err(format!("source `{}` not found", src.display()));
    }
    if !dest.is_dir() {
        return Err(format!("dest `{}` must be an existing dir", dest.display()));
    }
    let cmd = CommandSpec::new(
        "tar",
        [
            "--extract".to_string(),
            "-C".to_string(),
            dest.display().to_string(),
            "-f".to_string(),
            src.display().to_string(),
        ],
    );
    let out = ProcessRunner::default()
        .run(&cmd)
        .map_err(|e| format!("{e}: {}", e.source))?;
    if out.success {
        Ok(true)
    } else {
        Err(format!("`{cmd}` failed: {}", out.tail.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_octal_text() {
        assert_eq!(parse_mode("0644").unwrap(), 0o644);
        assert_eq!(parse_mode("755").unwrap(), 0o755);
        assert!(parse_mode("u+x").is_err());
        assert!(parse_mode("").is_err());
    }

    #[test]
    fn directory_modes_every_missing_parent_and_refuses_a_file() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a/b/c");
        assert!(directory(&deep, Some(0o700)).unwrap());
        for p in ["a", "a/b", "a/b/c"] {
            let m = fs_err::metadata(d.path().join(p))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o700, "{p}");
        }
        assert!(!directory(&deep, Some(0o700)).unwrap());
        fs_err::write(d.path().join("f"), "").unwrap();
        assert!(directory(&d.path().join("f/g"), None).is_err());
    }

    #[test]
    fn links_need_force_to_replace_a_file_or_point_nowhere() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("l");
        fs_err::write(&dest, "x").unwrap();
        let target = d.path().join("t").display().to_string();
        assert!(link(&target, &dest, false, None)
            .unwrap_err()
            .contains("src file"));
        fs_err::write(d.path().join("t"), "").unwrap();
        assert!(link(&target, &dest, false, None)
            .unwrap_err()
            .contains("refusing"));
        assert!(link(&target, &dest, true, None).unwrap());
        assert!(!link(&target, &dest, false, None).unwrap());
        assert!(link(&target, &dest, false, Some(0o600)).unwrap());
        let m = fs_err::metadata(d.path().join("t"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, 0o600, "the mode goes to the target");
        assert_eq!(fs_err::read_link(&dest).unwrap(), Path::new(&target));
    }

    /// Serves `body` to each of `n` requests on loopback; the requests come back.
    fn serve(body: &'static str, n: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/files/pcre-8.45.tar.gz",
            listener.local_addr().unwrap()
        );
        let handle = std::thread::spawn(move || {
            let mut requests = Vec::new();
            for _ in 0..n {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4096];
                let len = s.read(&mut buf).unwrap();
                requests.push(String::from_utf8_lossy(&buf[..len]).into_owned());
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                s.write_all(reply.as_bytes()).unwrap();
            }
            requests
        });
        (url, handle)
    }

    #[test]
    fn get_url_fetches_over_loopback_http_into_a_folder() {
        let d = tempfile::tempdir().unwrap();
        let (url, server) = serve("archive", 2);
        let dest = format!("{}/", d.path().display());
        assert!(get_url(&url, &dest, false, Some(0o600), Downloader::Curl).unwrap());
        let got = d.path().join("pcre-8.45.tar.gz");
        assert_eq!(fs_err::read_to_string(&got).unwrap(), "archive");
        assert_eq!(
            fs_err::metadata(&got).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // a second fetch without force asks for a newer copy only
        assert!(!get_url(&url, &dest, false, None, Downloader::Curl).unwrap());
        let requests = server.join().unwrap();
        assert!(
            !requests[0].contains("If-Modified-Since"),
            "{}",
            requests[0]
        );
        assert!(requests[1].contains("If-Modified-Since"), "{}", requests[1]);
    }

    #[test]
    fn creates_globs_as_python_does() {
        let d = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(d.path().join("lib")).unwrap();
        fs_err::write(d.path().join("lib/libopen62541.so.1.3.15"), "").unwrap();
        fs_err::write(d.path().join("lib/.hidden"), "").unwrap();
        let at = |p: &str| format!("{}/{p}", d.path().display());
        assert!(glob_matches(&at("lib/libopen62541.so.*")));
        assert!(glob_matches(&at("l?b/libopen62541.so.1.3.1[0-9]")));
        assert!(glob_matches(&at("*/libopen62541.so.1.3.15")));
        assert!(!glob_matches(&at("lib/libopen62541.so.2.*")));
        assert!(!glob_matches(&at("lib/*hidden")), "`*` skips dot files");
        assert!(glob_matches(&at("lib/.hid*")));
        assert!(glob_matches(&at("lib/libopen62541.so.1.3.15")));
        assert!(!glob_matches(&at("lib/[!l]*")));
    }

    #[test]
    fn lineinfile_needs_create_for_a_missing_file() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("x/list");
        assert!(lineinfile(&f, None, "a", &Insert::Eof, false, None).is_err());
        assert!(lineinfile(&f, None, "a", &Insert::Eof, true, Some(0o600)).unwrap());
        assert!(!lineinfile(&f, Some("^a$"), "a", &Insert::Eof, false, Some(0o600)).unwrap());
        assert_eq!(fs_err::read_to_string(&f).unwrap(), "a\n");
    }
}
