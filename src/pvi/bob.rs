//! Phoebus `.bob` XML for laid-out screens, as pvi's DLS formatter writes it.
//!
//! Each placed widget is a copy of its entry in the widget catalogue
//! (`dls_catalogue.xml`, data) with its geometry and properties filled in
//! and the extra elements pvi appends (combo items, table columns, text
//! format, image and plot axes). The screen is serialised like lxml's
//! `pretty_print` over a tree parsed with `remove_blank_text`: two-space
//! indentation, whitespace-only text kept only in leaf elements, ASCII
//! output with character references, no XML declaration.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::OnceLock;

use super::device::Widget;
use super::screen::{Bounds, Placed, Screen};
use crate::diag::Diagnostic;

/// Text of the tree: borrowed from the built-in catalogue where unchanged,
/// so copying a widget template copies no text.
pub type Text = Cow<'static, str>;

/// An XML element.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Tag.
    pub tag: Text,
    /// Attributes in order.
    pub attrs: Vec<(Text, Text)>,
    /// Text (`Some("")` prints as `<a></a>`, `None` without children as `<a/>`).
    pub text: Option<Text>,
    /// Child elements.
    /// Child elements, shared until changed: a widget copied from the
    /// catalogue copies only the path to what it changes.
    pub children: Arc<Vec<Element>>,
}

impl Element {
    fn new(tag: impl Into<Text>) -> Element {
        Element {
            tag: tag.into(),
            attrs: Vec::new(),
            text: None,
            children: Arc::default(),
        }
    }

    fn with_text(tag: impl Into<Text>, text: impl Into<Text>) -> Element {
        Element {
            text: Some(text.into()),
            ..Element::new(tag)
        }
    }

    /// Appends a child and returns it (lxml's `SubElement`).
    fn sub(&mut self, tag: &'static str) -> &mut Element {
        let kids = self.kids();
        kids.push(Element::new(tag));
        kids.last_mut().expect("just pushed")
    }

    /// The children, to change (copied first when shared).
    fn kids(&mut self) -> &mut Vec<Element> {
        Arc::make_mut(&mut self.children)
    }

    /// Whether this element or one below it is named `tag`.
    fn holds(&self, tag: &str) -> bool {
        self.tag == tag || self.children.iter().any(|c| c.holds(tag))
    }

    /// The first element named `tag` in document order, self included (lxml's `iter`).
    fn find_mut(&mut self, tag: &str) -> Option<&mut Element> {
        if self.tag == tag {
            return Some(self);
        }
        let i = self.children.iter().position(|c| c.holds(tag))?;
        self.kids()[i].find_mut(tag)
    }

    fn child_text(&self, tag: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.tag == tag)
            .and_then(|c| c.text.as_deref())
    }

    /// Serialises as lxml's `pretty_print` does.
    pub fn write(&self, level: usize, out: &mut String) {
        for _ in 0..level {
            out.push_str("  ");
        }
        self.write_inline_start(out);
        match (&self.text, self.children.is_empty()) {
            (None, true) => out.push_str("/>\n"),
            (Some(t), true) => {
                out.push('>');
                escape(t, false, out);
                out.push_str("</");
                out.push_str(&self.tag);
                out.push_str(">\n");
            }
            (None, false) => {
                out.push_str(">\n");
                for c in self.children.iter() {
                    c.write(level + 1, out);
                }
                for _ in 0..level {
                    out.push_str("  ");
                }
                out.push_str("</");
                out.push_str(&self.tag);
                out.push_str(">\n");
            }
            (Some(t), false) => {
                // mixed content is not indented by libxml2
                out.push('>');
                escape(t, false, out);
                for c in self.children.iter() {
                    let mut inner = String::new();
                    c.write(0, &mut inner);
                    out.push_str(inner.trim_end_matches('\n'));
                }
                out.push_str("</");
                out.push_str(&self.tag);
                out.push_str(">\n");
            }
        }
    }

    fn write_inline_start(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.tag);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape(v, true, out);
            out.push('"');
        }
    }
}

fn escape(s: &str, attr: bool, out: &mut String) {
    // most text needs no escaping: copy it whole
    if s.bytes()
        .all(|b| b.is_ascii() && !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\n' | b'\t' | b'\r'))
    {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("&#{};", c as u32)),
        }
    }
}

/// Parses the catalogue: elements, attributes and text, comments skipped.
/// Whitespace-only text is kept only in elements without child elements
/// (libxml2's blank-text rule that pvi's parser relies on).
fn parse_catalogue(text: &'static str) -> Result<Element, String> {
    let mut stack: Vec<(Element, &'static str)> = vec![(Element::new("#root"), "")];
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unterminated comment")?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unterminated end tag")?;
            let (mut el, text) = stack.pop().ok_or("unbalanced end tag")?;
            if el.tag != r[..end].trim() {
                return Err(format!("end tag `{}` closes `{}`", &r[..end], el.tag));
            }
            // whitespace between child elements is blank text and dropped
            if (el.children.is_empty() && !text.is_empty()) || !text.trim().is_empty() {
                el.text = Some(unescape(text));
            }
            stack
                .last_mut()
                .ok_or("unbalanced end tag")?
                .0
                .kids()
                .push(el);
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('<') {
            let end = r.find('>').ok_or("unterminated tag")?;
            let inner = &r[..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let mut el = parse_start(inner)?;
            if empty {
                stack
                    .last_mut()
                    .ok_or("no parent")?
                    .0
                    .kids()
                    .push(std::mem::replace(&mut el, Element::new("#")));
            } else {
                stack.push((el, ""));
            }
            rest = &r[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            // a leaf's text is one slice of the catalogue; between child
            // elements only blank text occurs, which is dropped
            let slot = &mut stack.last_mut().ok_or("no parent")?.1;
            if slot.trim().is_empty() {
                *slot = &rest[..end];
            }
            rest = &rest[end..];
        }
    }
    let (mut root, _) = stack.pop().ok_or("empty catalogue")?;
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    root.kids()
        .pop()
        .ok_or_else(|| "no root element".to_string())
}

fn parse_start(inner: &'static str) -> Result<Element, String> {
    let inner = inner.trim();
    let (tag, mut attrs) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let mut el = Element::new(tag);
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            break;
        }
        let (k, r) = attrs.split_once("=\"").ok_or("bad attribute")?;
        let (v, r) = r.split_once('"').ok_or("unterminated attribute")?;
        el.attrs.push((Cow::Borrowed(k.trim()), unescape(v)));
        attrs = r;
    }
    Ok(el)
}

fn unescape(s: &'static str) -> Text {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}

/// The widget catalogue: the screen element and widget templates by name.
struct Catalogue {
    display: Element,
    widgets: Vec<Element>,
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        let root = parse_catalogue(include_str!("dls_catalogue.xml"))
            .expect("the built-in widget catalogue is well-formed (tested)");
        let mut display = root.clone();
        display.kids().retain(|c| c.tag != "widget");
        let widgets = root
            .children
            .iter()
            .filter(|c| c.tag == "widget")
            .cloned()
            .collect();
        Catalogue { display, widgets }
    })
}

fn template(name: &str) -> Result<Element, Diagnostic> {
    catalogue()
        .widgets
        .iter()
        .find(|w| w.child_text("name") == Some(name))
        .cloned()
        .ok_or_else(|| {
            Diagnostic::plain(
                None,
                format!("pvi's DLS widget catalogue has no `{name}` widget"),
            )
        })
}

/// Sets the first element named `tag` to `text` (pvi skips empty values).
fn set(
    el: &mut Element,
    tag: &str,
    text: impl Into<String> + AsRef<str>,
) -> Result<(), Diagnostic> {
    if text.as_ref().is_empty() {
        return Ok(());
    }
    match el.find_mut(tag) {
        Some(e) => {
            e.text = Some(Cow::Owned(text.into()));
            Ok(())
        }
        None => Err(Diagnostic::plain(
            None,
            format!("pvi widget template has no `{tag}` element"),
        )),
    }
}

fn set_bounds(el: &mut Element, b: Bounds, height: bool) -> Result<(), Diagnostic> {
    set(el, "x", b.x.to_string())?;
    set(el, "y", b.y.to_string())?;
    set(el, "width", b.w.to_string())?;
    if height {
        set(el, "height", b.h.to_string())?;
    }
    Ok(())
}

/// Which catalogue entry a PV widget is drawn from, and whether it is squared.
fn pv_template(widget: &Widget) -> Result<(&'static str, bool), Diagnostic> {
    Ok(match widget {
        Widget::Led => ("LED", true),
        Widget::ToggleButton => ("ToggleButton", true),
        Widget::ProgressBar => ("ProgressBar", false),
        Widget::BitField { .. } => ("BitField", false),
        Widget::ArrayTrace { .. } => ("ArrayTrace", false),
        Widget::ImageRead { .. } => ("ImageRead", false),
        Widget::TextRead(_) => ("TextUpdate", false),
        Widget::CheckBox => ("CheckBox", false),
        Widget::ComboBox { .. } => ("ComboBox", false),
        Widget::TextWrite(_) => ("TextEntry", false),
        Widget::TableRead(_) | Widget::TableWrite(_) => ("Table", false),
        Widget::ButtonPanel(_) | Widget::ArrayWrite => {
            return Err(Diagnostic::plain(
                None,
                format!("pvi has no .bob widget for `{}`", widget.type_name()),
            ))
        }
    })
}

fn text_format_code(f: &str) -> &'static str {
    match f {
        "decimal" => "1",
        "hexadecimal" => "4",
        "engineer" => "3",
        "exponential" => "2",
        _ => "6",
    }
}

fn pv_element(b: Bounds, pv: &str, widget: &Widget) -> Result<Element, Diagnostic> {
    let (name, square) = pv_template(widget)?;
    let mut el = template(name)?;
    let wtype = el
        .attrs
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let b = if square { b.square() } else { b };
    let pv_tag = if matches!(widget, Widget::ArrayTrace { .. }) {
        "y_pv"
    } else {
        "pv_name"
    };
    let pv_text = if wtype == "table" && !pv.starts_with("pva://") {
        format!("pva://{pv}")
    } else {
        pv.to_string()
    };
    set(&mut el, pv_tag, pv_text)?;
    if let Widget::BitField { number_of_bits } = widget {
        set_bounds(
            &mut el,
            Bounds {
                w: number_of_bits * 20,
                ..b
            },
            false,
        )?;
    } else {
        set_bounds(&mut el, b, true)?;
    }
    add_widget_settings(&mut el, widget);
    Ok(el)
}

/// The settings a widget type adds to its template: combo box items, table columns,
/// text format and precision, bit count, image colours and axes, trace axes.
fn add_widget_settings(el: &mut Element, widget: &Widget) {
    match widget {
        Widget::ComboBox { choices } if !choices.is_empty() => {
            let items = el.sub("items");
            for c in choices {
                items.kids().push(Element::with_text("item", c.clone()));
            }
            el.kids().push(Element::with_text("items_from_pv", "false"));
        }
        Widget::TableRead(cols) | Widget::TableWrite(cols) if !cols.is_empty() => {
            add_table_columns(el, cols, widget);
        }
        Widget::TextRead(t) | Widget::TextWrite(t) => {
            if let Some(f) = &t.format {
                el.kids()
                    .push(Element::with_text("format", text_format_code(f)));
            }
            if let Some(p) = t.precision {
                el.kids()
                    .push(Element::with_text("precision", p.to_string()));
            }
        }
        Widget::BitField { number_of_bits } => {
            el.kids()
                .push(Element::with_text("numBits", number_of_bits.to_string()));
        }
        Widget::ImageRead {
            color_map,
            color_bar,
            axes,
            ..
        } => {
            el.sub("color_map").kids().push(Element::with_text(
                "name",
                if *color_map == 0 { "GRAY" } else { "VIRIDIS" },
            ));
            el.sub("color_bar")
                .kids()
                .push(Element::with_text("visible", bool_text(*color_bar)));
            if !axes {
                for axis in ["x_axis", "y_axis"] {
                    let a = el.sub(axis);
                    a.kids().push(Element::with_text("visible", "false"));
                    a.kids().push(Element::with_text("title", ""));
                }
            }
        }
        Widget::ArrayTrace { axis, .. } => {
            let x = el.sub("x_axis");
            x.kids().push(Element::with_text("title", ""));
            x.kids().push(Element::with_text("autoscale", "true"));
            let y = el.sub("y_axes").sub("y_axis");
            y.kids().push(Element::with_text("title", axis.clone()));
            y.kids().push(Element::with_text("autoscale", "true"));
        }
        _ => {}
    }
}

/// A table's columns (name, editable, options for boolean and choice columns), then
/// whether the table itself is editable.
fn add_table_columns(el: &mut Element, cols: &[Widget], widget: &Widget) {
    let columns = el.sub("columns");
    for (i, w) in cols.iter().enumerate() {
        let col = columns.sub("column");
        col.kids()
            .push(Element::with_text("name", format!("Column {}", i + 1)));
        col.kids().push(Element::with_text(
            "editable",
            if w.is_write() { "true" } else { "false" },
        ));
        let options: Vec<String> = match w {
            Widget::Led | Widget::CheckBox => vec!["false".into(), "true".into()],
            Widget::ComboBox { choices } => choices.clone(),
            _ => Vec::new(),
        };
        if !options.is_empty() {
            let o = col.sub("options");
            for opt in options {
                o.kids().push(Element::with_text("option", opt));
            }
        }
    }
    el.kids().push(Element::with_text(
        "editable",
        if widget.is_write() { "true" } else { "false" },
    ));
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn element(w: &Placed) -> Result<Element, Diagnostic> {
    Ok(match w {
        Placed::Label { b, text, tooltip } => {
            let mut el = template("Label")?;
            set(&mut el, "text", text)?;
            set(&mut el, "tooltip", tooltip)?;
            set_bounds(&mut el, *b, true)?;
            el
        }
        Placed::Header { b, text } => {
            let mut el = template("Heading")?;
            set(&mut el, "text", text)?;
            set_bounds(&mut el, *b, true)?;
            el
        }
        Placed::Pv { b, pv, widget } => pv_element(*b, pv, widget)?,
        Placed::Action {
            b,
            label,
            pv,
            value,
        } => {
            let mut el = template("WritePV")?;
            set(&mut el, "text", label)?;
            set(&mut el, "pv_name", pv)?;
            set(&mut el, "value", value)?;
            set(&mut el, "tooltip", format!("{pv} = {value}\n$(pv_value)"))?;
            set_bounds(&mut el, *b, true)?;
            el
        }
        Placed::OpenDisplay {
            b,
            label,
            file_name,
            macros,
            ..
        } => {
            let mut el = template("OpenDisplay")?;
            let file = if file_name.ends_with(".bob") {
                file_name.clone()
            } else {
                format!("{file_name}.bob")
            };
            set(&mut el, "file", file)?;
            set(&mut el, "text", label)?;
            if !macros.is_empty() {
                let Some(action) = el.find_mut("action") else {
                    return Err(Diagnostic::plain(
                        None,
                        "OpenDisplay template has no action",
                    ));
                };
                let m = action.sub("macros");
                for (k, v) in macros {
                    m.kids().push(Element::with_text(k.clone(), v.clone()));
                }
            }
            set_bounds(&mut el, *b, true)?;
            el
        }
        Placed::Group { b, title, children } => {
            let mut el = template("Group")?;
            set(&mut el, "name", title)?;
            set_bounds(&mut el, *b, true)?;
            for c in children {
                el.kids().push(element(c)?);
            }
            el
        }
    })
}

/// The `.bob` file text of a screen.
pub fn format_bob(screen: &Screen) -> Result<String, Diagnostic> {
    let mut display = catalogue().display.clone();
    set_bounds(&mut display, screen.b, true)?;
    if screen.titled {
        let mut title = template("Title")?;
        set(&mut title, "text", &screen.title)?;
        set_bounds(
            &mut title,
            Bounds {
                x: 0,
                y: 0,
                w: screen.b.w,
                h: 25,
            },
            true,
        )?;
        display.kids().push(title);
    }
    for c in &screen.children {
        display.kids().push(element(c)?);
    }
    // pvi names the display after the screen title, even an empty one
    if let Some(n) = display.find_mut("name") {
        n.text = Some(Cow::Owned(screen.title.clone()));
    }
    let mut out = String::with_capacity(64 * 1024);
    display.write(0, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_with_every_widget_pvi_uses() {
        for name in [
            "Title",
            "Label",
            "Heading",
            "TextEntry",
            "TextUpdate",
            "WritePV",
            "ComboBox",
            "Group",
            "CheckBox",
            "ProgressBar",
            "OpenDisplay",
            "Table",
            "BitField",
            "ArrayTrace",
            "ImageRead",
            "ToggleButton",
            "LED",
        ] {
            assert!(template(name).is_ok(), "{name}");
        }
        assert_eq!(catalogue().display.child_text("grid_step_y"), Some("4"));
    }

    #[test]
    fn serialises_like_lxml() {
        let mut a = Element::new("a");
        a.kids().push(Element::with_text("t", ""));
        a.kids().push(Element::new("u"));
        let mut v = Element::with_text("v", "x\"y<>&'\u{e9}\u{29c9}");
        v.attrs.push(("k".into(), "a\"b<>&'\n".into()));
        a.kids().push(v);
        let mut out = String::new();
        a.write(0, &mut out);
        assert_eq!(
            out,
            "<a>\n  <t></t>\n  <u/>\n  <v k=\"a&quot;b&lt;&gt;&amp;'&#10;\">x\"y&lt;&gt;&amp;'&#233;&#10697;</v>\n</a>\n"
        );
    }
}
