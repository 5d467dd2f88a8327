//! `kadsim plot`: the charts of one run, written next to its CSVs as PNG and
//! SVG. Each chart is built from the files alone, so a run from another
//! machine or version plots the same way.
//!
//! | file stem | what it shows |
//! |---|---|
//! | `hops_hist` | hop count (DESIGN.md §4 discovery depth) by operation kind, as a fraction of the operations with a result |
//! | `hops_cdf` | the same as an empirical CDF |
//! | `latency_cdf` | operation latency CDF, ms |
//! | `success_alive` | success rate per interval (left) and nodes up (right) over time, warm-up shaded |
//! | `traffic` | messages and bytes sent per node up per second over time |
//! | `buckets` | mean contacts per node in each bucket i (§2.2), with k marked |

use super::chart::{Chart, ChartError, Mark, Series, Style, ecdf, log10_x};
use super::results::{Results, kind_label};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Hop counts of the operations of `kind` that report one (as in
/// `summary.csv`: node lookups and puts always have a result; a get only when
/// it found the value).
pub fn hops_of(r: &Results, kind: &str) -> Vec<f64> {
    r.ops_of(kind).filter_map(|o| o.hops).map(f64::from).collect()
}

/// Latencies in ms of the operations of `kind`.
pub fn latencies_ms_of(r: &Results, kind: &str) -> Vec<f64> {
    r.ops_of(kind).map(|o| o.latency_us as f64 / 1000.0).collect()
}

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
        y_label: "fraction of operations with a result".into(),
        series,
        integer_x: true,
        ..Chart::default()
    }
}

/// A CDF chart: one step series per sample, y from 0 to 1, legend low.
pub fn cdf_chart(title: String, x_label: &str, series: Vec<Series>, integer_x: bool) -> Chart {
    Chart {
        title,
        x_label: x_label.into(),
        y_label: "fraction of operations ≤ x".into(),
        series,
        y_range: Some((0.0, 1.02)),
        legend_low: true,
        integer_x,
        x_pad: true,
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

/// A latency CDF on a log axis: gets answered in tens of milliseconds and node
/// lookups waiting seconds for their last replies both stay readable.
pub fn latency_cdf_chart(title: String, series: Vec<Series>) -> Chart {
    let series = series.into_iter().map(|s| Series { points: log10_x(&s.points), ..s }).collect();
    Chart { log_x: true, x_pad: false, ..cdf_chart(title, "latency (ms, log scale)", series, false) }
}

fn warmup_shade(r: &Results) -> Option<(f64, f64, String)> {
    let w = r.warmup_s();
    (w > 0.0).then(|| (0.0, w, "warm-up".to_string()))
}

/// Success rate per interval and nodes up, over time.
pub fn success_alive(r: &Results) -> Chart {
    let rate = r
        .samples
        .iter()
        .filter(|s| s.ops_done > 0)
        .map(|s| (s.time_s, f64::from(s.ops_succeeded) / f64::from(s.ops_done)))
        .collect();
    let alive = r.samples.iter().map(|s| (s.time_s, f64::from(s.alive))).collect();
    Chart {
        title: format!("{}: success rate and nodes up", r.name()),
        x_label: "simulated time (s)".into(),
        y_label: "operations succeeded / finished".into(),
        y2_label: Some("nodes up".into()),
        series: vec![
            Series::new("success rate (left)", rate, Mark::Line { dots: true }),
            Series::new("nodes up (right)", alive, Mark::Line { dots: false }).on_right(),
        ],
        shade: warmup_shade(r),
        y_range: Some((0.0, 1.05)),
        legend_low: true,
        ..Chart::default()
    }
}

/// Messages and bytes per node up per second, over time: each interval's
/// count divided by its length and by the mean of the nodes up at its start
/// and at its end.
pub fn traffic(r: &Results) -> Chart {
    let (mut msgs, mut bytes) = (Vec::new(), Vec::new());
    let (mut t0, mut alive0) = (0.0, None::<f64>);
    for s in &r.samples {
        let dt = s.time_s - t0;
        let alive1 = f64::from(s.alive);
        let nodes = (alive0.unwrap_or(alive1) + alive1) / 2.0;
        if dt > 0.0 && nodes > 0.0 {
            msgs.push((s.time_s, s.msgs_sent as f64 / dt / nodes));
            bytes.push((s.time_s, s.bytes_sent as f64 / dt / nodes));
        }
        t0 = s.time_s;
        alive0 = Some(alive1);
    }
    Chart {
        title: format!("{}: traffic per node", r.name()),
        x_label: "simulated time (s)".into(),
        y_label: "messages sent per node per second".into(),
        y2_label: Some("bytes sent per node per second".into()),
        series: vec![
            Series::new("messages (left)", msgs, Mark::Line { dots: true }),
            Series::new("bytes (right)", bytes, Mark::Line { dots: false }).on_right(),
        ],
        shade: warmup_shade(r),
        ..Chart::default()
    }
}

/// Routing-table fill by bucket index, with k marked.
pub fn buckets(r: &Results) -> Chart {
    let points = r.buckets.iter().map(|b| (f64::from(b.bucket), b.contacts_mean)).collect();
    Chart {
        title: format!("{}: routing-table fill by bucket", r.name()),
        x_label: "bucket i (contacts at distance 2^i to 2^(i+1))".into(),
        y_label: "contacts per node (mean)".into(),
        series: vec![Series::new("mean contacts", points, Mark::Bars { width: 0.8, offset: 0.0 })],
        hline: r.k().map(|k| (k, format!("k = {k}"))),
        legend_low: false,
        integer_x: true,
        ..Chart::default()
    }
}

/// Writes every chart of `r` into `out` (PNG and SVG) and returns the files.
pub fn plot_run(r: &Results, out: &Path) -> Result<Vec<PathBuf>, ChartError> {
    plot_run_styled(r, out, &Style::default())
}

/// Writes every chart of `r` into `out` in `style` and returns the files.
pub fn plot_run_styled(r: &Results, out: &Path, style: &Style) -> Result<Vec<PathBuf>, ChartError> {
    let mut charts = vec![
        ("hops_hist", hops_histogram(r)),
        ("hops_cdf", hops_cdf(r)),
        ("latency_cdf", latency_cdf(r)),
        ("success_alive", success_alive(r)),
        ("traffic", traffic(r)),
    ];
    if !r.buckets.is_empty() {
        charts.push(("buckets", buckets(r)));
    }
    let mut files = Vec::new();
    for (stem, chart) in charts {
        files.extend(chart.save_styled(&out.join(stem), style)?);
    }
    Ok(files)
}
