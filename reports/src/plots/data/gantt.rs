//! Gantt slices read back from `slices.csv` (or taken from a run in memory).

use super::*;

/// One bar of a Gantt chart.
#[derive(Clone, Debug, PartialEq)]
pub struct GanttBar {
    /// Row index (into [`GanttData::rows`]).
    pub row: usize,
    /// VM id (selects the colour).
    pub vm: u64,
    /// Text drawn in the bar when it fits.
    pub label: String,
    /// Dispatch (start of the context switch), seconds.
    pub dispatch: f64,
    /// Start of guest code, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}

/// The slices of one run, ready to draw.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GanttData {
    /// Title of the panel (e.g. the policy).
    pub title: String,
    /// Row labels, top to bottom (`pCPU0`, or `h1 pCPU0` with several hosts).
    pub rows: Vec<String>,
    /// Bars.
    pub bars: Vec<GanttBar>,
    /// Right end of the time axis, seconds.
    pub end: f64,
    /// Slices in the run (bars drawn may be fewer: see [`GANTT_MAX_SLICES`]).
    pub total: u64,
}

#[derive(Clone, Copy)]
struct RawSlice {
    host: u32,
    pcpu: u32,
    vm: u64,
    vcpu: u32,
    dispatch: f64,
    start: f64,
    end: f64,
}

fn gantt_from_raw(
    title: String,
    mut raw: Vec<RawSlice>,
    total: u64,
    window: Option<f64>,
    label: &dyn Fn(u64) -> String,
) -> GanttData {
    let end = match window {
        Some(w) => {
            for s in &mut raw {
                s.end = s.end.min(w);
                s.start = s.start.min(w);
            }
            w
        }
        None => raw.iter().map(|s| s.end).fold(0.0, f64::max),
    };
    let keys: std::collections::BTreeSet<(u32, u32)> =
        raw.iter().map(|s| (s.host, s.pcpu)).collect();
    let hosts: std::collections::BTreeSet<u32> = keys.iter().map(|k| k.0).collect();
    let keys: Vec<(u32, u32)> = keys.into_iter().collect();
    let multi: std::collections::BTreeSet<u64> =
        raw.iter().filter(|s| s.vcpu > 0).map(|s| s.vm).collect();
    let rows = keys
        .iter()
        .map(|&(h, p)| {
            if hosts.len() > 1 {
                format!("h{h} pCPU{p}")
            } else {
                format!("pCPU{p}")
            }
        })
        .collect();
    raw.sort_by(|a, b| a.dispatch.total_cmp(&b.dispatch));
    let bars = raw
        .iter()
        .filter(|s| s.end > s.dispatch)
        .map(|s| GanttBar {
            row: keys.binary_search(&(s.host, s.pcpu)).unwrap_or(0),
            vm: s.vm,
            label: if multi.contains(&s.vm) {
                format!("{}.{}", label(s.vm), s.vcpu)
            } else {
                label(s.vm)
            },
            dispatch: s.dispatch,
            start: s.start,
            end: s.end,
        })
        .collect();
    GanttData {
        title,
        rows,
        bars,
        end,
        total,
    }
}

/// The Gantt chart data of slices held in memory (a textbook run): every slice is drawn;
/// `names` labels the VMs.
pub fn gantt_from_slices(
    title: &str,
    slices: &[SliceRecord],
    names: &dyn Fn(u64) -> String,
) -> GanttData {
    let secs = |t: SimTime| t.nanos() as f64 / 1e9;
    let raw = slices
        .iter()
        .map(|s| RawSlice {
            host: s.host,
            pcpu: s.pcpu,
            vm: s.vm,
            vcpu: s.vcpu,
            dispatch: secs(s.dispatch),
            start: secs(s.start),
            end: secs(s.end),
        })
        .collect();
    gantt_from_raw(title.to_string(), raw, slices.len() as u64, None, names)
}

/// Reads `slices.csv`: one [`GanttData`] per policy (its first replication), in order of
/// first appearance, each with at most [`GANTT_MAX_SLICES`] slices (plus those straddling
/// the window's end, clipped). Bars are labelled with VM ids.
pub fn read_slices(path: &Path) -> Result<Vec<GanttData>, ReportError> {
    struct State {
        rep: String,
        kept: Vec<RawSlice>,
        window: Option<f64>,
        total: u64,
    }
    let mut rdr = open(path)?;
    let cols = Columns::read(path, &mut rdr)?;
    let c = |n: &str| cols.get(path, n);
    let (c_policy, c_rep, c_host, c_pcpu, c_vm, c_vcpu) = (
        c("policy")?,
        c("replication")?,
        c("host")?,
        c("pcpu")?,
        c("vm")?,
        c("vcpu")?,
    );
    let (c_dispatch, c_start, c_end) = (c("dispatch_s")?, c("start_s")?, c("end_s")?);
    let mut policies: Vec<String> = Vec::new();
    let mut states: Vec<State> = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_err(path, e))?
    {
        let p = index_of(&mut policies, field(&rec, c_policy));
        if p == states.len() {
            states.push(State {
                rep: field(&rec, c_rep).to_string(),
                kept: Vec::new(),
                window: None,
                total: 0,
            });
        }
        let st = &mut states[p];
        if field(&rec, c_rep) != st.rep {
            continue;
        }
        st.total += 1;
        let int = |i: usize, name: &str| -> Result<u64, ReportError> {
            let t = field(&rec, i);
            t.parse().map_err(|_| {
                ReportError::input(
                    path,
                    rec.position().map(|p| p.line()),
                    format!("{name}: not an integer: `{t}`"),
                )
            })
        };
        let s = RawSlice {
            host: u32::try_from(int(c_host, "host")?).unwrap_or(u32::MAX),
            pcpu: u32::try_from(int(c_pcpu, "pcpu")?).unwrap_or(u32::MAX),
            vm: int(c_vm, "vm")?,
            vcpu: u32::try_from(int(c_vcpu, "vcpu")?).unwrap_or(u32::MAX),
            dispatch: number(path, &rec, c_dispatch, "dispatch_s")?,
            start: number(path, &rec, c_start, "start_s")?,
            end: number(path, &rec, c_end, "end_s")?,
        };
        match st.window {
            None => {
                st.kept.push(s);
                if st.kept.len() >= GANTT_MAX_SLICES {
                    st.window = Some(st.kept.iter().map(|k| k.end).fold(0.0, f64::max));
                }
            }
            Some(w) => {
                if s.dispatch < w {
                    st.kept.push(s);
                }
            }
        }
    }
    Ok(policies
        .into_iter()
        .zip(states)
        .map(|(policy, st)| {
            let title = if st.window.is_some() {
                format!(
                    "{policy}, replication {}: first {} of {} slices",
                    st.rep,
                    st.kept.len(),
                    st.total
                )
            } else {
                format!("{policy}, replication {}", st.rep)
            };
            gantt_from_raw(title, st.kept, st.total, st.window, &|id| id.to_string())
        })
        .collect())
}
