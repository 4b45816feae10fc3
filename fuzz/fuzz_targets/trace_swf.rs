//! The swf trace reader on arbitrary bytes (plain or gzip), strict and lenient.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workloads::trace::{TraceBytes, TraceFormat};

fuzz_target!(|data: &[u8]| {
    vmsched_fuzz::read_trace(TraceFormat::Swf, "fuzz.swf", || {
        TraceBytes::File(data.to_vec())
    });
});
