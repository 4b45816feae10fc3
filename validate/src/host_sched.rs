//! `vmsched validate --host-scheduler`: what needs no KVM. Linux's own scheduler shares
//! the pCPUs among one thread per vCPU; this module says how the scenario's weights and
//! caps become cgroup files or nice values, which scenarios and options the mode accepts,
//! and how an error is split between weight, cap and slice.
//!
//! * **Weights.** One cgroup per VM. Under cgroup v1 its `cpu.shares` is the VM's weight
//!   times its vCPUs (the VM's threads share the group's weight; Linux's shares are on the
//!   scale of thread weights, 1024 = nice 0), clamped to [2, 262 144]. Under cgroup v2 its
//!   `cpu.weight` is the same on v2's scale (100 = 1024), rounded and clamped to
//!   [1, 10 000]. Without a writable cgroup, each thread gets the nice value whose Linux
//!   weight is nearest (in ratio) to the VM's weight ([`nice_for_weight`]).
//! * **Caps.** The group's CFS bandwidth: `cpu.cfs_quota_us` = cap × `cpu.cfs_period_us`
//!   (v1) or `cpu.max` = `"quota period"` (v2), the period being the scenario's
//!   `[cpu] cap_period_ms`. Without a cgroup a cap cannot be applied and is refused.
//! * **Admission.** Linux does not admit: every thread runs from its VM's arrival. A
//!   scenario whose simulated admission would make a VM wait is refused
//!   ([`check_admission`]); give the host enough `overcommit` for every VM at once.

use sim::{SimConfig, VmRecord, VmRequest};

/// Linux's `sched_prio_to_weight` through `sim`: the weight of `nice`.
fn weight_of(nice: i32) -> f64 {
    f64::from(sim::nice_to_weight(i64::from(nice)).unwrap_or(sim::DEFAULT_WEIGHT))
}

/// The nice value (−20 … 19) whose Linux weight is nearest to `weight` in ratio
/// (|log(weight_of(nice) / weight)| smallest; the lower nice on a tie).
pub fn nice_for_weight(weight: u32) -> i32 {
    let w = f64::from(weight.max(1));
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for nice in -20..=19 {
        let d = (weight_of(nice) / w).ln().abs();
        if d < best_d - 1e-12 {
            best = nice;
            best_d = d;
        }
    }
    best
}

/// Which cgroup hierarchy holds the `cpu` controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CgroupKind {
    /// Cgroup v1: `cpu.shares`, `cpu.cfs_quota_us` / `cpu.cfs_period_us`, threads moved by
    /// writing their ids to `tasks`.
    V1,
    /// Cgroup v2: `cpu.weight`, `cpu.max`, threaded groups (`cgroup.type = threaded`,
    /// threads moved through `cgroup.threads`).
    V2,
}

/// Where the `cpu` controller is mounted, from `/proc/self/mountinfo`'s text: a v1
/// `cgroup` mount whose super options name `cpu`, else a `cgroup2` mount (whether it has
/// the controller is checked on the file system).
pub fn find_cpu_controller(mountinfo: &str) -> Option<(CgroupKind, String)> {
    let mut v2 = None;
    for line in mountinfo.lines() {
        // "36 25 0:31 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu"
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount_point = left.split_whitespace().nth(4);
        let mut r = right.split_whitespace();
        let (fstype, _source, opts) = (r.next(), r.next(), r.next().unwrap_or(""));
        let Some(mp) = mount_point else { continue };
        match fstype {
            Some("cgroup") if opts.split(',').any(|o| o == "cpu") => {
                return Some((CgroupKind::V1, mp.to_string()));
            }
            Some("cgroup2") if v2.is_none() => v2 = Some((CgroupKind::V2, mp.to_string())),
            _ => {}
        }
    }
    v2
}

/// One VM's cgroup settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupSettings {
    /// The weight of each vCPU (scenario `weight`/`nice`).
    pub weight: u32,
    /// vCPUs.
    pub vcpus: u32,
    /// Cap in millionths of a pCPU (0: none).
    pub cap_ppm: u32,
    /// Cap period, µs.
    pub period_us: u64,
}

impl GroupSettings {
    /// The settings of request `r` with the cap period `period_us`.
    pub fn of(r: &VmRequest, period_us: u64) -> GroupSettings {
        GroupSettings {
            weight: r.profile.weight,
            vcpus: r.vcpus.max(1),
            cap_ppm: r.profile.cpu_cap_ppm,
            period_us,
        }
    }

    /// The group's quota per period, µs (`None`: no cap). At least 1000 µs, Linux's
    /// smallest quota.
    pub fn quota_us(&self) -> Option<u64> {
        (self.cap_ppm > 0).then(|| {
            let q = (u128::from(self.cap_ppm) * u128::from(self.period_us) + 500_000) / 1_000_000;
            u64::try_from(q).unwrap_or(u64::MAX).max(1000)
        })
    }

    /// The files to write in the VM's group, in order, as (file name, contents).
    pub fn files(&self, kind: &CgroupKind) -> Vec<(&'static str, String)> {
        let total = u64::from(self.weight.max(1)) * u64::from(self.vcpus.max(1));
        match kind {
            CgroupKind::V1 => {
                let mut f = vec![("cpu.shares", total.clamp(2, 262_144).to_string())];
                if let Some(q) = self.quota_us() {
                    // The period first: the quota is checked against it.
                    f.push(("cpu.cfs_period_us", self.period_us.to_string()));
                    f.push(("cpu.cfs_quota_us", q.to_string()));
                }
                f
            }
            CgroupKind::V2 => {
                let w = ((total as f64) * 100.0 / 1024.0)
                    .round()
                    .clamp(1.0, 10_000.0) as u64;
                let max = match self.quota_us() {
                    Some(q) => format!("{q} {}", self.period_us),
                    None => format!("max {}", self.period_us),
                };
                vec![("cpu.weight", w.to_string()), ("cpu.max", max)]
            }
        }
    }
}

/// Checks that the threads can reproduce the scenario: one host, floating vCPUs, CPU-bound
/// VMs (no I/O: a device of the VMM would not be Linux's scheduling; memory that pages to
/// swap is refused after the simulation as in the replay). Messages name the key.
pub fn check_scenario(config: &SimConfig, requests: &[VmRequest]) -> Result<(), String> {
    if config.cluster.hosts.len() != 1 {
        return Err(format!(
            "hosts: --host-scheduler runs one host; the scenario has {}",
            config.cluster.hosts.len()
        ));
    }
    if config.cpu.mapping == sim::Mapping::Pinned {
        return Err(
            "cpu.mapping: --host-scheduler lets Linux place the threads on the \
                    scenario's cores (floating); `pinned` is not reproduced"
                .into(),
        );
    }
    if let Some(r) = requests.iter().find(|r| r.profile.io.is_some()) {
        return Err(format!(
            "workload.io: --host-scheduler replays CPU-bound VMs only (VM {} does I/O, which \
             the vCPU threads do not reproduce; drop `[workload] io` and --io-per-vm)",
            r.id
        ));
    }
    Ok(())
}

/// Checks the simulated admissions: Linux starts every thread at its VM's arrival, so a
/// VM the simulator keeps waiting for admission cannot be reproduced.
pub fn check_admission(predicted: &[VmRecord]) -> Result<(), String> {
    if let Some(r) = predicted.iter().find(|r| r.admission > r.arrival) {
        return Err(format!(
            "hosts.overcommit: --host-scheduler starts every VM at its arrival (Linux does not \
             admit), but VM {} waits {:.3} s for admission in the simulator: give the host \
             enough vCPU slots (`overcommit`) for every VM at once",
            r.id,
            r.admission.saturating_sub(r.arrival).as_secs_f64()
        ));
    }
    Ok(())
}

/// The `--host-scheduler` rule for `--policies`: `fair` (any admission) is replayed by
/// Linux; the other policies by the user-space replay as without the flag, so that the
/// ranking can be compared. A list without `fair` is an error. Returns, per policy,
/// whether Linux replays it.
pub fn host_policies(cpus: &[String]) -> Result<Vec<bool>, String> {
    let host: Vec<bool> = cpus.iter().map(|c| c == "fair").collect();
    if !host.iter().any(|&h| h) {
        return Err(format!(
            "--host-scheduler replays `fair` with Linux's scheduler (weights through cgroups \
             or nice), but --policies has no `fair` ({}): add it (other policies are replayed \
             by the user-space scheduler beside it)",
            cpus.join(",")
        ));
    }
    Ok(host)
}

/// The CPU share a VM had while it was in the system: CPU time per vCPU over its
/// residence (first run to finish), in [0, 1].
pub fn share(r: &VmRecord) -> f64 {
    let res = r.finish.saturating_sub(r.first_run).as_secs_f64();
    if res > 0.0 {
        (r.service.as_secs_f64() / res).min(1.0)
    } else {
        f64::NAN
    }
}

/// One VM's error split by the part of the host model it comes from (s, predicted −
/// measured; with `work_s` the four add up to the turnaround error).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Drivers {
    /// CPU work: predicted − measured CPU time.
    pub work_s: f64,
    /// The cap: predicted − measured throttled time.
    pub cap_s: f64,
    /// The slice: the part of the remaining waiting error that the slice accounts for (at
    /// most, in size, how much the prediction moves when the slice goes to 0, i.e. under
    /// weighted processor sharing; same sign as that error).
    pub slice_s: f64,
    /// The weights: the rest of the waiting error (the share the VM got while it
    /// contended, which weights set).
    pub weight_s: f64,
}

impl Drivers {
    /// Splits `predicted.turnaround − measured.turnaround`; `gps_turnaround_s` is the
    /// VM's predicted turnaround with the slice going to 0.
    pub fn of(m: &VmRecord, p: &VmRecord, gps_turnaround_s: f64) -> Drivers {
        let s = |t: sim::SimTime| t.as_secs_f64();
        let total = s(p.turnaround()) - s(m.turnaround());
        let work_s = s(p.service) - s(m.service);
        let cap_s = s(p.throttled) - s(m.throttled);
        let wait = total - work_s - cap_s;
        let sens = (s(p.turnaround()) - gps_turnaround_s).abs();
        let slice_s = wait.signum() * wait.abs().min(sens);
        Drivers {
            work_s,
            cap_s,
            slice_s,
            weight_s: wait - slice_s,
        }
    }

    /// The part of the model with the largest error: `weight`, `cap`, `slice` or `work`.
    pub fn main(&self) -> &'static str {
        let parts = [
            ("weight", self.weight_s),
            ("cap", self.cap_s),
            ("slice", self.slice_s),
            ("work", self.work_s),
        ];
        parts
            .iter()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map_or("weight", |p| p.0)
    }
}

/// One VM of one host-scheduler round: its weight and cap, the share and throttled time
/// measured and predicted, and its error split ([`Drivers`]).
#[derive(Clone, Debug, PartialEq)]
pub struct HostRow {
    /// Round (from 1).
    pub round: usize,
    /// VM id.
    pub id: u64,
    /// Weight of each vCPU.
    pub weight: u32,
    /// Cap in pCPUs (0: none).
    pub cap: f64,
    /// Measured CPU share while in the system ([`share`]).
    pub measured_share: f64,
    /// Predicted share.
    pub predicted_share: f64,
    /// Measured throttled time (s).
    pub measured_throttled_s: f64,
    /// Predicted throttled time (s).
    pub predicted_throttled_s: f64,
    /// (predicted − measured) / measured turnaround, percent.
    pub turnaround_error_pct: f64,
    /// The error split.
    pub drivers: Drivers,
}

/// The rows of one round: VMs present in `measured`, `predicted` and `gps` (the
/// prediction with the slice going to 0), in id order.
pub fn host_rows(
    round: usize,
    requests: &[VmRequest],
    measured: &[VmRecord],
    predicted: &[VmRecord],
    gps: &[VmRecord],
) -> Vec<HostRow> {
    let mut m: Vec<&VmRecord> = measured.iter().collect();
    m.sort_by_key(|r| r.id);
    let s = |t: sim::SimTime| t.as_secs_f64();
    m.into_iter()
        .filter_map(|mr| {
            let p = predicted.iter().find(|p| p.id == mr.id)?;
            let g = gps.iter().find(|g| g.id == mr.id)?;
            let req = requests.iter().find(|r| r.id == mr.id)?;
            let mt = s(mr.turnaround());
            Some(HostRow {
                round,
                id: mr.id,
                weight: req.profile.weight,
                cap: f64::from(req.profile.cpu_cap_ppm) * 1e-6,
                measured_share: share(mr),
                predicted_share: share(p),
                measured_throttled_s: s(mr.throttled),
                predicted_throttled_s: s(p.throttled),
                turnaround_error_pct: if mt > 0.0 {
                    100.0 * (s(p.turnaround()) - mt) / mt
                } else {
                    f64::NAN
                },
                drivers: Drivers::of(mr, p, s(g.turnaround())),
            })
        })
        .collect()
}

/// Column names of `host-scheduler.csv`.
pub const HOST_HEADER: &str = "round,id,weight,cap,measured_share,predicted_share,\
measured_throttled_s,predicted_throttled_s,turnaround_error_pct,error_work_s,error_cap_s,\
error_slice_s,error_weight_s,driver";

/// `host-scheduler.csv`: one row per round and VM.
pub fn host_csv(rows: &[HostRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(HOST_HEADER);
    out.push('\n');
    for r in rows {
        let d = &r.drivers;
        let _ = writeln!(
            out,
            "{},{},{},{},{:.6},{:.6},{:.9},{:.9},{:.4},{:.9},{:.9},{:.9},{:.9},{}",
            r.round,
            r.id,
            r.weight,
            r.cap,
            r.measured_share,
            r.predicted_share,
            r.measured_throttled_s,
            r.predicted_throttled_s,
            r.turnaround_error_pct,
            d.work_s,
            d.cap_s,
            d.slice_s,
            d.weight_s,
            d.main()
        );
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| !x.is_nan());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    crate::profile::quantile(&v, 0.5)
}

/// The per-VM table of the host-scheduler rounds `rows` (medians over rounds), and how
/// many VMs each part of the model drives.
pub fn host_text(rows: &[HostRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if rows.is_empty() {
        return "host scheduler: no round kept\n".into();
    }
    let mut ids: Vec<u64> = rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let _ = writeln!(
        out,
        "host scheduler, per VM (medians over kept rounds; error parts in ms, predicted − measured):"
    );
    let _ = writeln!(
        out,
        "{:>5} {:>6} {:>5} {:>8} {:>8} {:>9} {:>9} {:>8} {:>7} {:>7} {:>7} {:>7}  driver",
        "vm",
        "weight",
        "cap",
        "share_m",
        "share_p",
        "thr_m_s",
        "thr_p_s",
        "TA_err%",
        "work",
        "cap",
        "slice",
        "weight"
    );
    let mut counts = [0usize; 4];
    let names = ["weight", "cap", "slice", "work"];
    for id in ids {
        let mine: Vec<&HostRow> = rows.iter().filter(|r| r.id == id).collect();
        let med = |f: fn(&HostRow) -> f64| median(mine.iter().map(|r| f(r)).collect());
        let d = Drivers {
            work_s: med(|r| r.drivers.work_s),
            cap_s: med(|r| r.drivers.cap_s),
            slice_s: med(|r| r.drivers.slice_s),
            weight_s: med(|r| r.drivers.weight_s),
        };
        let main = d.main();
        if let Some(i) = names.iter().position(|n| *n == main) {
            counts[i] += 1;
        }
        let _ = writeln!(
            out,
            "{:>5} {:>6} {:>5.2} {:>8.3} {:>8.3} {:>9.3} {:>9.3} {:>+8.2} {:>+7.1} {:>+7.1} {:>+7.1} {:>+7.1}  {main}",
            id,
            mine[0].weight,
            mine[0].cap,
            med(|r| r.measured_share),
            med(|r| r.predicted_share),
            med(|r| r.measured_throttled_s),
            med(|r| r.predicted_throttled_s),
            med(|r| r.turnaround_error_pct),
            d.work_s * 1e3,
            d.cap_s * 1e3,
            d.slice_s * 1e3,
            d.weight_s * 1e3,
        );
    }
    let _ = writeln!(
        out,
        "largest error part per VM: weight {}, cap {}, slice {}, work {}",
        counts[0], counts[1], counts[2], counts[3]
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

    #[test]
    fn nearest_nice() {
        // Exact table entries map back to their nice value.
        assert_eq!(nice_for_weight(1024), 0);
        assert_eq!(nice_for_weight(88761), -20);
        assert_eq!(nice_for_weight(15), 19);
        assert_eq!(nice_for_weight(820), 1);
        // 2048 lies between nice −3 (1991, ratio 1.0286) and −4 (2501, 1.2212): −3.
        assert_eq!(nice_for_weight(2048), -3);
        // 512 between nice 3 (526, ratio 1.027) and 4 (423, 1.210): 3.
        assert_eq!(nice_for_weight(512), 3);
        // Out of the table: its ends.
        assert_eq!(nice_for_weight(1), 19);
        assert_eq!(nice_for_weight(u32::MAX), -20);
    }

    #[test]
    fn v1_files() {
        let g = GroupSettings {
            weight: 2048,
            vcpus: 1,
            cap_ppm: 500_000,
            period_us: 100_000,
        };
        // Half a pCPU of 100 ms: 50 ms of quota; the period written before the quota.
        assert_eq!(
            g.files(&CgroupKind::V1),
            vec![
                ("cpu.shares", "2048".to_string()),
                ("cpu.cfs_period_us", "100000".to_string()),
                ("cpu.cfs_quota_us", "50000".to_string()),
            ]
        );
        // No cap: shares only; two vCPUs of weight 1024 share 2048; clamped to [2, 262144].
        let u = GroupSettings {
            weight: 1024,
            vcpus: 2,
            cap_ppm: 0,
            period_us: 100_000,
        };
        assert_eq!(
            u.files(&CgroupKind::V1),
            vec![("cpu.shares", "2048".into())]
        );
        let big = GroupSettings {
            weight: 88761,
            vcpus: 4,
            ..u
        };
        assert_eq!(big.files(&CgroupKind::V1)[0].1, "262144");
        // 0.1 % of a 100 ms period is 100 µs, raised to Linux's 1 ms minimum.
        let tiny = GroupSettings { cap_ppm: 1000, ..g };
        assert_eq!(tiny.quota_us(), Some(1000));
    }

    #[test]
    fn v2_files() {
        let g = GroupSettings {
            weight: 512,
            vcpus: 1,
            cap_ppm: 250_000,
            period_us: 50_000,
        };
        // 512 × 100 / 1024 = 50; a quarter of 50 ms = 12.5 ms.
        assert_eq!(
            g.files(&CgroupKind::V2),
            vec![
                ("cpu.weight", "50".to_string()),
                ("cpu.max", "12500 50000".to_string())
            ]
        );
        let u = GroupSettings { cap_ppm: 0, ..g };
        assert_eq!(u.files(&CgroupKind::V2)[1].1, "max 50000");
        // 15 × 100 / 1024 = 1.46 → 1; the top clamps to 10 000.
        let light = GroupSettings { weight: 15, ..u };
        assert_eq!(light.files(&CgroupKind::V2)[0].1, "1");
        let heavy = GroupSettings {
            weight: 88761,
            vcpus: 2,
            ..u
        };
        assert_eq!(heavy.files(&CgroupKind::V2)[0].1, "10000");
    }

    #[test]
    fn mountinfo() {
        let v1 = "24 1 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
                  25 24 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                  26 24 0:24 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n\
                  27 24 0:25 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(
            find_cpu_controller(v1),
            Some((CgroupKind::V1, "/sys/fs/cgroup/cpu".into()))
        );
        // `cpu,cpuacct` co-mounted also counts; `cpuacct` alone does not.
        let co = "27 24 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        assert_eq!(find_cpu_controller(co).map(|c| c.0), Some(CgroupKind::V1));
        let v2 = "30 1 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            find_cpu_controller(v2),
            Some((CgroupKind::V2, "/sys/fs/cgroup".into()))
        );
        assert_eq!(find_cpu_controller("garbage\n"), None);
    }

    #[test]
    fn policies_need_fair() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            host_policies(&s(&["fair", "fcfs"])).unwrap(),
            vec![true, false]
        );
        let e = host_policies(&s(&["fcfs", "sjf"])).unwrap_err();
        assert!(e.contains("no `fair`") && e.contains("fcfs,sjf"), "{e}");
    }

    fn rec(arrival_ms: u64, finish_ms: u64, service_ms: u64, throttled_ms: u64) -> VmRecord {
        VmRecord {
            arrival: SimTime::from_millis(arrival_ms),
            admission: SimTime::from_millis(arrival_ms),
            first_run: SimTime::from_millis(arrival_ms),
            finish: SimTime::from_millis(finish_ms),
            service: SimTime::from_millis(service_ms),
            throttled: SimTime::from_millis(throttled_ms),
            ..VmRecord::default()
        }
    }

    #[test]
    fn drivers_add_up() {
        // Measured: 1 s of CPU in 3 s with 0.5 s throttled; predicted: 1.1 s of CPU in
        // 3.6 s with 0.8 s throttled. Error 0.6 s = work 0.1 + cap 0.3 + waiting 0.2;
        // the slice moves the prediction by 0.05 s (GPS: 3.55 s), so slice 0.05, weight 0.15.
        let m = rec(0, 3000, 1000, 500);
        let p = rec(0, 3600, 1100, 800);
        let d = Drivers::of(&m, &p, 3.55);
        assert!((d.work_s - 0.1).abs() < 1e-9);
        assert!((d.cap_s - 0.3).abs() < 1e-9);
        assert!((d.slice_s - 0.05).abs() < 1e-9);
        assert!((d.weight_s - 0.15).abs() < 1e-9);
        assert_eq!(d.main(), "cap");
        assert!((d.work_s + d.cap_s + d.slice_s + d.weight_s - 0.6).abs() < 1e-9);
        // 1 s of CPU over 3 s of residence.
        assert!((share(&m) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn admission_must_not_queue() {
        let mut r = rec(100, 900, 500, 0);
        assert!(check_admission(std::slice::from_ref(&r)).is_ok());
        r.admission = SimTime::from_millis(350);
        r.id = 4;
        let e = check_admission(&[r]).unwrap_err();
        assert!(
            e.starts_with("hosts.overcommit:") && e.contains("VM 4 waits 0.250 s"),
            "{e}"
        );
    }

    #[test]
    fn scenarios_the_threads_cannot_reproduce() {
        let text = "[run]\nvms = 3\n[[hosts]]\npcpus = 1\nmemory_gib = 8\novercommit = 8\n\
                    [workload]\narrival = { process = \"poisson\", rate_per_s = 1.0 }\n\
                    service = { dist = \"lognormal\", mean_s = 0.5, cv = 0.5 }\n";
        let sc = workloads::Scenario::from_toml_str(text, "s.toml").unwrap();
        let mut config = sc.sim_config().unwrap();
        let mut reqs: Vec<VmRequest> = sc.workload(0).unwrap().collect();
        assert!(check_scenario(&config, &reqs).is_ok());
        reqs[1].profile.io = Some(sim::IoProfile {
            bursts: sim::IoBursts::Count(2),
            size_mean_bytes: 0.0,
            device: sim::DeviceKind::Disk,
            virtual_device: sim::VirtualDevice::Virtio,
        });
        let e = check_scenario(&config, &reqs).unwrap_err();
        assert!(e.starts_with("workload.io:") && e.contains("VM 1"), "{e}");
        reqs[1].profile.io = None;
        config.cpu.mapping = sim::Mapping::Pinned;
        let e = check_scenario(&config, &reqs).unwrap_err();
        assert!(e.starts_with("cpu.mapping:"), "{e}");
    }
}
