//! Charts over time: occupancy (`vms.csv`), memory and devices (`timeline.csv`,
//! `devices.csv`), power and hosts on (`power.csv`).

use super::*;

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
            crate::plots::data::TIMELINE_BINS
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
                .house_style()
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
                    .house_style()
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
        .house_style()
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
            .house_style()
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
            crate::plots::data::TIMELINE_BINS
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
            crate::plots::data::TIMELINE_BINS
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

/// The cluster's power (top) and hosts on (bottom) over time, one curve per policy (its
/// first replication).
#[derive(Clone, Debug)]
pub struct PowerChart {
    /// Per policy.
    pub timelines: Vec<crate::plots::data::PowerTimeline>,
}

impl PowerChart {
    /// How to read the chart.
    pub fn caption(&self) -> String {
        format!(
            "Top: the power the cluster draws (the sum over hosts of each one's mean power \
             between samples). Bottom: hosts switched on (booting included). First \
             replication of each policy, warm-up included; time averages over at most {} \
             bins.",
            crate::plots::data::TIMELINE_BINS
        )
    }
}

impl Chart for PowerChart {
    fn size(&self) -> (u32, u32) {
        (900, 640)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let end = self.timelines.iter().map(|t| t.end).fold(0.0, f64::max);
        let end = if end > 0.0 { end } else { 1.0 };
        let mut power: Vec<Curve> = Vec::new();
        let mut on: Vec<Curve> = Vec::new();
        for (i, t) in self.timelines.iter().enumerate() {
            let c = policy_colour(i);
            power.push((Some(t.policy.clone()), c, 2, 1.0, t.power.points(t.end)));
            on.push((Some(t.policy.clone()), c, 2, 1.0, t.hosts_on.points(t.end)));
        }
        let (upper, lower) = root.split_vertically(340);
        time_panel(
            &upper,
            "Cluster power over time",
            "power (W)",
            y_top(max_y(&power), 1.0),
            end,
            &power,
        )?;
        time_panel(
            &lower,
            "Hosts on over time",
            "hosts on",
            y_top(max_y(&on), 1.0),
            end,
            &on,
        )
    }
}
