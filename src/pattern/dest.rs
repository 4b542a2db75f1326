//! Destinations of vendored files: Python's path and regex rules.
//!
//! Below [`super::manifest`]: a manifest `dest` is a folder, a single file,
//! or a substitution template; `src` regexes match whole pattern-relative
//! paths (`re.fullmatch`); templates expand as Python's `Match.expand`
//! does; paths split and normalise as `PurePosixPath` does, so two
//! spellings of one destination compare equal.

use std::sync::LazyLock;

use regex::{Captures, Regex};

static SUBSTITUTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\\(?:\d|g<)").expect("static regex"));

/// A path split as Python's `PurePosixPath` splits it.
pub(crate) struct PosixPath<'a> {
    pub absolute: bool,
    pub parts: Vec<&'a str>,
}

impl<'a> PosixPath<'a> {
    pub fn new(s: &'a str) -> PosixPath<'a> {
        PosixPath {
            absolute: s.starts_with('/'),
            parts: s
                .split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .collect(),
        }
    }

    pub fn as_posix(&self) -> String {
        let joined = self.parts.join("/");
        if self.absolute {
            format!("/{joined}")
        } else if joined.is_empty() {
            ".".into()
        } else {
            joined
        }
    }

    pub fn name(&self) -> &str {
        self.parts.last().copied().unwrap_or("")
    }

    pub fn suffix(&self) -> &str {
        let name = self.name();
        match name.rfind('.') {
            Some(i) if i > 0 && i + 1 < name.len() => &name[i..],
            _ => "",
        }
    }

    pub fn parent(&self) -> String {
        let n = self.parts.len().saturating_sub(1);
        PosixPath {
            absolute: self.absolute,
            parts: self.parts[..n].to_vec(),
        }
        .as_posix()
    }
}

/// Whether `dest` is a substitution template rather than a plain path.
pub fn is_substitution(dest: &str) -> bool {
    SUBSTITUTION.is_match(dest)
}

/// Whether a plain `dest` names the one file its rule places
/// (its last part has an extension and it does not end in `/`).
pub fn is_file_dest(dest: &str) -> bool {
    if is_substitution(dest) || dest.ends_with('/') {
        return false;
    }
    !PosixPath::new(dest).suffix().is_empty()
}

/// Compiles a Python `re` pattern for `re.fullmatch`.
pub(crate) fn compile_full(src: &str) -> Result<Regex, String> {
    // Python's end-of-text is `\Z`; the regex crate spells it `\z`
    let translated = src.replace("\\Z", "\\z");
    Regex::new(&format!("^(?:{translated})\\z")).map_err(|e| {
        e.to_string()
            .lines()
            .last()
            .unwrap_or("invalid regex")
            .trim()
            .to_string()
    })
}

/// Python's `Match.expand`: `\1`, `\g<name>`, `\g<1>` and the usual escapes.
pub(crate) fn expand(template: &str, caps: &Captures, regex: &Regex) -> Result<String, String> {
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::new();
    let group = |index: usize| -> Result<String, String> {
        if index >= regex.captures_len() {
            return Err(format!("invalid group reference {index}"));
        }
        Ok(caps
            .get(index)
            .map(|m| m.as_str().to_string())
            .unwrap_or_default())
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(&next) = chars.get(i + 1) else {
            return Err("bad escape (end of pattern)".into());
        };
        i += 2;
        match next {
            'g' => {
                if chars.get(i) != Some(&'<') {
                    return Err("missing <".into());
                }
                let end = chars[i..]
                    .iter()
                    .position(|c| *c == '>')
                    .ok_or("missing >, unterminated name")?;
                let name: String = chars[i + 1..i + end].iter().collect();
                i += end + 1;
                if name.is_empty() {
                    return Err("missing group name".into());
                }
                if name.chars().all(|c| c.is_ascii_digit()) {
                    let n: usize = name.parse().map_err(|_| "invalid group reference")?;
                    out.push_str(&group(n)?);
                } else {
                    let index = regex
                        .capture_names()
                        .position(|n| n == Some(name.as_str()))
                        .ok_or_else(|| format!("unknown group name '{name}'"))?;
                    out.push_str(&group(index)?);
                }
            }
            '0' => {
                let mut value = 0u32;
                let mut n = 0;
                while n < 2 && chars.get(i).is_some_and(|c| c.is_digit(8)) {
                    value = value * 8 + chars[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push(char::from_u32(value).unwrap_or('\0'));
            }
            d if d.is_ascii_digit() => {
                let mut digits = String::from(d);
                if chars.get(i).is_some_and(char::is_ascii_digit) {
                    let third_octal = chars.get(i + 1).is_some_and(|c| c.is_digit(8));
                    if d.is_digit(8) && chars[i].is_digit(8) && third_octal {
                        let text: String = [d, chars[i], chars[i + 1]].iter().collect();
                        let value = u32::from_str_radix(&text, 8).unwrap_or(0);
                        if value > 0o377 {
                            return Err(format!(
                                "octal escape value \\{text} outside of range 0-0o377"
                            ));
                        }
                        out.push(char::from_u32(value).unwrap_or('\0'));
                        i += 2;
                        continue;
                    }
                    digits.push(chars[i]);
                    i += 1;
                }
                let n: usize = digits.parse().map_err(|_| "invalid group reference")?;
                out.push_str(&group(n)?);
            }
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            c if c.is_ascii_alphabetic() => return Err(format!("bad escape \\{c}")),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps_expand(src: &str, text: &str, template: &str) -> Result<String, String> {
        let re = compile_full(src).unwrap();
        let caps = re.captures(text).unwrap();
        expand(template, &caps, &re)
    }

    #[test]
    fn substitutions_expand_like_python() {
        assert_eq!(
            caps_expand(r"(.*)\.proto", "a.proto", r"config/protocol/\1.proto").unwrap(),
            "config/protocol/a.proto"
        );
        assert_eq!(
            caps_expand(r"(?P<n>\w+)/(x)", "ab/x", r"c/\g<n>-\g<2>").unwrap(),
            "c/ab-x"
        );
        assert!(caps_expand(r"(a)", "a", r"\2").is_err());
        assert!(caps_expand(r"(a)", "a", r"\q").is_err());
        assert_eq!(caps_expand(r"(a)|b", "b", r"x\1y").unwrap(), "xy");
    }

    #[test]
    fn dests_are_files_or_folders_as_ibek_reads_them() {
        assert!(is_file_dest("config/x.template"));
        assert!(!is_file_dest("config/db/"));
        assert!(!is_file_dest("config"));
        assert!(!is_file_dest(r"config/\1.db"));
        assert!(!is_file_dest("config/.hidden"));
    }

    #[test]
    fn fullmatch_needs_the_whole_path() {
        let re = compile_full("a|ab").unwrap();
        assert!(re.is_match("ab"));
        assert!(!compile_full("a").unwrap().is_match("ab"));
    }
}
