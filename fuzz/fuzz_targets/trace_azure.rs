//! The Azure reader on arbitrary bytes: the input is its four files separated by NUL
//! bytes, in the order flavour file, duration twin, `flav_map.txt`, interval map (missing
//! parts are empty).
#![no_main]

use libfuzzer_sys::fuzz_target;
use workloads::trace::{TraceBytes, TraceFormat};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0);
    let mut next = || parts.next().unwrap_or(&[]).to_vec();
    let (f, d, m, i) = (next(), next(), next(), next());
    vmsched_fuzz::read_trace(TraceFormat::Azure, "v1.fuzz.txt", || TraceBytes::Azure {
        flavours_trace: f.clone(),
        durations: d.clone(),
        flavour_map: m.clone(),
        interval_map: i.clone(),
    });
});
