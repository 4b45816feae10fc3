//! A calibration profile (`profile.toml`), then what the simulator takes from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::{SimTime, VmRequest};
use validate::profile::Profile;
use workloads::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let profile = match Profile::from_toml_str(text, "profile.toml") {
        Ok(p) => p,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = (profile.speed(), profile.per_vm_overhead());
    let mut scenario = Scenario::builtin_default();
    profile.apply_to_scenario(&mut scenario);
    let _ = scenario.validate();
    let mut vm = VmRequest {
        id: 0,
        arrival: SimTime::ZERO,
        vcpus: 1,
        memory_mib: 0,
        priority: 0,
        demand: SimTime::from_secs(1),
        estimate: SimTime::from_secs(1),
        tenant: None,
        profile: Default::default(),
    };
    profile.map_request(&mut vm);
    let _ = profile.to_toml_string();
});
