//! Parameter grids over a scenario, shared by sweeps and capacity searches:
//! setting a dotted key of the scenario's TOML, parsing `--set KEY=V1,V2,…`, the cells of a
//! cartesian product, their seeds, and one simulation run reduced to its metrics.
//!
//! # Keys
//! A key is a dotted path into the scenario as `vmsched scenario` prints it:
//! `workload.arrival.rate_per_s`, `cpu.quantum_ms`, `cluster.placement`. Through the
//! array of `[[hosts]]` tables a key either names one entry by its index
//! (`hosts.0.pcpus`, from 0) or, without an index, every entry (`hosts.count` sets the
//! count of every host group). A key whose last part is absent from the scenario's TOML is
//! added, and the scenario's own checks decide whether it is allowed
//! (`workload.load_scale` is; `workload.load_scael` is an error naming it).
//!
//! # Values
//! Each value is read as a TOML value (`4`, `0.5`, `"best-fit"`, `[1, 2]`,
//! `{ dist = "exponential", mean_s = 2 }`); a value that is not valid TOML is taken as a
//! string, so `cluster.placement=best-fit,worst-fit` needs no quotes. Values are
//! separated by commas outside brackets, braces and quotes.
//!
//! # Seeds
//! The workload seed of a cell is `derive_seed(master, [fnv1a(text)])` where `text` is the
//! cell's `key=value` pairs sorted by key and joined by `; ` (values in canonical TOML),
//! and replication `r` then draws from that seed's streams for `r`. It depends on neither
//! the thread that runs the cell nor its position in the grid, nor on the order of the
//! `--set` options. Every policy of a cell sees the same VMs (common random numbers).

use crate::error::{Result, bail, invalid};
use sim::metrics::Metrics;
use sim::policy::{policy_label, split_policy_name};
use workloads::scenario::Scenario;

/// One axis of a grid: a key and its values (canonical TOML text, in the given order).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    /// The dotted key.
    pub key: String,
    /// The values, as canonical TOML text (`4`, `0.5`, `"best-fit"`).
    pub values: Vec<String>,
}

/// Parses one `--set KEY=V1,V2,…` option.
pub fn parse_axis(spec: &str) -> Result<Axis> {
    let (key, values) = spec
        .split_once('=')
        .ok_or_else(|| invalid!("--set {spec}: expected KEY=V1,V2,…"))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        bail!("--set {spec}: `{key}` is not a dotted key such as workload.arrival.rate_per_s");
    }
    let mut out = Vec::new();
    for raw in split_values(values) {
        let raw = raw.trim();
        if raw.is_empty() {
            bail!("--set {spec}: empty value");
        }
        out.push(canonical(&parse_value(raw)));
    }
    if out.is_empty() {
        bail!("--set {spec}: no values");
    }
    let mut seen = std::collections::BTreeSet::new();
    for v in &out {
        if !seen.insert(v) {
            bail!("--set {spec}: value {v} is given twice");
        }
    }
    Ok(Axis {
        key: key.to_string(),
        values: out,
    })
}

/// Splits `a,b,[c,d],"e,f"` at the commas that are outside brackets, braces and quotes.
pub fn split_values(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    let mut escaped = false;
    for (i, ch) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if ch == '\\' && q == '"' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '"' | '\'' => quote = Some(ch),
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A value as TOML, or as a string when it is not valid TOML (`best-fit`).
pub fn parse_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

/// The canonical TOML text of a value (`0.5`, `"best-fit"`, `[1, 2]`).
pub fn canonical(v: &toml::Value) -> String {
    v.to_string()
}

/// A value's text for a CSV cell or a table: strings without their quotes.
pub fn display_value(canonical_text: &str) -> String {
    match parse_value(canonical_text) {
        toml::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Sets `key` (dotted, see the module documentation) to `value` in `table`.
pub fn set_path(table: &mut toml::Table, key: &str, value: &toml::Value) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    set_in_table(table, &parts, value, key, 0)
}

fn set_in_table(
    table: &mut toml::Table,
    parts: &[&str],
    value: &toml::Value,
    key: &str,
    depth: usize,
) -> Result<()> {
    let Some((first, rest)) = parts.split_first() else {
        bail!("{key}: empty key");
    };
    if rest.is_empty() {
        table.insert((*first).to_string(), value.clone());
        return Ok(());
    }
    let prefix = key.split('.').take(depth + 1).collect::<Vec<_>>().join(".");
    match table.get_mut(*first) {
        Some(v) => set_in_value(v, rest, value, key, depth + 1),
        None => {
            let known: Vec<&str> = table.keys().map(String::as_str).collect();
            bail!(
                "{key}: the scenario has no `{prefix}` (there: {})",
                if known.is_empty() {
                    "nothing".to_string()
                } else {
                    known.join(", ")
                }
            )
        }
    }
}

fn set_in_value(
    target: &mut toml::Value,
    parts: &[&str],
    value: &toml::Value,
    key: &str,
    depth: usize,
) -> Result<()> {
    match target {
        toml::Value::Table(t) => set_in_table(t, parts, value, key, depth),
        toml::Value::Array(items) => {
            let Some((first, rest)) = parts.split_first() else {
                bail!("{key}: empty key");
            };
            if let Ok(i) = first.parse::<usize>() {
                let len = items.len();
                let item = items
                    .get_mut(i)
                    .ok_or_else(|| invalid!("{key}: index {i} is out of range ({len} entries)"))?;
                if rest.is_empty() {
                    *item = value.clone();
                    return Ok(());
                }
                set_in_value(item, rest, value, key, depth + 1)
            } else {
                // No index: every entry (of which there must be one at least).
                if items.is_empty() {
                    let prefix = key.split('.').take(depth).collect::<Vec<_>>().join(".");
                    bail!("{key}: the scenario has no `{prefix}` entries to set");
                }
                for item in items.iter_mut() {
                    set_in_value(item, parts, value, key, depth)?;
                }
                Ok(())
            }
        }
        _ => {
            let prefix = key.split('.').take(depth).collect::<Vec<_>>().join(".");
            bail!("{key}: `{prefix}` is a value, not a table")
        }
    }
}

/// A copy of `base` with each `(key, canonical value)` applied, checked like a scenario
/// file. Relative paths keep resolving from the base scenario's folder. An error names
/// the key that caused it.
pub fn apply(base: &Scenario, settings: &[(&str, &str)]) -> Result<Scenario> {
    match apply_all(base, settings) {
        Ok(s) => Ok(s),
        Err(e) if settings.len() > 1 => {
            // Name the culprit if one key alone is enough to fail.
            for one in settings {
                apply_all(base, std::slice::from_ref(one))?;
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}

fn apply_all(base: &Scenario, settings: &[(&str, &str)]) -> Result<Scenario> {
    // A seed above 2^63 − 1 does not fit a TOML integer: it goes round the TOML text as 0
    // and is put back afterwards (unless a setting changes it).
    let mut plain = base.clone();
    plain.run.seed = 0;
    let text = plain.to_toml_string();
    let mut table: toml::Table = toml::from_str(&text)
        .map_err(|e| invalid!("the scenario cannot be read back as TOML: {e}"))?;
    for (key, value) in settings {
        set_path(&mut table, key, &parse_value(value))?;
    }
    let keys = settings
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ");
    let mut s: Scenario = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| invalid!("{keys}: {}", e.message().trim_end()))?;
    if !settings.iter().any(|(k, _)| *k == "run.seed") {
        s.run.seed = base.run.seed;
    }
    s.set_base_dir(base.base_dir().map(std::path::Path::to_path_buf));
    s.validate()?;
    Ok(s)
}

/// The text a cell's seed is hashed from: `key=value` pairs sorted by key, joined by `; `.
pub fn seed_text(settings: &[(&str, &str)]) -> String {
    let mut pairs: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    pairs.join("; ")
}

/// 64-bit FNV-1a of `s` (stable across platforms and versions).
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// The workload seed of a cell: from the master seed and the cell's parameters only.
pub fn cell_seed(master: u64, settings: &[(&str, &str)]) -> u64 {
    sim::rng::derive_seed(master, &[fnv1a(&seed_text(settings))])
}

/// One policy to run: its label, its two levels and, optionally, the backfilling it sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `fcfs`, or `ADMISSION/CPU` when the levels differ; with backfilling, `+easy` or
    /// `+conservative` after the admission level (`fcfs+easy`, `sjf+easy/rr`).
    pub label: String,
    /// Admission level.
    pub admission: String,
    /// CPU level.
    pub cpu: String,
    /// `[admission] backfill` to set (`None`: the scenario's own).
    pub backfill: Option<sim::Backfill>,
}

impl Policy {
    /// A policy from its name: a CPU policy name (sets both levels, the admission level
    /// taking its non-preemptive counterpart) or `ADMISSION/CPU`; `+BACKFILL` after the
    /// admission part sets `[admission] backfill` (`fcfs+easy`, `fcfs+conservative/rr`,
    /// `fcfs+none`).
    pub fn parse(name: &str) -> Result<Policy> {
        let (admission_part, cpu_part) = match name.split_once('/') {
            Some((a, c)) => (a, Some(c)),
            None => (name, None),
        };
        let (base, backfill) = match admission_part.split_once('+') {
            Some((a, b)) => {
                let Some(bf) = sim::Backfill::from_name(b) else {
                    bail!(
                        "policy {name}: unknown backfilling `{b}` after `+` (known: {})",
                        sim::Backfill::NAMES.join(", ")
                    );
                };
                (a, Some(bf))
            }
            None => (admission_part, None),
        };
        let plain = match cpu_part {
            Some(c) => format!("{base}/{c}"),
            None => base.to_string(),
        };
        let (admission, cpu) = split_policy_name(&plain)?;
        Ok(Policy::with_backfill(admission, cpu, backfill))
    }

    /// The policy of these two levels.
    pub fn of_levels(admission: String, cpu: String) -> Policy {
        Policy::with_backfill(admission, cpu, None)
    }

    /// The policy of these two levels that sets `backfill` (if any).
    pub fn with_backfill(
        admission: String,
        cpu: String,
        backfill: Option<sim::Backfill>,
    ) -> Policy {
        let label = match backfill {
            None => policy_label(&admission, &cpu),
            Some(b) if admission == cpu => format!("{admission}+{}", b.name()),
            Some(b) => format!("{admission}+{}/{cpu}", b.name()),
        };
        Policy {
            label,
            admission,
            cpu,
            backfill,
        }
    }

    /// The policy a scenario sets itself.
    pub fn of_scenario(s: &Scenario) -> Policy {
        let backfill = Some(s.admission.backfill).filter(|b| *b != sim::Backfill::None);
        Policy::with_backfill(s.admission.policy.clone(), s.cpu.policy.clone(), backfill)
    }

    /// Sets this policy's levels (and backfilling, if it names one) on `scenario`.
    pub fn apply(&self, scenario: &mut Scenario) {
        scenario.set_policy(&self.admission, &self.cpu);
        if let Some(b) = self.backfill {
            scenario.admission.backfill = b;
        }
    }
}

/// Parses `--policies` names (a CPU policy name sets both levels, or `ADMISSION/CPU`);
/// blank names are skipped, a policy given twice is an error.
pub fn parse_policies(names: &[String]) -> Result<Vec<Policy>> {
    let mut out: Vec<Policy> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let p = Policy::parse(name)?;
        if out.iter().any(|q| q.label == p.label) {
            bail!("--policies: {} is given twice", p.label);
        }
        out.push(p);
    }
    if out.is_empty() {
        bail!("--policies is empty");
    }
    Ok(out)
}

/// The metrics of a run, in output order (see [`sim::metrics::RUN_METRICS`]).
pub use sim::metrics::RUN_METRICS as METRICS;

/// Simulates replication `replication` of `scenario` (whose seed is already the cell's)
/// under `policy`, and returns its [`METRICS`].
pub fn run_metrics(scenario: &Scenario, policy: &Policy, replication: u64) -> Result<Vec<f64>> {
    let mut sc = scenario.clone();
    policy.apply(&mut sc);
    let config = sc.sim_config_for(replication)?;
    let mut workload = sc.workload(replication)?;
    let mut metrics = Metrics::new();
    // Metrics are light: one helper thread draws the workload and keeps them.
    let stats = crate::pipeline::read_ahead_write_behind(&mut workload, &mut metrics, |vms, o| {
        sim::simulate_source(&config, vms, o)
    })?;
    // A trace that failed part-way ended the stream early: report it, not a short run.
    workload.finish()?;
    Ok(metrics.summary(&stats).metric_values().to_vec())
}

/// Mean and 95 % CI half-width of the defined (not NaN) values; NaN when undefined.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let defined: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    let c = sim::stats::mean_ci95(&defined);
    (c.mean, c.half_width)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "[run]\nvms = 50\n[[hosts]]\ncount = 2\npcpus = 4\nmemory_gib = 16\n\
        [[hosts]]\npcpus = 8\nmemory_gib = 32\n\
        [workload]\narrival = { process = \"poisson\", rate_per_s = 2.0 }\n\
        service = { dist = \"exponential\", mean_s = 1.5 }\n";

    fn base() -> Scenario {
        Scenario::from_toml_str(SMALL, "s.toml").unwrap()
    }

    /// `+BACKFILL` attaches to the admission part of a policy name.
    #[test]
    fn backfill_attaches_to_the_admission_level() {
        let p = Policy::parse("fcfs+easy").unwrap();
        assert_eq!(
            (p.label.as_str(), p.admission.as_str(), p.cpu.as_str()),
            ("fcfs+easy", "fcfs", "fcfs")
        );
        assert_eq!(p.backfill, Some(sim::Backfill::Easy));
        let p = Policy::parse("sjf+conservative/rr").unwrap();
        assert_eq!(p.label, "sjf+conservative/rr");
        assert_eq!(p.backfill, Some(sim::Backfill::Conservative));
        assert_eq!(Policy::parse("fcfs").unwrap().backfill, None);
        let e = Policy::parse("fcfs+lazy").unwrap_err().to_string();
        assert!(e.contains("`lazy`") && e.contains("easy"), "{e}");
        let mut sc = base();
        Policy::parse("sjf+easy").unwrap().apply(&mut sc);
        assert_eq!(sc.admission.backfill, sim::Backfill::Easy);
        assert_eq!(Policy::of_scenario(&sc).label, "sjf+easy");
        let ps = parse_policies(&["fcfs".into(), "fcfs+easy".into(), "sjf+easy".into()]).unwrap();
        assert_eq!(ps.len(), 3);
    }

    #[test]
    fn values_split_outside_brackets_and_quotes() {
        assert_eq!(split_values("1,2,3"), ["1", "2", "3"]);
        assert_eq!(split_values("[1,2],\"a,b\",x"), ["[1,2]", "\"a,b\"", "x"]);
        assert_eq!(
            split_values("{ a = 1, b = [2, 3] },4"),
            ["{ a = 1, b = [2, 3] }", "4"]
        );
    }

    #[test]
    fn values_parse_as_toml_or_string() {
        assert_eq!(parse_value("4"), toml::Value::Integer(4));
        assert_eq!(parse_value("0.5"), toml::Value::Float(0.5));
        assert_eq!(
            parse_value("best-fit"),
            toml::Value::String("best-fit".into())
        );
        assert_eq!(parse_value("\"rr\""), toml::Value::String("rr".into()));
        assert_eq!(canonical(&parse_value("best-fit")), "\"best-fit\"");
        assert_eq!(display_value("\"best-fit\""), "best-fit");
        assert_eq!(display_value("0.5"), "0.5");
        let a = parse_axis("hosts.pcpus=4,8,16").unwrap();
        assert_eq!(a.values, ["4", "8", "16"]);
        assert!(parse_axis("hosts.pcpus").is_err());
        assert!(parse_axis("hosts..pcpus=1").is_err());
        assert!(
            parse_axis("x=1,1")
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }

    #[test]
    fn keys_reach_every_host_group_or_one() {
        let s = apply(&base(), &[("hosts.pcpus", "2")]).unwrap();
        assert!(s.hosts.iter().all(|h| h.pcpus == 2));
        // A seed beyond TOML's integers survives.
        let mut big = base();
        big.run.seed = u64::MAX;
        assert_eq!(
            apply(&big, &[("hosts.pcpus", "2")]).unwrap().run.seed,
            u64::MAX
        );
        let s = apply(&base(), &[("hosts.1.pcpus", "2")]).unwrap();
        assert_eq!((s.hosts[0].pcpus, s.hosts[1].pcpus), (4, 2));
        let s = apply(&base(), &[("workload.arrival.rate_per_s", "3.5")]).unwrap();
        assert_eq!(
            s.workload.arrival.as_ref().map(|a| a.rate_per_s()),
            Some(3.5)
        );
        // A key absent from the TOML (a default) is added.
        let s = apply(&base(), &[("workload.load_scale", "1.5")]).unwrap();
        assert_eq!(s.workload.load_scale, 1.5);
        let s = apply(&base(), &[("cluster.placement", "\"best-fit\"")]).unwrap();
        assert_eq!(s.cluster.placement, sim::Placement::BestFit);
    }

    #[test]
    fn bad_keys_are_named() {
        let e = apply(&base(), &[("workload.load_scael", "2")]).unwrap_err();
        assert!(format!("{e:#}").contains("load_scael"), "{e:#}");
        let e = apply(&base(), &[("wrkload.arrival.rate_per_s", "2")]).unwrap_err();
        assert!(format!("{e:#}").contains("wrkload"), "{e:#}");
        let e = apply(&base(), &[("hosts.5.pcpus", "2")]).unwrap_err();
        assert!(format!("{e:#}").contains("out of range"), "{e:#}");
        let e = apply(&base(), &[("hosts.pcpus", "0")]).unwrap_err();
        assert!(format!("{e:#}").contains("pcpus"), "{e:#}");
        let e = apply(&base(), &[("cpu.quantum_ms", "5"), ("hosts.cont", "2")]).unwrap_err();
        assert!(
            format!("{e:#}").starts_with("hosts.cont: unknown field `cont`"),
            "{e:#}"
        );
        let e = apply(&base(), &[("run.vms.x", "0")]).unwrap_err();
        assert!(format!("{e:#}").contains("not a table"), "{e:#}");
    }

    #[test]
    fn seeds_depend_on_the_parameters_not_their_order() {
        let a = cell_seed(1, &[("a", "1"), ("b", "2")]);
        assert_eq!(a, cell_seed(1, &[("b", "2"), ("a", "1")]));
        assert_ne!(a, cell_seed(1, &[("a", "1"), ("b", "3")]));
        assert_ne!(a, cell_seed(2, &[("a", "1"), ("b", "2")]));
        // FNV-1a of the empty string is its offset basis.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
    }
}
