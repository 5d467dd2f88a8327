//! `aggregate.csv`: per grid point and metric, the number of replicas with a
//! value, their mean and standard deviation, and a 95% interval of the mean
//! over the replicas, with the method that gave it:
//!
//! - `bootstrap_percentile` for proportions (success rates, found fractions,
//!   eclipsed shares): the 2.5% and 97.5% type-7 quantiles of the means of
//!   [`RESAMPLES`] resamples of the replicas (with replacement, a ChaCha8
//!   stream seeded from the point and metric, so the file is deterministic).
//!   Every resample mean lies between the smallest and largest replica, so
//!   the interval stays within [0, 1], where a Student-t interval on a
//!   proportion reaches past 1 (1.021 for 0.976 ± 0.045).
//! - `student_t` for every other metric: mean ± t₀.₉₇₅,ₙ₋₁·s/√n.
//!
//! The replicas are the samples, not the operations: the operations of one
//! run share its network and churn, so pooling them (a Wilson interval over
//! every lookup of a point) would give intervals far narrower than the
//! spread between seeds. With few replicas the percentile interval is
//! narrower than it should be (it cannot reach past the replicas' range);
//! the README says so.

use super::grid::Grid;
use super::metrics::{self, METRICS};
use super::{SweepError, io};
use crate::files::ReadError;
use crate::files::schema;
use crate::files::table::{Table, push_row};
use crate::metrics::writer::AtomicFile;
use crate::report::stats;
use std::path::Path;

pub use crate::report::stats::{METHODS, Method, RESAMPLES, bootstrap_mean};

/// One grid point's statistics of one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Parameter values of the point.
    pub values: Vec<String>,
    /// Metric name.
    pub metric: String,
    /// Replicas with a value.
    pub n: usize,
    /// Mean over replicas.
    pub mean: f64,
    /// Sample standard deviation (NaN for one replica).
    pub sd: f64,
    /// 95% interval of the mean (NaN for one replica).
    pub ci: (f64, f64),
    /// How `ci` was computed (`None` for one replica).
    pub method: Option<Method>,
}

/// The seed of the bootstrap of one cell: FNV-1a of the metric and the
/// point's values, so that every cell has its own stream whatever the order.
fn cell_seed(metric: &str, values: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in std::iter::once(metric).chain(values.iter().map(String::as_str)) {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The statistics of `xs` (replica values of `metric` at `values`).
pub fn cell(values: &[String], metric: &str, xs: &[f64]) -> Cell {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd =
        if xs.len() > 1 { (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { f64::NAN };
    let (ci, method) = if xs.len() < 2 {
        ((f64::NAN, f64::NAN), None)
    } else if metrics::is_proportion(metric) {
        (bootstrap_mean(xs, cell_seed(metric, values)), Some(Method::Bootstrap))
    } else {
        let i = stats::t_interval(xs, 0.95).map_or((f64::NAN, f64::NAN), |i| (i.low, i.high));
        (i, Some(Method::StudentT))
    };
    Cell { values: values.to_vec(), metric: metric.to_string(), n: xs.len(), mean, sd, ci, method }
}

/// Means and intervals per grid point and metric, in grid order.
pub fn aggregate(grid: &Grid, rows: &[Vec<String>]) -> Vec<Cell> {
    let np = grid.params.len();
    let mut points: Vec<(Vec<String>, Vec<&Vec<String>>)> = Vec::new();
    for r in rows {
        let values = r[1..=np].to_vec();
        match points.last_mut() {
            Some((v, rs)) if *v == values => rs.push(r),
            _ => points.push((values, vec![r])),
        }
    }
    let mut cells = Vec::new();
    for (values, rs) in points {
        for (mi, (m, _)) in METRICS.iter().enumerate() {
            let xs: Vec<f64> = rs.iter().filter_map(|r| r.get(np + 3 + mi)?.parse::<f64>().ok()).collect();
            if !xs.is_empty() {
                cells.push(cell(&values, m, &xs));
            }
        }
    }
    cells
}

/// The schema of `aggregate.csv` of a sweep over `params`.
pub fn aggregate_schema(params: &[String]) -> schema::Schema {
    schema::aggregate(params)
}

/// Writes `aggregate.csv`.
pub fn write_aggregate(path: &Path, grid: &Grid, cells: &[Cell]) -> Result<(), SweepError> {
    let file = AtomicFile::create(path).map_err(|e| io(path, e))?;
    let mut w = csv::Writer::from_writer(file);
    let params: Vec<String> = grid.params.iter().map(|p| p.name.clone()).collect();
    w.write_record(aggregate_schema(&params).names()).map_err(|e| io(path, e))?;
    let f = |x: f64| if x.is_finite() { format!("{x:.6}") } else { String::new() };
    for c in cells {
        let mut rec = c.values.clone();
        rec.extend([c.metric.clone(), c.n.to_string(), f(c.mean), f(c.sd), f(c.ci.0), f(c.ci.1)]);
        rec.push(c.method.map_or(String::new(), |m| m.word().to_string()));
        w.write_record(&rec).map_err(|e| io(path, e))?;
    }
    let file = w.into_inner().map_err(|e| io(path, e))?;
    file.finish().map_err(|e| io(path, e))
}

/// Reads `aggregate.csv` of `grid` back strictly: every value of its type,
/// every row of a grid point and a headline metric, each (point, metric)
/// once, an interval only with two replicas or more and around the mean.
/// Returns the cells and notes on what an older file lacks.
pub fn read_aggregate(path: &Path, grid: &Grid) -> Result<(Vec<Cell>, Vec<String>), ReadError> {
    let params: Vec<String> = grid.params.iter().map(|p| p.name.clone()).collect();
    let mut t = Table::open(path, aggregate_schema(&params))?;
    let notes = t.take_notes();
    let has_method = t.has("ci95_method");
    let points = grid.points();
    let np = params.len();
    let mut cells: Vec<Cell> = Vec::new();
    while t.next_row()? {
        let values: Vec<String> = (0..np).map(|i| t.get(i).unwrap_or_default().to_string()).collect();
        if !points.contains(&values) {
            return Err(t.error(format!("the point {} is not in the sweep's grid", values.join(", "))));
        }
        let metric = t.value("metric").unwrap_or_default().to_string();
        if metrics::index(&metric).is_none() {
            return Err(t.error(format!("column metric: {metric:?} is not a headline metric of runs.csv")));
        }
        if cells.iter().any(|c| c.values == values && c.metric == metric) {
            return Err(t.error(format!("{metric} at {} twice", values.join(", "))));
        }
        let n = t.uint("n").unwrap_or(0) as usize;
        if n == 0 || n > grid.replicas as usize {
            return Err(t.error(format!("column n: {n}, expected 1 to the sweep's {} replicas", grid.replicas)));
        }
        let num = |name: &str| t.number(name).unwrap_or(f64::NAN);
        let (mean, sd, lo, hi) = (num("mean"), num("sd"), num("ci95_low"), num("ci95_high"));
        let method = match t.value("ci95_method").unwrap_or_default() {
            "student_t" => Some(Method::StudentT),
            "bootstrap_percentile" => Some(Method::Bootstrap),
            // Older files: every interval was Student-t.
            _ if !has_method && lo.is_finite() => Some(Method::StudentT),
            _ => None,
        };
        let interval = lo.is_finite() || hi.is_finite();
        if !mean.is_finite() || (interval && !(lo <= mean + 1e-9 && mean <= hi + 1e-9)) {
            return Err(t.error(format!("the interval [{lo}, {hi}] does not hold the mean {mean}")));
        }
        if interval != (n > 1) || (n > 1 && has_method && method.is_none()) {
            return Err(t.error(format!("n = {n}: an interval (and its method) goes with 2 replicas or more")));
        }
        let cell = Cell { values, metric, n, mean, sd, ci: (lo, hi), method };
        push_row(&mut cells, cell, &t)?;
    }
    Ok((cells, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportion_intervals_stay_within_0_and_1() {
        let xs = [0.95, 1.0, 0.98];
        let c = cell(&["8".into()], "find_node.success_rate", &xs);
        assert_eq!(c.method, Some(Method::Bootstrap));
        assert!(c.ci.0 >= 0.95 && c.ci.1 <= 1.0 && c.ci.0 <= c.mean && c.mean <= c.ci.1, "{:?}", c.ci);
        // The Student-t interval of the same values reaches past 1.
        let t = stats::t_interval(&xs, 0.95).unwrap();
        assert!(t.high > 1.0);
        // Deterministic: the same cell, the same interval.
        assert_eq!(c, cell(&["8".into()], "find_node.success_rate", &xs));
        let h = cell(&["8".into()], "find_node.hops.mean", &[2.0, 3.0]);
        assert_eq!(h.method, Some(Method::StudentT));
        assert!((h.ci.1 - (2.5 + 12.706205 * 0.5)).abs() < 1e-5, "{:?}", h.ci);
        let one = cell(&["8".into()], "find_node.success_rate", &[0.9]);
        assert!(one.method.is_none() && one.ci.0.is_nan());
    }
}
