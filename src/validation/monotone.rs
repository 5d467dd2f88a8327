//! Monotone effects as statistical tests across replicas: a parameter moved
//! one way must move a metric one way — larger k fewer hops (paper §2.3:
//! about log_k n hops... with k contacts per bucket more of the ID space is
//! known at every step), larger α lower latency and more messages (§2.3),
//! larger b fewer hops and larger tables (§4.2), more loss more timeouts,
//! shorter sessions lower success, disjoint paths higher success under
//! poisoning (S/Kademlia's disjoint lookups).
//!
//! Each effect runs R replicas of a base and a candidate scenario (the
//! replica seeds of `kadsim sweep`), takes the metric per run, and tests the
//! direction with Welch's t (one-sided: half the two-sided p when the
//! difference goes the expected way, one minus it otherwise). The p-values of
//! the family are Holm-adjusted (Holm 1979) and each must fall below 5%.

use super::check::{Check, Depth, Lab, Section, Tolerance};
use crate::report::chart::{Chart, Mark, Series};
use crate::report::results::Results;
use crate::report::stats;
use crate::report::sweep::grid::replica_seed;
use std::fmt::Write as _;

/// A static network on ideal tables: constant 50 ms latency, node lookups and values.
const STATIC: &str = r#"name = "mono-static"
seed = 1
nodes = 600
duration = "6m"
warmup = "1m"
sample_interval = "1m"
[bootstrap]
mode = "oracle"
[network.latency]
model = "constant"
value = "50ms"
[workload]
lookup_rate = 0.02
put_rate = 0.002
get_rate = 0.005
keys = 200
"#;

/// A churning network on ideal tables at the start: exponential sessions and downtimes.
const CHURN: &str = r#"name = "mono-churn"
seed = 1
nodes = 600
duration = "20m"
warmup = "5m"
sample_interval = "1m"
[bootstrap]
mode = "oracle"
[network.latency]
model = "constant"
value = "50ms"
[churn]
model = "distributions"
session = { dist = "exponential", mean = "30m" }
downtime = { dist = "exponential", mean = "10m" }
[workload]
lookup_rate = 0.02
keys = 200
"#;

/// Value poisoning under churn (scenarios/attack/poison.toml with 30% attackers): they answer gets
/// with forged values and drop stores, and churn takes the honest replicas away.
const POISON: &str = r#"name = "mono-poison"
seed = 1
nodes = 400
duration = "20m"
warmup = "10m"
sample_interval = "2m"
[protocol]
republish_interval = "10m"
[bootstrap]
mode = "oracle"
[network.latency]
model = "constant"
value = "50ms"
[churn]
model = "distributions"
session = { dist = "exponential", mean = "10m" }
downtime = { dist = "exponential", mean = "5m" }
[workload]
lookup_rate = 0.005
put_rate = 0.001
get_rate = 0.01
keys = 100
[adversary]
fraction = 0.3
behaviours = ["poison", "drop_store"]
"#;

/// Which way the candidate must move the metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The candidate's mean is lower.
    Lower,
    /// The candidate's mean is higher.
    Higher,
}

/// One monotone effect.
pub struct Effect {
    /// Check name.
    pub name: &'static str,
    /// Its label on the chart.
    pub short: &'static str,
    /// In words.
    pub what: &'static str,
    /// The scenario.
    pub toml: &'static str,
    /// `--set` of the base side and of the candidate side.
    pub sides: ([&'static str; 2], [&'static str; 2]),
    /// Its summary metric.
    pub metric: &'static str,
    /// The direction the candidate must move it.
    pub direction: Direction,
}

/// The effects, in the table's order.
pub fn effects() -> Vec<Effect> {
    let e = |name: &'static str, what, toml, base, cand, metric, direction| Effect {
        name,
        short: match name {
            "k_hops" => "k",
            "alpha_latency" => "α lat.",
            "alpha_messages" => "α msgs",
            "b_hops" => "b hops",
            "b_tables" => "b size",
            "loss_timeouts" => "loss",
            "session_success" => "churn",
            _ => "paths",
        },
        what,
        toml,
        sides: (base, cand),
        metric,
        direction,
    };
    use Direction::{Higher, Lower};
    vec![
        e(
            "k_hops",
            "k 8 → 20: fewer hops",
            STATIC,
            ["protocol.k=8", ""],
            ["protocol.k=20", ""],
            "find_node.hops.mean",
            Lower,
        ),
        e(
            "alpha_latency",
            "α 1 → 3: lower lookup latency",
            STATIC,
            ["protocol.alpha=1", ""],
            ["protocol.alpha=3", ""],
            "find_node.latency_ms.mean",
            Lower,
        ),
        e(
            "alpha_messages",
            "α 1 → 3: more contacts queried",
            STATIC,
            ["protocol.alpha=1", ""],
            ["protocol.alpha=3", ""],
            "find_node.queried.mean",
            Higher,
        ),
        e(
            "b_hops",
            "b 1 → 3: fewer hops",
            STATIC,
            ["protocol.b=1", ""],
            ["protocol.b=3", ""],
            "find_node.hops.mean",
            Lower,
        ),
        e(
            "b_tables",
            "b 1 → 3: larger tables",
            STATIC,
            ["protocol.b=1", ""],
            ["protocol.b=3", ""],
            "end.rt_size.mean",
            Higher,
        ),
        e(
            "loss_timeouts",
            "loss 1% → 10%: more timeouts",
            STATIC,
            ["network.loss.model=independent", "network.loss.rate=0.01"],
            ["network.loss.model=independent", "network.loss.rate=0.1"],
            "find_node.timeouts.mean",
            Higher,
        ),
        e(
            "session_success",
            "sessions 30 → 5 min: lower success",
            CHURN,
            ["churn.session.mean=30m", ""],
            ["churn.session.mean=5m", ""],
            "find_node.success_rate",
            Lower,
        ),
        e(
            "disjoint_success",
            "disjoint paths 1 → 4: higher get success under poisoning",
            POISON,
            ["protocol.disjoint_paths=1", ""],
            ["protocol.disjoint_paths=4", ""],
            "get.success_rate",
            Higher,
        ),
    ]
}

/// Replicas per side.
pub fn replicas(depth: Depth) -> u32 {
    match depth {
        Depth::Quick => 6,
        Depth::Full => 12,
    }
}

/// The one-sided p-value of "the candidate moves the mean in `direction`"
/// from Welch's two-sided test: half of it when the difference goes that way,
/// one minus half otherwise. Equal samples without spread: 0 when they differ
/// the right way, 1 otherwise.
pub fn one_sided_p(base: &[f64], cand: &[f64], direction: Direction) -> f64 {
    let Some(d) = stats::mean_diff(base, cand, 0.95) else {
        return f64::NAN;
    };
    let right = match direction {
        Direction::Lower => d.diff < 0.0,
        Direction::Higher => d.diff > 0.0,
    };
    if d.p_value.is_nan() {
        return if right { 0.0 } else { 1.0 };
    }
    if right { d.p_value / 2.0 } else { 1.0 - d.p_value / 2.0 }
}

/// The metric of each of `runs`, or an error naming the run without it.
fn values(runs: &[Results], metric: &str) -> Result<Vec<f64>, String> {
    runs.iter().map(|r| r.metric(metric).ok_or_else(|| format!("{}: no value of {metric}", r.dir.display()))).collect()
}

/// Runs every effect's replicas and tests them.
pub fn checks(lab: &Lab) -> Result<Section, String> {
    let r = replicas(lab.depth);
    let effects = effects();
    // Every side's replicas, each run once (effects share sides), all at once.
    let tag = |set: [&str; 2]| -> Vec<String> { set.iter().filter(|s| !s.is_empty()).map(|s| s.to_string()).collect() };
    let key = |e: &Effect, set: [&str; 2]| format!("{}:{}", e.toml.lines().next().unwrap_or(""), tag(set).join(","));
    let mut sides: Vec<(String, &str, Vec<String>)> = Vec::new();
    for e in &effects {
        for set in [e.sides.0, e.sides.1] {
            if !sides.iter().any(|s| s.0 == key(e, set)) {
                sides.push((key(e, set), e.toml, tag(set)));
            }
        }
    }
    let mut jobs = Vec::new();
    for (i, (_, toml, over)) in sides.iter().enumerate() {
        for rep in 0..r {
            let mut o = over.clone();
            o.push(format!("seed={}", replica_seed(1, rep)));
            jobs.push((format!("monotone-side{i}-r{rep}"), *toml, o));
        }
    }
    let runs = lab.simulate_all(&jobs)?;
    let side_runs = |e: &Effect, set: [&str; 2]| -> &[Results] {
        let i = sides.iter().position(|s| s.0 == key(e, set)).unwrap_or(0);
        &runs[i * r as usize..(i + 1) * r as usize]
    };
    let mut rows: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for e in &effects {
        let base = values(side_runs(e, e.sides.0), e.metric)?;
        let cand = values(side_runs(e, e.sides.1), e.metric)?;
        let p = one_sided_p(&base, &cand, e.direction);
        rows.push((base, cand, p));
    }
    let adjusted = stats::holm(&rows.iter().map(|(_, _, p)| Some(*p)).collect::<Vec<_>>());
    let mut checks = Vec::new();
    let mut table = String::from(
        "| effect | metric | base mean | candidate mean | one-sided p | Holm p |\n|---|---|---|---|---|---|\n",
    );
    for ((e, (base, cand, p)), adj) in effects.iter().zip(&rows).zip(&adjusted) {
        let adj = adj.unwrap_or(f64::NAN);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let _ = writeln!(
            table,
            "| {} | `{}` | {} | {} | {} | {} |",
            e.what,
            e.metric,
            super::check::number(mean(base)),
            super::check::number(mean(cand)),
            super::check::number(*p),
            super::check::number(adj)
        );
        checks.push(Check {
            name: format!("monotone.{}", e.name),
            what: e.what.to_string(),
            expected: 0.0,
            measured: adj,
            tolerance: Tolerance::Significant(0.05),
        });
    }
    let text = format!(
        "A parameter moved one way must move a metric one way. Each effect runs {r} replicas of a base and a \
         candidate scenario (replica r with the r-th seed `kadsim sweep` uses from seed 1), reads the metric \
         from each run's `summary.csv`, and tests the direction with Welch's t-test (one-sided: half the \
         two-sided p when the candidate's mean moved the expected way, one minus half otherwise). The eight \
         p-values are Holm-adjusted as one family; each must be below 0.05. The scenarios: a static network of \
         600 nodes on ideal tables (constant 50 ms latency; loss added for the loss effect), the same with \
         exponential sessions and 10-minute downtimes, and `scenarios/attack/poison.toml` with 30% of its 400 \
         nodes poisoning values and dropping stores.\n\n{table}"
    );
    let chart = effect_chart(&effects, &rows);
    Ok(Section { title: "Monotone effects".into(), text, checks, charts: vec![("monotone_effects".into(), chart)] })
}

/// The candidate's mean relative to the base's for each effect, with each
/// replica's value as a point: the direction at a glance.
fn effect_chart(effects: &[Effect], rows: &[(Vec<f64>, Vec<f64>, f64)]) -> Chart {
    let mut base_pts = Vec::new();
    let mut cand_pts = Vec::new();
    for (i, (base, cand, _)) in rows.iter().enumerate() {
        let m = base.iter().sum::<f64>() / base.len() as f64;
        if m == 0.0 {
            continue;
        }
        base_pts.extend(base.iter().filter(|v| **v > 0.0).map(|v| (i as f64 - 0.15, (v / m).log10())));
        cand_pts.extend(cand.iter().filter(|v| **v > 0.0).map(|v| (i as f64 + 0.15, (v / m).log10())));
    }
    Chart {
        title: "Monotone effects: candidate against base, per replica".into(),
        x_label: "effect".into(),
        y_label: "value / base mean (log)".into(),
        series: vec![
            Series::new("base replicas", base_pts, Mark::Points { shape: crate::report::chart::Shape::Circle }),
            Series::new("candidate replicas", cand_pts, Mark::Points { shape: crate::report::chart::Shape::Triangle }),
        ],
        x_ticks: effects.iter().enumerate().map(|(i, e)| (i as f64, e.short.to_string())).collect(),
        x_pad: true,
        log_y: true,
        ..Chart::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_sided_p_halves_welch_the_right_way_and_flips_the_wrong_way() {
        let (a, b) = ([3.0, 3.1, 2.9, 3.05], [2.5, 2.6, 2.55, 2.45]);
        let two = stats::mean_diff(&a, &b, 0.95).unwrap().p_value;
        assert!((one_sided_p(&a, &b, Direction::Lower) - two / 2.0).abs() < 1e-15);
        assert!((one_sided_p(&a, &b, Direction::Higher) - (1.0 - two / 2.0)).abs() < 1e-15);
        assert_eq!(one_sided_p(&[1.0, 1.0], &[2.0, 2.0], Direction::Higher), 0.0);
        assert_eq!(one_sided_p(&[1.0, 1.0], &[2.0, 2.0], Direction::Lower), 1.0);
    }

    #[test]
    fn every_effect_names_a_summary_metric_and_a_scenario_that_loads() {
        for e in effects() {
            assert!(crate::files::schema::metric_column(e.metric).is_some(), "{}", e.metric);
            for side in [e.sides.0, e.sides.1] {
                let over: Vec<String> = side.iter().filter(|s| !s.is_empty()).map(|s| s.to_string()).collect();
                crate::scenario::load_str(e.toml, e.name, &over).unwrap_or_else(|err| panic!("{}: {err}", e.name));
            }
        }
    }
}
