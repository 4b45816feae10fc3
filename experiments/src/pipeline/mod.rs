//! The workload and the observer on helper threads while the engine simulates: reading
//! ahead ([`read_ahead()`]), writing behind ([`write_behind()`]), or both on one helper
//! ([`read_ahead_write_behind`]). The results are those of running directly; only the
//! wall time changes.

pub mod read_ahead;
pub mod write_behind;

pub use read_ahead::{ReadAhead, read_ahead, read_ahead_write_behind};
pub use write_behind::{Batch, BatchSink, WriteBehind, write_behind};
