//! CPU policies (the order of a host's run queue).
pub mod credit;
pub mod fair;
pub mod fcfs;
pub mod hrrn;
pub mod lottery;
pub mod mlfq;
pub mod priority;
pub mod priority_preemptive;
pub mod rr;
pub mod sjf;
pub mod srtf;
pub mod stride;
