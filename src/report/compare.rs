//! `kadsim compare BASE CAND`: every metric of two runs side by side, the
//! difference with a 95% bootstrap confidence interval, two-sample tests of
//! the hop-count and latency distributions, overlay CDF charts, and
//! `--fail-if` thresholds whose breach makes the command exit 1 (a CI gate).
//!
//! Metric names are those of `summary.csv` (`find_node.hops.mean`,
//! `put.replicas.mean`, `msgs.per_live_node_per_s`, …). Names without an
//! operation kind mean node lookups: `hops.mean` is `find_node.hops.mean`.

use super::chart::{Mark, Series, ecdf};
use super::plot::{cdf_chart, hops_of, latencies_ms_of};
use super::results::{Results, kind_label};
use super::stats::{self, Interval, Stat, Test};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Operation kinds compared, in table order.
const KINDS: [&str; 3] = ["find_node", "get", "put"];
/// Summary metrics compared without a confidence interval (one number per run).
const TOTALS: [&str; 12] = [
    "msgs.per_live_node_per_s",
    "bytes.per_live_node_per_s",
    "msgs.sent",
    "msgs.lost",
    "msgs.cut",
    "msgs.to_dead",
    "bytes.sent",
    "churn.joins",
    "churn.leaves",
    "end.alive",
    "end.rt_size.mean",
    "end.stored_pairs",
];

/// One metric of both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Metric name, as in `summary.csv`.
    pub name: String,
    /// Value in the base run.
    pub base: Option<f64>,
    /// Value in the candidate run.
    pub cand: Option<f64>,
    /// 95% bootstrap interval of cand − base (metrics of operations only).
    pub ci: Option<Interval>,
}

impl Row {
    /// cand − base.
    pub fn diff(&self) -> Option<f64> {
        Some(self.cand? - self.base?)
    }

    /// (cand − base) / |base|; ±∞ when the base is 0 and the candidate is not.
    pub fn rel(&self) -> Option<f64> {
        let (b, d) = (self.base?, self.diff()?);
        Some(if b != 0.0 {
            d / b.abs()
        } else if d == 0.0 {
            0.0
        } else {
            d.signum() * f64::INFINITY
        })
    }
}

/// Two-sample tests of one distribution.
#[derive(Clone, Debug, PartialEq)]
pub struct DistTest {
    /// e.g. `find_node.hops`.
    pub name: String,
    /// Sample sizes.
    pub n: (usize, usize),
    /// Mann–Whitney U (two-sided, normal approximation).
    pub mann_whitney: Option<Test>,
    /// Kolmogorov–Smirnov.
    pub ks: Option<Test>,
}

/// The comparison of two runs.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Base and candidate labels (directory names).
    pub labels: (String, String),
    /// Every metric.
    pub rows: Vec<Row>,
    /// Distribution tests.
    pub tests: Vec<DistTest>,
    /// Bootstrap resamples used.
    pub resamples: usize,
}

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

/// Compares `cand` against `base`, with `resamples` bootstrap rounds from `seed`.
pub fn compare(base: &Results, cand: &Results, resamples: usize, seed: u64) -> Comparison {
    let mut rows = Vec::new();
    let mut tests = Vec::new();
    for (ki, kind) in KINDS.iter().enumerate() {
        if base.ops_of(kind).next().is_none() && cand.ops_of(kind).next().is_none() {
            continue;
        }
        let count = |r: &Results| Some(r.ops_of(kind).count() as f64);
        rows.push(Row { name: format!("{kind}.count"), base: count(base), cand: count(cand), ci: None });
        for (mi, m) in metrics_of(kind).iter().enumerate() {
            let (b, c) = (values(base, kind, m.field), values(cand, kind, m.field));
            let name = if m.field == "success" {
                format!("{kind}.success_rate")
            } else {
                format!("{kind}.{}.{}", m.field, m.stat_name)
            };
            // One stream per metric, so that adding a metric leaves the others' intervals unchanged.
            let s = seed ^ ((ki as u64) << 32 | mi as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            rows.push(Row {
                name,
                base: m.stat.of(&b),
                cand: m.stat.of(&c),
                ci: stats::bootstrap_diff(&b, &c, m.stat, resamples, 0.95, s),
            });
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
            rows.push(Row { name: name.to_string(), base: b, cand: c, ci: None });
        }
    }
    let label = |r: &Results| r.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(r.name());
    Comparison { labels: (label(base), label(cand)), rows, tests, resamples }
}

impl Comparison {
    /// The row of `metric`; a name without an operation kind means node lookups.
    pub fn row(&self, metric: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == metric).or_else(|| {
            let full = format!("find_node.{metric}");
            self.rows.iter().find(|r| r.name == full)
        })
    }

    /// The table as aligned text, or as a Markdown table.
    pub fn render(&self, markdown: bool) -> String {
        let head = ["metric", "base", "candidate", "diff", "diff %", "95% CI of diff"];
        let body: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.name.clone(),
                    num(r.base),
                    num(r.cand),
                    signed(r.diff()),
                    pct(r.rel()),
                    r.ci.map_or("".into(), |ci| format!("[{}, {}]", signed(Some(ci.low)), signed(Some(ci.high)))),
                ]
            })
            .collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "base: {}, candidate: {}; intervals: percentile bootstrap, {} resamples",
            self.labels.0, self.labels.1, self.resamples
        );
        out.push('\n');
        out.push_str(&table(&head, &body, markdown));
        let head = ["distribution", "n base", "n candidate", "Mann-Whitney U", "p", "KS D", "p"];
        let body: Vec<[String; 7]> = self
            .tests
            .iter()
            .map(|t| {
                let mw = t.mann_whitney;
                let ks = t.ks;
                [
                    t.name.clone(),
                    t.n.0.to_string(),
                    t.n.1.to_string(),
                    mw.map_or("".into(), |m| format!("{:.1}", m.statistic)),
                    mw.map_or("".into(), |m| pval(m.p_value)),
                    ks.map_or("".into(), |k| format!("{:.4}", k.statistic)),
                    ks.map_or("".into(), |k| pval(k.p_value)),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table(&head, &body, markdown));
        out
    }

    /// Overlay CDFs of both runs' node-lookup hop counts and latencies, in `out`.
    pub fn charts(
        base: &Results,
        cand: &Results,
        labels: &(String, String),
        out: &Path,
    ) -> Result<Vec<PathBuf>, super::chart::ChartError> {
        let mut files = Vec::new();
        for (stem, what, unit, f) in [
            ("compare_hops_cdf", "hop count", "hops (discovery depth)", hops_of as fn(&Results, &str) -> Vec<f64>),
            ("compare_latency_cdf", "latency", "latency (ms)", latencies_ms_of),
        ] {
            let kind = "find_node";
            let (b, c) = (f(base, kind), f(cand, kind));
            let title =
                format!("{} CDF: {} vs {}", capitalised(&format!("{} {what}", kind_label(kind))), labels.0, labels.1);
            let series = vec![
                Series::new(format!("base: {} (n = {})", labels.0, b.len()), ecdf(&b), Mark::Step),
                Series::new(format!("candidate: {} (n = {})", labels.1, c.len()), ecdf(&c), Mark::Step),
            ];
            let chart = cdf_chart(title, unit, series, stem == "compare_hops_cdf");
            files.extend(chart.save(&out.join(stem))?);
        }
        Ok(files)
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Formats a value with about five significant digits.
pub fn num(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(x) if !x.is_finite() => format!("{x}"),
        Some(x) if x == x.trunc() && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) if x.abs() >= 1000.0 => format!("{x:.1}"),
        Some(x) if x.abs() >= 1.0 => format!("{x:.4}"),
        Some(x) => format!("{x:.5}"),
    }
}

fn signed(v: Option<f64>) -> String {
    match v {
        Some(x) if x > 0.0 => format!("+{}", num(Some(x))),
        Some(0.0) => "0".into(),
        other => num(other),
    }
}

fn pct(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(x) if x.is_infinite() => if x > 0.0 { "+inf" } else { "-inf" }.into(),
        Some(x) => format!("{:+.2}%", x * 100.0),
    }
}

fn pval(p: f64) -> String {
    if p < 1e-300 {
        "< 1e-300".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// A table, aligned for the terminal or as a Markdown pipe table.
pub fn table<const N: usize>(head: &[&str; N], body: &[[String; N]], markdown: bool) -> String {
    let mut out = String::new();
    if markdown {
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "|{}", (0..N).map(|i| if i == 0 { "---|" } else { "---:|" }).collect::<String>());
        for row in body {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        return out;
    }
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (i, c) in row.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    out.push_str(&line(head.to_vec()));
    for row in body {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// A `--fail-if` threshold: `METRIC OP BOUND`, e.g. `hops.mean > +2%`.
///
/// A signed bound (`+2%`, `-0.01`) limits the change from base to candidate,
/// relative when it ends in `%`; an unsigned bound (`3`, `0.99`) limits the
/// candidate's value itself. OP is one of `>`, `>=`, `<`, `<=`: the run fails
/// when the comparison holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The text as given.
    pub text: String,
    /// Metric name.
    pub metric: String,
    /// Operator.
    pub op: Op,
    /// What is bounded.
    pub bound: Bound,
}

/// A rule's comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// A rule's bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// Relative change, as a fraction (`+2%` is 0.02).
    Relative(f64),
    /// Absolute change.
    Change(f64),
    /// The candidate's value.
    Value(f64),
}

impl std::str::FromStr for Rule {
    type Err = String;

    fn from_str(text: &str) -> Result<Rule, String> {
        let usage =
            || format!("--fail-if '{text}': expected METRIC OP BOUND, e.g. 'hops.mean > +2%' or 'success_rate < 0.99'");
        let t = text.trim();
        let at = t.find(['<', '>']).ok_or_else(usage)?;
        let metric = t[..at].trim();
        let rest = &t[at..];
        let (op, rest) = if let Some(r) = rest.strip_prefix(">=") {
            (Op::Ge, r)
        } else if let Some(r) = rest.strip_prefix("<=") {
            (Op::Le, r)
        } else if let Some(r) = rest.strip_prefix('>') {
            (Op::Gt, r)
        } else {
            (Op::Lt, &rest[1..])
        };
        let b = rest.trim();
        if metric.is_empty() || metric.contains(char::is_whitespace) || b.is_empty() {
            return Err(usage());
        }
        let signed = b.starts_with('+') || b.starts_with('-');
        let (numtext, percent) = match b.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (b, false),
        };
        let v: f64 = numtext.parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(usage)?;
        let bound = match (signed, percent) {
            (true, true) => Bound::Relative(v / 100.0),
            (true, false) => Bound::Change(v),
            (false, false) => Bound::Value(v),
            (false, true) => return Err(format!("--fail-if '{text}': a relative bound needs a sign, e.g. +2% or -1%")),
        };
        Ok(Rule { text: t.to_string(), metric: metric.to_string(), op, bound })
    }
}

/// The outcome of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The rule's text.
    pub rule: String,
    /// The quantity the rule bounds, as measured.
    pub measured: f64,
    /// Whether the rule fired (a regression).
    pub failed: bool,
}

impl Rule {
    /// Applies the rule to `c`; an error when the metric is unknown or missing in a run.
    pub fn check(&self, c: &Comparison) -> Result<Verdict, String> {
        let row = c.row(&self.metric).ok_or_else(|| {
            let known: Vec<&str> = c.rows.iter().map(|r| r.name.as_str()).collect();
            format!("--fail-if '{}': unknown metric {} (known: {})", self.text, self.metric, known.join(", "))
        })?;
        // A candidate that lost the metric, or measured it as NaN, cannot be
        // shown to be within bounds: that fails the rule. A base without it
        // gives nothing to compare a change with: that is bad input.
        if row.cand.is_none_or(f64::is_nan) {
            return Ok(Verdict { rule: self.text.clone(), measured: f64::NAN, failed: true });
        }
        let no_base = || format!("--fail-if '{}': the base run has no {}", self.text, row.name);
        if !matches!(self.bound, Bound::Value(_)) && row.base.is_none_or(f64::is_nan) {
            return Err(no_base());
        }
        let measured = match self.bound {
            Bound::Relative(_) => row.rel(),
            Bound::Change(_) => row.diff(),
            Bound::Value(_) => row.cand,
        }
        .ok_or_else(no_base)?;
        let bound = match self.bound {
            Bound::Relative(v) | Bound::Change(v) | Bound::Value(v) => v,
        };
        let failed = measured.is_nan()
            || match self.op {
                Op::Gt => measured > bound,
                Op::Ge => measured >= bound,
                Op::Lt => measured < bound,
                Op::Le => measured <= bound,
            };
        Ok(Verdict { rule: self.text.clone(), measured, failed })
    }
}

impl Verdict {
    /// One line: `FAIL hops.mean > +2%: +3.10%` or `ok   …`.
    pub fn line(&self, rule: &Rule) -> String {
        if self.measured.is_nan() {
            return format!("FAIL {}: no value in the candidate run", self.rule);
        }
        let m = match rule.bound {
            Bound::Relative(_) => pct(Some(self.measured)),
            Bound::Change(_) => signed(Some(self.measured)),
            Bound::Value(_) => num(Some(self.measured)),
        };
        format!("{} {}: measured {m}", if self.failed { "FAIL" } else { "ok  " }, self.rule)
    }
}
