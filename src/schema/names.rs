//! Names pydantic gives to schema parts: field titles and `$defs` keys.
//!
//! A field's title is Python's `name.title().replace('_', ' ').strip()`.
//! A definition's key is its class name when no other definition claims
//! that name with a different schema; otherwise pydantic falls back to
//! longer names built from the class's module path, the last resort being
//! `<module>__<class>__<n>` with `n` counting same-named classes in the
//! order pydantic meets them (`ibek__entity_factory__direction__2`).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::json::Json;

/// Python's `str.title()`: a letter after a cased letter is lowered, any
/// other letter is title-cased (so `timeout2x` becomes `Timeout2X`).
pub fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut previous_cased = false;
    for (i, &c) in chars.iter().enumerate() {
        if previous_cased {
            if c == 'Σ' {
                // CPython's final-sigma rule: ς unless a cased letter follows
                // (case-ignorable marks such as `.` and `'` in between are skipped)
                let next_cased = chars[i + 1..]
                    .iter()
                    .find(|n| !is_case_ignorable(**n))
                    .is_some_and(|n| is_cased(*n));
                out.push(if next_cased { 'σ' } else { 'ς' });
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            push_titlecase(&mut out, c);
        }
        previous_cased = is_cased(c);
    }
    out
}

/// A field title as pydantic derives it from the field name.
pub fn field_title(name: &str) -> String {
    let titled = py_title(name).replace('_', " ");
    titled.trim_matches(is_py_space).to_string()
}

/// Python's `str.isspace()`, which also counts the four ASCII separators.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Unicode's titlecase letters (category Lt): cased, but neither upper nor lower.
fn is_titlecase_letter(c: char) -> bool {
    matches!(c as u32,
        0x1c5 | 0x1c8 | 0x1cb | 0x1f2
        | 0x1f88..=0x1f8f | 0x1f98..=0x1f9f | 0x1fa8..=0x1faf
        | 0x1fbc | 0x1fcc | 0x1ffc)
}

/// The common case-ignorable characters (word-internal punctuation and modifiers).
const CASE_IGNORABLE: &[char] = &[
    '\'', '.', ':', '^', '`', '\u{a8}', '\u{ad}', '\u{af}', '\u{b4}', '\u{b7}', '\u{b8}',
    '\u{2018}', '\u{2019}', '\u{2024}', '\u{2027}',
];

fn is_case_ignorable(c: char) -> bool {
    CASE_IGNORABLE.contains(&c) || ('\u{300}'..='\u{36f}').contains(&c)
}

fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || is_titlecase_letter(c)
}

/// The titlecase mapping, where it differs from the uppercase one.
fn push_titlecase(out: &mut String, c: char) {
    let cp = c as u32;
    // letters that are their own titlecase (Lt letters, Georgian Mkhedruli)
    if is_titlecase_letter(c) || matches!(cp, 0x10d0..=0x10fa | 0x10fd..=0x10ff) {
        out.push(c);
        return;
    }
    let special: Option<&[u32]> = match cp {
        0xdf => Some(&[0x53, 0x73]),
        0x1c4 | 0x1c6 => Some(&[0x1c5]),
        0x1c7 | 0x1c9 => Some(&[0x1c8]),
        0x1ca | 0x1cc => Some(&[0x1cb]),
        0x1f1 | 0x1f3 => Some(&[0x1f2]),
        0x587 => Some(&[0x535, 0x582]),
        0x1fb2 => Some(&[0x1fba, 0x345]),
        0x1fb3 => Some(&[0x1fbc]),
        0x1fb4 => Some(&[0x386, 0x345]),
        0x1fb7 => Some(&[0x391, 0x342, 0x345]),
        0x1fc2 => Some(&[0x1fca, 0x345]),
        0x1fc3 => Some(&[0x1fcc]),
        0x1fc4 => Some(&[0x389, 0x345]),
        0x1fc7 => Some(&[0x397, 0x342, 0x345]),
        0x1ff2 => Some(&[0x1ffa, 0x345]),
        0x1ff3 => Some(&[0x1ffc]),
        0x1ff4 => Some(&[0x38f, 0x345]),
        0x1ff7 => Some(&[0x3a9, 0x342, 0x345]),
        0xfb00 => Some(&[0x46, 0x66]),
        0xfb01 => Some(&[0x46, 0x69]),
        0xfb02 => Some(&[0x46, 0x6c]),
        0xfb03 => Some(&[0x46, 0x66, 0x69]),
        0xfb04 => Some(&[0x46, 0x66, 0x6c]),
        0xfb05 | 0xfb06 => Some(&[0x53, 0x74]),
        0xfb13 => Some(&[0x544, 0x576]),
        0xfb14 => Some(&[0x544, 0x565]),
        0xfb15 => Some(&[0x544, 0x56b]),
        0xfb16 => Some(&[0x54e, 0x576]),
        0xfb17 => Some(&[0x544, 0x56d]),
        _ => None,
    };
    match special {
        Some(cps) => out.extend(cps.iter().filter_map(|&u| char::from_u32(u))),
        // Greek letters with ypogegrammeni title-case to the Lt letter 8 above
        None if matches!(cp, 0x1f80..=0x1f87 | 0x1f90..=0x1f97 | 0x1fa0..=0x1fa7) => {
            out.extend(char::from_u32(cp + 8));
        }
        None => out.extend(c.to_uppercase()),
    }
}

static LAST_DOTTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:[^.\[\]]+\.)+([^.\[\]]+)").expect("static regex"));
static NOT_NAME_CHAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^a-zA-Z0-9.\-_]").expect("static regex"));

/// pydantic's `normalize_name`.
fn normalize(name: &str) -> String {
    NOT_NAME_CHAR.replace_all(name, "_").replace('.', "__")
}

/// Splits on `[`, `]` and `,`, keeping the separators (Python's `re.split` with a group).
fn split_components(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if matches!(c, '[' | ']' | ',') {
            out.push(&s[start..i]);
            out.push(&s[i..=i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// Hands out `$defs` name candidates in the order pydantic meets the classes.
#[derive(Debug, Default)]
pub struct DefNamer {
    seen: HashMap<String, usize>,
    next_id: usize,
}

impl DefNamer {
    /// The candidate keys of a class, best first (pydantic's `get_defs_ref`
    /// for validation mode, whose titles end in `-Input`).
    pub fn candidates(&mut self, module: &str, qualname: &str) -> Vec<String> {
        self.next_id += 1;
        let core_ref = format!("{module}.{qualname}:{}", self.next_id);
        let parts: Vec<&str> = split_components(&core_ref)
            .into_iter()
            .map(|x| x.rsplit_once(':').map_or(x, |(head, _)| head))
            .collect();
        let no_id = parts.concat();
        let short: String = parts
            .iter()
            .map(|x| LAST_DOTTED.replace_all(x, "$1").into_owned())
            .collect();
        let name = normalize(&short);
        let module_qualname = normalize(&no_id);
        let count = self.seen.entry(module_qualname.clone()).or_insert(0);
        *count += 1;
        let n = *count;
        vec![
            name.clone(),
            format!("{name}-Input"),
            module_qualname.clone(),
            format!("{module_qualname}-Input"),
            format!("{module_qualname}__{n}"),
            format!("{module_qualname}-Input__{n}"),
        ]
    }
}

/// Picks each definition's key: its first candidate that no definition with
/// a different schema also has (pydantic's `_DefinitionsRemapping`).
pub fn choose_names(defs: &[(Vec<String>, &Json)]) -> Vec<String> {
    let mut schemas: HashMap<&str, Vec<&Json>> = HashMap::new();
    for (candidates, schema) in defs {
        for c in candidates {
            let list = schemas.entry(c.as_str()).or_default();
            if !list.iter().any(|s| s.py_eq(schema)) {
                list.push(schema);
            }
        }
    }
    defs.iter()
        .map(|(candidates, _)| {
            candidates
                .iter()
                .find(|c| schemas.get(c.as_str()).is_some_and(|l| l.len() == 1))
                .or(candidates.last())
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_python() {
        assert_eq!(field_title("noAuto_connect"), "Noauto Connect");
        assert_eq!(field_title("timeout2x"), "Timeout2X");
        assert_eq!(field_title("low in/high out"), "Low In/High Out");
        assert_eq!(field_title("ÜberName_ßx"), "Übername Ssx");
        assert_eq!(field_title("_x_"), "X");
        assert_eq!(field_title("ǆemal"), "ǅemal");
        assert_eq!(field_title("ΣΑΣ"), "Σας");
        assert_eq!(field_title("aΣ.b"), "Aσ.B");
    }

    #[test]
    fn candidates_follow_pydantic() {
        let mut n = DefNamer::default();
        let first = n.candidates("ibek.entity_factory", "direction");
        assert_eq!(first[0], "direction");
        assert_eq!(first[4], "ibek__entity_factory__direction__1");
        let second = n.candidates("ibek.entity_factory", "direction");
        assert_eq!(second[5], "ibek__entity_factory__direction-Input__2");
        assert_eq!(n.candidates("ibek.entity_factory", "x.y")[0], "y");
        assert_eq!(n.candidates("ibek.entity_factory", "k:z")[0], "k_z");
    }

    #[test]
    fn clashing_names_fall_back_unless_schemas_agree() {
        let mut n = DefNamer::default();
        let a = Json::object([("enum", Json::Array(vec![Json::str("a")]))]);
        let b = Json::object([("enum", Json::Array(vec![Json::str("b")]))]);
        let defs = vec![
            (n.candidates("m", "e"), &a),
            (n.candidates("m", "e"), &b),
            (n.candidates("m", "f"), &a),
            (n.candidates("m", "f"), &a),
        ];
        assert_eq!(choose_names(&defs), ["m__e__1", "m__e__2", "f", "f"]);
    }
}
