//! A plain CSV trace, for anyone's own data.
//!
//! The first line names the columns (any order; unknown columns are ignored):
//!
//! | column | meaning | if absent or empty |
//! |---|---|---|
//! | `arrival_s` | submit time, seconds (≥ 0) | required |
//! | `runtime_s` | CPU demand per vCPU, seconds | required |
//! | `vcpus` | vCPUs, a whole number ≥ 1 | 1 |
//! | `memory_mib` | memory, MiB (≥ 0, rounded up) | 0 |
//! | `priority` | priority class, an integer (lower = more urgent) | 0 |
//! | `estimate_s` | the user's runtime estimate, seconds (> 0) | the runtime |
//! | `tenant` | tenant number, a whole number ≥ 0 | none |
//!
//! ```text
//! arrival_s,runtime_s,vcpus,memory_mib,priority,estimate_s,tenant
//! 0,120,2,4096,1,300,7
//! 30.5,60,1,,,,
//! ```
//!
//! Rules: a runtime ≤ 0 is skipped (`zero runtime`); any cell that is not a number of the
//! right kind (or a negative arrival, 0 vCPUs) is malformed: an error naming the line and
//! the column, or with `lenient` a skipped line. `priority_map` keys: `"priority:<n>"`
//! (renumber classes) and `"tenant:<n>"`; a tenant entry wins over a priority entry.

use std::path::PathBuf;

use super::csv::{column, csv_headers, csv_reader, next_record, num_cell, optional_column};
use super::format::TraceEstimate;
use super::input::{Input, bad};
use super::source::{Next, RawVm, RecordSource, SourceContext};
use crate::error::Error;

/// The column names, in the documented order.
pub const COLUMNS: [&str; 7] = [
    "arrival_s",
    "runtime_s",
    "vcpus",
    "memory_mib",
    "priority",
    "estimate_s",
    "tenant",
];

pub(crate) struct CsvSource {
    reader: csv::Reader<Box<dyn std::io::Read + Send>>,
    record: csv::ByteRecord,
    path: PathBuf,
    ctx: SourceContext,
    arrival: usize,
    runtime: usize,
    vcpus: Option<usize>,
    memory: Option<usize>,
    priority: Option<usize>,
    estimate: Option<usize>,
    tenant: Option<usize>,
}

impl CsvSource {
    pub(crate) fn open(input: Input, ctx: SourceContext) -> Result<CsvSource, Error> {
        let path = input.path().to_path_buf();
        let mut reader = csv_reader(input)?;
        let file = ctx.label.as_str();
        let h = csv_headers(&mut reader, &path, file)?;
        Ok(CsvSource {
            arrival: column(&h, "arrival_s", file)?,
            runtime: column(&h, "runtime_s", file)?,
            vcpus: optional_column(&h, "vcpus"),
            memory: optional_column(&h, "memory_mib"),
            priority: optional_column(&h, "priority"),
            estimate: optional_column(&h, "estimate_s"),
            tenant: optional_column(&h, "tenant"),
            reader,
            record: csv::ByteRecord::new(),
            path,
            ctx,
        })
    }
}

/// A whole number in `[min, max]`, or an error.
fn whole(v: f64, min: f64, max: f64, name: &str, file: &str, line: u64) -> Result<i64, Error> {
    if v.fract() != 0.0 || v < min || v > max {
        return Err(bad(
            file,
            line,
            name,
            format!("must be a whole number in [{min}, {max}], got {v}"),
        ));
    }
    Ok(v as i64)
}

impl RecordSource for CsvSource {
    fn next_record(&mut self) -> Result<Next, Error> {
        let file = self.ctx.label.as_str();
        if !next_record(&mut self.reader, &mut self.record, &self.path, file)? {
            return Ok(Next::End);
        }
        let r = &self.record;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let opt = |i: Option<usize>, name: &str| -> Result<Option<f64>, Error> {
            match i {
                Some(i) => num_cell(r, i, name, file, line),
                None => Ok(None),
            }
        };
        let arrival = num_cell(r, self.arrival, "arrival_s", file, line)?
            .ok_or_else(|| bad(file, line, "arrival_s", "missing value"))?;
        if arrival < 0.0 {
            return Err(bad(file, line, "arrival_s", format!("negative: {arrival}")));
        }
        let runtime = num_cell(r, self.runtime, "runtime_s", file, line)?
            .ok_or_else(|| bad(file, line, "runtime_s", "missing value"))?;
        let vcpus = match opt(self.vcpus, "vcpus")? {
            Some(v) => whole(v, 1.0, f64::from(u32::MAX), "vcpus", file, line)? as u32,
            None => 1,
        };
        let memory = match opt(self.memory, "memory_mib")? {
            Some(m) if m < 0.0 || m >= u64::MAX as f64 => {
                return Err(bad(file, line, "memory_mib", format!("out of range: {m}")));
            }
            Some(m) => m.ceil() as u64,
            None => 0,
        };
        let class = match opt(self.priority, "priority")? {
            Some(p) => whole(
                p,
                f64::from(i32::MIN),
                f64::from(i32::MAX),
                "priority",
                file,
                line,
            )? as i32,
            None => 0,
        };
        let tenant = match opt(self.tenant, "tenant")? {
            Some(t) => Some(whole(t, 0.0, f64::from(u32::MAX), "tenant", file, line)? as u32),
            None => None,
        };
        let estimate = match opt(self.estimate, "estimate_s")? {
            Some(e) if e <= 0.0 => {
                return Err(bad(
                    file,
                    line,
                    "estimate_s",
                    format!("must be > 0, got {e}"),
                ));
            }
            e => e,
        };
        if runtime <= 0.0 {
            return Ok(Next::Skip("zero runtime"));
        }
        let p = &self.ctx.priorities;
        let priority = tenant
            .and_then(|t| p.int("tenant", i64::from(t)))
            .or_else(|| p.int("priority", i64::from(class)))
            .unwrap_or(class);
        let estimate_s = match (self.ctx.estimate, estimate) {
            (TraceEstimate::Trace, Some(e)) => e,
            _ => runtime,
        };
        Ok(Next::Vm(RawVm {
            line,
            arrival_s: arrival,
            runtime_s: runtime,
            estimate_s,
            vcpus,
            memory_mib: memory,
            priority,
            tenant,
            recorded_wait_s: None,
        }))
    }

    fn header(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
