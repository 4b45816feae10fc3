//! The self-contained `report.html` of a results folder.
//!
//! One file that opens anywhere without a server or a network: the plots are embedded as
//! base64 PNG images (`data:` URLs), the style sheet is inline, and there is no script.
//! It shows the run (version, git revision, seed, replications, policies, command), the
//! summary tables from `summary.csv` (in a sweep folder, the main columns of `sweep.csv`),
//! every plot of [`crate::plots::plot_results_dir`] with a caption, and the scenario as
//! TOML.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::error::ReportError;
use crate::plots::PlotFile;
use crate::plots::data::{CsvTable, read_table};
use crate::schema::RunInfo;

/// File name of the report in a results folder.
pub const REPORT_HTML: &str = "report.html";

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An embedded plot: its description and PNG bytes.
#[derive(Clone, Debug)]
pub struct EmbeddedPlot {
    /// Title, caption and file names.
    pub plot: PlotFile,
    /// The PNG image.
    pub png: Vec<u8>,
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}\
th,td{border:1px solid #ccc;padding:.25em .6em}td.num{text-align:right;font-variant-numeric:tabular-nums}\
th{background:#f2f2f2}figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}\
figcaption{font-size:.9em;color:#444;margin-top:.4em}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}\
.note{color:#555;font-size:.9em}";

/// Columns of the summary tables: (summary.csv column, heading, kind).
const SUMMARY_COLUMNS: [(&str, &str); 10] = [
    ("vms", "VMs"),
    ("mean_wait_s", "mean wait (s)"),
    ("ci95_mean_wait_s", "± 95% CI"),
    ("p50_wait_s", "p50 wait"),
    ("p95_wait_s", "p95 wait"),
    ("p99_wait_s", "p99 wait"),
    ("mean_turnaround_s", "mean turnaround"),
    ("mean_slowdown", "slowdown"),
    ("jain_fairness", "Jain"),
    ("cpu_utilization", "CPU util."),
];

/// One line per policy with its energy (`energy_kwh`, `mean_power_w`, `hosts_on_mean`)
/// and live migrations (`migrations`, `mean_migration_downtime_s`) from the class-`all`
/// `mean` row (or replication 0) of `summary.csv`; empty when it has neither column.
fn datacenter_lines(t: &CsvTable) -> String {
    let (Some(cp), Some(cr), Some(cc)) = (
        t.column("policy"),
        t.column("replication"),
        t.column("class"),
    ) else {
        return String::new();
    };
    let (energy, migrations) = (t.column("energy_kwh"), t.column("migrations"));
    if energy.is_none() && migrations.is_none() {
        return String::new();
    }
    let mut s = String::new();
    for r in &t.rows {
        let cell = |i: usize| r.get(i).map(String::as_str).unwrap_or("");
        let policy = cell(cp);
        let has_mean = t
            .rows
            .iter()
            .any(|q| q.get(cp).map(String::as_str) == Some(policy) && q[cr] == "mean");
        if cell(cr) != if has_mean { "mean" } else { "0" } || cell(cc) != "all" {
            continue;
        }
        // (Whole numbers without decimals: a count in a replication row.)
        let num = |name: &str, decimals: usize| {
            t.column(name)
                .and_then(|i| cell(i).parse::<f64>().ok())
                .map_or("–".to_string(), |x| {
                    if x.fract() == 0.0 {
                        format!("{x:.0}")
                    } else {
                        format!("{x:.decimals$}")
                    }
                })
        };
        let mut parts = Vec::new();
        if energy.is_some() {
            parts.push(format!(
                "energy {} kWh, mean power {} W, {} hosts on",
                num("energy_kwh", 3),
                num("mean_power_w", 1),
                num("hosts_on_mean", 2)
            ));
        }
        if migrations.is_some() {
            parts.push(format!(
                "{} migrations, mean downtime {} s",
                num("migrations", 1),
                num("mean_migration_downtime_s", 4)
            ));
        }
        let _ = writeln!(
            s,
            "<p class=\"energy\"><b>{}</b>: {}.</p>",
            escape(policy),
            escape(&parts.join("; "))
        );
    }
    s
}

/// The `mean` rows of `summary.csv` (or, for a policy without them, its replication-0
/// rows) as an HTML table; `all_only` keeps class `all` only.
fn summary_table(t: &CsvTable, all_only: bool) -> String {
    let (Some(cp), Some(cr), Some(cc)) = (
        t.column("policy"),
        t.column("replication"),
        t.column("class"),
    ) else {
        return "<p class=\"note\">summary.csv has no policy/replication/class columns.</p>\n"
            .to_string();
    };
    let has_mean = |p: &str| {
        t.rows
            .iter()
            .any(|r| r.get(cp).map(String::as_str) == Some(p) && r[cr] == "mean")
    };
    let mut s = String::from("<table>\n<tr><th>policy</th>");
    if !all_only {
        s.push_str("<th>class</th>");
    }
    for (_, h) in SUMMARY_COLUMNS {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr>\n");
    let mut n = 0;
    for r in &t.rows {
        let cell = |i: usize| r.get(i).map(String::as_str).unwrap_or("");
        let policy = cell(cp);
        let wanted_rep = if has_mean(policy) { "mean" } else { "0" };
        if cell(cr) != wanted_rep || (all_only && cell(cc) != "all") {
            continue;
        }
        n += 1;
        let _ = write!(s, "<tr><td>{}</td>", escape(policy));
        if !all_only {
            let _ = write!(s, "<td>{}</td>", escape(cell(cc)));
        }
        for (col, _) in SUMMARY_COLUMNS {
            let v = t.column(col).map(cell).unwrap_or("");
            let shown = match v.parse::<f64>() {
                Ok(x) if col == "cpu_utilization" => format!("{:.1}\u{a0}%", 100.0 * x),
                Ok(x) if col == "vms" => {
                    if x.fract() == 0.0 {
                        format!("{x:.0}")
                    } else {
                        format!("{x:.1}")
                    }
                }
                Ok(x) => format!("{x:.3}"),
                Err(_) => "–".to_string(),
            };
            let _ = write!(s, "<td class=\"num\">{}</td>", escape(&shown));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    if n == 0 {
        return "<p class=\"note\">summary.csv has no rows.</p>\n".to_string();
    }
    s
}

/// Rows of `sweep.csv` shown in a report; the rest are counted in a note.
const SWEEP_ROWS_SHOWN: usize = 500;

/// The main columns of `sweep.csv` as an HTML table: the swept keys, the policy, mean and
/// p95 wait with their 95 % half-widths, mean turnaround and CPU utilisation.
fn sweep_table(t: &CsvTable) -> String {
    let Some(cp) = t.column("policy") else {
        return "<p class=\"note\">sweep.csv has no policy column.</p>\n".to_string();
    };
    let cols: [(&str, &str, bool); 4] = [
        ("mean_wait_s", "mean wait (s)", true),
        ("p95_wait_s", "p95 wait (s)", true),
        ("mean_turnaround_s", "mean turnaround (s)", false),
        ("cpu_utilization", "CPU util.", false),
    ];
    let mut s = String::from("<table>\n<tr>");
    for h in &t.header[..=cp] {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    for (_, h, _) in cols {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr>\n");
    for r in t.rows.iter().take(SWEEP_ROWS_SHOWN) {
        s.push_str("<tr>");
        for c in r.iter().take(cp + 1) {
            let _ = write!(s, "<td>{}</td>", escape(c));
        }
        for (col, _, with_ci) in cols {
            let get = |name: &str| {
                t.column(name)
                    .and_then(|i| r.get(i))
                    .and_then(|v| v.parse::<f64>().ok())
            };
            let shown = match (get(col), get(&format!("{col}_ci95"))) {
                (Some(x), _) if col == "cpu_utilization" => format!("{:.1}\u{a0}%", 100.0 * x),
                (Some(x), Some(h)) if with_ci => format!("{x:.3} ± {h:.3}"),
                (Some(x), _) => format!("{x:.3}"),
                (None, _) => "–".to_string(),
            };
            let _ = write!(s, "<td class=\"num\">{}</td>", escape(&shown));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    if t.rows.len() > SWEEP_ROWS_SHOWN {
        let _ = writeln!(
            s,
            "<p class=\"note\">… and {} more rows in sweep.csv.</p>",
            t.rows.len() - SWEEP_ROWS_SHOWN
        );
    }
    s
}

/// The report's HTML text. `folder` is the results folder's name as shown in the title;
/// `summary` is `summary.csv` when there is one, else `sweep` is `sweep.csv` when there
/// is one (a sweep folder).
pub fn report_html(
    folder: &str,
    info: &RunInfo,
    summary: Option<&CsvTable>,
    sweep: Option<&CsvTable>,
    plots: &[EmbeddedPlot],
) -> String {
    let mut s = String::new();
    let title = format!("vmsched report: {}", info.policies.join(", "));
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(
        s,
        "<p class=\"note\">Results folder <code>{}</code>. Times in seconds; wait = \
         turnaround − service.</p>",
        escape(folder)
    );
    s.push_str("<h2>Run</h2>\n<table>\n");
    let rows: [(&str, String); 6] = [
        ("vmsched version", info.version.clone()),
        (
            "git revision",
            info.git_revision
                .clone()
                .unwrap_or_else(|| "unknown".to_string()),
        ),
        ("seed", info.seed.to_string()),
        ("replications", info.replications.to_string()),
        ("policies", info.policies.join(", ")),
        ("command", info.command.clone()),
    ];
    for (k, v) in rows {
        let _ = writeln!(
            s,
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            escape(k),
            escape(&v)
        );
    }
    s.push_str("</table>\n");
    s.push_str("<h2>Summary</h2>\n");
    match summary {
        Some(t) => {
            s.push_str(&summary_table(t, true));
            s.push_str(&datacenter_lines(t));
            if let Some(cc) = t.column("class")
                && t.rows.iter().any(|r| r.get(cc).is_some_and(|c| c != "all"))
            {
                s.push_str("<h3>Per priority class</h3>\n");
                s.push_str(&summary_table(t, false));
            }
            s.push_str(
                "<p class=\"note\">Mean over replications; ± is the half-width of the 95 % \
                 confidence interval (Student t), empty with one replication.</p>\n",
            );
        }
        None => match sweep {
            Some(t) => {
                s.push_str(&sweep_table(t));
                s.push_str(
                    "<p class=\"note\">From sweep.csv: one row per cell and policy, the mean \
                     over replications; ± is the half-width of the 95 % confidence interval \
                     (Student t), absent with one replication.</p>\n",
                );
            }
            None => s.push_str("<p class=\"note\">No summary.csv in this folder.</p>\n"),
        },
    }
    s.push_str("<h2>Plots</h2>\n");
    if plots.is_empty() {
        s.push_str("<p class=\"note\">No plots: the folder has no vms.csv, summary.csv, slices.csv, timeline.csv or devices.csv.</p>\n");
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    for p in plots {
        let _ = writeln!(
            s,
            "<figure id=\"{}\">\n<h3>{}</h3>\n<img alt=\"{}\" src=\"data:image/png;base64,{}\">\n\
             <figcaption>{} (<code>{}</code>, <code>{}</code>)</figcaption>\n</figure>",
            escape(&p.plot.name),
            escape(&p.plot.title),
            escape(&p.plot.title),
            b64.encode(&p.png),
            escape(&p.plot.caption),
            escape(&file_name(&p.plot.svg)),
            escape(&file_name(&p.plot.png)),
        );
    }
    s.push_str("<h2>Scenario</h2>\n");
    let _ = writeln!(s, "<pre>{}</pre>", escape(&info.scenario_toml));
    s.push_str("</body>\n</html>\n");
    s
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Draws the plots of results folder `dir` ([`crate::plots::plot_results_dir`]) and writes
/// `dir/report.html`. Returns its path. A folder without `run.toml` is refused
/// ([`crate::folder::require_complete`]).
pub fn write_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let info = crate::folder::require_complete(dir)?;
    let plots = crate::plots::plot_results_dir(dir)?;
    let mut embedded = Vec::with_capacity(plots.len());
    for p in plots {
        let png = std::fs::read(&p.png).map_err(|e| ReportError::io(&p.png, "cannot read", e))?;
        embedded.push(EmbeddedPlot { plot: p, png });
    }
    let summary_path = dir.join("summary.csv");
    let summary = if summary_path.exists() {
        Some(read_table(&summary_path)?)
    } else {
        None
    };
    let folder = dir
        .canonicalize()
        .ok()
        .as_deref()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    let sweep_path = dir.join(crate::plots::params::SWEEP_CSV);
    let sweep = if summary.is_none() && sweep_path.exists() {
        Some(read_table(&sweep_path)?)
    } else {
        None
    };
    let html = report_html(&folder, &info, summary.as_ref(), sweep.as_ref(), &embedded);
    let path = dir.join(REPORT_HTML);
    crate::atomic::write_atomic(&path, html.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::write_run_toml;

    #[test]
    fn report_is_self_contained_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.csv"),
            "policy,replication,class,vms,mean_wait_s,ci95_mean_wait_s,cpu_utilization\n\
             fcfs,0,all,3,17.000000,,0.5\nfcfs,0,1,3,17.000000,,0.5\n",
        )
        .unwrap();
        write_run_toml(
            dir.path(),
            &RunInfo {
                scenario_toml: "[run]\nseed = 42\nnote = \"<b>\"\n".into(),
                seed: 42,
                replications: 1,
                policies: vec!["fcfs".into()],
                version: "1.2.3".into(),
                git_revision: Some("abc".into()),
                command: "vmsched run s.toml".into(),
            },
        )
        .unwrap();
        let path = write_report(dir.path()).unwrap();
        assert_eq!(path, dir.path().join("report.html"));
        let html = std::fs::read_to_string(&path).unwrap();
        // One plot (mean wait, from summary.csv) embedded as a PNG data URL.
        assert_eq!(html.matches("<img ").count(), 1);
        assert_eq!(
            html.matches("src=\"data:image/png;base64,iVBORw0KGgo")
                .count(),
            1
        );
        // Nothing fetched from elsewhere.
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("<script"));
        for needle in [
            "<td><code>1.2.3</code></td>",
            "<td><code>abc</code></td>",
            "<td><code>42</code></td>",
            "<td class=\"num\">17.000</td>",
            "<td class=\"num\">50.0\u{a0}%</td>",
            "<h3>Per priority class</h3>",
            // The scenario, escaped.
            "note = &quot;&lt;b&gt;&quot;",
        ] {
            assert!(html.contains(needle), "{needle} not in the report");
        }
    }

    /// The energy and migration line of each policy, from its `mean` row of class `all`
    /// (2.5 migrations on average: one decimal; a whole count: none).
    #[test]
    fn energy_and_migration_line() {
        let t = CsvTable {
            header: [
                "policy",
                "replication",
                "class",
                "energy_kwh",
                "mean_power_w",
                "hosts_on_mean",
                "migrations",
                "mean_migration_downtime_s",
            ]
            .map(String::from)
            .to_vec(),
            rows: vec![
                ["fcfs", "0", "all", "1", "2", "3", "4", "0.5"],
                [
                    "fcfs", "mean", "all", "12.3456", "1263.26", "5.6", "2.5", "0.021395",
                ],
                ["sjf", "0", "all", "7", "8", "9", "3", ""],
            ]
            .into_iter()
            .map(|r| r.map(String::from).to_vec())
            .collect(),
        };
        let text = datacenter_lines(&t);
        assert_eq!(
            text,
            "<p class=\"energy\"><b>fcfs</b>: energy 12.346 kWh, mean power 1263.3 W, \
             5.60 hosts on; 2.5 migrations, mean downtime 0.0214 s.</p>\n\
             <p class=\"energy\"><b>sjf</b>: energy 7 kWh, mean power 8 W, 9 hosts on; 3 \
             migrations, mean downtime – s.</p>\n"
        );
        let plain = CsvTable {
            header: vec!["policy".into(), "replication".into(), "class".into()],
            rows: vec![],
        };
        assert_eq!(datacenter_lines(&plain), "");
    }

    #[test]
    fn folder_without_run_toml_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_report(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("is not a vmsched results folder: it has no run.toml"),
            "{e}"
        );
        let e = write_report(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("no such folder"), "{e}");
        assert_eq!(escape("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
    }
}
