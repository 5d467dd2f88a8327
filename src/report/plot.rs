//! `kadsim plot`: the charts of one run, written next to its CSVs, and the
//! overlays of several runs on one chart. Each chart is built from the files
//! alone, so a run from another machine or version plots the same way.
//!
//! | file stem | what it shows |
//! |---|---|
//! | `hops_hist` | hop count (DESIGN.md §4 discovery depth) by operation kind, as a fraction of the operations with a result |
//! | `hops_cdf` | the same as an empirical CDF |
//! | `latency_cdf` | operation latency CDF, ms, log axis |
//! | `success_alive` | success rate per interval of each operation kind (left, fitted) and nodes up (right), warm-up and partitions shaded |
//! | `traffic` | messages sent per node up per second, lookup and maintenance traffic, log axis |
//! | `bandwidth` | the same in bytes |
//! | `buckets` | mean contacts per node in each bucket i (§2.2), with k marked, over the buckets that hold contacts |
//! | `stale_contacts`, `attack_success` | the churn study's and the adversary's, when they apply ([`super::churn_charts`]) |
//!
//! Overlays ([`plot_runs`]) draw several runs, one style per run: the node
//! lookups' hop and latency CDFs, the gets' latency CDF, the node lookups'
//! success over time and the traffic over time; and `overlay_panels`, a
//! four-panel figure of hops, latency, timeouts per lookup and traffic per
//! node ([`super::overlay_figure`]).

use super::chart::{Chart, Mark, SaveError, Series, Shade, Style, ecdf, log10_y, save_all};
use super::results::{Results, kind_label};
use crate::files::owned::Out;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub use super::run_series::{cdf_chart, hops_of, latencies_ms_of, latency_cdf_chart, shades};

fn with_n(label: &str, n: usize) -> String {
    format!("{label} (n = {n})")
}

/// Hop-count histogram: fraction of the operations at each hop count.
pub fn hops_histogram(r: &Results) -> Chart {
    let kinds = r.kinds();
    let width = 0.8 / kinds.len().max(1) as f64;
    let series = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let hops = hops_of(r, k);
            let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
            for h in &hops {
                *counts.entry(*h as u64).or_default() += 1;
            }
            let n = hops.len().max(1) as f64;
            let points = counts.into_iter().map(|(h, c)| (h as f64, c as f64 / n)).collect();
            let offset = (i as f64 - (kinds.len() as f64 - 1.0) / 2.0) * width;
            Series::new(with_n(kind_label(k), hops.len()), points, Mark::Bars { width, offset })
        })
        .collect();
    Chart {
        title: format!("{}: hop count", r.name()),
        x_label: "hops (discovery depth)".into(),
        y_label: "fraction of operations".into(),
        series,
        integer_x: true,
        ..Chart::default()
    }
}

/// The CDF of `values(r, kind)` for each operation kind of `r`.
fn cdf_by_kind(r: &Results, values: fn(&Results, &str) -> Vec<f64>) -> Vec<Series> {
    r.kinds()
        .iter()
        .map(|k| {
            let v = values(r, k);
            Series::new(with_n(kind_label(k), v.len()), ecdf(&v), Mark::Step)
        })
        .collect()
}

/// Hop-count CDF by operation kind.
pub fn hops_cdf(r: &Results) -> Chart {
    cdf_chart(format!("{}: hop count CDF", r.name()), "hops (discovery depth)", cdf_by_kind(r, hops_of), true)
}

/// Latency CDF by operation kind.
pub fn latency_cdf(r: &Results) -> Chart {
    latency_cdf_chart(format!("{}: operation latency CDF", r.name()), cdf_by_kind(r, latencies_ms_of))
}

/// The success rate of `kind` per sample interval (intervals where some finished).
pub(crate) fn success_points(r: &Results, kind: &str) -> Vec<(f64, f64)> {
    r.samples
        .iter()
        .filter_map(|s| {
            let (done, ok) = s.done_of(kind);
            (done > 0).then(|| (s.time_s, f64::from(ok) / f64::from(done)))
        })
        .collect()
}

/// Success rate per interval of each operation kind, and nodes up, over
/// time; the left axis fitted to the rates (marked with a break when it does
/// not start at 0), the warm-up and any partition shaded.
pub fn success_alive(r: &Results) -> Chart {
    let per_kind = r.samples.iter().any(|s| s.find_node_done + s.get_done + s.put_done > 0);
    let mut series: Vec<Series> = if per_kind {
        r.kinds()
            .iter()
            .map(|k| Series::new(kind_label(k).to_string(), success_points(r, k), Mark::Line { dots: false }))
            .collect()
    } else {
        vec![Series::new("all operations", success_points(r, "all"), Mark::Line { dots: false })]
    };
    let alive = r.samples.iter().map(|s| (s.time_s, f64::from(s.alive))).collect();
    series.push(Series::new("nodes up (right)", alive, Mark::Line { dots: false }).on_right().styled_as(6));
    Chart {
        title: format!("{}: success rate and nodes up", r.name()),
        x_label: "simulated time (s)".into(),
        y_label: "success rate per interval".into(),
        y2_label: Some("nodes up".into()),
        series,
        shades: shades(r),
        y_fit: true,
        y_label_max: Some(1.0),
        ..Chart::default()
    }
}

/// Per interval, `count(sample)` divided by the interval's length and by the
/// mean of the nodes up at its start and at its end.
pub(crate) fn per_node_per_s(r: &Results, count: impl Fn(&super::results::Sample) -> Option<u64>) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let (mut t0, mut alive0) = (0.0, None::<f64>);
    for s in &r.samples {
        let dt = s.time_s - t0;
        let alive1 = f64::from(s.alive);
        let nodes = (alive0.unwrap_or(alive1) + alive1) / 2.0;
        if dt > 0.0
            && nodes > 0.0
            && let Some(c) = count(s)
        {
            out.push((s.time_s, c as f64 / dt / nodes));
        }
        t0 = s.time_s;
        alive0 = Some(alive1);
    }
    out
}

/// A count read from a sample.
type Count = fn(&super::results::Sample) -> Option<u64>;

/// Whether the run's time series splits lookup from maintenance traffic.
fn has_split(r: &Results) -> bool {
    r.samples.iter().all(|s| s.lookup_msgs_sent.is_some() && s.maintenance_msgs_sent.is_some()) && !r.samples.is_empty()
}

/// Traffic per node up per second over time, lookup and maintenance traffic
/// apart (total only for runs that predate the split), on a log axis so that
/// the join phase's burst and the steady state after it both read.
fn traffic_chart(r: &Results, bytes: bool) -> Chart {
    let (what, unit) = if bytes { ("bandwidth", "bytes") } else { ("traffic", "messages") };
    let mut series = Vec::new();
    if has_split(r) {
        let (l, m): (Count, Count) = if bytes {
            (|s| s.lookup_bytes_sent, |s| s.maintenance_bytes_sent)
        } else {
            (|s| s.lookup_msgs_sent, |s| s.maintenance_msgs_sent)
        };
        series.push(Series::new(
            "lookup (workload operations)",
            log10_y(&per_node_per_s(r, l)),
            Mark::Line { dots: false },
        ));
        series.push(Series::new("maintenance", log10_y(&per_node_per_s(r, m)), Mark::Line { dots: false }));
    } else {
        let total = per_node_per_s(r, |s| Some(if bytes { s.bytes_sent } else { s.msgs_sent }));
        series.push(Series::new("all traffic", log10_y(&total), Mark::Line { dots: false }));
    }
    Chart {
        title: format!("{}: {what} per node", r.name()),
        x_label: "simulated time (s)".into(),
        y_label: format!("{unit} sent per node per s (log)"),
        series,
        shades: shades(r),
        log_y: true,
        ..Chart::default()
    }
}

/// Messages per node up per second, lookup and maintenance traffic apart.
pub fn traffic(r: &Results) -> Chart {
    traffic_chart(r, false)
}

/// Bytes per node up per second, lookup and maintenance traffic apart.
pub fn bandwidth(r: &Results) -> Chart {
    traffic_chart(r, true)
}

/// What the buckets chart needs said when a mean exceeds k: why it can.
pub const BUCKETS_NOTE: &str = "A mean above k is expected: near its own ID a node keeps splitting full \
buckets (§2.4, §4.2), so one distance range can hold more than k contacts.";

/// Runs of at least this many empty buckets between buckets with contacts
/// are left out of the buckets chart's x axis (marked with a break).
pub const BUCKET_CUT_RUN: u32 = 5;

/// The x axis of a buckets chart.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketAxis {
    /// From the first bucket with contacts to the last, with a little room
    /// on either side.
    pub range: (f64, f64),
    /// Each run of [`BUCKET_CUT_RUN`] or more empty buckets between them,
    /// left out (drawn as a break with a bucket's room on either side).
    pub cuts: Vec<(f64, f64)>,
    /// Ticks at multiples of a round step and at both sides of each cut (so
    /// that a reader sees where it jumps: 116, 140).
    pub ticks: Vec<(f64, String)>,
}

/// The buckets chart's x axis for the buckets that hold contacts (`filled`,
/// ascending); `None` when none does.
pub fn bucket_axis(filled: &[u32]) -> Option<BucketAxis> {
    let (&first, &last) = (filled.first()?, filled.last()?);
    // The stretches drawn: (first bucket, last bucket), apart by long empty runs.
    let mut stretches: Vec<(u32, u32)> = vec![(first, first)];
    for &b in &filled[1..] {
        let open = stretches.last_mut().expect("one stretch at least");
        if b > open.1 + BUCKET_CUT_RUN {
            stretches.push((b, b));
        } else {
            open.1 = open.1.max(b);
        }
    }
    let cuts: Vec<(f64, f64)> =
        stretches.windows(2).map(|w| (f64::from(w[0].1) + 1.5, f64::from(w[1].0) - 1.5)).collect();
    let drawn: u32 = stretches.iter().map(|(a, b)| b - a + 1).sum();
    let step = [1, 2, 5, 10, 20, 50, 100].into_iter().find(|s| drawn / s <= 8).unwrap_or(100);
    let mut ticks: Vec<u32> = Vec::new();
    for (i, &(a, b)) in stretches.iter().enumerate() {
        // The sides of the cuts, then the multiples of the step not crowding them.
        let sides: Vec<u32> =
            [(i > 0).then_some(a), (i + 1 < stretches.len()).then_some(b)].into_iter().flatten().collect();
        ticks.extend(&sides);
        ticks.extend((a..=b).filter(|t| t % step == 0 && sides.iter().all(|s| s.abs_diff(*t) * 2 >= step)));
    }
    ticks.sort_unstable();
    ticks.dedup();
    let ticks = ticks.into_iter().map(|t| (f64::from(t), t.to_string())).collect();
    Some(BucketAxis { range: (f64::from(first) - 1.0, f64::from(last) + 1.0), cuts, ticks })
}

/// Routing-table fill by bucket index, with k marked; the x axis fitted to
/// the buckets that hold contacts ([`bucket_axis`]).
pub fn buckets(r: &Results) -> Chart {
    let filled: Vec<u32> = r
        .buckets
        .iter()
        .filter(|b| b.contacts_mean > 0.0)
        .map(|b| b.bucket)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let axis = bucket_axis(&filled);
    let drawn = |i: f64| match &axis {
        Some(a) => i > a.range.0 && i < a.range.1 && a.cuts.iter().all(|(from, to)| i < *from || i > *to),
        None => true,
    };
    let points = r.buckets.iter().map(|b| (f64::from(b.bucket), b.contacts_mean)).filter(|p| drawn(p.0)).collect();
    let above_k = r.k().is_some_and(|k| r.buckets.iter().any(|b| b.contacts_mean > k));
    let (x_range, x_cuts, x_ticks) = match axis {
        Some(a) => (Some(a.range), a.cuts, a.ticks),
        None => (None, Vec::new(), Vec::new()),
    };
    Chart {
        title: format!("{}: routing-table fill by bucket", r.name()),
        x_label: "bucket i (distance 2ⁱ to 2ⁱ⁺¹)".into(),
        y_label: "contacts per node (mean)".into(),
        series: vec![Series::new("mean contacts", points, Mark::Bars { width: 0.8, offset: 0.0 })],
        hline: r.k().map(|k| (k, format!("k = {k}"))),
        integer_x: true,
        x_range,
        x_cuts,
        x_ticks,
        note: above_k.then(|| BUCKETS_NOTE.to_string()),
        ..Chart::default()
    }
}

/// Writes every chart of `r` into `out` in `style` and returns the files.
pub fn plot_run_styled(r: &Results, out: &Out, style: &Style) -> Result<Vec<PathBuf>, SaveError> {
    save_all(&run_charts(r), out, style)
}

/// Every chart of `r` with its file stem.
pub fn run_charts(r: &Results) -> Vec<(&'static str, Chart)> {
    let mut charts = vec![
        ("hops_hist", hops_histogram(r)),
        ("hops_cdf", hops_cdf(r)),
        ("latency_cdf", latency_cdf(r)),
        ("success_alive", success_alive(r)),
        ("traffic", traffic(r)),
        ("bandwidth", bandwidth(r)),
    ];
    if !r.buckets.is_empty() {
        charts.push(("buckets", buckets(r)));
    }
    if super::churn_charts::has_staleness(r) {
        charts.push(("stale_contacts", super::churn_charts::stale_contacts(r)));
    }
    if super::churn_charts::has_attack(r) {
        charts.push(("attack_success", super::churn_charts::attack_success(r)));
    }
    charts
}

/// The labels of runs drawn together: the given ones, else each run's
/// directory name (with its scenario name when two directories share a name).
pub fn run_labels(runs: &[Results], given: Option<&str>) -> Result<Vec<String>, String> {
    let name = |r: &Results| r.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| r.name());
    labels(runs.iter().map(name).collect(), given, "runs")
}

/// The labels of things drawn together (`what`: runs, sets): the given ones
/// (`--label A,B,...`, one per thing, none empty), else their `names`, a
/// name given twice numbered by its place.
pub fn labels(names: Vec<String>, given: Option<&str>, what: &str) -> Result<Vec<String>, String> {
    if let Some(list) = given {
        let labels: Vec<String> = list.split(',').map(|l| l.trim().to_string()).collect();
        if labels.len() != names.len() {
            return Err(format!(
                "--label: {} labels for {} {what}; give one for each, comma-separated",
                labels.len(),
                names.len()
            ));
        }
        if let Some(empty) = labels.iter().position(String::is_empty) {
            return Err(format!("--label: label {} is empty", empty + 1));
        }
        return Ok(labels);
    }
    Ok(names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let twice = names.iter().filter(|m| *m == n).count() > 1;
            if twice { format!("{n} ({})", i + 1) } else { n.clone() }
        })
        .collect())
}

/// The shades runs drawn together share: the first run's, when every run has them.
pub(crate) fn common_shades(runs: &[Results]) -> Vec<Shade> {
    let first = runs.first().map(shades).unwrap_or_default();
    if runs.iter().all(|r| shades(r) == first) { first } else { Vec::new() }
}

/// Several runs on one chart each, the way a paper compares variants: hop and
/// latency CDFs of the node lookups, the gets' latency CDF (when every run
/// has gets), the node lookups' success rate over time and the traffic over
/// time. Run i is drawn in style i on every chart.
pub fn overlay_charts(runs: &[Results], labels: &[String]) -> Vec<(&'static str, Chart)> {
    let title = |what: &str| format!("{what}: {}", labels.join(" vs "));
    let named = |i: usize, n: usize| with_n(&labels[i], n);
    let cdf = |kind: &str, f: fn(&Results, &str) -> Vec<f64>| -> Vec<Series> {
        runs.iter()
            .enumerate()
            .map(|(i, r)| {
                let v = f(r, kind);
                Series::new(named(i, v.len()), ecdf(&v), Mark::Step).styled_as(i)
            })
            .collect()
    };
    let mut charts = vec![
        (
            "overlay_hops_cdf",
            cdf_chart(title("Node lookup hops"), "hops (discovery depth)", cdf("find_node", hops_of), true),
        ),
        ("overlay_latency_cdf", latency_cdf_chart(title("Node lookup latency"), cdf("find_node", latencies_ms_of))),
    ];
    if runs.iter().all(|r| r.ops_of("get").next().is_some()) {
        charts.push(("overlay_get_latency_cdf", latency_cdf_chart(title("Get latency"), cdf("get", latencies_ms_of))));
    }
    let kind = if runs.iter().all(|r| r.samples.iter().any(|s| s.find_node_done > 0)) { "find_node" } else { "all" };
    let success = runs
        .iter()
        .enumerate()
        .map(|(i, r)| Series::new(labels[i].clone(), success_points(r, kind), Mark::Line { dots: false }).styled_as(i))
        .collect();
    charts.push((
        "overlay_success",
        Chart {
            title: title(if kind == "find_node" { "Node lookup success" } else { "Success" }),
            x_label: "simulated time (s)".into(),
            y_label: "success rate per interval".into(),
            series: success,
            shades: common_shades(runs),
            y_fit: true,
            y_label_max: Some(1.0),
            ..Chart::default()
        },
    ));
    let traffic = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = per_node_per_s(r, |s| Some(s.msgs_sent));
            Series::new(labels[i].clone(), log10_y(&t), Mark::Line { dots: false }).styled_as(i)
        })
        .collect();
    charts.push((
        "overlay_traffic",
        Chart {
            title: title("Traffic per node"),
            x_label: "simulated time (s)".into(),
            y_label: "messages sent per node per s (log)".into(),
            series: traffic,
            shades: common_shades(runs),
            log_y: true,
            ..Chart::default()
        },
    ));
    charts
}

/// Writes the overlays of `runs` (labelled `labels`) into `out` in `style`,
/// then the four-panel figure `overlay_panels` ([`super::overlay_figure`]),
/// each of its panels at `style`'s size.
pub fn plot_runs(runs: &[Results], labels: &[String], out: &Out, style: &Style) -> Result<Vec<PathBuf>, SaveError> {
    let stem = "overlay_panels";
    out.claim_all(
        style
            .formats
            .iter()
            .map(|f| format!("{stem}.{}", f.extension()))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    )?;
    let mut files = save_all(&overlay_charts(runs, labels), out, style)?;
    files.extend(super::overlay_figure::overlay_figure(runs, labels).save_styled(&out.path().join(stem), style)?);
    Ok(files)
}
