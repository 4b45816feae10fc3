//! Backfilling steps told in plain words (`vmsched run SCENARIO --trace` with
//! `[admission] backfill`), one line per [`AdmissionNote`]:
//!
//! ```text
//! t=4: VM 3 cannot start yet; it holds a reservation on host 0 at 10.0 s.
//! t=4: VM 7 backfills on host 0: ends at 9.0 s by its estimate, before VM 3's reservation at 10.0 s.
//! ```

use sim::SimTime;
use sim::observer::{AdmissionNote, BackfillWhy};

use crate::gantt::short_secs;

/// Seconds with at least one decimal: `9.0 s`, `2.5 s`, `0.001 s`.
fn secs(t: SimTime) -> String {
    let s = sim::numbers::decimals_trimmed(t.as_secs_f64(), 3);
    if s.contains('.') {
        format!("{s} s")
    } else {
        format!("{s}.0 s")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line per note, in the order given.
pub fn backfill_text(notes: &[AdmissionNote]) -> String {
    let mut out = String::new();
    for n in notes {
        let line = match *n {
            AdmissionNote::Reservation {
                time,
                vm,
                host,
                start,
                spare_vcpus,
                spare_mib,
            } => {
                if spare_vcpus == 0 && spare_mib == 0 {
                    format!(
                        "t={}: VM {vm} cannot start yet; it holds a reservation on host {host} at {}.",
                        short_secs(time),
                        secs(start)
                    )
                } else {
                    format!(
                        "t={}: VM {vm} cannot start yet; it holds a reservation on host {host} at {} \
                         ({} and {spare_mib} MiB spare then).",
                        short_secs(time),
                        secs(start),
                        plural(spare_vcpus, "vCPU slot", "vCPU slots"),
                    )
                }
            }
            AdmissionNote::Backfill {
                time,
                vm,
                host,
                end_by_estimate,
                why,
            } => {
                let t = short_secs(time);
                let end = secs(end_by_estimate);
                match why {
                    BackfillWhy::EndsBefore { head, at } => format!(
                        "t={t}: VM {vm} backfills on host {host}: ends at {end} by its estimate, \
                         {} VM {head}'s reservation at {}.",
                        if end_by_estimate < at {
                            "before"
                        } else {
                            "no later than"
                        },
                        secs(at)
                    ),
                    BackfillWhy::SpareCapacity {
                        head,
                        at,
                        spare_vcpus,
                        spare_mib,
                    } => format!(
                        "t={t}: VM {vm} backfills on host {host}: ends at {end} by its estimate, \
                         after VM {head}'s reservation at {}, but takes only capacity VM {head} \
                         will not need ({} and {spare_mib} MiB spare).",
                        secs(at),
                        plural(spare_vcpus, "vCPU slot", "vCPU slots"),
                    ),
                    BackfillWhy::OtherHost { head, head_host } => format!(
                        "t={t}: VM {vm} backfills on host {host}: VM {head}'s reservation is on \
                         host {head_host}; ends at {end} by its estimate."
                    ),
                    BackfillWhy::DelaysNone { ahead, next } => format!(
                        "t={t}: VM {vm} starts on host {host} ahead of {} waiting before it: its \
                         reservation is now and delays none of theirs (the earliest at {}); ends \
                         at {end} by its estimate.",
                        plural(ahead, "VM", "VMs"),
                        secs(next)
                    ),
                }
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words the guide quotes.
    #[test]
    fn easy_backfill_words() {
        let s = SimTime::from_secs;
        let notes = [
            AdmissionNote::Reservation {
                time: s(4),
                vm: 3,
                host: 0,
                start: s(10),
                spare_vcpus: 0,
                spare_mib: 0,
            },
            AdmissionNote::Backfill {
                time: s(4),
                vm: 7,
                host: 0,
                end_by_estimate: s(9),
                why: BackfillWhy::EndsBefore { head: 3, at: s(10) },
            },
        ];
        assert_eq!(
            backfill_text(&notes),
            "t=4: VM 3 cannot start yet; it holds a reservation on host 0 at 10.0 s.\n\
             t=4: VM 7 backfills on host 0: ends at 9.0 s by its estimate, before VM 3's \
             reservation at 10.0 s.\n"
        );
    }
}
