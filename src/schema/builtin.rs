//! The built-in entities ibek adds to every IOC: `ibek.repeat`, `ibek.wait_ip`
//! and `ibek.wait_usb`.
//!
//! Their schemas come from fixed pydantic classes in ibek, so they are written
//! out here as pydantic generates them (fields in class order, pydantic's
//! insertion order within each field).

use indexmap::IndexMap;

use super::json::Json;

/// A built-in entity class.
#[derive(Debug, Clone, Copy)]
pub(super) enum Builtin {
    /// `ibek.repeat`: N copies of another entity.
    Repeat,
    /// `ibek.wait_ip`: wait for a TCP port before the IOC starts.
    WaitIp,
    /// `ibek.wait_usb`: wait for a USB device.
    WaitUsb,
}

impl Builtin {
    /// All of them, in the order ibek registers them.
    pub(super) const ALL: [Builtin; 3] = [Builtin::Repeat, Builtin::WaitIp, Builtin::WaitUsb];

    /// The entity `type` instances use.
    pub(super) fn type_name(self) -> &'static str {
        match self {
            Builtin::Repeat => "ibek.repeat",
            Builtin::WaitIp => "ibek.wait_ip",
            Builtin::WaitUsb => "ibek.wait_usb",
        }
    }

    /// The Python module of the class (it names `$defs` on clashes).
    pub(super) fn module(self) -> &'static str {
        match self {
            Builtin::Repeat => "ibek.ibek_builtin.repeat",
            Builtin::WaitIp | Builtin::WaitUsb => "ibek.ibek_builtin.wait",
        }
    }

    /// The class name, which is also its `$defs` key and title.
    pub(super) fn class(self) -> &'static str {
        match self {
            Builtin::Repeat => "RepeatEntity",
            Builtin::WaitIp => "Wait4IPEntity",
            Builtin::WaitUsb => "Wait4USBEntity",
        }
    }

    /// The fixed schemas of ibek's built-in entity classes.
    pub(super) fn schema(self) -> Json {
        let mut props: IndexMap<String, Json> = IndexMap::new();
        props.insert("type".into(), type_field(self.type_name()));
        props.insert("entity_enabled".into(), entity_enabled_field());
        let (required, description) = match self {
            Self::Repeat => repeat_fields(&mut props),
            Self::WaitIp => wait_ip_fields(&mut props),
            Self::WaitUsb => wait_usb_fields(&mut props),
        };
        Json::object([
            ("type", Json::str("object")),
            ("properties", Json::Object(props)),
            (
                "required",
                Json::Array(required.into_iter().map(Json::str).collect()),
            ),
            ("title", Json::str(self.class())),
            ("description", Json::str(description)),
            ("additionalProperties", Json::Bool(false)),
        ])
    }
}

/// The fields of `RepeatEntity` after `entity_enabled`; returns its required
/// fields and class description.
fn repeat_fields(props: &mut IndexMap<String, Json>) -> (Vec<&'static str>, &'static str) {
    props.insert(
        "values".into(),
        Json::object([
            (
                "anyOf",
                Json::Array(vec![
                    Json::object([
                        ("type", Json::str("array")),
                        ("items", Json::empty_object()),
                    ]),
                    Json::object([("type", Json::str("string"))]),
                ]),
            ),
            (
                "description",
                Json::str("The list of values to iterate over"),
            ),
            ("title", Json::str("Values")),
        ]),
    );
    props.insert(
        "variable".into(),
        string_field(
            Some("index"),
            "The variable name to use in the entity model",
            "Variable",
        ),
    );
    props.insert(
        "entity".into(),
        Json::object([
            ("type", Json::str("object")),
            ("additionalProperties", Json::Bool(true)),
            ("description", Json::str("The entity model to repeat")),
            ("title", Json::str("Entity")),
        ]),
    );
    (
        vec!["values", "entity"],
        "A definition of RepeatEntity for the type checker\n\nThis is not really \
         used - instead the dynamic class is created\nby the make_entity_model \
         function is used.",
    )
}

/// The fields of `Wait4IPEntity` after `entity_enabled`; returns its required
/// fields and class description.
fn wait_ip_fields(props: &mut IndexMap<String, Json>) -> (Vec<&'static str>, &'static str) {
    wait_fields(props);
    props.insert(
        "address".into(),
        string_field(
            None,
            "The IP address and port to check communication with.",
            "Address",
        ),
    );
    (
        vec!["address"],
        "A definition of Wait4IPEntity for the type checker.\n\nThis is not really \
         used - instead the dynamic class is created\nby the make_entity_models \
         function is used.",
    )
}

/// The fields of `Wait4USBEntity` after `entity_enabled`; returns its required
/// fields and class description.
fn wait_usb_fields(props: &mut IndexMap<String, Json>) -> (Vec<&'static str>, &'static str) {
    wait_fields(props);
    props.insert(
        "id".into(),
        string_field(
            None,
            "The ID of the USB device to wait for. This should be in the format \
             'vendor_id:product_id', where vendor_id and product_id are the \
             hexadecimal IDs of the USB device. For example, '1234:5678'.",
            "Id",
        ),
    );
    (
        vec!["id"],
        "A definition of Wait4USBEntity for the type checker.\n\nThis is not really \
         used - instead the dynamic class created\nby the make_entity_models function \
         is used.",
    )
}

/// The `device` and `timeout` fields both wait entities share.
fn wait_fields(props: &mut IndexMap<String, Json>) {
    props.insert(
        "device".into(),
        string_field(
            Some("DEVICE"),
            "The device name to use in the database record.",
            "Device",
        ),
    );
    props.insert(
        "timeout".into(),
        Json::object([
            ("type", Json::str("integer")),
            ("default", Json::Int(0)),
            (
                "description",
                Json::str(
                    "The number of seconds to wait for a response before considering the \
                     communication attempt a failure and exiting the IOC startup process; \
                     this will trigger a restart of the IOC pod by Kubernetes.\nA value of 0 \
                     means to wait indefinitely until communication is established.",
                ),
            ),
            ("title", Json::str("Timeout")),
        ]),
    );
}

/// The `type` field: a string constant naming the entity type.
fn type_field(t: &str) -> Json {
    Json::object([
        ("const", Json::str(t)),
        ("type", Json::str("string")),
        ("default", Json::str(t)),
        ("title", Json::str("Type")),
    ])
}

/// A string field in pydantic's key order.
fn string_field(default: Option<&str>, description: &str, title: &str) -> Json {
    let mut f = Json::object([("type", Json::str("string"))]);
    if let Some(d) = default {
        f.insert("default", Json::str(d));
    }
    f.insert("description", Json::str(description));
    f.insert("title", Json::str(title));
    f
}

/// The `entity_enabled` field every entity class inherits.
pub(super) fn entity_enabled_field() -> Json {
    Json::object([
        ("type", Json::str("boolean")),
        ("default", Json::Bool(true)),
        (
            "description",
            Json::str("enable or disable this entity instance"),
        ),
        ("title", Json::str("Entity Enabled")),
    ])
}
