//! The csv trace reader on arbitrary bytes (plain or gzip), strict and lenient.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workloads::trace::{TraceBytes, TraceFormat};

fuzz_target!(|data: &[u8]| {
    vmsched_fuzz::read_trace(TraceFormat::Csv, "fuzz.csv", || {
        TraceBytes::File(data.to_vec())
    });
});
