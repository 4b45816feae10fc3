//! Every reader on bytes in memory (what the fuzz targets under `fuzz/` call) gives what
//! it gives on the same file, and inputs the fuzzers found are regression tests here.

use std::path::{Path, PathBuf};

use sim::VmRequest;
use workloads::trace::{TraceBytes, TraceFormat, TraceReader, TraceReport, TraceSpec};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

/// Every VM (or the first error, as text) and the report.
fn drain(mut r: TraceReader) -> (Vec<Result<VmRequest, String>>, TraceReport) {
    let vms = r.by_ref().map(|v| v.map_err(|e| e.to_string())).collect();
    (vms, r.report())
}

/// Reads `name` from its file and from memory, with the default options and lenient.
fn same_from_file_and_memory(format: TraceFormat, name: &str) {
    for lenient in [false, true] {
        let mut spec = TraceSpec::new(format, data(name).display().to_string());
        spec.lenient = lenient;
        let from_file = drain(spec.open(None, 3, 1).unwrap());
        let from_memory = drain(
            spec.open_bytes(TraceBytes::File(bytes(name)), 3, 1)
                .unwrap(),
        );
        assert!(!from_file.0.is_empty(), "{name}: no VMs read");
        assert_eq!(from_file, from_memory, "{name}, lenient {lenient}");
    }
}

#[test]
fn swf_alibaba_and_csv_from_memory_as_from_files() {
    same_from_file_and_memory(TraceFormat::Swf, "gaia-head.swf");
    same_from_file_and_memory(TraceFormat::Swf, "gaia-zero-runtime.swf");
    same_from_file_and_memory(TraceFormat::Alibaba, "alibaba-pods.csv");
    same_from_file_and_memory(TraceFormat::Csv, "plain.csv");
}

#[test]
fn gzip_bytes_are_decompressed() {
    // The first 70 lines of gaia-head.swf (the header and 22 jobs), gzip-compressed here.
    use std::io::Write;
    let text: Vec<u8> = bytes("gaia-head.swf")
        .split_inclusive(|b| *b == b'\n')
        .take(70)
        .flatten()
        .copied()
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    let spec = TraceSpec::new(TraceFormat::Swf, "head.swf.gz");
    let plain = drain(spec.open_bytes(TraceBytes::File(text), 1, 0).unwrap());
    let unzipped = drain(spec.open_bytes(TraceBytes::File(gz), 1, 0).unwrap());
    assert_eq!(plain, unzipped);
    assert!(!plain.0.is_empty());
}

#[test]
fn azure_from_memory_as_from_files() {
    let mut spec = TraceSpec::new(
        TraceFormat::Azure,
        data("azure-v1.mini.txt").display().to_string(),
    );
    spec.flavours = Some(data("azure-flav_map.txt").display().to_string());
    let from_file = drain(spec.open(None, 7, 0).unwrap());
    // In memory the names only label messages; the horizon comes from the twin's name.
    spec.durations = Some(data("azure-v1.mini.c1500.txt").display().to_string());
    spec.intervals = Some(data("azure-v1.interval_map.txt").display().to_string());
    let files = TraceBytes::Azure {
        flavours_trace: bytes("azure-v1.mini.txt"),
        durations: bytes("azure-v1.mini.c1500.txt"),
        flavour_map: bytes("azure-flav_map.txt"),
        interval_map: bytes("azure-v1.interval_map.txt"),
    };
    let from_memory = drain(spec.open_bytes(files, 7, 0).unwrap());
    // 7 VMs (checked line by line in tests/traces.rs).
    assert_eq!(from_file.0.len(), 7);
    assert_eq!(from_file, from_memory);
}

#[test]
fn wrong_kind_of_bytes_is_an_error() {
    let e = TraceSpec::new(TraceFormat::Azure, "v1.x.txt")
        .open_bytes(TraceBytes::File(Vec::new()), 1, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("four files"), "{e}");
    let e = TraceSpec::new(TraceFormat::Csv, "x.csv")
        .open_bytes(
            TraceBytes::Azure {
                flavours_trace: Vec::new(),
                durations: Vec::new(),
                flavour_map: Vec::new(),
                interval_map: Vec::new(),
            },
            1,
            0,
        )
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("one file"), "{e}");
}

#[test]
fn node_list_from_memory_as_from_file() {
    let path = data("alibaba-nodes.csv");
    let from_file = workloads::trace::nodes::read_node_list(&path, "nodes.csv", 2.0, 1.0).unwrap();
    let from_memory = workloads::trace::nodes::read_node_list_bytes(
        &bytes("alibaba-nodes.csv"),
        "nodes.csv",
        2.0,
        1.0,
    )
    .unwrap();
    assert!(!from_file.is_empty());
    assert_eq!(from_file, from_memory);
    let e = workloads::trace::nodes::read_node_list_bytes(
        b"pcpus,memory_mib\n0,5\n",
        "n.csv",
        1.0,
        1.0,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("n.csv:2: pcpus:"), "{e}");
}

/// Found while fuzzing the scenario checks: a 1 KB file with `count = 1000000` and 20
/// `[[hosts.devices]]` took 21 s and 6.8 GB to build 20 million devices (and more devices
/// would exhaust memory). The devices over all hosts are now limited to
/// `MAX_DEVICES` = 10⁶.
#[test]
fn devices_over_all_hosts_are_limited() {
    use workloads::Scenario;
    use workloads::scenario::MAX_DEVICES;
    let scenario = |count: u64| {
        format!(
            "[[hosts]]\ncount = {count}\npcpus = 1\nmemory_gib = 1\n\
             [[hosts.devices]]\nkind = \"disk\"\nbandwidth_mbps = 1\nlatency_us = 1\n\
             [[hosts.devices]]\nkind = \"nic\"\nbandwidth_mbps = 1\nlatency_us = 1\n\
             [workload]\narrival = {{ process = \"poisson\", rate_per_s = 1 }}\n\
             service = {{ dist = \"exponential\", mean_s = 1 }}\n"
        )
    };
    assert_eq!(MAX_DEVICES, 1_000_000);
    // 500 000 hosts × 2 devices = 10⁶: at the limit, accepted.
    assert!(Scenario::from_toml_str(&scenario(500_000), "s.toml").is_ok());
    // 500 001 × 2 = 1 000 002: one host too many.
    let e = Scenario::from_toml_str(&scenario(500_001), "s.toml")
        .unwrap_err()
        .to_string();
    // Line 5 is the first [[hosts.devices]].
    assert!(
        e.starts_with(
            "s.toml:5: hosts[0].devices: the scenario would have 1000002 devices over all hosts"
        ),
        "{e}"
    );
}

/// A trace "line" longer than the 16 MiB cap (a file without line breaks, say) is an error
/// naming the file and line (a malformed line the SWF reader skips and reports), and the
/// rest of it is skipped, not read as further lines, nor held in memory.
#[test]
fn a_line_beyond_the_cap_is_an_error() {
    let mut text = b"; a comment\n".to_vec();
    text.resize(text.len() + (17 << 20), b'1');
    text.extend_from_slice(b"\n; the end\n");
    let spec = TraceSpec::new(TraceFormat::Swf, "endless.swf".to_string());
    let (vms, report) = drain(spec.open_bytes(TraceBytes::File(text), 3, 1).unwrap());
    let said: Vec<String> = vms
        .iter()
        .filter_map(|v| v.as_ref().err().cloned())
        .chain(report.messages.iter().cloned())
        .collect();
    assert!(
        said.iter()
            .any(|m| m.contains("endless.swf:2") && m.contains("longer than 16 MiB")),
        "{said:?}"
    );
    assert!(
        !said.iter().any(|m| m.contains("endless.swf:3")),
        "{said:?}"
    );
}
