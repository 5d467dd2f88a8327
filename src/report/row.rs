//! The rows of a comparison: one metric of both sides (`Row`) and the
//! two-sample tests of one distribution (`DistTest`), which the between-seed
//! (`between.rs`) and within-run (`within.rs`) comparisons fill in and
//! `compare.rs` prints (`kadsim::report::compare::{Row, DistTest, PerRun}`
//! re-export them).

use super::stats::{Interval, Test};

/// A metric's value in each run of a set, in run order (`None`: no value).
pub type PerRun = Vec<Option<f64>>;

/// One metric of both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Metric name, as in `summary.csv`.
    pub name: String,
    /// Value in the base run (mean over the base set's runs).
    pub base: Option<f64>,
    /// Value in the candidate run (mean over the candidate set's runs).
    pub cand: Option<f64>,
    /// 95% interval of cand − base: bootstrap within runs (metrics of
    /// operations only), Welch t between seeds.
    pub ci: Option<Interval>,
    /// Two-sided p-value of the difference (between seeds only: Welch's t-test).
    pub p: Option<f64>,
    /// `p` adjusted by Holm's method over every metric of the comparison
    /// (between seeds only): significant at 5% when below 0.05, with the
    /// chance of any false alarm among all metrics held to 5%.
    pub p_holm: Option<f64>,
    /// The value of each run of base and candidate, in run order; `None`
    /// for a run without one (between seeds only).
    pub runs: Option<(PerRun, PerRun)>,
}

impl Row {
    /// A row without p-value or per-run values.
    pub fn new(name: String, base: Option<f64>, cand: Option<f64>, ci: Option<Interval>) -> Row {
        Row { name, base, cand, ci, p: None, p_holm: None, runs: None }
    }

    /// cand − base.
    pub fn diff(&self) -> Option<f64> {
        Some(self.cand? - self.base?)
    }

    /// How many runs of base and candidate have a value (between seeds only).
    pub fn n(&self) -> Option<(usize, usize)> {
        let count = |xs: &[Option<f64>]| xs.iter().filter(|x| x.is_some()).count();
        self.runs.as_ref().map(|(b, c)| (count(b), count(c)))
    }

    /// The places (in run order) of the base and candidate runs without a
    /// value, when some run of either side has one (between seeds only; a
    /// metric no run has is simply not applicable).
    pub fn lacking(&self) -> Option<(Vec<usize>, Vec<usize>)> {
        let (b, c) = self.runs.as_ref()?;
        let none = |xs: &[Option<f64>]| xs.iter().enumerate().filter(|(_, x)| x.is_none()).map(|(i, _)| i).collect();
        let (lb, lc): (Vec<usize>, Vec<usize>) = (none(b), none(c));
        let some = b.iter().chain(c).any(Option::is_some);
        (some && !(lb.is_empty() && lc.is_empty())).then_some((lb, lc))
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
