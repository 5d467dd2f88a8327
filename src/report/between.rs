//! The between-seed comparison of two replica sets: every metric of
//! `summary.csv`, one value per run, compared by the difference of the sets'
//! means with a 95% Welch t interval and Welch's t-test (`stats::mean_diff`).
//!
//! The unit of replication is the run, not the operation: operations of one
//! run share its network, churn trace and routing tables, so resampling them
//! as independent draws says nothing about what another seed would give. The
//! distribution tests of the within-run comparison (Mann–Whitney, KS on the
//! operations) are therefore not run here; the per-run means and quantiles of
//! hops and latency are compared like every other metric. With fifty metrics
//! tested at once, about two and a half fall below p = 0.05 by chance alone, so
//! each p-value is also given adjusted by Holm's method over all of them.
//!
//! Each metric is compared over the runs that have a value for it (an empty
//! value means "not applicable"); the rows say how many runs that is on each
//! side, and `compare` warns when it is fewer than the set holds.

use super::results::Results;
use super::row::Row;
use super::stats;

/// Summary rows that describe the run's size, not its outcome.
const SIZE: [&str; 4] = ["nodes", "duration_s", "warmup_s", "events"];

/// The metric names of `summary.csv` over all runs, in the order they first appear.
fn metric_names<'a>(runs: impl Iterator<Item = &'a Results>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in runs {
        for (m, _) in &r.summary {
            if !SIZE.contains(&m.as_str()) && !names.contains(m) {
                names.push(m.clone());
            }
        }
    }
    names
}

/// The value of `metric` in each of `runs`, in run order (`None`: empty, or
/// absent in an older run; the readers refuse any value that is not a
/// finite number).
fn per_run(runs: &[Results], metric: &str) -> Vec<Option<f64>> {
    runs.iter().map(|r| r.metric(metric).filter(|v| v.is_finite())).collect()
}

/// The values present.
fn present(xs: &[Option<f64>]) -> Vec<f64> {
    xs.iter().flatten().copied().collect()
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// One row per metric: the per-run values, the means over the runs with a
/// value, and the interval and p-value of the difference of means (none when
/// a side has no value or both sides together have fewer than three values).
pub fn between_seed(base: &[Results], cand: &[Results]) -> Vec<Row> {
    let mut rows: Vec<Row> = metric_names(base.iter().chain(cand))
        .into_iter()
        .map(|name| {
            let (b_runs, c_runs) = (per_run(base, &name), per_run(cand, &name));
            let (b, c) = (present(&b_runs), present(&c_runs));
            let md = stats::mean_diff(&b, &c, 0.95);
            Row {
                base: mean(&b),
                cand: mean(&c),
                ci: md.map(|d| d.ci),
                p: md.map(|d| d.p_value),
                p_holm: None,
                runs: Some((b_runs, c_runs)),
                name,
            }
        })
        .collect();
    let adjusted = stats::holm(&rows.iter().map(|r| r.p).collect::<Vec<_>>());
    for (r, a) in rows.iter_mut().zip(adjusted) {
        r.p_holm = a;
    }
    rows
}
