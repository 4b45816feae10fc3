//! What admission books on hosts, kept in step with the placement index: every change of a
//! host's used vCPU slots or memory goes through [`Engine::reserve_capacity`] or
//! [`Engine::release_capacity`], which end in [`Engine::capacity_changed`]; a host leaves
//! or re-enters the set of hosts VMs may be placed on through
//! [`Engine::set_host_available`]. Placement asks [`Engine::place`], which answers from
//! the index (or, with one host, from the host itself).
//! Also the static facts arrivals check without looking at every host.

use crate::model::DeviceKind;
use crate::observer::Observer;

use super::ids::HostId;
use super::pcpus::{INLINE_PCPUS, Pcpu};
use super::placement_index::{HostFree, PlacementIndex};
use super::state::{Engine, Host};

/// The static facts about a cluster that an arrival checks: the largest empty hosts and
/// the device kinds every host has, so that an arrival costs nothing per host.
#[derive(Debug)]
pub(super) struct ClusterFacts {
    /// The maximal (vCPU cap, memory cap, vCPU limit of one VM) of the hosts: no other
    /// host's three are all at least one of these.
    shapes: Vec<(u64, u64, u32)>,
    /// Whether every host has a device of each kind (`[disk, nic]`).
    everywhere: [bool; 2],
}

impl ClusterFacts {
    pub(super) fn new(hosts: &[Host], gang: bool) -> Self {
        let mut shapes: Vec<(u64, u64, u32)> = hosts.iter().map(|h| shape(h, gang)).collect();
        shapes.sort_unstable_by(|a, b| b.cmp(a));
        shapes.dedup();
        // Keep the maximal ones: sorted by decreasing vCPU cap, a shape is dominated when
        // an earlier kept one has at least its memory and limit.
        let mut kept: Vec<(u64, u64, u32)> = Vec::new();
        for s in shapes {
            if !kept.iter().any(|k| k.1 >= s.1 && k.2 >= s.2) {
                kept.push(s);
            }
        }
        let everywhere = [DeviceKind::Disk, DeviceKind::Nic].map(|kind| {
            hosts
                .iter()
                .all(|h| h.devices.iter().any(|d| d.spec.kind == kind))
        });
        ClusterFacts {
            shapes: kept,
            everywhere,
        }
    }

    /// Whether some empty host could take a VM of `vcpus` vCPUs and `mem` MiB.
    #[inline]
    pub(super) fn fits_somewhere(&self, vcpus: u64, mem: u64) -> bool {
        let fits =
            |&(v, m, limit): &(u64, u64, u32)| vcpus <= v && mem <= m && vcpus <= u64::from(limit);
        // (One shape, as with identical hosts: no loop.)
        match &self.shapes[..] {
            [one] => fits(one),
            shapes => shapes.iter().any(fits),
        }
    }

    /// Whether every host has a device of `kind`.
    #[inline]
    pub(super) fn everywhere(&self, kind: DeviceKind) -> bool {
        self.everywhere[match kind {
            DeviceKind::Disk => 0,
            DeviceKind::Nic => 1,
        }]
    }
}

/// A host's (vCPU cap, memory cap, vCPU limit of one VM).
fn shape(h: &Host, gang: bool) -> (u64, u64, u32) {
    (h.capacity.vcpu_cap, h.capacity.mem_cap, limit(h, gang))
}

/// The most vCPUs one VM may have on `h`: its pCPUs under gang scheduling, else no limit.
fn limit(h: &Host, gang: bool) -> u32 {
    if gang { h.pcpus.len() as u32 } else { u32::MAX }
}

/// What the placement index knows of host `h`: its free vCPU slots and memory, and limit.
pub(super) fn host_free(h: &Host, gang: bool) -> HostFree {
    HostFree {
        vcpus: h.capacity.vcpu_cap.saturating_sub(h.capacity.used_vcpus),
        mem: h.capacity.mem_cap.saturating_sub(h.capacity.used_mem),
        limit: limit(h, gang),
    }
}

/// The placement index of freshly built hosts.
pub(super) fn new_index(
    placement: crate::model::Placement,
    hosts: &[Host],
    gang: bool,
) -> PlacementIndex {
    PlacementIndex::new(placement, hosts.iter().map(|h| host_free(h, gang)))
}

impl<'a, O: Observer> Engine<'a, O> {
    /// Host `h`'s used vCPU slots or memory changed: tells the placement index. Called by
    /// [`Self::reserve_capacity`] and [`Self::release_capacity`], the only writers.
    ///
    /// With one host there is nothing to choose between: [`Self::place`] and
    /// [`Self::max_free`] read the host's capacity directly and the index is not kept.
    #[inline(always)]
    pub(super) fn capacity_changed(&mut self, h: HostId) {
        if self.hosts.len() == 1 {
            return;
        }
        let f = host_free(&self.hosts[h], self.gang);
        self.placement_index.update(h.0 as usize, f.vcpus, f.mem);
    }

    /// Which host takes a VM of `vcpus` vCPUs and `mem` MiB now, by the placement rule
    /// (see `placement_index` for the rules, ties included).
    #[inline(always)]
    pub(super) fn place(&self, vcpus: u64, mem: u64) -> Option<HostId> {
        if let [only] = &self.hosts[..] {
            // Every rule takes the one host if it fits. (Its vCPU limit under gang
            // scheduling was checked at arrival: a VM above it was rejected.)
            let c = &only.capacity;
            return (self.only_host_open
                && c.vcpu_cap.saturating_sub(c.used_vcpus) >= vcpus
                && c.mem_cap.saturating_sub(c.used_mem) >= mem)
                .then_some(HostId(0));
        }
        self.placement_index
            .choose(vcpus, mem)
            .map(|h| HostId(h as u32))
    }

    /// The most free vCPU slots and the most free memory on any host placement may choose
    /// (maybe two different hosts): a VM larger than either fits nowhere. O(1).
    #[inline(always)]
    pub(super) fn max_free(&self) -> (u64, u64) {
        if let [only] = &self.hosts[..] {
            if !self.only_host_open {
                return (0, 0);
            }
            let f = host_free(only, self.gang);
            return (f.vcpus, f.mem);
        }
        self.placement_index.max_free()
    }

    /// Books a VM of `vcpus` vCPUs and `mem` MiB onto host `h`.
    #[inline(always)]
    pub(super) fn reserve_capacity(&mut self, h: HostId, vcpus: u64, mem: u64) {
        let c = &mut self.hosts[h].capacity;
        c.used_vcpus = c.used_vcpus.saturating_add(vcpus);
        c.used_mem = c.used_mem.saturating_add(mem);
        c.admitted += 1;
        self.capacity_changed(h);
    }

    /// Frees what [`Self::reserve_capacity`] booked for a VM leaving host `h`.
    #[inline(always)]
    pub(super) fn release_capacity(&mut self, h: HostId, vcpus: u64, mem: u64) {
        let c = &mut self.hosts[h].capacity;
        c.used_vcpus = c.used_vcpus.saturating_sub(vcpus);
        c.used_mem = c.used_mem.saturating_sub(mem);
        c.admitted -= 1;
        self.capacity_changed(h);
    }
}

/// About how many bytes of engine state the hosts of `config` take before any VM arrives:
/// each host's own state, its pCPUs, run queues, devices and NUMA nodes, and its share of
/// the placement index (the sizes of the engine's own types, plus allocation headers).
/// VMs in flight come on top (a few hundred bytes each).
pub fn estimated_host_bytes(config: &crate::model::SimConfig) -> u64 {
    use std::mem::size_of;
    // A heap allocation's header and rounding, roughly.
    const ALLOC: u64 = 16;
    let pinned = config.cpu.mapping == crate::model::Mapping::Pinned;
    // With power-off, the switched-off and booting hosts' indexes (first-fit: no sets).
    let wake = if config.datacenter.power_off_idle.is_some() {
        2 * (PlacementIndex::BYTES_PER_HOST - 48)
    } else {
        0
    };
    let mut total = 0u64;
    // (Per group of identical hosts, times its count.)
    for (h, count) in config.cluster.hosts.groups() {
        let pcpus = u64::from(h.pcpus);
        let devices = h.resources.devices.len() as u64 + 1;
        let queues = if pinned { pcpus } else { 1 };
        let nodes = u64::from(h.resources.numa_nodes.clamp(1, h.pcpus.max(1)));
        // (Per NUMA node only with more than one; a power model's curve and energy only
        // with one.)
        let numa = if nodes > 1 { nodes * 8 + ALLOC } else { 0 };
        let power = if h.resources.power.is_some() {
            size_of::<super::state::BusyPower>() as u64 + (pcpus + 1) * 8 + 2 * ALLOC
        } else {
            0
        };
        // (The first run queue, the first 64 pCPUs' idle bits and the first 16 pCPUs are
        // in the host.)
        let more_queues = (queues - 1) * size_of::<std::collections::BinaryHeap<u8>>() as u64;
        let more_words = (pcpus.div_ceil(64).max(1) - 1) * 8;
        // (The count of vCPUs pinned to each pCPU only with pinned vCPUs, in a slice per
        // host.)
        let pins = if pinned {
            size_of::<Box<[u32]>>() as u64 + pcpus * 4 + ALLOC
        } else {
            0
        };
        let extra = |bytes: u64| if bytes > 0 { bytes + ALLOC } else { 0 };
        let per_host = size_of::<Host>() as u64
            + extra(pcpus.saturating_sub(INLINE_PCPUS as u64) * size_of::<Pcpu>() as u64)
            + devices * size_of::<super::device::Device>() as u64
            + extra(more_queues)
            + extra(more_words)
            + pins
            + size_of::<super::state::HostOps>() as u64
            + 2 * ALLOC
            + numa
            + power
            + wake
            + PlacementIndex::BYTES_PER_HOST;
        total = total.saturating_add(per_host.saturating_mul(count as u64));
    }
    total
}

#[cfg(test)]
mod tests {
    use crate::model::SimConfig;

    /// The engine state of one plain 16-pCPU host (its own struct, pCPUs, swap device, run
    /// queue, bitmap, datacenter state, allocation headers and its share of the placement
    /// index), against the target of 1 KiB + 64 B per pCPU = 2,048 B.
    #[test]
    fn a_16_pcpu_host_takes_at_most_1_kib_plus_64_b_per_pcpu() {
        let config = SimConfig::single_host(16, 128 * 1024);
        let bytes = super::estimated_host_bytes(&config);
        eprintln!(
            "host {} B, pCPU {} B, device {} B, ops {} B: {bytes} B per 16-pCPU host",
            std::mem::size_of::<super::Host>(),
            std::mem::size_of::<super::super::pcpus::Pcpu>(),
            std::mem::size_of::<super::super::device::Device>(),
            std::mem::size_of::<super::super::state::HostOps>(),
        );
        assert!(bytes <= 1024 + 16 * 64, "{bytes} B");
    }

    /// The estimate is per group of identical hosts times its count: 1,000 hosts of one
    /// kind and 10 of another are 1,000 × one host + 10 × the other, however the hosts
    /// are grouped.
    #[test]
    fn the_estimate_is_per_host_whatever_the_grouping() {
        use crate::model::{HostSpec, HostSpecs};
        let mut config = SimConfig::single_host(16, 128 * 1024);
        let small = config.cluster.hosts[0].clone();
        let one_small = super::estimated_host_bytes(&config);
        let big = HostSpec::new(64, 512 * 1024);
        config.cluster.hosts = HostSpecs::repeated(big.clone(), 1);
        let one_big = super::estimated_host_bytes(&config);
        assert!(one_big > one_small);
        config.cluster.hosts = HostSpecs::repeated(small.clone(), 1000);
        config.cluster.hosts.push_n(big.clone(), 10);
        assert_eq!(
            super::estimated_host_bytes(&config),
            1000 * one_small + 10 * one_big
        );
        // The same hosts one by one, with host 500 split into a group of its own.
        let mut split: HostSpecs = (0..1000)
            .map(|_| small.clone())
            .chain((0..10).map(|_| big.clone()))
            .collect();
        split[500].pcpus = 16;
        assert_eq!(split.group_count(), 4);
        config.cluster.hosts = split;
        assert_eq!(
            super::estimated_host_bytes(&config),
            1000 * one_small + 10 * one_big
        );
    }
}
