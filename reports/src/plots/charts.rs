//! The charts. Each is a plain data structure implementing [`Chart`], drawn the same way on
//! the SVG and the bitmap backend.
//!
//! Colours: policies take the Tableau 10 palette in order; VMs in a Gantt chart take a hue
//! from their id (golden-ratio steps), so one VM keeps its colour across panels.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{DevicesData, GanttData, MemoryTimeline, Timeline, VmsData, WaitGroup};
use super::style::{DrawResult, LegendHouseStyle, MeshHouseStyle, TITLE, text};
pub use super::style::{PALETTE, policy_colour, vm_colour};
use crate::numbers::trim_fraction;

mod gantt;
mod share;
mod time;

pub use gantt::GanttChart;
pub use share::CpuShareChart;
pub use time::{DeviceChart, MemoryChart, PowerChart, TimelineChart};

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
        trim_fraction(&format!("{x:.1}")).into()
    } else {
        trim_fraction(&format!("{x:.2}")).into()
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
            .house_style()
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
            .house_style()
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
            .house_style()
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
            .house_style()
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
            .house_style()
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
