//! `kadsim compare`: a candidate run or replica set against a base one. Every
//! metric side by side, the difference with a 95% interval, overlay CDF charts,
//! and `--fail-if` thresholds (`gate.rs`) whose breach makes the command exit 1
//! (a CI gate).
//!
//! Which statistics are used depends on what is compared (`runset.rs` reads
//! the sets): two replica sets, or a single run against a set, get the
//! between-seed comparison of `between.rs` (per-run values, Welch intervals
//! and tests); a single run against a single run gets the within-run
//! comparison of `within.rs` (bootstrap over operations, distribution tests),
//! labelled and warned about, since it ignores seed-to-seed variation.
//!
//! Metric names are those of `summary.csv` (`find_node.hops.mean`,
//! `put.replicas.mean`, `msgs.per_live_node_per_s`, …). Names without an
//! operation kind mean node lookups: `hops.mean` is `find_node.hops.mean`.

use super::between::between_seed;
use super::chart::{Mark, Series, ecdf};
use super::format::{num, pct, pval, signed, table};
use super::plot::{cdf_chart, hops_of, latencies_ms_of, latency_cdf_chart};
use super::results::{Results, kind_label};
pub use super::row::{DistTest, PerRun, Row};
use super::runset::{self, RunSet};
use super::settings;
use super::stats::Interval;
use super::within::within_run;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The warning of a comparison of two single runs.
pub const WITHIN_RUN_WARNING: &str = "within-run only: these intervals and tests treat the operations of one run as \
independent and ignore seed-to-seed variation, so they overstate significance; compare replica sets \
(kadsim sweep FILE --replicas 5, once per side) to judge a change";

/// The file stems of the overlay charts of a comparison.
pub const CHART_STEMS: [&str; 2] = ["compare_hops_cdf", "compare_latency_cdf"];

/// How the two sides were compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One run against one run: operations resampled (`within.rs`).
    WithinRun {
        /// Bootstrap resamples used.
        resamples: usize,
    },
    /// Replica sets: per-run values (`between.rs`).
    BetweenSeed {
        /// Runs of base and candidate.
        runs: (usize, usize),
    },
}

/// The comparison of two runs or replica sets.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Base and candidate labels (directory names).
    pub labels: (String, String),
    /// How they were compared.
    pub method: Method,
    /// Every metric.
    pub rows: Vec<Row>,
    /// Distribution tests (within runs only).
    pub tests: Vec<DistTest>,
    /// What the reader must know to trust the numbers, one line each.
    pub warnings: Vec<String>,
    /// The run directories of base and candidate, in run order.
    pub dirs: (Vec<PathBuf>, Vec<PathBuf>),
    /// The settings in which the candidate's scenario differs from the
    /// base's (seed and name aside; each side's first run).
    pub settings: Vec<settings::Difference>,
}

/// Compares `cand` against `base`: between seeds when either side has two runs
/// or more, otherwise within runs with `resamples` bootstrap rounds from `seed`.
pub fn compare(base: &RunSet, cand: &RunSet, resamples: usize, seed: u64) -> Comparison {
    let mut warnings = runset::warnings(base, cand);
    let labels = (base.label.clone(), cand.label.clone());
    let (nb, nc) = (base.runs.len(), cand.runs.len());
    let dir_list = |s: &RunSet| s.runs.iter().map(|r| r.dir.clone()).collect::<Vec<_>>();
    let dirs = (dir_list(base), dir_list(cand));
    let settings = match (base.runs.first(), cand.runs.first()) {
        (Some(b), Some(c)) => settings::differences(b, c),
        _ => Vec::new(),
    };
    if !settings.is_empty() {
        warnings.push(format!(
            "base and candidate are runs of different settings ({}): the differences below come from all of them",
            settings::summary(&settings)
        ));
    }
    if nb == 1 && nc == 1 {
        let (rows, tests) = within_run(&base.runs[0], &cand.runs[0], resamples, seed);
        warnings.insert(0, WITHIN_RUN_WARNING.to_string());
        return Comparison { labels, method: Method::WithinRun { resamples }, rows, tests, warnings, dirs, settings };
    }
    if nb == 1 || nc == 1 {
        let (single, set) = if nb == 1 { ("base", "candidate") } else { ("candidate", "base") };
        warnings.push(format!(
            "the {single} side is a single run: its seed-to-seed variance is assumed equal to the {set} set's"
        ));
    }
    let rows = between_seed(&base.runs, &cand.runs);
    let mut cmp = Comparison {
        labels,
        method: Method::BetweenSeed { runs: (nb, nc) },
        rows,
        tests: Vec::new(),
        warnings,
        dirs,
        settings,
    };
    let lacking: Vec<String> = cmp.rows.iter().filter_map(|r| cmp.lacking_runs(r)).collect();
    for l in lacking {
        cmp.warnings.push(format!("{l}: compared over the runs that have one (column n)"));
    }
    cmp
}

fn interval(ci: Option<Interval>) -> String {
    ci.map_or("".into(), |ci| format!("[{}, {}]", signed(Some(ci.low)), signed(Some(ci.high))))
}

impl Comparison {
    /// The runs of a between-seed row without a value, when some run has
    /// one: `find_node.hops.mean has no value in 1 of 2 candidate runs (c/r1)`.
    pub fn lacking_runs(&self, row: &Row) -> Option<String> {
        let (lb, lc) = row.lacking()?;
        let mut parts = Vec::new();
        for (side, idx, dirs) in [("base", &lb, &self.dirs.0), ("candidate", &lc, &self.dirs.1)] {
            if idx.is_empty() {
                continue;
            }
            let names: Vec<String> = idx.iter().map(|&i| dirs[i].display().to_string()).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            parts.push(format!(
                "{} of {} {side} run{} ({})",
                idx.len(),
                dirs.len(),
                if dirs.len() == 1 { "" } else { "s" },
                crate::files::table::short_list(&names)
            ));
        }
        Some(format!("{} has no value in {}", row.name, parts.join(" and ")))
    }

    /// The row of `metric`; a name without an operation kind means node lookups.
    pub fn row(&self, metric: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == metric).or_else(|| {
            let full = format!("find_node.{metric}");
            self.rows.iter().find(|r| r.name == full)
        })
    }

    /// The first line: what is compared, and how.
    pub fn title(&self) -> String {
        let (b, c) = &self.labels;
        match self.method {
            Method::WithinRun { resamples } => format!(
                "within-run only: base: {b}, candidate: {c}; intervals: percentile bootstrap, {resamples} resamples"
            ),
            Method::BetweenSeed { runs: (nb, nc) } => format!(
                "between-seed ({nb} vs {nc} runs): base: {b}, candidate: {c}; means over runs, \
                 intervals: 95% Welch t interval of the difference of means, p: Welch's t-test (two-sided)"
            ),
        }
    }

    /// The tables as aligned text, or as Markdown.
    ///
    /// The warnings are part of a Markdown document; as text they go to
    /// stderr alone (the caller prints them), so that a terminal shows each once.
    pub fn render(&self, markdown: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title());
        if markdown {
            for w in &self.warnings {
                let _ = writeln!(out, "\n> **warning:** {w}");
            }
        }
        out.push('\n');
        if self.settings.is_empty() {
            out.push_str("Settings: the same on both sides (seeds aside).\n\n");
        } else {
            out.push_str("Settings that differ:\n\n");
            let body: Vec<[String; 3]> =
                self.settings.iter().map(|d| [d.field.clone(), d.base.clone(), d.cand.clone()]).collect();
            out.push_str(&table(&["setting", "base", "candidate"], &body, markdown));
            out.push('\n');
        }
        match self.method {
            Method::WithinRun { .. } => self.render_within(markdown, &mut out),
            Method::BetweenSeed { .. } => self.render_between(markdown, &mut out),
        }
        out
    }

    fn render_within(&self, markdown: bool, out: &mut String) {
        let head = ["metric", "base", "candidate", "diff", "diff %", "95% CI of diff"];
        let body: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| [r.name.clone(), num(r.base), num(r.cand), signed(r.diff()), pct(r.rel()), interval(r.ci)])
            .collect();
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
    }

    fn render_between(&self, markdown: bool, out: &mut String) {
        let head = [
            "metric",
            "base mean",
            "candidate mean",
            "diff",
            "diff %",
            "95% CI of diff",
            "p",
            "p (Holm)",
            "n base",
            "n cand",
        ];
        let body: Vec<[String; 10]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.name.clone(),
                    num(r.base),
                    num(r.cand),
                    signed(r.diff()),
                    pct(r.rel()),
                    interval(r.ci),
                    r.p.map_or(String::new(), pval),
                    r.p_holm.map_or(String::new(), pval),
                    r.n().map_or(String::new(), |n| n.0.to_string()),
                    r.n().map_or(String::new(), |n| n.1.to_string()),
                ]
            })
            .collect();
        out.push_str(&table(&head, &body, markdown));
        let tested = self.rows.iter().filter(|r| r.p.is_some()).count();
        let low = self.rows.iter().filter(|r| r.p.is_some_and(|p| p < 0.05)).count();
        let holm = self.rows.iter().filter(|r| r.p_holm.is_some_and(|p| p < 0.05)).count();
        let _ = writeln!(
            out,
            "\n{low} of {tested} metrics have p < 0.05; with no real change about {:.1} would, by chance. \
             Corrected for testing {tested} metrics at once (Holm), {holm} differ significantly at 5%.",
            tested as f64 * 0.05
        );
        let _ = writeln!(
            out,
            "No Mann-Whitney or KS test: operations pooled over runs are not independent draws; \
             the per-run means and quantiles above are compared instead. \
             n base, n cand: the runs with a value of the metric (empty values mean not applicable).\n"
        );
        let head = ["metric", "base runs", "candidate runs"];
        let list = |xs: &[Option<f64>]| {
            xs.iter().map(|x| x.map_or("-".into(), |v| num(Some(v)))).collect::<Vec<_>>().join(" ")
        };
        let body: Vec<[String; 3]> =
            self.rows.iter().filter_map(|r| r.runs.as_ref().map(|(b, c)| [r.name.clone(), list(b), list(c)])).collect();
        out.push_str("Per-run values:\n\n");
        out.push_str(&table(&head, &body, markdown));
    }

    /// Overlay CDFs of both sides' node-lookup hop counts and latencies, in
    /// `out`; a set's operations are pooled (a picture, not a test).
    pub fn charts(
        base: &RunSet,
        cand: &RunSet,
        labels: &(String, String),
        out: &crate::files::owned::Out,
        style: &super::chart::Style,
    ) -> Result<Vec<PathBuf>, super::chart::SaveError> {
        let mut charts = Vec::new();
        for (stem, what, unit, f) in [
            (CHART_STEMS[0], "hop count", "hops (discovery depth)", hops_of as fn(&Results, &str) -> Vec<f64>),
            (CHART_STEMS[1], "latency", "latency (ms)", latencies_ms_of),
        ] {
            let kind = "find_node";
            let pooled = |s: &RunSet| s.runs.iter().flat_map(|r| f(r, kind)).collect::<Vec<f64>>();
            let (b, c) = (pooled(base), pooled(cand));
            let runs = |s: &RunSet| match s.runs.len() {
                1 => String::new(),
                n => format!("{n} runs, "),
            };
            let title =
                format!("{} CDF: {} vs {}", capitalised(&format!("{} {what}", kind_label(kind))), labels.0, labels.1);
            let series = vec![
                Series::new(format!("base: {} ({}n = {})", labels.0, runs(base), b.len()), ecdf(&b), Mark::Step),
                Series::new(format!("candidate: {} ({}n = {})", labels.1, runs(cand), c.len()), ecdf(&c), Mark::Step),
            ];
            let chart = if stem == CHART_STEMS[0] {
                cdf_chart(title, unit, series, true)
            } else {
                latency_cdf_chart(title, series)
            };
            charts.push((stem, chart));
        }
        super::chart::save_all(&charts, out, style)
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}
