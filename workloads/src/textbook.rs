//! The classic CPU-scheduling examples, by name, and process tables read from CSV.
//!
//! A process table has one row per process: name, arrival, burst, priority (lower number =
//! more urgent). Times are in abstract units, 1 unit = 1 second once turned into
//! [`VmRequest`]s. Run with one pCPU and every process admitted at its arrival
//! (`sim::SimConfig::textbook`, see [`Case::sim_config`]), the engine must reproduce the
//! textbook waiting times exactly.
//!
//! The examples are those of Silberschatz, Galvin and Gagne, *Operating System Concepts*,
//! chapter "CPU Scheduling".

use std::path::Path;

use sim::{Demote, MlfqSpec, SimConfig, SimTime, VmRequest};

use crate::error::Error;

/// One row of a process table.
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    /// Name (e.g. `P1`).
    pub name: String,
    /// Arrival time (1 unit = 1 s).
    pub arrival: SimTime,
    /// CPU burst (the service time).
    pub burst: SimTime,
    /// Priority, lower = more urgent.
    pub priority: i32,
    /// CPU weight (the optional `weight` column: tickets for `stride`, weight for `fair`;
    /// none = 1024, Linux's nice 0).
    pub weight: Option<u32>,
}

impl Process {
    /// The table as VM requests in arrival order (a stable sort: rows arriving together keep
    /// their table order). VM `id` = row index in the table; one vCPU, no memory, the
    /// estimate equal to the burst.
    pub fn to_vm_requests(table: &[Process]) -> Vec<VmRequest> {
        let mut vms: Vec<VmRequest> = table
            .iter()
            .enumerate()
            .map(|(i, p)| VmRequest {
                id: i as u64,
                arrival: p.arrival,
                vcpus: 1,
                memory_mib: 0,
                priority: p.priority,
                demand: p.burst,
                estimate: p.burst,
                tenant: None,
                profile: sim::VmProfile {
                    weight: p.weight.unwrap_or(sim::DEFAULT_WEIGHT),
                    ..Default::default()
                },
            })
            .collect();
        vms.sort_by_key(|v| v.arrival);
        vms
    }
}

/// A named textbook case: a process table and the policy it illustrates.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Case {
    /// Name, as given to `vmsched … --case NAME`.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// The CPU policy it illustrates (a `sim::policy::CPU_POLICIES` name).
    pub policy: &'static str,
    /// The quantum, for time-sliced policies.
    pub quantum: Option<SimTime>,
    /// The textbook's average waiting time under `policy`, in units (seconds).
    pub avg_wait: f64,
    /// Rows: name, arrival, burst, priority.
    rows: &'static [(&'static str, u64, u64, i32)],
}

impl Case {
    /// The process table.
    pub fn processes(&self) -> Vec<Process> {
        self.rows
            .iter()
            .map(|&(name, arrival, burst, priority)| Process {
                name: name.to_string(),
                arrival: SimTime::from_secs(arrival),
                burst: SimTime::from_secs(burst),
                priority,
                weight: None,
            })
            .collect()
    }

    /// The table as VM requests (see [`Process::to_vm_requests`]).
    pub fn vm_requests(&self) -> Vec<VmRequest> {
        Process::to_vm_requests(&self.processes())
    }

    /// The textbook setting for this case: one pCPU, everything admitted at arrival,
    /// [`Case::policy`] on the run queue with [`Case::quantum`] (100 ms if none) and the
    /// case's `mlfq` options ([`Case::mlfq`]).
    pub fn sim_config(&self) -> SimConfig {
        let mut c = SimConfig::textbook(
            self.policy,
            self.quantum.unwrap_or(SimTime::from_millis(100)),
        );
        c.cpu.mlfq = self.mlfq();
        c
    }

    /// The `mlfq` options of this case (the defaults for a case that sets none).
    pub fn mlfq(&self) -> MlfqSpec {
        MLFQ_OPTIONS
            .iter()
            .find(|(name, _)| *name == self.name)
            .map_or_else(MlfqSpec::default, |(_, spec)| *spec)
    }
}

/// The `mlfq` options of the cases that need other than the defaults: Stallings' "q = 2^i"
/// doubles the quantum at every level.
const MLFQ_OPTIONS: &[(&str, MlfqSpec)] = &[(
    "mlfq-doubling",
    MlfqSpec {
        levels: 3,
        quantum_growth: 2.0,
        demote: Demote::Contended,
        boost: None,
    },
)];

/// The textbook cases, in the order `vmsched` lists them.
pub const CASES: &[Case] = &[
    Case {
        name: "fcfs-convoy",
        description: "FCFS with the long job first: the short ones wait behind it (convoy effect)",
        policy: "fcfs",
        quantum: None,
        // Waits 0, 24, 27 → 51/3 = 17.
        avg_wait: 17.0,
        rows: &[("P1", 0, 24, 0), ("P2", 0, 3, 0), ("P3", 0, 3, 0)],
    },
    Case {
        name: "fcfs-reordered",
        description: "FCFS with the short jobs first: the same jobs wait far less",
        policy: "fcfs",
        quantum: None,
        // Waits P2 0, P3 3, P1 6 → 9/3 = 3.
        avg_wait: 3.0,
        rows: &[("P2", 0, 3, 0), ("P3", 0, 3, 0), ("P1", 0, 24, 0)],
    },
    Case {
        name: "sjf",
        description: "non-preemptive shortest-job-first with every job present at 0",
        policy: "sjf",
        quantum: None,
        // Order P4 P1 P3 P2: waits P4 0, P1 3, P3 9, P2 16 → 28/4 = 7.
        avg_wait: 7.0,
        rows: &[
            ("P1", 0, 6, 0),
            ("P2", 0, 8, 0),
            ("P3", 0, 7, 0),
            ("P4", 0, 3, 0),
        ],
    },
    Case {
        name: "priority",
        description: "non-preemptive priority, lower number first",
        policy: "priority",
        quantum: None,
        // Order P2 P5 P1 P3 P4: waits P2 0, P5 1, P1 6, P3 16, P4 18 → 41/5 = 8.2.
        avg_wait: 8.2,
        rows: &[
            ("P1", 0, 10, 3),
            ("P2", 0, 1, 1),
            ("P3", 0, 2, 4),
            ("P4", 0, 1, 5),
            ("P5", 0, 5, 2),
        ],
    },
    Case {
        name: "srtf",
        description: "shortest-remaining-time-first: arrivals preempt a longer running job",
        policy: "srtf",
        quantum: None,
        // Gantt P1 0–1, P2 1–5, P4 5–10, P1 10–17, P3 17–26: waits P1 17−0−8 = 9,
        // P2 5−1−4 = 0, P3 26−2−9 = 15, P4 10−3−5 = 2 → 26/4 = 6.5.
        avg_wait: 6.5,
        rows: &[
            ("P1", 0, 8, 0),
            ("P2", 1, 4, 0),
            ("P3", 2, 9, 0),
            ("P4", 3, 5, 0),
        ],
    },
    Case {
        name: "rr",
        description: "round-robin with quantum 4",
        policy: "rr",
        quantum: Some(SimTime::from_secs(4)),
        // Gantt P1 0–4, P2 4–7, P3 7–10, P1 10–30: waits P1 30−24 = 6, P2 4, P3 7 → 17/3.
        avg_wait: 17.0 / 3.0,
        rows: &[("P1", 0, 24, 0), ("P2", 0, 3, 0), ("P3", 0, 3, 0)],
    },
    Case {
        name: "hrrn",
        description: "highest response ratio next: a long wait lifts a longer job (Stallings' five processes)",
        policy: "hrrn",
        quantum: None,
        // Stallings, Operating Systems, §9.2: A 0–3, B 3–9; at 9 the ratios (wait + burst) /
        // burst are C (5 + 4)/4 = 2.25, D (3 + 5)/5 = 1.6, E (1 + 2)/2 = 1.5, so C 9–13;
        // at 13, E (5 + 2)/2 = 3.5 beats D (7 + 5)/5 = 2.4, so E 13–15, D 15–20.
        // Waits A 0, B 1, C 5, D 9, E 5 → 20/5 = 4 (SJF would run E before C: wait 3.6).
        avg_wait: 4.0,
        rows: STALLINGS,
    },
    Case {
        name: "mlfq",
        description: "feedback (multi-level) with q = 1: a quantum used up with others waiting demotes (Stallings' five processes)",
        policy: "mlfq",
        quantum: Some(SimTime::from_secs(1)),
        // Stallings, Operating Systems: Internals and Design Principles, Table 9.5,
        // "FB q = 1": finish A 4, B 20, C 16, D 19, E 11; turnaround 4, 18, 12, 13, 3
        // (mean 10.00). Three levels of quantum 1; A runs 0–2 alone without demotion.
        // Waits = turnaround − service: 1, 12, 8, 8, 1 → 30/5 = 6.
        avg_wait: 6.0,
        rows: STALLINGS,
    },
    Case {
        name: "mlfq-doubling",
        description: "feedback with q = 2^i: level i has quantum 2^i (Stallings' five processes)",
        policy: "mlfq",
        quantum: Some(SimTime::from_secs(1)),
        // Stallings, Table 9.5, "FB q = 2^i": finish A 4, B 17, C 18, D 20, E 14;
        // turnaround 4, 15, 14, 14, 6 (mean 10.60). Three levels of quanta 1, 2, 4.
        // Waits 1, 9, 10, 9, 4 → 33/5 = 6.6.
        avg_wait: 6.6,
        rows: STALLINGS,
    },
];

/// Stallings' five processes (§9.2, Table 9.4): name, arrival, service.
const STALLINGS: &[(&str, u64, u64, i32)] = &[
    ("A", 0, 3, 0),
    ("B", 2, 6, 0),
    ("C", 4, 4, 0),
    ("D", 6, 5, 0),
    ("E", 8, 2, 0),
];

/// The case called `name`.
pub fn case(name: &str) -> Result<Case, Error> {
    CASES
        .iter()
        .find(|c| c.name == name)
        .copied()
        .ok_or_else(|| Error::UnknownCase {
            name: name.to_string(),
            known: CASES.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
        })
}

/// Reads a process table from a CSV file with the header `name,arrival,burst,priority`
/// (`priority` may be left out: 0; columns in any order; `#` starts a comment line), and
/// optionally a `weight` column (a whole number ≥ 1; empty = 1024) for the policies that
/// share by weight (see [`check_weights`]).
/// Arrival and burst are non-negative numbers, possibly fractional. Errors name the file,
/// the line and the field.
pub fn load_table(path: &Path) -> Result<Vec<Process>, Error> {
    let label = path.display().to_string();
    let text = crate::limits::read_bounded(path, &label)?;
    read_table(text.as_bytes(), &label)
}

/// Refuses a `weight` column (any process with a weight) for a policy whose order ignores
/// weights: the column would silently change nothing. `label` names the table in the
/// error.
pub fn check_weights(table: &[Process], policy: &str, label: &str) -> Result<(), Error> {
    let uses = sim::policy::cpu_policy(policy).is_ok_and(|p| p.uses_weight());
    if uses || table.iter().all(|p| p.weight.is_none()) {
        return Ok(());
    }
    Err(Error::Invalid {
        file: Some(label.to_string()),
        line: None,
        key: Some("weight".into()),
        message: format!(
            "`{policy}` ignores weights; the weight column is for {} (or drop the column)",
            sim::policy::weighted_cpu_policies()
        ),
    })
}

/// Refuses a schedule that would have more than [`crate::limits::MAX_TEXTBOOK_SLICES`]
/// slices (every slice is kept for the Gantt chart): under a time-sliced policy (`rr`,
/// `stride`), each process takes ⌈burst / quantum⌉ slices.
pub fn check_slices(table: &[Process], policy: &str, quantum: SimTime) -> Result<(), Error> {
    if !sim::policy::find_cpu(policy).is_ok_and(|e| e.time_sliced) {
        return Ok(());
    }
    let q = quantum.nanos().max(1) as f64;
    let slices: f64 = table
        .iter()
        .map(|p| (p.burst.nanos() as f64 / q).ceil().max(1.0))
        .sum();
    if slices > crate::limits::MAX_TEXTBOOK_SLICES {
        return Err(Error::invalid(
            "quantum",
            format!(
                "{} s makes about {slices:.1e} slices; at most {:.0e} are drawn, so raise it",
                quantum.as_secs_f64(),
                crate::limits::MAX_TEXTBOOK_SLICES
            ),
        ));
    }
    Ok(())
}

/// Reads a process table (see [`load_table`]) from `reader`; `label` names it in errors.
pub fn read_table<R: std::io::Read>(reader: R, label: &str) -> Result<Vec<Process>, Error> {
    let invalid = |line: Option<u64>, key: Option<&str>, message: String| Error::Invalid {
        file: Some(label.to_string()),
        line,
        key: key.map(str::to_string),
        message,
    };
    let csv_error = |e: csv::Error| {
        let line = e.position().map(|p| p.line());
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("expected {expected_len} fields, found {len}"),
            csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
            csv::ErrorKind::Io(io) => io.to_string(),
            _ => e.to_string(),
        };
        invalid(line, None, message)
    };

    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(reader);
    let headers = rdr.headers().map_err(csv_error)?.clone();
    let header_line = headers.position().map_or(1, |p| p.line());
    let mut columns: [Option<usize>; 5] = [None; 5];
    const NAMES: [&str; 5] = ["name", "arrival", "burst", "priority", "weight"];
    for (i, h) in headers.iter().enumerate() {
        match NAMES.iter().position(|n| *n == h) {
            Some(c) if columns[c].is_some() => {
                return Err(invalid(
                    Some(header_line),
                    Some(h),
                    "column appears twice".into(),
                ));
            }
            Some(c) => columns[c] = Some(i),
            None => {
                return Err(invalid(
                    Some(header_line),
                    Some(h),
                    "unknown column; expected name, arrival, burst and optionally priority and weight"
                        .into(),
                ));
            }
        }
    }
    for (c, name) in NAMES.iter().enumerate().take(3) {
        if columns[c].is_none() {
            return Err(invalid(
                Some(header_line),
                Some(name),
                "missing column (the header must be name,arrival,burst[,priority])".into(),
            ));
        }
    }

    let mut table = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map(|p| p.line());
        let field = |c: usize| columns[c].and_then(|i| record.get(i));
        let time = |c: usize| -> Result<SimTime, Error> {
            let text = field(c).unwrap_or("");
            let err = |what: &str| invalid(line, Some(NAMES[c]), format!("{what}, got `{text}`"));
            let v: f64 = text
                .parse()
                .map_err(|_| err("must be a non-negative number"))?;
            if v.is_nan() || v < 0.0 {
                return Err(err("must be a non-negative number"));
            }
            if v > crate::limits::MAX_SECONDS {
                return Err(err("too large (at most 5e9)"));
            }
            SimTime::from_secs_f64(v).ok_or_else(|| err("too large"))
        };
        let name = field(0).unwrap_or("");
        if name.is_empty() {
            return Err(invalid(line, Some("name"), "must not be empty".into()));
        }
        let priority = match field(3) {
            None | Some("") => 0,
            Some(text) => text.parse().map_err(|_| {
                invalid(
                    line,
                    Some("priority"),
                    format!("must be an integer, got `{text}`"),
                )
            })?,
        };
        let weight =
            match field(4) {
                None | Some("") => None,
                Some(text) => Some(text.parse::<u32>().ok().filter(|w| *w >= 1).ok_or_else(
                    || {
                        invalid(
                            line,
                            Some("weight"),
                            format!(
                                "must be a whole number from 1 to {}, got `{text}`",
                                u32::MAX
                            ),
                        )
                    },
                )?),
            };
        if table.len() == crate::limits::MAX_TEXTBOOK_PROCESSES {
            return Err(invalid(
                line,
                None,
                format!(
                    "more than {} processes: a textbook table is for hand-sized exercises",
                    crate::limits::MAX_TEXTBOOK_PROCESSES
                ),
            ));
        }
        table.push(Process {
            name: name.to_string(),
            arrival: time(1)?,
            burst: time(2)?,
            priority,
            weight,
        });
    }
    if table.is_empty() {
        return Err(invalid(None, None, "the table has no processes".into()));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::observer::Collect;

    #[test]
    fn cases_by_name() {
        assert_eq!(case("sjf").unwrap().name, "sjf");
        let e = case("nosuch").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "unknown textbook case `nosuch`; known: fcfs-convoy, fcfs-reordered, sjf, priority, srtf, rr"
            ),
            "{e}"
        );
        for c in CASES {
            assert!(e.contains(c.name), "{e} lacks {}", c.name);
        }
        for c in CASES {
            sim::policy::cpu_policy(c.policy).unwrap();
        }
    }

    /// Average textbook waiting time of a case: finish − arrival − burst, by hand.
    fn avg_wait_by_hand(c: &Case, finishes: &[u64]) -> f64 {
        let p = c.processes();
        let total: u64 = p
            .iter()
            .zip(finishes)
            .map(|(p, f)| f - p.arrival.nanos() / 1_000_000_000 - p.burst.nanos() / 1_000_000_000)
            .sum();
        total as f64 / p.len() as f64
    }

    #[test]
    fn textbook_averages_by_hand() {
        // Finish times per row, from the Gantt charts in the comments of CASES.
        let finishes: [(&str, &[u64]); 9] = [
            ("fcfs-convoy", &[24, 27, 30]),
            ("fcfs-reordered", &[3, 6, 30]),
            ("sjf", &[9, 24, 16, 3]),
            ("priority", &[16, 1, 18, 19, 6]),
            ("srtf", &[17, 5, 26, 10]),
            ("rr", &[30, 7, 10]),
            ("hrrn", &[3, 9, 13, 20, 15]),
            // Stallings, Table 9.5, FB q = 1 and FB q = 2^i.
            ("mlfq", &[4, 20, 16, 19, 11]),
            ("mlfq-doubling", &[4, 17, 18, 20, 14]),
        ];
        for (name, f) in finishes {
            let c = case(name).unwrap();
            assert!(
                (avg_wait_by_hand(&c, f) - c.avg_wait).abs() < 1e-12,
                "{name}"
            );
        }
    }

    #[test]
    fn engine_reproduces_the_textbook_numbers() {
        for c in CASES {
            let mut obs = Collect::default();
            sim::simulate(&c.sim_config(), c.vm_requests(), &mut obs)
                .unwrap_or_else(|e| panic!("{}: {e}", c.name));
            assert_eq!(obs.vms.len(), c.rows.len(), "{}", c.name);
            let total: u64 = obs.vms.iter().map(|r| r.wait().nanos()).sum();
            let avg = total as f64 / 1e9 / obs.vms.len() as f64;
            assert!(
                (avg - c.avg_wait).abs() < 1e-9,
                "{}: engine gives average wait {avg}, textbook {}",
                c.name,
                c.avg_wait
            );
        }
    }

    /// Stallings' Table 9.5, process by process: the engine's finish times under feedback
    /// scheduling with q = 1 and q = 2^i are the published ones.
    #[test]
    fn engine_gives_stallings_feedback_finish_times() {
        for (name, finishes) in [
            // FB q = 1: A 4, B 20, C 16, D 19, E 11 (turnaround 4, 18, 12, 13, 3).
            ("mlfq", [4, 20, 16, 19, 11]),
            // FB q = 2^i: A 4, B 17, C 18, D 20, E 14 (turnaround 4, 15, 14, 14, 6).
            ("mlfq-doubling", [4, 17, 18, 20, 14]),
        ] {
            let c = case(name).unwrap();
            let mut obs = Collect::default();
            sim::simulate(&c.sim_config(), c.vm_requests(), &mut obs).unwrap();
            let mut got: Vec<(u64, SimTime)> = obs.vms.iter().map(|r| (r.id, r.finish)).collect();
            got.sort();
            let want: Vec<(u64, SimTime)> = (0..).zip(finishes.map(SimTime::from_secs)).collect();
            assert_eq!(got, want, "{name}");
        }
        // With one level, feedback is round robin: Stallings' "RR q = 1" finishes
        // A 4, B 18, C 17, D 20, E 15.
        let c = case("mlfq").unwrap();
        let mut config = c.sim_config();
        config.cpu.mlfq.levels = 1;
        let mut obs = Collect::default();
        sim::simulate(&config, c.vm_requests(), &mut obs).unwrap();
        obs.vms.sort_by_key(|r| r.id);
        let f: Vec<u64> = obs
            .vms
            .iter()
            .map(|r| r.finish.nanos() / 1_000_000_000)
            .collect();
        assert_eq!(f, [4, 18, 17, 20, 15]);
    }

    #[test]
    fn conversion_sorts_stably_and_keeps_row_ids() {
        let c = case("srtf").unwrap();
        let vms = c.vm_requests();
        assert_eq!(vms.len(), 4);
        assert_eq!(vms[1].id, 1);
        assert_eq!(vms[1].arrival, SimTime::from_secs(1));
        assert_eq!(vms[1].demand, SimTime::from_secs(4));
        assert_eq!(vms[1].estimate, vms[1].demand);
        assert_eq!((vms[1].vcpus, vms[1].memory_mib), (1, 0));

        let table = read_table(
            "name,arrival,burst\nA,5,1\nB,0,2\nC,5,3\nD,0,4\n".as_bytes(),
            "t.csv",
        )
        .unwrap();
        let vms = Process::to_vm_requests(&table);
        // Stable by arrival: B(0) D(0) A(5) C(5) → ids 1, 3, 0, 2.
        assert_eq!(vms.iter().map(|v| v.id).collect::<Vec<_>>(), [1, 3, 0, 2]);
    }

    /// A `weight` column reaches the engine: A (2 s, weight 2048) and B (2 s, weight
    /// 1024) under `fair` with a 0.5 s slice follow GPS: A has 2/3 of the pCPU and ends
    /// at 3, B at 4 (see `sim/tests/fair_share.rs`). A policy that ignores weights refuses
    /// the column; an empty cell is the default 1024; 0 is refused.
    #[test]
    fn weight_column_is_read_and_checked() {
        let t = read_table(
            "name,arrival,burst,weight\nA,0,2,2048\nB,0,2,\n".as_bytes(),
            "t.csv",
        )
        .unwrap();
        assert_eq!((t[0].weight, t[1].weight), (Some(2048), None));
        let vms = Process::to_vm_requests(&t);
        assert_eq!((vms[0].profile.weight, vms[1].profile.weight), (2048, 1024));
        let mut c = Collect::default();
        sim::simulate(
            &SimConfig::textbook("fair", SimTime::from_millis(500)),
            vms,
            &mut c,
        )
        .unwrap();
        c.vms.sort_by_key(|r| r.id);
        assert_eq!(c.vms[0].finish, SimTime::from_secs(3));
        assert_eq!(c.vms[1].finish, SimTime::from_secs(4));
        assert!(check_weights(&t, "fair", "t.csv").is_ok());
        assert!(check_weights(&t, "stride", "t.csv").is_ok());
        assert_eq!(
            check_weights(&t, "rr", "t.csv").unwrap_err().to_string(),
            "t.csv: weight: `rr` ignores weights; the weight column is for stride, fair, lottery, credit (or drop the column)"
        );
        let plain = read_table("name,arrival,burst\nA,0,2\n".as_bytes(), "t.csv").unwrap();
        assert!(check_weights(&plain, "rr", "t.csv").is_ok());
        let e = read_table("name,arrival,burst,weight\nA,0,2,0\n".as_bytes(), "t.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv:2: weight: must be a whole number from 1 to 4294967295, got `0`"
        );
    }

    #[test]
    fn tables_parse_fractions_optional_priority_and_comments() {
        let text = "# a comment\nname, arrival, burst, priority\nP1, 0, 2.5, 3\nP2, 0.25, 1,\n";
        let t = read_table(text.as_bytes(), "t.csv").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].burst, SimTime(2_500_000_000));
        assert_eq!(t[0].priority, 3);
        assert_eq!(t[1].arrival, SimTime(250_000_000));
        assert_eq!(t[1].priority, 0);
        // Columns in another order, no priority column.
        let t = read_table("burst,name,arrival\n4,X,1\n".as_bytes(), "t.csv").unwrap();
        assert_eq!(
            t,
            [Process {
                name: "X".into(),
                arrival: SimTime::from_secs(1),
                burst: SimTime::from_secs(4),
                priority: 0,
                weight: None,
            }]
        );
    }

    #[test]
    fn table_errors_name_file_line_and_field() {
        let e = |text: &str| {
            read_table(text.as_bytes(), "t.csv")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("name,arrival,burst\nP1,0,3\nP2,1,-1\n"),
            "t.csv:3: burst: must be a non-negative number, got `-1`"
        );
        assert_eq!(
            e("name,arrival,burst,priority\nP1,x,3,1\n"),
            "t.csv:2: arrival: must be a non-negative number, got `x`"
        );
        assert_eq!(
            e("name,arrival,burst,priority\nP1,0,3,high\n"),
            "t.csv:2: priority: must be an integer, got `high`"
        );
        assert_eq!(
            e("name,arrival,burst\nP1,0,3\nP2,1\n"),
            "t.csv:3: expected 3 fields, found 2"
        );
        assert_eq!(
            e("name,arrival,cpu\nP1,0,3\n"),
            "t.csv:1: cpu: unknown column; expected name, arrival, burst and optionally priority and weight"
        );
        assert_eq!(
            e("name,arrival\nP1,0\n"),
            "t.csv:1: burst: missing column (the header must be name,arrival,burst[,priority])"
        );
        assert_eq!(
            e("name,arrival,burst\n"),
            "t.csv: the table has no processes"
        );
        assert_eq!(
            e("name,arrival,burst\nP1,NaN,1\n"),
            "t.csv:2: arrival: must be a non-negative number, got `NaN`"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_tables_never_panic(text in "[a-z0-9,.#\\-\n ]{0,200}") {
            let _ = read_table(text.as_bytes(), "t.csv");
            let with_header = format!("name,arrival,burst,priority\n{text}");
            if let Ok(t) = read_table(with_header.as_bytes(), "t.csv") {
                let vms = Process::to_vm_requests(&t);
                proptest::prop_assert_eq!(vms.len(), t.len());
                proptest::prop_assert!(vms.windows(2).all(|w| w[0].arrival <= w[1].arrival));
            }
        }
    }

    #[test]
    fn load_table_reads_files_and_names_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("procs.csv");
        std::fs::write(&path, "name,arrival,burst,priority\nP1,0,24,1\n").unwrap();
        let t = load_table(&path).unwrap();
        assert_eq!(t[0].burst, SimTime::from_secs(24));
        let missing = dir.path().join("nope.csv");
        let e = load_table(&missing).unwrap_err().to_string();
        assert!(e.starts_with(&missing.display().to_string()), "{e}");
    }
}
