//! Metric against parameter, with the 95 % confidence band of the mean shaded: the plots
//! of a sweep folder (`sweep.csv`) and of a capacity folder (`capacity.csv`).
//!
//! | file | from | shows |
//! | --- | --- | --- |
//! | `sweep_<metric>.svg/.png` | `sweep.csv` | each metric of [`SWEEP_METRICS`] against the first swept key; one line per policy (and per value of the third and later keys); one panel per value of the second key |
//! | `capacity.svg/.png` | `capacity.csv` | the value needed (usually hosts) against the load level, one line per policy, and the SLO metric at that value with its band and the threshold |
//!
//! Both draw their lines with [`draw_band_lines`]: the band spans mean ± the half-width of
//! the Student-t 95 % confidence interval over replications (absent with one replication).
//! On the x axis the ticks are exactly the values swept (numbers in their own scale;
//! anything else, such as placement names, as evenly spaced categories).

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::charts::{Chart, KeyedAxis, axis_secs};
use super::data::{CsvTable, read_table};
use super::style::{DrawResult, LegendHouseStyle, MeshHouseStyle, TITLE, policy_colour, text};
use super::{PlotFile, write_chart};
use crate::error::ReportError;

/// A line with its colour.
pub type ColouredLine = (BandLine, RGBColor);

/// The chart type every panel of this module draws on.
type BandChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<KeyedAxis, RangedCoordf64>>;

pub use crate::schema::{CAPACITY_CSV, SWEEP_CSV};

mod capacity;
mod sweep;

pub use capacity::{CapacityChart, CapacityPoint, plot_capacity, read_capacity};
pub use sweep::{SweepChart, SweepData, SweepPanel, SweepRow, plot_sweep, read_sweep};

/// The columns of `sweep.csv` drawn, each with its y axis description and title.
pub const SWEEP_METRICS: [(&str, &str, &str); 4] = [
    ("mean_wait_s", "mean wait (s)", "Mean wait"),
    ("p95_wait_s", "p95 wait (s)", "95th percentile of wait"),
    (
        "mean_turnaround_s",
        "mean turnaround (s)",
        "Mean turnaround",
    ),
    ("cpu_utilization", "CPU utilisation", "CPU utilisation"),
];

/// The plot files (stems) a sweep folder can have.
pub fn sweep_plot_names() -> Vec<String> {
    SWEEP_METRICS
        .iter()
        .map(|(m, _, _)| format!("sweep_{m}"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Lines with confidence bands
// ---------------------------------------------------------------------------------------

/// One point of a [`BandLine`]: x, mean, half-width of the 95 % interval (NaN: unknown).
pub type BandPoint = (f64, f64, f64);

/// A line with its confidence band.
#[derive(Clone, Debug, PartialEq)]
pub struct BandLine {
    /// Legend label.
    pub label: String,
    /// Points in increasing x.
    pub points: Vec<BandPoint>,
}

impl BandLine {
    /// The points with a finite mean, as `(x, mean)`.
    pub fn means(&self) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .map(|p| (p.0, p.1))
            .collect()
    }

    /// Outline of the band: the upper edge left to right, then the lower edge right to
    /// left (a point without a finite half-width contributes its mean to both). Empty
    /// when no point has a positive finite half-width.
    pub fn band_outline(&self) -> Vec<(f64, f64)> {
        let pts: Vec<BandPoint> = self
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if !pts.iter().any(|p| p.2.is_finite() && p.2 > 0.0) {
            return Vec::new();
        }
        let hw = |p: &BandPoint| if p.2.is_finite() { p.2 } else { 0.0 };
        let mut out: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1 + hw(p))).collect();
        out.extend(pts.iter().rev().map(|p| (p.0, p.1 - hw(p))));
        out
    }

    /// Lowest and highest y of the line and its band (`None` without finite points).
    fn y_extent(&self) -> Option<(f64, f64)> {
        let ys = self
            .means()
            .into_iter()
            .map(|p| p.1)
            .chain(self.band_outline().into_iter().map(|p| p.1));
        ys.fold(None, |acc, y| match acc {
            None => Some((y, y)),
            Some((lo, hi)) => Some((lo.min(y), hi.max(y))),
        })
    }
}

/// Draws each line in its colour: the band (colour at 20 % opacity), the line, a dot per
/// point; with `legend`, a legend entry per line.
pub fn draw_band_lines<DB: DrawingBackend>(
    chart: &mut BandChart<'_, DB>,
    lines: &[ColouredLine],
    legend: bool,
) -> DrawResult<DB> {
    for (line, c) in lines {
        let outline = line.band_outline();
        if !outline.is_empty() {
            chart.draw_series([Polygon::new(outline, c.mix(0.2).filled())])?;
        }
    }
    for (line, c) in lines {
        let c = *c;
        let pts = line.means();
        let s = chart.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(3)))?;
        if legend {
            s.label(line.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
            });
        }
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
    }
    Ok(())
}

/// Values on an x axis: numbers (placed at their value) or categories (evenly spaced).
#[derive(Clone, Debug, PartialEq)]
pub enum XValues {
    /// Numeric values, in increasing order.
    Numbers(Vec<f64>),
    /// Category names, in the order given.
    Categories(Vec<String>),
}

impl XValues {
    /// Numbers when every value reads as a finite number, else categories (first-seen
    /// order).
    pub fn of(values: &[String]) -> XValues {
        let nums: Option<Vec<f64>> = values
            .iter()
            .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        match nums {
            Some(mut n) if !n.is_empty() => {
                n.sort_by(f64::total_cmp);
                n.dedup();
                XValues::Numbers(n)
            }
            _ => {
                let mut c: Vec<String> = Vec::new();
                for v in values {
                    if !c.contains(v) {
                        c.push(v.clone());
                    }
                }
                XValues::Categories(c)
            }
        }
    }

    /// The x position of a value's text (`None` when it is not one of the values).
    pub fn position(&self, value: &str) -> Option<f64> {
        match self {
            XValues::Numbers(_) => value.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
            XValues::Categories(c) => c.iter().position(|v| v == value).map(|i| i as f64),
        }
    }

    /// The axis: 5 % padding around numbers (±0.5 around a single one, or ±10 % of it),
    /// ±0.5 around categories; ticks at the values (every k-th when there are more than
    /// 12).
    fn axis(&self) -> KeyedAxis {
        let thin = |keys: Vec<f64>| {
            let step = keys.len().div_ceil(12).max(1);
            keys.into_iter().step_by(step).collect::<Vec<f64>>()
        };
        match self {
            XValues::Numbers(n) => {
                let (lo, hi) = (n[0], n[n.len() - 1]);
                let (lo, hi) = if hi > lo {
                    let pad = (hi - lo) * 0.05;
                    (lo - pad, hi + pad)
                } else if lo != 0.0 {
                    (lo - 0.1 * lo.abs(), lo + 0.1 * lo.abs())
                } else {
                    (-0.5, 0.5)
                };
                KeyedAxis::at(lo, hi, thin(n.clone()))
            }
            XValues::Categories(c) => {
                let n = c.len().max(1);
                KeyedAxis::at(
                    -0.5,
                    n as f64 - 0.5,
                    thin((0..n).map(|i| i as f64).collect()),
                )
            }
        }
    }

    /// The label of a tick.
    fn label(&self, x: f64) -> String {
        match self {
            XValues::Numbers(_) => number(x),
            XValues::Categories(c) => {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    c.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        }
    }
}

/// A number for an axis label: up to 4 significant decimals, no trailing zeros.
fn number(x: f64) -> String {
    if x.abs() >= 1000.0 || x == x.round() {
        format!("{x:.0}")
    } else {
        crate::numbers::trim_fraction(&format!("{x:.4}")).to_string()
    }
}

/// The y range showing every line, its band and the `extra` values (0 included when all
/// are positive), with 10 % headroom.
fn y_range(lines: &[BandLine], extra: &[f64]) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, f64::NEG_INFINITY);
    for l in lines {
        if let Some((a, b)) = l.y_extent() {
            lo = lo.min(a);
            hi = hi.max(b);
        }
    }
    for &y in extra.iter().filter(|y| y.is_finite()) {
        lo = lo.min(y);
        hi = hi.max(y);
    }
    if !hi.is_finite() || hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi + 0.1 * (hi - lo))
}

/// What one panel of this module shows besides its lines.
struct Panel<'a> {
    title: &'a str,
    x: &'a XValues,
    x_desc: &'a str,
    y_desc: &'a str,
    /// A dashed black horizontal line and its legend label.
    threshold: Option<(f64, &'a str)>,
    /// Points drawn as hollow circles over the lines.
    hollow: Vec<((f64, f64), RGBColor)>,
    legend: bool,
}

/// One panel: title, axes and the lines with their bands.
fn band_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel<'_>,
    lines: &[ColouredLine],
) -> DrawResult<DB> {
    let (title, x, x_desc, y_desc, threshold, legend) =
        (p.title, p.x, p.x_desc, p.y_desc, p.threshold, p.legend);
    let plain: Vec<BandLine> = lines.iter().map(|(l, _)| l.clone()).collect();
    let extra: Vec<f64> = threshold.map(|t| t.0).into_iter().collect();
    let (y_lo, y_hi) = y_range(&plain, &extra);
    let mut chart = ChartBuilder::on(area)
        .caption(title, text(18))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(75)
        .build_cartesian_2d(x.axis(), y_lo..y_hi)?;
    let xv = x.clone();
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| xv.label(*v))
        .y_label_formatter(&|y| axis_secs(*y))
        .house_style()
        .draw()?;
    if let Some((t, label)) = threshold {
        let r = chart.x_range();
        let s = chart.draw_series(DashedLineSeries::new(
            [(r.start, t), (r.end, t)],
            10,
            6,
            BLACK.stroke_width(2),
        ))?;
        if legend {
            s.label(label.to_string()).legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(2))
            });
        }
    }
    draw_band_lines(&mut chart, lines, legend)?;
    for &(q, c) in &p.hollow {
        chart.draw_series([
            Circle::new(q, 6, WHITE.filled()),
            Circle::new(q, 6, c.stroke_width(2)),
        ])?;
    }
    if legend && (!lines.is_empty() || threshold.is_some()) {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .house_style()
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SVG `<text>` contents.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = t.split_once('>')?.1;
                Some(body.split("</text>").next()?.trim().to_string())
            })
            .collect()
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// Polylines stroked in colour `c` (a curve or a legend entry each).
    fn polylines(svg: &str, c: RGBColor) -> usize {
        let stroke = format!("stroke=\"{}\"", hex(c));
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&stroke))
            .count()
    }

    /// Filled polygons in colour `c` (bands).
    fn polygons(svg: &str, c: RGBColor) -> usize {
        let fill = format!("fill=\"{}\"", hex(c));
        svg.lines()
            .filter(|l| l.starts_with("<polygon") && l.contains(&fill))
            .count()
    }

    fn has(t: &[String], label: &str) {
        assert!(t.iter().any(|x| x == label), "{label:?} not in {t:?}");
    }

    const METRIC_HEADER: &str = "vms,mean_wait_s,ci95_mean_wait_s,p95_wait_s,ci95_p95_wait_s,mean_turnaround_s,ci95_mean_turnaround_s,cpu_utilization,ci95_cpu_utilization";

    /// A 1-D sweep over hosts.count (2, 4, 8) × fcfs, sjf, 3 replications.
    fn one_axis() -> String {
        let mut s = format!("hosts.count,policy,seed,replications,{METRIC_HEADER}\n");
        for (n, w) in [(2, 40.0), (4, 10.0), (8, 1.0)] {
            for (p, f) in [("fcfs", 1.0), ("sjf", 0.5)] {
                let m = w * f;
                s.push_str(&format!(
                    "{n},{p},7,3,100,{m},{},{},{},{},{},{},0.01\n",
                    m / 10.0,
                    3.0 * m,
                    m / 5.0,
                    m + 2.0,
                    m / 10.0,
                    1.6 / f64::from(n)
                ));
            }
        }
        s
    }

    fn chart_svg(c: &impl Chart) -> String {
        super::super::render_svg(c, Path::new("t.svg")).unwrap()
    }

    #[test]
    fn band_outline_hand_computed() {
        // Points (1, 10 ± 2), (2, 5 ± NaN), (3, 1 ± 0.5): upper edge 12, 5, 1.5 left to
        // right, then the lower edge 0.5, 5, 8 right to left.
        let l = BandLine {
            label: "x".into(),
            points: vec![(1.0, 10.0, 2.0), (2.0, 5.0, f64::NAN), (3.0, 1.0, 0.5)],
        };
        assert_eq!(
            l.band_outline(),
            [
                (1.0, 12.0),
                (2.0, 5.0),
                (3.0, 1.5),
                (3.0, 0.5),
                (2.0, 5.0),
                (1.0, 8.0)
            ]
        );
        // No half-width anywhere: no band.
        let l = BandLine {
            label: "x".into(),
            points: vec![(1.0, 10.0, f64::NAN), (2.0, 5.0, 0.0)],
        };
        assert!(l.band_outline().is_empty());
        assert_eq!(l.means(), [(1.0, 10.0), (2.0, 5.0)]);
    }

    #[test]
    fn x_values_numbers_or_categories() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            XValues::of(&v(&["8", "2", "4", "2"])),
            XValues::Numbers(vec![2.0, 4.0, 8.0])
        );
        let c = XValues::of(&v(&["first-fit", "best-fit", "first-fit"]));
        assert_eq!(c, XValues::Categories(v(&["first-fit", "best-fit"])));
        assert_eq!(c.position("best-fit"), Some(1.0));
        assert_eq!(c.label(1.0), "best-fit");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(16.0), "16");
    }

    #[test]
    fn sweep_plot_one_line_per_policy_with_bands() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SWEEP_CSV), one_axis()).unwrap();
        let plots = plot_sweep(dir.path()).unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, sweep_plot_names());
        for p in &plots {
            assert_eq!(
                &std::fs::read(&p.png).unwrap()[..4],
                b"\x89PNG",
                "{}",
                p.name
            );
        }
        let svg = std::fs::read_to_string(dir.path().join("sweep_mean_wait_s.svg")).unwrap();
        let t = texts(&svg);
        for label in [
            "Mean wait against hosts.count",
            "hosts.count",
            "mean wait (s)",
            "fcfs",
            "sjf",
            "2",
            "4",
            "8",
        ] {
            has(&t, label);
        }
        let (blue, orange, green) = (policy_colour(0), policy_colour(1), policy_colour(2));
        // Each policy: its line and its legend entry; one band.
        assert_eq!((polylines(&svg, blue), polylines(&svg, orange)), (2, 2));
        assert_eq!((polygons(&svg, blue), polygons(&svg, orange)), (1, 1));
        assert_eq!((polylines(&svg, green), polygons(&svg, green)), (0, 0));
        let d = read_sweep(&dir.path().join(SWEEP_CSV)).unwrap();
        let c = SweepChart::new(&d, 0).unwrap();
        assert_eq!(c.labels, ["fcfs", "sjf"]);
        // fcfs mean wait at 2, 4, 8 hosts: 40 ± 4, 10 ± 1, 1 ± 0.1.
        assert_eq!(
            c.panels[0].lines[0].1.points,
            [(2.0, 40.0, 4.0), (4.0, 10.0, 1.0), (8.0, 1.0, 0.1)]
        );
        assert!(c.caption().contains("mean over 3 replications"));
    }

    #[test]
    fn two_axis_sweep_has_one_panel_per_value_of_the_second_key() {
        // hosts.count × cpu.quantum_ms (10, 100) × one policy, 2 replications; the third
        // key splits lines.
        let mut s = format!(
            "hosts.count,cpu.quantum_ms,cluster.placement,policy,seed,replications,{METRIC_HEADER}\n"
        );
        for n in [2, 4] {
            for q in [10, 100] {
                for pl in ["first-fit", "best-fit"] {
                    s.push_str(&format!(
                        "{n},{q},{pl},rr,1,2,10,{n}.5,0.5,3,1,4,1,0.5,0.1\n"
                    ));
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SWEEP_CSV), s).unwrap();
        let d = read_sweep(&dir.path().join(SWEEP_CSV)).unwrap();
        assert_eq!(
            d.axes,
            ["hosts.count", "cpu.quantum_ms", "cluster.placement"]
        );
        let c = SweepChart::new(&d, 0).unwrap();
        assert_eq!(
            c.labels,
            ["cluster.placement=first-fit", "cluster.placement=best-fit"]
        );
        assert_eq!(c.panels.len(), 2);
        let svg = chart_svg(&c);
        let t = texts(&svg);
        for label in [
            "cpu.quantum_ms = 10",
            "cpu.quantum_ms = 100",
            "cluster.placement=first-fit",
            "cluster.placement=best-fit",
        ] {
            has(&t, label);
        }
        // Each line in both panels, the legend in the first only: 3 polylines, 2 bands.
        let (blue, orange) = (policy_colour(0), policy_colour(1));
        assert_eq!((polylines(&svg, blue), polylines(&svg, orange)), (3, 3));
        assert_eq!((polygons(&svg, blue), polygons(&svg, orange)), (2, 2));
        assert!(
            c.caption()
                .contains("One panel per value of cpu.quantum_ms")
        );
    }

    #[test]
    fn one_replication_has_no_band_and_categories_sit_in_order() {
        let s = format!(
            "cluster.placement,policy,seed,replications,{METRIC_HEADER}\n\
             first-fit,fcfs,1,1,10,5,,6,,7,,0.5,\n\
             worst-fit,fcfs,1,1,10,3,,4,,5,,0.5,\n"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SWEEP_CSV), s).unwrap();
        let d = read_sweep(&dir.path().join(SWEEP_CSV)).unwrap();
        let c = SweepChart::new(&d, 0).unwrap();
        assert_eq!(c.labels, ["fcfs"]);
        assert_eq!(
            c.panels[0].lines[0].1.points[1].0, 1.0,
            "worst-fit is the second category"
        );
        let svg = chart_svg(&c);
        let t = texts(&svg);
        has(&t, "first-fit");
        has(&t, "worst-fit");
        assert_eq!(polygons(&svg, policy_colour(0)), 0);
        assert_eq!(polylines(&svg, policy_colour(0)), 2);
        assert!(c.caption().contains("no confidence band"));
    }

    #[test]
    fn sweep_without_axes_gives_no_plots_and_bad_cells_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SWEEP_CSV),
            format!("policy,seed,replications,{METRIC_HEADER}\nfcfs,1,1,10,1,,2,,3,,0.5,\n"),
        )
        .unwrap();
        assert!(plot_sweep(dir.path()).unwrap().is_empty());
        std::fs::write(
            dir.path().join(SWEEP_CSV),
            format!("x,policy,seed,replications,{METRIC_HEADER}\n1,fcfs,1,1,10,1,,2,,3,,0.5,\n2,fcfs,1,1,10,1,,two,,3,,0.5,\n"),
        )
        .unwrap();
        let e = plot_sweep(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("sweep.csv:3: p95_wait_s: not a number: \"two\""),
            "{e}"
        );
        std::fs::write(dir.path().join(SWEEP_CSV), "x,policy,replications\n").unwrap();
        let e = plot_sweep(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("sweep.csv:1: missing column `mean_wait_s`"),
            "{e}"
        );
    }

    /// fcfs meets the SLO with 2, 3, 5 hosts at loads 1, 2, 4 (the last uncertain); sjf
    /// with 2 and 3 at loads 1 and 2, not at all at load 4.
    const CAPACITY: &str = "policy,load_scale,key,needed,slo,value_at_needed,ci95_at_needed,value_below,ci95_below,replications,status,monotone,runs
fcfs,1,hosts.count,2,p95_wait_s<=30,20,2,45,3,3,ok,yes,12
fcfs,2,hosts.count,3,p95_wait_s<=30,25,3,50,4,3,ok,yes,12
fcfs,4,hosts.count,5,p95_wait_s<=30,29,4,33,4,12,uncertain,yes,40
sjf,1,hosts.count,2,p95_wait_s<=30,10,1,35,3,3,ok,yes,12
sjf,2,hosts.count,3,p95_wait_s<=30,15,2,40,3,3,ok,yes,12
sjf,4,hosts.count,,p95_wait_s<=30,90,5,,,3,not-met,yes,3
";

    #[test]
    fn capacity_chart_needed_and_metric_with_band_and_threshold() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CAPACITY_CSV), CAPACITY).unwrap();
        let plots = plot_capacity(dir.path()).unwrap();
        assert_eq!(plots.len(), 1);
        assert_eq!(&std::fs::read(&plots[0].png).unwrap()[..4], b"\x89PNG");
        let c = read_capacity(&dir.path().join(CAPACITY_CSV)).unwrap();
        assert_eq!((c.metric.as_str(), c.threshold), ("p95_wait_s", Some(30.0)));
        let (needed, metric) = c.band_lines();
        // sjf at load 4 is left out; fcfs's points carry the values of the file.
        assert_eq!(needed[1].0.points.len(), 2);
        assert_eq!(
            metric[0].0.points,
            [(1.0, 20.0, 2.0), (2.0, 25.0, 3.0), (4.0, 29.0, 4.0)]
        );
        let svg = std::fs::read_to_string(dir.path().join("capacity.svg")).unwrap();
        let t = texts(&svg);
        for label in [
            // SVG text escapes `<`.
            "Capacity needed for p95_wait_s&lt;=30",
            "p95_wait_s at the value needed",
            "load scale (× arrival rate)",
            "hosts.count needed",
            "p95_wait_s",
            "SLO threshold",
            "fcfs",
            "sjf",
        ] {
            has(&t, label);
        }
        let (blue, orange) = (policy_colour(0), policy_colour(1));
        // Per policy: a line and a legend entry in each panel; a band in the lower one.
        assert_eq!((polylines(&svg, blue), polylines(&svg, orange)), (4, 4));
        assert_eq!((polygons(&svg, blue), polygons(&svg, orange)), (1, 1));
        // The threshold: dashes (several black polylines) across the lower panel.
        let black = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains("stroke=\"#000000\""))
            .count();
        assert!(black > 5, "{black} black polylines");
        // The uncertain answer (fcfs, load 4) has a hollow marker: a white-filled circle.
        assert_eq!(
            svg.lines()
                .filter(|l| l.starts_with("<circle") && l.contains("fill=\"#FFFFFF\""))
                .count(),
            1
        );
    }

    #[test]
    fn capacity_without_answers_draws_nothing_and_bad_cells_are_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(plot_capacity(dir.path()).unwrap().is_empty());
        let only_missed: String = CAPACITY
            .lines()
            .filter(|l| l.starts_with("policy") || l.contains("not-met"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(dir.path().join(CAPACITY_CSV), only_missed).unwrap();
        assert!(plot_capacity(dir.path()).unwrap().is_empty());
        std::fs::write(
            dir.path().join(CAPACITY_CSV),
            CAPACITY.replace("fcfs,2,hosts.count,3", "fcfs,2,hosts.count,three"),
        )
        .unwrap();
        let e = plot_capacity(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("capacity.csv:3: needed: not a number: \"three\""),
            "{e}"
        );
    }
}
