//! Text edits of a support build: `comment_out`, `patch_lines`, `patch_blocks`.
//!
//! ibek-support does these with Ansible's `replace`, `lineinfile` and
//! `blockinfile` modules; the functions here reproduce those modules' rules
//! on a file's text (which line a regexp replaces, where a missing line or
//! block goes, how a managed block is found again) so that a second run
//! changes nothing. They are pure: the executor reads and writes the files.

use regex::Regex;

/// One line without its terminator.
fn body(line: &str) -> &str {
    line.strip_suffix('\n').unwrap_or(line)
}

/// The lines of `text`, each keeping its `\n` (the last may lack one).
fn lines_of(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// Ansible's `replace` with `^(?!#)(.*(REGEXP).*$)` → `# \1`: every line that
/// does not start with `#` and contains a match of `regexp` is commented out.
pub fn comment_out(text: &str, regexp: &str) -> Result<String, regex::Error> {
    let re = Regex::new(&format!("(?m){regexp}"))?;
    Ok(text
        .split_inclusive('\n')
        .map(|line| {
            let b = body(line);
            if !b.starts_with('#') && re.is_match(b) {
                format!("# {line}")
            } else {
                line.to_string()
            }
        })
        .collect())
}

/// Where `lineinfile` puts a line that matches nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Insert {
    /// At the end of the file (`insertafter: EOF`, the default).
    #[default]
    Eof,
    /// Before the last line matching this regexp, else at the end (`insertbefore`).
    Before(String),
    /// After the last line matching this regexp, else at the end (`insertafter`).
    After(String),
}

/// Ansible's `lineinfile` with `state: present`: the last line matching
/// `regexp` becomes `line`; failing that, a line equal to `line` is kept;
/// failing that, `line` is inserted where `insert` says. `original` is `None`
/// for a file that does not exist yet (`create: true`).
pub fn line_in_file(
    original: Option<&str>,
    regexp: Option<&str>,
    line: &str,
    insert: &Insert,
) -> Result<String, regex::Error> {
    let mut lines = lines_of(original.unwrap_or(""));
    let mut target = None;
    if let Some(re) = regexp {
        let re = Regex::new(re)?;
        target = lines.iter().rposition(|l| re.is_match(body(l)));
    }
    let mut insert_at = None;
    if target.is_none() {
        let ins = match insert {
            Insert::Eof => None,
            Insert::Before(r) | Insert::After(r) => Some(Regex::new(r)?),
        };
        for (i, l) in lines.iter().enumerate() {
            if body(l) == line {
                target = Some(i);
            } else if ins.as_ref().is_some_and(|r| r.is_match(body(l))) {
                insert_at = Some(if matches!(insert, Insert::After(_)) {
                    i + 1
                } else {
                    i
                });
            }
        }
    }
    let new_line = format!("{line}\n");
    match (target, insert_at) {
        (Some(i), _) => lines[i] = new_line,
        (None, Some(i)) => lines.insert(i, new_line),
        (None, None) => {
            if let Some(last) = lines.last_mut() {
                if !last.ends_with('\n') {
                    last.push('\n');
                }
            }
            lines.push(new_line);
        }
    }
    Ok(lines.concat())
}

/// Ansible's `blockinfile`: `block` between the two lines made from `marker`
/// (`{mark}` → `BEGIN` / `END`) replaces a block already there; otherwise it
/// goes after the last line matching `insert_after`, or at the end when that
/// is `EOF` or matches nothing. An empty block removes the managed block.
pub fn block_in_file(
    original: Option<&str>,
    block: &str,
    marker: &str,
    insert_after: &str,
) -> Result<String, regex::Error> {
    let begin = marker.replace("{mark}", "BEGIN");
    let end = marker.replace("{mark}", "END");
    let mut lines = lines_of(original.unwrap_or(""));
    let block_lines: Vec<String> = if block.is_empty() {
        Vec::new()
    } else {
        std::iter::once(format!("{begin}\n"))
            .chain(block.lines().map(|l| format!("{l}\n")))
            .chain(std::iter::once(format!("{end}\n")))
            .collect()
    };
    let n0 = lines.iter().rposition(|l| body(l) == begin);
    let n1 = lines.iter().rposition(|l| body(l) == end);
    let at = match (n0, n1) {
        (Some(a), Some(b)) => {
            let (first, last) = if a < b { (a, b) } else { (b, a) };
            lines.drain(first..=last);
            first
        }
        _ if insert_after == "EOF" => lines.len(),
        _ => {
            let re = Regex::new(insert_after)?;
            match lines.iter().rposition(|l| re.is_match(body(l))) {
                Some(i) => i + 1,
                None => lines.len(),
            }
        }
    };
    if at > 0 && !lines[at - 1].ends_with('\n') {
        lines[at - 1].push('\n');
    }
    lines.splice(at..at, block_lines);
    Ok(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_out_skips_commented_lines_and_is_idempotent() {
        let text = "DIRS += src\nDIRS += test\n# DIRS += testOld\niocBoot_DEPEND_DIRS += x";
        let once = comment_out(text, "test|iocBoot").unwrap();
        assert_eq!(
            once,
            "DIRS += src\n# DIRS += test\n# DIRS += testOld\n# iocBoot_DEPEND_DIRS += x"
        );
        assert_eq!(comment_out(&once, "test|iocBoot").unwrap(), once);
    }

    #[test]
    fn comment_out_takes_python_style_escapes_and_anchors() {
        let text = "DIRS += iocBoot\nX = 1\n";
        assert_eq!(
            comment_out(text, "^DIRS.*iocBoot.*$").unwrap(),
            "# DIRS += iocBoot\nX = 1\n"
        );
        assert_eq!(
            comment_out("DIRS += test\nDIRS += src\n", r"\+\= test").unwrap(),
            "# DIRS += test\nDIRS += src\n"
        );
    }

    #[test]
    fn line_in_file_replaces_the_last_match() {
        let text = "# TIRPC = NO\nX=1\n#TIRPC=YES\n";
        let out = line_in_file(Some(text), Some("TIRPC"), "TIRPC = YES", &Insert::Eof).unwrap();
        assert_eq!(out, "# TIRPC = NO\nX=1\nTIRPC = YES\n");
        let again = line_in_file(Some(&out), Some("TIRPC"), "TIRPC = YES", &Insert::Eof).unwrap();
        assert_eq!(again, out);
    }

    #[test]
    fn line_in_file_appends_with_a_newline_before() {
        assert_eq!(
            line_in_file(Some("A=1"), Some("^B *=.*"), "B = 2", &Insert::Eof).unwrap(),
            "A=1\nB = 2\n"
        );
        assert_eq!(
            line_in_file(None, Some("x"), "x = 1", &Insert::Eof).unwrap(),
            "x = 1\n"
        );
    }

    #[test]
    fn line_in_file_without_regexp_keeps_an_equal_line() {
        let text = "A =\nB = /b\n";
        assert_eq!(
            line_in_file(Some(text), None, "A =", &Insert::Before("^B *=.*".into())).unwrap(),
            text
        );
        assert_eq!(
            line_in_file(Some(text), None, "C =", &Insert::Before("^B *=.*".into())).unwrap(),
            "A =\nC =\nB = /b\n"
        );
        assert_eq!(
            line_in_file(Some(text), None, "C =", &Insert::After("^A".into())).unwrap(),
            "A =\nC =\nB = /b\n"
        );
        assert_eq!(
            line_in_file(Some(text), None, "C =", &Insert::Before("^Z".into())).unwrap(),
            "A =\nB = /b\nC =\n"
        );
    }

    #[test]
    fn line_in_file_with_an_empty_line_blanks_the_match() {
        let text = "AREA_DETECTOR=/x\nY=1\n";
        assert_eq!(
            line_in_file(Some(text), Some(r"AREA_DETECTOR\="), "", &Insert::Eof).unwrap(),
            "\nY=1\n"
        );
    }

    #[test]
    fn block_in_file_inserts_then_replaces_in_place() {
        let marker = "# {mark} ANSIBLE MANAGED BLOCK";
        let once = block_in_file(Some("A=1"), "B=2\nC=3\n", marker, "EOF").unwrap();
        assert_eq!(
            once,
            "A=1\n# BEGIN ANSIBLE MANAGED BLOCK\nB=2\nC=3\n# END ANSIBLE MANAGED BLOCK\n"
        );
        let edited = format!("{once}Z=9\n");
        let changed = block_in_file(Some(&edited), "B=4\n", marker, "EOF").unwrap();
        assert_eq!(
            changed,
            "A=1\n# BEGIN ANSIBLE MANAGED BLOCK\nB=4\n# END ANSIBLE MANAGED BLOCK\nZ=9\n"
        );
        assert_eq!(
            block_in_file(Some(&changed), "B=4\n", marker, "EOF").unwrap(),
            changed
        );
        assert_eq!(
            block_in_file(Some(&changed), "", marker, "EOF").unwrap(),
            "A=1\nZ=9\n"
        );
    }

    #[test]
    fn block_in_file_honours_insertafter_and_custom_markers() {
        let out = block_in_file(Some("A=1\nB=2\n"), "X=1", "## {mark} mine", "^A").unwrap();
        assert_eq!(out, "A=1\n## BEGIN mine\nX=1\n## END mine\nB=2\n");
        let created = block_in_file(None, "X=1\n", "# {mark}", "EOF").unwrap();
        assert_eq!(created, "# BEGIN\nX=1\n# END\n");
    }
}
