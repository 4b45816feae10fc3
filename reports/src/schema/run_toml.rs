//! `run.toml`: what a results folder was made from (scenario, seed, replications,
//! policies, program version and command), written last.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RUN_TOML;
use crate::error::ReportError;

/// What `run.toml` records about a run: enough to reproduce it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// The scenario file's text (TOML).
    pub scenario_toml: String,
    /// Master seed.
    pub seed: u64,
    /// Replications per policy.
    pub replications: u64,
    /// Policies compared, in output order.
    pub policies: Vec<String>,
    /// vmsched version.
    pub version: String,
    /// Git revision of the build, when known.
    pub git_revision: Option<String>,
    /// The command line that produced the folder.
    pub command: String,
}

/// The on-disk layout of `run.toml`.
#[derive(Serialize, Deserialize)]
struct RunToml {
    version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    git_revision: Option<String>,
    command: String,
    #[serde(with = "toml_u64")]
    seed: u64,
    #[serde(with = "toml_u64")]
    replications: u64,
    policies: Vec<String>,
    scenario: toml::Table,
}

/// TOML integers are signed 64-bit: a `u64` above `i64::MAX` is written as a string of
/// digits. Both forms are read back.
mod toml_u64 {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(*v) {
            Ok(i) => s.serialize_i64(i),
            Err(_) => s.serialize_str(&v.to_string()),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Int(i64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Int(i) => u64::try_from(i).map_err(|_| D::Error::custom("negative value")),
            Repr::Text(s) => s
                .parse()
                .map_err(|_| D::Error::custom(format!("not an unsigned integer: {s:?}"))),
        }
    }
}

/// Writes `dir/run.toml` and returns its path.
///
/// Layout: top-level keys `version`, `git_revision` (absent when unknown), `command`,
/// `seed`, `replications`, `policies`, then the scenario embedded as the table
/// `[scenario]` (so `run["scenario"]` is the parsed scenario file; its comments and key
/// order are not kept, its values are). A seed above `i64::MAX` is written as a string.
/// Errors if `scenario_toml` is not valid TOML.
pub fn write_run_toml(dir: impl AsRef<Path>, info: &RunInfo) -> Result<PathBuf, ReportError> {
    let path = dir.as_ref().join(RUN_TOML);
    let scenario: toml::Table =
        toml::from_str(&info.scenario_toml).map_err(|source| ReportError::TomlRead {
            path: path.clone(),
            what: "invalid scenario TOML for",
            source: Box::new(source),
        })?;
    let doc = RunToml {
        version: info.version.clone(),
        git_revision: info.git_revision.clone(),
        command: info.command.clone(),
        seed: info.seed,
        replications: info.replications,
        policies: info.policies.clone(),
        scenario,
    };
    let text = toml::to_string(&doc).map_err(|source| ReportError::TomlWrite {
        path: path.clone(),
        source: Box::new(source),
    })?;
    crate::atomic::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Reads `dir/run.toml` back. `scenario_toml` is the embedded table written out again as
/// TOML: equal in value to the original scenario, not in text.
pub fn read_run_toml(dir: impl AsRef<Path>) -> Result<RunInfo, ReportError> {
    let path = dir.as_ref().join(RUN_TOML);
    let text =
        std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, "cannot read", e))?;
    let doc: RunToml = toml::from_str(&text).map_err(|source| ReportError::TomlRead {
        path: path.clone(),
        what: "invalid run description in",
        source: Box::new(source),
    })?;
    let scenario_toml =
        toml::to_string(&doc.scenario).map_err(|source| ReportError::TomlWrite {
            path: path.clone(),
            source: Box::new(source),
        })?;
    Ok(RunInfo {
        scenario_toml,
        seed: doc.seed,
        replications: doc.replications,
        policies: doc.policies,
        version: doc.version,
        git_revision: doc.git_revision,
        command: doc.command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_toml_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = "# a comment\nname = \"textbook\"\n[cluster]\npcpus = 1\n\
                        [[vms]]\narrival = 0\nburst = 24.5\n[[vms]]\narrival = 0\nburst = 3\n";
        let info = RunInfo {
            scenario_toml: scenario.to_string(),
            seed: u64::MAX,
            replications: 3,
            policies: vec!["fcfs".into(), "sjf".into()],
            version: "0.1.0".into(),
            git_revision: Some("abc123".into()),
            command: "vmsched compare scenario.toml --policies fcfs,sjf".into(),
        };
        let path = write_run_toml(dir.path(), &info).unwrap();
        assert_eq!(path, dir.path().join("run.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        // Valid TOML whose [scenario] table equals the scenario file's.
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let original: toml::Table = toml::from_str(scenario).unwrap();
        assert_eq!(doc["scenario"].as_table(), Some(&original));
        // u64::MAX does not fit a TOML integer: written as a string.
        assert_eq!(doc["seed"].as_str(), Some("18446744073709551615"));
        assert_eq!(doc["replications"].as_integer(), Some(3));

        let back = read_run_toml(dir.path()).unwrap();
        let back_scenario: toml::Table = toml::from_str(&back.scenario_toml).unwrap();
        assert_eq!(back_scenario, original);
        assert_eq!(
            RunInfo {
                scenario_toml: info.scenario_toml.clone(),
                ..back
            },
            info
        );
    }

    #[test]
    fn run_toml_rejects_bad_scenario_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let info = RunInfo {
            scenario_toml: "this is = = not toml".into(),
            seed: 1,
            replications: 1,
            policies: vec![],
            version: "0.1.0".into(),
            git_revision: None,
            command: String::new(),
        };
        let err = write_run_toml(dir.path(), &info).unwrap_err();
        assert!(err.to_string().contains("run.toml"), "{err}");
        assert!(!dir.path().join("run.toml").exists());
    }
}
