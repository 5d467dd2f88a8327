//! The pieces charts are made of, shared by every chart module: the values
//! of one run's operations (hop counts, latencies), the CDF charts they are
//! drawn in, and the shaded warm-up and partitions of a run's time axis.

use super::chart::{Chart, Series, Shade, Tone, log10_x};
use super::results::Results;

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

/// A CDF chart: one step series per sample, y from 0 to 1, legend preferably low.
pub fn cdf_chart(title: String, x_label: &str, series: Vec<Series>, integer_x: bool) -> Chart {
    Chart {
        title,
        x_label: x_label.into(),
        y_label: "fraction ≤ x".into(),
        series,
        y_range: Some((0.0, 1.02)),
        y_label_max: Some(1.0),
        legend_low: true,
        integer_x,
        x_pad: true,
        ..Chart::default()
    }
}

/// A latency CDF on a log axis: gets answered in tens of milliseconds and node
/// lookups waiting seconds for their last replies both stay readable.
pub fn latency_cdf_chart(title: String, series: Vec<Series>) -> Chart {
    let series = series.into_iter().map(|s| Series { points: log10_x(&s.points), ..s }).collect();
    Chart { log_x: true, x_pad: false, ..cdf_chart(title, "latency (ms, log scale)", series, false) }
}

/// The warm-up and the partitions of `r`, shaded.
pub fn shades(r: &Results) -> Vec<Shade> {
    let mut out = Vec::new();
    let w = r.warmup_s();
    if w > 0.0 {
        out.push(Shade { from: 0.0, to: w, label: "warm-up".into(), tone: Tone::Grey });
    }
    for (start, end, _) in r.partitions() {
        out.push(Shade { from: start, to: end, label: "partition".into(), tone: Tone::Warm });
    }
    out
}
