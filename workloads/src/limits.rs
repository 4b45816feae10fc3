//! The limits vmsched puts on its inputs, so that absurd values give a clear error instead
//! of a run that lasts for days or exhausts memory.
//!
//! | what | limit | why |
//! |---|---|---|
//! | any time read from an input (arrival, runtime, service parameter) | 5·10⁹ s (158 years: Unix timestamps fit) | the engine's clock is a `u64` of nanoseconds (584 years); the margin leaves room for an arrival plus a runtime plus queueing |
//! | a scenario file, a textbook table, a calibration profile | 4 MiB | files are parsed whole; TOML takes about 40 bytes of memory per byte of a long list |
//! | entries of an empirical distribution or a weighted choice | 100 000 | each is held in memory and sampled |
//! | replications | 10 000 | every replication's summary is kept for the confidence intervals |
//! | pCPUs over all hosts | 10⁷ | about 90 bytes of engine state each (measured: 10⁷ pCPUs, 0.87 GB peak) |
//! | estimated events per replication | `run.max_events`, default 10¹⁰ | about half an hour of engine time at 5 M events/s; raise it to run a longer job |
//! | textbook processes / slices | 10 000 / 10⁶ | every slice is kept for the Gantt chart |
//! | sweep cells / runs | 10⁵ / 10⁷ | every cell's scenario is built and checked before the first run |
//!
//! Traces are streamed, so their length is not limited; one record's times are.

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// Largest time, in seconds, accepted from any input: 5·10⁹ s (158 years).
pub const MAX_SECONDS: f64 = 5e9;
/// Largest scenario file, textbook table or calibration profile, in bytes (4 MiB).
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// Most entries in an empirical distribution's quantiles or a weighted choice's values.
pub const MAX_LIST_LEN: usize = 100_000;
/// Longest line of a trace file (bytes): a longer one is an error, so that a file without
/// line breaks cannot fill memory.
pub const MAX_TRACE_LINE_BYTES: u64 = 16 << 20;
/// Most replications of a run, a sweep cell or a capacity search.
pub const MAX_REPLICATIONS: u64 = 10_000;
/// Most pCPUs over all hosts of a scenario.
pub const MAX_TOTAL_PCPUS: u64 = 10_000_000;
/// Default of `[run] max_events`: the most events a replication may be expected to take.
pub const DEFAULT_MAX_EVENTS: f64 = 1e10;
/// Most cells (combinations of `--set` values) in a sweep.
pub const MAX_SWEEP_CELLS: u64 = 100_000;
/// Most runs (cells × policies × replications) in a sweep.
pub const MAX_SWEEP_RUNS: u64 = 10_000_000;
/// Most processes in a textbook table.
pub const MAX_TEXTBOOK_PROCESSES: usize = 10_000;
/// Most slices a textbook schedule may be expected to have (each one is drawn).
pub const MAX_TEXTBOOK_SLICES: f64 = 1e6;

/// The most hosts a scenario may expand to (`Σ count`): a guard against a typo allocating
/// the machine's memory away.
pub const MAX_HOSTS: u64 = 1_000_000;
/// The most devices a scenario may expand to (`Σ count × [[hosts.devices]]`): each takes
/// about 340 bytes of memory in a run (measured: 10⁶ hosts of 20 devices, 6.8 GB peak), so
/// a few lines must not ask for tens of gigabytes.
pub const MAX_DEVICES: u64 = 1_000_000;

/// Reads a text file of at most [`MAX_FILE_BYTES`]; `label` names it in messages.
pub fn read_bounded(path: &Path, label: &str) -> Result<String, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    // Read one byte past the limit to tell "exactly at the limit" from "beyond it".
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::Invalid {
            file: Some(label.to_string()),
            line: None,
            key: None,
            message: format!(
                "larger than {} MiB: not read (vmsched reads these files whole)",
                MAX_FILE_BYTES >> 20
            ),
        });
    }
    Ok(text)
}

/// `Ok` if a list under `key` has at most [`MAX_LIST_LEN`] entries.
pub fn check_list_len(key: &str, len: usize) -> Result<(), Error> {
    if len > MAX_LIST_LEN {
        return Err(Error::invalid(
            key,
            format!("has {len} entries; at most {MAX_LIST_LEN} are supported"),
        ));
    }
    Ok(())
}

/// `Ok` if `seconds` (already known to be finite and ≥ 0) is at most [`MAX_SECONDS`].
pub fn check_seconds(key: &str, seconds: f64) -> Result<(), Error> {
    if seconds > MAX_SECONDS {
        return Err(Error::invalid(key, too_long(seconds)));
    }
    Ok(())
}

/// The message for a time beyond [`MAX_SECONDS`].
pub fn too_long(seconds: f64) -> String {
    format!("{seconds:e} s is beyond the 5e9 s (158 years) vmsched accepts")
}

/// The first number in a TOML text that is NaN or infinite (TOML allows `nan` and
/// `inf`), as `(dotted key, value, 1-based line)`; `None` if there is none or the text is
/// not TOML (its parser reports that). For files whose fields take any float, such as
/// calibration profiles.
pub fn first_non_finite(text: &str) -> Option<(String, f64, Option<u64>)> {
    fn walk(v: &toml::Value, path: &mut Vec<String>) -> Option<(String, f64)> {
        match v {
            toml::Value::Float(f) if !f.is_finite() => Some((path.join("."), *f)),
            toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
                path.push(k.clone());
                let found = walk(v, path);
                path.pop();
                found
            }),
            toml::Value::Array(a) => a.iter().find_map(|v| walk(v, path)),
            _ => None,
        }
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    let (key, value) = walk(&toml::Value::Table(table), &mut Vec::new())?;
    Some((key.clone(), value, line_of_key(text, &key)))
}

/// The 1-based line of `table.key = …` in a TOML text written with `[table]` headers
/// (the first line after the header that starts with the key), if found.
fn line_of_key(text: &str, dotted: &str) -> Option<u64> {
    let (table, key) = dotted.rsplit_once('.').unwrap_or(("", dotted));
    let mut in_table = table.is_empty();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_table = t.trim_matches(|c| c == '[' || c == ']').trim() == table;
        } else if in_table
            && let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(i as u64 + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_numbers_are_found_with_their_line() {
        let text = "[a]\nx = 1.0\n\n[b]\ny = 2.0\nmedian = nan\n";
        assert_eq!(
            first_non_finite(text).map(|(k, v, l)| (k, v.is_nan(), l)),
            Some(("b.median".to_string(), true, Some(6)))
        );
        assert_eq!(
            first_non_finite("z = -inf\n"),
            Some(("z".to_string(), f64::NEG_INFINITY, Some(1)))
        );
        assert_eq!(first_non_finite("[a]\nx = 1e308\n"), None);
    }

    #[test]
    fn files_beyond_the_size_limit_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert_eq!(
            read_bounded(&path, "big.toml").unwrap_err().to_string(),
            "big.toml: larger than 4 MiB: not read (vmsched reads these files whole)"
        );
        std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES as usize]).unwrap();
        assert_eq!(read_bounded(&path, "big.toml").unwrap().len(), 4 << 20);
    }
}
