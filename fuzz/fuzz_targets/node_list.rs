//! A node list (Alibaba `openb_node_list` or plain `pcpus,memory_mib[,count]` CSV).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match workloads::trace::nodes::read_node_list_bytes(data, "nodes.csv", 1.0, 1.0) {
        Ok(hosts) => assert!(!hosts.is_empty()),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
