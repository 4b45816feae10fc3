//! The capacity curve: the value needed against the load level (`capacity.csv`).

use super::sweep::{column, number_cell};
use super::*;

/// One answer of a capacity search.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityPoint {
    /// Load level (factor of the arrival rate).
    pub load: f64,
    /// The smallest value meeting the SLO; `None` when not met.
    pub needed: Option<f64>,
    /// The SLO metric there: mean and 95 % half-width.
    pub value: (f64, f64),
    /// The answer's confidence interval touches the threshold.
    pub uncertain: bool,
}

/// The capacity curve: the value needed against the load level, one line per policy, and
/// the SLO metric at that value with its confidence band.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityChart {
    /// The SLO as written (`p95_wait_s<=30`).
    pub slo: String,
    /// Its metric.
    pub metric: String,
    /// Its threshold, when it reads as a number.
    pub threshold: Option<f64>,
    /// The key searched.
    pub key: String,
    /// Per policy, its points in increasing load.
    pub lines: Vec<(String, Vec<CapacityPoint>)>,
}

/// Splits an SLO `METRIC<=X` into the metric and the threshold.
fn split_slo(slo: &str) -> (String, Option<f64>) {
    match slo.find(['<', '>']) {
        Some(i) => {
            let rest = slo[i..].trim_start_matches(['<', '>', '=']);
            (slo[..i].trim().to_string(), rest.trim().parse().ok())
        }
        None => (slo.to_string(), None),
    }
}

/// Reads `capacity.csv` (see `vmsched capacity`). A missing column or a cell that is not
/// a number is an error naming the file, line and column.
pub fn read_capacity(path: &Path) -> Result<CapacityChart, ReportError> {
    let t = read_table(path)?;
    let c = |n: &str| column(&t, path, n);
    let (cp, cl, ck, cn, cs, cv, ci, cst) = (
        c("policy")?,
        c("load_scale")?,
        c("key")?,
        c("needed")?,
        c("slo")?,
        c("value_at_needed")?,
        c("ci95_at_needed")?,
        c("status")?,
    );
    let mut chart = CapacityChart {
        slo: String::new(),
        metric: String::new(),
        threshold: None,
        key: String::new(),
        lines: Vec::new(),
    };
    for (i, r) in t.rows.iter().enumerate() {
        let cell = |k: usize| r.get(k).map(String::as_str).unwrap_or("");
        if i == 0 {
            chart.slo = cell(cs).to_string();
            chart.key = cell(ck).to_string();
            (chart.metric, chart.threshold) = split_slo(&chart.slo);
        }
        let load = number_cell(&t, path, i, cl)?;
        if !load.is_finite() {
            return Err(ReportError::input(
                path,
                Some(i as u64 + 2),
                "load_scale: missing",
            ));
        }
        let needed = Some(number_cell(&t, path, i, cn)?).filter(|n| n.is_finite());
        let p = CapacityPoint {
            load,
            needed,
            value: (number_cell(&t, path, i, cv)?, number_cell(&t, path, i, ci)?),
            uncertain: cell(cst) == "uncertain",
        };
        match chart.lines.iter_mut().find(|(name, _)| name == cell(cp)) {
            Some((_, pts)) => pts.push(p),
            None => chart.lines.push((cell(cp).to_string(), vec![p])),
        }
    }
    for (_, pts) in &mut chart.lines {
        pts.sort_by(|a, b| a.load.total_cmp(&b.load));
    }
    Ok(chart)
}

impl CapacityChart {
    /// How to read the chart.
    pub fn caption(&self) -> String {
        format!(
            "Top: the smallest {key} meeting {slo} at each load level (× the arrival rate), \
             one line per policy; a hollow marker means uncertain (the 95 % interval touches \
             the threshold even with the most replications); load levels where even the \
             largest value tried misses the SLO are left out. Bottom: {metric} at that \
             value, mean over replications with its 95 % confidence band, and the \
             threshold (dashed).",
            key = self.key,
            slo = self.slo,
            metric = self.metric
        )
    }

    fn loads(&self) -> XValues {
        let v: Vec<String> = self
            .lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.load.to_string()))
            .collect();
        XValues::of(&v)
    }

    /// The two panels' lines: (value needed, metric there with its band).
    pub(super) fn band_lines(&self) -> (Vec<ColouredLine>, Vec<ColouredLine>) {
        let mut needed = Vec::new();
        let mut metric = Vec::new();
        for (i, (policy, pts)) in self.lines.iter().enumerate() {
            let c = policy_colour(i);
            let met: Vec<&CapacityPoint> = pts.iter().filter(|p| p.needed.is_some()).collect();
            needed.push((
                BandLine {
                    label: policy.clone(),
                    points: met
                        .iter()
                        .map(|p| (p.load, p.needed.unwrap_or(f64::NAN), f64::NAN))
                        .collect(),
                },
                c,
            ));
            metric.push((
                BandLine {
                    label: policy.clone(),
                    points: met.iter().map(|p| (p.load, p.value.0, p.value.1)).collect(),
                },
                c,
            ));
        }
        (needed, metric)
    }
}

impl Chart for CapacityChart {
    fn size(&self) -> (u32, u32) {
        (900, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let x = self.loads();
        let (needed, metric) = self.band_lines();
        let (upper, lower) = root.split_vertically(420);
        let title = format!("Capacity needed for {}", self.slo);
        let y_needed = format!("{} needed", self.key);
        let hollow = self
            .lines
            .iter()
            .enumerate()
            .flat_map(|(i, (_, pts))| {
                pts.iter()
                    .filter(|p| p.uncertain)
                    .filter_map(move |p| p.needed.map(|n| ((p.load, n), policy_colour(i))))
            })
            .collect();
        let top = Panel {
            title: &title,
            x: &x,
            x_desc: "load scale (× arrival rate)",
            y_desc: &y_needed,
            threshold: None,
            hollow,
            legend: true,
        };
        band_panel(&upper, &top, &needed)?;
        let title = format!("{} at the value needed", self.metric);
        let bottom = Panel {
            title: &title,
            x: &x,
            x_desc: "load scale (× arrival rate)",
            y_desc: &self.metric,
            threshold: self.threshold.map(|t| (t, "SLO threshold")),
            hollow: Vec::new(),
            legend: true,
        };
        band_panel(&lower, &bottom, &metric)
    }
}

/// Draws `capacity.svg/.png` into `dir` from its `capacity.csv` (nothing when there is no
/// such file or no answer met the SLO).
pub fn plot_capacity(dir: &Path) -> Result<Vec<PlotFile>, ReportError> {
    let path = dir.join(CAPACITY_CSV);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let c = read_capacity(&path)?;
    if !c
        .lines
        .iter()
        .any(|(_, p)| p.iter().any(|q| q.needed.is_some()))
    {
        return Ok(Vec::new());
    }
    Ok(vec![write_chart(
        dir,
        "capacity",
        "Capacity curve",
        &c.caption(),
        &c,
    )?])
}
