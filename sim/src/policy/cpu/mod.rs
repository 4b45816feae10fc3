//! CPU policies (the order of a host's run queue).
pub mod fair;
pub mod fcfs;
pub mod hrrn;
pub mod priority;
pub mod priority_preemptive;
pub mod rr;
pub mod sjf;
pub mod srtf;
pub mod stride;
