//! The pvi device model: `*.pvi.device.yaml` as pvi 0.14.4 reads it.
//!
//! A [`Device`] is a label and a tree of components: groups with a layout,
//! signals (`SignalR`, `SignalW`, `SignalRW`, `SignalX`) with their read and
//! write widgets, references, and `Include` statements. Files are read with
//! [`crate::source::load_yaml`] and checked as pvi's pydantic models check
//! them (unknown keys, missing fields and bad types are errors naming the
//! file and line). `parent` chains and includes are resolved by
//! [`resolve_parents`] with pvi's merge rules, so the formatters below see
//! the same tree pvi formats.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::source::{load_yaml, Node, NodeKind, SourceFile};

/// A widget that shows or controls a PV.
#[derive(Debug, Clone, PartialEq)]
pub enum Widget {
    /// LED of a boolean PV.
    Led,
    /// LED per bit of an int PV.
    BitField {
        /// Bits shown.
        number_of_bits: i64,
    },
    /// Progress bar.
    ProgressBar,
    /// Text view.
    TextRead(TextOptions),
    /// Plot trace of an array.
    ArrayTrace {
        /// Axis name.
        axis: String,
        /// Widget width.
        width: i64,
        /// Widget height.
        height: i64,
    },
    /// 2D image of an NTNDArray.
    ImageRead {
        /// Widget width.
        width: i64,
        /// Widget height.
        height: i64,
        /// 0 grey, otherwise colour.
        color_map: i64,
        /// Draw the colour bar.
        color_bar: bool,
        /// Draw axes.
        axes: bool,
    },
    /// Read-only table; one widget per column.
    TableRead(Vec<Widget>),
    /// Check box.
    CheckBox,
    /// Two-state toggle.
    ToggleButton,
    /// Enum selection.
    ComboBox {
        /// Choices; empty means from the PV.
        choices: Vec<String>,
    },
    /// Buttons writing fixed values: label → value.
    ButtonPanel(Vec<(String, String)>),
    /// Text entry.
    TextWrite(TextOptions),
    /// Control of an array PV (pvi has no screen widget for it).
    ArrayWrite,
    /// Writeable table; one widget per column.
    TableWrite(Vec<Widget>),
}

impl Widget {
    /// Whether pvi counts this among its write widgets.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Widget::CheckBox
                | Widget::ToggleButton
                | Widget::ComboBox { .. }
                | Widget::ButtonPanel(_)
                | Widget::TextWrite(_)
                | Widget::ArrayWrite
                | Widget::TableWrite(_)
        )
    }

    /// The widget's pvi class name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Widget::Led => "LED",
            Widget::BitField { .. } => "BitField",
            Widget::ProgressBar => "ProgressBar",
            Widget::TextRead(_) => "TextRead",
            Widget::ArrayTrace { .. } => "ArrayTrace",
            Widget::ImageRead { .. } => "ImageRead",
            Widget::TableRead(_) => "TableRead",
            Widget::CheckBox => "CheckBox",
            Widget::ToggleButton => "ToggleButton",
            Widget::ComboBox { .. } => "ComboBox",
            Widget::ButtonPanel(_) => "ButtonPanel",
            Widget::TextWrite(_) => "TextWrite",
            Widget::ArrayWrite => "ArrayWrite",
            Widget::TableWrite(_) => "TableWrite",
        }
    }

    /// `ImageRead` and `ArrayTrace` get a screen of their own.
    pub fn is_plot(&self) -> bool {
        matches!(self, Widget::ImageRead { .. } | Widget::ArrayTrace { .. })
    }
}

/// Options of text widgets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextOptions {
    /// Lines shown (1 when unset).
    pub lines: Option<i64>,
    /// Display format name (`decimal`, `hexadecimal`, ...).
    pub format: Option<String>,
    /// Decimal places.
    pub precision: Option<i64>,
}

/// How a group lays out its children.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// Children are traces of a plot.
    Plot,
    /// Children are columns of one row.
    Row {
        /// Column headers.
        header: Option<Vec<String>>,
    },
    /// Children are rows of a grid.
    Grid {
        /// Show child labels.
        labelled: bool,
        /// Stack read/write widgets vertically.
        stacked: bool,
    },
    /// Children go on another screen opened by a button.
    SubScreen {
        /// Show child labels.
        labelled: bool,
        /// Stack read/write widgets vertically.
        stacked: bool,
    },
}

/// What a component is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A group of components.
    Group {
        /// Its layout.
        layout: Layout,
        /// Its children.
        children: Vec<Component>,
    },
    /// Read-only signal.
    SignalR {
        /// Readback PV.
        read_pv: String,
        /// Widget; `None` shows nothing.
        read_widget: Option<Widget>,
    },
    /// Write-only signal.
    SignalW {
        /// Demand PV.
        write_pv: String,
        /// Widget.
        write_widget: Widget,
    },
    /// Read/write signal.
    SignalRW {
        /// Readback PV (the demand PV when not given).
        read_pv: String,
        /// Demand PV.
        write_pv: String,
        /// Readback widget.
        read_widget: Option<Widget>,
        /// Demand widget.
        write_widget: Widget,
    },
    /// Signal that writes a fixed value.
    SignalX {
        /// PV written.
        write_pv: String,
        /// Value written.
        value: String,
        /// Always a `ButtonPanel`.
        write_widget: Widget,
    },
    /// Left off screens.
    Ignored,
    /// Repeats a signal of the same name.
    SignalRef,
    /// Button opening another device's screen.
    DeviceRef {
        /// The other device's PVI PV.
        pv: String,
        /// Its screen file.
        ui: String,
        /// Macros passed to it.
        macros: Vec<(String, String)>,
    },
}

/// A named member of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// PascalCase name.
    pub name: String,
    /// Label (title-cased name when unset).
    pub label: Option<String>,
    /// Tooltip description.
    pub description: Option<String>,
    /// What it is.
    pub kind: Kind,
}

impl Component {
    /// The label shown on screens: pvi's `get_label`.
    pub fn get_label(&self) -> String {
        match &self.label {
            Some(l) if !l.is_empty() => l.clone(),
            _ => to_title_case(&self.name),
        }
    }

    /// Readback PV and widget, for every kind pvi treats as a `SignalR`.
    pub fn read(&self) -> Option<(&str, Option<&Widget>)> {
        match &self.kind {
            Kind::SignalR {
                read_pv,
                read_widget,
            }
            | Kind::SignalRW {
                read_pv,
                read_widget,
                ..
            } => Some((read_pv, read_widget.as_ref())),
            _ => None,
        }
    }

    /// Demand PV and widget, for every kind pvi treats as a `SignalW`.
    pub fn write(&self) -> Option<(&str, &Widget)> {
        match &self.kind {
            Kind::SignalW {
                write_pv,
                write_widget,
            }
            | Kind::SignalRW {
                write_pv,
                write_widget,
                ..
            }
            | Kind::SignalX {
                write_pv,
                write_widget,
                ..
            } => Some((write_pv, write_widget)),
            _ => None,
        }
    }

    /// The read widget when it is a plot (`ImageRead`, `ArrayTrace`).
    pub fn plot_widget(&self) -> Option<&Widget> {
        self.read().and_then(|(_, w)| w).filter(|w| w.is_plot())
    }

    /// The group layout, for groups.
    pub fn layout(&self) -> Option<&Layout> {
        match &self.kind {
            Kind::Group { layout, .. } => Some(layout),
            _ => None,
        }
    }
}

/// An `Include` statement (or a `parent`).
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    /// Device name (file name without `.pvi.device.yaml`).
    pub file_name: String,
    /// Put the components into a sub-screen group.
    pub in_subscreen: bool,
    /// Macros re-scoping the included PVs.
    pub macros: Option<Vec<(String, String)>>,
}

/// A child of a device before includes are resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A component.
    Component(Component),
    /// An include.
    Include(Include),
}

/// A pvi device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Screen title.
    pub label: String,
    /// Deprecated parent device name.
    pub parent: Option<String>,
    /// Children as written (components and includes).
    pub children: Vec<Item>,
    /// The components after [`resolve_parents`].
    pub resolved: Vec<Component>,
}

impl Device {
    /// The resolved components.
    pub fn components(&self) -> &[Component] {
        &self.resolved
    }
}

/// pvi's `to_title_case`: `PascalCaseName` → `Pascal Case Name`.
///
/// pvi's regex is `(?<![A-Z])[A-Z]|[A-Z][a-z/d]|(?<=[a-z])\d` (the `/d` is a
/// typo for `\d` that makes `/` and `d` count as lower case); every match
/// gets a space in front and the first character of the result is dropped.
pub fn to_title_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        if c.is_ascii_uppercase() && !prev.is_some_and(|p| p.is_ascii_uppercase()) {
            out.push(' ');
            out.push(c);
            i += 1;
        } else if c.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase() || n == '/')
        {
            out.push(' ');
            out.push(c);
            out.push(next.unwrap_or_default());
            i += 2;
        } else if c.is_ascii_digit() && prev.is_some_and(|p| p.is_ascii_lowercase()) {
            out.push(' ');
            out.push(c);
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    let mut it = out.chars();
    it.next();
    it.as_str().to_string()
}

/// pvi's `enforce_pascal_case`, used for index button names.
pub fn enforce_pascal_case(s: &str) -> String {
    let cleaned: String = s.chars().filter(char::is_ascii_alphanumeric).collect();
    let mut it = cleaned.chars();
    match it.next() {
        Some(first) => first.to_uppercase().chain(it).collect(),
        None => String::new(),
    }
}

/// pvi's `PascalStr` pattern `^([A-Z][a-z0-9]*)*$`.
pub fn is_pascal(s: &str) -> bool {
    s.chars().next().is_none_or(|c| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// The suffix every device file name ends with.
pub const DEVICE_SUFFIX: &str = ".pvi.device.yaml";

/// Reads and checks one device file.
pub fn load_device(path: &Path) -> Result<Device, Diagnostic> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.ends_with(DEVICE_SUFFIX) {
        return Err(Diagnostic::plain(
            None,
            format!(
                "pvi device file `{}` does not end with `{DEVICE_SUFFIX}`",
                path.display()
            ),
        )
        .with_hint("pvi only reads device files named DEVICE.pvi.device.yaml"));
    }
    let (src, root) = load_yaml(path)?;
    Reader { src: &src }.device(&root)
}

struct Reader<'a> {
    src: &'a Arc<SourceFile>,
}

type R<T> = Result<T, Diagnostic>;

impl Reader<'_> {
    fn err(&self, node: &Node, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.src, node.span, msg.into())
            .with_hint("see pvi 0.14.4's device schema (pvi.device.schema.json)")
    }

    fn map<'n>(&self, node: &'n Node, what: &str, allowed: &[&str]) -> R<&'n [(Node, Node)]> {
        let Some(entries) = node.as_map() else {
            return Err(self.err(node, format!("{what} must be a mapping")));
        };
        for (k, _) in entries {
            let key = k.key_text();
            if !allowed.contains(&key.as_str()) {
                return Err(self.err(
                    k,
                    format!(
                        "{what}: unknown field `{key}` (expected one of {})",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(entries)
    }

    fn string(&self, node: &Node, what: &str) -> R<String> {
        match &node.kind {
            NodeKind::Str(s) => Ok(s.clone()),
            _ => Err(self.err(
                node,
                format!("{what} must be a string, got {}", node.type_name()),
            )),
        }
    }

    fn opt_string(&self, node: Option<&Node>, what: &str) -> R<Option<String>> {
        match node {
            None => Ok(None),
            Some(n) if matches!(n.kind, NodeKind::Null) => Ok(None),
            Some(n) => self.string(n, what).map(Some),
        }
    }

    fn req<'n>(&self, parent: &'n Node, key: &str, what: &str) -> R<&'n Node> {
        parent
            .get(key)
            .ok_or_else(|| self.err(parent, format!("{what}: missing field `{key}`")))
    }

    fn boolean(&self, node: Option<&Node>, default: bool, what: &str) -> R<bool> {
        match node.map(|n| (&n.kind, n)) {
            None => Ok(default),
            Some((NodeKind::Bool(b), _)) => Ok(*b),
            Some((NodeKind::Int(0), _)) => Ok(false),
            Some((NodeKind::Int(1), _)) => Ok(true),
            Some((_, n)) => Err(self.err(n, format!("{what} must be a boolean"))),
        }
    }

    fn int(&self, node: Option<&Node>, what: &str) -> R<Option<i64>> {
        match node.map(|n| (&n.kind, n)) {
            None | Some((NodeKind::Null, _)) => Ok(None),
            // screens are laid out in pixels: far beyond any screen is refused
            // rather than overflowing the geometry
            Some((NodeKind::Int(i), n)) => i64::try_from(*i)
                .ok()
                .filter(|v| v.abs() <= 1_000_000_000)
                .map(Some)
                .ok_or_else(|| self.err(n, format!("{what} is out of range (at most 10^9)"))),
            Some((_, n)) => Err(self.err(n, format!("{what} must be an integer"))),
        }
    }

    fn strings(&self, node: Option<&Node>, what: &str) -> R<Option<Vec<String>>> {
        match node {
            None => Ok(None),
            Some(n) if matches!(n.kind, NodeKind::Null) => Ok(None),
            Some(n) => {
                let Some(items) = n.as_seq() else {
                    return Err(self.err(n, format!("{what} must be a list of strings")));
                };
                items
                    .iter()
                    .map(|i| self.string(i, what))
                    .collect::<R<_>>()
                    .map(Some)
            }
        }
    }

    fn string_map(&self, node: &Node, what: &str) -> R<Vec<(String, String)>> {
        let Some(entries) = node.as_map() else {
            return Err(self.err(node, format!("{what} must be a mapping of strings")));
        };
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in entries {
            let key = self.string(k, what)?;
            let value = self.string(v, what)?;
            // a later duplicate replaces the value in place, as in a Python dict
            if let Some(slot) = out.iter_mut().find(|(k2, _)| *k2 == key) {
                slot.1 = value;
            } else {
                out.push((key, value));
            }
        }
        Ok(out)
    }

    fn type_of(&self, node: &Node, what: &str) -> R<String> {
        let t = self.req(node, "type", what)?;
        self.string(t, &format!("{what} `type`"))
    }

    fn device(&self, root: &Node) -> R<Device> {
        let entries = self.map(root, "device", &["type", "label", "parent", "children"])?;
        let _ = entries;
        if let Some(t) = root.get("type") {
            let t = self.string(t, "device `type`")?;
            if t != "Device" {
                return Err(self.err(root, format!("expected a Device, got `{t}`")));
            }
        }
        let label = self.string(self.req(root, "label", "device")?, "device `label`")?;
        let parent = self.opt_string(root.get("parent"), "device `parent`")?;
        let children = self.items(root.get("children"))?;
        Ok(Device {
            label,
            parent,
            children,
            resolved: Vec::new(),
        })
    }

    fn items(&self, node: Option<&Node>) -> R<Vec<Item>> {
        let Some(node) = node else {
            return Ok(Vec::new());
        };
        let Some(seq) = node.as_seq() else {
            return Err(self.err(node, "`children` must be a list"));
        };
        seq.iter().map(|n| self.item(n)).collect()
    }

    fn item(&self, node: &Node) -> R<Item> {
        let t = self.type_of(node, "child")?;
        if t == "Include" {
            self.map(
                node,
                "Include",
                &["type", "file_name", "in_subscreen", "macros"],
            )?;
            let file_name = self.string(
                self.req(node, "file_name", "Include")?,
                "Include `file_name`",
            )?;
            let in_subscreen = self.boolean(node.get("in_subscreen"), false, "`in_subscreen`")?;
            let macros = match node.get("macros") {
                None => None,
                Some(n) if matches!(n.kind, NodeKind::Null) => None,
                Some(n) => Some(self.string_map(n, "Include `macros`")?),
            };
            return Ok(Item::Include(Include {
                file_name,
                in_subscreen,
                macros,
            }));
        }
        self.component(node, &t).map(Item::Component)
    }

    fn component(&self, node: &Node, t: &str) -> R<Component> {
        const COMMON: [&str; 4] = ["type", "name", "label", "description"];
        let extra: &[&str] = match t {
            "Group" => &["layout", "children"],
            "SignalR" => &["read_pv", "read_widget"],
            "SignalW" => &["write_pv", "write_widget"],
            "SignalRW" => &["read_pv", "read_widget", "write_pv", "write_widget"],
            "SignalX" => &["write_pv", "write_widget", "value"],
            "IgnoredComponent" | "SignalRef" => &[],
            "DeviceRef" => &["pv", "ui", "macros"],
            other => {
                return Err(self.err(
                    node,
                    format!("unknown component type `{other}` (expected Group, SignalR, SignalW, SignalRW, SignalX, IgnoredComponent, SignalRef, DeviceRef or Include)"),
                ))
            }
        };
        let allowed: Vec<&str> = COMMON.iter().chain(extra).copied().collect();
        self.map(node, t, &allowed)?;
        let name = self.string(self.req(node, "name", t)?, &format!("{t} `name`"))?;
        if !is_pascal(&name) {
            return Err(self.err(
                node,
                format!("{t} name `{name}` is not PascalCase (pattern `^([A-Z][a-z0-9]*)*$`)"),
            ));
        }
        let label = self.opt_string(node.get("label"), "`label`")?;
        let description = self.opt_string(node.get("description"), "`description`")?;
        let what = format!("{t} `{name}`");
        let pv = |key: &str| -> R<String> {
            self.string(self.req(node, key, &what)?, &format!("{what} `{key}`"))
        };
        let kind = match t {
            "Group" => Kind::Group {
                layout: self.layout(self.req(node, "layout", &what)?)?,
                children: self
                    .items(node.get("children"))?
                    .into_iter()
                    .map(|i| match i {
                        Item::Component(c) => Ok(c),
                        Item::Include(_) => Err(self.err(
                            node,
                            format!("{what}: an Include can only be a child of the device"),
                        )),
                    })
                    .collect::<R<_>>()?,
            },
            "SignalR" => Kind::SignalR {
                read_pv: pv("read_pv")?,
                read_widget: match node.get("read_widget") {
                    None => Some(Widget::TextRead(TextOptions::default())),
                    Some(n) => self.opt_widget(n, false)?,
                },
            },
            "SignalW" => Kind::SignalW {
                write_pv: pv("write_pv")?,
                write_widget: self.write_widget_or_text(node.get("write_widget"))?,
            },
            "SignalRW" => {
                let write_pv = pv("write_pv")?;
                let read_pv = match node.get("read_pv") {
                    None => String::new(),
                    Some(n) => self.string(n, &format!("{what} `read_pv`"))?,
                };
                let mut read_widget = match node.get("read_widget") {
                    None => None,
                    Some(n) => self.opt_widget(n, false)?,
                };
                // pvi's validator: a readback PV gets a TextRead unless a widget is
                // given; without one, the demand PV doubles as readback
                let read_pv = if read_pv.is_empty() {
                    write_pv.clone()
                } else {
                    if read_widget.is_none() {
                        read_widget = Some(Widget::TextRead(TextOptions::default()));
                    }
                    read_pv
                };
                Kind::SignalRW {
                    read_pv,
                    write_pv,
                    read_widget,
                    write_widget: self.write_widget_or_text(node.get("write_widget"))?,
                }
            }
            "SignalX" => {
                let write_widget = match node.get("write_widget") {
                    None => Widget::ButtonPanel(vec![("Go".into(), "1".into())]),
                    Some(n) => self.widget(n, true)?,
                };
                if !matches!(write_widget, Widget::ButtonPanel(_)) {
                    return Err(self.err(
                        node,
                        format!("{what}: SignalX write_widget must be ButtonPanel"),
                    ));
                }
                Kind::SignalX {
                    write_pv: pv("write_pv")?,
                    value: match node.get("value") {
                        None => "1".into(),
                        Some(n) => self.string(n, &format!("{what} `value`"))?,
                    },
                    write_widget,
                }
            }
            "IgnoredComponent" => Kind::Ignored,
            "SignalRef" => Kind::SignalRef,
            _ => Kind::DeviceRef {
                pv: pv("pv")?,
                ui: pv("ui")?,
                macros: match node.get("macros") {
                    None => Vec::new(),
                    Some(n) => self.string_map(n, &format!("{what} `macros`"))?,
                },
            },
        };
        Ok(Component {
            name,
            label,
            description,
            kind,
        })
    }

    fn write_widget_or_text(&self, node: Option<&Node>) -> R<Widget> {
        match node {
            None => Ok(Widget::TextWrite(TextOptions::default())),
            Some(n) => self.widget(n, true),
        }
    }

    fn opt_widget(&self, node: &Node, write: bool) -> R<Option<Widget>> {
        if matches!(node.kind, NodeKind::Null) {
            return Ok(None);
        }
        self.widget(node, write).map(Some)
    }

    fn layout(&self, node: &Node) -> R<Layout> {
        let t = self.type_of(node, "layout")?;
        Ok(match t.as_str() {
            "Plot" => {
                self.map(node, "Plot", &["type"])?;
                Layout::Plot
            }
            "Row" => {
                self.map(node, "Row", &["type", "header"])?;
                Layout::Row {
                    header: self.strings(node.get("header"), "Row `header`")?,
                }
            }
            "Grid" | "SubScreen" => {
                self.map(node, &t, &["type", "labelled", "stacked"])?;
                let labelled = self.boolean(node.get("labelled"), true, "`labelled`")?;
                let stacked = self.boolean(node.get("stacked"), false, "`stacked`")?;
                if t == "Grid" {
                    Layout::Grid { labelled, stacked }
                } else {
                    Layout::SubScreen { labelled, stacked }
                }
            }
            other => {
                return Err(self.err(
                    node,
                    format!("unknown layout `{other}` (expected Plot, Row, Grid or SubScreen)"),
                ))
            }
        })
    }

    /// A widget of the read (`write == false`) or write union.
    fn widget(&self, node: &Node, write: bool) -> R<Widget> {
        let t = self.type_of(node, "widget")?;
        let reads = [
            "ArrayTrace",
            "BitField",
            "ImageRead",
            "LED",
            "ProgressBar",
            "TableRead",
            "TextRead",
        ];
        let writes = [
            "ArrayWrite",
            "ButtonPanel",
            "CheckBox",
            "ComboBox",
            "TableWrite",
            "TextWrite",
            "ToggleButton",
        ];
        let allowed = if write { &writes } else { &reads };
        if !allowed.contains(&t.as_str()) {
            return Err(self.err(
                node,
                format!(
                    "`{t}` is not a {} widget (expected one of {})",
                    if write { "write" } else { "read" },
                    allowed.join(", ")
                ),
            ));
        }
        self.any_widget(node, &t)
    }

    fn row_widget(&self, node: &Node, write: bool) -> R<Widget> {
        let t = self.type_of(node, "widget")?;
        let allowed: &[&str] = if write {
            &["ButtonPanel", "CheckBox", "ComboBox", "TextWrite"]
        } else {
            &["BitField", "LED", "ProgressBar", "TextRead"]
        };
        if !allowed.contains(&t.as_str()) {
            return Err(self.err(
                node,
                format!(
                    "`{t}` cannot be a table column (expected one of {})",
                    allowed.join(", ")
                ),
            ));
        }
        self.any_widget(node, &t)
    }

    fn any_widget(&self, node: &Node, t: &str) -> R<Widget> {
        let fields: &[&str] = match t {
            "BitField" => &["type", "labels", "number_of_bits"],
            "TextRead" | "TextWrite" => &["type", "lines", "format", "precision"],
            "ArrayTrace" => &["type", "axis", "width", "height"],
            "ImageRead" => &["type", "width", "height", "color_map", "color_bar", "axes"],
            "TableRead" | "TableWrite" => &["type", "widgets"],
            "ComboBox" => &["type", "choices"],
            "ButtonPanel" => &["type", "actions"],
            "ArrayWrite" => &["type", "widget"],
            _ => &["type"],
        };
        self.map(node, t, fields)?;
        let text = || -> R<TextOptions> {
            let format = self.opt_string(node.get("format"), "`format`")?;
            if let Some(f) = &format {
                if ![
                    "decimal",
                    "hexadecimal",
                    "engineer",
                    "exponential",
                    "string",
                ]
                .contains(&f.as_str())
                {
                    return Err(self.err(node, format!("unknown text format `{f}`")));
                }
            }
            Ok(TextOptions {
                lines: self.int(node.get("lines"), "`lines`")?,
                format,
                precision: self.int(node.get("precision"), "`precision`")?,
            })
        };
        let table = |write: bool| -> R<Vec<Widget>> {
            match node.get("widgets") {
                None => Ok(Vec::new()),
                Some(n) => {
                    let Some(items) = n.as_seq() else {
                        return Err(self.err(n, "`widgets` must be a list"));
                    };
                    items.iter().map(|i| self.row_widget(i, write)).collect()
                }
            }
        };
        Ok(match t {
            "LED" => Widget::Led,
            "BitField" => {
                self.strings(node.get("labels"), "`labels`")?;
                let number_of_bits = self
                    .int(node.get("number_of_bits"), "`number_of_bits`")?
                    .unwrap_or(8);
                if number_of_bits <= 0 {
                    return Err(self.err(node, "`number_of_bits` must be greater than 0"));
                }
                Widget::BitField { number_of_bits }
            }
            "ProgressBar" => Widget::ProgressBar,
            "TextRead" => Widget::TextRead(text()?),
            "TextWrite" => Widget::TextWrite(text()?),
            "ArrayTrace" => Widget::ArrayTrace {
                axis: self.string(self.req(node, "axis", "ArrayTrace")?, "`axis`")?,
                width: self.int(node.get("width"), "`width`")?.unwrap_or(900),
                height: self.int(node.get("height"), "`height`")?.unwrap_or(500),
            },
            "ImageRead" => Widget::ImageRead {
                width: self.int(node.get("width"), "`width`")?.unwrap_or(900),
                height: self.int(node.get("height"), "`height`")?.unwrap_or(500),
                color_map: match self.int(node.get("color_map"), "`color_map`")? {
                    None => 0,
                    Some(v @ (0 | 1)) => v,
                    Some(_) => {
                        return Err(self.err(node, "`color_map` must be 0 (GRAY) or 1 (COLOR)"))
                    }
                },
                color_bar: self.boolean(node.get("color_bar"), false, "`color_bar`")?,
                axes: self.boolean(node.get("axes"), false, "`axes`")?,
            },
            "TableRead" => Widget::TableRead(table(false)?),
            "TableWrite" => Widget::TableWrite(table(true)?),
            "CheckBox" => Widget::CheckBox,
            "ToggleButton" => Widget::ToggleButton,
            "ComboBox" => Widget::ComboBox {
                choices: self
                    .strings(node.get("choices"), "`choices`")?
                    .unwrap_or_default(),
            },
            "ButtonPanel" => {
                let actions = match node.get("actions") {
                    None => vec![("Go".into(), "1".into())],
                    Some(n) => self.string_map(n, "ButtonPanel `actions`")?,
                };
                if let Some((bad, _)) = actions.iter().find(|(k, _)| !is_pascal(k)) {
                    return Err(self.err(
                        node,
                        format!("ButtonPanel action `{bad}` is not PascalCase"),
                    ));
                }
                Widget::ButtonPanel(actions)
            }
            _ => {
                self.row_widget(self.req(node, "widget", "ArrayWrite")?, true)?;
                Widget::ArrayWrite
            }
        })
    }
}

/// Where device files are looked for, first match wins (ibek: the IOC's
/// config folder, then `$EPICS_ROOT/pvi-defs`); each file is read once.
#[derive(Debug, Default)]
pub struct SearchPath {
    dirs: Vec<PathBuf>,
    cache: std::cell::RefCell<std::collections::HashMap<PathBuf, Device>>,
}

impl SearchPath {
    /// A search path over `dirs`.
    pub fn new(dirs: Vec<PathBuf>) -> SearchPath {
        SearchPath {
            dirs,
            cache: std::cell::RefCell::default(),
        }
    }

    /// The device file at `path`, read and checked once.
    pub fn load(&self, path: &Path) -> Result<Device, Diagnostic> {
        if let Some(d) = self.cache.borrow().get(path) {
            return Ok(d.clone());
        }
        let d = load_device(path)?;
        self.cache
            .borrow_mut()
            .insert(path.to_path_buf(), d.clone());
        Ok(d)
    }

    /// pvi's `find_pvi_yaml`: the first folder holding an entry of that name.
    pub fn find(&self, file_name: &str) -> Option<PathBuf> {
        self.dirs.iter().find_map(|dir| {
            let p = dir.join(file_name);
            (dir.is_dir() && p.symlink_metadata().is_ok()).then_some(p)
        })
    }

    fn describe(&self) -> String {
        self.dirs
            .iter()
            .map(|d| format!("`{}`", d.display()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Resolves `parent` and `Include` statements and merges the components, as
/// pvi's `Device.deserialize_parents` does.
pub fn resolve_parents(device: &mut Device, search: &SearchPath) -> Result<(), Diagnostic> {
    if device.parent.as_deref() == Some("asynPortDriver") {
        // pvi resolves nothing then, and fails later on a remaining Include
        let mut resolved = Vec::new();
        for item in &device.children {
            match item {
                Item::Component(c) => resolved.push(c.clone()),
                Item::Include(i) => {
                    return Err(Diagnostic::plain(
                        None,
                        format!(
                            "pvi leaves `Include` of `{}` unresolved in a device whose parent is asynPortDriver",
                            i.file_name
                        ),
                    ))
                }
            }
        }
        device.resolved = resolved;
        return Ok(());
    }
    let mut children = device.children.clone();
    if let Some(p) = &device.parent {
        children.push(Item::Include(Include {
            file_name: p.clone(),
            in_subscreen: false,
            macros: None,
        }));
    }
    let mut flat = Vec::new();
    for item in children {
        match item {
            Item::Include(inc) => flat.extend(expand_include(&inc, search, 0)?),
            Item::Component(c) => flat.push(c),
        }
    }
    device.resolved = merge_components(flat)?;
    Ok(())
}

fn find_components(name: &str, search: &SearchPath) -> Result<Vec<Item>, Diagnostic> {
    if name == "asynPortDriver" {
        return Ok(Vec::new());
    }
    let file = format!("{name}{DEVICE_SUFFIX}");
    let Some(path) = search.find(&file) else {
        return Err(Diagnostic::plain(
            None,
            format!(
                "cannot find pvi device `{file}` (searched {})",
                search.describe()
            ),
        )
        .with_hint(
            "put the parent's device file into the IOC's config folder or $EPICS_ROOT/pvi-defs",
        ));
    };
    let mut device = search.load(&path)?;
    if let Some(p) = &device.parent {
        device.children.push(Item::Include(Include {
            file_name: p.clone(),
            in_subscreen: false,
            macros: None,
        }));
    }
    Ok(device.children)
}

fn expand_include(
    inc: &Include,
    search: &SearchPath,
    depth: usize,
) -> Result<Vec<Component>, Diagnostic> {
    if depth > 64 {
        return Err(Diagnostic::plain(
            None,
            format!(
                "pvi device `{}` includes itself (include chain deeper than 64)",
                inc.file_name
            ),
        ));
    }
    let mut resolved = Vec::new();
    for item in find_components(&inc.file_name, search)? {
        match item {
            Item::Include(nested) => {
                // a re-scoped sub-device brings only its own components
                if inc.macros.is_some() {
                    continue;
                }
                resolved.extend(expand_include(&nested, search, depth + 1)?);
            }
            Item::Component(c) => resolved.push(c),
        }
    }
    if let Some(macros) = &inc.macros {
        for c in &mut resolved {
            apply_macros(c, macros);
        }
    }
    if inc.in_subscreen {
        if !is_pascal(&inc.file_name) {
            return Err(Diagnostic::plain(
                None,
                format!("included device name `{}` is not PascalCase, so it cannot name a sub-screen group", inc.file_name),
            ));
        }
        resolved = vec![Component {
            name: inc.file_name.clone(),
            label: None,
            description: None,
            kind: Kind::Group {
                layout: Layout::SubScreen {
                    labelled: false,
                    stacked: false,
                },
                children: resolved,
            },
        }];
    }
    Ok(resolved)
}

/// Replaces `$(NAME)` in PVs (and DeviceRef macros) with the include's macros.
fn apply_macros(c: &mut Component, macros: &[(String, String)]) {
    let sub = |s: &str| -> String { substitute(s, macros) };
    match &mut c.kind {
        Kind::Group { children, .. } => {
            for ch in children {
                apply_macros(ch, macros);
            }
        }
        Kind::SignalR { read_pv, .. } => *read_pv = sub(read_pv),
        Kind::SignalW { write_pv, .. } | Kind::SignalX { write_pv, .. } => {
            *write_pv = sub(write_pv);
        }
        Kind::SignalRW {
            read_pv, write_pv, ..
        } => {
            *read_pv = sub(read_pv);
            *write_pv = sub(write_pv);
        }
        Kind::DeviceRef {
            pv, macros: own, ..
        } => {
            for (_, v) in own.iter_mut() {
                *v = sub(v);
            }
            for (k, v) in macros {
                if !own.iter().any(|(k2, _)| k2 == k) {
                    own.push((k.clone(), v.clone()));
                }
            }
            *pv = sub(pv);
        }
        Kind::Ignored | Kind::SignalRef => {}
    }
}

/// pvi's `MACRO_RE` (`\$\((\w+)\)`) substitution; unknown macros stay.
fn substitute(s: &str, macros: &[(String, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("$(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(after.len(), |(j, _)| j);
        if end > 0 && after[end..].starts_with(')') {
            let name = &after[..end];
            if let Some((_, v)) = macros.iter().find(|(k, _)| k == name) {
                out.push_str(v);
            } else {
                out.push_str("$(");
                out.push_str(name);
                out.push(')');
            }
            rest = &after[end + 1..];
        } else {
            out.push_str("$(");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The PV fields pvi compares when a merged group repeats a child.
fn pv_fields(c: &Component) -> [(&'static str, Option<&str>); 3] {
    let (r, w, p) = match &c.kind {
        Kind::SignalR { read_pv, .. } => (Some(read_pv.as_str()), None, None),
        Kind::SignalW { write_pv, .. } | Kind::SignalX { write_pv, .. } => {
            (None, Some(write_pv.as_str()), None)
        }
        Kind::SignalRW {
            read_pv, write_pv, ..
        } => (Some(read_pv.as_str()), Some(write_pv.as_str()), None),
        Kind::DeviceRef { pv, .. } => (None, None, Some(pv.as_str())),
        _ => (None, None, None),
    };
    [("read_pv", r), ("write_pv", w), ("pv", p)]
}

fn children_of(c: &Component) -> &[Component] {
    match &c.kind {
        Kind::Group { children, .. } => children,
        _ => &[],
    }
}

/// pvi's `merge_components`: groups of the same name merge (a repeated child
/// takes the later definition in the earlier position), a new group drops
/// children already in another group, and a non-group named like a group
/// replaces it.
fn merge_components(components: Vec<Component>) -> Result<Vec<Component>, Diagnostic> {
    struct Registered {
        name: String,
        // the slot in `merged` the group took first
        slot: usize,
        // where the group went when a non-group took its slot
        orphan: Option<usize>,
    }
    let mut merged: Vec<Component> = Vec::new();
    let mut orphans: Vec<Component> = Vec::new();
    let mut groups: Vec<Registered> = Vec::new();
    for component in components {
        let is_group = matches!(component.kind, Kind::Group { .. });
        let existing = groups.iter().position(|g| g.name == component.name);
        if !is_group {
            if let Some(gi) = existing {
                let g = &mut groups[gi];
                let old = std::mem::replace(&mut merged[g.slot], component);
                if g.orphan.is_none() {
                    orphans.push(old);
                    g.orphan = Some(orphans.len() - 1);
                }
            } else {
                merged.push(component);
            }
            continue;
        }
        let Some(gi) = existing else {
            let mut component = component;
            let taken: std::collections::HashSet<&str> = groups
                .iter()
                .flat_map(|g| {
                    let group = match g.orphan {
                        Some(o) => &orphans[o],
                        None => &merged[g.slot],
                    };
                    children_of(group).iter().map(|c| c.name.as_str())
                })
                .collect();
            if !taken.is_empty() {
                if let Kind::Group { children, .. } = &mut component.kind {
                    children.retain(|c| !taken.contains(c.name.as_str()));
                }
            }
            groups.push(Registered {
                name: component.name.clone(),
                slot: merged.len(),
                orphan: None,
            });
            merged.push(component);
            continue;
        };
        let group = match groups[gi].orphan {
            Some(o) => &mut orphans[o],
            None => &mut merged[groups[gi].slot],
        };
        let Kind::Group {
            children: existing, ..
        } = &mut group.kind
        else {
            continue;
        };
        let Kind::Group { children: new, .. } = component.kind else {
            continue;
        };
        let mut new: Vec<Option<Component>> = new.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(existing.len() + new.len());
        for old in existing.drain(..) {
            // Python's dict keeps the last child of a name
            let dup = new
                .iter()
                .rposition(|n| n.as_ref().is_some_and(|n| n.name == old.name));
            if let Some(di) = dup {
                let d = new[di].take().expect("position found above");
                for n in &mut new {
                    if n.as_ref().is_some_and(|n| n.name == old.name) {
                        *n = None;
                    }
                }
                for ((f, a), (_, b)) in pv_fields(&old).iter().zip(pv_fields(&d)) {
                    if let (Some(a), Some(b)) = (a, b) {
                        if *a != b {
                            return Err(Diagnostic::plain(
                                None,
                                format!(
                                    "pvi group `{}`: child `{}` has {f} `{b}`, which collides with `{a}`",
                                    component.name, d.name
                                ),
                            ));
                        }
                    }
                }
                out.push(d);
            } else {
                out.push(old);
            }
        }
        // the remaining new children in first-seen order, last definition winning
        let mut rest: Vec<Component> = Vec::new();
        for n in new.into_iter().flatten() {
            if let Some(slot) = rest.iter_mut().find(|r| r.name == n.name) {
                *slot = n;
            } else {
                rest.push(n);
            }
        }
        out.extend(rest);
        *existing = out;
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_case_follows_pvi_regex() {
        // expectations from pvi 0.14.4's own to_title_case
        for (name, title) in [
            ("SimplePV", "Simple PV"),
            ("ArrayCounter", "Array Counter"),
            ("NDArrayPort", "ND Array Port"),
            ("Gain1X", "Gain 1 X"),
            ("Min2", "Min 2"),
            ("ABCDef9Xyz", "ABC Def 9 Xyz"),
            ("A/b", "A/b"),
            ("Xd", "Xd"),
        ] {
            assert_eq!(to_title_case(name), title, "{name}");
        }
    }

    fn group(name: &str, kids: &[&str]) -> Component {
        Component {
            name: name.into(),
            label: None,
            description: None,
            kind: Kind::Group {
                layout: Layout::Grid {
                    labelled: true,
                    stacked: false,
                },
                children: kids.iter().map(|k| signal(k)).collect(),
            },
        }
    }

    fn signal(name: &str) -> Component {
        Component {
            name: name.into(),
            label: None,
            description: None,
            kind: Kind::SignalR {
                read_pv: format!("{name}1"),
                read_widget: None,
            },
        }
    }

    fn shape(cs: &[Component]) -> Vec<(String, Vec<String>)> {
        cs.iter()
            .map(|c| {
                let kids = match &c.kind {
                    Kind::Group { children, .. } => {
                        children.iter().map(|k| k.name.clone()).collect()
                    }
                    _ => Vec::new(),
                };
                (c.name.clone(), kids)
            })
            .collect()
    }

    #[test]
    fn merge_follows_pvi() {
        // answer from pvi 0.14.4's Device.merge_components on the same input
        let merged = merge_components(vec![
            group("A", &["X", "Y"]),
            signal("B"),
            group("A", &["Y", "Z"]),
            group("C", &["X", "W"]),
            group("D", &[]),
            signal("D"),
        ])
        .unwrap();
        let want: Vec<(String, Vec<String>)> = vec![
            ("A".into(), vec!["X".into(), "Y".into(), "Z".into()]),
            ("B".into(), vec![]),
            ("C".into(), vec!["W".into()]),
            ("D".into(), vec![]),
        ];
        assert_eq!(shape(&merged), want);
        assert!(matches!(merged[3].kind, Kind::SignalR { .. }));
    }

    #[test]
    fn merge_rejects_colliding_pvs() {
        let mut other = group("A", &["X"]);
        if let Kind::Group { children, .. } = &mut other.kind {
            children[0].kind = Kind::SignalR {
                read_pv: "elsewhere".into(),
                read_widget: None,
            };
        }
        let err = merge_components(vec![group("A", &["X"]), other]).unwrap_err();
        assert!(err.message.contains("collides"), "{}", err.message);
    }

    #[test]
    fn macros_substitute_known_names_only() {
        let m = vec![("R".to_string(), "TS:".to_string())];
        assert_eq!(substitute("$(P)$(R)Val", &m), "$(P)TS:Val");
        assert_eq!(substitute("$(R", &m), "$(R");
    }

    #[test]
    fn pascal_names() {
        assert!(is_pascal("SimplePV"));
        assert!(!is_pascal("simple"));
        assert!(!is_pascal("Simple_PV"));
        assert_eq!(enforce_pascal_case("motor axis"), "Motoraxis");
    }
}
