//! Scenario settings of datacenter operations: a host's power model (`[[hosts]] power`,
//! `boot_s`), hosts switched off when idle (`[cluster] power_off_idle_s`) and host
//! failures (`[cluster] failures`, `on_failure`). Every setting defaults to "off", and a
//! scenario without them simulates exactly as before.

use serde::{Deserialize, Serialize};
use sim::{FailureSpec, HostPower, OnFailure, PowerCurve, SimTime, UptimeDist};

use crate::error::Error;

/// `[[hosts]] power`: `{ idle_w, max_w }` (linear in the share of busy pCPUs) or
/// `{ curve_w = [11 points] }` (0 %, 10 %, … 100 %, interpolated linearly), and `off_w`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSettings {
    /// Watts with no pCPU busy (with `max_w`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_w: Option<f64>,
    /// Watts with every pCPU busy (with `idle_w`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_w: Option<f64>,
    /// Eleven non-decreasing points, watts at 0 %, 10 %, … 100 % (instead of the two above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve_w: Option<Vec<f64>>,
    /// Watts while switched off or failed (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub off_w: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The uptime distribution of `[cluster] failures`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FailureDist {
    /// Exponential (default).
    #[default]
    Exponential,
    /// Weibull with `shape`.
    Weibull,
}

/// `[cluster] failures`: `{ mtbf_h, mttr_h, dist, shape }` or `{ path }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureSettings {
    /// Mean time between failures (mean uptime), hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtbf_h: Option<f64>,
    /// Mean time to repair (repairs are exponential), hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mttr_h: Option<f64>,
    /// `"exponential"` (default) or `"weibull"` uptimes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist: Option<FailureDist>,
    /// Weibull shape (> 0; needed with `dist = "weibull"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<f64>,
    /// A recorded history instead: a CSV file `host,fail_s,repair_s` (relative to the
    /// scenario's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `[cluster] on_failure`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnFailureSetting {
    /// The VMs of a failed host start again from the admission queue (default).
    #[default]
    Restart,
    /// They are lost.
    Lose,
}

impl OnFailureSetting {
    /// The engine's value.
    pub fn to_sim(self) -> OnFailure {
        match self {
            OnFailureSetting::Restart => OnFailure::Restart,
            OnFailureSetting::Lose => OnFailure::Lose,
        }
    }
    /// Whether it is the default (left out when a scenario is written back).
    pub fn is_default(&self) -> bool {
        *self == OnFailureSetting::Restart
    }
}

fn watts(key: &str, w: f64) -> Result<f64, Error> {
    if w.is_finite() && w >= 0.0 {
        Ok(w)
    } else {
        Err(Error::invalid(
            key,
            format!("must be a finite number of watts ≥ 0, got {w}"),
        ))
    }
}

/// Checks `[[hosts]] power` of group `g` and converts it.
pub fn host_power(g: usize, p: &PowerSettings) -> Result<HostPower, Error> {
    let key = |k: &str| format!("hosts[{g}].power.{k}");
    let off_w = watts(&key("off_w"), p.off_w)?;
    let curve = match (p.idle_w, p.max_w, &p.curve_w) {
        (Some(idle), Some(max), None) => {
            let idle_w = watts(&key("idle_w"), idle)?;
            let max_w = watts(&key("max_w"), max)?;
            if max_w < idle_w {
                return Err(Error::invalid(
                    key("max_w"),
                    format!("must be ≥ idle_w ({idle_w}), got {max_w}"),
                ));
            }
            PowerCurve::Linear { idle_w, max_w }
        }
        (None, None, Some(points)) => {
            let n = sim::datacenter::CURVE_POINTS;
            if points.len() != n {
                return Err(Error::invalid(
                    key("curve_w"),
                    format!(
                        "needs {n} points (0 %, 10 %, … 100 %), got {}",
                        points.len()
                    ),
                ));
            }
            let mut c = [0.0; sim::datacenter::CURVE_POINTS];
            for (i, &w) in points.iter().enumerate() {
                c[i] = watts(&key("curve_w"), w)?;
                if i > 0 && c[i] < c[i - 1] {
                    return Err(Error::invalid(
                        key("curve_w"),
                        format!(
                            "must not decrease: point {i} ({w} W) is below point {} ({} W)",
                            i - 1,
                            c[i - 1]
                        ),
                    ));
                }
            }
            PowerCurve::Curve(c)
        }
        _ => {
            return Err(Error::invalid(
                format!("hosts[{g}].power"),
                "give either idle_w and max_w, or curve_w (11 points)",
            ));
        }
    };
    Ok(HostPower { curve, off_w })
}

/// Hours as a [`SimTime`], > 0.
fn hours(key: &str, h: Option<f64>) -> Result<SimTime, Error> {
    let Some(h) = h else {
        return Err(Error::invalid(key, "missing (or give `path` instead)"));
    };
    if !(h.is_finite() && h > 0.0) {
        return Err(Error::invalid(key, format!("must be > 0, got {h}")));
    }
    SimTime::from_secs_f64(h * 3600.0)
        .filter(|t| *t > SimTime::ZERO)
        .ok_or_else(|| Error::invalid(key, format!("out of range: {h}")))
}

/// Checks `[cluster] failures` and converts its random form; `Ok(None)` for a recorded
/// history (`path`), which is read when the configuration is built.
pub fn random_failures(f: &FailureSettings) -> Result<Option<FailureSpec>, Error> {
    if let Some(p) = &f.path {
        if f.mtbf_h.is_some() || f.mttr_h.is_some() || f.dist.is_some() || f.shape.is_some() {
            return Err(Error::invalid(
                "cluster.failures.path",
                "a recorded history takes no mtbf_h, mttr_h, dist or shape",
            ));
        }
        if p.is_empty() {
            return Err(Error::invalid("cluster.failures.path", "must not be empty"));
        }
        return Ok(None);
    }
    let mtbf = hours("cluster.failures.mtbf_h", f.mtbf_h)?;
    let mttr = hours("cluster.failures.mttr_h", f.mttr_h)?;
    let dist = match (f.dist.unwrap_or_default(), f.shape) {
        (FailureDist::Exponential, None) => UptimeDist::Exponential,
        (FailureDist::Exponential, Some(_)) => {
            return Err(Error::invalid(
                "cluster.failures.shape",
                "only with dist = \"weibull\"",
            ));
        }
        (FailureDist::Weibull, Some(shape)) if shape.is_finite() && shape > 0.0 => {
            UptimeDist::Weibull { shape }
        }
        (FailureDist::Weibull, Some(shape)) => {
            return Err(Error::invalid(
                "cluster.failures.shape",
                format!("must be > 0, got {shape}"),
            ));
        }
        (FailureDist::Weibull, None) => {
            return Err(Error::invalid(
                "cluster.failures.shape",
                "missing: dist = \"weibull\" needs a shape",
            ));
        }
    };
    Ok(Some(FailureSpec::Random { mtbf, mttr, dist }))
}

/// Checks `[cluster] power_off_idle_s` and converts it.
pub fn power_off_idle(s: Option<f64>) -> Result<Option<SimTime>, Error> {
    match s {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 0.0 => SimTime::from_secs_f64(v)
            .map(Some)
            .ok_or_else(|| Error::invalid("cluster.power_off_idle_s", format!("too large: {v}"))),
        Some(v) => Err(Error::invalid(
            "cluster.power_off_idle_s",
            format!("must be ≥ 0, got {v}"),
        )),
    }
}

/// Checks `[[hosts]] boot_s` of group `g` and converts it.
pub fn boot_time(g: usize, s: f64) -> Result<SimTime, Error> {
    let key = format!("hosts[{g}].boot_s");
    if !(s.is_finite() && s >= 0.0) {
        return Err(Error::invalid(key, format!("must be ≥ 0, got {s}")));
    }
    SimTime::from_secs_f64(s).ok_or_else(|| Error::invalid(key, format!("too large: {s}")))
}
