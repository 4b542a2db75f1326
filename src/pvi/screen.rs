//! Screen layout: a device's components → positioned widgets, as pvi's
//! `ScreenFormatterFactory` places them for its DLS formatter.
//!
//! Pure geometry: groups become boxes in columns at most
//! [`ScreenLayout::max_height`] tall, signals become a label plus their
//! read/write widgets, rows become tables, `SubScreen` groups and plots
//! become buttons whose content is laid out as a screen of its own. The
//! result ([`Screen`]) is turned into XML by [`super::bob`].

use std::collections::HashMap;

use super::device::{Component, Kind, Layout, Widget};
use crate::diag::Diagnostic;

/// Position and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bounds {
    /// Left.
    pub x: i64,
    /// Top.
    pub y: i64,
    /// Width.
    pub w: i64,
    /// Height.
    pub h: i64,
}

impl Bounds {
    fn split_left(self, width: i64, spacing: i64) -> Result<(Bounds, Bounds), Diagnostic> {
        let to_split = width + spacing;
        if to_split >= self.w {
            return Err(Diagnostic::plain(
                None,
                format!("pvi layout: cannot split off {to_split} from {}", self.w),
            ));
        }
        Ok((
            Bounds { w: width, ..self },
            Bounds {
                x: self.x + to_split,
                w: self.w - to_split,
                ..self
            },
        ))
    }

    /// pvi's `split_into`: `count` equal widths (float ratios, truncated).
    fn split_into(self, count: usize, spacing: i64) -> Vec<Bounds> {
        if count == 0 {
            return Vec::new();
        }
        let splits = count as i64 - 1;
        let space = self.w - splits * spacing;
        let ratio = 1.0 / count as f64;
        let width = (space as f64 * ratio) as i64;
        (0..count as i64)
            .map(|i| Bounds {
                x: self.x + width * i + spacing * i,
                w: width,
                ..self
            })
            .collect()
    }

    fn split_into_rows(self, count: i64, spacing: i64) -> Vec<Bounds> {
        let h = (self.h - (count - 1) * spacing).div_euclid(count);
        (0..count)
            .map(|i| Bounds {
                y: self.y + i * (h + spacing),
                h,
                ..self
            })
            .collect()
    }

    /// The largest centred square (LEDs, toggle buttons).
    #[must_use]
    pub fn square(self) -> Bounds {
        let size = self.w.min(self.h);
        Bounds {
            x: self.x + (self.w - size) / 2,
            y: self.y + (self.h - size) / 2,
            w: size,
            h: size,
        }
    }
}

/// The DLS formatter's layout constants (pvi's `ScreenLayout` for `.bob`).
#[derive(Debug, Clone, Copy)]
pub struct ScreenLayout {
    /// Gap between widgets.
    pub spacing: i64,
    /// Height of the screen title.
    pub title_height: i64,
    /// Column height before widgets move to the next column.
    pub max_height: i64,
    /// Height of a group's title.
    pub group_label_height: i64,
    /// Width of labels.
    pub label_width: i64,
    /// Width of widgets.
    pub widget_width: i64,
    /// Height of widgets.
    pub widget_height: i64,
    /// Indent of top-level widgets to line up with group contents.
    pub group_widget_indent: i64,
    /// Extra width of group boxes.
    pub group_width_offset: i64,
}

/// pvi 0.14.4's `DLSFormatter` values for `.bob` screens.
pub const DLS_BOB: ScreenLayout = ScreenLayout {
    spacing: 5,
    title_height: 25,
    max_height: 900,
    group_label_height: 26,
    label_width: 200,
    widget_width: 200,
    widget_height: 20,
    group_widget_indent: 18,
    group_width_offset: 26,
};

/// A positioned widget.
#[allow(clippy::large_enum_variant)] // few per screen; boxing buys nothing
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    /// Signal label with tooltip.
    Label {
        /// Where.
        b: Bounds,
        /// Text.
        text: String,
        /// Tooltip.
        tooltip: String,
    },
    /// Table column header.
    Header {
        /// Where.
        b: Bounds,
        /// Text.
        text: String,
    },
    /// A PV widget.
    Pv {
        /// Where.
        b: Bounds,
        /// PV name.
        pv: String,
        /// Which widget.
        widget: Widget,
    },
    /// Button writing a value.
    Action {
        /// Where.
        b: Bounds,
        /// Button text.
        label: String,
        /// PV written.
        pv: String,
        /// Value written.
        value: String,
    },
    /// Button opening a screen.
    OpenDisplay {
        /// Where.
        b: Bounds,
        /// Button text.
        label: String,
        /// Screen file (without `.bob` for generated sub-screens).
        file_name: String,
        /// The group laid out on that screen, when it is generated here.
        components: Option<Component>,
        /// Macros passed.
        macros: Vec<(String, String)>,
    },
    /// A group box with its children (children relative to the box).
    Group {
        /// Where.
        b: Bounds,
        /// Title.
        title: String,
        /// Contents.
        children: Vec<Placed>,
    },
}

impl Placed {
    /// The layout bounds.
    pub fn bounds(&self) -> Bounds {
        match self {
            Placed::Label { b, .. }
            | Placed::Header { b, .. }
            | Placed::Pv { b, .. }
            | Placed::Action { b, .. }
            | Placed::OpenDisplay { b, .. }
            | Placed::Group { b, .. } => *b,
        }
    }

    fn bounds_mut(&mut self) -> &mut Bounds {
        match self {
            Placed::Label { b, .. }
            | Placed::Header { b, .. }
            | Placed::Pv { b, .. }
            | Placed::Action { b, .. }
            | Placed::OpenDisplay { b, .. }
            | Placed::Group { b, .. } => b,
        }
    }
}

/// A screen: its size, title and widgets (relative to the content origin).
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    /// Screen size (title and padding included).
    pub b: Bounds,
    /// Title (names the display).
    pub title: String,
    /// Whether there is a title bar: pvi decides once per device, from its
    /// label, and its sub-screens follow.
    pub titled: bool,
    /// Widgets, already shifted by the padding.
    pub children: Vec<Placed>,
}

fn max_x(ws: &[Placed]) -> i64 {
    ws.iter()
        .map(|w| w.bounds().x + w.bounds().w)
        .max()
        .unwrap_or(0)
}

fn max_y(ws: &[Placed]) -> i64 {
    ws.iter()
        .map(|w| w.bounds().y + w.bounds().h)
        .max()
        .unwrap_or(0)
}

fn next_x(ws: &[Placed], spacing: i64) -> i64 {
    if ws.is_empty() {
        0
    } else {
        max_x(ws) + spacing
    }
}

fn next_y(ws: &[Placed], spacing: i64) -> i64 {
    if ws.is_empty() {
        0
    } else {
        max_y(ws) + spacing
    }
}

fn err(msg: impl Into<String>) -> Diagnostic {
    Diagnostic::plain(None, msg.into())
}

/// Lays out a device (or sub-screen) as pvi does; returns the screen and
/// every generated sub-screen as `(file stem, screen)`.
pub fn layout_screen(
    components: &[Component],
    title: &str,
    base_file_name: &str,
    layout: &ScreenLayout,
) -> Result<(Screen, Vec<(String, Screen)>), Diagnostic> {
    let mut f = Factory {
        l: *layout,
        components: HashMap::new(),
        base_file_name: base_file_name.to_string(),
        titled: !title.is_empty(),
    };
    f.screen(components, title)
}

struct Factory {
    l: ScreenLayout,
    titled: bool,
    components: HashMap<String, Component>,
    base_file_name: String,
}

type R<T> = Result<T, Diagnostic>;

fn move_to_subscreen(c: Component) -> Component {
    Component {
        name: c.name.clone(),
        label: if matches!(c.kind, Kind::Group { .. }) {
            c.label.clone()
        } else {
            None
        },
        description: None,
        kind: Kind::Group {
            layout: Layout::SubScreen {
                labelled: false,
                stacked: false,
            },
            children: vec![c],
        },
    }
}

impl Factory {
    fn full_w(&self) -> i64 {
        self.l.label_width + self.l.widget_width + 2 * self.l.spacing
    }

    fn screen(
        &mut self,
        components: &[Component],
        title: &str,
    ) -> R<(Screen, Vec<(String, Screen)>)> {
        let l = self.l;
        let full_w = self.full_w();
        let screen_h = l.max_height;
        let mut widgets: Vec<Placed> = Vec::new();
        let mut columns = vec![Bounds {
            w: full_w,
            h: l.widget_height,
            ..Bounds::default()
        }];
        let mut stacked = false;
        let mut in_subscreen = false;
        let mut comps: &[Component] = components;
        if let [Component {
            kind:
                Kind::Group {
                    layout: Layout::SubScreen { stacked: s, .. },
                    children,
                },
            ..
        }] = components
        {
            comps = children;
            stacked = *s;
            in_subscreen = true;
        }
        let n = comps.len();
        for c in comps {
            if matches!(c.kind, Kind::Ignored) {
                continue;
            }
            let mut next = Bounds {
                x: next_x(&widgets, l.spacing),
                y: 0,
                w: full_w,
                h: l.widget_height,
            };
            let moved;
            let c = if c.plot_widget().is_some() && n != 1 {
                moved = move_to_subscreen(c.clone());
                &moved
            } else {
                c
            };
            let last = columns.len() - 1;
            let is_box = matches!(&c.kind, Kind::Group { layout, .. } if !matches!(layout, Layout::Row { .. }));
            let made = if is_box {
                self.group_formatters(c, screen_h, &mut columns[last], &mut next, !in_subscreen)?
            } else {
                self.component_formatters(
                    c,
                    screen_h,
                    &mut columns[last],
                    &mut next,
                    true,
                    true,
                    stacked,
                    false,
                )?
            };
            widgets.extend(made);
            if next.y != 0 {
                columns.push(next);
            }
        }
        let subs = self.sub_screens(&widgets)?;
        let w = max_x(&widgets);
        let h = max_y(&widgets);
        let (pad_x, pad_y, pad_w, pad_h) = if self.titled {
            (
                l.spacing,
                l.spacing + l.title_height,
                2 * l.spacing,
                2 * l.spacing + l.title_height,
            )
        } else {
            (l.spacing, l.spacing, 2 * l.spacing, 2 * l.spacing)
        };
        for wdg in &mut widgets {
            let b = wdg.bounds_mut();
            b.x += pad_x;
            b.y += pad_y;
        }
        Ok((
            Screen {
                b: Bounds {
                    x: 0,
                    y: 0,
                    w: w + pad_w,
                    h: h + pad_h,
                },
                title: title.to_string(),
                titled: self.titled,
                children: widgets,
            },
            subs,
        ))
    }

    fn sub_screens(&self, widgets: &[Placed]) -> R<Vec<(String, Screen)>> {
        let mut buttons: Vec<&Placed> = widgets
            .iter()
            .filter(|w| matches!(w, Placed::OpenDisplay { .. }))
            .collect();
        for w in widgets {
            if let Placed::Group { children, .. } = w {
                buttons.extend(
                    children
                        .iter()
                        .filter(|c| matches!(c, Placed::OpenDisplay { .. })),
                );
            }
        }
        let mut out = Vec::new();
        for b in buttons {
            let Placed::OpenDisplay {
                file_name,
                components: Some(group),
                ..
            } = b
            else {
                continue;
            };
            let mut f = Factory {
                l: self.l,
                titled: self.titled,
                components: HashMap::new(),
                base_file_name: file_name.clone(),
            };
            let (screen, nested) = f.screen(std::slice::from_ref(group), &group.name)?;
            out.push((file_name.clone(), screen));
            out.extend(nested);
        }
        Ok(out)
    }

    fn group_formatters(
        &mut self,
        c: &Component,
        screen_h: i64,
        column: &mut Bounds,
        next: &mut Bounds,
        squeeze: bool,
    ) -> R<Vec<Placed>> {
        let l = self.l;
        if let Some(Layout::SubScreen { labelled, .. }) = c.layout() {
            let labelled = *labelled;
            return self
                .component_formatters(c, screen_h, column, next, true, labelled, false, false);
        }
        // plots in a group go to sub-screens of their own (pvi's split_out_plots)
        let split;
        let c = match &c.kind {
            Kind::Group { children, layout }
                if children.iter().any(|ch| ch.plot_widget().is_some()) =>
            {
                split = Component {
                    kind: Kind::Group {
                        layout: layout.clone(),
                        children: children
                            .iter()
                            .map(|ch| {
                                if ch.plot_widget().is_some() {
                                    move_to_subscreen(ch.clone())
                                } else {
                                    ch.clone()
                                }
                            })
                            .collect(),
                    },
                    ..c.clone()
                };
                &split
            }
            _ => c,
        };
        let mut g = self.group_formatter(c, column.x, column.y, screen_h, squeeze)?;
        let b = g.bounds();
        if b.h + b.y <= screen_h {
            let b = g.bounds_mut();
            b.w += l.group_width_offset;
            column.y = b.y + b.h + l.spacing;
        } else {
            g = self.group_formatter(c, next.x, next.y, screen_h, squeeze)?;
            let b = g.bounds_mut();
            b.w += l.group_width_offset;
            next.y = b.y + b.h + l.spacing;
        }
        Ok(vec![g])
    }

    fn group_formatter(
        &mut self,
        group: &Component,
        x: i64,
        y: i64,
        h: i64,
        squeeze: bool,
    ) -> R<Placed> {
        let l = self.l;
        let full_w = self.full_w();
        let Kind::Group { layout, children } = &group.kind else {
            return Err(err("pvi layout: expected a group"));
        };
        if !matches!(layout, Layout::Grid { .. } | Layout::SubScreen { .. }) {
            return Err(err(format!(
                "pvi cannot lay out group `{}`: only Grid and SubScreen groups can be boxes on a screen",
                group.name
            )));
        }
        let stacked = matches!(layout, Layout::Grid { stacked: true, .. });
        let parent_h = h;
        let mut column = Bounds {
            w: full_w,
            h: l.widget_height,
            ..Bounds::default()
        };
        let mut widgets: Vec<Placed> = Vec::new();
        for c in children {
            if matches!(c.kind, Kind::Ignored) {
                continue;
            }
            let add_label = match c.layout() {
                Some(Layout::SubScreen { labelled, .. }) => *labelled,
                Some(Layout::Grid { .. }) => {
                    return Err(err(format!(
                        "pvi cannot nest Grid group `{}` in group `{}` on one screen",
                        c.name, group.name
                    )))
                }
                _ => true,
            };
            let mut next = Bounds {
                x: next_x(&widgets, l.spacing),
                y: 0,
                w: full_w,
                h: l.widget_height,
            };
            let made = self.component_formatters(
                c,
                parent_h,
                &mut column,
                &mut next,
                false,
                add_label,
                stacked,
                squeeze,
            )?;
            widgets.extend(made);
            if next.y != 0 {
                column = next;
            }
        }
        let w = max_x(&widgets);
        let h = max_y(&widgets);
        // the group's own padding: pvi's `with_title(spacing, group_label_height)`
        Ok(Placed::Group {
            b: Bounds {
                x,
                y,
                w: w + 2 * l.spacing,
                h: h + 2 * l.spacing + l.group_label_height,
            },
            title: group.get_label(),
            children: widgets,
        })
    }

    #[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
    fn component_formatters(
        &mut self,
        c: &Component,
        parent_h: i64,
        column: &mut Bounds,
        next: &mut Bounds,
        indent: bool,
        add_label: bool,
        stacked: bool,
        squeeze: bool,
    ) -> R<Vec<Placed>> {
        let l = self.l;
        let mut tmp = *column;
        let mut tmp_next = *next;
        if indent {
            tmp.x += l.group_widget_indent;
            tmp_next.x += l.group_widget_indent;
        }
        if let Some(
            Widget::ImageRead { width, height, .. } | Widget::ArrayTrace { width, height, .. },
        ) = c.plot_widget()
        {
            tmp.w = *width;
            tmp.h = *height;
        } else if stacked
            && matches!(
                c.kind,
                Kind::SignalRW {
                    read_widget: Some(Widget::TextRead(_)),
                    ..
                }
            )
        {
            tmp.h = 2 * l.widget_height + l.spacing;
            tmp_next.h = tmp.h;
        }
        let mut widgets = Vec::new();
        self.component(c, tmp, add_label, stacked, squeeze, &mut widgets)?;
        if max_y(&widgets) <= parent_h {
            column.y = next_y(&widgets, l.spacing);
        } else {
            widgets.clear();
            self.component(c, tmp_next, add_label, stacked, squeeze, &mut widgets)?;
            next.y = next_y(&widgets, l.spacing);
        }
        Ok(widgets)
    }

    /// pvi's `generate_component_formatters`.
    fn component(
        &mut self,
        c: &Component,
        bounds: Bounds,
        mut add_label: bool,
        stacked: bool,
        squeeze: bool,
        out: &mut Vec<Placed>,
    ) -> R<()> {
        let l = self.l;
        if !matches!(c.kind, Kind::SignalRef | Kind::Group { .. }) {
            self.components.insert(c.name.clone(), c.clone());
        }
        let mut cb = bounds;
        let mut label_w = l.label_width;
        let row: Vec<Component>;
        if let Kind::Group {
            layout: Layout::Row { header },
            children,
        } = &c.kind
        {
            let mut widget_w = cb.w - l.label_width - l.spacing;
            let n = children.len() as i64;
            if squeeze {
                let available = cb.w - l.spacing * n;
                let scale = available as f64 / (l.label_width + widget_w * n) as f64;
                label_w = py_round(l.label_width as f64 * scale);
                widget_w = if n == 0 {
                    return Err(err(format!("pvi cannot lay out empty row `{}`", c.name)));
                } else {
                    (available - label_w).div_euclid(n)
                };
            } else {
                cb.w = l.label_width + l.spacing + widget_w * n + l.spacing * (n - 1);
            }
            if let Some(header) = header {
                if header.len() != children.len() {
                    return Err(err(format!(
                        "pvi row `{}`: header length does not match number of elements",
                        c.name
                    )));
                }
                let mut hb = cb;
                if add_label {
                    hb.w = widget_w;
                    hb.x += label_w + l.spacing;
                }
                for text in header {
                    out.push(Placed::Header {
                        b: hb,
                        text: text.clone(),
                    });
                    hb.x += hb.w + l.spacing;
                }
                cb.y += l.widget_height + l.spacing;
            }
            row = children.clone();
            if stacked
                && children.iter().any(|ch| {
                    matches!(
                        ch.kind,
                        Kind::SignalRW {
                            read_widget: Some(Widget::TextRead(_)),
                            ..
                        }
                    )
                })
            {
                cb.h = 2 * l.widget_height + l.spacing;
            }
        } else if let Some((write_pv, Widget::ButtonPanel(actions))) = c.write() {
            row = button_panel_row(c, write_pv, actions);
        } else {
            row = vec![c.clone()];
            add_label = fit_single(c, &mut cb, add_label);
        }
        let row_bounds = if add_label {
            let (left, right) = cb.split_left(label_w, l.spacing)?;
            out.push(label_for(c, left));
            right
        } else {
            cb
        };
        if matches!(c.kind, Kind::SignalRef) {
            let Some(target) = self.components.get(&c.name).cloned() else {
                return Err(err(format!(
                    "pvi SignalRef `{}` refers to no signal laid out before it on this screen",
                    c.name
                )));
            };
            return self.component(&target, row_bounds, add_label, false, false, out);
        }
        self.row(&row, row_bounds, stacked, out)
    }

    fn row(
        &self,
        row: &[Component],
        bounds: Bounds,
        stacked: bool,
        out: &mut Vec<Placed>,
    ) -> R<()> {
        let l = self.l;
        for (b, rc) in bounds.split_into(row.len(), l.spacing).into_iter().zip(row) {
            match &rc.kind {
                Kind::SignalX {
                    write_pv, value, ..
                } => out.push(Placed::Action {
                    b,
                    label: rc.get_label(),
                    pv: write_pv.clone(),
                    value: value.clone(),
                }),
                Kind::SignalRW {
                    read_pv,
                    write_pv,
                    read_widget,
                    write_widget,
                } => match read_widget {
                    Some(rw @ Widget::TextRead(_)) if stacked => {
                        let rows = b.split_into_rows(2, l.spacing);
                        out.push(pv_widget(write_widget, rows[0], write_pv)?);
                        out.push(pv_widget(rw, rows[1], read_pv)?);
                    }
                    Some(rw) => {
                        let cols = b.split_into(2, l.spacing);
                        out.push(pv_widget(write_widget, cols[0], write_pv)?);
                        out.push(pv_widget(rw, cols[1], read_pv)?);
                    }
                    None => out.push(pv_widget(write_widget, b, write_pv)?),
                },
                Kind::SignalW {
                    write_pv,
                    write_widget,
                } => out.push(pv_widget(write_widget, b, write_pv)?),
                Kind::SignalR {
                    read_pv,
                    read_widget: Some(w),
                } => out.push(pv_widget(w, b, read_pv)?),
                Kind::Group {
                    layout: Layout::SubScreen { .. },
                    ..
                } => {
                    let (base, ext) = match self.base_file_name.split_once('.') {
                        Some((base, ext)) => (base.to_string(), format!(".{ext}")),
                        None => (self.base_file_name.clone(), String::new()),
                    };
                    out.push(Placed::OpenDisplay {
                        b,
                        label: format!("{} \u{29c9}", rc.get_label()),
                        file_name: format!("{base}_{}{ext}", rc.name.replace(' ', "_")),
                        components: Some(rc.clone()),
                        macros: Vec::new(),
                    });
                }
                Kind::DeviceRef { ui, macros, .. } => out.push(Placed::OpenDisplay {
                    b,
                    label: rc.get_label(),
                    file_name: ui.clone(),
                    components: None,
                    macros: macros.clone(),
                }),
                // pvi prints "Ignoring row component" and draws nothing
                _ => {}
            }
        }
        Ok(())
    }
}

/// The row a button panel lays out as: one button per action, writing its value to
/// `write_pv`, then the readback when the signal has one (pvi's `ButtonPanel` case).
fn button_panel_row(c: &Component, write_pv: &str, actions: &[(String, String)]) -> Vec<Component> {
    let mut row: Vec<Component> = actions
        .iter()
        .map(|(name, value)| Component {
            name: name.clone(),
            label: None,
            description: None,
            kind: Kind::SignalX {
                write_pv: write_pv.to_string(),
                value: value.clone(),
                write_widget: Widget::ButtonPanel(vec![("Go".into(), "1".into())]),
            },
        })
        .collect();
    if let Kind::SignalRW {
        read_pv,
        read_widget: Some(rw),
        ..
    } = &c.kind
    {
        row.push(Component {
            name: c.name.clone(),
            label: None,
            description: None,
            kind: Kind::SignalR {
                read_pv: read_pv.clone(),
                read_widget: Some(rw.clone()),
            },
        });
    }
    row
}

/// Sizes the bounds of a one-component row: a table takes ten rows and 100 pixels per
/// column; tables, plots and device references go without a label. Returns whether
/// the row keeps its label.
fn fit_single(c: &Component, cb: &mut Bounds, add_label: bool) -> bool {
    let table = match (c.read(), c.write()) {
        (Some((_, Some(Widget::TableRead(ws)))), _) | (_, Some((_, Widget::TableWrite(ws)))) => {
            Some(ws.len() as i64)
        }
        _ => None,
    };
    if let Some(n) = table {
        cb.w = 100 * n;
        cb.h *= 10;
        return false;
    }
    if c.plot_widget().is_some() || matches!(c.kind, Kind::DeviceRef { .. }) {
        return false;
    }
    add_label
}

/// The label left of a component, its tooltip falling back to pvi's placeholder.
fn label_for(c: &Component, b: Bounds) -> Placed {
    let label = c.get_label();
    let desc = c
        .description
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or("No description provided");
    Placed::Label {
        b,
        tooltip: format!("{label} - {desc}"),
        text: label,
    }
}

fn pv_widget(widget: &Widget, mut b: Bounds, pv: &str) -> R<Placed> {
    if let Widget::TextRead(t) | Widget::TextWrite(t) = widget {
        b.h *= t.lines.filter(|n| *n != 0).unwrap_or(1);
    }
    if matches!(widget, Widget::ArrayWrite | Widget::ButtonPanel(_)) {
        return Err(err(format!(
            "pvi has no screen widget for a `{}` here (PV `{pv}`)",
            widget.type_name()
        )));
    }
    Ok(Placed::Pv {
        b,
        pv: pv.to_string(),
        widget: widget.clone(),
    })
}

/// Python's `round` of a float: half to even.
fn py_round(v: f64) -> i64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 {
        let t = v.trunc();
        if (t as i64) % 2 == 0 {
            t as i64
        } else {
            r as i64
        }
    } else {
        r as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_rounding_is_half_to_even() {
        assert_eq!(py_round(2.5), 2);
        assert_eq!(py_round(3.5), 4);
        assert_eq!(py_round(2.4), 2);
        assert_eq!(py_round(2.6), 3);
    }

    #[test]
    fn split_into_truncates_float_widths() {
        let b = Bounds {
            x: 0,
            y: 0,
            w: 205,
            h: 20,
        };
        let parts = b.split_into(3, 5);
        assert_eq!(
            parts.iter().map(|p| (p.x, p.w)).collect::<Vec<_>>(),
            vec![(0, 65), (70, 65), (140, 65)]
        );
    }
}
