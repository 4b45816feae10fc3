//! Helpers shared by the fuzz targets: reading a whole trace the way `vmsched` does.

use workloads::trace::stats::TraceStats;
use workloads::trace::{TraceBytes, TraceEstimate, TraceFormat, TraceSpec};

/// At most this many VMs are read from one fuzz input (keeps every iteration fast).
pub const MAX_VMS: usize = 10_000;

/// Reads `bytes` as a trace of `format` twice, as `vmsched trace stats` would: once with
/// the default options and once lenient, with a small reorder window and exact estimates.
/// Every VM goes into the statistics; the report is formatted. Any panic is a bug.
pub fn read_trace(format: TraceFormat, path: &str, bytes: impl Fn() -> TraceBytes) {
    for lenient in [false, true] {
        let mut spec = TraceSpec::new(format, path);
        if format == TraceFormat::Azure {
            spec.horizon_s = Some(2_591_400.0);
        }
        if lenient {
            spec.lenient = true;
            spec.reorder_window = 4;
            spec.estimate = TraceEstimate::Exact;
        }
        let Ok(mut reader) = spec.open_bytes(bytes(), 1, 0) else {
            continue;
        };
        let mut stats = TraceStats::new(1000, 0.0);
        for vm in reader.by_ref().take(MAX_VMS) {
            match vm {
                Ok(vm) => stats.push(&vm),
                Err(e) => {
                    let _ = e.to_string();
                    break;
                }
            }
        }
        let report = reader.report();
        let _ = report.to_string();
        let _ = (stats.span_s(), stats.rate_per_s(), stats.mean_busy_vcpus());
        let _ = stats.hourly_rate();
    }
}
