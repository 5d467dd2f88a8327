//! Charts of replica sets: each set's mean over its replicas with a 95% band,
//! for the node lookups' hop and latency CDFs (and the gets' latency CDF when
//! every run has gets), their success rate over time and the traffic per node
//! over time. One set is drawn alone (`kadsim plot SET`), several on one
//! chart each (`kadsim plot SET1 SET2`), as `kadsim plot RUN1 RUN2` draws
//! single runs.
//!
//! The replicas are the samples, as in sweeps (`report::sweep::aggregate`):
//! at each x the set's value is the mean of its replicas' values, and the
//! band is the 95% percentile bootstrap interval of that mean for a
//! proportion (a CDF's fraction, a success rate: it stays within [0, 1]), the
//! 95% Student-t interval for anything else (traffic). A set of one run has
//! no band. A CDF is evaluated per replica at common points (every hop count;
//! 120 latencies spaced evenly on the log axis) and then averaged, so the
//! mean curve is the CDF of the pooled replicas weighted by replica, not by
//! operation count.

use super::chart::{Chart, Mark, Series};
use super::plot::{
    cdf_chart, common_shades, hops_of, latencies_ms_of, latency_cdf_chart, per_node_per_s, success_points,
};
use super::results::Results;
use super::stats;
use super::stats::{Method, RESAMPLES, bootstrap_mean};

/// A set to draw: its label and its replicas.
pub struct Set<'a> {
    /// The name in legends and titles.
    pub label: String,
    /// The replicas (at least one).
    pub runs: &'a [Results],
}

/// Points on the latency axis of a CDF.
const LATENCY_POINTS: usize = 120;

/// FNV-1a of the parts: the seed of one bootstrap, so that each chart, set
/// and point has its own stream whatever the order they are drawn in.
fn seed_of(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The mean of `xs` and its 95% interval: percentile bootstrap for a
/// `proportion`, Student-t otherwise; the mean itself for one value.
pub fn mean_band(xs: &[f64], proportion: bool, seed: u64) -> (f64, (f64, f64)) {
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    if xs.len() < 2 {
        return (mean, (mean, mean));
    }
    let band = if proportion {
        bootstrap_mean(xs, seed)
    } else {
        stats::t_interval(xs, 0.95).map_or((mean, mean), |i| (i.low, i.high))
    };
    (mean, band)
}

/// The fraction of `v` at most `x`.
fn cdf_at(sorted: &[f64], x: f64) -> f64 {
    sorted.partition_point(|y| *y <= x) as f64 / sorted.len() as f64
}

/// Each replica's values of `kind`, sorted (replicas without any left out).
fn sorted_values(runs: &[Results], kind: &str, values: fn(&Results, &str) -> Vec<f64>) -> Vec<Vec<f64>> {
    runs.iter()
        .map(|r| {
            let mut v = values(r, kind);
            v.sort_by(f64::total_cmp);
            v
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// A series of means with their band over the replicas' values at each x.
fn band_series(
    name: String,
    stem: &str,
    set: usize,
    xs: &[f64],
    per_x: impl Fn(usize) -> Vec<f64>,
    proportion: bool,
) -> Series {
    let mut points = Vec::with_capacity(xs.len());
    let mut band = Vec::with_capacity(xs.len());
    for (i, x) in xs.iter().enumerate() {
        let values = per_x(i);
        if values.is_empty() {
            continue;
        }
        let (m, b) = mean_band(&values, proportion, seed_of(&[stem, &set.to_string(), &i.to_string()]));
        points.push((*x, m));
        band.push(b);
    }
    Series::new(name, points, Mark::Line { dots: false }).with_band(band).styled_as(set)
}

/// The legend's name of a set.
fn named(s: &Set) -> String {
    let n = s.runs.len();
    format!("{} ({n} {})", s.label, if n == 1 { "run" } else { "replicas" })
}

/// The note under a chart: what the lines and bands are.
fn note(sets: &[Set], method: Method) -> String {
    let fewest = sets.iter().map(|s| s.runs.len()).min().unwrap_or(0);
    let band = match method {
        Method::Bootstrap => {
            format!("95% percentile bootstrap interval of the mean over the replicas ({RESAMPLES} resamples)")
        }
        Method::StudentT => "95% Student-t interval of the mean over the replicas".into(),
    };
    let none = if fewest < 2 { " A set of one run has no band." } else { "" };
    format!("Lines: the mean over each set's replicas; bands: {band}.{none}")
}

/// Points (x, y), or a band's (low, high) at each point.
type Pairs = Vec<(f64, f64)>;

/// Step-shaped points of a CDF over integers: each value held to the next integer.
fn steps(points: &[(f64, f64)], band: &[(f64, f64)]) -> (Pairs, Pairs) {
    let mut p = Vec::new();
    let mut b = Vec::new();
    for (i, (pt, bd)) in points.iter().zip(band).enumerate() {
        p.push(*pt);
        b.push(*bd);
        if let Some(next) = points.get(i + 1) {
            p.push((next.0, pt.1));
            b.push(*bd);
        }
    }
    (p, b)
}

/// The hop-count CDF of node lookups, per set.
fn hops_cdf(sets: &[Set], title: String) -> Chart {
    let per: Vec<Vec<Vec<f64>>> = sets.iter().map(|s| sorted_values(s.runs, "find_node", hops_of)).collect();
    let all = per.iter().flatten().flatten();
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
    let xs: Vec<f64> = if lo.is_finite() { (lo as u32..=hi as u32).map(f64::from).collect() } else { Vec::new() };
    let series = sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let runs = &per[i];
            let raw =
                band_series(named(s), "hops_cdf", i, &xs, |j| runs.iter().map(|v| cdf_at(v, xs[j])).collect(), true);
            let (points, band) = steps(&raw.points, &raw.band);
            Series { points, band, ..raw }
        })
        .collect();
    Chart { note: Some(note(sets, Method::Bootstrap)), ..cdf_chart(title, "hops (discovery depth)", series, true) }
}

/// The latency CDF of `kind`, per set, on a log axis.
fn latency_cdf(sets: &[Set], kind: &str, title: String) -> Chart {
    let per: Vec<Vec<Vec<f64>>> = sets.iter().map(|s| sorted_values(s.runs, kind, latencies_ms_of)).collect();
    let positive = per.iter().flatten().flatten().filter(|x| **x > 0.0);
    let (lo, hi) = positive.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
    let xs: Vec<f64> = if lo.is_finite() {
        let (a, b) = (lo.log10(), hi.log10().max(lo.log10() + 1e-9));
        (0..LATENCY_POINTS).map(|i| 10f64.powf(a + (b - a) * i as f64 / (LATENCY_POINTS - 1) as f64)).collect()
    } else {
        Vec::new()
    };
    let stem = format!("{kind}_latency_cdf");
    let series = sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let runs = &per[i];
            band_series(named(s), &stem, i, &xs, |j| runs.iter().map(|v| cdf_at(v, xs[j])).collect(), true)
        })
        .collect();
    let chart = latency_cdf_chart(title, series);
    // latency_cdf_chart takes the points' x to log10; the bands hold y only.
    debug_assert!(chart.series.iter().all(|s| s.points.len() == s.band.len()));
    Chart { note: Some(note(sets, Method::Bootstrap)), ..chart }
}

/// Values per sample interval of each replica, aligned by the interval's
/// index (replicas of one configuration sample at the same times); the times
/// are the first replica's.
fn per_interval(runs: &[Results], of: impl Fn(&Results) -> Vec<(f64, f64)>) -> (Vec<f64>, Vec<Vec<Option<f64>>>) {
    let Some(first) = runs.first() else {
        return (Vec::new(), Vec::new());
    };
    let times: Vec<f64> = first.samples.iter().map(|s| s.time_s).collect();
    let rows = runs
        .iter()
        .map(|r| {
            let got = of(r);
            times.iter().map(|t| got.iter().find(|p| p.0 == *t).map(|p| p.1)).collect()
        })
        .collect();
    (times, rows)
}

/// The node lookups' success rate per sample interval, per set.
fn success(sets: &[Set], kind: &str, title: String) -> Chart {
    let series = sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (times, rows) = per_interval(s.runs, |r| success_points(r, kind));
            band_series(named(s), "success", i, &times, |j| rows.iter().filter_map(|r| r[j]).collect(), true)
        })
        .collect();
    let runs: Vec<Results> = sets.iter().filter_map(|s| s.runs.first().cloned()).collect();
    Chart {
        title,
        x_label: "simulated time (s)".into(),
        y_label: "success rate per interval".into(),
        series,
        shades: common_shades(&runs),
        y_fit: true,
        y_label_max: Some(1.0),
        note: Some(note(sets, Method::Bootstrap)),
        ..Chart::default()
    }
}

/// Messages sent per node up per second over time, per set, on a log axis.
fn traffic(sets: &[Set], title: String) -> Chart {
    let series = sets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (times, rows) = per_interval(s.runs, |r| per_node_per_s(r, |x| Some(x.msgs_sent)));
            let raw =
                band_series(named(s), "traffic", i, &times, |j| rows.iter().filter_map(|r| r[j]).collect(), false);
            // To the log axis: a band reaching 0 or below is cut at a
            // thousandth of the mean (the axis has no 0).
            let points: Vec<(f64, f64)> = raw.points.iter().map(|p| (p.0, p.1.max(1e-12).log10())).collect();
            let band = raw
                .points
                .iter()
                .zip(&raw.band)
                .map(|(p, b)| (b.0.max(p.1 * 1e-3).max(1e-12).log10(), b.1.max(1e-12).log10()))
                .collect();
            Series { points, band, ..raw }
        })
        .collect();
    let runs: Vec<Results> = sets.iter().filter_map(|s| s.runs.first().cloned()).collect();
    Chart {
        title,
        x_label: "simulated time (s)".into(),
        y_label: "messages sent per node per s (log)".into(),
        series,
        shades: common_shades(&runs),
        log_y: true,
        note: Some(note(sets, Method::StudentT)),
        ..Chart::default()
    }
}

/// Charts, each with its file stem.
pub type Charts = Vec<(String, Chart)>;

/// The charts of `sets`, each with its file stem: `replicas_*` for one set,
/// `overlay_*` for several (as `kadsim plot RUN1 RUN2` names its charts).
pub fn charts(sets: &[Set]) -> Charts {
    let one = sets.len() == 1;
    let prefix = if one { "replicas" } else { "overlay" };
    let title = |what: &str| {
        if one {
            format!("{}: {what}, mean of {} replicas", sets[0].label, sets[0].runs.len())
        } else {
            let labels: Vec<&str> = sets.iter().map(|s| s.label.as_str()).collect();
            format!("{what}: {}", labels.join(" vs "))
        }
    };
    let mut out = vec![
        (format!("{prefix}_hops_cdf"), hops_cdf(sets, title("node lookup hops"))),
        (format!("{prefix}_latency_cdf"), latency_cdf(sets, "find_node", title("node lookup latency"))),
    ];
    if sets.iter().all(|s| s.runs.iter().all(|r| r.ops_of("get").next().is_some())) {
        out.push((format!("{prefix}_get_latency_cdf"), latency_cdf(sets, "get", title("get latency"))));
    }
    let lookups = sets.iter().all(|s| s.runs.iter().all(|r| r.samples.iter().any(|x| x.find_node_done > 0)));
    let kind = if lookups { "find_node" } else { "all" };
    let what = if lookups { "node lookup success" } else { "success" };
    out.push((format!("{prefix}_success"), success(sets, kind, title(what))));
    out.push((format!("{prefix}_traffic"), traffic(sets, title("traffic per node"))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proportions_band_stays_within_its_replicas_and_a_traffic_band_is_student_t() {
        let (m, (lo, hi)) = mean_band(&[1.0, 1.0, 0.99], true, 7);
        assert!((m - 0.996_666).abs() < 1e-5);
        assert!(lo >= 0.99 && hi <= 1.0 && lo < hi, "{lo} {hi}");
        // Student-t with n = 2: mean ± 12.706 · sd / √2.
        let (m, (lo, hi)) = mean_band(&[10.0, 12.0], false, 7);
        let half = 12.706_204_7 * 2f64.sqrt() / 2f64.sqrt();
        assert!((m - 11.0).abs() < 1e-12 && (lo - (11.0 - half)).abs() < 1e-5 && (hi - (11.0 + half)).abs() < 1e-5);
        assert_eq!(mean_band(&[0.5], true, 7), (0.5, (0.5, 0.5)));
    }

    #[test]
    fn a_cdf_counts_values_at_most_x_and_steps_hold_to_the_next_integer() {
        let v = [1.0, 2.0, 2.0, 4.0];
        assert_eq!([0.0, 1.0, 2.0, 3.0, 4.0].map(|x| cdf_at(&v, x)), [0.0, 0.25, 0.75, 0.75, 1.0]);
        let (p, b) = steps(&[(1.0, 0.2), (2.0, 0.9)], &[(0.1, 0.3), (0.8, 1.0)]);
        assert_eq!(p, [(1.0, 0.2), (2.0, 0.2), (2.0, 0.9)]);
        assert_eq!(b, [(0.1, 0.3), (0.1, 0.3), (0.8, 1.0)]);
    }
}
