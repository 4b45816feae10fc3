//! `vmsched calibrate` and `vmsched validate`: the real-KVM side (crate `validate`).
//!
//! Both exit with status 2 and a one-line message when KVM cannot be used here (no
//! `/dev/kvm`, no permission, or built without the `kvm` feature).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// `vmsched calibrate`.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Where to write the profile.
    #[arg(long, default_value = "profile.toml")]
    out: PathBuf,
    /// Host CPU to measure on (default: the first allowed CPU).
    #[arg(long)]
    core: Option<usize>,
    /// Repetitions of each micro-benchmark.
    #[arg(long, default_value_t = 11)]
    reps: usize,
    /// Run the measuring threads under nice −20 (shields them from other processes on
    /// the core; needs the permission).
    #[arg(long)]
    boost: bool,
}

/// `vmsched validate`.
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Scenario file (TOML; one host). Without it, the default validation scenario: 20
    /// CPU-bound VMs on one pCPU (`validate/scenarios/default.toml`).
    scenario: Option<PathBuf>,
    /// Comma-separated policies (a CPU policy name, or ADMISSION/CPU; default
    /// `fcfs,sjf,priority`, or `fair` with --host-scheduler).
    #[arg(long, value_delimiter = ',')]
    policies: Vec<String>,
    /// Replay `fair` with Linux's own scheduler: one host thread per vCPU enters KVM_RUN on
    /// the pCPUs' cores, weights through one cgroup per VM (`cpu.shares` or `cpu.weight`;
    /// nice values when no cgroup is writable), caps through its CFS quota. The other
    /// policies of --policies are replayed by the user-space scheduler as without it.
    /// CPU-bound scenarios only; every VM must be admitted at its arrival.
    #[arg(long)]
    host_scheduler: bool,
    /// Calibration profile (from `vmsched calibrate`): context-switch, VM-exit and
    /// first-touch costs, device oversleep, per-VM overhead (overrides `[[hosts]]
    /// profile`). Without either, an ideal host.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Results folder.
    #[arg(long, default_value = "validation")]
    out: PathBuf,
    /// Host CPUs of the pCPUs, comma-separated (default: the first allowed CPUs, as many
    /// as the scenario's host has pCPUs).
    #[arg(long, value_delimiter = ',')]
    cores: Vec<usize>,
    /// Multiply every time of the workload by this (default: whatever makes one policy's
    /// replay last about --target-s seconds, or 1 if shorter).
    #[arg(long)]
    scale: Option<f64>,
    /// Target length of one policy's replay, seconds (when --scale is not given).
    #[arg(long, default_value_t = 15.0)]
    target_s: f64,
    /// Master seed (overrides `[run] seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// VMs (overrides `[run] vms`).
    #[arg(long)]
    vms: Option<u64>,
    /// Run the threads that enter the vCPUs (one per pCPU) under nice −20.
    #[arg(long)]
    boost: bool,
    /// How CPU demand becomes guest work: `tsc` = spin until the vCPU has run for the
    /// demand (TSC time; robust to the core's speed changing), `loops` = a loop count
    /// calibrated just before each replay (exposed to speed changes).
    #[arg(long, value_parser = ["tsc", "loops"], default_value = "tsc")]
    work: String,
    /// With `--work tsc`: a stall longer than this (µs) is time the vCPU was not running
    /// and is not counted as work; shorter ones are (keep it below the quantum).
    #[arg(long, default_value_t = 1000.0)]
    tsc_gap_us: f64,
    /// Working set each VM touches at its start, MiB (first-touch memory): sets
    /// `[workload] memory` of a scenario that has none.
    #[arg(long, default_value_t = 0.0)]
    touch_mib: f64,
    /// I/O requests per vCPU (its demand is split into equal bursts around them): sets
    /// `[workload] io = { requests = N }` and a one-channel disk of latency --io-ms on a
    /// scenario that has no I/O.
    #[arg(long, default_value_t = 0)]
    io_per_vm: u32,
    /// Service time of one I/O request with --io-per-vm (a sleep), milliseconds.
    #[arg(long, default_value_t = 5.0)]
    io_ms: f64,
    /// Serve I/O by real 4 KiB writes + fdatasync on a temporary file instead of a sleep.
    #[arg(long)]
    io_file: bool,
    /// A vCPU that runs this many seconds of guest time without finishing is stopped.
    #[arg(long, default_value_t = 60.0)]
    timeout_s: f64,
    /// Measure the vCPU switch and first-touch costs (at the workload's working-set size)
    /// right before each policy's replay and simulate with those instead of the profile's
    /// (needs a profile for the other costs). With `--costs replay` (the default) the
    /// switch cost is the replay's own anyway; only the first-touch measurement then
    /// matters, and only when the host's first-touch cost drifts between calibration and
    /// validation.
    #[arg(long)]
    window_calibration: bool,
    /// Replays of each policy, interleaved (fcfs, sjf, priority, fcfs, …); every error is
    /// reported as the median over the rounds not disturbed by the host, with its min–max.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Replay a policy's round again, up to this many times, when host interference
    /// flagged it (the flagged replays stay in the results, excluded).
    #[arg(long, default_value_t = 0)]
    retry_flagged: usize,
    /// Which switch and device costs the simulator charges: `replay` = the ones the replay
    /// itself paid (mean `start − dispatch` over its slices, mean service per I/O request;
    /// needs a profile for the other costs), `profile` = the calibration profile's.
    #[arg(long, value_parser = ["replay", "profile"], default_value = "replay")]
    costs: String,
    /// A replay is flagged as disturbed when the steal time of its pCPU cores exceeds
    /// this share of its wall time, percent.
    #[arg(long, default_value_t = 2.0)]
    max_steal_pct: f64,
    /// … or when other processes got more than this share of its pCPU cores, percent.
    #[arg(long, default_value_t = 2.0)]
    max_others_pct: f64,
    /// … or, with `--work loops`, when the native loop rate changed by more than this from
    /// before to after the replay, percent. With `--work tsc` (the default) the guest spins
    /// for TSC time, so the core's speed does not change how long a burst takes: the drift
    /// is reported but flags nothing.
    #[arg(long, default_value_t = 5.0)]
    max_drift_pct: f64,
}

/// Prints a KVM-unavailable error and exits with status 2.
fn exit_unavailable(e: &validate::Error) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2)
}

/// Maps a `validate` error: unavailability exits with 2, anything else is returned.
fn check(e: validate::Error) -> anyhow::Error {
    if e.is_unavailable() {
        exit_unavailable(&e);
    }
    anyhow::Error::new(e)
}

pub fn calibrate(args: CalibrateArgs) -> Result<()> {
    validate::kvm_available().map_err(check)?;
    imp::calibrate(args)
}

pub fn validate(args: ValidateArgs) -> Result<()> {
    if args.rounds == 0 {
        anyhow::bail!("--rounds must be at least 1 (each policy is replayed that many times)");
    }
    validate::kvm_available().map_err(check)?;
    imp::validate(args)
}

#[cfg(all(feature = "kvm", target_os = "linux"))]
mod imp {
    use super::*;
    use anyhow::Context;
    use std::fmt::Write as _;
    use std::time::Duration;

    use reports::{SlicesCsv, VmsCsv, write_atomic};
    use validate::compare;
    use validate::host_sched::{HostRow, host_csv, host_policies, host_rows, host_text};
    use validate::interference::Thresholds;
    use validate::kvm::calibrate::CalibrateOptions;
    use validate::kvm::host_validation::run_host_policy;
    use validate::kvm::replay::DeviceMode;
    use validate::kvm::validation::{
        PolicyRun, ValidateOptions, ends_only_the_round, round_result, run_policy,
    };
    use validate::profile::Profile;
    use validate::rounds::RoundResult;
    use workloads::Scenario;

    fn split_cores(cores: Vec<usize>, n: usize) -> Result<(Vec<usize>, Vec<usize>)> {
        let allowed = validate::kvm::allowed_cpus();
        let cores = if cores.is_empty() {
            allowed.iter().copied().take(n).collect()
        } else {
            cores
        };
        if cores.len() != n {
            anyhow::bail!(
                "the host has {n} pCPU(s) but {} core(s) are available or given (--cores)",
                cores.len()
            );
        }
        let hk = allowed.into_iter().filter(|c| !cores.contains(c)).collect();
        Ok((cores, hk))
    }

    pub fn calibrate(args: CalibrateArgs) -> Result<()> {
        let kvm = validate::kvm::open().map_err(check)?;
        let (cores, housekeeping) = split_cores(args.core.into_iter().collect(), 1)?;
        let opts = CalibrateOptions {
            core: cores[0],
            housekeeping,
            reps: args.reps,
            boost: args.boost,
            ..CalibrateOptions::default()
        };
        let p = validate::kvm::calibrate::calibrate(&kvm, &opts, |step| {
            eprintln!("measuring {step} …")
        })?;
        write_atomic(&args.out, p.to_toml_string()?.as_bytes())?;
        let row = |name: &str, s: &validate::profile::Stat, unit: &str| {
            outln!(
                "{name:<28} {:>14.3} {unit:<8} (p10 {:.3}, p90 {:.3}, p99 {:.3}, mean {:.3}, n {})",
                s.median,
                s.p10,
                s.p90,
                s.p99,
                s.mean,
                s.n
            )
        };
        row("native loop rate", &scale(&p.native_loop_rate, 1e-6), "M/s");
        row("guest loop rate", &scale(&p.guest_loop_rate, 1e-6), "M/s");
        row("guest / native speed", &p.cpu_speed, "");
        row("exit round trip", &p.exit_round_trip_us, "µs");
        row("first touch (fresh)", &p.first_touch_us, "µs/page");
        row(
            "first touch (prefaulted)",
            &p.first_touch_prefaulted_us,
            "µs/page",
        );
        row("vCPU switch (kick)", &p.vcpu_switch_us, "µs");
        row("vCPU switch (at I/O)", &p.vcpu_switch_io_us, "µs");
        row("kick latency", &p.kick_latency_us, "µs");
        row("VM first run (empty)", &p.vm_first_run_us, "µs");
        row("VM create", &p.vm_create_us, "µs");
        row("VM destroy", &p.vm_destroy_us, "µs");
        row("device: 500 µs sleep", &p.device_sleep_us, "µs");
        row("device: 4 KiB write+sync", &p.device_file_us, "µs");
        row("host scheduler slice", &p.host_slice_us, "µs");
        row("host scheduler switch", &p.host_switch_us, "µs");
        eprintln!("profile written to {}", args.out.display());
        Ok(())
    }

    fn scale(s: &validate::profile::Stat, f: f64) -> validate::profile::Stat {
        validate::profile::Stat {
            median: s.median * f,
            p10: s.p10 * f,
            p90: s.p90 * f,
            p99: s.p99 * f,
            mean: s.mean * f,
            min: s.min * f,
            max: s.max * f,
            n: s.n,
        }
    }

    /// `--touch-mib` and `--io-per-vm`: the same working set and I/O in the scenario, so
    /// that the simulator sees what the replay does.
    fn add_flag_workload(scenario: &mut Scenario, args: &ValidateArgs) -> Result<()> {
        use workloads::resources::{DeviceSettings, IoSettings, MemorySettings};
        if args.touch_mib > 0.0 {
            if scenario.workload.memory.is_some() {
                anyhow::bail!("--touch-mib: the scenario already sets `[workload] memory`");
            }
            scenario.workload.memory = Some(MemorySettings {
                working_set_gib: args.touch_mib / 1024.0,
                touches_per_ms: 0.0,
                dirty_mib_per_s: 0.0,
            });
        }
        if args.io_per_vm > 0 {
            if scenario.workload.io.is_some() {
                anyhow::bail!("--io-per-vm: the scenario already sets `[workload] io`");
            }
            if !(args.io_ms.is_finite() && args.io_ms >= 0.0) {
                anyhow::bail!("--io-ms must be a number ≥ 0, got {}", args.io_ms);
            }
            let Some(h) = scenario.hosts.first_mut() else {
                anyhow::bail!("the scenario has no host");
            };
            if h.devices.iter().any(|d| d.kind == sim::DeviceKind::Disk) {
                anyhow::bail!("--io-per-vm: the scenario's host already has a disk");
            }
            h.devices.insert(
                0,
                DeviceSettings {
                    kind: sim::DeviceKind::Disk,
                    // Fast enough to be latency only (requests have size 0 anyway).
                    bandwidth_mbps: 1e6,
                    latency_us: args.io_ms * 1e3,
                    channels: 1,
                    swap: false,
                },
            );
            scenario.workload.io = Some(IoSettings {
                burst_ms: None,
                requests: Some(args.io_per_vm),
                size_kib: 0.0,
                device: sim::DeviceKind::Disk,
                virtual_device: sim::VirtualDevice::Virtio,
                fraction: 1.0,
            });
        }
        Ok(())
    }

    pub fn validate(args: ValidateArgs) -> Result<()> {
        let kvm = validate::kvm::open().map_err(check)?;
        let mut scenario = match &args.scenario {
            Some(p) => Scenario::load(p)?,
            None => {
                Scenario::from_toml_str(validate::DEFAULT_SCENARIO, "default validation scenario")?
            }
        };
        if let Some(s) = args.seed {
            scenario.run.seed = s;
        }
        if let Some(v) = args.vms {
            scenario.run.vms = v;
            scenario.run.warmup_vms = 0;
        }
        add_flag_workload(&mut scenario, &args)?;
        // The profile is taken out of the scenario here and given to the replay, which
        // applies it to the simulator's side.
        let profile_path = match &args.profile {
            Some(p) => Some(p.clone()),
            None => {
                let named = scenario.hosts.iter().find_map(|h| h.profile.clone());
                for h in &mut scenario.hosts {
                    h.profile = None;
                }
                named.map(|p| match scenario.base_dir() {
                    Some(d) => d.join(p),
                    None => PathBuf::from(p),
                })
            }
        };
        scenario.validate()?;
        let config = scenario.sim_config()?;
        let pcpus = config.cluster.hosts.first().map(|h| h.pcpus).unwrap_or(1);
        let (cores, housekeeping) = split_cores(args.cores.clone(), pcpus as usize)?;
        let requests: Vec<sim::VmRequest> = scenario.workload(0)?.collect();
        let factor = match args.scale {
            Some(f) if f > 0.0 && f.is_finite() => f,
            Some(f) => anyhow::bail!("--scale must be a positive number, got {f}"),
            None => validate::plan::auto_scale(
                &requests,
                pcpus,
                Duration::from_secs_f64(args.target_s.max(0.1)),
            ),
        };
        let requests = validate::plan::scale(&requests, factor);
        let profile_given = profile_path.is_some();
        let profile = match &profile_path {
            Some(p) => Some(Profile::load(p)?),
            None => None,
        };
        let opts = ValidateOptions {
            profile,
            cores: cores.clone(),
            housekeeping,
            boost: args.boost,
            tsc_work: args.work == "tsc",
            tsc_gap: Duration::from_secs_f64(args.tsc_gap_us.max(1.0) * 1e-6),
            device: if args.io_file {
                DeviceMode::File {
                    dir: std::env::temp_dir(),
                    bytes: 4096,
                }
            } else {
                DeviceMode::Sleep
            },
            timeout: Duration::from_secs_f64(args.timeout_s.max(0.001)),
            window_calibration: args.window_calibration,
            costs_from_replay: args.costs == "replay" && profile_given,
        };
        // Old run.toml and files first, run.toml last (see `reports::folder`).
        reports::folder::begin(
            &args.out,
            &[
                "measured-vms.csv",
                "measured-slices.csv",
                "predicted-vms.csv",
                "predicted-slices.csv",
                "validation.csv",
                "validation-summary.csv",
                "validation.txt",
                "host-scheduler.csv",
            ]
            .map(String::from),
        )?;
        // (`throttled_s` when caps are set, as `vmsched run` writes it.)
        let capped = requests.iter().any(|r| r.profile.cpu_cap_ppm > 0);
        let vms_csv = |name: &str| {
            if capped {
                VmsCsv::create_with_throttled(args.out.join(name))
            } else {
                VmsCsv::create(args.out.join(name))
            }
        };
        let mut csvs = Csvs {
            mvms: vms_csv("measured-vms.csv")?,
            mslices: SlicesCsv::create(args.out.join("measured-slices.csv"))?,
            pvms: vms_csv("predicted-vms.csv")?,
            pslices: SlicesCsv::create(args.out.join("predicted-slices.csv"))?,
        };
        let mut policies = Vec::new();
        let default: &[&str] = if args.host_scheduler {
            &["fair"]
        } else {
            &["fcfs", "sjf", "priority"]
        };
        let names: Vec<String> = if args.policies.is_empty() {
            default.iter().map(|s| s.to_string()).collect()
        } else {
            args.policies.clone()
        };
        for name in &names {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let (adm, cpu) = sim::policy::split_policy_name(name)?;
            let label = sim::policy::policy_label(&adm, &cpu);
            policies.push((adm, cpu, label));
        }
        let labels: Vec<String> = policies.iter().map(|p| p.2.clone()).collect();
        let on_host: Vec<bool> = if args.host_scheduler {
            let cpus: Vec<String> = policies.iter().map(|p| p.1.clone()).collect();
            host_policies(&cpus).map_err(anyhow::Error::msg)?
        } else {
            vec![false; policies.len()]
        };
        for ((_, cpu, label), on_host) in policies.iter().zip(&on_host) {
            if !on_host {
                validate::kvm::replay::check_cpu_policy(cpu, capped)
                    .map_err(|e| anyhow::anyhow!("policy {label}: {e}"))?;
            }
        }
        let mut host_rows_all: Vec<(HostRow, bool)> = Vec::new();
        let mut host_notes = String::new();
        let thresholds = Thresholds::for_demand(
            args.work == "loops",
            args.max_steal_pct,
            args.max_others_pct,
            args.max_drift_pct,
        );
        let mut results: Vec<RoundResult> = Vec::new();
        let mut notes = String::new();
        let mut failures = Vec::new();
        let mut warned = false;
        eprintln!(
            "{} VMs, time scale {factor:.4}, pCPU core(s) {cores:?}, work {}{}, {} round(s), costs from the {}",
            requests.len(),
            args.work,
            if args.boost { ", nice −20" } else { "" },
            args.rounds,
            if opts.costs_from_replay {
                "replay"
            } else {
                "profile"
            }
        );
        for (round, pi) in validate::rounds::schedule(policies.len(), args.rounds) {
            let (adm, cpu, label) = &policies[pi];
            for attempt in 0..=args.retry_flagged {
                eprintln!("round {round}/{}: replaying {label} on KVM …", args.rounds);
                let ran = if on_host[pi] {
                    run_host_policy(&kvm, &scenario, &requests, label, adm, &opts)
                        .map(|(r, x)| (r, Some(x)))
                } else {
                    run_policy(&kvm, &scenario, &requests, label, adm, cpu, &opts)
                        .map(|r| (r, None))
                };
                let (run, extras) = match ran {
                    Ok(run) => run,
                    Err(e) if ends_only_the_round(&e) => {
                        eprintln!("round {round} {label}: {e}");
                        failures.push(format!("round {round} {label}: {e}"));
                        results.push(RoundResult {
                            round,
                            policy: label.clone(),
                            vms: Vec::new(),
                            row: None,
                            dist: Default::default(),
                            flips: (0, 0),
                            median_abs_error_without_near_ties_pct: f64::NAN,
                            interference: None,
                            excluded: vec![format!("failed: {e}")],
                        });
                        break;
                    }
                    Err(e) => return Err(check(e)).with_context(|| format!("policy {label}")),
                };
                if !warned && let Some(p) = &opts.profile {
                    warned = true;
                    let ratio = run.rate_before / p.native_loop_rate.median;
                    if p.native_loop_rate.median > 0.0 && !(0.5..=2.0).contains(&ratio) {
                        let w = format!(
                            "warning: the profile's native loop rate ({:.0} M/s) differs from this host's ({:.0} M/s) by more than 2×: was it measured on another machine, or is this one loaded?",
                            p.native_loop_rate.median / 1e6,
                            run.rate_before / 1e6
                        );
                        eprintln!("{w}");
                        let _ = writeln!(notes, "{w}");
                    }
                }
                write_run(&mut csvs, &run, round)?;
                let _ = writeln!(notes, "{}", run_notes(&run, round, cpu));
                let mut r = round_result(&run, round, &requests, cpu, &thresholds)?;
                if let Some(x) = &extras {
                    let rows =
                        host_rows(round, &requests, &run.measured.vms, &run.predicted, &x.gps);
                    host_rows_all.extend(rows.into_iter().map(|h| (h, r.kept())));
                    let _ = writeln!(
                        host_notes,
                        "round {round} {label}: Linux's scheduler with {}; predicted with slice {:.3} ms, switch {:.1} µs",
                        x.weighting,
                        x.slice.as_secs_f64() * 1e3,
                        x.switch_us
                    );
                }
                let rerun = !r.kept() && attempt < args.retry_flagged;
                if rerun {
                    r.excluded.push("replayed again".into());
                }
                if !r.kept() {
                    eprintln!("round {round} {label}: left out: {}", r.excluded.join("; "));
                }
                results.push(r);
                if !rerun {
                    break;
                }
            }
        }
        csvs.finish()?;
        let rows: Vec<compare::VmRow> =
            results.iter().flat_map(|r| r.vms.iter().cloned()).collect();
        write_atomic(
            args.out.join("validation.csv"),
            compare::validation_csv(&rows).as_bytes(),
        )?;
        write_atomic(
            args.out.join("validation-summary.csv"),
            validate::rounds::summary_csv(&labels, &results).as_bytes(),
        )?;
        let kept_rows: Vec<compare::VmRow> = results
            .iter()
            .filter(|r| r.kept())
            .flat_map(|r| r.vms.iter().cloned())
            .collect();
        let mut text = validate::rounds::summary_text(&labels, &results);
        text.push_str(&compare::attribution_text(&kept_rows));
        if args.host_scheduler {
            let all: Vec<HostRow> = host_rows_all.iter().map(|h| h.0.clone()).collect();
            write_atomic(
                args.out.join("host-scheduler.csv"),
                host_csv(&all).as_bytes(),
            )?;
            let kept: Vec<HostRow> = host_rows_all
                .iter()
                .filter(|h| h.1)
                .map(|h| h.0.clone())
                .collect();
            text.push('\n');
            if kept.is_empty() && !all.is_empty() {
                // Still worth reading (the flags say why): every round, marked as such.
                text.push_str("(no round kept: the table below is over every round)\n");
                text.push_str(&host_text(&all));
            } else {
                text.push_str(&host_text(&kept));
            }
            text.push_str(&host_notes);
        }
        text.push('\n');
        for round in 1..=args.rounds {
            let rows: Vec<compare::VmRow> = results
                .iter()
                .filter(|r| r.round == round && r.row.is_some())
                .flat_map(|r| r.vms.iter().cloned())
                .collect();
            let present: Vec<String> = labels
                .iter()
                .filter(|l| rows.iter().any(|r| &r.policy == *l))
                .cloned()
                .collect();
            if present.is_empty() {
                continue;
            }
            let _ = writeln!(text, "round {round}:");
            text.push_str(&compare::summary_text(&compare::summarize(&present, &rows)));
        }
        text.push('\n');
        text.push_str(&notes);
        write_atomic(args.out.join("validation.txt"), text.as_bytes())?;
        reports::write_run_toml(
            &args.out,
            &reports::RunInfo {
                scenario_toml: scenario.to_toml_string(),
                seed: scenario.run.seed,
                replications: args.rounds as u64,
                policies: labels.clone(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                git_revision: option_env!("VMSCHED_GIT_REVISION").map(str::to_string),
                command: std::env::args().collect::<Vec<_>>().join(" "),
            },
        )?;
        out!("{text}");
        eprintln!("results in {}", args.out.display());
        if !failures.is_empty() {
            anyhow::bail!(
                "{} replay(s) failed (the others are reported): {}",
                failures.len(),
                failures.join("; ")
            );
        }
        Ok(())
    }

    /// The four CSV files of measured and predicted VMs and slices.
    struct Csvs {
        mvms: VmsCsv,
        mslices: SlicesCsv,
        pvms: VmsCsv,
        pslices: SlicesCsv,
    }

    impl Csvs {
        fn finish(self) -> Result<()> {
            self.mvms.finish()?;
            self.mslices.finish()?;
            self.pvms.finish()?;
            self.pslices.finish()?;
            Ok(())
        }
    }

    /// Writes one run's records, the round as the replication column.
    fn write_run(csvs: &mut Csvs, run: &PolicyRun, round: usize) -> Result<()> {
        let rep = round as u64;
        for (csv, recs) in [
            (&mut csvs.mvms, &run.measured.vms),
            (&mut csvs.pvms, &run.predicted),
        ] {
            csv.set_run(&run.label, rep);
            for r in recs {
                csv.write_record(r)?;
            }
        }
        for (csv, recs) in [
            (&mut csvs.mslices, &run.measured.slices),
            (&mut csvs.pslices, &run.predicted_slices),
        ] {
            csv.set_run(&run.label, rep);
            for s in recs {
                csv.write_record(s)?;
            }
        }
        Ok(())
    }

    /// The notes of one run: loop rates, slices, switches, the costs simulated, and the
    /// host's interference.
    fn run_notes(run: &PolicyRun, round: usize, cpu: &str) -> String {
        let m = &run.measured;
        let label = &run.label;
        let mut notes = String::new();
        let _ = writeln!(
            notes,
            "round {round} {label}: native loop rate {:.0} M/s before, {:.0} M/s after ({:+.1} %); {} slices, {} kicks, {} exits, replay {:.2} s; \
             mean switch {:.1} µs",
            run.rate_before / 1e6,
            run.rate_after / 1e6,
            100.0 * (run.rate_after - run.rate_before) / run.rate_before,
            m.dispatches,
            m.kicks,
            m.exits,
            m.wall.as_secs_f64(),
            m.switch_time.as_secs_f64() * 1e6 / m.dispatches.max(1) as f64
        );
        if let Some(p) = &run.profile {
            let _ = writeln!(
                notes,
                "round {round} {label}: simulated with switch {:.1} µs (median {:.1}, p90 {:.1}, p99 {:.1}), device oversleep {:.1} µs, first touch {:.2} µs/page, exit {:.1} µs, VM first run {:.1} µs",
                p.switch_cost_us(cpu),
                p.switch_stat(cpu).median,
                p.switch_stat(cpu).p90,
                p.switch_stat(cpu).p99,
                p.sleep_overshoot_us(),
                p.first_touch_us.median,
                p.exit_round_trip_us.median,
                p.per_vm_overhead().as_secs_f64() * 1e6
            );
        }
        let _ = write!(
            notes,
            "round {round} {label}: host: {}",
            run.interference.line()
        );
        notes
    }
}

#[cfg(not(all(feature = "kvm", target_os = "linux")))]
mod imp {
    use super::*;

    pub fn calibrate(_: CalibrateArgs) -> Result<()> {
        exit_unavailable(&validate::Error::FeatureDisabled)
    }

    pub fn validate(_: ValidateArgs) -> Result<()> {
        exit_unavailable(&validate::Error::FeatureDisabled)
    }
}
