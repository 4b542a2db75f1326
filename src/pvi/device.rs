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

pub use super::parents::{resolve_parents, SearchPath};
pub use super::read::{load_device, DEVICE_SUFFIX};

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

    #[test]
    fn pascal_names() {
        assert!(is_pascal("SimplePV"));
        assert!(!is_pascal("simple"));
        assert!(!is_pascal("Simple_PV"));
        assert_eq!(enforce_pascal_case("motor axis"), "Motoraxis");
    }
}
