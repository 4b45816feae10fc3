//! The trace formats and where a trace's runtime estimates come from.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The trace formats vmsched reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Standard Workload Format (Parallel Workloads Archive).
    Swf,
    /// Alibaba `openb_pod_list` CSV.
    Alibaba,
    /// Binned Azure V1 trace (flavour file + duration twin).
    Azure,
    /// Plain CSV with named columns.
    Csv,
}

impl TraceFormat {
    /// Names accepted in scenario files and on the command line.
    pub const NAMES: [&'static str; 4] = ["swf", "alibaba", "azure", "csv"];

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<TraceFormat> {
        match name {
            "swf" => Some(TraceFormat::Swf),
            "alibaba" => Some(TraceFormat::Alibaba),
            "azure" => Some(TraceFormat::Azure),
            "csv" => Some(TraceFormat::Csv),
            _ => None,
        }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Swf => "swf",
            TraceFormat::Alibaba => "alibaba",
            TraceFormat::Azure => "azure",
            TraceFormat::Csv => "csv",
        }
    }

    /// Guesses the format from a file name: `*.swf[.gz]` → swf, `*pod_list*` → alibaba,
    /// `v1.*.txt` → azure, `*.csv[.gz]` → csv.
    pub fn guess(path: &Path) -> Option<TraceFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".swf") {
            Some(TraceFormat::Swf)
        } else if name.contains("pod_list") {
            Some(TraceFormat::Alibaba)
        } else if name.ends_with(".txt") && name.starts_with("v1.") {
            Some(TraceFormat::Azure)
        } else if name.ends_with(".csv") {
            Some(TraceFormat::Csv)
        } else {
            None
        }
    }

    /// Whether the format carries users' runtime estimates of its own (SWF's requested
    /// time, the CSV `estimate_s` column); Alibaba and Azure traces have none.
    pub fn has_estimates(self) -> bool {
        matches!(self, TraceFormat::Swf | TraceFormat::Csv)
    }

    /// The fields a `priority_map` key may name for this format (`"<field>:<value>"`), in
    /// the order they are tried.
    pub fn priority_fields(self) -> &'static [&'static str] {
        match self {
            TraceFormat::Swf => &["user", "group", "queue", "partition"],
            TraceFormat::Alibaba => &["qos"],
            TraceFormat::Azure => &["flavour"],
            TraceFormat::Csv => &["tenant", "priority"],
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the users' runtime estimates come from.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceEstimate {
    /// The trace's own estimate where it has one (SWF field 9, the CSV `estimate_s`
    /// column), else the runtime.
    #[default]
    Trace,
    /// Always the true runtime.
    Exact,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_guessed_from_names() {
        let g = |p: &str| TraceFormat::guess(Path::new(p));
        assert_eq!(g("x/UniLu-Gaia-2014-2.swf.gz"), Some(TraceFormat::Swf));
        assert_eq!(g("openb_pod_list_default.csv"), Some(TraceFormat::Alibaba));
        assert_eq!(g("v1.test.txt"), Some(TraceFormat::Azure));
        assert_eq!(g("mine.csv.gz"), Some(TraceFormat::Csv));
        assert_eq!(g("notes.md"), None);
    }
}
