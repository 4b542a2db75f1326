//! Catalogue widgets cut into the text pvi writes for them and the places a
//! screen fills in, so a `.bob` screen is written straight out, without
//! copying and serialising an element tree per widget.
//!
//! A stencil is made from a catalogue element by the same serialisation as
//! [`Element::write`]: its text up to each element a screen sets (pvi sets
//! the first element of a name in document order), the indentation (which
//! depends on how deep the widget sits in its screen), and the places
//! appended elements go (before the widget's end tag, before the end tag of
//! its first `action`).

use super::bob::{escape, Element};
use crate::diag::Diagnostic;

/// The elements a screen can set, by tag.
const SETTABLE: [&str; 11] = [
    "name", "text", "tooltip", "x", "y", "width", "height", "pv_name", "y_pv", "value", "file",
];

/// Where appended elements go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Last in the widget itself.
    Widget,
    /// Last in the widget's first `action` element.
    Action,
}

/// A value a screen sets.
#[derive(Debug, Clone, Copy)]
pub enum Val<'a> {
    /// Text; empty text leaves the catalogue's (as pvi skips empty values).
    Str(&'a str),
    /// A number (geometry).
    Int(i64),
    /// Text set even when empty (the display's name).
    Always(&'a str),
}

impl Val<'_> {
    fn sets(self) -> bool {
        match self {
            Val::Str(s) => !s.is_empty(),
            Val::Int(_) | Val::Always(_) => true,
        }
    }

    fn write(self, out: &mut String) {
        match self {
            Val::Str(s) | Val::Always(s) => escape(s, false, out),
            Val::Int(n) => push_int(n, out),
        }
    }
}

#[derive(Debug)]
enum Op {
    /// Text written as is.
    Text(String),
    /// The indentation of an element `depth` levels below the widget.
    Indent(usize),
    /// A settable leaf element: `open` is its start tag up to the `>`, `end`
    /// its end tag; its text is the screen's value, else `default` (escaped).
    Slot {
        tag: &'static str,
        open: String,
        end: String,
        default: Option<String>,
    },
    /// Where appended elements go, `depth` levels below the widget.
    Tail(Tail, usize),
}

/// A catalogue element ready to be written with a screen's values.
#[derive(Debug)]
pub struct Stencil {
    ops: Vec<Op>,
    /// The element's `type` attribute (pvi's widget type).
    pub wtype: String,
}

impl Stencil {
    /// Cuts `el`; `None` when a settable element holds child elements or
    /// an element holds both text and children (not in pvi's catalogue).
    pub fn new(el: &Element) -> Option<Stencil> {
        let mut cut = Cutter {
            ops: Vec::new(),
            seen: Vec::new(),
            action_seen: false,
        };
        cut.element(el, 0)?;
        // adjacent texts joined: fewer, longer copies when writing
        let mut ops: Vec<Op> = Vec::with_capacity(cut.ops.len());
        for op in cut.ops {
            match (ops.last_mut(), op) {
                (Some(Op::Text(a)), Op::Text(b)) => a.push_str(&b),
                (_, op) => ops.push(op),
            }
        }
        let wtype = el
            .attrs
            .iter()
            .find(|(k, _)| k == "type")
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        Some(Stencil { ops, wtype })
    }

    /// Whether the screen can set elements named `tag`.
    pub fn settable(&self, tag: &str) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(op, Op::Slot { tag: t, .. } if *t == tag))
    }

    /// Writes the element at `level` with `vals` set (the last value given
    /// for a tag wins, as setting it again would), calling `tail` where
    /// appended elements go with their level.
    pub fn put(
        &self,
        level: usize,
        out: &mut String,
        vals: &[(&str, Val)],
        tail: &mut dyn FnMut(Tail, usize, &mut String) -> Result<(), Diagnostic>,
    ) -> Result<(), Diagnostic> {
        if let Some((tag, _)) = vals.iter().find(|(tag, v)| v.sets() && !self.settable(tag)) {
            return Err(Diagnostic::plain(
                None,
                format!("pvi widget template has no `{tag}` element"),
            ));
        }
        for op in &self.ops {
            match op {
                Op::Text(t) => out.push_str(t),
                Op::Indent(d) => push_indent(level + d, out),
                Op::Slot {
                    tag,
                    open,
                    end,
                    default,
                } => {
                    let val = vals
                        .iter()
                        .rev()
                        .find(|(t, v)| t == tag && v.sets())
                        .map(|(_, v)| *v);
                    out.push_str(open);
                    match (val, default) {
                        (Some(v), _) => {
                            out.push('>');
                            v.write(out);
                            out.push_str(end);
                        }
                        (None, Some(d)) => {
                            out.push('>');
                            out.push_str(d);
                            out.push_str(end);
                        }
                        (None, None) => out.push_str("/>\n"),
                    }
                }
                Op::Tail(at, d) => tail(*at, level + d, out)?,
            }
        }
        Ok(())
    }
}

struct Cutter {
    ops: Vec<Op>,
    seen: Vec<&'static str>,
    action_seen: bool,
}

impl Cutter {
    fn text(&mut self, t: &str) {
        self.ops.push(Op::Text(t.to_string()));
    }

    /// `el` as [`Element::write`] writes it, `depth` below the widget.
    fn element(&mut self, el: &Element, depth: usize) -> Option<()> {
        self.ops.push(Op::Indent(depth));
        let mut open = String::new();
        el.write_inline_start(&mut open);
        let end = format!("</{}>\n", el.tag);
        if let Some(tag) = SETTABLE
            .iter()
            .copied()
            .find(|t| el.tag == *t && !self.seen.contains(t))
        {
            self.seen.push(tag);
            if !el.children.is_empty() {
                return None;
            }
            let default = el.text.as_ref().map(|t| {
                let mut s = String::new();
                escape(t, false, &mut s);
                s
            });
            self.ops.push(Op::Slot {
                tag,
                open,
                end,
                default,
            });
            return Some(());
        }
        let tail = if depth == 0 {
            Some(Tail::Widget)
        } else if el.tag == "action" && !self.action_seen {
            self.action_seen = true;
            Some(Tail::Action)
        } else {
            None
        };
        match (&el.text, el.children.is_empty()) {
            (None, true) if tail.is_none() => {
                open.push_str("/>\n");
                self.text(&open);
            }
            (Some(t), true) if tail.is_none() => {
                open.push('>');
                escape(t, false, &mut open);
                open.push_str(&end);
                self.text(&open);
            }
            (None, false) => {
                open.push_str(">\n");
                self.text(&open);
                for c in el.children.iter() {
                    self.element(c, depth + 1)?;
                }
                if let Some(at) = tail {
                    self.ops.push(Op::Tail(at, depth + 1));
                }
                self.ops.push(Op::Indent(depth));
                self.text(&end);
            }
            // mixed content, or appending to an element without children
            _ => return None,
        }
        Some(())
    }
}

/// Two spaces a level.
pub fn push_indent(level: usize, out: &mut String) {
    const SPACES: &str = "                                                                ";
    let mut n = level * 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// `n` in decimal.
pub fn push_int(n: i64, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// A leaf element with text, on its own line.
pub fn push_leaf(level: usize, tag: &str, text: &str, out: &mut String) {
    push_indent(level, out);
    out.push('<');
    out.push_str(tag);
    out.push('>');
    escape(text, false, out);
    out.push_str("</");
    out.push_str(tag);
    out.push_str(">\n");
}

/// The start tag of an element with children, on its own line.
pub fn push_open(level: usize, tag: &str, out: &mut String) {
    push_indent(level, out);
    out.push('<');
    out.push_str(tag);
    out.push_str(">\n");
}

/// The end tag of an element with children, on its own line.
pub fn push_close(level: usize, tag: &str, out: &mut String) {
    push_indent(level, out);
    out.push_str("</");
    out.push_str(tag);
    out.push_str(">\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_decimal() {
        for n in [
            0,
            7,
            -7,
            10,
            1_000_000_000,
            -1_000_000_000,
            i64::MIN,
            i64::MAX,
        ] {
            let mut s = String::new();
            push_int(n, &mut s);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn indentation_of_any_depth() {
        for level in [0, 1, 31, 32, 33, 100] {
            let mut s = String::new();
            push_indent(level, &mut s);
            assert_eq!(s, " ".repeat(level * 2));
        }
    }
}
