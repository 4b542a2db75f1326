//! Reading `*.pvi.device.yaml`: the YAML tree (from [`crate::source`]) is
//! checked as pvi's pydantic models check it (unknown keys, missing fields,
//! wrong types and non-PascalCase names are errors naming file and line) and
//! turned into the [`super::device`] model, with pvi's defaults filled in.

use std::path::Path;
use std::sync::Arc;

use super::device::{
    is_pascal, Component, Device, Include, Item, Kind, Layout, TextOptions, Widget,
};
use crate::diag::Diagnostic;
use crate::source::{load_yaml, Node, NodeKind, SourceFile};

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
        let kind = self.kind(node, t, &what)?;
        Ok(Component {
            name,
            label,
            description,
            kind,
        })
    }

    /// The fields of component type `t` (already known to be one pvi has), with pvi's
    /// defaults and its validator's rules; `what` names the component in errors.
    fn kind(&self, node: &Node, t: &str, what: &str) -> R<Kind> {
        let pv = |key: &str| -> R<String> {
            self.string(self.req(node, key, what)?, &format!("{what} `{key}`"))
        };
        Ok(match t {
            "Group" => Kind::Group {
                layout: self.layout(self.req(node, "layout", what)?)?,
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
            "TextRead" => Widget::TextRead(self.text_options(node)?),
            "TextWrite" => Widget::TextWrite(self.text_options(node)?),
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
            "TableRead" => Widget::TableRead(self.table_widgets(node, false)?),
            "TableWrite" => Widget::TableWrite(self.table_widgets(node, true)?),
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

    /// A text widget's options; pvi knows five display formats.
    fn text_options(&self, node: &Node) -> R<TextOptions> {
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
    }

    /// A table's column widgets, read or write.
    fn table_widgets(&self, node: &Node, write: bool) -> R<Vec<Widget>> {
        match node.get("widgets") {
            None => Ok(Vec::new()),
            Some(n) => {
                let Some(items) = n.as_seq() else {
                    return Err(self.err(n, "`widgets` must be a list"));
                };
                items.iter().map(|i| self.row_widget(i, write)).collect()
            }
        }
    }
}
