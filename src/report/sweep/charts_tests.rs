//! Each kind of sweep chart rendered and read back from its own layout, as a
//! reviewer reads it: a numeric x axis (log-scaled over more than a factor
//! of 10, durations as durations), categories as points, no line across a
//! value never run, every interval of a proportion within [0, 1], a fitted
//! y axis, and legends that name the series or the metric.

use super::*;
use crate::report::chart::{Layout, Style};
use crate::report::sweep::aggregate::cell;

fn vals(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn axes_by_the_values() {
    let k = x_axis(&vals(&["8", "20"]));
    assert!(k.numeric && !k.log && k.integer && k.at == [8.0, 20.0]);
    let d = x_axis(&vals(&["5m", "30m", "2h"]));
    assert!(d.numeric && d.log && d.duration && !d.integer);
    assert!((d.at[0] - 300f64.log10()).abs() < 1e-12 && (d.at[2] - 7200f64.log10()).abs() < 1e-12);
    let zero = x_axis(&vals(&["0s", "15m"]));
    assert!(zero.numeric && !zero.log, "0 has no place on a log axis");
    let c = x_axis(&vals(&["tree", "log_distance"]));
    assert!(!c.numeric && c.at == [0.0, 1.0]);
    let f = x_axis(&vals(&["0.001", "0.1"]));
    assert!(f.log && !f.integer);
    assert!(adjacent("2", "3") && !adjacent("1", "4") && !adjacent("a", "b"));
}

/// A grid over `params` (`NAME=V1,V2`) with 3 replicas.
fn grid(params: &[&str]) -> Grid {
    Grid {
        file: "x.toml".into(),
        set: Vec::new(),
        params: params.iter().map(|p| p.parse().unwrap()).collect(),
        replicas: 3,
        base_seed: 1,
        scenario_sha1: String::new(),
    }
}

/// Cells of `metric` at every point of `g`, three replicas each from `at(point index)`.
fn cells(g: &Grid, metric: &str, at: impl Fn(usize) -> [f64; 3]) -> Vec<Cell> {
    g.points().iter().enumerate().map(|(i, p)| cell(p, metric, &at(i))).collect()
}

fn layout(c: &Chart) -> Layout {
    c.layout(&Style::default()).unwrap()
}

/// The x labels drawn.
fn labels(l: &Layout) -> Vec<&str> {
    l.x_labels.iter().map(|t| t.1.as_str()).collect()
}

/// Checks what every sweep chart must show: bars around their points, those
/// of a proportion within [0, 1]; the y axis fitted to them, with a break
/// when it does not start at 0; no legend entry "mean".
fn common(c: &Chart, l: &Layout, proportion: bool) {
    assert!(c.y_fit, "{}", c.title);
    let (lo, hi) = l.bars.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x.1), b.max(x.2)));
    assert!(!l.bars.is_empty(), "{}: interval bars drawn", c.title);
    if proportion {
        assert!(l.bars.iter().all(|b| 0.0 <= b.1 && b.1 <= b.2 && b.2 <= 1.0), "{}: {:?}", c.title, l.bars);
    }
    assert!(l.y.0 <= lo && hi <= l.y.1, "{}: the bars lie within the y axis", c.title);
    // Fitted: the data fill at least a third of the axis, and an axis not at 0 is marked.
    assert!((hi - lo) / (l.y.1 - l.y.0) > 0.33, "{}: y {:?}, data {lo}..{hi}", c.title, l.y);
    assert_eq!(l.y_cut, l.y.0 > 0.0, "{}", c.title);
    assert!(c.series.iter().all(|s| s.name != "mean" && !s.name.is_empty()), "{}", c.title);
}

#[test]
fn a_numeric_parameter_has_a_numeric_axis_with_its_values() {
    let g = grid(&["k=8,20"]);
    let cs = cells(&g, "find_node.success_rate", |i| [[0.97, 0.968, 0.972], [0.976, 0.973, 0.98]][i]);
    let c = chart(&g, &cs, "find_node.success_rate", 0, &Naming::default());
    let l = layout(&c);
    common(&c, &l, true);
    assert!(!c.log_x);
    assert_eq!(l.x_labels, [(8.0, "8".to_string()), (20.0, "20".to_string())]);
    assert!(l.y_cut && l.y.0 > 0.9, "0.976 against 0.973 is not drawn from 0: {:?}", l.y);
    assert!(l.lines.is_empty(), "no line from k = 8 to k = 20 across the values never run");
    assert_eq!(c.series[0].name, "lookup success rate", "a single series is named by its metric");
}

#[test]
fn durations_over_more_than_a_factor_of_10_read_as_durations_on_a_log_axis() {
    let g = grid(&["churn.session.scale=5m,30m,2h"]);
    let cs = cells(&g, "find_node.success_rate", |i| [[0.93, 0.95, 0.91], [0.97, 0.98, 0.975], [0.99, 1.0, 1.0]][i]);
    let c = chart(&g, &cs, "find_node.success_rate", 0, &Naming::default());
    let l = layout(&c);
    common(&c, &l, true);
    assert!(c.log_x && c.x_label.ends_with("(log scale)"));
    assert_eq!(labels(&l), ["5m", "30m", "2h"]);
    let at: Vec<f64> = l.x_labels.iter().map(|t| t.0).collect();
    assert!((at[1] - at[0] - 6f64.log10()).abs() < 1e-9 && (at[2] - at[1] - 4f64.log10()).abs() < 1e-9, "{at:?}");
    // A replica set at 1.0, 1.0, 0.99: its Student-t interval would reach past 1; this one does not.
    assert!(l.bars.iter().all(|b| b.2 <= 1.0));
}

#[test]
fn categories_are_points_with_bars_and_no_lines() {
    let g = grid(&["protocol.buckets=tree,log_distance"]);
    let cs = cells(&g, "find_node.latency_ms.p90", |i| [[11000.0, 8000.0, 14000.0], [10000.0, 7000.0, 15000.0]][i]);
    let c = chart(&g, &cs, "find_node.latency_ms.p90", 0, &Naming::default());
    let l = layout(&c);
    common(&c, &l, false);
    assert_eq!(l.x_labels, [(0.0, "tree".to_string()), (1.0, "log_distance".to_string())]);
    assert_eq!(l.x, (-0.5, 1.5), "each category in the middle of its slot");
    assert!(l.lines.is_empty());
    assert!(c.series.iter().all(|s| matches!(s.mark, Mark::Points { .. })));
}

#[test]
fn points_are_joined_only_where_no_value_between_them_went_unrun() {
    let g = grid(&["alpha=1,2,3,5"]);
    let cs = cells(&g, "find_node.hops.mean", |i| {
        let m = 3.0 - i as f64 * 0.3;
        [m - 0.05, m, m + 0.05]
    });
    let l = layout(&chart(&g, &cs, "find_node.hops.mean", 0, &Naming::default()));
    let spans: Vec<(f64, f64)> = l.lines.iter().map(|p| (p[0].0, p[p.len() - 1].0)).collect();
    assert_eq!(spans, [(1.0, 3.0)], "1-2-3 joined, 3 to 5 not (4 never ran)");
    let g = grid(&["adversary.disjoint_paths=1,4"]);
    let cs = cells(&g, "get.success_rate", |i| [[0.8, 0.82, 0.79], [0.95, 0.96, 0.97]][i]);
    let c = chart(&g, &cs, "get.success_rate", 0, &Naming::default());
    let l = layout(&c);
    common(&c, &l, true);
    assert!(l.lines.is_empty(), "no line through disjoint_paths = 2 and 3");
    assert_eq!(labels(&l), ["1", "4"], "ticks at the values run only");
}

#[test]
fn two_parameters_give_a_series_per_value_named_and_labelled_as_asked() {
    let g = grid(&["k=8,20", "churn.session.scale=5m,2h"]);
    let cs = cells(&g, "find_node.success_rate", |i| [0.9 + i as f64 * 0.02, 0.91 + i as f64 * 0.02, 0.92]);
    let naming = Naming::from_options(
        Some("find_node.success_rate"),
        &["k=bucket size k".into(), "churn.session.scale=Weibull session scale".into()],
        Some("Lookups against {param}"),
    )
    .unwrap();
    let c = chart(&g, &cs, "find_node.success_rate", 1, &naming);
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["bucket size k = 8", "bucket size k = 20"]);
    assert_eq!(c.title, "Lookups against Weibull session scale");
    assert_eq!(c.x_label, "Weibull session scale (log scale)");
    let l = layout(&c);
    common(&c, &l, true);
    // The two series are set apart, each point still nearer its own value than any other.
    let xs: Vec<f64> = c.series.iter().map(|s| s.points[0].0).collect();
    assert!(xs[0] < xs[1] && (xs[1] - xs[0]) < 0.1 * (7200f64 / 300.0).log10(), "{xs:?}");
    // Every chart of the default set against each parameter, none empty.
    let all = charts(&g, &cs, &naming);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].0, "find_node_success_rate_vs_k");
    assert_eq!(all[1].0, "find_node_success_rate_vs_churn_session_scale");
}

#[test]
fn the_note_names_the_interval_and_goes_with_the_title() {
    let g = grid(&["k=8,20"]);
    let cs = cells(&g, "find_node.success_rate", |_| [0.9, 0.95, 0.97]);
    let c = chart(&g, &cs, "find_node.success_rate", 0, &Naming::default());
    let note = c.note.clone().unwrap();
    assert!(note.contains("percentile bootstrap") && note.contains("3 replicas"), "{note}");
    let cs = cells(&g, "find_node.hops.mean", |_| [2.0, 2.1, 2.2]);
    let h = chart(&g, &cs, "find_node.hops.mean", 0, &Naming::default());
    assert!(h.note.as_deref().unwrap().contains("Student-t"));
    // --no-title leaves the note out too: the caption says it.
    let (with, _) = c.svg(&Style::default()).unwrap();
    let (without, _) = c.svg(&Style { title: false, ..Style::default() }).unwrap();
    assert!(with.contains("bootstrap") && !without.contains("bootstrap"));
}

#[test]
fn latencies_past_5_s_read_in_seconds() {
    let g = grid(&["k=8,20"]);
    let metric = "find_node.latency_ms.p90";
    let cs = cells(&g, metric, |i| [[9000.0, 11_000.0, 12_500.0], [4000.0, 4500.0, 5200.0]][i]);
    let c = chart(&g, &cs, metric, 0, &Naming::default());
    assert_eq!(c.y_label, "latency, 90th pct. (s)");
    assert_eq!(c.series[0].name, "latency, 90th pct. (s)", "the legend names the unit too");
    let l = layout(&c);
    common(&c, &l, false);
    assert!(l.y.1 < 30.0 && l.bars.iter().all(|b| b.2 < 30.0), "in seconds: {l:?}");
    // Under 5 s they stay in ms.
    let cs = cells(&g, metric, |_| [800.0, 900.0, 950.0]);
    let c = chart(&g, &cs, metric, 0, &Naming::default());
    assert_eq!(c.y_label, "latency, 90th pct. (ms)");
    assert!(layout(&c).y.1 > 900.0);
}
