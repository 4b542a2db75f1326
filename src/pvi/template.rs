//! The PVI database template (`DEVICE.pvi.template`), as pvi's `format_template` writes it.
//!
//! One `record("*", PV)` per signal PV with an `info(Q:group, ...)` tag
//! that adds the PV to the device's PVA structure `PREFIX:PVI`, in the
//! order of a depth-first walk of the resolved device.

use super::device::{Component, Device, Kind};

/// The template text for `device` with PVI PV prefix `pv_prefix`.
pub fn format_template(device: &Device, pv_prefix: &str) -> String {
    let components = device.components();

    let mut out = format!("\n### PV Interface for {} ###\n", device.label);
    let mut push = |name: &str, pv: &str, access: &str| {
        out.push_str(&format!(
            "\nrecord(\"*\", \"{pv}\") {{\n    info(Q:group, {{\n        \"{pv_prefix}PVI\": {{\n            \"pvi.{name}.{access}\": {{\n                \"+channel\": \"NAME\",\n                \"+type\": \"plain\",\n                \"+trigger\": \"pvi.{name}.{access}\",\n            }}\n        }}\n    }})\n}}\n"
        ));
    };
    walk(components, &mut |c| match &c.kind {
        Kind::SignalRW {
            read_pv, write_pv, ..
        } => {
            if read_pv == write_pv {
                push(&c.name, write_pv, "rw");
            } else {
                push(&c.name, write_pv, "w");
                push(&c.name, read_pv, "r");
            }
        }
        Kind::SignalX { write_pv, .. } => push(&c.name, write_pv, "x"),
        Kind::SignalW { write_pv, .. } => push(&c.name, write_pv, "w"),
        Kind::SignalR { read_pv, .. } => push(&c.name, read_pv, "r"),
        _ => {}
    });
    out.push_str(&format!(
        "\n### End of PV Interface for {} ###\n",
        device.label
    ));
    out
}

/// pvi's `walk`: depth first through groups, yielding the other components.
fn walk<'a>(components: &'a [Component], f: &mut dyn FnMut(&'a Component)) {
    for c in components {
        match &c.kind {
            Kind::Group { children, .. } => walk(children, f),
            _ => f(c),
        }
    }
}
