//! Admission policies (the order of the VM queue).
pub mod fcfs;
pub mod priority;
pub mod sjf;
