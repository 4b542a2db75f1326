//! Resource limits: how much time and memory one input may cost.
//!
//! iocforge is the entrypoint of every IOC container, so a template or a
//! YAML file must never crash it, hang it or exhaust its memory. The stages
//! that can be driven into unbounded work read their bounds from here: the
//! template engine (`jinja`: fuel per render and per run, the largest string
//! or list one operation may build, the most operators in one expression)
//! the YAML loader (`source`: nodes aliases may copy) and msi (`db`: bytes
//! of one expansion). The limits
//! are generous for real files; `cli` may raise them for a rare big instance
//! (from `IOCFORGE_LIMITS`) with [`set`] before any work starts. The library
//! never reads the environment itself.

use std::sync::atomic::{AtomicU64, Ordering};

/// The bounds on the work an input may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// minijinja fuel for one render: about one instruction or 64 bytes of data per unit.
    pub template_fuel: u64,
    /// Fuel for every render of one run together.
    pub run_fuel: u64,
    /// The longest string (bytes) or list (items × 16) one template operation may build.
    pub max_len: u64,
    /// The most operators (and nested brackets) in one `{{ }}` or `{% %}` block.
    pub max_expr_ops: u64,
    /// The most bytes one msi expansion may produce.
    pub msi_output: u64,
    /// The most YAML nodes the aliases of one file may copy (plain nodes are bounded by the text).
    pub yaml_nodes: u64,
}

impl Limits {
    /// The limits iocforge runs with unless told otherwise.
    pub const DEFAULT: Limits = Limits {
        template_fuel: 8_000_000,
        run_fuel: 150_000_000,
        max_len: 32 * 1024 * 1024,
        max_expr_ops: 1_000,
        msi_output: 1024 * 1024 * 1024,
        yaml_nodes: 200_000,
    };

    /// The names accepted by [`Limits::apply`], with what each bounds.
    pub const KEYS: &'static [(&'static str, &'static str)] = &[
        ("template-fuel", "fuel for one template render"),
        ("run-fuel", "fuel for all template renders of one run"),
        (
            "max-len",
            "bytes of one string built by a template operation",
        ),
        ("max-expr-ops", "operators in one template expression"),
        ("msi-output", "bytes one msi expansion may produce"),
        ("yaml-nodes", "YAML nodes the aliases of one file may copy"),
    ];

    /// Applies overrides written as `key=value[,key=value…]`, or a bare
    /// number that multiplies every limit.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                let factor: u64 = part
                    .parse()
                    .map_err(|_| format!("`{part}` is neither `key=value` nor a whole number"))?;
                for v in self.fields_mut() {
                    *v = v.saturating_mul(factor);
                }
                continue;
            };
            let value: u64 = value
                .trim()
                .replace('_', "")
                .parse()
                .map_err(|_| format!("`{part}`: the value must be a whole number"))?;
            let slot = match key.trim() {
                "template-fuel" => &mut self.template_fuel,
                "run-fuel" => &mut self.run_fuel,
                "max-len" => &mut self.max_len,
                "max-expr-ops" => &mut self.max_expr_ops,
                "msi-output" => &mut self.msi_output,
                "yaml-nodes" => &mut self.yaml_nodes,
                other => {
                    let known: Vec<&str> = Self::KEYS.iter().map(|(k, _)| *k).collect();
                    return Err(format!(
                        "unknown limit `{other}` (known: {})",
                        known.join(", ")
                    ));
                }
            };
            *slot = value;
        }
        Ok(())
    }

    fn fields_mut(&mut self) -> [&mut u64; 6] {
        [
            &mut self.msi_output,
            &mut self.template_fuel,
            &mut self.run_fuel,
            &mut self.max_len,
            &mut self.max_expr_ops,
            &mut self.yaml_nodes,
        ]
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

static TEMPLATE_FUEL: AtomicU64 = AtomicU64::new(Limits::DEFAULT.template_fuel);
static RUN_FUEL: AtomicU64 = AtomicU64::new(Limits::DEFAULT.run_fuel);
static MAX_LEN: AtomicU64 = AtomicU64::new(Limits::DEFAULT.max_len);
static MAX_EXPR_OPS: AtomicU64 = AtomicU64::new(Limits::DEFAULT.max_expr_ops);
static MSI_OUTPUT: AtomicU64 = AtomicU64::new(Limits::DEFAULT.msi_output);
static YAML_NODES: AtomicU64 = AtomicU64::new(Limits::DEFAULT.yaml_nodes);

/// Installs the limits for the rest of the process (called once by `cli`).
pub fn set(limits: Limits) {
    TEMPLATE_FUEL.store(limits.template_fuel, Ordering::Relaxed);
    RUN_FUEL.store(limits.run_fuel, Ordering::Relaxed);
    MAX_LEN.store(limits.max_len, Ordering::Relaxed);
    MAX_EXPR_OPS.store(limits.max_expr_ops, Ordering::Relaxed);
    MSI_OUTPUT.store(limits.msi_output, Ordering::Relaxed);
    YAML_NODES.store(limits.yaml_nodes, Ordering::Relaxed);
}

/// The limits in force.
pub fn get() -> Limits {
    Limits {
        template_fuel: TEMPLATE_FUEL.load(Ordering::Relaxed),
        run_fuel: RUN_FUEL.load(Ordering::Relaxed),
        max_len: MAX_LEN.load(Ordering::Relaxed),
        max_expr_ops: MAX_EXPR_OPS.load(Ordering::Relaxed),
        msi_output: MSI_OUTPUT.load(Ordering::Relaxed),
        yaml_nodes: YAML_NODES.load(Ordering::Relaxed),
    }
}

/// The longest string a template operation may build, in bytes.
pub fn max_len() -> usize {
    usize::try_from(MAX_LEN.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_keys_and_factors() {
        let mut l = Limits::DEFAULT;
        l.apply("max-len=10, yaml-nodes=1_000").unwrap();
        assert_eq!((l.max_len, l.yaml_nodes), (10, 1000));
        l.apply("2").unwrap();
        assert_eq!((l.max_len, l.yaml_nodes), (20, 2000));
        assert!(l
            .apply("nope=1")
            .unwrap_err()
            .contains("unknown limit `nope`"));
        assert!(l.apply("max-len=x").is_err());
    }
}
