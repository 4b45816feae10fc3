//! The table a sweep prints: the main columns of `sweep.csv`.

use std::fmt::Write;

use reports::schema::{SWEEP_CSV, SweepRow};

use super::Manifest;
use crate::grid::METRICS;

/// Rows printed at most; the others are only in `sweep.csv`.
const MAX_ROWS: usize = 40;

/// The main columns of `sweep.csv` as a text table (the first 40 rows): the axes, the
/// policy, mean and p95 wait with their 95 % confidence intervals, CPU utilisation.
pub fn table(manifest: &Manifest, rows: &[SweepRow]) -> String {
    let idx = |name: &str| METRICS.iter().position(|m| *m == name).unwrap_or(0);
    let (mw, p95, util) = (
        idx("mean_wait_s"),
        idx("p95_wait_s"),
        idx("cpu_utilization"),
    );
    let mut head: Vec<String> = manifest.axes.iter().map(|a| a.key.clone()).collect();
    head.extend(
        [
            "policy",
            "mean wait ± 95% CI",
            "p95 wait ± 95% CI",
            "util %",
        ]
        .map(String::from),
    );
    let mut table: Vec<Vec<String>> = vec![head];
    let pm = |(m, h): (f64, f64)| {
        if h.is_nan() {
            format!("{m:.3}")
        } else {
            format!("{m:.3} ± {h:.3}")
        }
    };
    for r in rows.iter().take(MAX_ROWS) {
        let mut line = r.params.clone();
        line.push(r.policy.clone());
        line.push(pm(r.stats[mw]));
        line.push(pm(r.stats[p95]));
        line.push(format!("{:.1}", 100.0 * r.stats[util].0));
        table.push(line);
    }
    let cols = table[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            table
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, line) in table.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, w))| {
                if c < manifest.axes.len() + 1 {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if i == 0 {
            let _ = writeln!(
                out,
                "{}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * (cols - 1))
            );
        }
    }
    if rows.len() > MAX_ROWS {
        let _ = writeln!(out, "… {} more rows in {SWEEP_CSV}", rows.len() - MAX_ROWS);
    }
    out
}
