//! Node lists: a cluster's hosts from a CSV file.
//!
//! Two schemas, told apart by the header:
//!
//! * the Alibaba `openb_node_list` (`sn, cpu_milli, memory_mib, gpu, model`): a host of
//!   `cpu_milli / 1000` pCPUs (rounded down; a node with less than one CPU is an error)
//!   and `memory_mib` MiB per line;
//! * a plain list (`pcpus, memory_mib` and optionally `count`): `count` hosts (default 1)
//!   of that size per line.
//!
//! Hosts keep the file's order (host 0 is the first line).

use std::path::Path;

use sim::HostSpec;

use super::csv::{column, csv_error, csv_headers, csv_reader, num_cell, optional_column};
use super::input::{Input, bad};
use crate::error::Error;
use crate::limits::MAX_HOSTS;

/// The most hosts a node list may give (the same guard as `scenario::MAX_HOSTS`).
const MAX_NODES: u64 = MAX_HOSTS;

/// Reads the hosts of a node list. `label` names the file in messages; every host gets
/// the given overcommit ratios.
pub fn read_node_list(
    path: &Path,
    label: &str,
    overcommit: f64,
    memory_overcommit: f64,
) -> Result<Vec<HostSpec>, Error> {
    read_nodes(
        Input::File(path.to_path_buf()),
        label,
        overcommit,
        memory_overcommit,
    )
}

/// [`read_node_list`] on a node list already in memory (plain or gzip bytes); `label`
/// names it in messages.
pub fn read_node_list_bytes(
    data: &[u8],
    label: &str,
    overcommit: f64,
    memory_overcommit: f64,
) -> Result<Vec<HostSpec>, Error> {
    let input = Input::Memory {
        name: label.into(),
        data: data.to_vec(),
    };
    read_nodes(input, label, overcommit, memory_overcommit)
}

fn read_nodes(
    input: Input,
    label: &str,
    overcommit: f64,
    memory_overcommit: f64,
) -> Result<Vec<HostSpec>, Error> {
    let path = input.path().to_path_buf();
    let path = path.as_path();
    let mut reader = csv_reader(input)?;
    let h = csv_headers(&mut reader, path, label)?;
    let alibaba = optional_column(&h, "cpu_milli");
    let (cpu_col, count_col) = match alibaba {
        Some(c) => (c, None),
        None => (column(&h, "pcpus", label)?, optional_column(&h, "count")),
    };
    let mem_col = column(&h, "memory_mib", label)?;
    let mut hosts = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, path, label)),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cpu_name = if alibaba.is_some() {
            "cpu_milli"
        } else {
            "pcpus"
        };
        let cpus = num_cell(&record, cpu_col, cpu_name, label, line)?
            .ok_or_else(|| bad(label, line, cpu_name, "missing value"))?;
        let pcpus = if alibaba.is_some() {
            (cpus / 1000.0).floor()
        } else {
            cpus
        };
        if !(pcpus >= 1.0 && pcpus <= f64::from(u32::MAX))
            || (alibaba.is_none() && pcpus.fract() != 0.0)
        {
            return Err(bad(
                label,
                line,
                cpu_name,
                format!("a host needs a whole number ≥ 1 of pCPUs, got {cpus}"),
            ));
        }
        let mem = num_cell(&record, mem_col, "memory_mib", label, line)?
            .ok_or_else(|| bad(label, line, "memory_mib", "missing value"))?;
        if !(0.0..1e15).contains(&mem) {
            return Err(bad(
                label,
                line,
                "memory_mib",
                format!("out of range: {mem}"),
            ));
        }
        let count = match count_col {
            Some(c) => num_cell(&record, c, "count", label, line)?.unwrap_or(1.0),
            None => 1.0,
        };
        if !(count >= 1.0 && count.fract() == 0.0) {
            return Err(bad(
                label,
                line,
                "count",
                format!("must be a whole number ≥ 1, got {count}"),
            ));
        }
        if hosts.len() as f64 + count > MAX_NODES as f64 {
            return Err(bad(
                label,
                line,
                "count",
                format!("more than {MAX_NODES} hosts"),
            ));
        }
        let spec = HostSpec {
            pcpus: pcpus as u32,
            memory_mib: mem.round() as u64,
            overcommit,
            memory_overcommit,
            resources: Default::default(),
        };
        hosts.extend(std::iter::repeat_n(spec, count as usize));
    }
    if hosts.is_empty() {
        return Err(bad(label, 1, "hosts", "the node list has no hosts"));
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemas() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("nodes.csv");
        std::fs::write(
            &a,
            "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,262144,0,\nn1,96500,786432,8,V100M32\n",
        )
        .unwrap();
        let h = read_node_list(&a, "nodes.csv", 1.0, 1.0).unwrap();
        // 32000 milli = 32 pCPUs; 96500 → 96 (rounded down).
        assert_eq!(
            h,
            vec![HostSpec::new(32, 262_144), HostSpec::new(96, 786_432)]
        );

        let p = dir.path().join("plain.csv");
        std::fs::write(&p, "pcpus,memory_mib,count\n4,8192,2\n8,16384,\n").unwrap();
        let h = read_node_list(&p, "plain.csv", 2.0, 1.0).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!((h[0].pcpus, h[1].pcpus, h[2].pcpus), (4, 4, 8));
        assert_eq!(h[2].overcommit, 2.0);

        std::fs::write(&p, "pcpus,memory_mib\n4,8192\n0.5,1\n").unwrap();
        let e = read_node_list(&p, "plain.csv", 1.0, 1.0)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "plain.csv:3: pcpus: a host needs a whole number ≥ 1 of pCPUs, got 0.5"
        );
        std::fs::write(&p, "cpus,memory_mib\n4,8192\n").unwrap();
        let e = read_node_list(&p, "plain.csv", 1.0, 1.0)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "plain.csv:1: pcpus: missing column `pcpus` in the header"
        );
    }
}
