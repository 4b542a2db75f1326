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
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::OnceLock;

use super::device::Widget;
use super::screen::{Bounds, Placed, Screen};
use super::stencil::{push_close, push_indent, push_int, push_leaf, push_open, Stencil, Tail, Val};
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

    pub(super) fn write_inline_start(&self, out: &mut String) {
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

pub(super) fn escape(s: &str, attr: bool, out: &mut String) {
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

/// The widget catalogue: the screen element and widget templates by name,
/// each also cut into a stencil.
struct Catalogue {
    widgets: Vec<Element>,
    /// The display's stencil, then each widget's, in catalogue order.
    stencils: Vec<Option<Stencil>>,
}

impl Catalogue {
    fn display_stencil(&self) -> Result<&Stencil, Diagnostic> {
        self.stencils
            .first()
            .and_then(Option::as_ref)
            .ok_or_else(|| Diagnostic::plain(None, "pvi's DLS display template cannot be cut"))
    }
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
        let stencils = std::iter::once(&display)
            .chain(&widgets)
            .map(Stencil::new)
            .collect();
        Catalogue { widgets, stencils }
    })
}

/// The stencil of the catalogue widget `name`.
fn stencil(name: &str) -> Result<&'static Stencil, Diagnostic> {
    let cat = catalogue();
    let i = cat
        .widgets
        .iter()
        .position(|w| w.child_text("name") == Some(name))
        .ok_or_else(|| {
            Diagnostic::plain(
                None,
                format!("pvi's DLS widget catalogue has no `{name}` widget"),
            )
        })?;
    cat.stencils[i + 1].as_ref().ok_or_else(|| {
        Diagnostic::plain(
            None,
            format!("pvi's DLS widget `{name}` cannot be cut into a stencil"),
        )
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

/// Writes a PV widget at `level`: its catalogue entry with the PV and
/// geometry set, then the elements its widget type adds.
fn write_pv(
    b: Bounds,
    pv: &str,
    widget: &Widget,
    level: usize,
    out: &mut String,
) -> Result<(), Diagnostic> {
    let (name, square) = pv_template(widget)?;
    let st = stencil(name)?;
    let b = if square { b.square() } else { b };
    let pv_tag = if matches!(widget, Widget::ArrayTrace { .. }) {
        "y_pv"
    } else {
        "pv_name"
    };
    let pv_text: Cow<str> = if st.wtype == "table" && !pv.starts_with("pva://") {
        Cow::Owned(format!("pva://{pv}"))
    } else {
        Cow::Borrowed(pv)
    };
    let vals = match widget {
        // a bit field is as wide as its bits and keeps the catalogue's height
        Widget::BitField { number_of_bits } => [
            (pv_tag, Val::Str(&pv_text)),
            ("x", Val::Int(b.x)),
            ("y", Val::Int(b.y)),
            ("width", Val::Int(number_of_bits * 20)),
            ("height", Val::Str("")),
        ],
        _ => [
            (pv_tag, Val::Str(&pv_text)),
            ("x", Val::Int(b.x)),
            ("y", Val::Int(b.y)),
            ("width", Val::Int(b.w)),
            ("height", Val::Int(b.h)),
        ],
    };
    st.put(level, out, &vals, &mut |at, level, out| {
        if at == Tail::Widget {
            write_widget_settings(widget, level, out);
        }
        Ok(())
    })
}

/// The settings a widget type adds to its template: combo box items, table columns,
/// text format and precision, bit count, image colours and axes, trace axes.
fn write_widget_settings(widget: &Widget, level: usize, out: &mut String) {
    match widget {
        Widget::ComboBox { choices } if !choices.is_empty() => {
            push_open(level, "items", out);
            for c in choices {
                push_leaf(level + 1, "item", c, out);
            }
            push_close(level, "items", out);
            push_leaf(level, "items_from_pv", "false", out);
        }
        Widget::TableRead(cols) | Widget::TableWrite(cols) if !cols.is_empty() => {
            write_table_columns(cols, widget, level, out);
        }
        Widget::TextRead(t) | Widget::TextWrite(t) => {
            if let Some(f) = &t.format {
                push_leaf(level, "format", text_format_code(f), out);
            }
            if let Some(p) = t.precision {
                push_indent(level, out);
                out.push_str("<precision>");
                push_int(p, out);
                out.push_str("</precision>\n");
            }
        }
        Widget::BitField { number_of_bits } => {
            push_indent(level, out);
            out.push_str("<numBits>");
            push_int(*number_of_bits, out);
            out.push_str("</numBits>\n");
        }
        Widget::ImageRead {
            color_map,
            color_bar,
            axes,
            ..
        } => {
            push_open(level, "color_map", out);
            let map = if *color_map == 0 { "GRAY" } else { "VIRIDIS" };
            push_leaf(level + 1, "name", map, out);
            push_close(level, "color_map", out);
            push_open(level, "color_bar", out);
            push_leaf(level + 1, "visible", bool_text(*color_bar), out);
            push_close(level, "color_bar", out);
            if !axes {
                for axis in ["x_axis", "y_axis"] {
                    push_open(level, axis, out);
                    push_leaf(level + 1, "visible", "false", out);
                    push_leaf(level + 1, "title", "", out);
                    push_close(level, axis, out);
                }
            }
        }
        Widget::ArrayTrace { axis, .. } => {
            push_open(level, "x_axis", out);
            push_leaf(level + 1, "title", "", out);
            push_leaf(level + 1, "autoscale", "true", out);
            push_close(level, "x_axis", out);
            push_open(level, "y_axes", out);
            push_open(level + 1, "y_axis", out);
            push_leaf(level + 2, "title", axis, out);
            push_leaf(level + 2, "autoscale", "true", out);
            push_close(level + 1, "y_axis", out);
            push_close(level, "y_axes", out);
        }
        _ => {}
    }
}

/// A table's columns (name, editable, options for boolean and choice columns), then
/// whether the table itself is editable.
fn write_table_columns(cols: &[Widget], widget: &Widget, level: usize, out: &mut String) {
    push_open(level, "columns", out);
    for (i, w) in cols.iter().enumerate() {
        push_open(level + 1, "column", out);
        push_leaf(level + 2, "name", &format!("Column {}", i + 1), out);
        push_leaf(level + 2, "editable", bool_text(w.is_write()), out);
        let options: Vec<&str> = match w {
            Widget::Led | Widget::CheckBox => vec!["false", "true"],
            Widget::ComboBox { choices } => choices.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        if !options.is_empty() {
            push_open(level + 2, "options", out);
            for opt in options {
                push_leaf(level + 3, "option", opt, out);
            }
            push_close(level + 2, "options", out);
        }
        push_close(level + 1, "column", out);
    }
    push_close(level, "columns", out);
    push_leaf(level, "editable", bool_text(widget.is_write()), out);
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn bounds(b: Bounds) -> [(&'static str, Val<'static>); 4] {
    [
        ("x", Val::Int(b.x)),
        ("y", Val::Int(b.y)),
        ("width", Val::Int(b.w)),
        ("height", Val::Int(b.h)),
    ]
}

/// Writes a laid-out widget (and a group's children) at `level`.
fn write_placed(w: &Placed, level: usize, out: &mut String) -> Result<(), Diagnostic> {
    match w {
        Placed::Label { b, text, tooltip } => {
            let [x, y, wd, h] = bounds(*b);
            let vals = [
                ("text", Val::Str(text)),
                ("tooltip", Val::Str(tooltip)),
                x,
                y,
                wd,
                h,
            ];
            stencil("Label")?.put(level, out, &vals, &mut |_, _, _| Ok(()))
        }
        Placed::Header { b, text } => {
            let [x, y, wd, h] = bounds(*b);
            let vals = [("text", Val::Str(text)), x, y, wd, h];
            stencil("Heading")?.put(level, out, &vals, &mut |_, _, _| Ok(()))
        }
        Placed::Pv { b, pv, widget } => write_pv(*b, pv, widget, level, out),
        Placed::Action {
            b,
            label,
            pv,
            value,
        } => {
            let tooltip = format!("{pv} = {value}\n$(pv_value)");
            let [x, y, wd, h] = bounds(*b);
            let vals = [
                ("text", Val::Str(label)),
                ("pv_name", Val::Str(pv)),
                ("value", Val::Str(value)),
                ("tooltip", Val::Str(&tooltip)),
                x,
                y,
                wd,
                h,
            ];
            stencil("WritePV")?.put(level, out, &vals, &mut |_, _, _| Ok(()))
        }
        Placed::OpenDisplay {
            b,
            label,
            file_name,
            macros,
            ..
        } => write_open_display(*b, label, file_name, macros, level, out),
        Placed::Group { b, title, children } => {
            let [x, y, wd, h] = bounds(*b);
            let vals = [("name", Val::Str(title)), x, y, wd, h];
            stencil("Group")?.put(level, out, &vals, &mut |at, level, out| {
                if at == Tail::Widget {
                    for c in children {
                        write_placed(c, level, out)?;
                    }
                }
                Ok(())
            })
        }
    }
}

fn display_file(file_name: &str) -> Cow<'_, str> {
    if file_name.ends_with(".bob") {
        Cow::Borrowed(file_name)
    } else {
        Cow::Owned(format!("{file_name}.bob"))
    }
}

/// A button opening a screen. pvi adds the macros to the button's action
/// before it sets the geometry, and sets the first element of each name:
/// a macro named like a geometry element takes that value. That rare case
/// is written from an element tree, which follows the rule whole.
fn write_open_display(
    b: Bounds,
    label: &str,
    file_name: &str,
    macros: &[(String, String)],
    level: usize,
    out: &mut String,
) -> Result<(), Diagnostic> {
    let st = stencil("OpenDisplay")?;
    if macros.iter().any(|(k, _)| st.settable(k)) {
        open_display_tree(b, label, file_name, macros)?.write(level, out);
        return Ok(());
    }
    let file = display_file(file_name);
    let [x, y, wd, h] = bounds(b);
    let vals = [
        ("file", Val::Str(&file)),
        ("text", Val::Str(label)),
        x,
        y,
        wd,
        h,
    ];
    st.put(level, out, &vals, &mut |at, level, out| {
        if at == Tail::Action && !macros.is_empty() {
            push_open(level, "macros", out);
            for (k, v) in macros {
                push_leaf(level + 1, k, v, out);
            }
            push_close(level, "macros", out);
        }
        Ok(())
    })
}

/// [`write_open_display`] as an element tree.
fn open_display_tree(
    b: Bounds,
    label: &str,
    file_name: &str,
    macros: &[(String, String)],
) -> Result<Element, Diagnostic> {
    let mut el = template("OpenDisplay")?;
    set(&mut el, "file", display_file(file_name).into_owned())?;
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
    set_bounds(&mut el, b, true)?;
    Ok(el)
}

/// The `.bob` file text of a screen.
///
/// The text is built in a buffer each thread keeps and copied out at its
/// size, so the growing of a string (its copies and the fresh memory each
/// takes) is paid once a thread rather than once a screen.
pub fn format_bob(screen: &Screen) -> Result<String, Diagnostic> {
    thread_local! {
        static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
    }
    SCRATCH.with_borrow_mut(|out| {
        out.clear();
        write_screen(screen, out)?;
        Ok(out.as_str().to_owned())
    })
}

fn write_screen(screen: &Screen, out: &mut String) -> Result<(), Diagnostic> {
    let cat = catalogue();
    let [x, y, wd, h] = bounds(screen.b);
    // pvi names the display after the screen title, even an empty one
    let vals = [("name", Val::Always(&screen.title)), x, y, wd, h];
    cat.display_stencil()?
        .put(0, out, &vals, &mut |at, level, out| {
            if at != Tail::Widget {
                return Ok(());
            }
            if screen.titled {
                let title = Bounds {
                    x: 0,
                    y: 0,
                    w: screen.b.w,
                    h: 25,
                };
                let [x, y, wd, h] = bounds(title);
                let vals = [("text", Val::Str(&screen.title)), x, y, wd, h];
                stencil("Title")?.put(level, out, &vals, &mut |_, _, _| Ok(()))?;
            }
            for c in &screen.children {
                write_placed(c, level, out)?;
            }
            Ok(())
        })
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
        let screen = Screen {
            b: Bounds {
                x: 0,
                y: 0,
                w: 10,
                h: 10,
            },
            title: String::new(),
            titled: false,
            children: Vec::new(),
        };
        assert!(format_bob(&screen)
            .unwrap()
            .contains("\n  <grid_step_y>4</grid_step_y>\n"));
    }

    #[test]
    fn open_display_written_from_the_stencil_as_from_the_tree() {
        let b = Bounds {
            x: 5,
            y: 6,
            w: 70,
            h: 20,
        };
        let macros = vec![
            ("P".to_string(), "BL01:".to_string()),
            ("R".to_string(), "<&>".to_string()),
        ];
        for (file, m) in [("sub", Vec::new()), ("sub.bob", macros)] {
            let mut fast = String::new();
            write_open_display(b, "Open", file, &m, 2, &mut fast).unwrap();
            let mut tree = String::new();
            open_display_tree(b, "Open", file, &m)
                .unwrap()
                .write(2, &mut tree);
            assert_eq!(fast, tree);
        }
        // a macro named like a geometry element takes its value, as in pvi,
        // and the button keeps the catalogue's
        let m = vec![("x".to_string(), "1".to_string())];
        let mut out = String::new();
        write_open_display(b, "Open", "sub", &m, 0, &mut out).unwrap();
        assert!(out.contains("<macros>\n        <x>5</x>\n"), "{out}");
        assert!(out.contains("\n  <x>18</x>\n"), "{out}");
    }

    #[test]
    fn every_catalogue_entry_cuts_into_a_stencil() {
        let cat = catalogue();
        assert_eq!(cat.stencils.len(), cat.widgets.len() + 1);
        assert!(cat.stencils.iter().all(Option::is_some));
        // an unknown element to set is an error, as setting it in a tree is
        let mut out = String::new();
        let err = stencil("Label")
            .unwrap()
            .put(
                0,
                &mut out,
                &[("pv_name", Val::Str("X"))],
                &mut |_, _, _| Ok(()),
            )
            .unwrap_err();
        assert!(
            err.message.contains("no `pv_name` element"),
            "{}",
            err.message
        );
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
