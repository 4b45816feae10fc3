//! Devices: a physical device is a FIFO queue in front of `channels` identical servers; a
//! vCPU that reaches the end of a CPU burst (I/O) or a major fault (swap-in) blocks on a
//! request, and is ready again when the request completes.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp1};

use crate::error::SimError;
use crate::model::{DeviceSpec, IoBursts};
use crate::observer::Observer;
use crate::rng::SimRng;
use crate::time::SimTime;

use super::ids::{HostId, VcpuSlot};
use super::rate::ceil_u64;
use super::state::{Engine, Event, InFlight, NO_LIMIT, VcpuState, VmCounters};

/// A request waiting for or in service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Request {
    /// vCPU slot and uid (the uid guards against a reused slot).
    pub vcpu: VcpuSlot,
    pub uid: u64,
    /// Service time.
    pub service: SimTime,
}

#[derive(Debug)]
pub(super) struct Device {
    pub spec: DeviceSpec,
    pub kind_name: &'static str,
    pub busy: u32,
    pub queue: VecDeque<Request>,
    /// ∫ busy channels dt (ns), for utilisation.
    pub busy_area: u128,
    pub last_change: SimTime,
    pub completed: u64,
    /// Values at the previous timeline sample.
    pub sampled_area: u128,
    pub sampled_completed: u64,
}

impl Device {
    pub(super) fn new(spec: DeviceSpec, kind_name: &'static str) -> Device {
        Device {
            spec,
            kind_name,
            busy: 0,
            queue: VecDeque::new(),
            busy_area: 0,
            last_change: SimTime::ZERO,
            completed: 0,
            sampled_area: 0,
            sampled_completed: 0,
        }
    }

    fn account(&mut self, now: SimTime) {
        self.busy_area += u128::from(self.busy) * u128::from(now.0 - self.last_change.0);
        self.last_change = now;
    }

    /// A request arrives. Returns it if a channel is free (the caller schedules its
    /// completion at `now + service`); otherwise it waits in FIFO order.
    pub(super) fn submit(&mut self, now: SimTime, r: Request) -> Option<Request> {
        self.account(now);
        if self.busy < self.spec.channels.max(1) {
            self.busy += 1;
            Some(r)
        } else {
            self.queue.push_back(r);
            None
        }
    }

    /// A request completes. Returns the next one to start, if any (its channel stays busy).
    pub(super) fn complete(&mut self, now: SimTime) -> Option<Request> {
        self.account(now);
        self.completed += 1;
        match self.queue.pop_front() {
            Some(next) => Some(next),
            None => {
                self.busy = self.busy.saturating_sub(1);
                None
            }
        }
    }

    /// Utilisation and completions since the previous sample, then resets the window.
    pub(super) fn sample(&mut self, now: SimTime, interval: SimTime) -> (f64, u64) {
        self.account(now);
        let area = self.busy_area - self.sampled_area;
        let done = self.completed - self.sampled_completed;
        self.sampled_area = self.busy_area;
        self.sampled_completed = self.completed;
        let cap = f64::from(self.spec.channels.max(1)) * interval.0 as f64;
        (if cap > 0.0 { area as f64 / cap } else { 0.0 }, done)
    }
}

impl<'a, O: Observer> Engine<'a, O> {
    /// The vCPU `v` reached the end of a CPU burst (I/O) or a major fault.
    pub(super) fn block(&mut self, h: HostId, v: VcpuSlot) -> Result<(), SimError> {
        let now = self.now;
        let vcpu = self.vcpus.get(v);
        let fault = vcpu.burst_left != 0;
        let vm_slot = vcpu.vm;
        let uid = vcpu.uid;
        let host = &mut self.hosts[h];
        let (device, bytes) = if fault {
            (host.paging.swap, host.paging.page_bytes as f64)
        } else {
            let Some(io) = self.vms.get(vm_slot).req.profile.io else {
                return Err(SimError::InvalidConfig(
                    "I/O block without an I/O profile".into(),
                ));
            };
            let d = host
                .devices
                .iter()
                .position(|d| d.spec.kind == io.device)
                .unwrap_or(host.paging.swap);
            let x: f64 = Exp1.sample(&mut self.rng_io);
            (d, io.size_mean_bytes.max(0.0) * x)
        };
        let service = host.devices[device].spec.service_time(bytes);
        host.blocked += 1;
        let vm = self.vms.get_mut(vm_slot);
        let c = VmCounters::of(vm, &mut self.vm_counters);
        if fault {
            c.major_faults += 1;
            c.fault_service = c.fault_service.saturating_add(service.nanos());
            self.stats.major_faults += 1;
            host.paging.swap_ins += 1;
        } else {
            c.io_requests += 1;
            c.io_service = c.io_service.saturating_add(service.nanos());
            self.stats.io_requests += 1;
        }
        let io = vm.req.profile.io;
        let vm_demand = vm.req.demand.nanos();
        let vcpu = self.vcpus.get_mut(v);
        vcpu.blocked_since = now;
        if fault {
            vcpu.fault_in = NO_LIMIT;
        } else if let Some(io) = io {
            // The next burst, and the VM exits this request costs, paid when it resumes.
            vcpu.burst_left = match io.bursts {
                IoBursts::Exponential(mean) => draw_exp(&mut self.rng_io, mean.nanos()),
                IoBursts::Count(n) => {
                    vcpu.io_left = vcpu.io_left.saturating_sub(1);
                    if vcpu.io_left == 0 {
                        NO_LIMIT
                    } else {
                        vcpu.remaining.min(vm_demand / (u64::from(n) + 1))
                    }
                }
            };
            vcpu.overhead_left = vcpu
                .overhead_left
                .saturating_add(io.virtual_device.exits().saturating_mul(host.exit_cost));
        }
        self.set_state(v, VcpuState::Blocked { fault });
        let request = Request {
            vcpu: v,
            uid,
            service,
        };
        if let Some(r) = self.hosts[h].devices[device].submit(now, request) {
            self.start_request(h, device as u32, r)?;
        }
        Ok(())
    }

    #[inline(always)]
    pub(super) fn start_request(
        &mut self,
        h: HostId,
        device: u32,
        r: Request,
    ) -> Result<(), SimError> {
        let at = self.now.saturating_add(r.service);
        let request = self.io_in_flight.insert(InFlight {
            host: h,
            device,
            vcpu: r.vcpu,
            uid: r.uid,
        });
        self.events
            .schedule(self.now, at, Event::DeviceDone { request })
    }

    pub(super) fn device_done(
        &mut self,
        h: HostId,
        device: u32,
        v: VcpuSlot,
        uid: u64,
    ) -> Result<(), SimError> {
        self.count_event();
        let now = self.now;
        if let Some(next) = self.hosts[h].devices[device as usize].complete(now) {
            self.start_request(h, device, next)?;
        }
        if uid & super::migration_nic::MIGRATION_CHUNK != 0 {
            return self.chunk_done(uid);
        }
        let live = self.vcpus.try_get(v).is_some_and(|x| x.uid == uid);
        if !live {
            return Ok(()); // the VM was stopped while its request was in flight
        }
        let VcpuState::Blocked { fault } = self.vcpus.get(v).state else {
            return Ok(());
        };
        self.hosts[h].blocked -= 1;
        let vcpu = self.vcpus.get_mut(v);
        let stalled = now.nanos() - vcpu.blocked_since.nanos();
        vcpu.ready_since = now;
        vcpu.preempted = false;
        let vm = self.vms.get_mut(vcpu.vm);
        let c = VmCounters::of(vm, &mut self.vm_counters);
        if fault {
            c.fault_stall += stalled;
        } else {
            c.io_wait += stalled;
        }
        if vm.paused {
            self.set_state(v, VcpuState::Paused);
        } else {
            // (Its VM's host: the request's host unless the VM migrated meanwhile.)
            let home = vm.host.get().unwrap_or(h);
            self.set_state(v, VcpuState::Ready);
            self.enqueue_ready(home, v);
        }
        Ok(())
    }
}

/// An exponential draw with mean `mean` ns, at least 1 ns.
pub(super) fn draw_exp(rng: &mut SimRng, mean: u64) -> u64 {
    let x: f64 = Exp1.sample(rng);
    ceil_u64(x * mean as f64).max(1)
}
