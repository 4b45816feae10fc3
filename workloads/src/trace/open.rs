//! Opening a trace: its files (or bytes in memory), the format's reader and the reorder
//! buffer over it.

use std::path::{Path, PathBuf};

use super::format::TraceFormat;
use super::input::{Input, resolve};
use super::priority::PriorityMap;
use super::reader::TraceReader;
use super::source::{RecordSource, SourceContext};
use super::spec::TraceSpec;
use super::{alibaba, azure, plain_csv, swf};
use crate::error::Error;

impl TraceSpec {
    /// Opens the trace for replication `replication` of a run seeded with `seed` (only the
    /// Azure reader draws random numbers). Relative paths are taken from `base`.
    pub fn open(
        &self,
        base: Option<&Path>,
        seed: u64,
        replication: u64,
    ) -> Result<TraceReader, Error> {
        self.validate("workload.trace")?;
        let path = resolve(base, &self.path);
        let inputs = match self.format {
            TraceFormat::Azure => Inputs::Azure(
                azure::AzureFiles::locate(
                    &path,
                    self.durations.as_deref().map(|p| resolve(base, p)),
                    self.flavours.as_deref().map(|p| resolve(base, p)),
                    self.intervals.as_deref().map(|p| resolve(base, p)),
                )?
                .inputs(),
            ),
            _ => Inputs::One(Input::File(path)),
        };
        self.open_inputs(inputs, seed, replication)
    }

    /// [`TraceSpec::open`] on a trace already in memory (plain or gzip bytes), read by the
    /// same code as a file; `path` (and for `azure` the companion names, default
    /// `durations`, `flav_map.txt`, `interval_map.txt`) only names the files in messages.
    /// An `azure` trace needs its four files ([`TraceBytes::Azure`]) and, unless its
    /// `durations` name carries it, `horizon_s`.
    pub fn open_bytes(
        &self,
        bytes: TraceBytes,
        seed: u64,
        replication: u64,
    ) -> Result<TraceReader, Error> {
        self.validate("workload.trace")?;
        let name = |given: &Option<String>, default: &str| {
            PathBuf::from(given.as_deref().unwrap_or(default))
        };
        let inputs = match (self.format, bytes) {
            (
                TraceFormat::Azure,
                TraceBytes::Azure {
                    flavours_trace,
                    durations,
                    flavour_map,
                    interval_map,
                },
            ) => Inputs::Azure(azure::AzureInputs {
                flavours_trace: Input::Memory {
                    name: PathBuf::from(&self.path),
                    data: flavours_trace,
                },
                durations: Input::Memory {
                    name: name(&self.durations, "durations"),
                    data: durations,
                },
                flavour_map: Input::Memory {
                    name: name(&self.flavours, "flav_map.txt"),
                    data: flavour_map,
                },
                interval_map: Input::Memory {
                    name: name(&self.intervals, "interval_map.txt"),
                    data: interval_map,
                },
            }),
            (TraceFormat::Azure, TraceBytes::File(_)) => {
                return Err(Error::invalid(
                    "workload.trace.format",
                    "an azure trace is four files (TraceBytes::Azure), not one",
                ));
            }
            (_, TraceBytes::File(data)) => Inputs::One(Input::Memory {
                name: PathBuf::from(&self.path),
                data,
            }),
            (format, TraceBytes::Azure { .. }) => {
                return Err(Error::invalid(
                    "workload.trace.format",
                    format!("a {format} trace is one file (TraceBytes::File)"),
                ));
            }
        };
        self.open_inputs(inputs, seed, replication)
    }

    /// The reader over `inputs` (what [`TraceSpec::open`] and [`TraceSpec::open_bytes`]
    /// share).
    fn open_inputs(
        &self,
        inputs: Inputs,
        seed: u64,
        replication: u64,
    ) -> Result<TraceReader, Error> {
        let priorities = PriorityMap::compile(
            &self.priority_map,
            self.format,
            "workload.trace.priority_map",
        )?;
        let ctx = SourceContext {
            label: self.path.clone(),
            priorities,
            estimate: self.estimate,
        };
        let source: Box<dyn RecordSource> = match (self.format, inputs) {
            (TraceFormat::Azure, Inputs::Azure(files)) => Box::new(azure::AzureSource::open(
                files,
                ctx,
                self.horizon_s,
                seed,
                replication,
            )?),
            (TraceFormat::Swf, Inputs::One(input)) => Box::new(swf::SwfSource::open(input, ctx)?),
            (TraceFormat::Alibaba, Inputs::One(input)) => {
                Box::new(alibaba::PodSource::open(input, ctx, self.cpu_only)?)
            }
            (TraceFormat::Csv, Inputs::One(input)) => {
                Box::new(plain_csv::CsvSource::open(input, ctx)?)
            }
            // `open` and `open_bytes` build the inputs from the format.
            (format, _) => {
                return Err(Error::invalid(
                    "workload.trace.format",
                    format!("the files given do not fit the format {format}"),
                ));
            }
        };
        Ok(TraceReader::new(source, self))
    }
}

/// A trace held in memory, for [`TraceSpec::open_bytes`]: each file's bytes, plain or
/// gzip-compressed.
#[derive(Clone, Debug)]
pub enum TraceBytes {
    /// The one file of an `swf`, `alibaba` or `csv` trace.
    File(Vec<u8>),
    /// The four files of an `azure` trace (see [`azure::AzureFiles`]).
    Azure {
        /// The flavour file (`v1.test.txt`).
        flavours_trace: Vec<u8>,
        /// Its duration twin (`v1.test.c2591400.txt`).
        durations: Vec<u8>,
        /// `flav_map.txt`.
        flavour_map: Vec<u8>,
        /// `v1.interval_map.txt`.
        interval_map: Vec<u8>,
    },
}

/// The inputs of one trace: one file, or the four of an Azure trace.
enum Inputs {
    One(Input),
    Azure(azure::AzureInputs),
}
