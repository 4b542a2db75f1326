//! Python objects that minijinja lacks: mutable lists, `range`, and records.
//!
//! Support YAML in the wild mutates lists from templates
//! (`{{ controller.axisConfiguration.append(CONFIG) }}`), even lists owned by
//! another entity, so lists are shared and interior-mutable as in Python. A
//! [`Record`] is an attribute bag with Python's `str()`: ibek prints an entity
//! as the value of its id parameter.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use super::methods::list_method;

/// A Python `list`: shared by reference, mutable through its methods.
#[derive(Default)]
pub struct PyList {
    items: Mutex<Vec<Value>>,
}

impl fmt::Debug for PyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.snapshot()).finish()
    }
}

impl PyList {
    /// Wraps items in a new list value.
    pub fn new_value(items: Vec<Value>) -> Value {
        Value::from_object(PyList {
            items: Mutex::new(items),
        })
    }

    /// Locks the items for reading or mutation.
    pub fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        // a poisoned lock means a panic elsewhere already failed the run
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the current items.
    pub fn snapshot(&self) -> Vec<Value> {
        self.lock().clone()
    }
}

fn normalize_index(idx: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let idx = if idx < 0 { idx + len } else { idx };
    (0..len).contains(&idx).then_some(idx as usize)
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.lock();
        let idx = normalize_index(key.as_i64()?, items.len())?;
        items.get(idx).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.lock().is_empty()
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        list_method(self, method, args)
    }
}

/// A Python `dict`: insertion-ordered, shared by reference, mutable through its methods.
#[derive(Default)]
pub struct PyDict {
    items: Mutex<IndexMap<Value, Value>>,
}

impl fmt::Debug for PyDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.snapshot()).finish()
    }
}

impl PyDict {
    /// Wraps entries in a new dict value (a repeated key keeps its first position and last value).
    pub fn new_value(pairs: impl IntoIterator<Item = (Value, Value)>) -> Value {
        let mut map = IndexMap::new();
        for (k, v) in pairs {
            map.insert(k, v);
        }
        Value::from_object(PyDict {
            items: Mutex::new(map),
        })
    }

    /// Locks the entries for reading or mutation.
    pub fn lock(&self) -> MutexGuard<'_, IndexMap<Value, Value>> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the current entries.
    pub fn snapshot(&self) -> Vec<(Value, Value)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().keys().cloned().collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.lock().is_empty()
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        super::methods::dict_method(self, method, args)
    }
}

/// Python's `range` object: iterable, indexable, printed as `range(0, 5)`.
#[derive(Debug, Clone, Copy)]
pub struct PyRange {
    /// First value.
    pub start: i64,
    /// End, not included.
    pub stop: i64,
    /// Non-zero step.
    pub step: i64,
}

impl PyRange {
    /// Number of values the range yields.
    pub fn len(&self) -> usize {
        let (start, stop, step) = (
            i128::from(self.start),
            i128::from(self.stop),
            i128::from(self.step),
        );
        let n = if step > 0 && start < stop {
            (stop - start - 1) / step + 1
        } else if step < 0 && start > stop {
            (start - stop - 1) / (-step) + 1
        } else {
            0
        };
        n as usize
    }

    /// Whether the range yields nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Python's `str()` of the range.
    pub fn describe(&self) -> String {
        if self.step == 1 {
            format!("range({}, {})", self.start, self.stop)
        } else {
            format!("range({}, {}, {})", self.start, self.stop, self.step)
        }
    }
}

impl Object for PyRange {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let idx = normalize_index(key.as_i64()?, self.len())?;
        Some(Value::from(self.start + self.step * idx as i64))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.len())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }
}

/// An attribute bag printed through one of its fields, as ibek prints an
/// entity through its id (`Entity.__str__`).
pub struct Record {
    /// The entity type, used in messages.
    pub type_name: String,
    /// The name of the field that `str()` prints, if the model has an id.
    pub id_field: Option<String>,
    /// The fields `model_dump()` returns (declared ones; not the defines).
    pub dump_keys: Vec<String>,
    fields: RwLock<IndexMap<String, Value>>,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.type_name)
    }
}

impl Record {
    /// A record with the given fields.
    pub fn new(
        type_name: String,
        id_field: Option<String>,
        fields: IndexMap<String, Value>,
    ) -> Arc<Record> {
        let dump_keys = fields.keys().cloned().collect();
        Arc::new(Record {
            type_name,
            id_field,
            dump_keys,
            fields: RwLock::new(fields),
        })
    }

    /// Reads one field.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.read().get(name).cloned()
    }

    /// Sets a field, keeping its position if it exists (Python `setattr`).
    pub fn set(&self, name: &str, value: Value) {
        self.fields
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_string(), value);
    }

    /// A copy of all fields in attribute order.
    pub fn fields(&self) -> IndexMap<String, Value> {
        self.read().clone()
    }

    /// The field names in attribute order.
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// Whether a field exists.
    pub fn has(&self, name: &str) -> bool {
        self.read().contains_key(name)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, IndexMap<String, Value>> {
        self.fields
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Python's `str()`: the id value, or the error ibek raises without one.
    pub fn describe(&self) -> Result<Value, Error> {
        let id = self.id_field.as_ref().and_then(|f| self.get(f));
        id.ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "Entity {} has no id field - convert to str failed",
                    self.type_name
                ),
            )
        })
    }
}

impl Object for Record {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_lengths_match_python() {
        let r = |start, stop, step| PyRange { start, stop, step }.len();
        assert_eq!(r(0, 5, 1), 5);
        assert_eq!(r(0, 5, 2), 3);
        assert_eq!(r(5, 0, -2), 3);
        assert_eq!(r(5, 0, 1), 0);
        assert_eq!(r(0, 0, 1), 0);
    }

    #[test]
    fn list_is_shared_between_clones() {
        let v = PyList::new_value(vec![]);
        let w = v.clone();
        v.downcast_object_ref::<PyList>()
            .unwrap()
            .lock()
            .push(Value::from(1));
        assert_eq!(w.len(), Some(1));
    }
}
