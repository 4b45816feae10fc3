//! Capacity planning: the smallest value of an integer key (usually `hosts.count`) whose
//! runs meet a service-level objective, per policy and load level, by bisection.
//!
//! # Method
//! - The SLO is `METRIC OP THRESHOLD` with `OP` one of `<=`, `<`, `>=`, `>` and `METRIC` a
//!   column of `sweep.csv` (`p95_wait_s`, `mean_wait_s`, `cpu_utilization`, …), taken over
//!   all VMs of a run. A value *meets* the SLO when the mean of the metric over the
//!   replications does.
//! - Bisection over `[min, max]` assumes that meeting the SLO is monotone in the key (more
//!   hosts never hurt): `max` is tried first (if it fails, the SLO cannot be met), then
//!   `min`, then the midpoints. The answer `n` meets the SLO and `n − 1` does not.
//! - The answer's 95 % confidence interval is stated: the metric's mean ± half-width
//!   (Student t over replications) at `n` and at `n − 1`. The answer is *decisive* when
//!   the interval at `n` lies wholly inside the SLO and the one at `n − 1` wholly outside.
//!   Otherwise the replications are doubled (runs already done are kept) and the search
//!   is repeated, up to the most replications allowed; an answer still not decisive is
//!   marked `uncertain`.
//! - Monotonicity is checked, not assumed: `n + 1` is also run and must meet the SLO, and
//!   among the values tried, a larger one whose metric is worse beyond both confidence
//!   intervals is reported (`monotone = no`, with a note).
//! - Load levels multiply `workload.load_scale` (the arrival rate; for a trace, the
//!   compression of its arrival times). Every run of one load level uses the same
//!   workload seed, `derive_seed(master, [fnv1a("load-scale=F")])` (common random
//!   numbers): neighbouring host counts and all policies see the same VMs, which makes
//!   the comparison of `n` with `n − 1` sharper than independent draws would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;
use reports::schema::{CAPACITY_CSV, CapacityRow, write_capacity_csv, write_run_toml};
use workloads::scenario::Scenario;

use crate::error::{Context, Result, bail, invalid};
use crate::grid::{self, METRICS};
use crate::{Policy, Progress, Provenance};

/// A parsed SLO.
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    /// Index into [`METRICS`].
    metric: usize,
    /// `<=`, `<`, `>=` or `>`.
    op: &'static str,
    threshold: f64,
}

impl Slo {
    /// Parses `METRIC<=X` (or `<`, `>=`, `>`).
    pub fn parse(s: &str) -> Result<Slo> {
        let s = s.trim();
        let pos = s.find(['<', '>']).ok_or_else(|| {
            invalid!("--slo {s}: expected METRIC<=X, METRIC<X, METRIC>=X or METRIC>X")
        })?;
        let (name, rest) = s.split_at(pos);
        let (op, value) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v)))
            .ok_or_else(|| invalid!("--slo {s}: no comparison"))?;
        let name = name.trim();
        let metric = METRICS.iter().position(|m| *m == name).ok_or_else(|| {
            invalid!(
                "--slo {s}: unknown metric `{name}`; known: {}",
                METRICS.join(", ")
            )
        })?;
        let threshold: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| invalid!("--slo {s}: `{}` is not a finite number", value.trim()))?;
        Ok(Slo {
            metric,
            op,
            threshold,
        })
    }

    fn lower_is_better(&self) -> bool {
        self.op.starts_with('<')
    }

    /// Whether a value meets the objective (NaN never does).
    fn meets(&self, x: f64) -> bool {
        match self.op {
            "<=" => x <= self.threshold,
            "<" => x < self.threshold,
            ">=" => x >= self.threshold,
            _ => x > self.threshold,
        }
    }

    /// Whether the whole interval `mean ± hw` meets the objective.
    fn surely_meets(&self, (mean, hw): (f64, f64)) -> bool {
        let worst = if self.lower_is_better() {
            mean + hw
        } else {
            mean - hw
        };
        self.meets(worst)
    }

    /// Whether the whole interval `mean ± hw` misses the objective.
    fn surely_misses(&self, (mean, hw): (f64, f64)) -> bool {
        let best = if self.lower_is_better() {
            mean - hw
        } else {
            mean + hw
        };
        !best.is_nan() && !self.meets(best)
    }

    /// `a` is worse than `b` beyond both intervals.
    fn clearly_worse(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        let gap = a.1 + b.1;
        if self.lower_is_better() {
            a.0 > b.0 + gap
        } else {
            a.0 < b.0 - gap
        }
    }

    /// The metric's name (a column of `sweep.csv`).
    pub fn metric_name(&self) -> &'static str {
        METRICS[self.metric]
    }
}

impl std::fmt::Display for Slo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.metric_name(), self.op, self.threshold)
    }
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Found, and the intervals at `n` and `n − 1` are on their sides of the threshold.
    Ok,
    /// Found, but an interval straddles the threshold even at the most replications.
    Uncertain,
    /// Not met even at `max`.
    NotMet,
}

impl Status {
    /// The name in `capacity.csv` (`ok`, `uncertain`, `not-met`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Uncertain => "uncertain",
            Status::NotMet => "not-met",
        }
    }
}

/// The answer for one policy at one load level.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Policy label.
    pub policy: String,
    /// Load level (factor of `workload.load_scale`).
    pub load_scale: f64,
    /// How the search ended.
    pub status: Status,
    /// The smallest value meeting the SLO.
    pub needed: Option<u64>,
    /// Metric mean and 95 % half-width at `needed` (at `max` when not met).
    pub at: (f64, f64),
    /// The same at `needed − 1`, unless `needed` is `min`.
    pub below: Option<(f64, f64)>,
    /// Replications behind the answer.
    pub replications: u64,
    /// Whether meeting the SLO looked monotone in the key.
    pub monotone: bool,
    /// What looked odd, in words.
    pub notes: Vec<String>,
    /// Simulation runs the search made.
    pub runs: u64,
}

/// One bisection: a policy at a load level, with the runs done so far.
struct Search<'a> {
    scenario: Scenario,
    policy: &'a Policy,
    vary: &'a str,
    slo: &'a Slo,
    /// Metric value per replication (index = replication), per value of the key.
    cache: BTreeMap<u64, Vec<f64>>,
    runs: u64,
    progress: &'a dyn Progress,
}

impl Search<'_> {
    /// Mean and half-width of the metric at `n` over replications `0..reps`.
    fn eval(&mut self, n: u64, reps: u64) -> Result<(f64, f64)> {
        let have = self.cache.get(&n).map_or(0, Vec::len) as u64;
        if have < reps {
            let sc = grid::apply(&self.scenario, &[(self.vary, &n.to_string())])
                .with_context(|| format!("{} = {n}", self.vary))?;
            let m = self.slo.metric;
            let policy = self.policy;
            let new: Vec<f64> = (have..reps)
                .into_par_iter()
                .map(|r| -> Result<f64> {
                    let v = grid::run_metrics(&sc, policy, r).with_context(|| {
                        format!(
                            "policy {}, {} = {n}, replication {r}",
                            policy.label, self.vary
                        )
                    })?;
                    self.progress.run_done();
                    Ok(v[m])
                })
                .collect::<Result<_>>()?;
            self.runs += reps - have;
            self.cache.entry(n).or_default().extend(new);
        }
        let xs = self
            .cache
            .get(&n)
            .map(|v| &v[..reps as usize])
            .unwrap_or(&[]);
        Ok(grid::mean_ci(xs))
    }

    fn meets(&mut self, n: u64, reps: u64, tried: &mut BTreeSet<u64>) -> Result<bool> {
        tried.insert(n);
        Ok(self.slo.meets(self.eval(n, reps)?.0))
    }

    /// Bisection with `reps` replications: `Ok(Some(n))` the smallest value meeting the
    /// SLO, `Ok(None)` if even `max` misses it.
    fn bisect(
        &mut self,
        min: u64,
        max: u64,
        reps: u64,
        tried: &mut BTreeSet<u64>,
    ) -> Result<Option<u64>> {
        if !self.meets(max, reps, tried)? {
            return Ok(None);
        }
        if self.meets(min, reps, tried)? {
            return Ok(Some(min));
        }
        let (mut lo, mut hi) = (min, max);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.meets(mid, reps, tried)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(Some(hi))
    }
}

struct Plan<'a> {
    slo: &'a Slo,
    vary: &'a str,
    min: u64,
    max: u64,
    reps0: u64,
    reps_max: u64,
}

fn search(
    base: &Scenario,
    policy: &Policy,
    load: f64,
    plan: &Plan<'_>,
    progress: &dyn Progress,
) -> Result<Answer> {
    let master = base.run.seed;
    let factor = grid::canonical(&toml::Value::Float(load));
    let total_scale = grid::canonical(&toml::Value::Float(base.workload.load_scale * load));
    let mut scenario = grid::apply(base, &[("workload.load_scale", &total_scale)])
        .with_context(|| format!("load scale {load}"))?;
    scenario.run.seed = grid::cell_seed(master, &[("load-scale", &factor)]);
    let mut s = Search {
        scenario,
        policy,
        vary: plan.vary,
        slo: plan.slo,
        cache: BTreeMap::new(),
        runs: 0,
        progress,
    };
    let mut reps = plan.reps0;
    loop {
        let mut tried = BTreeSet::new();
        let found = s.bisect(plan.min, plan.max, reps, &mut tried)?;
        let mut notes = Vec::new();
        let mut monotone = true;
        let (status, at, below) = match found {
            None => (Status::NotMet, s.eval(plan.max, reps)?, None),
            Some(n) => {
                let at = s.eval(n, reps)?;
                let below = if n > plan.min {
                    Some(s.eval(n - 1, reps)?)
                } else {
                    None
                };
                if n < plan.max && !s.meets(n + 1, reps, &mut tried)? {
                    monotone = false;
                    notes.push(format!(
                        "{} = {} misses the SLO although {n} meets it",
                        plan.vary,
                        n + 1
                    ));
                }
                let decisive =
                    plan.slo.surely_meets(at) && below.is_none_or(|b| plan.slo.surely_misses(b));
                let status = if decisive {
                    Status::Ok
                } else {
                    Status::Uncertain
                };
                (status, at, below)
            }
        };
        // A larger value whose metric is clearly worse than a smaller one's.
        let points: Vec<(u64, (f64, f64))> = tried
            .iter()
            .map(|&n| Ok((n, s.eval(n, reps)?)))
            .collect::<Result<_>>()?;
        'outer: for (i, &(a, ma)) in points.iter().enumerate() {
            for &(b, mb) in &points[i + 1..] {
                if plan.slo.clearly_worse(mb, ma) {
                    monotone = false;
                    notes.push(format!(
                        "{} at {} = {b} ({:.3} ± {:.3}) is worse than at {a} ({:.3} ± {:.3})",
                        plan.slo.metric_name(),
                        plan.vary,
                        mb.0,
                        mb.1,
                        ma.0,
                        ma.1
                    ));
                    break 'outer;
                }
            }
        }
        if status == Status::Uncertain && reps < plan.reps_max {
            reps = (reps * 2).min(plan.reps_max);
            continue;
        }
        if status == Status::Uncertain {
            notes.push(format!(
                "the 95 % interval straddles the threshold even with {reps} replications"
            ));
        }
        return Ok(Answer {
            policy: policy.label.clone(),
            load_scale: load,
            status,
            needed: found,
            at,
            below,
            replications: reps,
            monotone,
            notes,
            runs: s.runs,
        });
    }
}

/// A capacity search, checked (see [`CapacitySearch::new`]).
pub struct CapacitySearch {
    base: Scenario,
    slo: Slo,
    vary: String,
    min: u64,
    max: u64,
    loads: Vec<f64>,
    policies: Vec<Policy>,
    reps0: u64,
    reps_max: u64,
}

impl CapacitySearch {
    /// Checks a search of the integer key `vary` over `[min, max]` for `slo` (see
    /// [`Slo::parse`]), for each load level of `loads` and each policy name of
    /// `policies` (`None`: the scenario's own). Replications start at `replications`
    /// (default: the scenario's, at least 3) and double up to `max_replications`
    /// (default: 4 × the first). `base` has its `[run]` overrides applied and is checked.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base: Scenario,
        slo: &str,
        vary: &str,
        (min, max): (u64, u64),
        loads: &[f64],
        policies: Option<&[String]>,
        replications: Option<u64>,
        max_replications: Option<u64>,
    ) -> Result<CapacitySearch> {
        let slo = Slo::parse(slo)?;
        if min > max {
            bail!("--min {min} is larger than --max {max}");
        }
        let mut levels = Vec::new();
        for &l in loads {
            if !(l.is_finite() && l > 0.0) {
                bail!("--load-scale: {l} is not a positive number");
            }
            if levels.contains(&l) {
                bail!("--load-scale: {l} is given twice");
            }
            levels.push(l);
        }
        let reps0 = replications.unwrap_or(base.run.replications.max(3));
        if reps0 < 2 {
            bail!("--replications must be at least 2 (a confidence interval needs two)");
        }
        let reps_max = max_replications.unwrap_or(reps0.saturating_mul(4));
        if reps_max < reps0 {
            bail!("--max-replications {reps_max} is less than --replications {reps0}");
        }
        if reps_max > workloads::limits::MAX_REPLICATIONS {
            bail!(
                "at most {} replications are supported, got {reps_max} (--max-replications is \
                 4 × --replications unless given)",
                workloads::limits::MAX_REPLICATIONS
            );
        }
        // The key must take integers; check it (and the extremes) before running anything.
        for n in [min, max] {
            grid::apply(&base, &[(vary, &n.to_string())])
                .with_context(|| format!("--vary {vary} = {n}"))?;
        }
        let policies = match policies {
            Some(p) => grid::parse_policies(p)?,
            None => vec![Policy::of_scenario(&base)],
        };
        Ok(CapacitySearch {
            base,
            slo,
            vary: vary.to_string(),
            min,
            max,
            loads: levels,
            policies,
            reps0,
            reps_max,
        })
    }

    /// What the search is, in one line.
    pub fn describe(&self) -> String {
        format!(
            "{} policy(ies) × {} load level(s): bisection of {} over [{}, {}] for {}, \
             {} replications (up to {}), {}",
            self.policies.len(),
            self.loads.len(),
            self.vary,
            self.min,
            self.max,
            self.slo,
            self.reps0,
            self.reps_max,
            self.base.describe_workload()
        )
    }

    /// About how many runs the search makes (for a progress estimate): per policy and load
    /// level, log2 of the range plus three more values, at the first replications.
    pub fn estimated_runs(&self) -> u64 {
        let steps = 64 - (self.max - self.min + 1).leading_zeros() as u64 + 3;
        (self.policies.len() * self.loads.len()) as u64 * steps * self.reps0
    }

    /// Searches every policy × load level in parallel on `threads` worker threads
    /// (`None`: one per core) and returns the answers in (policy, load) order.
    pub fn run(&self, threads: Option<usize>, progress: &dyn Progress) -> Result<Vec<Answer>> {
        let plan = Plan {
            slo: &self.slo,
            vary: &self.vary,
            min: self.min,
            max: self.max,
            reps0: self.reps0,
            reps_max: self.reps_max,
        };
        let jobs: Vec<(usize, usize)> = (0..self.policies.len())
            .flat_map(|p| (0..self.loads.len()).map(move |l| (p, l)))
            .collect();
        let pool = crate::thread_pool(threads)?;
        progress.start(self.estimated_runs());
        let answers = pool.install(|| {
            jobs.par_iter()
                .map(|&(p, l)| {
                    search(
                        &self.base,
                        &self.policies[p],
                        self.loads[l],
                        &plan,
                        progress,
                    )
                })
                .collect::<Result<_>>()
        })?;
        progress.finish();
        Ok(answers)
    }

    /// Writes `capacity.csv`, the capacity curve (unless `plots` is false) and `run.toml`
    /// into `out`.
    pub fn write(
        &self,
        out: &Path,
        answers: &[Answer],
        plots: bool,
        provenance: &Provenance,
    ) -> Result<()> {
        // Old run.toml and files first, run.toml last (see `reports::folder`).
        reports::folder::begin(
            out,
            &[CAPACITY_CSV, "capacity.svg", "capacity.png"].map(String::from),
        )?;
        let rows: Vec<CapacityRow> = answers
            .iter()
            .map(|a| CapacityRow {
                policy: a.policy.clone(),
                load_scale: a.load_scale,
                key: self.vary.clone(),
                needed: a.needed,
                slo: self.slo.to_string(),
                at: a.at,
                below: a.below,
                replications: a.replications,
                status: a.status.name().to_string(),
                monotone: a.monotone,
                runs: a.runs,
            })
            .collect();
        write_capacity_csv(&out.join(CAPACITY_CSV), &rows)?;
        if plots {
            reports::plots::params::plot_capacity(out)
                .with_context(|| format!("cannot draw the capacity curve in {}", out.display()))?;
        }
        write_run_toml(
            out,
            &provenance.run_info(
                self.base.to_toml_string(),
                self.base.run.seed,
                self.reps0,
                self.policies.iter().map(|p| p.label.clone()).collect(),
            ),
        )?;
        Ok(())
    }

    /// The answers as a text table, headed by the SLO.
    pub fn table(&self, answers: &[Answer]) -> String {
        table(&self.slo, &self.vary, answers)
    }
}

/// The printed table.
fn table(slo: &Slo, vary: &str, answers: &[Answer]) -> String {
    let m = slo.metric_name();
    let head = [
        "policy".to_string(),
        "load".to_string(),
        format!("{vary} needed"),
        format!("{m} there ± 95% CI"),
        "one fewer ± 95% CI".to_string(),
        "reps".to_string(),
        "status".to_string(),
    ];
    let pm = |(x, h): (f64, f64)| format!("{x:.3} ± {h:.3}");
    let mut rows = vec![head.to_vec()];
    for a in answers {
        rows.push(vec![
            a.policy.clone(),
            format!("×{}", a.load_scale),
            match a.needed {
                Some(n) => n.to_string(),
                None => "not met".into(),
            },
            pm(a.at),
            a.below.map(pm).unwrap_or_else(|| "—".into()),
            a.replications.to_string(),
            format!(
                "{}{}",
                a.status.name(),
                if a.monotone { "" } else { ", not monotone" }
            ),
        ]);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("SLO {slo}\n");
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, w))| {
                if c == 0 || c == 6 {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slo_parses() {
        let s = Slo::parse("p95_wait_s<=30").unwrap();
        assert_eq!(
            (s.metric_name(), s.op, s.threshold),
            ("p95_wait_s", "<=", 30.0)
        );
        let s = Slo::parse(" cpu_utilization >= 0.5 ").unwrap();
        assert_eq!((s.metric_name(), s.op), ("cpu_utilization", ">="));
        assert!(s.meets(0.5) && !s.meets(0.4));
        assert!(Slo::parse("p95_wait_s<30").unwrap().meets(29.9));
        assert!(!Slo::parse("p95_wait_s<30").unwrap().meets(30.0));
        let e = Slo::parse("p96_wait<=3").unwrap_err().to_string();
        assert!(e.contains("unknown metric `p96_wait`"), "{e}");
        assert!(Slo::parse("p95_wait_s<=x").is_err());
        assert!(Slo::parse("p95_wait_s=3").is_err());
        assert!(!Slo::parse("p95_wait_s<=3").unwrap().meets(f64::NAN));
    }

    #[test]
    fn intervals_against_the_threshold() {
        let s = Slo::parse("p95_wait_s<=30").unwrap();
        // 28 ± 1.5 lies in [26.5, 29.5]: inside; 31 ± 0.5 in [30.5, 31.5]: outside.
        assert!(s.surely_meets((28.0, 1.5)));
        assert!(s.surely_misses((31.0, 0.5)));
        // 29 ± 2 straddles 30.
        assert!(!s.surely_meets((29.0, 2.0)) && !s.surely_misses((29.0, 2.0)));
        assert!(s.clearly_worse((40.0, 1.0), (30.0, 1.0)));
        assert!(!s.clearly_worse((31.0, 1.0), (30.0, 1.0)));
        let u = Slo::parse("jain_fairness>=0.9").unwrap();
        assert!(u.surely_meets((0.95, 0.01)) && u.surely_misses((0.8, 0.05)));
    }
}
