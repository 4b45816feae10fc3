//! Terminal output for small (textbook) runs: an ASCII Gantt chart and the per-process
//! table of arrival, burst, start, finish, waiting, turnaround and response times.
//!
//! # The chart
//! ```text
//! pCPU0 |P1                     |P2 |P3 |
//!       0                       24  27  30
//! ```
//! One row per pCPU (`h<host> pCPU<n>` when the slices span several hosts). Each box is a
//! slice of CPU time labelled with its VM's name (`name.vcpu` for VMs with several
//! vCPUs); `//` is an idle gap; `cs` is a context switch (from dispatch to the start of
//! guest code, when the run charges one). The time of every boundary is printed under its
//! `|`. Widths are proportional to time at the finest scale of 1, 2 or 5 × 10ⁿ ns per
//! column that fits the width (56 columns by default), except that a box is always wide
//! enough for its label plus a blank, and boundary times never overlap.
//!
//! Times are printed as integers when they are whole seconds, else rounded to at most
//! three decimals (`2.5`, `0.125`).

use std::collections::{BTreeMap, BTreeSet};

use sim::{SimTime, SliceRecord, VmRecord};

use crate::schema::csv_field;

/// Default width of the chart's time axis, in columns (leaves room for the row labels
/// in an 80-column terminal).
pub const DEFAULT_GANTT_WIDTH: usize = 56;

/// Seconds rounded to the millisecond: `24`, `2.5`, `0.125`.
pub(crate) fn short_secs(t: SimTime) -> String {
    let ms = (u128::from(t.nanos()) + 500_000) / 1_000_000;
    let (whole, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        whole.to_string()
    } else {
        crate::numbers::trim_fraction(&format!("{whole}.{frac:03}")).to_string()
    }
}

/// Seconds, exact: nine decimals with trailing zeros (and a trailing dot) removed.
fn exact_secs(t: SimTime) -> String {
    crate::numbers::trim_fraction(&t.to_string()).to_string()
}

struct Segment {
    from: u64,
    to: u64,
    label: String,
}

/// Appends the segment `*t .. to` (if not empty) and moves `*t` to its end. Slices that
/// overlap an earlier one on the same pCPU (which the engine never produces) are clipped.
fn push_segment(segs: &mut Vec<Segment>, t: &mut u64, to: u64, label: impl FnOnce() -> String) {
    if to > *t {
        segs.push(Segment {
            from: *t,
            to,
            label: label(),
        });
        *t = to;
    }
}

/// The ASCII Gantt chart of `slices` with the default width ([`DEFAULT_GANTT_WIDTH`]).
/// `names` gives each VM id its display name (e.g. `|id| format!("P{id}")`). Empty string
/// when there are no slices.
pub fn ascii_gantt(slices: &[SliceRecord], names: &dyn Fn(u64) -> String) -> String {
    ascii_gantt_width(slices, names, DEFAULT_GANTT_WIDTH)
}

/// [`ascii_gantt`] with the time axis fitted to `width` columns when the labels allow.
pub fn ascii_gantt_width(
    slices: &[SliceRecord],
    names: &dyn Fn(u64) -> String,
    width: usize,
) -> String {
    if slices.is_empty() {
        return String::new();
    }
    let multi_vcpu: BTreeSet<u64> = slices.iter().filter(|s| s.vcpu > 0).map(|s| s.vm).collect();
    let hosts: BTreeSet<u32> = slices.iter().map(|s| s.host).collect();
    let mut by_row: BTreeMap<(u32, u32), Vec<&SliceRecord>> = BTreeMap::new();
    for s in slices {
        by_row.entry((s.host, s.pcpu)).or_default().push(s);
    }

    // Segments of each row, gaps made explicit.
    let mut rows: Vec<(String, Vec<Segment>)> = Vec::with_capacity(by_row.len());
    for ((host, pcpu), mut list) in by_row {
        list.sort_by_key(|s| (s.dispatch, s.start, s.end));
        let mut segs = Vec::new();
        let mut t = 0u64;
        for s in list {
            push_segment(&mut segs, &mut t, s.dispatch.nanos(), || "//".to_string());
            push_segment(&mut segs, &mut t, s.start.nanos(), || "cs".to_string());
            push_segment(&mut segs, &mut t, s.end.nanos(), || {
                if multi_vcpu.contains(&s.vm) {
                    format!("{}.{}", names(s.vm), s.vcpu)
                } else {
                    names(s.vm)
                }
            });
        }
        let name = if hosts.len() > 1 {
            format!("h{host} pCPU{pcpu}")
        } else {
            format!("pCPU{pcpu}")
        };
        rows.push((name, segs));
    }

    // Boundaries shared by all rows, so that equal times line up.
    let mut bset: BTreeSet<u64> = BTreeSet::from([0]);
    for (_, segs) in &rows {
        for s in segs {
            bset.insert(s.from);
            bset.insert(s.to);
        }
    }
    let bounds: Vec<u64> = bset.into_iter().collect();
    let idx = |t: u64| bounds.binary_search(&t).unwrap_or(0);
    let labels: Vec<String> = bounds.iter().map(|&b| short_secs(SimTime(b))).collect();
    let len = |s: &str| s.chars().count();
    // For each boundary, the segments ending there: (start boundary, columns needed).
    let mut ending: Vec<Vec<(usize, usize)>> = vec![Vec::new(); bounds.len()];
    for (_, segs) in &rows {
        for s in segs {
            ending[idx(s.to)].push((idx(s.from), len(&s.label) + 2));
        }
    }
    let layout = |unit: u64| -> Vec<usize> {
        let mut cols = vec![0usize; bounds.len()];
        for i in 1..bounds.len() {
            let d = u128::from(bounds[i] - bounds[i - 1]);
            let u = u128::from(unit);
            let prop = usize::try_from((d + u / 2) / u).unwrap_or(usize::MAX / 4);
            let mut c = cols[i - 1].saturating_add(prop.max(1).max(len(&labels[i - 1]) + 1));
            for &(from, need) in &ending[i] {
                c = c.max(cols[from].saturating_add(need));
            }
            cols[i] = c;
        }
        cols
    };
    // The finest 1-2-5 scale that fits; the coarsest tried if none does.
    let span = bounds.last().copied().unwrap_or(0);
    let mut cols = Vec::new();
    'scales: for exp in 0..19u32 {
        for m in [1u64, 2, 5] {
            let unit = m.saturating_mul(10u64.saturating_pow(exp));
            cols = layout(unit);
            if cols.last().copied().unwrap_or(0) <= width || unit >= span {
                break 'scales;
            }
        }
    }

    let label_w = rows.iter().map(|(n, _)| len(n)).max().unwrap_or(0);
    let total = cols.last().copied().unwrap_or(0);
    let mut out = String::new();
    for (name, segs) in &rows {
        let mut line = vec![' '; total + 1];
        for s in segs {
            let (a, b) = (cols[idx(s.from)], cols[idx(s.to)]);
            line[a] = '|';
            line[b] = '|';
            for (k, ch) in s.label.chars().enumerate() {
                line[a + 1 + k] = ch;
            }
        }
        let body: String = line.into_iter().collect();
        out.push_str(&format!("{name:<label_w$} {}\n", body.trim_end()));
    }
    let last_label = labels.last().map(|l| len(l)).unwrap_or(0);
    let mut axis = vec![' '; total + last_label];
    for (c, l) in cols.iter().zip(&labels) {
        for (k, ch) in l.chars().enumerate() {
            axis[c + k] = ch;
        }
    }
    let axis: String = axis.into_iter().collect();
    out.push_str(&format!("{:label_w$} {}\n", "", axis.trim_end()));
    out
}

/// The records sorted by VM id, with their names and the computed times.
struct Proc {
    name: String,
    arrival: SimTime,
    burst: SimTime,
    priority: i32,
    start: SimTime,
    finish: SimTime,
    waiting: SimTime,
    turnaround: SimTime,
    response: SimTime,
}

fn procs(records: &[VmRecord], names: &dyn Fn(u64) -> String) -> Vec<Proc> {
    let mut rs: Vec<&VmRecord> = records.iter().collect();
    rs.sort_by_key(|r| r.id);
    rs.into_iter()
        .map(|r| Proc {
            name: names(r.id),
            arrival: r.arrival,
            burst: r.service,
            priority: r.priority,
            start: r.first_run,
            finish: r.finish,
            waiting: r.wait(),
            turnaround: r.turnaround(),
            response: r.response(),
        })
        .collect()
}

/// Mean of times, rounded to the nearest nanosecond.
fn mean_time(xs: impl Iterator<Item = SimTime>) -> SimTime {
    let (mut sum, mut n) = (0u128, 0u128);
    for x in xs {
        sum += u128::from(x.nanos());
        n += 1;
    }
    if n == 0 {
        return SimTime::ZERO;
    }
    SimTime(u64::try_from((sum + n / 2) / n).unwrap_or(u64::MAX))
}

const PROCESS_HEADER: [&str; 9] = [
    "name",
    "arrival",
    "burst",
    "priority",
    "start",
    "finish",
    "waiting",
    "turnaround",
    "response",
];

/// The textbook per-process table, one line per VM in id order (`burst` is the service
/// time, `start` the first run, `waiting` = turnaround − burst), followed by the average
/// waiting, turnaround and response times. Times as in the chart (whole seconds as
/// integers, else up to three decimals). Header only when `records` is empty.
pub fn process_table(records: &[VmRecord], names: &dyn Fn(u64) -> String) -> String {
    let ps = procs(records, names);
    let cells: Vec<[String; 9]> = ps
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                short_secs(p.arrival),
                short_secs(p.burst),
                p.priority.to_string(),
                short_secs(p.start),
                short_secs(p.finish),
                short_secs(p.waiting),
                short_secs(p.turnaround),
                short_secs(p.response),
            ]
        })
        .collect();
    let len = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = PROCESS_HEADER.iter().map(|h| len(h)).collect();
    for r in &cells {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(len(c));
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i == 0 {
                s.push_str(&format!("{c:<w$}"));
            } else {
                s.push_str(&format!("  {c:>w$}"));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&PROCESS_HEADER);
    for r in &cells {
        let refs: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&refs);
    }
    if !ps.is_empty() {
        let w = mean_time(ps.iter().map(|p| p.waiting));
        let t = mean_time(ps.iter().map(|p| p.turnaround));
        let r = mean_time(ps.iter().map(|p| p.response));
        out.push('\n');
        out.push_str(&format!("average waiting time:    {}\n", short_secs(w)));
        out.push_str(&format!("average turnaround time: {}\n", short_secs(t)));
        out.push_str(&format!("average response time:   {}\n", short_secs(r)));
    }
    out
}

/// The per-process table as CSV (header
/// `name,arrival,burst,priority,start,finish,waiting,turnaround,response`), one row per VM
/// in id order. Times in seconds, exact: up to nine decimals, trailing zeros dropped.
pub fn process_csv(records: &[VmRecord], names: &dyn Fn(u64) -> String) -> String {
    let mut out = PROCESS_HEADER.join(",");
    out.push('\n');
    for p in procs(records, names) {
        let fields = [
            csv_field(&p.name),
            exact_secs(p.arrival),
            exact_secs(p.burst),
            p.priority.to_string(),
            exact_secs(p.start),
            exact_secs(p.finish),
            exact_secs(p.waiting),
            exact_secs(p.turnaround),
            exact_secs(p.response),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SliceEnd;

    fn s(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    fn slice(pcpu: u32, vm: u64, from: u64, to: u64) -> SliceRecord {
        SliceRecord {
            host: 0,
            pcpu,
            vm,
            vcpu: 0,
            dispatch: s(from),
            start: s(from),
            end: s(to),
            reason: SliceEnd::Finished,
        }
    }

    fn name(id: u64) -> String {
        format!("P{id}")
    }

    /// FCFS, 1 pCPU, P1 = 24, P2 = 3, P3 = 3 all arriving at 0 (the textbook case).
    fn fcfs_slices() -> Vec<SliceRecord> {
        vec![slice(0, 1, 0, 24), slice(0, 2, 24, 27), slice(0, 3, 27, 30)]
    }

    fn fcfs_records() -> Vec<VmRecord> {
        let rec = |id: u64, first: u64, finish: u64, burst: u64| VmRecord {
            id,
            host: 0,
            vcpus: 1,
            memory_mib: 1,
            priority: id as i32,
            tenant: None,
            arrival: SimTime::ZERO,
            admission: SimTime::ZERO,
            first_run: s(first),
            finish: s(finish),
            service: s(burst),
            estimate: s(burst),
            ready_wait: s(first),
            preemptions: 0,
            warmup: false,
            ..Default::default()
        };
        // Given in finishing order reversed, to check the id sort.
        vec![rec(3, 27, 30, 3), rec(1, 0, 24, 24), rec(2, 24, 27, 3)]
    }

    #[test]
    fn gantt_fcfs_24_3_3() {
        // Scale 0.5 s per column: 48 + 6 + 6 = 60 > 56. Scale 1 s: P1 takes 24 columns
        // (0 → 24); P2 would take 3 but needs "P2" + blank + '|' = 4 (24 → 28); P3 the
        // same (28 → 32). Total 32 ≤ 56. Labels 0, 24, 27, 30 at columns 0, 24, 28, 32.
        let expected = concat!(
            "pCPU0 |P1                     |P2 |P3 |\n",
            "      0                       24  27  30\n",
        );
        assert_eq!(ascii_gantt(&fcfs_slices(), &name), expected);
    }

    #[test]
    fn gantt_idle_cs_two_pcpus_fractions() {
        // pCPU0: idle 0–1, then P1 1–2.5.
        // pCPU1: P2 dispatched at 0 with a 0.25 s context switch (guest code 0.25–1),
        //        idle 1–2, then P3 2–3.
        let mut a = slice(0, 1, 1, 0);
        a.end = SimTime(2_500_000_000);
        let mut b = slice(1, 2, 0, 1);
        b.start = SimTime(250_000_000);
        let c = slice(1, 3, 2, 3);
        // Boundaries 0, 0.25, 1, 2, 2.5, 3. At 0.05 s per column the proportional widths
        // alone are 5 + 15 + 20 + 10 + 10 = 60 > 56, so the scale is 0.1 s per column:
        //   0 → 0.25:   round(2.5) = 3, but "cs" needs 2 + 2 = 4        → col 4
        //   0.25 → 1:   round(7.5) = 8 (label "0.25" needs 5; P2 4)    → col 12
        //   1 → 2:      10                                              → col 22
        //   2 → 2.5:    5 (P1 from col 12 needs only 16)                → col 27
        //   2.5 → 3:    5 (P3 from col 22 needs only 26)                → col 32
        // Total 32 ≤ 56. Labels at columns 0, 4, 12, 22, 27, 32.
        let expected = concat!(
            "pCPU0 |//         |P1            |\n",
            "pCPU1 |cs |P2     |//       |P3       |\n",
            "      0   0.25    1         2    2.5  3\n",
        );
        let got = ascii_gantt(&[a, b, c], &name);
        assert_eq!(got, expected, "\n{got}");
    }

    #[test]
    fn process_table_fcfs_24_3_3() {
        // waiting = turnaround − burst: P1 24 − 24 = 0, P2 27 − 3 = 24, P3 30 − 3 = 27;
        // averages: waiting (0 + 24 + 27) / 3 = 17, turnaround (24 + 27 + 30) / 3 = 27,
        // response (0 + 24 + 27) / 3 = 17. Widths: the headers (all wider than values).
        let expected = concat!(
            "name  arrival  burst  priority  start  finish  waiting  turnaround  response\n",
            "P1          0     24         1      0      24        0          24         0\n",
            "P2          0      3         2     24      27       24          27        24\n",
            "P3          0      3         3     27      30       27          30        27\n",
            "\n",
            "average waiting time:    17\n",
            "average turnaround time: 27\n",
            "average response time:   17\n",
        );
        let got = process_table(&fcfs_records(), &name);
        assert_eq!(got, expected, "\n{got}");
    }

    #[test]
    fn process_csv_fcfs_24_3_3() {
        let expected = concat!(
            "name,arrival,burst,priority,start,finish,waiting,turnaround,response\n",
            "P1,0,24,1,0,24,0,24,0\n",
            "P2,0,3,2,24,27,24,27,24\n",
            "P3,0,3,3,27,30,27,30,27\n",
        );
        assert_eq!(process_csv(&fcfs_records(), &name), expected);
        // Names are quoted when needed; fractional times are exact. P3 (first record)
        // arriving at 1.500000001: turnaround 30 − 1.500000001 = 28.499999999, waiting
        // 28.499999999 − 3 = 25.499999999, response 27 − 1.500000001 = 25.499999999.
        let mut r = fcfs_records();
        r.truncate(1);
        r[0].arrival = SimTime(1_500_000_001);
        let csv = process_csv(&r, &|_| "a,\"b\"".to_string());
        assert!(
            csv.ends_with(
                "\"a,\"\"b\"\"\",1.500000001,3,3,27,30,25.499999999,28.499999999,25.499999999\n"
            ),
            "{csv}"
        );
    }

    #[test]
    fn time_formats() {
        // 2.5 s; 0.1234 s → 0.123; 0.9996 s → rounds to 1; 12.000000500 exact.
        assert_eq!(short_secs(SimTime(2_500_000_000)), "2.5");
        assert_eq!(short_secs(SimTime(123_400_000)), "0.123");
        assert_eq!(short_secs(SimTime(999_600_000)), "1");
        assert_eq!(exact_secs(SimTime(12_000_000_500)), "12.0000005");
        assert_eq!(exact_secs(SimTime::ZERO), "0");
        assert_eq!(ascii_gantt(&[], &name), "");
    }
}
