//! The Gantt chart of the first slices of each policy (`slices.csv`).

use super::*;

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
        .house_style()
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
