//! The binned Azure V1 VM trace (Cortez et al., SOSP'17), as re-encoded by Huawei Cloud.
//!
//! Two files go together, line by line: the *flavour* file (`v1.test.txt`) and its
//! *duration* twin (`v1.test.c2591400.txt`, where 2591400 is the censoring horizon in
//! seconds). Each line is a timestamp `t` (seconds, a multiple of 300), a space, then the
//! VMs that arrived in the 5-minute bin `[t, t + 300)`, comma-separated, with `|` between
//! the batches of different tenants. In the flavour file a VM is a letter, looked up in
//! `flav_map.txt` (`vcpus,memory_gb letter`); in the duration file it is `U<k>` (finished
//! before the horizon, duration in bin `k`) or `C<k>` (still running at the horizon,
//! censored). `v1.interval_map.txt` maps durations (`d k`: `d` seconds in 300 s steps
//! fall in bin `k`) to bins.
//!
//! Mapping onto a VM request:
//!
//! | VM | from |
//! |---|---|
//! | arrival | `t − t₀ + u·300`, `u` uniform in \[0, 1) from the run's `arrivals` stream; `t₀` is the first line's timestamp |
//! | runtime, `U<k>` | uniform in `[min d, max d + 300)` of bin `k`, from the `service` stream; cut at the horizon |
//! | runtime, `C<k>` | horizon − arrival: the VM runs to the end of the trace |
//! | vCPUs, memory | the flavour (`memory_gb × 1024` MiB) |
//! | estimate | the runtime (the trace has no user estimate) |
//! | priority | `priority_map` (`"flavour:<letter>"`), else 0 |
//! | tenant | a batch number (0, 1, 2, … over the trace: the trace does not link batches across bins) |
//!
//! The VMs of one bin are sorted by their drawn arrivals, so the stream stays in order
//! and holds one bin at a time. Rules: the two files must agree (same timestamps, same
//! batch structure, same number of VMs), else it is an error naming the duration file's
//! line; an unknown flavour letter or duration bin is malformed; a runtime that comes out
//! ≤ 0 is skipped (`zero runtime`). Censored VMs are counted (`censored`).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use rand::Rng;
use sim::rng::{SimRng, purpose, stream};

use super::input::{Input, LineReader, bad};
use super::source::{Next, RawVm, RecordSource, SourceContext};
use crate::error::Error;

/// Width of an arrival bin and step of the duration map, in seconds.
pub const BIN_S: f64 = 300.0;

/// The four files of an Azure trace.
#[derive(Clone, Debug, PartialEq)]
pub struct AzureFiles {
    /// The flavour file (`v1.test.txt`).
    pub flavours_trace: PathBuf,
    /// Its duration twin (`v1.test.c2591400.txt`).
    pub durations: PathBuf,
    /// `flav_map.txt`.
    pub flavour_map: PathBuf,
    /// `v1.interval_map.txt`.
    pub interval_map: PathBuf,
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The stem of a trace file name: `v1.test.txt[.gz]` → `v1.test`.
fn stem(name: &str) -> &str {
    let n = name.strip_suffix(".gz").unwrap_or(name);
    n.strip_suffix(".txt").unwrap_or(n)
}

/// The horizon in a duration file name: `v1.test.c2591400.txt` → 2591400.
pub fn horizon_from_name(name: &str) -> Option<f64> {
    let s = stem(name);
    let (_, c) = s.rsplit_once(".c")?;
    if c.is_empty() || !c.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    c.parse::<f64>().ok()
}

impl AzureFiles {
    /// Finds the companion files of `flavours_trace`: each given one as is, else the
    /// single matching file in the same folder.
    pub fn locate(
        flavours_trace: &Path,
        durations: Option<PathBuf>,
        flavour_map: Option<PathBuf>,
        interval_map: Option<PathBuf>,
    ) -> Result<AzureFiles, Error> {
        let dir = match flavours_trace.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = file_name(flavours_trace);
        let find = |key: &str, what: &str, pred: &dyn Fn(&str) -> bool| -> Result<PathBuf, Error> {
            let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| pred(&file_name(p)))
                .collect();
            found.sort();
            match found.len() {
                1 => Ok(found.remove(0)),
                0 => Err(Error::invalid(
                    format!("workload.trace.{key}"),
                    format!(
                        "no {what} found beside {}; give it",
                        flavours_trace.display()
                    ),
                )),
                _ => Err(Error::invalid(
                    format!("workload.trace.{key}"),
                    format!(
                        "several {what} files beside {}; give one: {}",
                        flavours_trace.display(),
                        found
                            .iter()
                            .map(|p| file_name(p))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        };
        let prefix = format!("{}.c", stem(&name));
        let durations = match durations {
            Some(p) => p,
            None => find("durations", "duration file (<stem>.c<horizon>.txt)", &|n| {
                n.starts_with(&prefix) && horizon_from_name(n).is_some()
            })?,
        };
        let flavour_map = flavour_map.unwrap_or_else(|| dir.join("flav_map.txt"));
        let interval_map = match interval_map {
            Some(p) => p,
            None => find("intervals", "interval map (*interval_map.txt)", &|n| {
                n.ends_with("interval_map.txt")
            })?,
        };
        Ok(AzureFiles {
            flavours_trace: flavours_trace.to_path_buf(),
            durations,
            flavour_map,
            interval_map,
        })
    }
}

/// The four files of an Azure trace, as inputs (files or bytes in memory).
pub(crate) struct AzureInputs {
    pub flavours_trace: Input,
    pub durations: Input,
    pub flavour_map: Input,
    pub interval_map: Input,
}

impl AzureFiles {
    /// The files as reader inputs.
    pub(crate) fn inputs(self) -> AzureInputs {
        AzureInputs {
            flavours_trace: Input::File(self.flavours_trace),
            durations: Input::File(self.durations),
            flavour_map: Input::File(self.flavour_map),
            interval_map: Input::File(self.interval_map),
        }
    }
}

/// Reads `flav_map.txt`: `vcpus,memory_gb letter` per line → table by letter.
fn read_flavours(input: Input) -> Result<Vec<Option<(u32, u64)>>, Error> {
    let label = input.path().display().to_string();
    let mut table = vec![None; 256];
    let mut lines = LineReader::open(input)?;
    while let Some((line, l)) = lines.next_line()? {
        let text = String::from_utf8_lossy(l);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let malformed = || {
            bad(
                &label,
                line,
                "flavour",
                format!("expected `vcpus,memory_gb letter`, got `{text}`"),
            )
        };
        let (sizes, letter) = text.split_once(' ').ok_or_else(malformed)?;
        let (c, m) = sizes.split_once(',').ok_or_else(malformed)?;
        let vcpus: u32 = c.trim().parse().map_err(|_| malformed())?;
        let gb: f64 = m.trim().parse().map_err(|_| malformed())?;
        let letter = letter.trim().as_bytes();
        if letter.len() != 1 || vcpus == 0 || !(0.0..1e12).contains(&gb) {
            return Err(malformed());
        }
        table[letter[0] as usize] = Some((vcpus, (gb * 1024.0).round() as u64));
    }
    Ok(table)
}

/// Reads the interval map: `d k` per line → `(min d, max d)` by bin `k`.
fn read_intervals(input: Input) -> Result<Vec<Option<(f64, f64)>>, Error> {
    let label = input.path().display().to_string();
    let mut bins: Vec<Option<(f64, f64)>> = Vec::new();
    let mut lines = LineReader::open(input)?;
    while let Some((line, l)) = lines.next_line()? {
        let text = String::from_utf8_lossy(l);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let malformed = || {
            bad(
                &label,
                line,
                "interval",
                format!("expected `seconds bin`, got `{text}`"),
            )
        };
        let (d, k) = text.split_once(' ').ok_or_else(malformed)?;
        let d: f64 = d.trim().parse().map_err(|_| malformed())?;
        let k: usize = k.trim().parse().map_err(|_| malformed())?;
        if !(d >= 0.0 && d.is_finite()) || k > 100_000 {
            return Err(malformed());
        }
        if bins.len() <= k {
            bins.resize(k + 1, None);
        }
        bins[k] = Some(match bins[k] {
            Some((lo, hi)) => (lo.min(d), hi.max(d)),
            None => (d, d),
        });
    }
    Ok(bins)
}

pub(crate) struct AzureSource {
    flavours: LineReader,
    durations: LineReader,
    durations_label: String,
    ctx: SourceContext,
    flavour_table: Vec<Option<(u32, u64)>>,
    bins: Vec<Option<(f64, f64)>>,
    /// Horizon in trace seconds (absolute, like the timestamps).
    horizon: f64,
    origin: Option<f64>,
    rng_arrivals: SimRng,
    rng_durations: SimRng,
    batch: u32,
    pending: VecDeque<Next>,
    censored: u64,
    header: Vec<(String, String)>,
}

impl AzureSource {
    pub(crate) fn open(
        files: AzureInputs,
        ctx: SourceContext,
        horizon_s: Option<f64>,
        seed: u64,
        replication: u64,
    ) -> Result<AzureSource, Error> {
        let horizon =
            match horizon_s.or_else(|| horizon_from_name(&file_name(files.durations.path()))) {
                Some(h) => h,
                None => {
                    return Err(Error::invalid(
                        "workload.trace.horizon_s",
                        format!(
                            "cannot read the horizon from the name {}; give horizon_s",
                            file_name(files.durations.path())
                        ),
                    ));
                }
            };
        let durations_label = match Path::new(&ctx.label).parent() {
            Some(p) if !p.as_os_str().is_empty() => p
                .join(file_name(files.durations.path()))
                .display()
                .to_string(),
            _ => file_name(files.durations.path()),
        };
        let header = vec![
            ("Durations".to_string(), durations_label.clone()),
            ("Horizon".to_string(), format!("{horizon}")),
            (
                "FlavourMap".to_string(),
                files.flavour_map.path().display().to_string(),
            ),
        ];
        Ok(AzureSource {
            flavour_table: read_flavours(files.flavour_map)?,
            bins: read_intervals(files.interval_map)?,
            flavours: LineReader::open(files.flavours_trace)?,
            durations: LineReader::open(files.durations)?,
            durations_label,
            ctx,
            horizon,
            origin: None,
            rng_arrivals: stream(seed, replication, purpose::ARRIVALS),
            rng_durations: stream(seed, replication, purpose::SERVICE),
            batch: 0,
            pending: VecDeque::new(),
            censored: 0,
            header,
        })
    }

    /// Reads one line of each file into `pending`. `Ok(false)` at the end.
    fn read_bin(&mut self) -> Result<bool, Error> {
        let file = self.ctx.label.clone();
        let Some((line, f)) = self.flavours.next_line()? else {
            if self.durations.next_line()?.is_some() {
                return Err(bad(
                    &self.durations_label,
                    self.durations.line,
                    "line",
                    "more lines than the flavour file",
                ));
            }
            return Ok(false);
        };
        let f = String::from_utf8_lossy(f).into_owned();
        let dlabel = self.durations_label.clone();
        let Some((_, d)) = self.durations.next_line()? else {
            return Err(bad(
                &dlabel,
                line,
                "line",
                "fewer lines than the flavour file",
            ));
        };
        let d = String::from_utf8_lossy(d).into_owned();
        let (ft, frest) = f.trim().split_once(' ').unwrap_or((f.trim(), ""));
        let (dt, drest) = d.trim().split_once(' ').unwrap_or((d.trim(), ""));
        let t: f64 = ft
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| bad(&file, line, "timestamp", format!("not a time: `{ft}`")))?;
        if dt != ft {
            return Err(bad(
                &dlabel,
                line,
                "timestamp",
                format!("`{dt}` does not match the flavour file's `{ft}`"),
            ));
        }
        let origin = *self.origin.get_or_insert(t);
        if t < origin {
            return Err(bad(
                &file,
                line,
                "timestamp",
                format!("{t} is before the first line's {origin}"),
            ));
        }
        let ftoks: Vec<&str> = frest
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let dtoks: Vec<&str> = drest
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if ftoks.len() != dtoks.len() {
            return Err(bad(
                &dlabel,
                line,
                "line",
                format!(
                    "{} entries, but the flavour file has {}",
                    dtoks.len(),
                    ftoks.len()
                ),
            ));
        }
        let mut vms: Vec<Result<RawVm, &'static str>> = Vec::with_capacity(ftoks.len());
        let mut new_batch = true;
        for (i, (ft, dt)) in ftoks.iter().zip(&dtoks).enumerate() {
            if *ft == "|" || *dt == "|" {
                if ft != dt {
                    return Err(bad(
                        &dlabel,
                        line,
                        format!("entry {}", i + 1),
                        "batch separators do not match the flavour file",
                    ));
                }
                new_batch = true;
                continue;
            }
            if new_batch {
                self.batch = self.batch.wrapping_add(1);
                new_batch = false;
            }
            let letter = ft.as_bytes();
            let flavour = (letter.len() == 1)
                .then(|| self.flavour_table[letter[0] as usize])
                .flatten()
                .ok_or_else(|| {
                    bad(
                        &file,
                        line,
                        format!("entry {}", i + 1),
                        format!("unknown flavour `{ft}`"),
                    )
                })?;
            let censored = match dt.as_bytes().first() {
                Some(b'U') => false,
                Some(b'C') => true,
                _ => {
                    return Err(bad(
                        &dlabel,
                        line,
                        format!("entry {}", i + 1),
                        format!("expected U<bin> or C<bin>, got `{dt}`"),
                    ));
                }
            };
            let k: usize = dt[1..].parse().map_err(|_| {
                bad(
                    &dlabel,
                    line,
                    format!("entry {}", i + 1),
                    format!("not a bin: `{dt}`"),
                )
            })?;
            let arrival = t - origin + self.rng_arrivals.random::<f64>() * BIN_S;
            let left = self.horizon - origin - arrival;
            let runtime = if censored {
                self.censored += 1;
                left
            } else {
                let (lo, hi) = self.bins.get(k).copied().flatten().ok_or_else(|| {
                    bad(
                        &dlabel,
                        line,
                        format!("entry {}", i + 1),
                        format!("unknown duration bin {k}"),
                    )
                })?;
                let d = lo + self.rng_durations.random::<f64>() * (hi + BIN_S - lo);
                d.min(left)
            };
            if runtime <= 0.0 {
                vms.push(Err("zero runtime"));
                continue;
            }
            let priority = self.ctx.priorities.text("flavour", ft).unwrap_or(0);
            vms.push(Ok(RawVm {
                line,
                arrival_s: arrival,
                runtime_s: runtime,
                estimate_s: runtime,
                vcpus: flavour.0,
                memory_mib: flavour.1,
                priority,
                tenant: Some(self.batch),
                recorded_wait_s: None,
            }));
        }
        // Kept VMs in drawn-arrival order (stable), skips first.
        let (mut kept, skipped): (Vec<_>, Vec<_>) = vms.into_iter().partition(|v| v.is_ok());
        kept.sort_by(|a, b| match (a, b) {
            (Ok(a), Ok(b)) => a.arrival_s.total_cmp(&b.arrival_s),
            _ => std::cmp::Ordering::Equal,
        });
        for s in skipped {
            if let Err(why) = s {
                self.pending.push_back(Next::Skip(why));
            }
        }
        for v in kept.into_iter().flatten() {
            self.pending.push_back(Next::Vm(v));
        }
        Ok(true)
    }
}

impl RecordSource for AzureSource {
    fn next_record(&mut self) -> Result<Next, Error> {
        loop {
            if let Some(n) = self.pending.pop_front() {
                return Ok(n);
            }
            if !self.read_bin()? {
                return Ok(Next::End);
            }
        }
    }

    fn header(&self) -> Vec<(String, String)> {
        self.header.clone()
    }

    fn notes(&self) -> Vec<(&'static str, u64)> {
        vec![("censored (run to the horizon)", self.censored)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(horizon_from_name("v1.test.c2591400.txt"), Some(2_591_400.0));
        assert_eq!(
            horizon_from_name("v1.test.c2591400.txt.gz"),
            Some(2_591_400.0)
        );
        assert_eq!(horizon_from_name("v1.test.txt"), None);
        assert_eq!(horizon_from_name("v1.test.cx.txt"), None);
        assert_eq!(stem("v1.dev.txt"), "v1.dev");
    }
}
