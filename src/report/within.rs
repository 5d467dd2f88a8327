//! The within-run comparison of one base run with one candidate run, today's
//! `kadsim compare` of single runs: each metric of the operations with a 95%
//! percentile bootstrap interval of the difference, and Mann–Whitney and
//! Kolmogorov–Smirnov tests of the hop-count and latency distributions.
//!
//! Both resample or rank the operations of one run as if they were
//! independent draws, so they measure how precisely one run pins down its own
//! means and quantiles, not how much another seed would move them: the
//! intervals ignore seed-to-seed variation and are too narrow for judging a
//! change (see `between.rs` for replica sets).

use super::plot::{hops_of, latencies_ms_of};
use super::results::Results;
use super::row::{DistTest, Row};
use super::stats::{self, Stat};

/// Operation kinds compared, in table order.
const KINDS: [&str; 3] = ["find_node", "get", "put"];
/// Summary metrics compared without a confidence interval (one number per run).
const TOTALS: [&str; 13] = [
    "msgs.per_live_node_per_s",
    "bytes.per_live_node_per_s",
    "msgs.sent",
    "msgs.lost",
    "msgs.cut",
    "msgs.to_dead",
    "msgs.to_unreachable",
    "bytes.sent",
    "churn.joins",
    "churn.leaves",
    "end.alive",
    "end.rt_size.mean",
    "end.stored_pairs",
];

/// A sample-based metric: which operations' values and which statistic.
struct SampleMetric {
    field: &'static str,
    stat: Stat,
    stat_name: &'static str,
}

fn metrics_of(kind: &str) -> Vec<SampleMetric> {
    let m = |field, stat, stat_name| SampleMetric { field, stat, stat_name };
    let mut v = vec![
        m("success", Stat::Mean, "rate"),
        m("hops", Stat::Mean, "mean"),
        m("hops", Stat::Quantile(0.5), "p50"),
        m("hops", Stat::Quantile(0.9), "p90"),
        m("hops", Stat::Quantile(0.99), "p99"),
        m("latency_ms", Stat::Mean, "mean"),
        m("latency_ms", Stat::Quantile(0.5), "p50"),
        m("latency_ms", Stat::Quantile(0.9), "p90"),
        m("latency_ms", Stat::Quantile(0.99), "p99"),
    ];
    if kind != "get" {
        v.push(m("found_fraction", Stat::Mean, "mean"));
    }
    v.push(m("queried", Stat::Mean, "mean"));
    v.push(m("timeouts", Stat::Mean, "mean"));
    if kind == "put" {
        v.push(m("replicas", Stat::Mean, "mean"));
    }
    v
}

/// The values of `field` over the operations of `kind` in `r`.
fn values(r: &Results, kind: &str, field: &str) -> Vec<f64> {
    match field {
        "success" => r.ops_of(kind).map(|o| f64::from(u8::from(o.success))).collect(),
        "hops" => hops_of(r, kind),
        "latency_ms" => latencies_ms_of(r, kind),
        "found_fraction" => r.ops_of(kind).filter_map(|o| o.found_fraction).collect(),
        "queried" => r.ops_of(kind).map(|o| f64::from(o.queried)).collect(),
        "timeouts" => r.ops_of(kind).map(|o| f64::from(o.timeouts)).collect(),
        "replicas" => r.ops_of(kind).map(|o| f64::from(o.replicas)).collect(),
        _ => Vec::new(),
    }
}

/// The rows and distribution tests of `cand` against `base`, with `resamples`
/// bootstrap rounds from `seed`.
pub fn within_run(base: &Results, cand: &Results, resamples: usize, seed: u64) -> (Vec<Row>, Vec<DistTest>) {
    let mut rows = Vec::new();
    let mut tests = Vec::new();
    for (ki, kind) in KINDS.iter().enumerate() {
        if base.ops_of(kind).next().is_none() && cand.ops_of(kind).next().is_none() {
            continue;
        }
        let count = |r: &Results| Some(r.ops_of(kind).count() as f64);
        rows.push(Row::new(format!("{kind}.count"), count(base), count(cand), None));
        for (mi, m) in metrics_of(kind).iter().enumerate() {
            let (b, c) = (values(base, kind, m.field), values(cand, kind, m.field));
            let name = if m.field == "success" {
                format!("{kind}.success_rate")
            } else {
                format!("{kind}.{}.{}", m.field, m.stat_name)
            };
            // One stream per metric, so that adding a metric leaves the others' intervals unchanged.
            let s = seed ^ ((ki as u64) << 32 | mi as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let ci = stats::bootstrap_diff(&b, &c, m.stat, resamples, 0.95, s);
            rows.push(Row::new(name, m.stat.of(&b), m.stat.of(&c), ci));
        }
        for field in ["hops", "latency_ms"] {
            let (b, c) = (values(base, kind, field), values(cand, kind, field));
            tests.push(DistTest {
                name: format!("{kind}.{field}"),
                n: (b.len(), c.len()),
                mann_whitney: stats::mann_whitney(&b, &c),
                ks: stats::kolmogorov_smirnov(&b, &c),
            });
        }
    }
    for name in TOTALS {
        let (b, c) = (base.metric(name), cand.metric(name));
        if b.is_some() || c.is_some() {
            rows.push(Row::new(name.to_string(), b, c, None));
        }
    }
    (rows, tests)
}
