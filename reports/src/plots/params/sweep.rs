//! The sweep plots: each metric against the first swept key (`sweep.csv`).

use super::*;

/// One row of `sweep.csv`, reduced to what the plots need.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// The values of the swept keys, as written.
    pub params: Vec<String>,
    /// Policy label.
    pub policy: String,
    /// `(mean, 95 % half-width)` per metric of [`SWEEP_METRICS`] (NaN when empty).
    pub values: Vec<(f64, f64)>,
}

/// `sweep.csv` as the plots see it.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepData {
    /// The swept keys (the columns before `policy`), in order.
    pub axes: Vec<String>,
    /// Replications per cell and policy (the largest seen).
    pub replications: u64,
    /// The rows, in file order.
    pub rows: Vec<SweepRow>,
}

pub(super) fn column(t: &CsvTable, path: &Path, name: &str) -> Result<usize, ReportError> {
    t.column(name)
        .ok_or_else(|| ReportError::input(path, Some(1), format!("missing column `{name}`")))
}

/// A number cell: empty is NaN; anything else must parse. `row` counts from 0.
pub(super) fn number_cell(
    t: &CsvTable,
    path: &Path,
    row: usize,
    col: usize,
) -> Result<f64, ReportError> {
    let cell = t.rows[row].get(col).map(String::as_str).unwrap_or("");
    if cell.trim().is_empty() {
        return Ok(f64::NAN);
    }
    cell.trim().parse::<f64>().map_err(|_| {
        ReportError::input(
            path,
            Some(row as u64 + 2),
            format!("{}: not a number: {cell:?}", t.header[col]),
        )
    })
}

/// Reads `sweep.csv` (see `vmsched sweep`): the axis columns, `policy`, `replications`
/// and, for each metric of [`SWEEP_METRICS`], the column and its `ci95_<metric>` (or
/// `<metric>_ci95`, as files written before that rule name it; see
/// [`crate::schema::find_ci95_column`]). A missing column or a cell that is not a number
/// is an error naming the file, line and column.
pub fn read_sweep(path: &Path) -> Result<SweepData, ReportError> {
    let t = read_table(path)?;
    let cp = column(&t, path, "policy")?;
    let cr = column(&t, path, "replications")?;
    let mut cols = Vec::new();
    for (m, _, _) in SWEEP_METRICS {
        let mean = column(&t, path, m)?;
        let ci = crate::schema::find_ci95_column(&t.header, m).ok_or_else(|| {
            let name = crate::schema::ci95_column(m);
            ReportError::input(path, Some(1), format!("missing column `{name}`"))
        })?;
        cols.push((mean, ci));
    }
    let mut rows = Vec::new();
    let mut replications = 0u64;
    for (i, r) in t.rows.iter().enumerate() {
        if r.len() != t.header.len() {
            return Err(ReportError::input(
                path,
                Some(i as u64 + 2),
                format!("{} fields, the header has {}", r.len(), t.header.len()),
            ));
        }
        let reps = number_cell(&t, path, i, cr)?;
        if reps.is_finite() && reps > 0.0 {
            replications = replications.max(reps as u64);
        }
        let mut values = Vec::new();
        for &(cm, ch) in &cols {
            values.push((number_cell(&t, path, i, cm)?, number_cell(&t, path, i, ch)?));
        }
        rows.push(SweepRow {
            params: r[..cp].to_vec(),
            policy: r[cp].clone(),
            values,
        });
    }
    Ok(SweepData {
        axes: t.header[..cp].to_vec(),
        replications,
        rows,
    })
}

/// One panel of a [`SweepChart`].
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPanel {
    /// `key = value` of the second swept key, or `None` for a single panel.
    pub title: Option<String>,
    /// The lines, each in the colour of its index in [`SweepChart::labels`].
    pub lines: Vec<(usize, BandLine)>,
}

/// One metric of a sweep against its first key.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepChart {
    /// Title (`Mean wait against hosts.count`).
    pub title: String,
    /// The metric's y axis description.
    pub y_desc: String,
    /// The first swept key.
    pub x_key: String,
    /// Its values.
    pub x: XValues,
    /// Every line's label, in colour order.
    pub labels: Vec<String>,
    /// The panels (one per value of the second key).
    pub panels: Vec<SweepPanel>,
    /// Replications per point.
    pub replications: u64,
    /// The second key, when there are panels.
    pub panel_key: Option<String>,
}

const SWEEP_PANEL: (u32, u32) = (560, 400);

impl SweepChart {
    /// The chart of metric `m` (an index into [`SWEEP_METRICS`]) of `d`; `None` when the
    /// sweep has no axis or the metric has no finite value.
    pub fn new(d: &SweepData, m: usize) -> Option<SweepChart> {
        let (_, y_desc, name) = SWEEP_METRICS.get(m)?;
        let x_key = d.axes.first()?.clone();
        if !d
            .rows
            .iter()
            .any(|r| r.values.get(m).is_some_and(|v| v.0.is_finite()))
        {
            return None;
        }
        let xs: Vec<String> = d.rows.iter().map(|r| r.params[0].clone()).collect();
        let x = XValues::of(&xs);
        // Lines split by policy only when a cell holds several policies (a policy that
        // is itself a swept key would otherwise give one point per line).
        let mut cells: Vec<&[String]> = d.rows.iter().map(|r| r.params.as_slice()).collect();
        cells.sort();
        let by_policy = cells.windows(2).any(|w| w[0] == w[1]);
        let mut policies: Vec<&str> = d.rows.iter().map(|r| r.policy.as_str()).collect();
        policies.sort_unstable();
        policies.dedup();
        let key_of = |r: &SweepRow| -> String {
            let mut parts: Vec<String> = Vec::new();
            if by_policy {
                parts.push(r.policy.clone());
            }
            for (k, v) in d.axes.iter().zip(&r.params).skip(2) {
                parts.push(format!("{k}={v}"));
            }
            if parts.is_empty() {
                match policies.as_slice() {
                    [one] => (*one).to_string(),
                    _ => "each cell's own policy".to_string(),
                }
            } else {
                parts.join(", ")
            }
        };
        let mut labels: Vec<String> = Vec::new();
        let mut panel_values: Vec<Option<String>> = Vec::new();
        for r in &d.rows {
            let k = key_of(r);
            if !labels.contains(&k) {
                labels.push(k);
            }
            let pv = r.params.get(1).cloned();
            if !panel_values.contains(&pv) {
                panel_values.push(pv);
            }
        }
        let panels = panel_values
            .iter()
            .map(|pv| {
                let mut lines: Vec<(usize, BandLine)> = Vec::new();
                for r in d.rows.iter().filter(|r| r.params.get(1) == pv.as_ref()) {
                    let Some(px) = x.position(&r.params[0]) else {
                        continue;
                    };
                    let k = key_of(r);
                    let li = labels.iter().position(|l| *l == k).unwrap_or(0);
                    let (mean, hw) = r.values[m];
                    match lines.iter_mut().find(|(i, _)| *i == li) {
                        Some((_, l)) => l.points.push((px, mean, hw)),
                        None => lines.push((
                            li,
                            BandLine {
                                label: k,
                                points: vec![(px, mean, hw)],
                            },
                        )),
                    }
                }
                for (_, l) in &mut lines {
                    l.points.sort_by(|a, b| a.0.total_cmp(&b.0));
                }
                lines.sort_by_key(|(i, _)| *i);
                SweepPanel {
                    title: pv.as_ref().map(|v| format!("{} = {v}", d.axes[1])),
                    lines,
                }
            })
            .collect();
        Some(SweepChart {
            title: format!("{name} against {x_key}"),
            y_desc: y_desc.to_string(),
            x_key,
            x,
            labels,
            panels,
            replications: d.replications,
            panel_key: d.axes.get(1).cloned(),
        })
    }

    /// How to read the chart.
    pub fn caption(&self) -> String {
        let band = if self.replications > 1 {
            format!(
                "the mean over {} replications, the shaded band its 95 % confidence \
                 interval (Student t)",
                self.replications
            )
        } else {
            "one replication, so no confidence band (run the sweep with --replications 2 \
             or more to get one)"
                .to_string()
        };
        let panels = match &self.panel_key {
            Some(k) => format!(" One panel per value of {k}."),
            None => String::new(),
        };
        format!(
            "{} against {}, one line per {}: {band}.{panels}",
            self.y_desc,
            self.x_key,
            if self.labels.len() > 1 {
                "policy (and further swept key)"
            } else {
                "run setting"
            }
        )
    }

    fn grid(&self) -> (u32, u32) {
        let n = self.panels.len().max(1) as u32;
        let cols = if n == 1 { 1 } else { 2 };
        (cols, n.div_ceil(cols))
    }
}

impl Chart for SweepChart {
    fn size(&self) -> (u32, u32) {
        if self.panels.len() <= 1 {
            (900, 540)
        } else {
            let (cols, rows) = self.grid();
            (SWEEP_PANEL.0 * cols, 50 + SWEEP_PANEL.1 * rows)
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let coloured = |p: &SweepPanel| -> Vec<ColouredLine> {
            p.lines
                .iter()
                .map(|(i, l)| (l.clone(), policy_colour(*i)))
                .collect()
        };
        if self.panels.len() <= 1 {
            let lines = self.panels.first().map(coloured).unwrap_or_default();
            let p = Panel {
                title: &self.title,
                x: &self.x,
                x_desc: &self.x_key,
                y_desc: &self.y_desc,
                threshold: None,
                hollow: Vec::new(),
                legend: true,
            };
            return band_panel(root, &p, &lines);
        }
        let area = root.titled(&self.title, text(TITLE))?;
        let (cols, rows) = self.grid();
        let cells = area.split_evenly((rows as usize, cols as usize));
        for (k, (p, cell)) in self.panels.iter().zip(cells.iter()).enumerate() {
            let panel = Panel {
                title: p.title.as_deref().unwrap_or(""),
                x: &self.x,
                x_desc: &self.x_key,
                y_desc: &self.y_desc,
                threshold: None,
                hollow: Vec::new(),
                legend: k == 0,
            };
            band_panel(cell, &panel, &coloured(p))?;
        }
        Ok(())
    }
}

/// Draws the sweep plots of `dir` from its `sweep.csv` (none when there is no such file,
/// or no swept key). Each is `sweep_<metric>.svg/.png`.
pub fn plot_sweep(dir: &Path) -> Result<Vec<PlotFile>, ReportError> {
    let path = dir.join(SWEEP_CSV);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let d = read_sweep(&path)?;
    let mut out = Vec::new();
    for (m, (metric, _, name)) in SWEEP_METRICS.iter().enumerate() {
        if let Some(c) = SweepChart::new(&d, m) {
            out.push(write_chart(
                dir,
                &format!("sweep_{metric}"),
                &format!("{name} against {}", c.x_key),
                &c.caption(),
                &c,
            )?);
        }
    }
    Ok(out)
}
