//! The Standard Workload Format (SWF 2.2) of the Parallel Workloads Archive.
//!
//! One job per line, 18 whitespace-separated fields, `-1` for unknown; lines starting with
//! `;` are header comments, read as `; Key: value` pairs (`MaxProcs`, `UnixStartTime`,
//! `Queue`, …) and reported. Mapping onto a VM request (field numbers are 1-based):
//!
//! | VM | from |
//! |---|---|
//! | arrival | field 2, submit time (s) |
//! | runtime (demand per vCPU) | field 4, run time (s) |
//! | vCPUs | field 8, requested processors; field 5, allocated, when 8 is −1 |
//! | memory | field 10 (requested, KB per processor) × vCPUs, else field 7 (used, KB per processor) × vCPUs; rounded up to MiB; 0 when both are −1 |
//! | estimate | field 9, requested time (the user's estimate), else the runtime |
//! | priority | `priority_map` (fields `user` 12, `group` 13, `queue` 15, `partition` 16), else the queue number (field 15) when ≥ 0, else 0 |
//! | tenant | field 12, user id, when ≥ 0 |
//!
//! Rules: a job is skipped when its status (field 11) is 5 (cancelled) and its run time
//! is ≤ 0 (`cancelled before start`); when its run time is −1 (`unknown runtime`) or 0
//! (`zero runtime`); when its submit time is −1 (`unknown submit time`); when both
//! processor fields are ≤ 0 (`unknown processors`). Cancelled jobs that ran (run time >
//! 0) and failed jobs (status 0) are kept: they used the machine. Fields that are not
//! numbers, and lines with fewer than 18 fields, are malformed. Numbers may have a
//! fraction (`358.00`); processor counts may not.

use super::format::TraceEstimate;
use super::input::{Input, LineReader, bad};
use super::source::{Next, RawVm, RecordSource, SourceContext};
use crate::error::Error;

/// SWF field names, 1-based (index 0 unused), for messages.
const FIELD_NAMES: [&str; 19] = [
    "",
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average CPU time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user id",
    "group id",
    "executable",
    "queue",
    "partition",
    "preceding job",
    "think time",
];

pub(crate) struct SwfSource {
    lines: LineReader,
    ctx: SourceContext,
    header: Vec<(String, String)>,
    memory_unknown: u64,
}

impl SwfSource {
    pub(crate) fn open(input: Input, ctx: SourceContext) -> Result<SwfSource, Error> {
        Ok(SwfSource {
            lines: LineReader::open(input)?,
            ctx,
            header: Vec::new(),
            memory_unknown: 0,
        })
    }
}

/// `field N (name)`, the key of a message about field `n`.
fn key(n: usize) -> String {
    format!("field {n} ({})", FIELD_NAMES[n])
}

/// Parses a number: an integer, or a decimal with a fraction.
fn number(text: &str) -> Option<f64> {
    match text.parse::<i64>() {
        Ok(i) => Some(i as f64),
        Err(_) => text.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

impl RecordSource for SwfSource {
    fn next_record(&mut self) -> Result<Next, Error> {
        loop {
            let Some((line_no, bytes)) = self.lines.next_line()? else {
                return Ok(Next::End);
            };
            let file = &self.ctx.label;
            let Ok(text) = std::str::from_utf8(bytes) else {
                return Err(bad(file, line_no, "line", "not valid UTF-8"));
            };
            let text = text.trim_start();
            if let Some(comment) = text.strip_prefix(';') {
                if let Some((k, v)) = comment.split_once(':') {
                    let k = k.trim();
                    if !k.is_empty() && !k.contains(' ') {
                        self.header.push((k.to_string(), v.trim().to_string()));
                    }
                }
                continue;
            }
            if text.is_empty() {
                continue;
            }
            let mut fields = [""; 19];
            let mut n = 0;
            for f in text.split_ascii_whitespace() {
                n += 1;
                if n <= 18 {
                    fields[n] = f;
                }
            }
            if n < 18 {
                return Err(bad(
                    file,
                    line_no,
                    format!("field {}", n + 1),
                    format!("expected 18 fields, got {n}"),
                ));
            }
            let num = |i: usize| -> Result<f64, Error> {
                number(fields[i]).ok_or_else(|| {
                    bad(
                        file,
                        line_no,
                        key(i),
                        format!("not a number: `{}`", fields[i]),
                    )
                })
            };
            let int = |i: usize| -> Result<i64, Error> {
                fields[i].parse::<i64>().map_err(|_| {
                    bad(
                        file,
                        line_no,
                        key(i),
                        format!("not an integer: `{}`", fields[i]),
                    )
                })
            };
            let submit = num(2)?;
            // (Only for the "recorded" comparison: not a number is no recorded wait.)
            let wait = number(fields[3]).filter(|w| *w >= 0.0);
            let runtime = num(4)?;
            let alloc = int(5)?;
            let used_mem = num(7)?;
            let req_procs = int(8)?;
            let req_time = num(9)?;
            let req_mem = num(10)?;
            let status = int(11)?;
            let user = int(12)?;
            let group = int(13)?;
            let queue = int(15)?;
            let partition = int(16)?;

            if status == 5 && runtime <= 0.0 {
                return Ok(Next::Skip("cancelled before start"));
            }
            if runtime < 0.0 {
                return Ok(Next::Skip("unknown runtime"));
            }
            if runtime == 0.0 {
                return Ok(Next::Skip("zero runtime"));
            }
            if submit < 0.0 {
                return Ok(Next::Skip("unknown submit time"));
            }
            let procs = if req_procs > 0 { req_procs } else { alloc };
            if procs <= 0 {
                return Ok(Next::Skip("unknown processors"));
            }
            let vcpus = u32::try_from(procs).map_err(|_| {
                bad(
                    file,
                    line_no,
                    key(8),
                    format!("too many processors: {procs}"),
                )
            })?;
            let kb_per_proc = if req_mem >= 0.0 {
                req_mem
            } else if used_mem >= 0.0 {
                used_mem
            } else {
                self.memory_unknown += 1;
                0.0
            };
            let memory_mib = (kb_per_proc * procs as f64 / 1024.0).ceil();
            if memory_mib >= u64::MAX as f64 {
                return Err(bad(file, line_no, key(7), "memory too large"));
            }
            let estimate_s = match self.ctx.estimate {
                TraceEstimate::Trace if req_time > 0.0 => req_time,
                _ => runtime,
            };
            let p = &self.ctx.priorities;
            let mapped = if p.is_empty() {
                None
            } else {
                p.int("user", user)
                    .or_else(|| p.int("group", group))
                    .or_else(|| p.int("queue", queue))
                    .or_else(|| p.int("partition", partition))
            };
            let priority = mapped.unwrap_or_else(|| i32::try_from(queue.max(0)).unwrap_or(0));
            return Ok(Next::Vm(RawVm {
                line: line_no,
                arrival_s: submit,
                runtime_s: runtime,
                estimate_s,
                vcpus,
                memory_mib: memory_mib as u64,
                priority,
                tenant: u32::try_from(user).ok(),
                recorded_wait_s: wait,
            }));
        }
    }

    fn header(&self) -> Vec<(String, String)> {
        self.header.clone()
    }

    fn notes(&self) -> Vec<(&'static str, u64)> {
        vec![("with unknown memory (0 MiB)", self.memory_unknown)]
    }
}
