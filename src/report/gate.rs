//! `--fail-if` rules of `kadsim compare`, the CI gate: `METRIC OP BOUND
//! [significant]`, checked against a comparison's rows. With replica sets a
//! rule bounds the difference of the sets' means (or the candidate set's
//! mean); `significant` makes it fire only when, in addition, the 95%
//! interval of the difference excludes 0.

use super::compare::Comparison;
use super::format::{num, pct, signed};

/// A `--fail-if` threshold: `METRIC OP BOUND [significant]`, e.g. `hops.mean > +2%`.
///
/// A signed bound (`+2%`, `-0.01`) limits the change from base to candidate
/// (the difference of the means of replica sets), relative when it ends in
/// `%`; an unsigned bound (`3`, `0.99`) limits the candidate's value itself
/// (its set's mean). OP is one of `>`, `>=`, `<`, `<=`: the run fails when the
/// comparison holds. With the word `significant` after a signed bound, the
/// rule fails only when moreover the 95% interval of the difference excludes 0
/// (for replica sets: Welch's p < 0.05).
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
    /// Whether the rule also asks for the change to be significant.
    pub significant: bool,
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
        let usage = || {
            format!(
                "--fail-if '{text}': expected METRIC OP BOUND [significant], e.g. 'hops.mean > +2%' or 'success_rate < 0.99'"
            )
        };
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
        let (b, significant) = match rest.trim().strip_suffix("significant") {
            Some(b) if b.ends_with(char::is_whitespace) => (b.trim(), true),
            _ => (rest.trim(), false),
        };
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
        if significant && matches!(bound, Bound::Value(_)) {
            return Err(format!(
                "--fail-if '{text}': 'significant' applies to a change (a signed bound such as +2%), not to a value"
            ));
        }
        Ok(Rule { text: t.to_string(), metric: metric.to_string(), op, bound, significant })
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
    /// The 95% interval of the difference, for a rule that asks for significance.
    pub ci: Option<(f64, f64)>,
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
            return Ok(Verdict { rule: self.text.clone(), measured: f64::NAN, failed: true, ci: None });
        }
        // Between seeds, a rule is judged on every run of each set it reads,
        // or not at all: a mean over the runs left would hide the others.
        if let Some((lb, lc)) = row.lacking() {
            let base_read = !matches!(self.bound, Bound::Value(_)) && row.base.is_some();
            if !lc.is_empty() || base_read && !lb.is_empty() {
                let what = c.lacking_runs(row).unwrap_or_default();
                return Err(format!(
                    "--fail-if '{}': {what}: refusing to judge the rule on fewer runs than each set holds",
                    self.text
                ));
            }
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
        let crossed = measured.is_nan()
            || match self.op {
                Op::Gt => measured > bound,
                Op::Ge => measured >= bound,
                Op::Lt => measured < bound,
                Op::Le => measured <= bound,
            };
        let ci = match (self.significant, row.ci) {
            (false, _) => None,
            (true, Some(ci)) => Some((ci.low, ci.high)),
            (true, None) => {
                return Err(format!(
                    "--fail-if '{}': {} has no interval in this comparison, so its change cannot be shown significant",
                    self.text, row.name
                ));
            }
        };
        let failed = crossed && ci.is_none_or(|(lo, hi)| lo > 0.0 || hi < 0.0);
        Ok(Verdict { rule: self.text.clone(), measured, failed, ci })
    }
}

impl Verdict {
    /// One line: `FAIL hops.mean > +2%: +3.10%` or `ok   …`.
    pub fn line(&self, rule: &Rule) -> String {
        if self.measured.is_nan() {
            return format!("FAIL {}: no value in the candidate run", self.rule);
        }
        let ci = self.ci.map_or(String::new(), |(lo, hi)| {
            let verdict = if lo > 0.0 || hi < 0.0 { "excludes 0" } else { "covers 0: not significant" };
            format!(", 95% CI of diff [{}, {}] {verdict}", signed(Some(lo)), signed(Some(hi)))
        });
        let m = match rule.bound {
            Bound::Relative(_) => pct(Some(self.measured)),
            Bound::Change(_) => signed(Some(self.measured)),
            Bound::Value(_) => num(Some(self.measured)),
        };
        format!("{} {}: measured {m}{ci}", if self.failed { "FAIL" } else { "ok  " }, self.rule)
    }
}
