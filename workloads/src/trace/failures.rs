//! Recorded host failures: a CSV file `host,fail_s,repair_s`, one failure per line (host
//! numbers from 0 in the cluster's order, times in seconds, `repair_s > fail_s`; the
//! failures of one host must not overlap). `[cluster] failures = { path = "…" }`.

use std::path::Path;

use sim::{RecordedFailure, SimTime};

use super::csv::{column, csv_error, csv_headers, csv_reader, num_cell};
use super::input::{Input, bad};
use crate::error::Error;

/// Reads a failure history for a cluster of `hosts` hosts. `label` names the file in
/// messages (`failures.csv:3: repair_s: must be after fail_s (20), got 10`).
pub fn read_failures(
    path: &Path,
    label: &str,
    hosts: usize,
) -> Result<Vec<RecordedFailure>, Error> {
    let input = Input::File(path.to_path_buf());
    let path = input.path().to_path_buf();
    let path = path.as_path();
    let mut reader = csv_reader(input)?;
    let h = csv_headers(&mut reader, path, label)?;
    let cols = [
        column(&h, "host", label)?,
        column(&h, "fail_s", label)?,
        column(&h, "repair_s", label)?,
    ];
    let names = ["host", "fail_s", "repair_s"];
    let mut out: Vec<(RecordedFailure, u64)> = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, path, label)),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut v = [0.0f64; 3];
        for i in 0..3 {
            v[i] = num_cell(&record, cols[i], names[i], label, line)?
                .ok_or_else(|| bad(label, line, names[i], "missing value"))?;
        }
        let host = v[0];
        if !(host >= 0.0 && host.fract() == 0.0 && host < hosts as f64) {
            return Err(bad(
                label,
                line,
                "host",
                format!("must be a host number from 0 to {}, got {host}", hosts - 1),
            ));
        }
        let time = |i: usize| {
            let t = v[i];
            if !(t.is_finite() && t >= 0.0) {
                return Err(bad(label, line, names[i], format!("must be ≥ 0, got {t}")));
            }
            SimTime::from_secs_f64(t)
                .ok_or_else(|| bad(label, line, names[i], format!("too large: {t}")))
        };
        let (fail, repair) = (time(1)?, time(2)?);
        if repair <= fail {
            return Err(bad(
                label,
                line,
                "repair_s",
                format!("must be after fail_s ({}), got {}", v[1], v[2]),
            ));
        }
        out.push((
            RecordedFailure {
                host: host as u32,
                fail,
                repair,
            },
            line,
        ));
    }
    // The failures of one host must not overlap.
    let mut sorted: Vec<&(RecordedFailure, u64)> = out.iter().collect();
    sorted.sort_by_key(|(f, _)| (f.host, f.fail));
    for w in sorted.windows(2) {
        let ((a, _), (b, line)) = (w[0], w[1]);
        if a.host == b.host && b.fail < a.repair {
            return Err(bad(
                label,
                *line,
                "fail_s",
                format!(
                    "host {} is still down until {} s (an earlier failure)",
                    a.host, a.repair
                ),
            ));
        }
    }
    Ok(out.into_iter().map(|(f, _)| f).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, hosts: usize) -> Result<Vec<RecordedFailure>, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, text).unwrap();
        read_failures(&p, "f.csv", hosts).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_and_names_the_bad_cell() {
        let ok = read("host,fail_s,repair_s\n1,10,20\n0,5,6.5\n", 2).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].repair, SimTime(6_500_000_000));
        assert_eq!(
            read("host,fail_s,repair_s\n1,10,5\n", 2).unwrap_err(),
            "f.csv:2: repair_s: must be after fail_s (10), got 5"
        );
        assert_eq!(
            read("host,fail_s,repair_s\n0,1,2\n2,10,20\n", 2).unwrap_err(),
            "f.csv:3: host: must be a host number from 0 to 1, got 2"
        );
        assert!(
            read("host,fail_s,repair_s\n0,1,abc\n", 2)
                .unwrap_err()
                .starts_with("f.csv:2: repair_s:")
        );
        assert_eq!(
            read("host,fail_s,repair_s\n0,1,10\n0,5,20\n", 2).unwrap_err(),
            "f.csv:3: fail_s: host 0 is still down until 10.000000000 s (an earlier failure)"
        );
    }
}
