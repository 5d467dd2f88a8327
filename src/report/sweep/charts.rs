//! A sweep's charts: each metric against each parameter, as a reviewer
//! expects them.
//!
//! - The x axis is numeric when every value of the parameter is a number or
//!   a duration (read as one: `5m, 30m, 2h` stand at 300, 1800 and 7200 s),
//!   on a log scale when the values span more than a factor of 10, with a
//!   tick at each value run, labelled as it was written. Other values
//!   (`tree, log_distance`, `true, false`) are categories, evenly spaced.
//! - Each point is the mean over the replicas with its 95% interval as a bar
//!   ([`super::aggregate`] says which interval). Points are joined only where
//!   no value lies between them that was not run: neighbouring integers
//!   (`alpha = 1, 2, 3`), never across `k = 8 … 20` or between categories.
//! - One series per combination of the other parameters' values, named by
//!   them (`k = 8`); a single series is named by the metric. Series are set
//!   slightly apart along x so that their bars do not hide one another.
//! - The y axis is fitted to the points and bars, marked with a break when it
//!   does not start at 0; a proportion's axis is labelled up to 1 at most; a
//!   time in ms is read in seconds when it runs past 5 s.

use super::aggregate::{Cell, Method};
use super::grid::{Grid, Param, sanitize};
use super::metrics::{self, Naming};
use crate::report::chart::{Chart, Mark, Series, Shape};
use crate::scenario::units::Dur;

/// Markers of series 0, 1, 2, … in turn (they part in greyscale print too).
const SHAPES: [Shape; 6] = [Shape::Circle, Shape::Triangle, Shape::Square, Shape::Diamond, Shape::Ring, Shape::Cross];

/// How a parameter's values stand on the x axis.
#[derive(Clone, Debug, PartialEq)]
pub struct XAxis {
    /// The position of each value (log10 of it on a log axis; its index for categories).
    pub at: Vec<f64>,
    /// Numeric (a number or a duration each), not categories.
    pub numeric: bool,
    /// On a log scale.
    pub log: bool,
    /// Every value a whole number.
    pub integer: bool,
    /// Every value a duration.
    pub duration: bool,
}

/// A value as a number: plain decimal notation.
fn number(v: &str) -> Option<f64> {
    crate::files::schema::finite(v.trim())
}

/// The x axis of `values`.
pub fn x_axis(values: &[String]) -> XAxis {
    let numbers: Option<Vec<f64>> = values.iter().map(|v| number(v)).collect();
    let durations: Option<Vec<f64>> = values.iter().map(|v| Dur::parse(v).ok().map(Dur::as_secs_f64)).collect();
    let (xs, duration) = match (numbers, durations) {
        (Some(x), _) => (x, false),
        (None, Some(x)) => (x, true),
        (None, None) => {
            let at = (0..values.len()).map(|i| i as f64).collect();
            return XAxis { at, numeric: false, log: false, integer: false, duration: false };
        }
    };
    let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
    let log = lo > 0.0 && hi / lo > 10.0;
    let integer = !duration && values.iter().all(|v| v.trim().parse::<i64>().is_ok());
    let at = if log { xs.iter().map(|x| x.log10()).collect() } else { xs };
    XAxis { at, numeric: true, log, integer, duration }
}

/// Whether values `a` and `b` of an integer parameter are neighbours (no whole number between them).
fn adjacent(a: &str, b: &str) -> bool {
    match (a.trim().parse::<i64>(), b.trim().parse::<i64>()) {
        (Ok(a), Ok(b)) => (a - b).abs() == 1,
        _ => false,
    }
}

/// The file stem of the chart of `metric` against `p` (no dot in it: the
/// extension would replace what follows it).
pub fn stem(metric: &str, p: &Param) -> String {
    format!("{}_vs_{}", metric.replace('.', "_"), sanitize(&p.name).replace('.', "_"))
}

/// `metric` against parameter `pi` of `grid`, from `cells`.
pub fn chart(grid: &Grid, cells: &[Cell], metric: &str, pi: usize, naming: &Naming) -> Chart {
    let p = &grid.params[pi];
    let axis = x_axis(&p.values);
    let param_label = naming.label(&p.name, &p.path).to_string();
    // A time in ms read in seconds when its axis would run past 5 s (ticks
    // 10, 20 rather than 10k, 20k), the unit in the label said so.
    let in_ms = cells.iter().filter(|c| c.metric == metric);
    let top = in_ms.flat_map(|c| [c.mean, c.ci.1]).filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let ms_label = naming.axis(metric);
    let seconds = metric.contains("_ms.") && ms_label.contains("(ms)") && top > 5000.0;
    let (y_label, scale) = if seconds { (ms_label.replace("(ms)", "(s)"), 1e-3) } else { (ms_label, 1.0) };
    // One series per combination of the other parameters' values, in grid order.
    let mut groups: Vec<(String, Vec<&Cell>)> = Vec::new();
    for c in cells.iter().filter(|c| c.metric == metric) {
        let others: Vec<String> = grid
            .params
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != pi)
            .map(|(j, q)| format!("{} = {}", naming.label(&q.name, &q.path), c.values[j]))
            .collect();
        let name = if others.is_empty() { y_label.clone() } else { others.join(", ") };
        match groups.iter_mut().find(|g| g.0 == name) {
            Some(g) => g.1.push(c),
            None => groups.push((name, vec![c])),
        }
    }
    // Series set apart: a quarter of a category's room, or 4% of a numeric axis's span, across all.
    let span = axis.at.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
    let width = if !axis.numeric {
        0.24
    } else if span.1 > span.0 {
        (span.1 - span.0) * 0.04
    } else {
        0.05 * span.1.abs().max(1.0)
    };
    let m = groups.len();
    let offset = |i: usize| if m < 2 { 0.0 } else { width * (i as f64 / (m - 1) as f64 - 0.5) };
    let mut methods: Vec<Method> = Vec::new();
    let mut replicas = 0;
    let series: Vec<Series> = groups
        .into_iter()
        .enumerate()
        .map(|(i, (name, mut pts))| {
            let pos = |c: &Cell| p.values.iter().position(|v| *v == c.values[pi]).unwrap_or(0);
            pts.sort_by_key(|c| pos(c));
            for c in &pts {
                methods.extend(c.method.filter(|m| !methods.contains(m)));
                replicas = replicas.max(c.n);
            }
            let points: Vec<(f64, f64)> = pts.iter().map(|c| (axis.at[pos(c)] + offset(i), c.mean * scale)).collect();
            let errors: Vec<(f64, f64)> = pts.iter().map(|c| (c.ci.0 * scale, c.ci.1 * scale)).collect();
            let links: Vec<bool> = pts
                .windows(2)
                .map(|w| axis.integer && adjacent(&w[0].values[pi], &w[1].values[pi]))
                .chain([false])
                .collect();
            Series::new(name, points, Mark::Points { shape: SHAPES[i % SHAPES.len()] })
                .with_errors(errors)
                .linked(links)
                .styled_as(i)
        })
        .collect();
    let mut note = match methods.as_slice() {
        [] if replicas <= 1 => "One replica per point: no interval (sweep --replicas 3 or more for bars).".to_string(),
        [] => "Points: means over the replicas.".to_string(),
        ms => {
            let words: Vec<String> = ms.iter().map(|m| m.words(replicas)).collect();
            format!("Points: mean of {replicas} replicas; bars: {}.", words.join("; "))
        }
    };
    if m > 1 {
        note.push_str(" Series are set slightly apart along x so that their bars stay visible.");
    }
    let proportion = metrics::is_proportion(metric);
    // Categories in slots of width 1; numbers with a tenth of their span (or
    // a category's room, for one value) on either side.
    let x_range = if !axis.numeric {
        (-0.5, axis.at.len() as f64 - 0.5)
    } else if span.1 > span.0 {
        let pad = (span.1 - span.0) * 0.1;
        (span.0 - pad, span.1 + pad)
    } else {
        (span.0 - 0.5 * width.max(1e-9) * 10.0, span.1 + 0.5 * width.max(1e-9) * 10.0)
    };
    Chart {
        title: naming.title(metric, &param_label),
        x_label: if axis.log { format!("{param_label} (log scale)") } else { param_label },
        y_label,
        series,
        x_ticks: p.values.iter().zip(&axis.at).map(|(v, x)| (*x, v.clone())).collect(),
        log_x: axis.log,
        x_range: Some(x_range),
        y_fit: true,
        y_label_max: proportion.then_some(1.0),
        note: Some(note),
        ..Chart::default()
    }
}

/// Every chart of `metrics` against every parameter that has data, with its file stem.
pub fn charts(grid: &Grid, cells: &[Cell], naming: &Naming) -> Vec<(String, Chart)> {
    let mut out = Vec::new();
    for metric in naming.metrics() {
        for (pi, p) in grid.params.iter().enumerate() {
            let c = chart(grid, cells, metric, pi, naming);
            if c.series.iter().any(|s| !s.points.is_empty()) {
                out.push((stem(metric, p), c));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "charts_tests.rs"]
mod tests;
