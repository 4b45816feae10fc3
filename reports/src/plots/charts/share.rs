//! Each VM's CPU share over time (`cpu_share.csv`), stacked, one panel per policy.

use super::super::data::SharePanel;
use super::*;

/// Stacked CPU share of VMs over time: one panel per policy (its first replication), a
/// band per VM with the most CPU time (coloured as in the Gantt chart), the other VMs
/// summed in grey; the dashed line is the scenario's pCPUs when known. The legend, top
/// band first, is in a column on the right.
#[derive(Clone, Debug)]
pub struct CpuShareChart {
    /// The panels, top to bottom.
    pub panels: Vec<SharePanel>,
    /// Total pCPUs of the scenario, when known.
    pub pcpus: Option<u64>,
}

const PANEL_HEIGHT: u32 = 300;
/// Width of the legend column (px).
const LEGEND_WIDTH: u32 = 130;
const OTHERS: RGBColor = RGBColor(0xBA, 0xB0, 0xAC);

impl CpuShareChart {
    /// How to read the chart.
    pub fn caption(&self) -> String {
        let interval = self.panels.first().map_or(0.0, |p| p.interval);
        format!(
            "Each VM's CPU time per interval of {} s divided by the interval, in pCPUs \
             (1 = one pCPU all the time), stacked: the {} VMs with the most CPU time in \
             colour (as in the Gantt chart), the others summed in grey; the top of the \
             stack is the pCPUs busy. First replication of each policy.",
            axis_secs(interval),
            crate::plots::data::SHARE_MAX_VMS
        )
    }
}

impl Chart for CpuShareChart {
    fn size(&self) -> (u32, u32) {
        (1000, PANEL_HEIGHT * self.panels.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        // One y scale for every panel, so panels compare at a glance.
        let top = self
            .panels
            .iter()
            .flat_map(|p| {
                (0..p.times.len())
                    .map(move |i| p.vms.iter().map(|v| v.1[i]).sum::<f64>() + p.others[i])
            })
            .fold(self.pcpus.map_or(0.0, |n| n as f64), f64::max)
            .max(0.1)
            * 1.1;
        let end = self
            .panels
            .iter()
            .filter_map(|p| p.times.last().copied())
            .fold(0.0, f64::max)
            .max(1e-9);
        let mut rest = root.clone();
        for p in &self.panels {
            let (area, below) = rest.split_vertically(PANEL_HEIGHT);
            rest = below;
            self.draw_panel(&area, p, top, end)?;
        }
        Ok(())
    }
}

impl CpuShareChart {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &SharePanel,
        top: f64,
        end: f64,
    ) -> DrawResult<DB> {
        // The legend goes in a column of its own on the right, off the bands.
        let (area, side) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
        let mut chart = ChartBuilder::on(&area)
            .caption(format!("CPU share per VM: {}", p.policy), text(18))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..end, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("CPU share (pCPUs)")
            .x_label_formatter(&|x| axis_secs(*x))
            .y_label_formatter(&|y| axis_secs(*y))
            .house_style()
            .draw()?;
        let n = p.times.len();
        let mut lower = vec![0.0; n];
        let mut bands: Vec<(String, RGBAColor, &Vec<f64>)> = p
            .vms
            .iter()
            .map(|(vm, v)| (format!("VM {vm}"), vm_colour(*vm).to_rgba(), v))
            .collect();
        if p.other_count > 0 {
            bands.push((
                format!("{} other VMs", p.other_count),
                OTHERS.to_rgba(),
                &p.others,
            ));
        }
        for (_, colour, v) in &bands {
            let upper: Vec<f64> = lower.iter().zip(v.iter()).map(|(a, b)| a + b).collect();
            // Steps: each value holds over [time − interval, time).
            let mut pts: Vec<(f64, f64)> = Vec::with_capacity(4 * n);
            for (&t, &y) in p.times.iter().zip(&upper) {
                pts.push(((t - p.interval).max(0.0), y));
                pts.push((t, y));
            }
            for (&t, &y) in p.times.iter().zip(&lower).rev() {
                pts.push((t, y));
                pts.push(((t - p.interval).max(0.0), y));
            }
            chart.draw_series(std::iter::once(Polygon::new(pts, colour.filled())))?;
            lower = upper;
        }
        if let Some(n) = self.pcpus {
            let y = n as f64;
            chart.draw_series(DashedLineSeries::new(
                [(0.0, y), (end, y)],
                6,
                4,
                BLACK.stroke_width(1),
            ))?;
        }
        // Top band first, as the stack reads from the top.
        for (i, (label, colour, _)) in bands.iter().rev().enumerate() {
            let y = 50 + 22 * i as i32;
            side.draw(&Rectangle::new([(4, y), (20, y + 14)], colour.filled()))?;
            side.draw(&Text::new(label.clone(), (26, y), text(14)))?;
        }
        Ok(())
    }
}
