//! A fitted model reproduces its trace: the scenario `fit` writes parses, and the VMs it
//! generates have the trace's arrival rate and mean runtime.

use std::path::Path;

use workloads::Scenario;
use workloads::fit::{ArrivalModel, FitOptions, fit_trace, scenario_toml};
use workloads::trace::stats::TraceStats;
use workloads::trace::{TraceFormat, TraceSpec};

fn gaia_stats(path: &Path) -> TraceStats {
    let mut r = TraceSpec::new(TraceFormat::Swf, path.display().to_string())
        .open(None, 1, 0)
        .unwrap();
    let mut st = TraceStats::new(1_000_000, 0.0);
    for v in r.by_ref() {
        st.push(&v.unwrap());
    }
    st
}

fn options(arrivals: ArrivalModel, empirical_service: bool) -> FitOptions {
    FitOptions {
        source: "gaia-head.swf".into(),
        arrivals,
        empirical_service,
        points: 201,
        hosts: (1, 2004, 4096.0),
        seed: 1,
        replications: 1,
    }
}

/// Generates `n` VMs from `toml`; returns (arrival rate, mean runtime).
fn generated(toml: &str, n: u64) -> (f64, f64) {
    let mut s =
        Scenario::from_toml_str(toml, "fitted.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
    s.run.vms = n;
    let (mut last, mut sum) = (0.0, 0.0);
    for v in s.workload(0).unwrap() {
        last = v.arrival.as_secs_f64();
        sum += v.demand.as_secs_f64();
    }
    (n as f64 / last, sum / n as f64)
}

#[test]
fn fitted_model_keeps_rate_and_mean_runtime() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/gaia-head.swf");
    let st = gaia_stats(&data);
    let fit = fit_trace(&st);
    // 300 jobs from 0 to 472 876 s: 299 gaps, rate 299 / 472 876 = 6.323e-4 /s.
    assert!((st.rate_per_s() - 299.0 / 472_876.0).abs() < 1e-12);
    // Every candidate keeps the trace's means exactly.
    for f in &fit.arrivals {
        assert!((1.0 / f.dist.mean() - st.rate_per_s()).abs() < 1e-9 * st.rate_per_s());
        assert!(f.ks > 0.0 && f.ks < 1.0);
    }
    for f in &fit.service {
        assert!((f.dist.mean() - st.runtime.moments.mean()).abs() < 1e-6);
    }
    let mean_rt = st.runtime.moments.mean();
    for (arrivals, empirical) in [
        (ArrivalModel::Best, false),
        (ArrivalModel::Empirical, true),
        (ArrivalModel::Diurnal, false),
    ] {
        let toml = scenario_toml(&st, &fit, &options(arrivals, empirical));
        assert!(toml.contains("load_scale = 1.0"), "{toml}");
        // 400 000 draws: the runtimes are heavy-tailed (cv ≈ 3.6 in this excerpt), so the
        // mean of n draws has a relative sd of about cv/√n = 3.6/632 = 0.57 %, and the
        // rate (n gaps) about cv_gap/√n ≤ 5/632 = 0.8 %. Tolerance 5 % is over 6 sd (the
        // empirical tables are scaled to the trace's means).
        let (rate, mean) = generated(&toml, 400_000);
        let rel_rate = rate / st.rate_per_s() - 1.0;
        let rel_mean = mean / mean_rt - 1.0;
        assert!(
            rel_rate.abs() < 0.05,
            "{arrivals:?}: rate off by {rel_rate}\n{toml}"
        );
        assert!(
            rel_mean.abs() < 0.05,
            "{arrivals:?}: mean runtime off by {rel_mean}\n{toml}"
        );
    }
}

#[test]
fn fitted_full_gaia_model() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/traces/pwa-unilu-gaia-2014/UniLu-Gaia-2014-2.swf.gz");
    if !path.exists() {
        eprintln!(
            "SKIPPED: {} is not there; the full-trace fit is not tested",
            path.display()
        );
        return;
    }
    let st = gaia_stats(&path);
    let fit = fit_trace(&st);
    let toml = scenario_toml(&st, &fit, &options(ArrivalModel::Best, false));
    let (rate, mean) = generated(&toml, 400_000);
    assert!(
        (rate / st.rate_per_s() - 1.0).abs() < 0.05,
        "{rate}\n{toml}"
    );
    assert!(
        (mean / st.runtime.moments.mean() - 1.0).abs() < 0.05,
        "{mean}\n{toml}"
    );
    eprintln!(
        "Gaia: best arrival fit {:?} (KS {:.4}), best runtime fit {:?} (KS {:.4})",
        fit.arrivals[0].dist, fit.arrivals[0].ks, fit.service[0].dist, fit.service[0].ks
    );
}
