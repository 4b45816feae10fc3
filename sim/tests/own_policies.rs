//! A library user's own policy objects (`simulate_with_policies`) run exactly like the
//! registry's: the same decisions for the same keys, and a policy of their own changes
//! the order as worked out by hand.
use sim::observer::Collect;
use sim::policy::{AdmissionPolicy, CpuPolicy, VcpuView};
use sim::{SimConfig, SimTime, VmRequest, simulate, simulate_with_policies};

fn vm(id: u64, arrival: u64, burst: u64) -> VmRequest {
    VmRequest {
        id,
        arrival: SimTime::from_secs(arrival),
        vcpus: 1,
        memory_mib: 0,
        priority: 0,
        demand: SimTime::from_secs(burst),
        estimate: SimTime::from_secs(burst),
        tenant: None,
        profile: Default::default(),
    }
}

/// Shortest job first written as a user would: remaining estimate in nanoseconds.
struct MySjf;
impl CpuPolicy for MySjf {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        u128::from(v.estimate.saturating_sub(v.attained).nanos())
    }
}

/// Longest job first: the opposite of SJF.
struct Longest;
impl CpuPolicy for Longest {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        u128::from(u64::MAX - v.estimate.nanos())
    }
}

/// Admission in arrival order.
struct Fifo;
impl AdmissionPolicy for Fifo {
    fn queue_key(&self, _vm: &VmRequest) -> u128 {
        0
    }
}

fn finishes(c: &Collect) -> Vec<(u64, f64)> {
    let mut v: Vec<(u64, f64)> = c
        .vms
        .iter()
        .map(|r| (r.id, r.finish.as_secs_f64()))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

/// Silberschatz's SJF example (P1..P4 all at 0 with bursts 6, 8, 7, 3): the user's SJF
/// object gives the built-in `sjf`'s finish times VM by VM; longest-first runs, by hand,
/// P2 0–8, P3 8–15, P1 15–21, P4 21–24.
#[test]
fn own_policies_run_like_built_in_ones() {
    let table = || vec![vm(0, 0, 6), vm(1, 0, 8), vm(2, 0, 7), vm(3, 0, 3)];
    let config = SimConfig::textbook("sjf", SimTime::ZERO);
    let mut builtin = Collect::default();
    simulate(&config, table(), &mut builtin).unwrap();
    let mut own = Collect::default();
    simulate_with_policies(&config, Box::new(Fifo), Box::new(MySjf), table(), &mut own).unwrap();
    assert_eq!(finishes(&own), finishes(&builtin));
    // SJF by hand: P4 0–3, P1 3–9, P3 9–16, P2 16–24.
    assert_eq!(
        finishes(&own),
        vec![(0, 9.0), (1, 24.0), (2, 16.0), (3, 3.0)]
    );
    let mut longest = Collect::default();
    simulate_with_policies(
        &config,
        Box::new(Fifo),
        Box::new(Longest),
        table(),
        &mut longest,
    )
    .unwrap();
    assert_eq!(
        finishes(&longest),
        vec![(0, 21.0), (1, 8.0), (2, 15.0), (3, 24.0)]
    );
}

/// The names in the configuration are not looked up: an unknown name is only a label.
/// The other checks still apply.
#[test]
fn own_policies_skip_the_name_lookup_but_not_the_checks() {
    let mut config = SimConfig::textbook("my-policy", SimTime::ZERO);
    config.admission.policy = "mine".into();
    assert!(config.validate().is_err());
    assert!(
        config
            .check_with_policies(Box::new(Fifo), Box::new(MySjf))
            .is_ok()
    );
    config.cluster.hosts.clear();
    let e = config
        .check_with_policies(Box::new(Fifo), Box::new(MySjf))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid configuration: the cluster has no hosts"
    );
}
