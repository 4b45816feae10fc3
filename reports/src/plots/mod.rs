//! Plots of a results folder, as SVG and PNG (plotters).
//!
//! [`plot_results_dir`] reads `vms.csv`, `summary.csv`, `slices.csv`, `timeline.csv`,
//! `devices.csv`, `power.csv`, `cpu_share.csv`, `sweep.csv` and `capacity.csv` (whichever exist)
//! and writes, next to them:
//!
//! | file | from | shows |
//! | --- | --- | --- |
//! | `wait_cdf.svg/.png` | `vms.csv` | the cumulative distribution of wait, one curve per policy |
//! | `wait_box.svg/.png` | `vms.csv` | box plots of wait per policy, for all VMs and per priority class |
//! | `timeline.svg/.png` | `vms.csv` | admitted vCPUs per pCPU and VMs waiting for admission over time (first replication) |
//! | `mean_wait.svg/.png` | `summary.csv` | mean wait per policy with its 95 % confidence interval |
//! | `gantt.svg/.png` | `slices.csv` | a Gantt chart of slices on pCPUs per policy (first replication) |
//! | `memory.svg/.png` | `timeline.csv` | working set and resident memory of host 0 over time, and swap-ins per sampling interval, per policy (first replication) |
//! | `cpu_share.svg/.png` | `cpu_share.csv` | each VM's CPU share over time (pCPUs), stacked, one panel per policy (first replication): the VMs with the most CPU time in colour, the others summed |
//! | `devices.svg/.png` | `devices.csv` | utilisation and queue length over time of each device of host 0, one curve per policy (first replication) |
//! | `power.svg/.png` | `power.csv` | the cluster's power and hosts on over time, one curve per policy (first replication) |
//! | `sweep_<metric>.svg/.png` | `sweep.csv` | a metric (mean wait, p95 wait, mean turnaround, CPU utilisation) against the first swept key, one line per policy, the 95 % confidence band shaded; one panel per value of a second key (see [`params`]) |
//! | `capacity.svg/.png` | `capacity.csv` | the value needed against the load level per policy, and the SLO metric there with its band (see [`params`]) |
//!
//! Text is drawn with DejaVu Sans, which is compiled into the crate (`reports/fonts/`,
//! Bitstream Vera licence), so PNG files have legible text on a machine without fonts.
//! Reading is streamed and bounded (see [`data`]): a vms.csv of millions of rows is
//! sampled, never held in memory.

pub mod charts;
pub mod data;
pub mod params;
mod style;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ReportError;

pub use charts::{BoxStats, Chart};
pub use data::{GanttData, gantt_from_slices};

/// The family name under which the bundled font is registered.
pub const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static FONT_OK: OnceLock<bool> = OnceLock::new();

/// Registers the bundled font with plotters (once per process). Returns whether it worked.
fn ensure_font() -> bool {
    *FONT_OK.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, FONT_BYTES).is_ok()
    })
}

fn font_error(path: &Path) -> ReportError {
    ReportError::plot(path, "the bundled font could not be loaded")
}

/// Draws `chart` as an SVG document. `path` only names the plot in errors.
pub fn render_svg<C: Chart>(chart: &C, path: &Path) -> Result<String, ReportError> {
    if !ensure_font() {
        return Err(font_error(path));
    }
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, chart.size()).into_drawing_area();
        draw_root(chart, &root).map_err(|e| ReportError::plot(path, e))?;
    }
    Ok(s)
}

/// Draws `chart` as a PNG file's bytes. `path` only names the plot in errors.
pub fn render_png<C: Chart>(chart: &C, path: &Path) -> Result<Vec<u8>, ReportError> {
    use image::ImageEncoder;
    if !ensure_font() {
        return Err(font_error(path));
    }
    let (w, h) = chart.size();
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw_root(chart, &root).map_err(|e| ReportError::plot(path, e))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&buf, w, h, image::ColorType::Rgb8)
        .map_err(|e| ReportError::plot(path, e))?;
    Ok(png)
}

fn draw_root<DB: DrawingBackend, C: Chart>(
    chart: &C,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    chart.draw(root).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// One plot written by [`plot_results_dir`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlotFile {
    /// File stem (`wait_cdf`, …).
    pub name: String,
    /// Title, for the report.
    pub title: String,
    /// One sentence saying how to read it.
    pub caption: String,
    /// The SVG file.
    pub svg: PathBuf,
    /// The PNG file.
    pub png: PathBuf,
}

/// Writes `chart` as `dir/name.svg` and `dir/name.png` (each atomically).
pub fn write_chart<C: Chart>(
    dir: &Path,
    name: &str,
    title: &str,
    caption: &str,
    chart: &C,
) -> Result<PlotFile, ReportError> {
    let svg = dir.join(format!("{name}.svg"));
    let png = dir.join(format!("{name}.png"));
    let text = render_svg(chart, &svg)?;
    crate::atomic::write_atomic(&svg, text.as_bytes())?;
    let bytes = render_png(chart, &png)?;
    crate::atomic::write_atomic(&png, &bytes)?;
    Ok(PlotFile {
        name: name.to_string(),
        title: title.to_string(),
        caption: caption.to_string(),
        svg,
        png,
    })
}

/// Total pCPUs of the scenario recorded in `dir/run.toml` (`Σ count × pcpus` over
/// `[[scenario.hosts]]`), when there is one.
pub fn total_pcpus(dir: &Path) -> Option<u64> {
    let info = crate::schema::read_run_toml(dir).ok()?;
    scenario_pcpus(&info.scenario_toml)
}

/// Total pCPUs of a scenario's text (`Σ count × pcpus` over `[[hosts]]`), when it says.
pub fn scenario_pcpus(scenario_toml: &str) -> Option<u64> {
    let t: toml::Table = toml::from_str(scenario_toml).ok()?;
    let hosts = t.get("hosts")?.as_array()?;
    let mut total = 0u64;
    for h in hosts {
        let count = h
            .get("count")
            .and_then(toml::Value::as_integer)
            .unwrap_or(1);
        let pcpus = h.get("pcpus")?.as_integer()?;
        total += u64::try_from(count.checked_mul(pcpus)?).ok()?;
    }
    (total > 0).then_some(total)
}

/// Draws every plot the files of results folder `dir` allow (see the module
/// documentation) and returns them in a fixed order. A folder with none of the files
/// gives no plots and no error; a file that cannot be read is an error naming it.
pub fn plot_results_dir(dir: &Path) -> Result<Vec<PlotFile>, ReportError> {
    plot_results_dir_with(dir, total_pcpus(dir))
}

/// [`plot_results_dir`] with the total pCPUs given (for the occupancy plot's scale) rather
/// than read from `run.toml`, so a run can draw its plots before it writes `run.toml`.
pub fn plot_results_dir_with(dir: &Path, pcpus: Option<u64>) -> Result<Vec<PlotFile>, ReportError> {
    let mut out = Vec::new();
    let vms = dir.join("vms.csv");
    if vms.exists() {
        let d = data::read_vms(&vms)?;
        if d.all.iter().any(|g| !g.sorted.is_empty()) {
            let cdf = charts::WaitCdf::new(&d.all);
            out.push(write_chart(
                dir,
                "wait_cdf",
                "Wait-time distribution",
                &cdf.caption(),
                &cdf,
            )?);
            let bx = charts::WaitBoxes::new(&d);
            out.push(write_chart(
                dir,
                "wait_box",
                "Wait per policy and priority class",
                &bx.caption(),
                &bx,
            )?);
        }
        if d.timelines.iter().any(|t| t.end > 0.0) {
            let tl = charts::TimelineChart {
                timelines: d.timelines.clone(),
                pcpus,
            };
            out.push(write_chart(
                dir,
                "timeline",
                "Occupancy over time",
                &tl.caption(),
                &tl,
            )?);
        }
    }
    let summary = dir.join("summary.csv");
    if summary.exists() {
        let t = data::read_table(&summary)?;
        let means = data::mean_waits(&t);
        if !means.is_empty() {
            let c = charts::MeanWaitChart { bars: means };
            out.push(write_chart(
                dir,
                "mean_wait",
                "Mean wait per policy",
                &c.caption(),
                &c,
            )?);
        }
    }
    let slices = dir.join("slices.csv");
    if slices.exists() {
        let panels = data::read_slices(&slices)?;
        if panels.iter().any(|p| !p.bars.is_empty()) {
            let g = charts::GanttChart { panels };
            out.push(write_chart(
                dir,
                "gantt",
                "Gantt chart of CPU slices",
                &g.caption(),
                &g,
            )?);
        }
    }
    let timeline = dir.join("timeline.csv");
    if timeline.exists() {
        let timelines = data::read_memory_timeline(&timeline)?;
        if timelines.iter().any(|t| t.end > 0.0) {
            let m = charts::MemoryChart { timelines };
            out.push(write_chart(
                dir,
                "memory",
                "Memory over time",
                &m.caption(),
                &m,
            )?);
        }
    }
    let devices = dir.join("devices.csv");
    if devices.exists() {
        let d = data::read_devices(&devices)?;
        if d.devices
            .iter()
            .any(|dev| dev.series.iter().any(|s| s.end > 0.0))
        {
            let c = charts::DeviceChart { data: d };
            out.push(write_chart(
                dir,
                "devices",
                "Devices over time",
                &c.caption(),
                &c,
            )?);
        }
    }
    let power = dir.join("power.csv");
    if power.exists() {
        let timelines = data::read_power(&power)?;
        if timelines.iter().any(|t| t.end > 0.0) {
            let c = charts::PowerChart { timelines };
            out.push(write_chart(
                dir,
                "power",
                "Power over time",
                &c.caption(),
                &c,
            )?);
        }
    }
    let share = dir.join("cpu_share.csv");
    if share.exists() {
        let panels = data::read_cpu_share(&share)?;
        if panels.iter().any(|p| !p.times.is_empty()) {
            let c = charts::CpuShareChart { panels, pcpus };
            out.push(write_chart(
                dir,
                "cpu_share",
                "CPU share per VM over time",
                &c.caption(),
                &c,
            )?);
        }
    }
    out.extend(params::plot_sweep(dir)?);
    out.extend(params::plot_capacity(dir)?);
    Ok(out)
}

/// The Gantt chart of one textbook run as an SVG document (for `vmsched textbook --svg`).
pub fn gantt_svg(data: GanttData) -> Result<String, ReportError> {
    render_svg(
        &charts::GanttChart { panels: vec![data] },
        Path::new("gantt.svg"),
    )
}

/// The Gantt chart of one textbook run as PNG bytes.
pub fn gantt_png(data: GanttData) -> Result<Vec<u8>, ReportError> {
    render_png(
        &charts::GanttChart { panels: vec![data] },
        Path::new("gantt.png"),
    )
}

/// Writes the Gantt chart of one small run (a textbook case, an exercise) to `path`: PNG
/// if the name ends in `.png` (any case), else SVG. `names` gives each VM's label. The
/// file is written atomically.
pub fn write_gantt_picture(
    path: &Path,
    title: &str,
    slices: &[sim::SliceRecord],
    names: &dyn Fn(u64) -> String,
) -> Result<(), ReportError> {
    let data = gantt_from_slices(title, slices, names);
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let bytes = if png {
        gantt_png(data)?
    } else {
        gantt_svg(data)?.into_bytes()
    };
    crate::atomic::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{RunInfo, write_run_toml};

    /// Two policies, priorities 1 and 2, one replication; waits fcfs 0, 2, 4 and sjf 1.
    const VMS: &str = "policy,replication,id,host,vcpus,memory_mib,priority,tenant,arrival_s,admission_s,first_run_s,finish_s,service_s,estimate_s,queue_wait_s,ready_wait_s,response_s,turnaround_s,wait_s,slowdown,preemptions,warmup
fcfs,0,0,0,1,512,1,,0,0,0,3,3,3,0,0,0,3,0,1,0,0
fcfs,0,1,0,2,512,2,,1,3,3,7,4,4,2,0,2,6,2,1.5,0,0
fcfs,0,2,0,1,512,2,,2,7,7,8,1,1,5,0,5,6,4,6,0,0
sjf,0,0,0,1,512,1,,0,0,0,3,3,3,0,0,0,3,1,1,0,0
";

    const SUMMARY: &str = "policy,replication,class,vms,mean_wait_s,ci95_mean_wait_s
fcfs,0,all,3,2.000000,
fcfs,mean,all,3,2.000000,0.500000
sjf,0,all,1,1.000000,
";

    /// Slices on two pCPUs: VM 0 0–3 (pCPU 0), VM 1 3–7 as two vCPUs (pCPUs 0 and 1),
    /// VM 2 7–8 after a 0.5 s context switch.
    const SLICES: &str = "policy,replication,host,pcpu,vm,vcpu,dispatch_s,start_s,end_s,reason
fcfs,0,0,0,0,0,0,0,3,finished
fcfs,0,0,0,1,0,3,3,7,finished
fcfs,0,0,1,1,1,3,3,7,finished
fcfs,0,0,0,2,0,7,7.5,8,finished
fcfs,1,0,0,9,0,0,0,1,finished
";

    fn results_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vms.csv"), VMS).unwrap();
        std::fs::write(dir.path().join("summary.csv"), SUMMARY).unwrap();
        std::fs::write(dir.path().join("slices.csv"), SLICES).unwrap();
        write_run_toml(
            dir.path(),
            &RunInfo {
                scenario_toml: "[[hosts]]\ncount = 2\npcpus = 4\n[run]\nseed = 7\n".into(),
                seed: 7,
                replications: 1,
                policies: vec!["fcfs".into(), "sjf".into()],
                version: "9.9.9".into(),
                git_revision: None,
                command: "vmsched compare --policies fcfs,sjf".into(),
            },
        )
        .unwrap();
        dir
    }

    fn count(hay: &str, needle: &str) -> usize {
        hay.matches(needle).count()
    }

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

    fn stroke(c: RGBColor) -> String {
        format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2)
    }

    #[test]
    fn every_plot_of_a_results_folder_with_its_content() {
        let dir = results_dir();
        let plots = plot_results_dir(dir.path()).unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["wait_cdf", "wait_box", "timeline", "mean_wait", "gantt"]
        );
        for p in &plots {
            let png = std::fs::read(&p.png).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", p.name);
            assert!(png.len() > 2000, "{}: {} bytes", p.name, png.len());
        }
        let svg = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        let (blue, orange, green) = (
            stroke(charts::PALETTE[0]),
            stroke(charts::PALETTE[1]),
            stroke(charts::PALETTE[2]),
        );

        // CDF: one curve per policy (a polyline for the curve, one for its legend).
        let cdf = svg("wait_cdf.svg");
        let t = texts(&cdf);
        for label in [
            "wait (s)",
            "fraction of VMs with wait ≤ x",
            "fcfs (3 VMs)",
            "sjf (1 VMs)",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        let lines = |s: &str, colour: &str| {
            s.lines()
                .filter(|l| l.starts_with("<polyline") && l.contains(colour))
                .count()
        };
        assert_eq!(lines(&cdf, &blue), 2);
        assert_eq!(lines(&cdf, &orange), 2);
        assert_eq!(lines(&cdf, &green), 0);

        // Boxes: categories all, class 1, class 2; fcfs has a box in all three, sjf in
        // `all` and class 1 only. Each box is one outlined rectangle in its colour.
        let bx = svg("wait_box.svg");
        let t = texts(&bx);
        for label in ["all VMs", "class 1", "class 2", "wait (s)", "fcfs", "sjf"] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        let boxes = |colour: &str| {
            bx.lines()
                .filter(|l| {
                    l.starts_with("<rect") && l.contains("fill=\"none\"") && l.contains(colour)
                })
                .count()
        };
        assert_eq!(boxes(&blue), 3);
        assert_eq!(boxes(&orange), 2);

        // Timeline: pCPUs known from run.toml (2 hosts × 4), two panels, one curve per
        // policy in each, legend in the top panel.
        let tl = svg("timeline.svg");
        let t = texts(&tl);
        for label in [
            "admitted vCPUs / pCPUs",
            "VMs waiting for admission",
            "time (s)",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        assert_eq!(lines(&tl, &blue), 3);
        assert_eq!(lines(&tl, &orange), 3);
        assert_eq!(total_pcpus(dir.path()), Some(8));

        // Mean wait: two filled bars, fcfs with an error bar (3 black segments).
        let mw = svg("mean_wait.svg");
        let t = texts(&mw);
        for label in ["mean wait (s)", "fcfs", "sjf"] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        let filled = |colour: &str| {
            let fill = colour.replace("stroke", "fill");
            mw.lines()
                .filter(|l| l.starts_with("<rect") && l.contains(&fill))
                .count()
        };
        assert_eq!((filled(&blue), filled(&orange)), (1, 1));

        // Gantt: 4 slices of replication 0 (replication 1 ignored) → 4 outlined bars and
        // one grey context switch; rows pCPU0 and pCPU1; VM 1 has two vCPUs → "1.0", "1.1".
        let g = svg("gantt.svg");
        assert_eq!(
            g.lines()
                .filter(|l| l.starts_with("<rect") && l.contains("fill=\"none\" stroke=\"#000000\""))
                .count(),
            4
        );
        assert_eq!(count(&g, "fill=\"#AAAAAA\""), 1);
        let t = texts(&g);
        for label in [
            "pCPU0",
            "pCPU1",
            "time (s)",
            "0",
            "1.0",
            "1.1",
            "fcfs, replication 0",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
    }

    /// Host 0 of fcfs and sjf sampled every 5 s; host 1 and replication 1 are ignored.
    const TIMELINE: &str = "policy,replication,time_s,host,busy_pcpus,cpu_utilization,ready_vcpus,blocked_vcpus,admitted_vms,queued_vms,working_set_mib,resident_mib,swap_ins
fcfs,0,5,0,2,0.5,0,0,2,0,100,100,0
fcfs,0,5,1,2,0.5,0,0,2,0,900,900,90
fcfs,0,10,0,4,1,1,1,3,1,200,150,10
fcfs,1,5,0,4,1,1,1,3,1,999,999,99
sjf,0,5,0,1,0.25,0,0,1,0,50,50,0
sjf,0,10,0,1,0.25,0,0,1,0,60,60,0
";

    /// Two devices of host 0 (a disk and the swap device), a device of host 1 (ignored).
    const DEVICES: &str = "policy,replication,time_s,host,device,kind,utilization,busy_channels,queue_length,completed
fcfs,0,5,0,0,disk,0.5,1,0,3
fcfs,0,5,0,1,swap,0.25,1,2,1
fcfs,0,5,1,0,disk,0.9,4,7,9
fcfs,0,10,0,0,disk,1,4,3,8
fcfs,0,10,0,1,swap,0.75,3,0,4
sjf,0,5,0,0,disk,0.1,1,0,1
sjf,0,5,0,1,swap,0,0,0,0
sjf,0,10,0,0,disk,0.2,1,1,2
sjf,0,10,0,1,swap,0,0,0,0
";

    /// `power.csv` of two hosts, two samples, and a second replication (ignored). Bins of
    /// 1 s: over [0, 5) the cluster draws 100 + 200 = 300 W with host 0 on and host 1 booting
    /// (2 on); over [5, 10), 150 + 8 = 158 W with host 1 off (1 on).
    #[test]
    fn power_plot_from_power_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("power.csv");
        std::fs::write(
            &path,
            "policy,replication,time_s,host,state,power_w\n\
             fcfs,0,5,0,on,100\nfcfs,0,5,1,booting,200\n\
             fcfs,0,10,0,on,150\nfcfs,0,10,1,off,8\n\
             fcfs,1,5,0,on,999\n",
        )
        .unwrap();
        let t = data::read_power(&path).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].end, 10.0);
        let power = t[0].power.points(10.0);
        let on = t[0].hosts_on.points(10.0);
        assert_eq!(power.len(), 10);
        assert_eq!((power[0].1, power[9].1), (300.0, 158.0));
        assert_eq!((on[0].1, on[9].1), (2.0, 1.0));
        let plots = plot_results_dir(dir.path()).unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["power"]);
        let svg = std::fs::read_to_string(dir.path().join("power.svg")).unwrap();
        let t = texts(&svg);
        for label in [
            "Cluster power over time",
            "Hosts on over time",
            "power (W)",
            "fcfs",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        // A host number that is not one names the file and the line.
        std::fs::write(
            &path,
            "policy,replication,time_s,host,state,power_w\nfcfs,0,5,x,on,1\n",
        )
        .unwrap();
        let e = data::read_power(&path).unwrap_err().to_string();
        assert!(e.contains("power.csv") && e.contains("host"), "{e}");
    }

    #[test]
    fn memory_and_device_plots_from_timeline_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("timeline.csv"), TIMELINE).unwrap();
        std::fs::write(dir.path().join("devices.csv"), DEVICES).unwrap();
        let plots = plot_results_dir(dir.path()).unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["memory", "devices"]);
        for p in &plots {
            let png = std::fs::read(&p.png).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", p.name);
        }
        let svg = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        let (blue, orange, green) = (
            stroke(charts::PALETTE[0]),
            stroke(charts::PALETTE[1]),
            stroke(charts::PALETTE[2]),
        );
        let lines = |s: &str, colour: &str| {
            s.lines()
                .filter(|l| l.starts_with("<polyline") && l.contains(colour))
                .count()
        };

        // Memory: per policy, working set and resident on top and swap-ins below, each
        // a curve and a legend entry → 6 polylines per policy colour.
        let m = svg("memory.svg");
        let t = texts(&m);
        for label in [
            "memory (MiB)",
            "swap-ins per interval (5 s)",
            "time (s)",
            "fcfs working set",
            "fcfs resident",
            "sjf working set",
            "sjf resident",
            "Memory of host 0 over time",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        assert_eq!(lines(&m, &blue), 6);
        assert_eq!(lines(&m, &orange), 6);
        assert_eq!(lines(&m, &green), 0);

        // Devices: two devices of host 0, utilisation and queue for each, one curve per
        // policy in each panel, plus one legend entry per policy → 5 per policy colour.
        let d = svg("devices.svg");
        let t = texts(&d);
        for label in [
            "device 0 (disk): utilisation",
            "device 0 (disk): queue",
            "device 1 (swap): utilisation",
            "device 1 (swap): queue",
            "utilisation",
            "requests queued",
            "time (s)",
            "fcfs",
            "sjf",
        ] {
            assert!(t.iter().any(|x| x == label), "{label} not in {t:?}");
        }
        assert_eq!(count(&d, "(disk): utilisation"), 1);
        assert_eq!(lines(&d, &blue), 5);
        assert_eq!(lines(&d, &orange), 5);
        assert_eq!(lines(&d, &green), 0);
    }

    #[test]
    fn empty_folder_gives_no_plots_and_bad_files_name_themselves() {
        let dir = tempfile::tempdir().unwrap();
        assert!(plot_results_dir(dir.path()).unwrap().is_empty());
        std::fs::write(dir.path().join("vms.csv"), "policy,wait_s\nfcfs,1\n").unwrap();
        let e = plot_results_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("vms.csv:1: missing column"), "{e}");
    }

    #[test]
    fn textbook_gantt_svg_has_one_bar_per_slice() {
        use sim::{SimTime, SliceEnd, SliceRecord};
        // The RR case's schedule: P1 0–4, P2 4–7, P3 7–10, P1 10–30 (one slice each here).
        let s = |vm, a, b| SliceRecord {
            host: 0,
            pcpu: 0,
            vm,
            vcpu: 0,
            dispatch: SimTime::from_secs(a),
            start: SimTime::from_secs(a),
            end: SimTime::from_secs(b),
            reason: SliceEnd::Finished,
        };
        let slices = [s(0, 0, 4), s(1, 4, 7), s(2, 7, 10), s(0, 10, 30)];
        let names = |id: u64| format!("P{}", id + 1);
        let svg = gantt_svg(gantt_from_slices("rr", &slices, &names)).unwrap();
        assert_eq!(
            svg.lines()
                .filter(|l| l.starts_with("<rect") && l.contains("fill=\"none\" stroke=\"#000000\""))
                .count(),
            4
        );
        let t = texts(&svg);
        // Every bar is wide enough for its label: P1 twice, P2, P3.
        assert_eq!(t.iter().filter(|x| *x == "P1").count(), 2);
        assert!(t.iter().any(|x| x == "P2") && t.iter().any(|x| x == "P3"));
        // P1 keeps its colour in both bars.
        let fill = format!("fill=\"{}\"", {
            let c = charts::vm_colour(0).to_backend_color().rgb;
            format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
        });
        assert_eq!(count(&svg, &fill), 2);
        let png = gantt_png(gantt_from_slices("rr", &slices, &names)).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");

        // The picture writer picks the format from the extension (any case).
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("g.PNG"), dir.path().join("g.svg"));
        write_gantt_picture(&p1, "rr", &slices, &names).unwrap();
        write_gantt_picture(&p2, "rr", &slices, &names).unwrap();
        assert_eq!(&std::fs::read(&p1).unwrap()[..4], b"\x89PNG");
        let svg = std::fs::read_to_string(&p2).unwrap();
        assert!(svg.starts_with("<svg") && texts(&svg).iter().any(|t| t == "rr"));
        let e = write_gantt_picture(&dir.path().join("no/such/g.svg"), "rr", &slices, &names)
            .unwrap_err()
            .to_string();
        assert!(e.contains("g.svg"), "{e}");
    }
}
