//! Every template case in `tests/jinja/cases.txt` renders the same through
//! iocforge's engine as through ibek's own `UTILS.render` on `CPython` Jinja2.

mod common;

use std::process::Command;

use iocforge::jinja::minijinja::value::Value;
use iocforge::jinja::PyList;
use iocforge::jinja::{pyfmt, Engine, Scope};

fn context() -> Scope {
    let mut m = indexmap::IndexMap::new();
    let list = |items: Vec<Value>| PyList::new_value(items);
    m.insert("n".to_string(), Value::from(7));
    m.insert("f".into(), Value::from(2.5));
    m.insert("s".into(), Value::from("abc"));
    m.insert("b".into(), Value::from(true));
    m.insert(
        "l".into(),
        list(vec![Value::from(1), Value::from(2), Value::from("x")]),
    );
    m.insert(
        "d".into(),
        Value::from_pairs(vec![
            (Value::from("a"), Value::from(1)),
            (
                Value::from("b"),
                list(vec![Value::from(1.5), Value::from(())]),
            ),
        ]),
    );
    m.insert("nothing".into(), Value::from(()));
    m.insert("neg".into(), Value::from(-3));
    m.insert("big".into(), Value::from(1e16));
    m.insert("tiny".into(), Value::from(1.1e-06));
    m.insert("text".into(), Value::from("line one\nline two\n"));
    m.insert("name".into(), Value::from("Stage_X"));
    m.insert("port".into(), Value::from("ty_40_1"));
    m.insert("empty".into(), list(vec![]));
    m.insert("zero".into(), Value::from(0));
    Scope::Map(std::sync::Arc::new(m))
}

fn describe(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return format!("str:{s}");
    }
    format!("{}:{}", pyfmt::type_name(v), pyfmt::py_repr(v).unwrap())
}

#[test]
fn templates_render_as_jinja2_renders_them() {
    let cases_path = common::root().join("tests/jinja/cases.txt");
    let out = Command::new(common::ibek_python())
        .arg(common::root().join("tests/jinja/render.py"))
        .arg(&cases_path)
        .env("HOME", "/home/test")
        .output()
        .expect("run the ibek oracle");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let text = fs_err::read_to_string(&cases_path).unwrap();
    let blocks: Vec<&str> = text.split("\n----\n").collect();
    assert_eq!(blocks.len(), expected.len());
    // the oracle's environment, with HOME fixed as the oracle ran
    let mut env = iocforge::layout::Environment::capture();
    env.set("HOME", "/home/test");
    let mut failures = Vec::new();
    for (i, (block, exp)) in blocks.iter().zip(&expected).enumerate() {
        let (head, template) = block.split_once('\n').unwrap_or((block, ""));
        let typ = head.trim_start_matches("typ=");
        // a fresh engine per case, as the oracle resets UTILS per case
        let mut engine = Engine::new();
        engine.set_environment(&env);
        let got = engine.render_value(
            &Value::from(template),
            &context(),
            (!typ.is_empty()).then_some(typ),
        );
        let ok = exp["ok"].as_bool().unwrap();
        match (&got, ok) {
            (Ok(v), true) => {
                let want = exp["out"].as_str().unwrap();
                if describe(v) != want {
                    failures.push(format!(
                        "case {i}: {template:?}\n  jinja2:   {want:?}\n  iocforge: {:?}",
                        describe(v)
                    ));
                }
            }
            (Err(_), false) => {}
            (Ok(v), false) => failures.push(format!(
                "case {i}: {template:?}\n  jinja2 fails ({}) but iocforge gives {:?}",
                exp["err"],
                describe(v)
            )),
            (Err(e), true) => failures.push(format!(
                "case {i}: {template:?}\n  jinja2 gives {:?} but iocforge fails: {}",
                exp["out"], e.message
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n")
    );
}
