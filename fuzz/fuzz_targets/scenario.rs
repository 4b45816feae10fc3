//! A scenario file, checked and built as `vmsched compare` does: parse and validate, the
//! engine's configuration for two replications, the first VMs of the workload, and the
//! `run.toml` round trip (writing the scenario and reading it back gives it back).
//!
//! Files named by the scenario (a trace, a node list) are not opened: those readers have
//! their own targets, and a fuzz input must not read this machine's files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workloads::Scenario;

/// VMs drawn from a synthetic workload per input.
const VMS: usize = 16;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut scenario = match Scenario::from_toml_str(text, "fuzz.toml") {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let back = Scenario::from_toml_str(&scenario.to_toml_string(), "run.toml");
    match back {
        Ok(b) => assert_eq!(
            b, scenario,
            "the scenario written to run.toml reads back different"
        ),
        Err(e) => panic!("the scenario written to run.toml does not read back: {e}"),
    }
    let _ = (scenario.describe_workload(), scenario.offered_load());
    if scenario.cluster.node_list.take().is_some() && scenario.hosts.is_empty() {
        return;
    }
    for replication in 0..2 {
        if let Err(e) = scenario.sim_config_for(replication) {
            let _ = e.to_string();
            return;
        }
    }
    if scenario.is_trace() {
        return;
    }
    scenario.set_vms(scenario.run.vms.min(VMS as u64));
    match scenario.workload(0) {
        Ok(mut w) => {
            let vms: Vec<sim::VmRequest> = w.by_ref().take(VMS).collect();
            assert!(vms.windows(2).all(|p| p[0].arrival <= p[1].arrival));
            let _ = w.finish();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
