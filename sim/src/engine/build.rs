//! Building an engine from a configuration: hosts and their pCPUs, devices and run queues,
//! the policies, the random streams, and the scheduled lifecycle events and samples.

use crate::config_check::CheckedConfig;
use crate::error::SimError;
use crate::event::EventQueue;
use crate::model::Mapping;
use crate::observer::{HostSample, Observer};
use crate::rng::{purpose, stream};
use crate::time::SimTime;

use super::admission_queue::AdmissionQueue;
use super::capacity::{ClusterFacts, new_index};
use super::device::Device;
use super::ids::OptId;
use super::migration::Migrations;
use super::power::Ops;
use super::slab::Slab;
use super::state::{
    Busy, BusyPower, Capacity, Engine, Event, Host, HostOps, Paging, PowerState, Topology,
};
use super::{FastPaths, RunStats};

/// The speed factor `1 − slowdown` of a slowdown checked to lie in [0, 1).
fn speed(slowdown: f64) -> f64 {
    1.0 - slowdown
}

impl<'a, O: Observer> Engine<'a, O> {
    /// The engine for a checked configuration (see [`crate::SimConfig::check`]): nothing here can
    /// fail on the configuration's values.
    pub(super) fn new(
        checked: CheckedConfig<'_>,
        observer: &'a mut O,
        fast: FastPaths,
    ) -> Result<Self, SimError> {
        let mut events = EventQueue::new();
        let mut dc = Ops::new(&checked, &mut events)?;
        let mig = {
            let d = &checked.config().datacenter;
            Migrations::new(
                d.migration.as_ref(),
                d.consolidation.as_ref(),
                checked.config().cluster.hosts.len(),
                &mut events,
            )?
        };
        // (Consolidation reads each host's busy pCPU time.)
        let consolidating = mig.as_ref().is_some_and(|m| m.consolidating());
        let (config, admission_policy, cpu_policy) = checked.into_parts();
        // The slice of a host: `slice` if set, else the policy's default for the host's
        // pCPUs, else the quantum.
        let slice_for = |pcpus: u32| {
            crate::policy::host_slice(&*cpu_policy, &config.cpu, pcpus).map(SimTime::nanos)
        };
        let queue_avg = cpu_policy.uses_queue_average() && cpu_policy.uses_state();
        let mut total_pcpus = 0u64;
        let mut hosts = Vec::with_capacity(config.cluster.hosts.len());
        for h in &config.cluster.hosts {
            let r = &h.resources;
            let tpc = r.threads_per_core.max(1);
            let nodes = r.numa_nodes.clamp(1, h.pcpus);
            total_pcpus += u64::from(h.pcpus);
            let idle = super::state::PcpuBits::all_set(h.pcpus);
            let pcpus = super::pcpus::Pcpus::new(h.pcpus);
            // (Exactly as many as the host has, the default swap device included: a `Vec`
            // grown by a push would hold room for four.)
            let mut devices: Vec<Device> =
                Vec::with_capacity(r.devices.len() + usize::from(r.swap_device.is_none()));
            devices.extend(
                r.devices
                    .iter()
                    .map(|d| Device::new(d.clone(), d.kind.name())),
            );
            let swap = match r.swap_device {
                // (Checked to exist.)
                Some(s) => s,
                None => {
                    devices.push(Device::new(
                        crate::model::HostResources::default_swap(),
                        "swap",
                    ));
                    devices.len() - 1
                }
            };
            let queues = match config.cpu.mapping {
                Mapping::Floating => 1,
                Mapping::Pinned => h.pcpus as usize,
            };
            let mem_cap = h.memory_capacity_mib();
            hosts.push(Host {
                capacity: Capacity {
                    vcpu_cap: h.vcpu_capacity(),
                    mem_cap,
                    used_vcpus: 0,
                    used_mem: 0,
                    admitted: 0,
                },
                topology: Topology {
                    threads_per_core: tpc,
                    smt_speed: speed(r.smt_slowdown),
                    numa_nodes: nodes,
                    node_mem_used: if nodes > 1 {
                        vec![0; nodes as usize]
                    } else {
                        Vec::new()
                    },
                    node_mem_cap: mem_cap / u64::from(nodes),
                    remote_speed: speed(r.numa_remote_slowdown),
                    translation_speed: 1.0 / (1.0 + r.translation_overhead),
                },
                paging: Paging {
                    page_bytes: r.page_bytes.max(1),
                    first_touch: r.first_touch.nanos(),
                    resident_limit_mib: r.resident_limit_mib.unwrap_or(h.memory_mib),
                    balloon: r.balloon,
                    working_set_mib: 0,
                    swap,
                    swap_ins: 0,
                    sampled_swap_ins: 0,
                },
                busy: Busy {
                    idle,
                    idle_count: h.pcpus,
                    busy_count: 0,
                    busy_area: 0,
                    track_busy: config.timeline_interval.is_some()
                        || r.power.is_some()
                        || consolidating,
                    busy_last: SimTime::ZERO,
                    sampled_busy_area: 0,
                    // Watts with k of the pCPUs busy, k = 0 ..= pCPUs.
                    power: r.power.as_ref().map(|p| {
                        Box::new(BusyPower {
                            watts: (0..=h.pcpus)
                                .map(|k| p.curve.watts(f64::from(k) / f64::from(h.pcpus)))
                                .collect(),
                            off: false,
                            off_w: p.off_w,
                            energy: 0.0,
                            sampled_energy: 0.0,
                        })
                    }),
                },
                pcpus,
                ready: super::state::RunQueues::new(queues),
                slice: slice_for(h.pcpus).and_then(std::num::NonZeroU64::new),
                dirty: false,
                dedicated: h.vcpu_capacity() <= u64::from(h.pcpus),
                plain: h.vcpu_capacity() <= u64::from(h.pcpus)
                    && tpc == 1
                    && nodes == 1
                    && r.translation_overhead == 0.0
                    && config.cpu.mapping == Mapping::Floating
                    && slice_for(h.pcpus).is_none(),
                exit_cost: r.exit_cost.nanos(),
                devices,
                blocked: 0,
                ops: Box::new(HostOps {
                    state: PowerState::On,
                    idle_since: SimTime::ZERO,
                    boot_until: SimTime::ZERO,
                    boot: r.boot,
                    on_since: SimTime::ZERO,
                    down_since: SimTime::ZERO,
                    stats: Default::default(),
                }),
            });
        }
        let mut lifecycle = config.events.clone();
        lifecycle.sort_by_key(|e| e.at);
        for (index, e) in lifecycle.iter().enumerate() {
            events.schedule(
                SimTime::ZERO,
                e.at,
                Event::Lifecycle {
                    index: index as u32,
                },
            )?;
        }
        let lifecycle_slots = lifecycle.iter().map(|e| (e.vm, OptId::NONE)).collect();
        let timeline = match config.timeline_interval {
            // (Checked to be > 0.)
            Some(t) => {
                events.schedule(SimTime::ZERO, t, Event::Sample)?;
                Some(t)
            }
            None => None,
        };
        let want_slices = observer.wants_slices();
        let want_decisions = observer.wants_decisions();
        // (A failure takes VMs off their host, which the plain path cannot undo.)
        // (So does a migration, which moves vCPUs the plain path does not create.)
        let plain_ok = fast.plain
            && lifecycle.is_empty()
            && config.datacenter.failures.is_none()
            && !consolidating;
        let arrival_order = admission_policy.arrival_order();
        let queue_sums = if queue_avg {
            hosts
                .iter()
                .map(|h| vec![Default::default(); h.ready.len()])
                .collect()
        } else {
            Vec::new()
        };
        let pinned = match config.cpu.mapping {
            Mapping::Floating => Vec::new(),
            Mapping::Pinned => hosts
                .iter()
                .map(|h| vec![0; h.pcpus.len()].into_boxed_slice())
                .collect(),
        };
        let slice_quanta = if cpu_policy.uses_state() {
            hosts
                .iter()
                .map(|h| vec![u64::MAX; h.pcpus.len()])
                .collect()
        } else {
            Vec::new()
        };
        let placement_index = new_index(config.cluster.placement, &hosts, config.cpu.gang);
        let backfill =
            super::backfill::Backfiller::new(config.admission.backfill, &hosts, fast.backfill);
        let cluster_facts = ClusterFacts::new(&hosts, config.cpu.gang);
        if dc.power_off.is_some() {
            dc.wake = Some(Box::new(super::power::WakeIndex::new(
                &hosts,
                config.cpu.gang,
            )));
        }
        Ok(Engine {
            now: SimTime::ZERO,
            events,
            hosts,
            placement_index,
            only_host_open: true,
            cluster_facts,
            head_of_line: config.admission.head_of_line,
            preemptive: cpu_policy.preemptive(),
            dynamic_keys: cpu_policy.key_depends_on_time(),
            account_period: cpu_policy.accounting_period().map(|p| p.nanos().max(1)),
            account_epochs: if cpu_policy.accounting_period().is_some() {
                vec![0; config.cluster.hosts.len()]
            } else {
                Vec::new()
            },
            policy_state: cpu_policy.uses_state(),
            queue_avg,
            queue_sums,
            pinned,
            slice_quanta,
            caps: None,
            parks: cpu_policy.parks_capped() && cpu_policy.accounting_period().is_some(),
            parking: None,
            cap_period: config.cpu.cap_period.nanos(),
            admission_policy,
            cpu_policy,
            context_switch: config.cpu.context_switch.nanos(),
            migration: config.cpu.migration.nanos(),
            mapping: config.cpu.mapping,
            gang: config.cpu.gang,
            warmup_vms: config.warmup_vms,
            queue: AdmissionQueue::new(arrival_order),
            queue_scratch: Vec::new(),
            failed_sizes: Vec::new(),
            arrived_now: Vec::new(),
            admission_dirty: false,
            departed_since_pass: false,
            dirty_hosts: Vec::new(),
            vms: Slab::new(),
            vm_counters: Slab::new(),
            vcpus: Slab::new(),
            io_in_flight: Slab::new(),
            next_vcpu_uid: 0,
            in_system: 0,
            last_change: SimTime::ZERO,
            stats: RunStats {
                total_pcpus,
                ..RunStats::default()
            },
            observer,
            want_slices,
            want_decisions,
            rng_io: stream(config.seed, config.replication, purpose::IO),
            rng_paging: stream(config.seed, config.replication, purpose::PAGING),
            lifecycle,
            lifecycle_slots,
            timeline,
            arrivals_done: false,
            sample: HostSample::default(),
            plain_ok,
            dc,
            backfill,
            mig,
        })
    }
}
