//! A teacher's process table (`name,arrival,burst,priority` CSV), then its VM requests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workloads::textbook::{Process, read_table};

fuzz_target!(|data: &[u8]| {
    match read_table(data, "fuzz.csv") {
        Ok(table) => {
            let vms = Process::to_vm_requests(&table);
            assert_eq!(vms.len(), table.len());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
