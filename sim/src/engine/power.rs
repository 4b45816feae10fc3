//! Power and energy, and hosts switched off and on.
//!
//! A host draws the watts of its power curve at the share of its pCPUs that are busy
//! (`Busy::watts`, one value per busy count), its idle draw while it boots, and `off_w`
//! while it is off or failed. The busy count only changes at events, so the draw is
//! piecewise constant and `Busy::advance` integrates it exactly at each change.
//!
//! With `[cluster] power_off_idle_s`, a host that has held no VM for that long switches
//! off (a `PowerOff` event checks that it is still idle since the same instant); when the
//! VM at the head of the admission queue fits on no available host, admission boots the
//! lowest-numbered switched-off host that could hold it on its own, unless a host that
//! could is already booting. A booted host is available after its `boot_s`.
//!
//! Whether placement may choose a host goes through one function,
//! [`Engine::set_host_available`].

use crate::config_check::CheckedConfig;
use crate::datacenter::{FailureSpec, OnFailure, UptimeDist};
use crate::error::SimError;
use crate::observer::Observer;
use crate::rng::{SimRng, purpose, stream_indexed};
use crate::time::SimTime;

use super::ids::HostId;
use super::placement_index::{HostFree, PlacementIndex};
use super::state::{Engine, Event, PowerState};

/// The run's datacenter settings and counters.
#[derive(Debug, Default)]
pub(super) struct Ops {
    /// Anything configured (otherwise nothing here is touched).
    pub(super) enabled: bool,
    /// Some host has a power model.
    pub(super) power: bool,
    pub(super) power_off: Option<SimTime>,
    pub(super) on_failure: OnFailure,
    /// Failures are configured (random or recorded).
    pub(super) failures: bool,
    /// Random failures: mean up and down times and the uptime distribution.
    pub(super) random: Option<(SimTime, SimTime, UptimeDist)>,
    /// Per host, its failure stream (random failures only).
    pub(super) rngs: Vec<SimRng>,
    /// Reused list of a failing host's VMs.
    pub(super) scratch: Vec<super::ids::VmSlot>,
    pub(super) vms_lost: u64,
    pub(super) lost_work_ns: u128,
    /// With power-off: the switched-off and the booting hosts, by what each could hold
    /// empty (see [`WakeIndex`]).
    pub(super) wake: Option<Box<WakeIndex>>,
}

/// Which hosts are switched off and which are booting, as two first-fit placement indexes
/// over the hosts' capacities when empty (vCPU cap, memory cap, vCPU limit of one VM), so
/// that [`Engine::wake_for`] finds "a booting host that could hold the VM" and "the
/// lowest-numbered switched-off host that could" in O(log H), and a host enters or leaves
/// either set in O(log H) (in [`Engine::set_power_state`]).
#[derive(Debug)]
pub(super) struct WakeIndex {
    off: PlacementIndex,
    booting: PlacementIndex,
}

impl WakeIndex {
    /// Both sets empty (every host starts on).
    pub(super) fn new(hosts: &[super::state::Host], gang: bool) -> Self {
        let empty = || {
            PlacementIndex::without_candidates(
                crate::model::Placement::FirstFit,
                hosts.iter().map(|h| capacity_when_empty(h, gang)),
            )
        };
        WakeIndex {
            off: empty(),
            booting: empty(),
        }
    }

    /// Host `h` is now in `state`.
    fn set(&mut self, h: HostId, state: PowerState) {
        let i = h.0 as usize;
        self.off.set_candidate(i, state == PowerState::Off);
        self.booting.set_candidate(i, state == PowerState::Booting);
    }
}

/// What host `h` could hold when empty: its vCPU and memory caps, and its vCPU limit.
fn capacity_when_empty(h: &super::state::Host, gang: bool) -> HostFree {
    HostFree {
        vcpus: h.capacity.vcpu_cap,
        mem: h.capacity.mem_cap,
        limit: if gang { h.pcpus.len() as u32 } else { u32::MAX },
    }
}

impl Ops {
    /// The datacenter settings of `checked` for a cluster of `hosts` hosts; schedules the
    /// first power-off checks and failures into `events`.
    pub(super) fn new(
        checked: &CheckedConfig<'_>,
        events: &mut crate::event::EventQueue<Event>,
    ) -> Result<Ops, SimError> {
        let config = checked.config();
        let dc = &config.datacenter;
        let hosts = config.cluster.hosts.len();
        let power = config
            .cluster
            .hosts
            .groups()
            .any(|(h, _)| h.resources.power.is_some());
        let mut ops = Ops {
            enabled: power || dc.any(),
            power,
            power_off: dc.power_off_idle,
            on_failure: dc.on_failure,
            failures: dc.failures.is_some(),
            ..Ops::default()
        };
        if let Some(idle) = dc.power_off_idle {
            for h in 0..hosts {
                events.schedule(
                    SimTime::ZERO,
                    idle,
                    Event::PowerOff {
                        host: HostId(h as u32),
                    },
                )?;
            }
        }
        match &dc.failures {
            None => {}
            Some(FailureSpec::Random { mtbf, mttr, dist }) => {
                ops.random = Some((*mtbf, *mttr, *dist));
                for h in 0..hosts {
                    let mut rng =
                        stream_indexed(config.seed, config.replication, purpose::FAILURES, h);
                    let up = draw_uptime(&mut rng, *mtbf, *dist);
                    ops.rngs.push(rng);
                    events.schedule(
                        SimTime::ZERO,
                        up,
                        Event::HostFail {
                            host: HostId(h as u32),
                        },
                    )?;
                }
            }
            Some(FailureSpec::Recorded(list)) => {
                let mut list = list.clone();
                list.sort_by_key(|f| (f.fail, f.host));
                for f in list.iter().filter(|f| (f.host as usize) < hosts) {
                    let host = HostId(f.host);
                    events.schedule(SimTime::ZERO, f.fail, Event::HostFail { host })?;
                    events.schedule(SimTime::ZERO, f.repair, Event::HostRepair { host })?;
                }
            }
        }
        Ok(ops)
    }
}

/// An exponential draw with mean `mean`, or a Weibull one of the same mean; at least 1 ns.
pub(super) fn draw_uptime(rng: &mut SimRng, mean: SimTime, dist: UptimeDist) -> SimTime {
    use rand_distr::{Distribution, Exp1, Weibull};
    let m = mean.nanos() as f64;
    let x = match dist {
        UptimeDist::Exponential => {
            let e: f64 = Exp1.sample(rng);
            e * m
        }
        UptimeDist::Weibull { shape } => {
            // Mean of Weibull(scale λ, shape k) = λ Γ(1 + 1/k).
            let scale = m / statrs::function::gamma::gamma(1.0 + 1.0 / shape);
            match Weibull::new(scale, shape) {
                Ok(w) => w.sample(rng),
                // (Shape and scale are checked > 0 and finite.)
                Err(_) => m,
            }
        }
    };
    SimTime((x.round() as u64).max(1))
}

impl<'a, O: Observer> Engine<'a, O> {
    /// Host `h` enters (`true`) or leaves the set of hosts placement may choose. Every
    /// change of that set goes through here (power-off, boot, failure, repair).
    #[inline]
    pub(super) fn set_host_available(&mut self, h: HostId, available: bool) {
        // (One host: placement reads the flag, not the index; see `Engine::place`.)
        if self.hosts.len() == 1 {
            self.only_host_open = available;
        } else {
            self.placement_index.set_candidate(h.0 as usize, available);
        }
    }

    /// Whether nothing more can happen: every VM has arrived and left. Datacenter events
    /// after that change nothing (so that energy and availability end at the makespan).
    pub(super) fn run_over(&self) -> bool {
        self.arrivals_done && self.in_system == 0
    }

    /// Moves host `h` to `state`, integrating its energy and its time on up to now.
    pub(super) fn set_power_state(&mut self, h: HostId, state: PowerState) {
        let now = self.now;
        let host = &mut self.hosts[h];
        host.busy.advance(now);
        let was_on = host.ops.state.is_on();
        if state == PowerState::Failed && host.ops.state != PowerState::Failed {
            host.ops.down_since = now;
        }
        if host.ops.state == PowerState::Failed && state != PowerState::Failed {
            host.ops.stats.down_ns += u128::from(now.nanos() - host.ops.down_since.nanos());
        }
        host.ops.state = state;
        if let Some(w) = self.dc.wake.as_mut() {
            w.set(h, state);
        }
        let host = &mut self.hosts[h];
        if let Some(p) = host.busy.power.as_mut() {
            p.off = !state.is_on();
        }
        match (was_on, state.is_on()) {
            (false, true) => host.ops.on_since = now,
            (true, false) => {
                host.ops.stats.on_ns += u128::from(now.nanos() - host.ops.on_since.nanos())
            }
            _ => {}
        }
    }

    /// Host `h` holds no VM from now on: with power-off, it switches off unless a VM comes
    /// within `power_off_idle_s`.
    pub(super) fn host_emptied(&mut self, h: HostId) -> Result<(), SimError> {
        if let Some(idle) = self.dc.power_off {
            let now = self.now;
            self.hosts[h].ops.idle_since = now;
            self.events
                .schedule(now, now.saturating_add(idle), Event::PowerOff { host: h })?;
        }
        Ok(())
    }

    /// A `PowerOff` check: host `h` switches off if it is on and has been idle since the
    /// instant the check was scheduled for.
    #[cold]
    #[inline(never)]
    pub(super) fn power_off_event(&mut self, h: HostId) -> Result<(), SimError> {
        let Some(idle) = self.dc.power_off else {
            return Ok(());
        };
        let host = &self.hosts[h];
        if self.run_over()
            || host.ops.state != PowerState::On
            || host.capacity.admitted != 0
            || host.ops.idle_since.saturating_add(idle) != self.now
        {
            return Ok(());
        }
        self.count_event();
        self.set_power_state(h, PowerState::Off);
        self.set_host_available(h, false);
        Ok(())
    }

    /// No available host takes a VM of `vcpus` vCPUs and `mem` MiB: boot the
    /// lowest-numbered switched-off host that could hold it, unless one that could is
    /// booting already.
    pub(super) fn wake_for(&mut self, vcpus: u64, mem: u64) -> Result<(), SimError> {
        if self.dc.power_off.is_none() {
            return Ok(());
        }
        let Some(w) = self.dc.wake.as_ref() else {
            return Ok(());
        };
        if w.booting.choose(vcpus, mem).is_some() {
            return Ok(());
        }
        let Some(i) = w.off.choose(vcpus, mem) else {
            return Ok(());
        };
        let h = HostId(i as u32);
        let now = self.now;
        self.set_power_state(h, PowerState::Booting);
        let until = now.saturating_add(self.hosts[h].ops.boot);
        let host = &mut self.hosts[h];
        host.ops.boot_until = until;
        host.ops.stats.boots += 1;
        self.events
            .schedule(now, until, Event::BootDone { host: h })
    }

    /// Host `h` finishes booting (unless it failed meanwhile) and takes VMs.
    #[cold]
    #[inline(never)]
    pub(super) fn boot_done(&mut self, h: HostId) -> Result<(), SimError> {
        let host = &self.hosts[h];
        if host.ops.state != PowerState::Booting || host.ops.boot_until != self.now {
            return Ok(());
        }
        self.count_event();
        self.set_power_state(h, PowerState::On);
        self.host_back(h)
    }

    /// Host `h` is on again (booted or repaired) and empty: placement may choose it, the
    /// admission queue is looked at again, and the idle timer starts.
    pub(super) fn host_back(&mut self, h: HostId) -> Result<(), SimError> {
        self.set_host_available(h, true);
        self.admission_dirty = true;
        self.departed_since_pass = true;
        if self.hosts[h].capacity.admitted == 0 {
            self.host_emptied(h)?;
        }
        Ok(())
    }

    /// Closes the run's datacenter accounts at the makespan: energy, time on and time
    /// failed of every host, into `stats.datacenter`.
    pub(super) fn close_datacenter(&mut self) {
        if !self.dc.enabled {
            return;
        }
        let end = self.stats.makespan;
        let mut hosts = Vec::with_capacity(self.hosts.len());
        for host in &mut self.hosts {
            host.busy.advance(end);
            // Nothing changes after the makespan, so the draw since is constant: take off
            // what a later sample integrated past it.
            let past = host.busy.busy_last.nanos().saturating_sub(end.nanos());
            let mut s = host.ops.stats.clone();
            if let Some(p) = host.busy.power.as_ref()
                && !p.watts.is_empty()
            {
                s.energy_j = (p.energy - host.busy.draw() * past as f64) / 1e9;
            }
            if host.ops.state.is_on() {
                s.on_ns += u128::from(end.nanos().saturating_sub(host.ops.on_since.nanos()));
            }
            if host.ops.state == PowerState::Failed {
                s.down_ns += u128::from(end.nanos().saturating_sub(host.ops.down_since.nanos()));
            }
            hosts.push(s);
        }
        let d = &mut self.stats.datacenter;
        d.power = self.dc.power;
        d.operations = self.dc.power_off.is_some() || self.dc.failures;
        d.hosts = hosts;
        d.vms_lost = self.dc.vms_lost;
        d.lost_work_ns = self.dc.lost_work_ns;
    }
}
