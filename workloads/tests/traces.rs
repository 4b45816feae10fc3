//! Trace readers against the committed excerpts (values checked by hand against the raw
//! lines, quoted in the comments), scenario integration, and full reads of the real traces
//! in `../shared/traces` when that folder is present.

use std::path::{Path, PathBuf};

use sim::{SimTime, VmRequest};
use workloads::Scenario;
use workloads::trace::{TraceFormat, TraceReader, TraceSpec};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

fn spec(format: TraceFormat, name: &str) -> TraceSpec {
    TraceSpec::new(format, data(name).display().to_string())
}

fn read_all(r: &mut TraceReader) -> Vec<VmRequest> {
    r.by_ref().map(|v| v.unwrap()).collect()
}

fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

#[test]
fn swf_excerpt_field_by_field() {
    let mut r = spec(TraceFormat::Swf, "gaia-head.swf")
        .open(None, 1, 0)
        .unwrap();
    let vms = read_all(&mut r);
    let rep = r.report();
    assert_eq!(
        (rep.records, rep.emitted, rep.skipped_total()),
        (300, 300, 0)
    );
    // Jobs 97, 103, 174, … have fields 7 and 10 both −1: 8 of the 300.
    assert_eq!(rep.notes.get("with unknown memory (0 MiB)"), Some(&8));
    assert_eq!(rep.header_value("MaxProcs"), Some("2004"));
    assert_eq!(rep.header_value("UnixStartTime"), Some("1400749079"));
    assert_eq!(rep.header_value("MaxNodes"), Some("151"));
    assert_eq!(rep.header_value("Version"), Some("2.2"));
    assert!(rep.header.iter().filter(|(k, _)| k == "Queue").count() >= 3);

    // "    1        0 477768  35541  160  32096 89734  160 108000    -1  1   1   1   1  1 -1 -1 -1"
    let v = &vms[0];
    assert_eq!(v.id, 0);
    assert_eq!(secs(v.arrival), 0.0);
    assert_eq!(secs(v.demand), 35_541.0);
    assert_eq!(v.vcpus, 160);
    // used memory 89734 KB/proc × 160 procs = 14 357 440 KB = 14 020.94 MiB → 14 021.
    assert_eq!(v.memory_mib, 14_021);
    assert_eq!(secs(v.estimate), 108_000.0);
    assert_eq!(v.priority, 1); // queue 1
    assert_eq!(v.tenant, Some(1));
    // "    2    83558      1 432024   36   1320  7566   36 432000    -1  0   2   2   2  1 …"
    // status 0 (failed) is kept; 7566 × 36 = 272 376 KB = 265.99 MiB → 266.
    let v = &vms[1];
    assert_eq!((secs(v.arrival), secs(v.demand)), (83_558.0, 432_024.0));
    assert_eq!((v.vcpus, v.memory_mib, v.tenant), (36, 266, Some(2)));
    assert_eq!(secs(v.estimate), 432_000.0);
    // "   97   434723      1     11    1     -1    -1    1   7200    -1  1  14  14  69  1 …"
    let v = vms.iter().find(|v| secs(v.arrival) == 434_723.0).unwrap();
    assert_eq!((secs(v.demand), v.vcpus, v.memory_mib), (11.0, 1, 0));
    assert_eq!(secs(v.estimate), 7_200.0);
    // "  300   472876      1    218    6   3.00  1877    6 172800    -1  1   8   8 171  1 …"
    let v = &vms[299];
    assert_eq!(
        (secs(v.arrival), secs(v.demand), v.vcpus),
        (472_876.0, 218.0, 6)
    );
    // 1877 × 6 = 11 262 KB = 10.998 MiB → 11.
    assert_eq!(v.memory_mib, 11);
    // Queues in the excerpt: 36 jobs in queue 0, 256 in 1, 8 in 2.
    let count = |p: i32| vms.iter().filter(|v| v.priority == p).count();
    assert_eq!((count(0), count(1), count(2)), (36, 256, 8));
    assert!(vms.windows(2).all(|w| w[0].arrival <= w[1].arrival));
}

#[test]
fn swf_skip_rules_on_real_zero_runtime_jobs() {
    let mut s = spec(TraceFormat::Swf, "gaia-zero-runtime.swf");
    s.priority_map.insert("queue:2".into(), 3);
    s.estimate = workloads::trace::TraceEstimate::Exact;
    let mut r = s.open(None, 1, 0).unwrap();
    let vms = read_all(&mut r);
    let rep = r.report();
    // Jobs 10752, 10758, 10760, 10761, 10762 have status 2 and run time 0.
    assert_eq!((rep.records, rep.emitted), (15, 10));
    assert_eq!(rep.skipped.get("zero runtime"), Some(&5));
    // 10751 and 10753 have no memory fields.
    assert_eq!(rep.notes.get("with unknown memory (0 MiB)"), Some(&2));
    // "10749  4600541      1   6608    1   4758 462848    1   7200    -1  1  46  46 3146  2 …"
    // queue 2 → priority 3 by the map; estimate exact = run time.
    let v = &vms[1];
    assert_eq!(
        (secs(v.arrival), secs(v.demand), v.priority),
        (4_600_541.0, 6_608.0, 3)
    );
    assert_eq!(v.estimate, v.demand);
    // 462 848 KB × 1 = 452 MiB exactly.
    assert_eq!(v.memory_mib, 452);
    assert_eq!(vms[0].priority, 1);
}

#[test]
fn swf_malformed_lines_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.swf");
    let good = "1 0 1 10 4 -1 -1 4 20 -1 1 1 1 1 1 -1 -1 -1";
    std::fs::write(
        &p,
        format!(
            "; MaxProcs: 8\n{good}\n2 5 1 abc 4 -1 -1 4 20 -1 1 1 1 1 1 -1 -1 -1\n3 6 1 5\n{good}\n"
        ),
    )
    .unwrap();
    let mut s = TraceSpec::new(TraceFormat::Swf, p.display().to_string());
    let mut r = s.open(None, 1, 0).unwrap();
    // The reorder buffer reads ahead, so the error comes before line 2's VM.
    let e = r.next().unwrap().unwrap_err().to_string();
    assert_eq!(
        e,
        format!("{}:3: field 4 (run time): not a number: `abc`", p.display())
    );
    assert!(r.next().is_none());

    s.lenient = true;
    let mut r = s.open(None, 1, 0).unwrap();
    // The last good line arrives at 0 like the first (ties keep file order).
    assert_eq!(read_all(&mut r).len(), 2);
    let rep = r.report();
    assert_eq!(rep.skipped.get("malformed line"), Some(&2));
    assert_eq!(
        rep.messages[1],
        format!("{}:4: field 5: expected 18 fields, got 4", p.display())
    );

    // Cancelled before start, unknown run time, unknown processors.
    std::fs::write(
        &p,
        "1 0 1 -1 4 -1 -1 4 20 -1 5 1 1 1 1 -1 -1 -1\n\
         2 0 1 -1 4 -1 -1 4 20 -1 1 1 1 1 1 -1 -1 -1\n\
         3 0 1 9 -1 -1 -1 -1 20 -1 1 1 1 1 1 -1 -1 -1\n\
         4 0 1 9 2 -1 -1 -1 20 -1 5 1 1 1 1 -1 -1 -1\n",
    )
    .unwrap();
    let mut r = TraceSpec::new(TraceFormat::Swf, p.display().to_string())
        .open(None, 1, 0)
        .unwrap();
    let vms = read_all(&mut r);
    let rep = r.report();
    assert_eq!(rep.skipped.get("cancelled before start"), Some(&1));
    assert_eq!(rep.skipped.get("unknown runtime"), Some(&1));
    assert_eq!(rep.skipped.get("unknown processors"), Some(&1));
    // Job 4: cancelled after running 9 s on 2 allocated processors (field 8 is −1): kept.
    assert_eq!((vms.len(), vms[0].vcpus, secs(vms[0].demand)), (1, 2, 9.0));
}

#[test]
fn alibaba_excerpt_field_by_field() {
    let mut r = spec(TraceFormat::Alibaba, "alibaba-pods.csv")
        .open(None, 1, 0)
        .unwrap();
    let vms = read_all(&mut r);
    let rep = r.report();
    // pod-c was never scheduled; pod-e ran 0 s; pod-g (created 280) follows pod-f (300).
    assert_eq!((rep.records, rep.emitted), (7, 5));
    assert_eq!(rep.skipped.get("never scheduled"), Some(&1));
    assert_eq!(rep.skipped.get("zero runtime"), Some(&1));
    assert_eq!(rep.reordered, 1);
    assert_eq!(rep.notes.get("running at the end (censored)"), Some(&2));
    // (arrival, runtime = deletion − scheduled, vCPUs = ⌈milli/1000⌉, MiB, priority by QoS)
    let got: Vec<(f64, f64, u32, u64, i32)> = vms
        .iter()
        .map(|v| {
            (
                secs(v.arrival),
                secs(v.demand),
                v.vcpus,
                v.memory_mib,
                v.priority,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0.0, 1000.0, 12, 16_384, 1),  // pod-a: LS, 1000 − 0
            (100.0, 280.0, 4, 5_600, 3),   // pod-b: BE, 400 − 120, 3152 milli → 4
            (200.0, 60.0, 1, 1_024, 2),    // pod-d: Burstable, 500 milli → 1
            (280.0, 610.0, 16, 65_536, 0), // pod-g: Guaranteed, 900 − 290
            (300.0, 690.0, 4, 8_192, 1),   // pod-f: LS, 1000 − 310
        ]
    );
    assert_eq!(
        vms.iter().map(|v| v.id).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert!(vms.iter().all(|v| v.estimate == v.demand));

    let mut s = spec(TraceFormat::Alibaba, "alibaba-pods.csv");
    s.cpu_only = true;
    s.priority_map.insert("qos:Guaranteed".into(), 5);
    let mut r = s.open(None, 1, 0).unwrap();
    let vms = read_all(&mut r);
    // GPU pods a, b, f skipped; d and g remain; Guaranteed → 5 by the map.
    assert_eq!(r.report().skipped.get("GPU pod (cpu_only)"), Some(&3));
    assert_eq!(vms.iter().map(|v| v.priority).collect::<Vec<_>>(), [2, 5]);
}

#[test]
fn alibaba_missing_column_and_bad_cell() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pods.csv");
    std::fs::write(
        &p,
        "name,cpu_milli,memory_mib,qos,creation_time,deletion_time\n",
    )
    .unwrap();
    let e = TraceSpec::new(TraceFormat::Alibaba, "pods.csv")
        .open(Some(dir.path()), 1, 0)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "pods.csv:1: scheduled_time: missing column `scheduled_time` in the header"
    );
    std::fs::write(
        &p,
        "cpu_milli,memory_mib,creation_time,deletion_time,scheduled_time\n1000,1,0,5,0\n1000,lots,1,5,1\n",
    )
    .unwrap();
    let mut r = TraceSpec::new(TraceFormat::Alibaba, "pods.csv")
        .open(Some(dir.path()), 1, 0)
        .unwrap();
    let e = r.find_map(|v| v.err()).unwrap().to_string();
    assert_eq!(e, "pods.csv:3: memory_mib: not a number: `lots`");
}

fn azure_spec() -> TraceSpec {
    let mut s = spec(TraceFormat::Azure, "azure-v1.mini.txt");
    s.flavours = Some(data("azure-flav_map.txt").display().to_string());
    s
}

#[test]
fn azure_excerpt_bins_flavours_and_censoring() {
    let mut r = azure_spec().open(None, 7, 0).unwrap();
    let vms = read_all(&mut r);
    let rep = r.report();
    // Lines: "600 g,|,a,a,|" / "600 U0,|,U2,C3,|"; "900 k,|" / "900 U1,|";
    // "1200 g,g,|,a,|" / "1200 U3,C1,|,U0,|": 7 VMs, 2 censored.
    assert_eq!((rep.records, rep.emitted, rep.skipped_total()), (7, 7, 0));
    assert_eq!(rep.notes.get("censored (run to the horizon)"), Some(&2));
    assert_eq!(rep.header_value("Horizon"), Some("1500"));
    assert!(vms.windows(2).all(|w| w[0].arrival <= w[1].arrival));
    // Times are relative to the first line (600): bins [0, 300), [300, 600), [600, 900);
    // the horizon 1500 becomes 900.
    let in_bin = |v: &VmRequest, lo: f64| (lo..lo + 300.0).contains(&secs(v.arrival));
    let first: Vec<&VmRequest> = vms.iter().filter(|v| in_bin(v, 0.0)).collect();
    let second: Vec<&VmRequest> = vms.iter().filter(|v| in_bin(v, 300.0)).collect();
    let third: Vec<&VmRequest> = vms.iter().filter(|v| in_bin(v, 600.0)).collect();
    assert_eq!((first.len(), second.len(), third.len()), (3, 1, 3));
    // k = 4 vCPUs, 7 GB = 7168 MiB; U1 is [300, 600) s; batch 3.
    let k = second[0];
    assert_eq!((k.vcpus, k.memory_mib, k.tenant), (4, 7_168, Some(3)));
    assert!((300.0..600.0).contains(&secs(k.demand)));
    // Bin 1: g (U0: [0, 300) s, 2 vCPUs, 3.5 GB = 3584 MiB, batch 1), then a (U2:
    // [600, 1200) s) and a (C3: to the horizon, 900 − arrival), batch 2.
    let g = first.iter().find(|v| v.vcpus == 2).unwrap();
    assert_eq!((g.memory_mib, g.tenant), (3_584, Some(1)));
    assert!(secs(g.demand) < 300.0);
    let a: Vec<&&VmRequest> = first.iter().filter(|v| v.vcpus == 1).collect();
    assert!(a.iter().all(|v| v.memory_mib == 768 && v.tenant == Some(2)));
    assert!(a.iter().any(|v| (600.0..1200.0).contains(&secs(v.demand))));
    assert!(
        a.iter()
            .any(|v| (secs(v.arrival) + secs(v.demand) - 900.0).abs() < 1e-6)
    );
    // Bin 3: every VM ends by the horizon (U3 is cut, C1 runs to it).
    assert!(
        third
            .iter()
            .all(|v| secs(v.arrival) + secs(v.demand) <= 900.0 + 1e-6)
    );
    // Same seed, same draws; another seed, other positions.
    let again = read_all(&mut azure_spec().open(None, 7, 0).unwrap());
    assert_eq!(again, vms);
    let other = read_all(&mut azure_spec().open(None, 8, 0).unwrap());
    assert_ne!(other, vms);
}

#[test]
fn azure_mismatched_twin_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v1.x.txt"), "600 g,g,|\n").unwrap();
    std::fs::write(dir.path().join("v1.x.c900.txt"), "600 U0,|\n").unwrap();
    std::fs::write(dir.path().join("flav_map.txt"), "2,3.5 g\n").unwrap();
    std::fs::write(dir.path().join("v1.interval_map.txt"), "0 0\n").unwrap();
    let mut r = TraceSpec::new(TraceFormat::Azure, "v1.x.txt")
        .open(Some(dir.path()), 1, 0)
        .unwrap();
    let e = r.next().unwrap().unwrap_err().to_string();
    assert_eq!(
        e,
        "v1.x.c900.txt:1: line: 2 entries, but the flavour file has 3"
    );
}

#[test]
fn plain_csv_field_by_field() {
    let mut r = spec(TraceFormat::Csv, "plain.csv")
        .open(None, 1, 0)
        .unwrap();
    let vms = read_all(&mut r);
    assert_eq!(r.report().skipped.get("zero runtime"), Some(&1));
    // "0,120,2,4096,1,300,7,first"
    let v = &vms[0];
    assert_eq!(
        (secs(v.arrival), secs(v.demand), secs(v.estimate)),
        (0.0, 120.0, 300.0)
    );
    assert_eq!(
        (v.vcpus, v.memory_mib, v.priority, v.tenant),
        (2, 4096, 1, Some(7))
    );
    // "30.5,60,1,,,,,defaults": memory 0, priority 0, estimate = runtime, no tenant.
    let v = &vms[1];
    assert_eq!(
        (secs(v.arrival), secs(v.demand), secs(v.estimate)),
        (30.5, 60.0, 60.0)
    );
    assert_eq!(
        (v.vcpus, v.memory_mib, v.priority, v.tenant),
        (1, 0, 0, None)
    );
    // "45,10.25,4,1000.5,-1,20,3,fractional memory": 1000.5 MiB → 1001.
    let v = &vms[2];
    assert_eq!(
        (secs(v.demand), v.vcpus, v.memory_mib, v.priority),
        (10.25, 4, 1001, -1)
    );

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    std::fs::write(&p, "arrival_s,runtime_s,vcpus\n0,1,2\n1,1,2.5\n").unwrap();
    let mut r = TraceSpec::new(TraceFormat::Csv, "t.csv")
        .open(Some(dir.path()), 1, 0)
        .unwrap();
    let e = r.find_map(|v| v.err()).unwrap().to_string();
    assert_eq!(
        e,
        "t.csv:3: vcpus: must be a whole number in [1, 4294967295], got 2.5"
    );
}

#[test]
fn gzip_is_read_transparently() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(data("gaia-head.swf")).unwrap();
    let p = dir.path().join("gaia.swf.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&text).unwrap();
    gz.finish().unwrap();
    let plain = read_all(
        &mut spec(TraceFormat::Swf, "gaia-head.swf")
            .open(None, 1, 0)
            .unwrap(),
    );
    let zipped = read_all(
        &mut TraceSpec::new(TraceFormat::Swf, p.display().to_string())
            .open(None, 1, 0)
            .unwrap(),
    );
    assert_eq!(plain, zipped);
}

const SCENARIO: &str = r#"
[[hosts]]
pcpus = 8
memory_gib = 64

[workload]
trace = { format = "csv", path = "plain.csv", time_scale = 2.0, load_scale = 4.0 }
"#;

#[test]
fn scenario_streams_a_trace_relative_to_its_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("plain.csv"), dir.path().join("plain.csv")).unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    let s = Scenario::load(&path).unwrap();
    assert!(s.is_trace());
    assert_eq!(s.offered_load(), None);
    let mut w = s.workload(0).unwrap();
    let vms: Vec<VmRequest> = w.by_ref().collect();
    let rep = w.finish().unwrap().unwrap();
    assert_eq!((rep.records, rep.emitted), (4, 3));
    // arrival × 2 / 4: 30.5 → 15.25 s; runtime × 2: 60 → 120 s.
    assert_eq!((secs(vms[1].arrival), secs(vms[1].demand)), (15.25, 120.0));
    // Round trip through TOML keeps the trace.
    let back = Scenario::from_toml_str(&s.to_toml_string(), "back.toml").unwrap();
    assert_eq!(back, s);
    // --vms caps a trace through its limit.
    let mut capped = s.clone();
    capped.set_vms(2);
    assert_eq!(capped.workload(0).unwrap().count(), 2);

    // A failing trace ends the stream and finish() names the line.
    std::fs::write(
        dir.path().join("plain.csv"),
        "arrival_s,runtime_s\n0,1\nx,1\n",
    )
    .unwrap();
    let mut w = s.workload(0).unwrap();
    // The reorder buffer reads ahead: the error ends the stream before line 2's VM.
    assert_eq!(w.by_ref().count(), 0);
    let e = w.finish().unwrap_err().to_string();
    assert_eq!(e, "plain.csv:3: arrival_s: not a number: `x`");
}

#[test]
fn scenario_trace_keys_are_checked() {
    let err = |text: &str| {
        Scenario::from_toml_str(text, "s.toml")
            .unwrap_err()
            .to_string()
    };
    let with = |trace: &str| {
        SCENARIO.replace(
        "trace = { format = \"csv\", path = \"plain.csv\", time_scale = 2.0, load_scale = 4.0 }",
        trace,
    )
    };
    assert_eq!(
        err(&with(
            "trace = { format = \"csv\", path = \"p.csv\", load_scale = 0 }"
        )),
        "s.toml:7: workload.trace.load_scale: must be > 0, got 0"
    );
    assert!(
        err(&with("trace = { format = \"gwf\", path = \"p.csv\" }"))
            .starts_with("s.toml:7: workload.trace.format: unknown variant `gwf`")
    );
    assert_eq!(
        err(&with(
            "trace = { format = \"swf\", path = \"p.swf\", priority_map = { \"qos:BE\" = 1 } }"
        )),
        "s.toml:7: workload.trace.priority_map.\"qos:BE\": unknown field `qos` for format \"swf\"; known: user, group, queue, partition"
    );
    assert_eq!(
        err(&with(
            "trace = { format = \"csv\", path = \"p.csv\" }\narrival = { process = \"poisson\", rate_per_s = 1 }"
        )),
        "s.toml:8: workload.arrival: not used with a trace workload: remove it, or remove the trace"
    );
    assert_eq!(
        err("[[hosts]]\npcpus = 1\nmemory_gib = 1\n[workload]\nvcpus = 2\n"),
        "s.toml:4: workload: missing field `arrival`"
    );
}

#[test]
fn node_list_hosts_in_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("alibaba-nodes.csv"), dir.path().join("nodes.csv")).unwrap();
    std::fs::copy(data("alibaba-pods.csv"), dir.path().join("pods.csv")).unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "[cluster]\nplacement = \"best-fit\"\nnode_list = \"nodes.csv\"\nnode_overcommit = 2.0\n\
         [workload]\ntrace = { format = \"alibaba\", path = \"pods.csv\" }\n",
    )
    .unwrap();
    let s = Scenario::load(&path).unwrap();
    let c = s.sim_config().unwrap();
    // 32000, 96000, 64000 milli → 32, 96, 64 pCPUs; overcommit 2.
    let pcpus: Vec<u32> = c.cluster.hosts.iter().map(|h| h.pcpus).collect();
    assert_eq!(pcpus, [32, 96, 64]);
    assert_eq!(c.cluster.hosts[1].memory_mib, 786_432);
    assert!(c.cluster.hosts.iter().all(|h| h.overcommit == 2.0));
    let mut metrics = sim::metrics::Metrics::new();
    let stats = sim::simulate(&c, s.workload(0).unwrap(), &mut metrics).unwrap();
    assert_eq!(metrics.summary(&stats).all().vms, 5);
}

/// The folder of the real traces: `../shared/traces` beside the workspace.
fn shared_traces() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is not there (the real traces live beside the workspace); \
             reading the full traces is not tested",
            dir.display()
        );
        None
    }
}

#[test]
fn full_gaia_trace() {
    let Some(dir) = shared_traces() else { return };
    let p = dir.join("pwa-unilu-gaia-2014/UniLu-Gaia-2014-2.swf.gz");
    let mut r = TraceSpec::new(TraceFormat::Swf, p.display().to_string())
        .open(None, 1, 0)
        .unwrap();
    let mut last = SimTime::ZERO;
    for (n, v) in r.by_ref().enumerate() {
        let v = v.unwrap();
        assert!(v.arrival >= last && v.id == n as u64);
        last = v.arrival;
    }
    let rep = r.report();
    // The traces README: 51,987 jobs. Of them 100 have run time 0 and 28 run time −1
    // (counted with awk on the decompressed file).
    assert_eq!(rep.records, 51_987);
    assert_eq!(rep.skipped.get("zero runtime"), Some(&100));
    assert_eq!(rep.skipped.get("unknown runtime"), Some(&28));
    assert_eq!(rep.emitted, 51_987 - 128);
    assert_eq!(rep.header_value("MaxJobs"), Some("51987"));
    // Memory stays flat: the reader never held more than the reorder window + 1.
    assert!(rep.peak_buffered <= 1025, "{}", rep.peak_buffered);
}

#[test]
fn full_alibaba_trace_and_nodes() {
    let Some(dir) = shared_traces() else { return };
    let d = dir.join("alibaba-gpu-2023");
    let mut r = TraceSpec::new(
        TraceFormat::Alibaba,
        d.join("openb_pod_list_default.csv").display().to_string(),
    )
    .open(None, 1, 0)
    .unwrap();
    assert!(r.by_ref().all(|v| v.is_ok()));
    let rep = r.report();
    // 8,152 pods; 897 Pending pods have no scheduled_time.
    assert_eq!(rep.records, 8_152);
    assert_eq!(rep.skipped.get("never scheduled"), Some(&897));
    assert_eq!(rep.emitted + rep.skipped_total(), 8_152);
    assert_eq!(rep.notes.get("running at the end (censored)"), Some(&5_193));
    let hosts = workloads::trace::nodes::read_node_list(
        &d.join("openb_node_list_all_node.csv"),
        "nodes",
        1.0,
        1.0,
    )
    .unwrap();
    assert_eq!(hosts.len(), 1_523);
}

#[test]
fn full_azure_test_split() {
    let Some(dir) = shared_traces() else { return };
    let p = dir.join("azure-v1-binned/v1.test.txt");
    let mut r = TraceSpec::new(TraceFormat::Azure, p.display().to_string())
        .open(None, 1, 0)
        .unwrap();
    let mut last = SimTime::ZERO;
    let mut n = 0u64;
    for v in r.by_ref() {
        let v = v.unwrap();
        assert!(v.arrival >= last);
        last = v.arrival;
        n += 1;
    }
    let rep = r.report();
    // The traces README: 410,276 VMs in the test split, over 5.7 days (491 400 s).
    assert_eq!(rep.records, 410_276);
    assert_eq!(n + rep.skipped_total(), 410_276);
    assert!(last.as_secs_f64() < 491_400.0);
    assert!(rep.peak_buffered <= 1025);
}

#[test]
fn new_arrival_processes_parse_and_round_trip() {
    let text = r#"
[[hosts]]
pcpus = 4
memory_gib = 16

[workload]
load_scale = 1.5
arrival = { process = "mmpp", rates_per_s = [10.0, 0.5], mean_dwell_s = [1.0, 9.0] }
service = { dist = "empirical", quantiles_s = [0.0, 1.0, 5.0] }
"#;
    let s = Scenario::from_toml_str(text, "s.toml").unwrap();
    // λ = 1.45 /s × 1.5 = 2.175 /s; E[S] = 1.75 s; 1 vCPU on 4 pCPUs: 2.175 · 1.75 / 4.
    let load = s.offered_load().unwrap();
    assert!((load - 2.175 * 1.75 / 4.0).abs() < 1e-12, "{load}");
    assert_eq!(
        Scenario::from_toml_str(&s.to_toml_string(), "b.toml").unwrap(),
        s
    );
    for arrival in [
        "{ process = \"diurnal\", rate_per_s = 2.0, amplitude = 0.5 }",
        "{ process = \"renewal\", interarrival = { dist = \"weibull\", mean_s = 2.0, shape = 0.5 } }",
    ] {
        let t = text.replace(
            "{ process = \"mmpp\", rates_per_s = [10.0, 0.5], mean_dwell_s = [1.0, 9.0] }",
            arrival,
        );
        let s = Scenario::from_toml_str(&t, "s.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Scenario::from_toml_str(&s.to_toml_string(), "b.toml").unwrap(),
            s
        );
        assert_eq!(s.workload(0).unwrap().take(5).count(), 5);
    }
    let bad = text.replace("[10.0, 0.5]", "[0.0, 0.0]");
    assert_eq!(
        Scenario::from_toml_str(&bad, "s.toml")
            .unwrap_err()
            .to_string(),
        "s.toml:8: workload.arrival.rates_per_s: must not both be 0"
    );
}

#[test]
fn gaia_example_scenario() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gaia.toml");
    let s = Scenario::load(&path).unwrap();
    assert!(s.is_trace());
    let c = s.sim_config().unwrap();
    assert_eq!(c.cluster.hosts[0].pcpus, 2004);
    if shared_traces().is_none() {
        return;
    }
    let mut w = s.workload(0).unwrap();
    let (mut n, mut best_effort) = (0u64, 0u64);
    for v in w.by_ref() {
        n += 1;
        best_effort += u64::from(v.priority == 3);
    }
    let rep = w.finish().unwrap().unwrap();
    assert_eq!((rep.records, n), (51_987, 51_859));
    // Queue 2 → priority 3 by the map: 14,915 jobs in queue 2, 13 of them with run time ≤ 0
    // (counted with awk), leaving 14,902.
    assert_eq!(best_effort, 14_902);
}
