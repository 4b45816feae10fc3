//! `cpu_share.csv` (`[run] cpu_share_s`): each VM's CPU time per interval, from
//! [`sim::CpuShare`].

use std::path::Path;

use sim::{CpuShare, Observer, SliceRecord, VmRecord};

use super::CPU_SHARE_HEADER;
use super::records::Sink;
use crate::error::ReportError;

/// Keeps each VM's CPU time per interval during a run ([`sim::CpuShare`]) and writes the
/// rows of `cpu_share.csv` at [`CpuShareCsv::finish`]: `policy, replication, time_s` (the
/// end of the interval), `vm`, `cpu_s` (guest time on pCPUs in the interval, nine
/// decimals, exact) and `share` (`cpu_s` / interval, in pCPUs, six decimals). Like
/// [`crate::SlicesCsv`], it asks the engine for slices.
#[derive(Debug)]
pub struct CpuShareCsv {
    sink: Sink,
    share: CpuShare,
}

impl CpuShareCsv {
    /// Starts `path` (its folder must exist); `share` says the interval
    /// ([`CpuShare::new`] or [`CpuShare::auto`]).
    pub fn create(path: impl AsRef<Path>, share: CpuShare) -> Result<CpuShareCsv, ReportError> {
        Ok(CpuShareCsv {
            sink: Sink::create(path.as_ref(), &CPU_SHARE_HEADER)?,
            share,
        })
    }

    /// Labels the rows with `policy` and `replication` (one run per writer).
    pub fn set_run(&mut self, policy: &str, replication: u64) {
        self.sink.set_run(policy, replication);
    }

    /// Writes the rows, flushes and renames the file into place. Returns the number of
    /// data rows.
    pub fn finish(mut self) -> Result<u64, ReportError> {
        for r in self.share.rows() {
            let res = (|| -> csv::Result<()> {
                let s = &mut self.sink;
                s.label()?;
                s.num(r.time)?;
                s.num(r.vm)?;
                s.num(r.cpu)?;
                s.num(format_args!("{:.6}", r.share))?;
                s.end()
            })();
            self.sink.keep(res);
        }
        self.sink.finish()
    }
}

impl Observer for CpuShareCsv {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        self.share.on_vm_finished(r);
    }
    fn wants_slices(&self) -> bool {
        true
    }
    fn on_slice(&mut self, s: &SliceRecord) {
        self.share.on_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::{SimTime, SliceEnd};

    #[test]
    fn rows_are_labelled_and_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpu_share.csv");
        let mut w = CpuShareCsv::create(&path, CpuShare::new(SimTime::from_secs(1))).unwrap();
        w.set_run("fair", 0);
        // VM 4 runs 0.25–1.5 s and finishes there: 0.75 s in [0, 1), 0.5 s in [1, 2).
        w.on_slice(&SliceRecord {
            host: 0,
            pcpu: 0,
            vm: 4,
            vcpu: 0,
            dispatch: SimTime::from_millis(250),
            start: SimTime::from_millis(250),
            end: SimTime::from_millis(1500),
            reason: SliceEnd::Finished,
        });
        w.on_vm_finished(&VmRecord {
            id: 4,
            finish: SimTime::from_millis(1500),
            ..VmRecord::default()
        });
        assert_eq!(w.finish().unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "policy,replication,time_s,vm,cpu_s,share\n\
             fair,0,1.000000000,4,0.750000000,0.750000\n\
             fair,0,2.000000000,4,0.500000000,0.500000\n"
        );
    }
}
