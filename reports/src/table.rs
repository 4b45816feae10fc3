//! Terminal tables comparing policies (what `vmsched compare` prints).
//!
//! Both tables show, for each policy (and class), its `mean` row from
//! [`summary_rows`](crate::schema::summary_rows), or its first replication row when it has
//! no `mean` row. Policies appear in the order of their first row.
//!
//! Times are in seconds, all with the same number of decimals within a table: 3, or more
//! (up to 6) so that the smallest non-zero time shown keeps three significant digits.
//! Undefined values are shown as `-`.

use sim::metrics::Class;

use crate::schema::{Replication, SummaryRow};

/// For each (policy, class) that `keep` accepts, in order of first appearance: the `mean`
/// row if there is one, else the first replication row.
fn headline(rows: &[SummaryRow], keep: impl Fn(Class) -> bool) -> Vec<&SummaryRow> {
    let mut out: Vec<&SummaryRow> = Vec::new();
    for r in rows.iter().filter(|r| keep(r.class)) {
        match out
            .iter_mut()
            .find(|o| o.policy == r.policy && o.class == r.class)
        {
            Some(o) => {
                if o.replication != Replication::Mean && r.replication == Replication::Mean {
                    *o = r;
                }
            }
            None => out.push(r),
        }
    }
    // Group by policy, keeping first-appearance order of policies and of classes within.
    let mut policies: Vec<&str> = Vec::new();
    for r in &out {
        if !policies.contains(&r.policy.as_str()) {
            policies.push(&r.policy);
        }
    }
    let mut grouped = Vec::with_capacity(out.len());
    for p in policies {
        grouped.extend(out.iter().filter(|r| r.policy == p).copied());
    }
    grouped
}

/// Decimals for the times of a table: 3, or up to 6 so that the smallest positive value
/// keeps three significant digits (0.1 ≤ m → 3, 0.01 ≤ m → 4, 0.001 ≤ m → 5, else 6).
fn time_decimals(values: impl Iterator<Item = f64>) -> usize {
    let m = values
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold(f64::INFINITY, f64::min);
    let mut d = 3;
    while d < 6 && m < 10f64.powi(2 - d as i32) {
        d += 1;
    }
    d
}

fn time(x: f64, d: usize) -> String {
    if x.is_nan() {
        "-".to_string()
    } else {
        format!("{x:.d$}")
    }
}

/// VMs per replication: a `mean` row's average rounded to a whole VM (half away from
/// zero).
fn vms(x: f64) -> String {
    if x.is_nan() {
        "-".to_string()
    } else {
        format!("{:.0}", x.round())
    }
}

fn fixed(x: f64, d: usize) -> String {
    if x.is_nan() {
        "-".to_string()
    } else {
        format!("{x:.d$}")
    }
}

/// The "mean ± half-width" cells of a column, with the means and the `±` aligned.
fn wait_cells(rows: &[&SummaryRow], d: usize) -> Vec<String> {
    let means: Vec<String> = rows.iter().map(|r| time(r.mean_wait_s, d)).collect();
    let cis: Vec<Option<String>> = rows
        .iter()
        .map(|r| {
            r.ci95_mean_wait_s
                .filter(|x| !x.is_nan())
                .map(|x| time(x, d))
        })
        .collect();
    let mw = means.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    let cw = cis.iter().flatten().map(|s| s.chars().count()).max();
    means
        .iter()
        .zip(&cis)
        .map(|(m, c)| match (cw, c) {
            (None, _) => m.clone(),
            (Some(_), Some(c)) => format!("{m:>mw$} ± {c}"),
            (Some(cw), None) => format!("{m:>mw$}{:w$}", "", w = cw + 3),
        })
        .collect()
}

/// A table of text cells: first column left-aligned, the others right-aligned, two
/// spaces between columns, a rule under the header.
fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let len = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = header.iter().map(|h| len(h)).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(len(c));
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.zip(&widths).enumerate() {
            let pad = w.saturating_sub(len(c));
            if i == 0 {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', pad));
            } else {
                s.push_str("  ");
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(c);
            }
        }
        let trimmed = s.trim_end().len();
        s.truncate(trimmed);
        s.push('\n');
        s
    };
    let mut out = line(&mut header.iter().copied());
    let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    out.extend(std::iter::repeat_n('-', total));
    out.push('\n');
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}

fn footer(rows: &[&SummaryRow]) -> &'static str {
    if rows
        .iter()
        .any(|r| r.ci95_mean_wait_s.is_some_and(|x| !x.is_nan()))
    {
        "VMs per replication (mean, rounded); times in seconds; ± is the half-width of the \
         95% confidence interval over replications\n"
    } else {
        "VMs per replication (mean, rounded); times in seconds\n"
    }
}

/// The policy comparison: one line per policy (class `all`) with VMs, mean wait ± 95 % CI,
/// p95 and p99 wait, mean turnaround and CPU utilisation %, then a line saying what the
/// VMs column counts (VMs per replication) and the units.
/// Empty string when `rows` has no `all` row.
pub fn comparison_table(rows: &[SummaryRow]) -> String {
    let sel = headline(rows, |c| c == Class::All);
    if sel.is_empty() {
        return String::new();
    }
    let d = time_decimals(sel.iter().flat_map(|r| {
        [
            r.mean_wait_s,
            r.ci95_mean_wait_s.unwrap_or(f64::NAN),
            r.p95_wait_s,
            r.p99_wait_s,
            r.mean_turnaround_s,
        ]
    }));
    let waits = wait_cells(&sel, d);
    let cells: Vec<Vec<String>> = sel
        .iter()
        .zip(waits)
        .map(|(r, w)| {
            vec![
                r.policy.clone(),
                vms(r.vms),
                w,
                time(r.p95_wait_s, d),
                time(r.p99_wait_s, d),
                time(r.mean_turnaround_s, d),
                fixed(100.0 * r.cpu_utilization, 1),
            ]
        })
        .collect();
    let header = [
        "policy",
        "VMs",
        "mean wait ± 95% CI",
        "p95 wait",
        "p99 wait",
        "mean turnaround",
        "util %",
    ];
    let mut out = render(&header, &cells);
    out.push_str(footer(&sel));
    out
}

/// Per-class detail: one line per policy × class (`all`, then each priority) with VMs,
/// mean wait ± 95 % CI, p95 wait, mean turnaround, mean slowdown and Jain's fairness
/// index, then a line saying what the VMs column counts and the units. Empty string when
/// `rows` is empty.
pub fn per_class_table(rows: &[SummaryRow]) -> String {
    let sel = headline(rows, |_| true);
    if sel.is_empty() {
        return String::new();
    }
    let d = time_decimals(sel.iter().flat_map(|r| {
        [
            r.mean_wait_s,
            r.ci95_mean_wait_s.unwrap_or(f64::NAN),
            r.p95_wait_s,
            r.mean_turnaround_s,
        ]
    }));
    let waits = wait_cells(&sel, d);
    let cells: Vec<Vec<String>> = sel
        .iter()
        .zip(waits)
        .map(|(r, w)| {
            vec![
                r.policy.clone(),
                r.class.to_string(),
                vms(r.vms),
                w,
                time(r.p95_wait_s, d),
                time(r.mean_turnaround_s, d),
                fixed(r.mean_slowdown, 3),
                fixed(r.jain_fairness, 3),
            ]
        })
        .collect();
    let header = [
        "policy",
        "class",
        "VMs",
        "mean wait ± 95% CI",
        "p95 wait",
        "mean turnaround",
        "slowdown",
        "Jain",
    ];
    let mut out = render(&header, &cells);
    out.push_str(footer(&sel));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: &str, rep: Replication, class: Class) -> SummaryRow {
        SummaryRow {
            policy: policy.to_string(),
            replication: rep,
            class,
            vms: 3.0,
            mean_wait_s: 1.0,
            ci95_mean_wait_s: None,
            p50_wait_s: 1.0,
            p95_wait_s: 1.0,
            p99_wait_s: 1.0,
            max_wait_s: 1.0,
            mean_queue_wait_s: 0.0,
            mean_ready_wait_s: 1.0,
            mean_response_s: 1.0,
            mean_turnaround_s: 1.0,
            p95_turnaround_s: 1.0,
            mean_service_s: 1.0,
            mean_slowdown: 1.0,
            jain_fairness: 1.0,
            cpu_utilization: 1.0,
            throughput_per_s: 1.0,
            mean_in_system: 1.0,
            events: 10.0,
            rejected: 0.0,
            energy: None,
            migration: None,
        }
    }

    fn input() -> Vec<SummaryRow> {
        let mut rows = Vec::new();
        // fcfs: a replication row (ignored: there is a mean row), a class-1 mean row
        // (ignored by the comparison), the mean `all` row.
        let mut r = row("fcfs", Replication::Index(0), Class::All);
        r.mean_wait_s = 99.0;
        rows.push(r);
        let mut r = row("fcfs", Replication::Mean, Class::Priority(1));
        r.mean_wait_s = 16.0;
        r.mean_slowdown = 2.25;
        r.jain_fairness = 0.8;
        rows.push(r);
        let mut r = row("fcfs", Replication::Mean, Class::All);
        r.mean_wait_s = 17.0;
        r.ci95_mean_wait_s = Some(2.5);
        r.p95_wait_s = 27.0;
        r.p99_wait_s = 27.0;
        r.mean_turnaround_s = 27.0;
        rows.push(r);
        // sjf: only one replication row, no mean row: it is used; no CI.
        let mut r = row("sjf", Replication::Index(0), Class::All);
        r.mean_wait_s = 3.0;
        r.p95_wait_s = 6.0;
        r.p99_wait_s = 6.0;
        r.mean_turnaround_s = 13.0;
        r.cpu_utilization = 0.95;
        rows.push(r);
        // rr: fractional VMs (a mean over replications: 2.5 rounds to 3), an undefined p95.
        let mut r = row("rr,q=4", Replication::Mean, Class::All);
        r.vms = 2.5;
        r.mean_wait_s = 17.0 / 3.0;
        r.ci95_mean_wait_s = Some(0.25);
        r.p95_wait_s = f64::NAN;
        r.p99_wait_s = 10.0;
        r.mean_turnaround_s = 47.0 / 3.0;
        r.cpu_utilization = 0.987_654;
        rows.push(r);
        rows
    }

    #[test]
    fn comparison_table_fixed_input() {
        // Smallest positive time 0.25 ≥ 0.1 → 3 decimals. Column widths = max(header,
        // cells): policy 6 ("rr,q=4"), VMs 3, wait 18 (header; cells are 6 + " ± " + 5
        // = 14), p95 8, p99 8, turnaround 15, util 6. Wait cells: means right-aligned to
        // 6, sjf has no CI so it is padded by 3 + 5 blanks; 17/3 → 5.667, 47/3 → 15.667,
        // 0.987654 → 98.8 %. Total width 6+3+18+8+8+15+6 + 6·2 = 76.
        let expected = concat!(
            "policy  VMs  mean wait ± 95% CI  p95 wait  p99 wait  mean turnaround  util %\n",
            "----------------------------------------------------------------------------\n",
            "fcfs      3      17.000 ± 2.500    27.000    27.000           27.000   100.0\n",
            "sjf       3       3.000             6.000     6.000           13.000    95.0\n",
            "rr,q=4    3       5.667 ± 0.250         -    10.000           15.667    98.8\n",
            "VMs per replication (mean, rounded); times in seconds; ± is the half-width of the 95% confidence interval over replications\n",
        );
        assert_eq!(comparison_table(&input()), expected);
    }

    #[test]
    fn per_class_table_fixed_input() {
        // Rows: fcfs all (mean row), fcfs 1, sjf all, rr all. Class 1 of fcfs: mean wait
        // 16, no CI; slowdown 2.25 → 2.250, Jain 0.8 → 0.800; the others 1 → 1.000.
        // Widths: policy 6, class 5, VMs 3, wait 18, p95 8, turnaround 15, slowdown 8,
        // Jain 5 ("1.000"): 68 + 7·2 = 82.
        let expected = concat!(
            "policy  class  VMs  mean wait ± 95% CI  p95 wait  mean turnaround  slowdown   Jain\n",
            "----------------------------------------------------------------------------------\n",
            "fcfs      all    3      17.000 ± 2.500    27.000           27.000     1.000  1.000\n",
            "fcfs        1    3      16.000             1.000            1.000     2.250  0.800\n",
            "sjf       all    3       3.000             6.000           13.000     1.000  1.000\n",
            "rr,q=4    all    3       5.667 ± 0.250         -           15.667     1.000  1.000\n",
            "VMs per replication (mean, rounded); times in seconds; ± is the half-width of the 95% confidence interval over replications\n",
        );
        assert_eq!(per_class_table(&input()), expected);
    }

    #[test]
    fn decimals_follow_smallest_time() {
        // 0.00123 < 0.01 but ≥ 0.001 → 5 decimals; 17 → 3; 1e-7 → capped at 6.
        assert_eq!(time_decimals([17.0, 0.00123].into_iter()), 5);
        assert_eq!(time_decimals([17.0, 0.0, f64::NAN].into_iter()), 3);
        assert_eq!(time_decimals([1e-7].into_iter()), 6);
        assert_eq!(comparison_table(&[]), "");
    }
}
