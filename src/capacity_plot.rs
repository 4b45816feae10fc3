//! The capacity curve of `vmsched capacity`: the value needed (usually hosts) against the
//! load level, one line per policy, drawn with the `reports` crate's chart machinery
//! (bundled font, SVG and PNG, atomic writes).
//!
//! TODO(reports): this chart belongs beside the others in `reports::plots::charts`; it
//! lives here only because that module was being reworked when `capacity` was added.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use reports::plots::charts::policy_colour;
use reports::plots::{Chart, FONT, write_chart};

/// One line of the chart: a policy and its `(load scale, value needed or None when not
/// met)` points.
pub(crate) type CapacityLine = (String, Vec<(f64, Option<u64>)>);

/// Hosts (or another key) needed against the load level, one line per policy.
#[derive(Clone, Debug)]
pub(crate) struct CapacityChart {
    /// The SLO, for the title.
    slo: String,
    /// The key searched, for the y axis.
    key: String,
    /// One line per policy.
    lines: Vec<CapacityLine>,
}

fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

impl Chart for CapacityChart {
    fn size(&self) -> (u32, u32) {
        (900, 540)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let loads: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(l, _)| *l))
            .collect();
        let (lo, hi) = loads
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &l| {
                (a.min(l), b.max(l))
            });
        let (lo, hi) = if lo.is_finite() && hi > lo {
            let pad = (hi - lo) * 0.05;
            (lo - pad, hi + pad)
        } else if lo.is_finite() {
            (lo * 0.9, lo * 1.1)
        } else {
            (0.0, 1.0)
        };
        let y_max = self
            .lines
            .iter()
            .flat_map(|(_, p)| p.iter().filter_map(|(_, n)| *n))
            .max()
            .unwrap_or(1) as f64
            * 1.15
            + 1.0;
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Capacity needed for {}", self.slo), text(20))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("load scale (× arrival rate)")
            .y_desc(format!("{} needed", self.key))
            .x_label_formatter(&|x| format!("{x:.2}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(text(15))
            .axis_desc_style(text(16))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (i, (policy, pts)) in self.lines.iter().enumerate() {
            let c = policy_colour(i);
            let met: Vec<(f64, f64)> = pts
                .iter()
                .filter_map(|(l, n)| n.map(|n| (*l, n as f64)))
                .collect();
            chart
                .draw_series(LineSeries::new(met.iter().copied(), c.stroke_width(3)))?
                .label(policy.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                });
            chart.draw_series(met.iter().map(|&p| Circle::new(p, 5, c.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(text(15))
            .draw()?;
        Ok(())
    }
}

/// Writes `capacity.svg` and `capacity.png` into `dir` (load levels where the SLO was not
/// met at the largest value tried are left out of their line).
pub(crate) fn write(dir: &Path, slo: &str, key: &str, lines: &[CapacityLine]) -> Result<()> {
    let chart = CapacityChart {
        slo: slo.to_string(),
        key: key.to_string(),
        lines: lines.to_vec(),
    };
    write_chart(
        dir,
        "capacity",
        "Capacity curve",
        "The smallest value meeting the SLO at each load level, one line per policy.",
        &chart,
    )?;
    Ok(())
}
