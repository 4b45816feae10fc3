//! `cpu_share.csv` read back for the CPU share plot: per policy (its first replication),
//! the VMs with the most CPU time as bands of their own and the others summed.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Columns, csv_err, field, index_of, number, open};
use crate::error::ReportError;

/// VMs drawn as bands of their own in a CPU share panel; the rest are summed.
pub const SHARE_MAX_VMS: usize = 8;
/// Most time points of a CPU share panel: longer files are averaged over groups of
/// consecutive intervals.
pub const SHARE_MAX_POINTS: usize = 1000;

/// One policy's CPU share over time.
#[derive(Clone, Debug, PartialEq)]
pub struct SharePanel {
    /// Policy label.
    pub policy: String,
    /// The replication shown (the first in the file).
    pub replication: String,
    /// The intervals' ends (s), increasing.
    pub times: Vec<f64>,
    /// The interval (s): each value holds over `[time − interval, time)`.
    pub interval: f64,
    /// `(VM id, share per time)` of the [`SHARE_MAX_VMS`] VMs with the most CPU time, by
    /// VM id.
    pub vms: Vec<(u64, Vec<f64>)>,
    /// The other VMs' shares summed, per time (all 0 when there are none).
    pub others: Vec<f64>,
    /// How many VMs `others` sums.
    pub other_count: usize,
}

/// Per policy: replication shown, VM → (time in ns → share), total CPU per VM.
type Raw = (
    String,
    BTreeMap<u64, BTreeMap<u64, f64>>,
    BTreeMap<u64, f64>,
);

/// Reads `cpu_share.csv` into one [`SharePanel`] per policy, in order of first appearance.
pub fn read_cpu_share(path: &Path) -> Result<Vec<SharePanel>, ReportError> {
    let mut rdr = open(path)?;
    let cols = Columns::read(path, &mut rdr)?;
    let c = |n: &str| cols.get(path, n);
    let (c_policy, c_rep, c_time, c_vm, c_share) = (
        c("policy")?,
        c("replication")?,
        c("time_s")?,
        c("vm")?,
        c("share")?,
    );
    let mut policies: Vec<String> = Vec::new();
    let mut raw: Vec<Raw> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(path, e))?
    {
        let p = index_of(&mut policies, field(&rec, c_policy));
        if p == raw.len() {
            raw.push((
                field(&rec, c_rep).to_string(),
                BTreeMap::new(),
                BTreeMap::new(),
            ));
        }
        let (rep, series, totals) = &mut raw[p];
        if field(&rec, c_rep) != rep.as_str() {
            continue;
        }
        let t = number(path, &rec, c_time, "time_s")?;
        let vm = number(path, &rec, c_vm, "vm")?;
        let share = number(path, &rec, c_share, "share")?;
        if !(t.is_finite() && t > 0.0 && vm >= 0.0 && share.is_finite()) {
            return Err(ReportError::input(
                path,
                rec.position().map(|p| p.line()),
                format!("time_s, vm or share out of range: {t}, {vm}, {share}"),
            ));
        }
        let vm = vm as u64;
        series
            .entry(vm)
            .or_default()
            .insert((t * 1e9).round() as u64, share);
        *totals.entry(vm).or_insert(0.0) += share;
    }
    Ok(policies
        .into_iter()
        .zip(raw)
        .map(|(policy, (replication, series, totals))| panel(policy, replication, &series, &totals))
        .collect())
}

fn panel(
    policy: String,
    replication: String,
    series: &BTreeMap<u64, BTreeMap<u64, f64>>,
    totals: &BTreeMap<u64, f64>,
) -> SharePanel {
    let mut times: Vec<u64> = series.values().flat_map(|s| s.keys().copied()).collect();
    times.sort_unstable();
    times.dedup();
    let interval = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .min()
        .or_else(|| times.first().copied())
        .unwrap_or(1);
    let at: BTreeMap<u64, usize> = times.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let dense = |s: &BTreeMap<u64, f64>| {
        let mut v = vec![0.0; times.len()];
        for (t, x) in s {
            if let Some(&i) = at.get(t) {
                v[i] = *x;
            }
        }
        v
    };
    // Most CPU first; ties by VM id.
    let mut ranked: Vec<(u64, f64)> = totals.iter().map(|(&v, &x)| (v, x)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut vms = Vec::new();
    let mut others = vec![0.0; times.len()];
    for (k, (vm, _)) in ranked.iter().enumerate() {
        let Some(s) = series.get(vm) else { continue };
        let v = dense(s);
        if k < SHARE_MAX_VMS {
            vms.push((*vm, v));
        } else {
            others.iter_mut().zip(v).for_each(|(o, x)| *o += x);
        }
    }
    // The bands in VM id order, so they stack as the VMs came.
    vms.sort_by_key(|(vm, _)| *vm);
    let other_count = ranked.len().saturating_sub(SHARE_MAX_VMS);
    let mut times: Vec<f64> = times.iter().map(|&t| t as f64 / 1e9).collect();
    let mut interval = interval as f64 / 1e9;
    // Long files: means over groups of `g` consecutive intervals.
    let g = times.len().div_ceil(SHARE_MAX_POINTS).max(1);
    if g > 1 {
        let group = |v: &[f64]| -> Vec<f64> {
            v.chunks(g)
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect()
        };
        for (_, v) in &mut vms {
            *v = group(v);
        }
        others = group(&others);
        times = times.chunks(g).filter_map(|c| c.last().copied()).collect();
        interval *= g as f64;
    }
    SharePanel {
        policy,
        replication,
        times,
        interval,
        vms,
        others,
        other_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_by_cpu_time_and_the_first_replication_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpu_share.csv");
        let mut text = String::from("policy,replication,time_s,vm,cpu_s,share\n");
        // fair, replication 0: VM 5 has 0.75 + 0.5 = 1.25 s, VM 2 0.25 + 0.5 = 0.75 s;
        // replication 1 is ignored.
        for row in [
            "fair,0,1.000000000,2,0.250000000,0.250000",
            "fair,0,1.000000000,5,0.750000000,0.750000",
            "fair,0,2.000000000,2,0.500000000,0.500000",
            "fair,0,2.000000000,5,0.500000000,0.500000",
            "fair,1,1.000000000,9,1.000000000,1.000000",
        ] {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let p = read_cpu_share(&path).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].times, vec![1.0, 2.0]);
        assert_eq!(p[0].interval, 1.0);
        assert_eq!(p[0].vms, vec![(2, vec![0.25, 0.5]), (5, vec![0.75, 0.5])]);
        assert_eq!((p[0].others.clone(), p[0].other_count), (vec![0.0, 0.0], 0));
    }
}
