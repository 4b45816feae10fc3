//! Timeline samples: per host, busy pCPUs, utilisation, run-queue and admission-queue
//! lengths, memory and devices.

use crate::error::SimError;
use crate::observer::{DeviceSample, Observer};

use super::state::{Engine, Event, VcpuState};

impl<'a, O: Observer> Engine<'a, O> {
    pub(super) fn take_sample(&mut self) -> Result<(), SimError> {
        let Some(interval) = self.timeline else {
            return Ok(());
        };
        let now = self.now;
        let queued = (self.queue.len() + self.arrived_now.len()) as u64;
        for h in 0..self.hosts.len() {
            let ready: u64 = {
                let vcpus = &self.vcpus;
                self.hosts[h]
                    .ready
                    .iter()
                    .flat_map(|q| q.iter())
                    .filter(|e| {
                        vcpus.try_get(e.0.slot).is_some_and(|v| {
                            v.uid == e.0.uid && v.epoch == e.0.epoch && v.state == VcpuState::Ready
                        })
                    })
                    .count() as u64
            };
            let host = &mut self.hosts[h];
            host.busy.advance(now);
            let area = host.busy.busy_area - host.busy.sampled_busy_area;
            host.busy.sampled_busy_area = host.busy.busy_area;
            let cap = host.pcpus.len() as f64 * interval.0 as f64;
            let mut s = std::mem::take(&mut self.sample);
            s.time = now;
            s.host = h as u32;
            s.busy_pcpus = host.busy.busy_count;
            s.cpu_utilization = area as f64 / cap;
            s.ready_vcpus = ready;
            s.blocked_vcpus = u64::from(host.blocked);
            s.admitted_vms = host.capacity.admitted;
            s.queued_vms = queued;
            s.working_set_mib = host.paging.working_set_mib;
            s.resident_mib = host
                .paging
                .working_set_mib
                .min(host.paging.resident_limit_mib);
            s.swap_ins = host.paging.swap_ins - host.paging.sampled_swap_ins;
            s.power_w = match host.busy.power.as_mut() {
                Some(p) => {
                    let w = (p.energy - p.sampled_energy) / interval.0 as f64;
                    p.sampled_energy = p.energy;
                    w
                }
                // ((0 − 0) / interval, as with a power model that draws nothing.)
                None => 0.0,
            };
            s.state = host.ops.state.name();
            host.paging.sampled_swap_ins = host.paging.swap_ins;
            s.devices.clear();
            for (i, d) in host.devices.iter_mut().enumerate() {
                let (utilization, completed) = d.sample(now, interval);
                s.devices.push(DeviceSample {
                    device: i as u32,
                    kind: d.kind_name,
                    busy_channels: d.busy,
                    queue_length: d.queue.len() as u64,
                    utilization,
                    completed,
                });
            }
            self.observer.on_sample(&s);
            self.sample = s;
        }
        // Keep sampling while anything can still happen.
        if !(self.arrivals_done && self.in_system == 0) {
            self.events
                .schedule(now, now.saturating_add(interval), Event::Sample)?;
        }
        Ok(())
    }
}
