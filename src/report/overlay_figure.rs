//! `overlay_panels`: several runs compared in one four-panel figure, the
//! figure a paper gives when it sets a realistic network against the
//! idealised one (docs/scenarios.md "Realistic presets"): (a) the node lookups' hop
//! CDF, (b) their latency CDF, (c) the CDF of the requests each node lookup
//! waited out (timeouts per lookup), and (d) the bytes each node up sent per
//! second after the warm-up, for lookups and for maintenance
//! (`bytes.lookup_per_live_node_per_s`, `bytes.maintenance_per_live_node_per_s`).
//! Run i is drawn in style i in every panel.

use super::chart::panels::Figure;
use super::chart::{Chart, Mark, Series, ecdf};
use super::results::Results;
use super::run_series::{cdf_chart, hops_of, latencies_ms_of, latency_cdf_chart};

/// Timeouts per node lookup of `r`.
fn timeouts_of(r: &Results) -> Vec<f64> {
    r.ops_of("find_node").map(|o| f64::from(o.timeouts)).collect()
}

/// The four-panel figure of `runs`, labelled `labels`.
pub fn overlay_figure(runs: &[Results], labels: &[String]) -> Figure {
    let cdf = |f: &dyn Fn(&Results) -> Vec<f64>| -> Vec<Series> {
        runs.iter()
            .enumerate()
            .map(|(i, r)| {
                let v = f(r);
                Series::new(format!("{} (n = {})", labels[i], v.len()), ecdf(&v), Mark::Step).styled_as(i)
            })
            .collect()
    };
    let hops = cdf_chart("Node lookup hops".into(), "hops (discovery depth)", cdf(&|r| hops_of(r, "find_node")), true);
    let latency = latency_cdf_chart("Node lookup latency".into(), cdf(&|r| latencies_ms_of(r, "find_node")));
    let timeouts = cdf_chart("Timeouts per node lookup".into(), "requests timed out", cdf(&timeouts_of), true);
    // (d): grouped bars, one group per traffic class, one bar per run.
    let n = runs.len().max(1) as f64;
    let width = 0.8 / n;
    let bars = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let points = ["bytes.lookup_per_live_node_per_s", "bytes.maintenance_per_live_node_per_s"]
                .iter()
                .enumerate()
                .map(|(x, m)| (x as f64, r.metric(m).unwrap_or(0.0)))
                .collect();
            let offset = (i as f64 - (n - 1.0) / 2.0) * width;
            Series::new(labels[i].clone(), points, Mark::Bars { width, offset }).styled_as(i)
        })
        .collect();
    let traffic = Chart {
        title: "Traffic per node".into(),
        x_label: "traffic".into(),
        y_label: "bytes sent per node up per s".into(),
        series: bars,
        x_names: vec!["lookups".into(), "maintenance".into()],
        x_range: Some((-0.5, 1.5)),
        x_ticks: vec![(0.0, "lookups".into()), (1.0, "maintenance".into())],
        ..Chart::default()
    };
    Figure { title: labels.join(" vs "), panels: vec![hops, latency, timeouts, traffic], cols: 2 }
}
