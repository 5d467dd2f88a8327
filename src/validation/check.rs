//! One validation check: a value kadsim measured against an expectation
//! worked out independently of the protocol core (`src/kad`), with a stated
//! tolerance; and the section of the report a group of checks belongs to,
//! with its derivation in prose and its charts.

use crate::report::chart::Chart;
use crate::report::results::Results;
use crate::scenario::{self, Scenario};
use std::path::Path;

/// How far the measured value may be from the expected one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// |measured − expected| ≤ this.
    Abs(f64),
    /// |measured − expected| ≤ this × |expected|.
    Rel(f64),
    /// A statistical test: `measured` is its p-value and the check passes
    /// when p ≥ this level (the two samples are not distinguishable).
    NotRejected(f64),
    /// A statistical test of a direction: `measured` is its (Holm-adjusted)
    /// p-value and the check passes when p < this level.
    Significant(f64),
}

/// A check's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Short name, unique in the suite (`hops.ideal.n1e4.k20.a3.b1`).
    pub name: String,
    /// What is compared, in words (a table cell).
    pub what: String,
    /// The expectation (for a test: the level's side it should fall on, as
    /// the tolerance says; shown as text by [`Check::expected_text`]).
    pub expected: f64,
    /// kadsim's value (for a test: its p-value).
    pub measured: f64,
    /// How close counts as a pass.
    pub tolerance: Tolerance,
}

impl Check {
    /// Whether kadsim's value is within the tolerance of the expectation.
    /// A NaN anywhere fails.
    pub fn pass(&self) -> bool {
        let (e, m) = (self.expected, self.measured);
        if e.is_nan() || m.is_nan() {
            return false;
        }
        match self.tolerance {
            Tolerance::Abs(t) => (m - e).abs() <= t,
            Tolerance::Rel(t) => (m - e).abs() <= t * e.abs(),
            Tolerance::NotRejected(level) => m >= level,
            Tolerance::Significant(level) => m < level,
        }
    }

    /// The expectation as the table shows it.
    pub fn expected_text(&self) -> String {
        match self.tolerance {
            Tolerance::NotRejected(_) => "same distribution".into(),
            Tolerance::Significant(_) => "in this direction".into(),
            _ => number(self.expected),
        }
    }

    /// kadsim's value as the table shows it.
    pub fn measured_text(&self) -> String {
        match self.tolerance {
            Tolerance::NotRejected(_) | Tolerance::Significant(_) => format!("p = {}", number(self.measured)),
            _ => number(self.measured),
        }
    }

    /// The tolerance as the table shows it.
    pub fn tolerance_text(&self) -> String {
        match self.tolerance {
            Tolerance::Abs(t) => format!("± {}", number(t)),
            Tolerance::Rel(t) => format!("± {}%", number(t * 100.0)),
            Tolerance::NotRejected(l) => format!("p ≥ {}", number(l)),
            Tolerance::Significant(l) => format!("p < {}", number(l)),
        }
    }
}

/// A number with 4 significant digits, without trailing zeros.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// How much of the suite runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Small networks: minutes on two cores (CI).
    Quick,
    /// Up to 1,000,000 nodes.
    Full,
}

/// A section of the report: a group of checks with the derivation of their
/// expectations (Markdown) and the charts that show them.
pub struct Section {
    /// Its heading.
    pub title: String,
    /// How the expectations are worked out, and what the checks show (Markdown).
    pub text: String,
    /// The checks, in table order.
    pub checks: Vec<Check>,
    /// Charts with their file stems.
    pub charts: Vec<(String, Chart)>,
}

/// Where the suite's runs go and how they are made.
pub struct Lab<'a> {
    /// A directory for the runs (`OUT/runs/NAME`).
    pub runs: &'a Path,
    /// Threads per run.
    pub threads: usize,
    /// Runs at once ([`Lab::simulate_all`]).
    pub jobs: usize,
    /// How much of the suite runs.
    pub depth: Depth,
}

impl Lab<'_> {
    /// Runs the scenario `toml` (with `overrides`, as `--set`) into
    /// `runs/name` and reads its results back; an earlier run there is
    /// replaced (the suite owns its directory).
    pub fn simulate(&self, name: &str, toml: &str, overrides: &[String]) -> Result<Results, String> {
        let sc: Scenario = scenario::load_str(toml, name, overrides).map_err(|e| format!("{name}: {e}"))?;
        self.simulate_scenario(name, &sc)
    }

    /// Runs each `(name, toml, overrides)` as [`Lab::simulate`] does,
    /// [`Lab::jobs`] at a time; the results in the order given (each run's
    /// files are the same whatever the order they ran in).
    pub fn simulate_all(&self, runs: &[(String, &str, Vec<String>)]) -> Result<Vec<Results>, String> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<Option<Result<Results, String>>>> =
            runs.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..self.jobs.clamp(1, runs.len().max(1)) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((name, toml, over)) = runs.get(i) else { break };
                        let r = self.simulate(name, toml, over);
                        if let Ok(mut slot) = slots[i].lock() {
                            *slot = Some(r);
                        }
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|m| m.into_inner().ok().flatten().unwrap_or_else(|| Err("a run did not finish".into())))
            .collect()
    }

    /// Runs `sc` into `runs/name` and reads its results back.
    pub fn simulate_scenario(&self, name: &str, sc: &Scenario) -> Result<Results, String> {
        let dir = self.runs.join(name);
        let threads = crate::runner::Threads::chosen(
            self.threads,
            format!("kadsim validation: {} runs at a time, {} threads each", self.jobs, self.threads),
        );
        crate::runner::run_traced(sc, &dir, &mut crate::runner::Silent, threads, None, crate::runner::Replace::Force)
            .map_err(|e| format!("{name}: {e}"))?;
        Results::read(&dir).map_err(|e| format!("{name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_passes_within_its_tolerance_and_never_on_nan() {
        let c = |e, m, t| Check { name: "x".into(), what: "x".into(), expected: e, measured: m, tolerance: t };
        assert!(c(3.0, 3.02, Tolerance::Abs(0.03)).pass());
        assert!(!c(3.0, 3.04, Tolerance::Abs(0.03)).pass());
        assert!(c(100.0, 104.0, Tolerance::Rel(0.05)).pass() && !c(100.0, 106.0, Tolerance::Rel(0.05)).pass());
        assert!(
            c(0.0, 0.2, Tolerance::NotRejected(0.01)).pass() && !c(0.0, 0.001, Tolerance::NotRejected(0.01)).pass()
        );
        assert!(
            c(0.0, 0.001, Tolerance::Significant(0.05)).pass() && !c(0.0, 0.2, Tolerance::Significant(0.05)).pass()
        );
        assert!(!c(f64::NAN, 1.0, Tolerance::Abs(1.0)).pass() && !c(1.0, f64::NAN, Tolerance::Abs(1.0)).pass());
        assert_eq!(number(1.234567), "1.235");
        assert_eq!(number(0.0123456), "0.01235");
        assert_eq!(number(12345.0), "12345");
        assert_eq!(number(2.5), "2.5");
    }
}
