//! The Alibaba GPU-cluster pod list (`openb_pod_list_*.csv`, Weng et al., ATC'23).
//!
//! A CSV with a header naming its columns (in any order; others are ignored):
//! `cpu_milli, memory_mib, num_gpu, qos, pod_phase, creation_time, deletion_time,
//! scheduled_time` (times in seconds). Mapping onto a VM request:
//!
//! | VM | from |
//! |---|---|
//! | arrival | `creation_time` |
//! | runtime | `deletion_time − scheduled_time` |
//! | vCPUs | `cpu_milli / 1000`, rounded up, at least 1 (a VM holds whole vCPUs) |
//! | memory | `memory_mib` |
//! | estimate | the runtime (the trace has no user estimate) |
//! | priority | `priority_map` (`"qos:<QoS>"`), else by QoS: Guaranteed 0, LS 1, Burstable 2, BE 3, other 4 |
//!
//! Rules: a pod with no `scheduled_time` was never scheduled (phase `Pending`) and is
//! skipped (`never scheduled`); a runtime ≤ 0 is skipped (`zero runtime`); with
//! `cpu_only = true`, pods with `num_gpu > 0` are skipped (`GPU pod`). Pods still
//! `Running` at the end of the trace are kept with their recorded `deletion_time` (they
//! are counted as `running at the end (censored)`). A missing column is an error at
//! line 1; a cell that is not a number is an error naming the line and the column.

use super::csv::{cell, column, csv_headers, csv_reader, next_record, num_cell, optional_column};
use super::input::{Input, bad};
use super::source::{Next, RawVm, RecordSource, SourceContext};
use crate::error::Error;
use crate::units::whole_vcpus;

/// The default priority of a QoS class (lower = more urgent).
pub fn qos_priority(qos: &str) -> i32 {
    match qos {
        "Guaranteed" => 0,
        "LS" => 1,
        "Burstable" => 2,
        "BE" => 3,
        _ => 4,
    }
}

struct Columns {
    cpu_milli: usize,
    memory_mib: usize,
    num_gpu: Option<usize>,
    qos: Option<usize>,
    phase: Option<usize>,
    creation: usize,
    deletion: usize,
    scheduled: usize,
}

pub(crate) struct PodSource {
    reader: csv::Reader<Box<dyn std::io::Read + Send>>,
    record: csv::ByteRecord,
    cols: Columns,
    ctx: SourceContext,
    cpu_only: bool,
    censored: u64,
    path: std::path::PathBuf,
}

impl PodSource {
    pub(crate) fn open(
        input: Input,
        ctx: SourceContext,
        cpu_only: bool,
    ) -> Result<PodSource, Error> {
        let path = input.path().to_path_buf();
        let mut reader = csv_reader(input)?;
        let file = ctx.label.as_str();
        let h = csv_headers(&mut reader, &path, file)?;
        let cols = Columns {
            cpu_milli: column(&h, "cpu_milli", file)?,
            memory_mib: column(&h, "memory_mib", file)?,
            num_gpu: optional_column(&h, "num_gpu"),
            qos: optional_column(&h, "qos"),
            phase: optional_column(&h, "pod_phase"),
            creation: column(&h, "creation_time", file)?,
            deletion: column(&h, "deletion_time", file)?,
            scheduled: column(&h, "scheduled_time", file)?,
        };
        Ok(PodSource {
            reader,
            record: csv::ByteRecord::new(),
            cols,
            ctx,
            cpu_only,
            censored: 0,
            path,
        })
    }
}

impl RecordSource for PodSource {
    fn next_record(&mut self) -> Result<Next, Error> {
        let file = self.ctx.label.as_str();
        if !next_record(&mut self.reader, &mut self.record, &self.path, file)? {
            return Ok(Next::End);
        }
        let r = &self.record;
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let c = &self.cols;
        let need = |i: usize, name: &str| -> Result<f64, Error> {
            num_cell(r, i, name, file, line)?.ok_or_else(|| bad(file, line, name, "missing value"))
        };
        let creation = need(c.creation, "creation_time")?;
        let cpu_milli = need(c.cpu_milli, "cpu_milli")?;
        let memory = need(c.memory_mib, "memory_mib")?;
        let Some(scheduled) = num_cell(r, c.scheduled, "scheduled_time", file, line)? else {
            return Ok(Next::Skip("never scheduled"));
        };
        let deletion = need(c.deletion, "deletion_time")?;
        if creation < 0.0 {
            return Err(bad(
                file,
                line,
                "creation_time",
                format!("negative: {creation}"),
            ));
        }
        if cpu_milli < 0.0 {
            return Err(bad(
                file,
                line,
                "cpu_milli",
                format!("negative: {cpu_milli}"),
            ));
        }
        if memory < 0.0 {
            return Err(bad(file, line, "memory_mib", format!("negative: {memory}")));
        }
        if self.cpu_only
            && let Some(g) = c.num_gpu
            && num_cell(r, g, "num_gpu", file, line)?.unwrap_or(0.0) > 0.0
        {
            return Ok(Next::Skip("GPU pod (cpu_only)"));
        }
        let runtime = deletion - scheduled;
        if runtime <= 0.0 {
            return Ok(Next::Skip("zero runtime"));
        }
        let qos = c
            .qos
            .map(|i| std::str::from_utf8(cell(r, i)).unwrap_or(""))
            .unwrap_or("");
        let priority = self
            .ctx
            .priorities
            .text("qos", qos)
            .unwrap_or_else(|| qos_priority(qos));
        if c.phase.is_some_and(|i| cell(r, i) == b"Running") {
            self.censored += 1;
        }
        Ok(Next::Vm(RawVm {
            line,
            arrival_s: creation,
            runtime_s: runtime,
            estimate_s: runtime,
            vcpus: whole_vcpus(cpu_milli / 1000.0),
            memory_mib: memory.ceil() as u64,
            priority,
            tenant: None,
            recorded_wait_s: None,
        }))
    }

    fn header(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn notes(&self) -> Vec<(&'static str, u64)> {
        vec![("running at the end (censored)", self.censored)]
    }
}
