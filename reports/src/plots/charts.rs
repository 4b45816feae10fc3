//! The charts. Each is a plain data structure implementing [`Chart`], drawn the same way on
//! the SVG and the bitmap backend.
//!
//! Colours: policies take the Tableau 10 palette in order; VMs in a Gantt chart take a hue
//! from their id (golden-ratio steps), so one VM keeps its colour across panels.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::FONT;
use super::data::{DevicesData, GanttData, MemoryTimeline, Timeline, VmsData, WaitGroup};

/// A picture that can be drawn on any plotters backend.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws on `root` (already filled white).
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A continuous axis `lo..hi` whose labels and ticks are exactly at given points (category
/// centres, Gantt rows).
#[derive(Clone, Debug)]
pub struct KeyedAxis {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl KeyedAxis {
    /// The range `lo..hi` with labels and ticks at `keys`.
    pub fn at(lo: f64, hi: f64, keys: Vec<f64>) -> KeyedAxis {
        KeyedAxis { lo, hi, keys }
    }

    /// `count` categories centred on 0, 1, …, `count` − 1.
    pub fn categories(count: usize) -> KeyedAxis {
        KeyedAxis {
            lo: -0.5,
            hi: count.max(1) as f64 - 0.5,
            keys: (0..count).map(|i| i as f64).collect(),
        }
    }
}

impl Ranged for KeyedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let f = if span > 0.0 {
            (value - self.lo) / span
        } else {
            0.0
        };
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.keys.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Tableau 10, the colours of policies in order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// The colour of the `i`-th policy.
pub fn policy_colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The colour of VM `id` in Gantt charts: hue `id · 0.618…` (mod 1), pastel.
pub fn vm_colour(id: u64) -> HSLColor {
    let h = ((id as f64 + 1.0) * 0.618_033_988_749_895).fract();
    HSLColor(h, 0.55, 0.68)
}

pub(super) const LABEL: u32 = 15;
pub(super) const DESC: u32 = 16;
pub(super) const TITLE: u32 = 20;

pub(super) fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Quantile of a sorted sample with linear interpolation (type 7: `h = (n − 1) p`).
/// NaN for an empty sample.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Format a number of seconds for an axis.
pub(super) fn axis_secs(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .into()
    } else {
        format!("{x:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .into()
    }
}

// ---------------------------------------------------------------------------------------
// Wait CDF
// ---------------------------------------------------------------------------------------

/// One CDF curve: policy, VMs counted, points `(wait, fraction ≤ wait)`.
pub type CdfCurve = (String, u64, Vec<(f64, f64)>);

/// The empirical CDF of wait, one curve per policy.
#[derive(Clone, Debug)]
pub struct WaitCdf {
    /// The curves, at most 1002 points each.
    pub curves: Vec<CdfCurve>,
    /// Right end of the axis: the largest p99 of the policies.
    pub x_max: f64,
}

impl WaitCdf {
    /// The curves of `groups` (sorted samples).
    pub fn new(groups: &[WaitGroup]) -> WaitCdf {
        let mut x_max = groups
            .iter()
            .map(|g| quantile(&g.sorted, 0.99))
            .filter(|x| x.is_finite())
            .fold(0.0, f64::max);
        if x_max <= 0.0 {
            x_max = groups
                .iter()
                .filter_map(|g| g.sorted.last().copied())
                .fold(0.0, f64::max);
        }
        if x_max <= 0.0 {
            x_max = 1.0;
        }
        let curves = groups
            .iter()
            .map(|g| {
                let s = &g.sorted;
                let n = s.len();
                let mut pts = Vec::new();
                if n > 0 {
                    let below = |x: f64| s.partition_point(|v| *v <= x) as f64 / n as f64;
                    pts.push((0.0, below(0.0)));
                    let m = n.min(1000);
                    for j in 0..m {
                        let k = if m == 1 { 0 } else { j * (n - 1) / (m - 1) };
                        let x = s[k];
                        if x > 0.0 && x <= x_max {
                            pts.push((x, below(x)));
                        }
                    }
                    pts.push((x_max, below(x_max)));
                }
                (g.policy.clone(), g.count, pts)
            })
            .collect();
        WaitCdf { curves, x_max }
    }

    /// How to read the chart.
    pub fn caption(&self) -> String {
        "Fraction of VMs whose wait (turnaround − service) is at most x, one curve per \
         policy; higher and further left is better. Warm-up VMs are left out; the axis \
         stops at the largest 99th percentile."
            .to_string()
    }
}

impl Chart for WaitCdf {
    fn size(&self) -> (u32, u32) {
        (900, 540)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(root)
            .caption("Wait-time CDF per policy", text(TITLE))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..self.x_max, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("wait (s)")
            .y_desc("fraction of VMs with wait ≤ x")
            .x_label_formatter(&|x| axis_secs(*x))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .label_style(text(LABEL))
            .axis_desc_style(text(DESC))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (i, (policy, count, pts)) in self.curves.iter().enumerate() {
            let c = policy_colour(i);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(3)))?
                .label(format!("{policy} ({count} VMs)"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(text(LABEL))
            .draw()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Box plots
// ---------------------------------------------------------------------------------------

/// The five numbers of a box plot, plus the mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxStats {
    /// Lowest value ≥ q1 − 1.5 IQR.
    pub low: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Highest value ≤ q3 + 1.5 IQR.
    pub high: f64,
    /// Mean.
    pub mean: f64,
}

impl BoxStats {
    /// Tukey's box of a sorted sample (quartiles by [`quantile`]); `None` when empty.
    pub fn of(sorted: &[f64]) -> Option<BoxStats> {
        if sorted.is_empty() {
            return None;
        }
        let q1 = quantile(sorted, 0.25);
        let q3 = quantile(sorted, 0.75);
        let iqr = q3 - q1;
        let lo_fence = q1 - 1.5 * iqr;
        let hi_fence = q3 + 1.5 * iqr;
        let low = sorted
            .iter()
            .copied()
            .find(|x| *x >= lo_fence)
            .unwrap_or(q1);
        let high = sorted
            .iter()
            .rev()
            .copied()
            .find(|x| *x <= hi_fence)
            .unwrap_or(q3);
        Some(BoxStats {
            low,
            q1,
            median: quantile(sorted, 0.5),
            q3,
            high,
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        })
    }
}

/// Box plots of wait: one group per category (all VMs, then each priority class), one box
/// per policy in each group.
#[derive(Clone, Debug)]
pub struct WaitBoxes {
    /// Policies (legend), in order.
    pub policies: Vec<String>,
    /// Categories (x axis labels): `all VMs`, `class 1`, …
    pub categories: Vec<String>,
    /// `boxes[category][policy]`.
    pub boxes: Vec<Vec<Option<BoxStats>>>,
}

impl WaitBoxes {
    /// The boxes of `d` (all VMs, then each class seen).
    pub fn new(d: &VmsData) -> WaitBoxes {
        let mut classes: Vec<i32> = d.by_class.iter().filter_map(|g| g.class).collect();
        classes.sort_unstable();
        classes.dedup();
        let mut categories = vec!["all VMs".to_string()];
        categories.extend(classes.iter().map(|c| format!("class {c}")));
        let mut boxes = vec![d.all.iter().map(|g| BoxStats::of(&g.sorted)).collect()];
        for c in &classes {
            boxes.push(
                d.policies
                    .iter()
                    .map(|p| {
                        d.by_class
                            .iter()
                            .find(|g| &g.policy == p && g.class == Some(*c))
                            .and_then(|g| BoxStats::of(&g.sorted))
                    })
                    .collect(),
            );
        }
        WaitBoxes {
            policies: d.policies.clone(),
            categories,
            boxes,
        }
    }

    /// How to read the chart.
    pub fn caption(&self) -> String {
        "Wait per policy, for all VMs and for each priority class (lower number = more \
         urgent): the box spans the quartiles, the line is the median, the dot the mean, \
         the whiskers reach the furthest wait within 1.5 IQR of the box."
            .to_string()
    }
}

impl Chart for WaitBoxes {
    fn size(&self) -> (u32, u32) {
        (900, 540)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.categories.len().max(1);
        let np = self.policies.len().max(1);
        let y_max = self
            .boxes
            .iter()
            .flatten()
            .flatten()
            .map(|b| b.high.max(b.mean))
            .fold(0.0, f64::max);
        let y_max = if y_max > 0.0 { y_max * 1.08 } else { 1.0 };
        let cats = self.categories.clone();
        let fmt = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                cats.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(root)
            .caption("Wait per policy and priority class", text(TITLE))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(KeyedAxis::categories(n), 0.0..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("VMs")
            .y_desc("wait (s)")
            .x_label_formatter(&fmt)
            .y_label_formatter(&|y| axis_secs(*y))
            .label_style(text(LABEL))
            .axis_desc_style(text(DESC))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        let w = 0.8 / np as f64;
        for (p, policy) in self.policies.iter().enumerate() {
            let c = policy_colour(p);
            let mut elems: Vec<DynElement<'static, DB, (f64, f64)>> = Vec::new();
            for (ci, row) in self.boxes.iter().enumerate() {
                let Some(Some(b)) = row.get(p) else { continue };
                let x0 = ci as f64 - 0.4 + p as f64 * w + 0.1 * w;
                let x1 = x0 + 0.8 * w;
                let xm = (x0 + x1) / 2.0;
                elems.push(
                    Rectangle::new([(x0, b.q1), (x1, b.q3)], c.mix(0.35).filled()).into_dyn(),
                );
                elems.push(Rectangle::new([(x0, b.q1), (x1, b.q3)], c.stroke_width(2)).into_dyn());
                elems.push(
                    PathElement::new(vec![(x0, b.median), (x1, b.median)], BLACK.stroke_width(3))
                        .into_dyn(),
                );
                elems.push(
                    PathElement::new(vec![(xm, b.q3), (xm, b.high)], c.stroke_width(2)).into_dyn(),
                );
                elems.push(
                    PathElement::new(vec![(xm, b.q1), (xm, b.low)], c.stroke_width(2)).into_dyn(),
                );
                let (cx0, cx1) = (xm - 0.2 * w, xm + 0.2 * w);
                elems.push(
                    PathElement::new(vec![(cx0, b.high), (cx1, b.high)], c.stroke_width(2))
                        .into_dyn(),
                );
                elems.push(
                    PathElement::new(vec![(cx0, b.low), (cx1, b.low)], c.stroke_width(2))
                        .into_dyn(),
                );
                elems.push(Circle::new((xm, b.mean), 4, BLACK.filled()).into_dyn());
            }
            chart
                .draw_series(elems)?
                .label(policy.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 20, y + 6)], c.mix(0.6).filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(text(LABEL))
            .draw()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Mean wait with confidence intervals
// ---------------------------------------------------------------------------------------

/// Mean wait per policy with its 95 % confidence interval.
#[derive(Clone, Debug)]
pub struct MeanWaitChart {
    /// `(policy, mean wait, 95 % half-width)`.
    pub bars: Vec<(String, f64, Option<f64>)>,
}

impl MeanWaitChart {
    /// How to read the chart.
    pub fn caption(&self) -> String {
        "Mean wait per policy (summary.csv); the error bar is the 95 % confidence interval \
         over replications (Student t), absent with a single replication."
            .to_string()
    }
}

impl Chart for MeanWaitChart {
    fn size(&self) -> (u32, u32) {
        (900, 480)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.bars.len().max(1);
        let y_max = self
            .bars
            .iter()
            .map(|(_, m, c)| m + c.unwrap_or(0.0))
            .filter(|x| x.is_finite())
            .fold(0.0, f64::max);
        let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
        let names: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let fmt = move |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(root)
            .caption("Mean wait per policy (95 % CI)", text(TITLE))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(KeyedAxis::categories(n), 0.0..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("policy")
            .y_desc("mean wait (s)")
            .x_label_formatter(&fmt)
            .y_label_formatter(&|y| axis_secs(*y))
            .label_style(text(LABEL))
            .axis_desc_style(text(DESC))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (i, (_, mean, ci)) in self.bars.iter().enumerate() {
            let x = i as f64;
            let c = policy_colour(i);
            chart.draw_series([Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, *mean)],
                c.filled(),
            )])?;
            if let Some(h) = ci.filter(|h| h.is_finite()) {
                let (lo, hi) = ((mean - h).max(0.0), mean + h);
                chart.draw_series([
                    PathElement::new(vec![(x, lo), (x, hi)], BLACK.stroke_width(2)),
                    PathElement::new(vec![(x - 0.08, lo), (x + 0.08, lo)], BLACK.stroke_width(2)),
                    PathElement::new(vec![(x - 0.08, hi), (x + 0.08, hi)], BLACK.stroke_width(2)),
                ])?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Occupancy over time
// ---------------------------------------------------------------------------------------

/// Admitted vCPUs (per pCPU when the pCPU count is known) and VMs waiting for admission
/// over time, one curve per policy (its first replication).
#[derive(Clone, Debug)]
pub struct TimelineChart {
    /// Per policy.
    pub timelines: Vec<Timeline>,
    /// Total pCPUs of the scenario, when known.
    pub pcpus: Option<u64>,
}

impl TimelineChart {
    /// How to read the chart.
    pub fn caption(&self) -> String {
        let top = match self.pcpus {
            Some(p) => format!(
                "Top: vCPUs of admitted VMs divided by the {p} pCPUs (the CPU utilisation \
                 when vCPUs are not overcommitted)"
            ),
            None => "Top: vCPUs of admitted VMs".to_string(),
        };
        format!(
            "{top}; bottom: VMs waiting for admission. Time averages over {} bins, first \
             replication of each policy, warm-up included.",
            super::data::TIMELINE_BINS
        )
    }
}

impl Chart for TimelineChart {
    fn size(&self) -> (u32, u32) {
        (900, 640)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let end = self.timelines.iter().map(|t| t.end).fold(0.0, f64::max);
        let end = if end > 0.0 { end } else { 1.0 };
        let scale = self.pcpus.map_or(1.0, |p| p as f64);
        let busy: Vec<Vec<(f64, f64)>> = self
            .timelines
            .iter()
            .map(|t| {
                t.admitted_vcpus
                    .points(t.end)
                    .into_iter()
                    .map(|(x, y)| (x, y / scale))
                    .collect()
            })
            .collect();
        let queued: Vec<Vec<(f64, f64)>> = self
            .timelines
            .iter()
            .map(|t| t.queued.points(t.end))
            .collect();
        let top_max = busy.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
        let top_max = if self.pcpus.is_some() {
            top_max.max(1.0) * 1.05
        } else {
            top_max.max(1.0) * 1.1
        };
        let q_max = queued
            .iter()
            .flatten()
            .map(|p| p.1)
            .fold(0.0, f64::max)
            .max(1.0)
            * 1.1;
        let (upper, lower) = root.split_vertically(320);
        let top_desc = if self.pcpus.is_some() {
            "admitted vCPUs / pCPUs"
        } else {
            "admitted vCPUs"
        };
        for (area, series, y_max, desc, title, legend) in [
            (&upper, &busy, top_max, top_desc, "Load over time", true),
            (
                &lower,
                &queued,
                q_max,
                "VMs waiting for admission",
                "Admission queue over time",
                false,
            ),
        ] {
            let mut chart = ChartBuilder::on(area)
                .caption(title, text(18))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d(0.0..end, 0.0..y_max)?;
            chart
                .configure_mesh()
                .x_desc("time (s)")
                .y_desc(desc)
                .x_label_formatter(&|x| axis_secs(*x))
                .y_label_formatter(&|y| axis_secs(*y))
                .label_style(text(LABEL))
                .axis_desc_style(text(DESC))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for (i, pts) in series.iter().enumerate() {
                let c = policy_colour(i);
                let s =
                    chart.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?;
                if legend {
                    s.label(self.timelines[i].policy.clone())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                        });
                }
            }
            if legend {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(text(LABEL))
                    .draw()?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Memory and devices over time (timeline.csv, devices.csv)
// ---------------------------------------------------------------------------------------

/// One curve of a [`time_panel`]: legend label (`None`: no legend entry), colour, stroke
/// width, opacity and points.
type Curve = (Option<String>, RGBColor, u32, f64, Vec<(f64, f64)>);

/// Draws curves over time `0..end` on `area` with a title and a y axis description.
fn time_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    y_max: f64,
    end: f64,
    curves: &[Curve],
) -> DrawResult<DB> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, text(18))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(75)
        .build_cartesian_2d(0.0..end, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| axis_secs(*x))
        .y_label_formatter(&|y| axis_secs(*y))
        .label_style(text(LABEL))
        .axis_desc_style(text(DESC))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let mut legend = false;
    for (label, c, width, alpha, pts) in curves {
        let style = c.mix(*alpha).stroke_width(*width);
        let s = chart.draw_series(LineSeries::new(pts.iter().copied(), style))?;
        if let Some(l) = label {
            legend = true;
            s.label(l.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(text(LABEL))
            .draw()?;
    }
    Ok(())
}

/// Top of a y axis showing values up to `max` (at least `floor`), with 10 % headroom.
fn y_top(max: f64, floor: f64) -> f64 {
    if max.is_finite() {
        max.max(floor) * 1.1
    } else {
        floor * 1.1
    }
}

fn max_y(curves: &[Curve]) -> f64 {
    curves
        .iter()
        .flat_map(|c| c.4.iter().map(|p| p.1))
        .filter(|y| y.is_finite())
        .fold(0.0, f64::max)
}

/// Memory of host 0 over time, one pair of curves per policy (working set, resident), and
/// swap-ins per sampling interval below.
#[derive(Clone, Debug)]
pub struct MemoryChart {
    /// Per policy (first replication).
    pub timelines: Vec<MemoryTimeline>,
}

impl MemoryChart {
    /// The sampling interval (the smallest one seen), seconds; 0 when unknown.
    fn interval(&self) -> f64 {
        let m = self
            .timelines
            .iter()
            .map(|t| t.interval)
            .filter(|i| *i > 0.0)
            .fold(f64::INFINITY, f64::min);
        if m.is_finite() { m } else { 0.0 }
    }

    /// How to read the chart.
    pub fn caption(&self) -> String {
        format!(
            "Host 0, first replication of each policy. Top: working set of the VMs on the \
             host (thin line) and guest memory resident in host memory (thick, light line) \
             — a working set above resident memory means page faults. Bottom: swap-ins per \
             sampling interval. Time averages over at most {} bins.",
            super::data::TIMELINE_BINS
        )
    }
}

impl Chart for MemoryChart {
    fn size(&self) -> (u32, u32) {
        (900, 640)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let end = self.timelines.iter().map(|t| t.end).fold(0.0, f64::max);
        let end = if end > 0.0 { end } else { 1.0 };
        let interval = self.interval();
        let per = if interval > 0.0 { interval } else { 1.0 };
        let mut mem: Vec<Curve> = Vec::new();
        let mut swaps: Vec<Curve> = Vec::new();
        for (i, t) in self.timelines.iter().enumerate() {
            let c = policy_colour(i);
            mem.push((
                Some(format!("{} resident", t.policy)),
                c,
                5,
                0.4,
                t.resident.points(t.end),
            ));
            mem.push((
                Some(format!("{} working set", t.policy)),
                c,
                2,
                1.0,
                t.working_set.points(t.end),
            ));
            let pts = t
                .swap_rate
                .points(t.end)
                .into_iter()
                .map(|(x, y)| (x, y * per))
                .collect();
            swaps.push((Some(t.policy.clone()), c, 2, 1.0, pts));
        }
        let (upper, lower) = root.split_vertically(340);
        time_panel(
            &upper,
            "Memory of host 0 over time",
            "memory (MiB)",
            y_top(max_y(&mem), 1.0),
            end,
            &mem,
        )?;
        let desc = if interval > 0.0 {
            format!("swap-ins per interval ({} s)", axis_secs(interval))
        } else {
            "swap-ins per second".to_string()
        };
        time_panel(
            &lower,
            "Swap-ins over time",
            &desc,
            y_top(max_y(&swaps), 1.0),
            end,
            &swaps,
        )
    }
}

/// Utilisation (left) and queue length (right) over time of the devices of host 0, one row
/// per device, one curve per policy.
#[derive(Clone, Debug)]
pub struct DeviceChart {
    /// The devices.
    pub data: DevicesData,
}

const DEVICE_ROW: u32 = 300;

impl DeviceChart {
    /// How to read the chart.
    pub fn caption(&self) -> String {
        let more = if self.data.total_devices > self.data.devices.len() {
            format!(
                " Only the first {} of the host's {} devices are drawn.",
                self.data.devices.len(),
                self.data.total_devices
            )
        } else {
            String::new()
        };
        format!(
            "Host 0, first replication of each policy, one row per device: left, the \
             fraction of channel time busy; right, the requests waiting for a channel \
             (sampled). Time averages over at most {} bins.{more}",
            super::data::TIMELINE_BINS
        )
    }
}

impl Chart for DeviceChart {
    fn size(&self) -> (u32, u32) {
        (1100, DEVICE_ROW * self.data.devices.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let end = self
            .data
            .devices
            .iter()
            .flat_map(|d| d.series.iter().map(|s| s.end))
            .fold(0.0, f64::max);
        let end = if end > 0.0 { end } else { 1.0 };
        let mut rest = root.clone();
        for (row, dev) in self.data.devices.iter().enumerate() {
            let (area, below) = rest.split_vertically(DEVICE_ROW);
            rest = below;
            let (left, right) = area.split_horizontally(550);
            let mut util: Vec<Curve> = Vec::new();
            let mut queue: Vec<Curve> = Vec::new();
            for s in &dev.series {
                let c = policy_colour(s.policy);
                let name = self
                    .data
                    .policies
                    .get(s.policy)
                    .cloned()
                    .unwrap_or_default();
                util.push((
                    (row == 0).then(|| name.clone()),
                    c,
                    2,
                    1.0,
                    s.utilization.points(s.end),
                ));
                queue.push((None, c, 2, 1.0, s.queue.points(s.end)));
            }
            let label = format!("device {} ({})", dev.device, dev.kind);
            time_panel(
                &left,
                &format!("{label}: utilisation"),
                "utilisation",
                y_top(max_y(&util), 1.0),
                end,
                &util,
            )?;
            time_panel(
                &right,
                &format!("{label}: queue"),
                "requests queued",
                y_top(max_y(&queue), 1.0),
                end,
                &queue,
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Gantt
// ---------------------------------------------------------------------------------------

/// Gantt charts of CPU slices: one panel per run, one row per pCPU, one bar per slice
/// coloured by VM and labelled with its name when the label fits; context switches in grey.
#[derive(Clone, Debug)]
pub struct GanttChart {
    /// The panels, top to bottom.
    pub panels: Vec<GanttData>,
}

const GANTT_ROW: u32 = 40;
const GANTT_EXTRA: u32 = 110;

impl GanttChart {
    /// How to read the chart.
    pub fn caption(&self) -> String {
        "One row per pCPU, one bar per slice of CPU time, coloured by VM and labelled with \
         its id when the label fits; grey is a context switch. First replication of each \
         policy; long runs show their first slices only."
            .to_string()
    }

    fn panel_height(p: &GanttData) -> u32 {
        GANTT_EXTRA + GANTT_ROW * (p.rows.len().max(1) as u32)
    }
}

impl Chart for GanttChart {
    fn size(&self) -> (u32, u32) {
        let h: u32 = self.panels.iter().map(Self::panel_height).sum();
        (1000, h.max(GANTT_EXTRA + GANTT_ROW))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let mut rest = root.clone();
        for p in &self.panels {
            let (area, below) = rest.split_vertically(Self::panel_height(p));
            rest = below;
            draw_gantt_panel(&area, p)?;
        }
        Ok(())
    }
}

fn draw_gantt_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &GanttData,
) -> DrawResult<DB> {
    let n = p.rows.len().max(1);
    let end = if p.end > 0.0 { p.end } else { 1.0 };
    // Row i is drawn at y = n − 1 − i (the first row on top).
    let rows = p.rows.clone();
    let fmt = move |y: &f64| {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < rows.len() {
            rows[rows.len() - 1 - i as usize].clone()
        } else {
            String::new()
        }
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, text(18))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..end, KeyedAxis::categories(n))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("time (s)")
        .x_label_formatter(&|x| axis_secs(*x))
        .y_label_formatter(&fmt)
        .label_style(text(LABEL))
        .axis_desc_style(text(DESC))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let plot_w = f64::from(chart.plotting_area().dim_in_pixel().0.max(1));
    let px = |dt: f64| dt / end * plot_w;
    let label_style = text(13).pos(Pos::new(HPos::Center, VPos::Center));
    for b in &p.bars {
        let y = (n - 1 - b.row.min(n - 1)) as f64;
        let (y0, y1) = (y - 0.35, y + 0.35);
        if b.start > b.dispatch {
            chart.draw_series([Rectangle::new(
                [(b.dispatch, y0), (b.start, y1)],
                RGBColor(170, 170, 170).filled(),
            )])?;
        }
        let c = vm_colour(b.vm);
        chart.draw_series([
            Rectangle::new([(b.start, y0), (b.end, y1)], c.filled()),
            Rectangle::new([(b.start, y0), (b.end, y1)], BLACK.stroke_width(1)),
        ])?;
        let est = 8.0 * b.label.chars().count() as f64 + 6.0;
        if px(b.end - b.start) >= est {
            chart.draw_series([Text::new(
                b.label.clone(),
                ((b.start + b.end) / 2.0, y),
                label_style.clone(),
            )])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_boxes_hand_computed() {
        // 1..=9 and an outlier 100: n = 10.
        let s = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 100.0];
        // q1: h = 9 · 0.25 = 2.25 → 3 + 0.25 · 1 = 3.25; median h = 4.5 → 5.5;
        // q3: h = 6.75 → 7.75. IQR 4.5, fences 3.25 − 6.75 = −3.5 and 7.75 + 6.75 = 14.5:
        // low 1, high 9 (100 is an outlier). Mean 145 / 10 = 14.5.
        let b = BoxStats::of(&s).unwrap();
        assert_eq!(
            b,
            BoxStats {
                low: 1.0,
                q1: 3.25,
                median: 5.5,
                q3: 7.75,
                high: 9.0,
                mean: 14.5
            }
        );
        assert_eq!(BoxStats::of(&[]), None);
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(quantile(&[2.0], 0.99), 2.0);
    }

    #[test]
    fn cdf_points_hand_computed() {
        // Waits 0, 0, 1, 2, 3 (5 VMs): p99 h = 4 · 0.99 = 3.96 → 2 + 0.96 = 2.96 → x_max.
        // F(0) = 2/5; points at 1 (3/5), 2 (4/5); 3 > x_max is left out; the curve ends
        // at (2.96, 4/5).
        let g = WaitGroup {
            policy: "fcfs".into(),
            class: None,
            count: 5,
            sorted: vec![0.0, 0.0, 1.0, 2.0, 3.0],
        };
        let c = WaitCdf::new(&[g]);
        assert!((c.x_max - 2.96).abs() < 1e-12);
        assert_eq!(
            c.curves[0].2,
            [(0.0, 0.4), (1.0, 0.6), (2.0, 0.8), (c.x_max, 0.8)]
        );
    }

    #[test]
    fn axis_number_formats() {
        assert_eq!(axis_secs(0.0), "0");
        assert_eq!(axis_secs(250.0), "250");
        assert_eq!(axis_secs(12.5), "12.5");
        assert_eq!(axis_secs(0.126), "0.13");
        assert_eq!(axis_secs(2.0), "2");
    }
}
