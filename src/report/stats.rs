//! Inferential statistics for `kadsim compare` (a base run or replica set
//! against a candidate one) and `kadsim sweep` (replicas of one parameter grid
//! point): Welch's t interval and test of a difference of means over replicas,
//! a percentile bootstrap of a difference within runs, the Mann–Whitney U and
//! two-sample Kolmogorov–Smirnov tests, Student-t intervals, and the
//! distribution functions they need: Student's t and the normal from statrs
//! (the regularized incomplete beta and erfc), the t quantile by inverting
//! statrs' tail here (see [`student_t_quantile`] for why), the Kolmogorov
//! distribution by its two series (statrs has none).
//!
//! Everything is deterministic: the same inputs (and seed) give the same bits.
//! Inputs must be NaN-free. Nothing panics on empty or tiny inputs; each
//! function documents what it returns then (`None` or NaN).

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::metrics::stats::{mean, quantile, quantile_sorted};

/// A two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// A two-sample test's statistic and two-sided p-value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Test {
    pub statistic: f64,
    pub p_value: f64,
}

/// A named statistic, for callers that pick one from a table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stat {
    /// The arithmetic mean.
    Mean,
    /// The type-7 quantile at the given q in [0, 1].
    Quantile(f64),
}

impl Stat {
    /// The statistic of `xs`; `None` for no data.
    pub fn of(self, xs: &[f64]) -> Option<f64> {
        match self {
            Stat::Mean => mean(xs),
            Stat::Quantile(q) => quantile(xs, q),
        }
    }
}

impl Stat {
    /// The statistic of a bootstrap resample, which it may reorder (NaN for no data).
    fn eval(self, scratch: &mut [f64]) -> f64 {
        match self {
            Stat::Mean => mean(scratch).unwrap_or(f64::NAN),
            Stat::Quantile(q) => select_quantile(scratch, q),
        }
    }
}

/// The type-7 `q`-quantile by selection instead of a sort: O(n), the same
/// value as [`quantile`]. NaN for no data.
fn select_quantile(xs: &mut [f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let h = (xs.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let (_, x_lo, above) = xs.select_nth_unstable_by(lo, f64::total_cmp);
    let x_lo = *x_lo;
    let frac = h - lo as f64;
    if frac == 0.0 {
        return x_lo;
    }
    let x_hi = above.iter().copied().min_by(f64::total_cmp).unwrap_or(x_lo);
    x_lo + frac * (x_hi - x_lo)
}

/// Uniform index in `0..n` (n ≥ 1) by Lemire's multiply-and-reject method
/// (Lemire 2019, "Fast random integer generation in an interval"): unbiased.
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    let mut m = u128::from(rng.next_u64()) * u128::from(n);
    if (m as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(n);
        }
    }
    (m >> 64) as u64
}

pub(crate) fn resample_into(rng: &mut ChaCha8Rng, from: &[f64], into: &mut [f64]) {
    for slot in into.iter_mut() {
        *slot = from[below(rng, from.len() as u64) as usize];
    }
}

/// Percentile bootstrap CI at `level` (e.g. 0.95) of stat(cand) − stat(base)
/// (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 13): each
/// of `resamples` rounds resamples base and cand independently with replacement
/// (same sizes as the originals; base first, then cand, from one ChaCha8 stream
/// seeded with `seed`), applies `stat` to each resample, and records the
/// difference; the interval is the type-7 quantiles (1−level)/2 and (1+level)/2
/// of the differences. None when either sample is empty or resamples == 0.
pub fn bootstrap_diff(
    base: &[f64],
    cand: &[f64],
    stat: Stat,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Option<Interval> {
    if base.is_empty() || cand.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut base_buf = vec![0.0; base.len()];
    let mut cand_buf = vec![0.0; cand.len()];
    let mut diffs = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        resample_into(&mut rng, base, &mut base_buf);
        resample_into(&mut rng, cand, &mut cand_buf);
        let b = stat.eval(&mut base_buf);
        let c = stat.eval(&mut cand_buf);
        diffs.push(c - b);
    }
    diffs.sort_by(f64::total_cmp);
    let low = quantile_sorted(&diffs, (1.0 - level) / 2.0)?;
    let high = quantile_sorted(&diffs, (1.0 + level) / 2.0)?;
    Some(Interval { low, high })
}

/// Mann–Whitney U test (Mann & Whitney 1947), two-sided, normal approximation
/// with the tie correction of the variance and a continuity correction of 0.5,
/// as SciPy's `mannwhitneyu(a, b, alternative='two-sided', method='asymptotic')`.
/// statistic = U of the first sample (U1 = R1 − n1(n1+1)/2 with midranks for
/// ties). p = 2·(1 − Φ(z)), z = (|U1 − n1n2/2| − 0.5)/σ, clamped to ≤ 1, with
/// σ² = n1n2/12 · ((N+1) − Σ(t³−t)/(N(N−1))). p_value = 1 when all values are
/// tied (variance 0). None when either sample is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<Test> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a.iter().map(|&x| (x, true)).chain(b.iter().map(|&x| (x, false))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        // Positions i..j (0-based) share the midrank of ranks i+1..=j.
        let midrank = (i + 1 + j) as f64 / 2.0;
        let t = (j - i) as f64;
        ties += t * t * t - t;
        rank_sum_a += midrank * all[i..j].iter().filter(|e| e.1).count() as f64;
        i = j;
    }
    let u1 = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    let p_value = if variance > 0.0 {
        let z = ((u1 - n1 * n2 / 2.0).abs() - 0.5) / variance.sqrt();
        (2.0 * normal_cdf(-z)).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Some(Test { statistic: u1, p_value })
}

/// Two-sample Kolmogorov–Smirnov test (Smirnov 1939): D = sup |F_a − F_b|,
/// stepping through the merged distinct values so that ties are handled
/// exactly. p-value from the asymptotic Kolmogorov distribution
/// Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} exp(−2 j² λ²) with λ = (√ne + 0.12 + 0.11/√ne)·D,
/// ne = n·m/(n+m) (Stephens 1970; Numerical Recipes §14.3), clamped to [0, 1].
/// None when either sample is empty.
pub fn kolmogorov_smirnov(a: &[f64], b: &[f64]) -> Option<Test> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut xs = a.to_vec();
    let mut ys = b.to_vec();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    let (n, m) = (xs.len(), ys.len());
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < n && j < m {
        let v = xs[i].min(ys[j]);
        while i < n && xs[i] <= v {
            i += 1;
        }
        while j < m && ys[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n as f64 - j as f64 / m as f64).abs());
    }
    // Once one sample is exhausted its CDF is 1 and the other's only grows,
    // so the remaining steps cannot raise D.
    let ne = (n as f64) * (m as f64) / (n + m) as f64;
    let en = ne.sqrt();
    let lambda = (en + 0.12 + 0.11 / en) * d;
    Some(Test { statistic: d, p_value: kolmogorov_q(lambda).clamp(0.0, 1.0) })
}

/// Q(λ) = P(K > λ) for the Kolmogorov distribution. For λ < 1.18 the
/// alternating series converges slowly, so the equivalent Jacobi-theta form
/// 1 − (√(2π)/λ) Σ_{j≥1} exp(−(2j−1)²π²/(8λ²)) is used there.
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.18 {
        let k = -std::f64::consts::PI * std::f64::consts::PI / (8.0 * lambda * lambda);
        let sum: f64 = (1..=20).map(|j| ((2 * j - 1) as f64).powi(2)).map(|s| (k * s).exp()).sum();
        1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * sum
    } else {
        let a2 = -2.0 * lambda * lambda;
        let mut sum = 0.0;
        for j in 1..=100 {
            let term = (a2 * (j * j) as f64).exp();
            sum += if j % 2 == 1 { 2.0 * term } else { -2.0 * term };
            if term <= 1e-18 * sum.abs() {
                break;
            }
        }
        sum
    }
}

/// Student-t confidence interval of the mean of `xs` at `level`:
/// mean ± t_{(1+level)/2, n−1} · s/√n (s the sample standard deviation, n−1
/// denominator). None for n < 2. For n ≥ 2 with s = 0 the interval is
/// [mean, mean]. `level` must lie in (0, 1), otherwise the bounds are NaN.
pub fn t_interval(xs: &[f64], level: f64) -> Option<Interval> {
    if xs.len() < 2 {
        return None;
    }
    let n = xs.len() as f64;
    let m = mean(xs)?;
    let s = (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
    if s == 0.0 {
        return Some(Interval { low: m, high: m });
    }
    let half = student_t_quantile((1.0 + level) / 2.0, n - 1.0) * s / n.sqrt();
    Some(Interval { low: m - half, high: m + half })
}

/// A difference of means between two sets of replicas, with its interval and test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanDiff {
    /// mean(cand) − mean(base).
    pub diff: f64,
    /// Standard error of the difference.
    pub se: f64,
    /// Degrees of freedom of the t distribution used (NaN when se = 0).
    pub df: f64,
    /// Confidence interval of the difference at the level asked for.
    pub ci: Interval,
    /// Two-sided p-value of "the means are equal".
    pub p_value: f64,
}

/// The sample mean and variance (n − 1 denominator) of `xs`, n ≥ 2.
fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    (m, xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0))
}

/// The difference of means cand − base of two sets of per-run values, its
/// `level` interval diff ± t_{(1+level)/2, df}·se and the two-sided p-value
/// 2·P(T_df > |diff/se|).
///
/// With n ≥ 2 on both sides this is Welch's unequal-variance t (Welch 1947;
/// SciPy's `ttest_ind(cand, base, equal_var=False)`): se² = s_b²/n_b + s_c²/n_c,
/// df by the Welch–Satterthwaite formula (s_b²/n_b + s_c²/n_c)² /
/// ((s_b²/n_b)²/(n_b−1) + (s_c²/n_c)²/(n_c−1)). With one run on one side
/// and n ≥ 2 on the other, the single run's seed-to-seed variance is taken to
/// be the set's (Crawford & Howell 1998, a single case against a sample):
/// se = s·√(1 + 1/n), df = n − 1. When se = 0 (every run of both sides gives
/// the same value on its side) the interval is [diff, diff] and p is 1 for
/// diff = 0, else 0. None with fewer than 2 runs on both sides together or
/// an empty side.
pub fn mean_diff(base: &[f64], cand: &[f64], level: f64) -> Option<MeanDiff> {
    let (nb, nc) = (base.len(), cand.len());
    if nb == 0 || nc == 0 || nb + nc < 3 {
        return None;
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let diff = mean(cand) - mean(base);
    let (se, df) = if nb >= 2 && nc >= 2 {
        let (vb, vc) = (mean_var(base).1 / nb as f64, mean_var(cand).1 / nc as f64);
        let df = (vb + vc).powi(2) / (vb * vb / (nb - 1) as f64 + vc * vc / (nc - 1) as f64);
        ((vb + vc).sqrt(), df)
    } else {
        let set = if nb >= 2 { base } else { cand };
        let n = set.len() as f64;
        ((mean_var(set).1 * (1.0 + 1.0 / n)).sqrt(), n - 1.0)
    };
    if se == 0.0 {
        let p_value = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(MeanDiff { diff, se, df: f64::NAN, ci: Interval { low: diff, high: diff }, p_value });
    }
    let half = student_t_quantile((1.0 + level) / 2.0, df) * se;
    let p_value = student_t_two_sided_p(diff / se, df);
    Some(MeanDiff { diff, se, df, ci: Interval { low: diff - half, high: diff + half }, p_value })
}

/// Holm's step-down adjustment of p-values tested together (Holm 1979): the
/// i-th smallest of the m p-values present becomes max over j ≤ i of
/// (m − j + 1)·p_(j), capped at 1. Rejecting where the adjusted value is below
/// α keeps the chance of any false alarm among all m tests at most α, which
/// "no metric differs" needs when fifty metrics are compared at once. Missing
/// p-values stay missing and do not count in m. As statsmodels'
/// `multipletests(method="holm")`.
pub fn holm(ps: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<usize> = (0..ps.len()).filter(|&i| ps[i].is_some_and(|p| !p.is_nan())).collect();
    order.sort_by(|&a, &b| ps[a].unwrap_or(1.0).total_cmp(&ps[b].unwrap_or(1.0)).then(a.cmp(&b)));
    let m = order.len();
    let mut out = vec![None; ps.len()];
    let mut running = 0.0f64;
    for (j, &i) in order.iter().enumerate() {
        let adj = ((m - j) as f64 * ps[i].unwrap_or(1.0)).min(1.0);
        running = running.max(adj);
        out[i] = Some(running);
    }
    out
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom:
/// 2·P(T > |t|), computed from the upper tail directly so that small p-values
/// keep their precision. NaN for NaN inputs or df ≤ 0.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    (2.0 * t_upper_tail(t.abs(), df)).clamp(0.0, 1.0)
}

/// Student's t CDF P(T ≤ t) with `df` degrees of freedom (df > 0). NaN for
/// NaN inputs or df ≤ 0.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let upper = t_upper_tail(t.abs(), df);
    if t >= 0.0 { 1.0 - upper } else { upper }
}

/// Standard normal CDF Φ(x) = erfc(−x/√2)/2, erfc from statrs. NaN for NaN.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    0.5 * statrs::function::erf::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Quantile of Student's t distribution with `df` degrees of freedom (df > 0),
/// p in (0, 1). Closed forms for df = 1 (tan) and df = 2; otherwise the upper
/// tail P(T > t) = I_{df/(df+t²)}(df/2, 1/2)/2 (the regularized incomplete
/// beta from statrs) is inverted by bracketing and bisection to full double
/// precision. Checked against mpmath: relative error < 1e-12 for df ≤ 1e4,
/// < 1e-9 for df ≤ 1e8. statrs' own `StudentsT::inverse_cdf` is not used: it
/// was 1e-9 off at qt(0.995, 10), 1e-8 at df = 1e4, and did not return for
/// df = 1e8 (statrs 0.19.1, measured). Returns −∞/+∞ for p = 0/1 and NaN for
/// p outside [0, 1], df ≤ 0 or NaN.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || df.is_nan() || !(0.0..=1.0).contains(&p) || df <= 0.0 {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if df == 1.0 {
        return (std::f64::consts::PI * (p - 0.5)).tan();
    }
    if df == 2.0 {
        return (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
    }
    if p == 0.5 {
        return 0.0;
    }
    let tail = p.min(1.0 - p);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while t_upper_tail(hi, df) > tail && hi < 1e300 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..400 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_upper_tail(mid, df) > tail { lo = mid } else { hi = mid }
    }
    let t = 0.5 * (lo + hi);
    if p < 0.5 { -t } else { t }
}

/// P(T > t) for t ≥ 0: I_{df/(df+t²)}(df/2, 1/2)/2.
fn t_upper_tail(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    if x >= 1.0 {
        return 0.5;
    }
    0.5 * statrs::function::beta::beta_reg(df / 2.0, 0.5, x)
}

#[cfg(test)]
mod tests {

    #[test]
    fn holm_adjusts_as_statsmodels_does() {
        // statsmodels.stats.multitest.multipletests([0.01, 0.04, 0.03, 0.005], method="holm")[1]
        // = [0.03, 0.06, 0.06, 0.02]: sorted 0.005·4, 0.01·3, 0.03·2, max(0.04·1, 0.06).
        let got = holm(&[Some(0.01), Some(0.04), None, Some(0.03), Some(0.005)]);
        let want = [Some(0.03), Some(0.06), None, Some(0.06), Some(0.02)];
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.is_some(), w.is_some());
            if let (Some(g), Some(w)) = (g, w) {
                assert!((g - w).abs() < 1e-12, "{got:?}");
            }
        }
        assert_eq!(holm(&[Some(0.6), Some(0.9)]), [Some(1.0), Some(1.0)], "capped at 1");
        assert!(holm(&[]).is_empty());
    }

    use super::*;
    use proptest::collection::vec;

    fn close(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want} ± {tol}");
    }

    #[test]
    fn normal_cdf_matches_tables() {
        // Standard normal tables (and mpmath.ncdf at 30 digits):
        // Φ(0) = 0.5, Φ(1.96) = 0.9750021048, Φ(−1) = 0.1586552539, Φ(3) = 0.9986501020.
        close(normal_cdf(0.0), 0.5, 1e-7);
        close(normal_cdf(1.96), 0.9750021, 1e-7);
        close(normal_cdf(-1.0), 0.1586553, 1e-7);
        close(normal_cdf(3.0), 0.9986501, 1e-7);
        // Tighter, against mpmath and the far tail Φ(−10) = 7.6198530242e-24. statrs' erfc is
        // good to about 1e-12 here (Cody's, used before, to 1e-16): far below the 4 digits
        // any p-value is printed with.
        close(normal_cdf(1.96), 0.9750021048517796, 2e-12);
        close(normal_cdf(-10.0) / 7.619853024160527e-24, 1.0, 1e-10);
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn t_quantiles_match_tables() {
        // t_{0.975} tables (R qt(0.975, df)): 12.706205, 4.302653, 2.776445, 2.262157, 2.045230, 1.962339.
        let want =
            [(1.0, 12.706205), (2.0, 4.302653), (4.0, 2.776445), (9.0, 2.262157), (29.0, 2.045230), (1000.0, 1.962339)];
        for (df, t) in want {
            close(student_t_quantile(0.975, df), t, 1e-5);
            close(student_t_quantile(0.025, df), -t, 1e-5);
        }
        // Non-integer df (root of mpmath.betainc at 40 digits): qt(0.975, 3.5) = 2.9400886380,
        // qt(0.975, 0.5) = 164.55767348.
        close(student_t_quantile(0.975, 3.5), 2.940088638, 1e-8);
        close(student_t_quantile(0.975, 0.5) / 164.557673480, 1.0, 1e-9);
        assert_eq!(student_t_quantile(0.5, 7.0), 0.0);
        assert!(student_t_quantile(1.5, 7.0).is_nan());
        assert!(student_t_quantile(0.9, 0.0).is_nan());
    }

    #[test]
    fn t_cdf_and_p_match_tables() {
        // The table quantiles give back their probabilities: qt(0.975, 4) = 2.776445 → p = 0.05,
        // qt(0.995, 10) = 3.169273 → p = 0.01 (mpmath: 0.0500000054, 0.0099999944 at these roundings).
        close(student_t_two_sided_p(2.776445, 4.0), 0.0500000054, 1e-9);
        close(student_t_two_sided_p(-3.169273, 10.0), 0.0099999944, 1e-9);
        // mpmath.betainc: P(T ≤ −1 | df 3) = 0.19550110947788532; 2·P(T > 0.5 | df 7.3) = 0.6317935268;
        // 2·P(T > 10 | df 3) = 0.0021283990584.
        close(student_t_cdf(-1.0, 3.0), 0.19550110947788532, 1e-12);
        close(student_t_cdf(1.0, 3.0), 1.0 - 0.19550110947788532, 1e-12);
        close(student_t_two_sided_p(0.5, 7.3), 0.6317935268044415, 1e-12);
        close(student_t_two_sided_p(10.0, 3.0), 0.0021283990584141502, 1e-14);
        assert_eq!(student_t_two_sided_p(0.0, 5.0), 1.0);
        assert_eq!(student_t_cdf(0.0, 5.0), 0.5);
        assert!(student_t_cdf(1.0, 0.0).is_nan() && student_t_two_sided_p(f64::NAN, 3.0).is_nan());
        // Round trip through the quantile.
        for (p, df) in [(0.9, 2.5), (0.975, 8.0), (0.999, 30.0)] {
            close(student_t_cdf(student_t_quantile(p, df), df), p, 1e-12);
        }
    }

    #[test]
    fn welch_matches_scipy_by_hand() {
        // base [1..5]: mean 3, s² = 2.5; cand [2, 4, 6, 8, 10]: mean 6, s² = 10.
        // se² = 2.5/5 + 10/5 = 2.5, t = 3/√2.5 = 1.8973666; df = 2.5²/(0.5²/4 + 2²/4) = 6.25/1.0625
        // = 5.8823529. SciPy ttest_ind(cand, base, equal_var=False) and mpmath: p = 0.10753119493;
        // t_{0.975, 5.882} = 2.4588237 → half-width 3.8877416.
        let d = mean_diff(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 6.0, 8.0, 10.0], 0.95).unwrap();
        close(d.diff, 3.0, 1e-15);
        close(d.se, 2.5f64.sqrt(), 1e-15);
        close(d.df, 5.882352941176471, 1e-12);
        close(d.p_value, 0.10753119493062724, 1e-10);
        close(d.ci.low, 3.0 - 3.887741643736976, 1e-9);
        close(d.ci.high, 3.0 + 3.887741643736976, 1e-9);
        // Swapped: the same p, the interval mirrored.
        let e = mean_diff(&[2.0, 4.0, 6.0, 8.0, 10.0], &[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        close(e.p_value, d.p_value, 1e-15);
        close(e.ci.low, -d.ci.high, 1e-12);
        // One run against five: se = s·√(1 + 1/5) = √3, t = 7/√3 = 4.0414519, df = 4:
        // p = 0.0155853002, half-width t_{0.975,4}·√3 = 4.8089440 (mpmath).
        let c = mean_diff(&[1.0, 2.0, 3.0, 4.0, 5.0], &[10.0], 0.95).unwrap();
        close(c.diff, 7.0, 1e-15);
        close(c.df, 4.0, 0.0);
        close(c.p_value, 0.015585300188062104, 1e-10);
        close(c.ci.high - c.ci.low, 2.0 * 4.808943986628499, 1e-8);
        assert_eq!(mean_diff(&[10.0], &[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap().p_value, c.p_value);
        // Degenerate and too small.
        let same = mean_diff(&[2.0, 2.0], &[2.0, 2.0, 2.0], 0.95).unwrap();
        assert_eq!((same.p_value, same.ci), (1.0, Interval { low: 0.0, high: 0.0 }));
        let apart = mean_diff(&[2.0, 2.0], &[3.0, 3.0], 0.95).unwrap();
        assert_eq!((apart.p_value, apart.ci), (0.0, Interval { low: 1.0, high: 1.0 }));
        assert_eq!(mean_diff(&[1.0], &[2.0], 0.95), None);
        assert_eq!(mean_diff(&[], &[2.0, 3.0], 0.95), None);
    }

    #[test]
    fn t_interval_by_hand() {
        // [1..5]: mean 3, s = √(10/4) = 1.5811388, half = 2.776445·1.5811388/√5 = 1.963243.
        let ci = t_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95).unwrap();
        close(ci.low, 1.036757, 1e-6);
        close(ci.high, 4.963243, 1e-6);
        assert_eq!(t_interval(&[4.0, 4.0, 4.0], 0.95), Some(Interval { low: 4.0, high: 4.0 }));
        assert_eq!(t_interval(&[1.0], 0.95), None);
        assert_eq!(t_interval(&[], 0.95), None);
    }

    #[test]
    fn mann_whitney_with_ties_by_hand() {
        // Merged: 1a 2a 2a 2b 3a 3b 3b 4b → midranks 1, 3, 3, 3, 6, 6, 6, 8.
        // R1 = 1 + 3 + 3 + 6 = 13, U1 = 13 − 4·5/2 = 3, mean n1n2/2 = 8.
        // Ties: two groups of 3 → Σ(t³−t) = 48; N = 8, N(N−1) = 56.
        // σ² = 16/12 · (9 − 48/56) = 10.857143, σ = 3.295018.
        // z = (|3 − 8| − 0.5)/σ = 1.365698; Φ(z) = 0.913983; p = 2(1 − Φ) = 0.172034 (mpmath: 0.17203370892).
        let t = mann_whitney(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 3.0, 4.0]).unwrap();
        assert_eq!(t.statistic, 3.0);
        close(t.p_value, 0.1720337089, 1e-6);
    }

    #[test]
    fn mann_whitney_matches_scipy_example() {
        // SciPy docs: mannwhitneyu(males, females, method="asymptotic") → U = 17, p = 0.11134688653314041.
        // By hand: merged 11f 12f 16m 17f 19m 20f 22m 24m 29m, male ranks 3+5+7+8+9 = 32,
        // U1 = 32 − 15 = 17; σ² = 5·4·10/12 = 16.6667; z = (7 − 0.5)/4.082483 = 1.592168; p = 2(1 − 0.944327).
        let t = mann_whitney(&[19.0, 22.0, 16.0, 29.0, 24.0], &[20.0, 11.0, 17.0, 12.0]).unwrap();
        assert_eq!(t.statistic, 17.0);
        close(t.p_value, 0.11134688653314041, 1e-9);
    }

    #[test]
    fn mann_whitney_extremes() {
        let xs: Vec<f64> = (0..30).map(f64::from).collect();
        let same = mann_whitney(&xs, &xs).unwrap();
        assert_eq!(same.p_value, 1.0); // U1 = n²/2 exactly, so |U1 − μ| − 0.5 < 0 → clamped to 1.
        let all_tied = mann_whitney(&[2.0; 5], &[2.0; 7]).unwrap();
        assert_eq!((all_tied.statistic, all_tied.p_value), (17.5, 1.0));
        let high: Vec<f64> = (0..100).map(|i| 1000.0 + f64::from(i)).collect();
        let low: Vec<f64> = (0..100).map(f64::from).collect();
        // U1 = 0, μ = 5000, σ = √(10000·201/12) = 409.27, z ≈ 12.2 → p ≈ 3e-34.
        let sep = mann_whitney(&low, &high).unwrap();
        assert_eq!(sep.statistic, 0.0);
        assert!(sep.p_value < 1e-6, "{sep:?}");
        assert_eq!(mann_whitney(&[], &[1.0]), None);
        assert_eq!(mann_whitney(&[1.0], &[]), None);
    }

    #[test]
    fn kolmogorov_smirnov_by_hand() {
        // F_a − F_b after 1, 2, 3, 4: 1/4, 2/4, 3/4 − 1/4, 1 − 2/4 → D = 0.5.
        // ne = 2, λ = (√2 + 0.12 + 0.11/√2)·0.5 = 0.8059977; terms 2e^{−2j²λ²}:
        // 0.5454647, 0.0110656, 0.0000167 → Q = 0.5454647 − 0.0110656 + 0.0000167 = 0.5344157.
        let t = kolmogorov_smirnov(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(t.statistic, 0.5);
        close(t.p_value, 0.5344157, 1e-6);
        // Ties across samples: at 1, F_a = 2/3 and F_b = 1/3; at 2 both 1 → D = 1/3.
        let t = kolmogorov_smirnov(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]).unwrap();
        close(t.statistic, 1.0 / 3.0, 1e-15);
        let xs = [3.0, 1.0, 2.0, 2.0];
        assert_eq!(kolmogorov_smirnov(&xs, &xs), Some(Test { statistic: 0.0, p_value: 1.0 }));
        // Disjoint n = m = 50: D = 1, ne = 25, λ = 5 + 0.12 + 0.022 = 5.142, Q ≈ 2e^{−52.88} = 2.16e-23.
        let low: Vec<f64> = (0..50).map(f64::from).collect();
        let high: Vec<f64> = (100..150).map(f64::from).collect();
        let t = kolmogorov_smirnov(&low, &high).unwrap();
        assert_eq!(t.statistic, 1.0);
        close(t.p_value / 2.164688e-23, 1.0, 1e-5);
        assert_eq!(kolmogorov_smirnov(&[], &xs), None);
    }

    #[test]
    fn kolmogorov_q_forms_agree_at_switch() {
        // The theta form (used below λ = 1.18) and the alternating series (used above) are the same function.
        let lambda = 1.18f64 - 1e-12;
        let series: f64 =
            (1..50).map(|j: i32| 2.0 * (-1f64).powi(j - 1) * (-2.0 * f64::from(j * j) * lambda * lambda).exp()).sum();
        close(kolmogorov_q(lambda), series, 1e-12);
        close(kolmogorov_q(1.18), series, 1e-12);
    }

    fn uniforms(seed: u64, n: usize, shift: f64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 + shift).collect()
    }

    #[test]
    fn bootstrap_is_deterministic_and_covers() {
        let base = uniforms(1, 2000, 0.0);
        let cand = uniforms(2, 2000, 0.3);
        let a = bootstrap_diff(&base, &cand, Stat::Mean, 1000, 0.95, 42).unwrap();
        let b = bootstrap_diff(&base, &cand, Stat::Mean, 1000, 0.95, 42).unwrap();
        let c = bootstrap_diff(&base, &cand, Stat::Mean, 1000, 0.95, 43).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // sd of the mean difference = √(2·(1/12)/2000) = 0.0091287; 95% width ≈ 2·1.96·0.0091287 = 0.0358.
        assert!(a.low < 0.3 && 0.3 < a.high, "{a:?}");
        let width = a.high - a.low;
        assert!((width / 0.0358 - 1.0).abs() < 0.25, "{a:?}");
        let med = bootstrap_diff(&base, &cand, Stat::Quantile(0.5), 500, 0.95, 7).unwrap();
        assert!(med.low < 0.3 && 0.3 < med.high, "{med:?}");
    }

    #[test]
    fn bootstrap_constant_and_empty() {
        let ci = bootstrap_diff(&[2.0; 1000], &[3.0; 1000], Stat::Mean, 200, 0.95, 1).unwrap();
        assert_eq!(ci, Interval { low: 1.0, high: 1.0 });
        assert_eq!(bootstrap_diff(&[], &[1.0], Stat::Mean, 100, 0.95, 1), None);
        assert_eq!(bootstrap_diff(&[1.0], &[], Stat::Mean, 100, 0.95, 1), None);
        assert_eq!(bootstrap_diff(&[1.0], &[1.0], Stat::Mean, 0, 0.95, 1), None);
        assert!(Stat::Mean.eval(&mut []).is_nan());
        assert!(Stat::Quantile(0.5).eval(&mut []).is_nan());
        assert_eq!(Stat::Quantile(0.5).eval(&mut [3.0, 1.0, 2.0, 4.0]), 2.5);
        assert_eq!((Stat::Mean.of(&[1.0, 2.0, 6.0]), Stat::Quantile(0.5).of(&[4.0, 1.0, 3.0])), (Some(3.0), Some(3.0)));
        assert_eq!(Stat::Mean.of(&[]), None);
    }

    #[test]
    fn lemire_index_is_in_range_and_unbiased_enough() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[below(&mut rng, 3) as usize] += 1;
        }
        // Expected 10000 each, sd ≈ 82; allow 5 sd.
        assert!(counts.iter().all(|&c| (c as i32 - 10_000).abs() < 410), "{counts:?}");
        assert_eq!(below(&mut rng, 1), 0);
    }

    proptest::proptest! {
        #[test]
        fn tests_are_symmetric_and_bounded(a in vec(0u8..6, 1..25), b in vec(0u8..6, 1..25)) {
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            let (ab, ba) = (mann_whitney(&a, &b).unwrap(), mann_whitney(&b, &a).unwrap());
            proptest::prop_assert!((0.0..=1.0).contains(&ab.p_value));
            proptest::prop_assert_eq!(ab.statistic + ba.statistic, (a.len() * b.len()) as f64); // U1 + U2 = n1 n2
            proptest::prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
            let (ab, ba) = (kolmogorov_smirnov(&a, &b).unwrap(), kolmogorov_smirnov(&b, &a).unwrap());
            proptest::prop_assert!((0.0..=1.0).contains(&ab.statistic) && (0.0..=1.0).contains(&ab.p_value));
            proptest::prop_assert_eq!(ab, ba);
        }
    }

    #[test]
    fn selection_quantile_equals_the_sorted_one() {
        let xs: Vec<f64> = (0..101).map(|i| f64::from((i * 37) % 101) * 0.5).collect();
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
            let want = quantile(&xs, q).unwrap();
            assert_eq!(select_quantile(&mut xs.clone(), q), want, "q = {q}");
        }
        assert!(select_quantile(&mut [], 0.5).is_nan());
    }
}

// Intervals over replicas, shared by sweeps (`sweep::aggregate`) and replica charts.

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 10_000;

/// How an interval was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Student-t interval of the mean.
    StudentT,
    /// Percentile bootstrap of the mean over the replicas.
    Bootstrap,
}

/// The words of `aggregate.csv`'s `ci95_method` column.
pub use crate::files::schema::CI_METHODS as METHODS;

impl Method {
    /// Its word in `aggregate.csv`.
    pub fn word(self) -> &'static str {
        match self {
            Method::StudentT => METHODS[0],
            Method::Bootstrap => METHODS[1],
        }
    }

    /// The method a chart's note names, in words.
    pub fn words(self, replicas: usize) -> String {
        match self {
            Method::StudentT => "95% Student-t interval of the mean".into(),
            Method::Bootstrap => format!(
                "95% percentile bootstrap interval of the mean over the {replicas} replicas ({} resamples; it stays within [0, 1])",
                RESAMPLES
            ),
        }
    }
}

/// The 95% percentile bootstrap interval of the mean of `xs` (n ≥ 2).
pub fn bootstrap_mean(xs: &[f64], seed: u64) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut buf = vec![0.0; xs.len()];
    let mut means = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        resample_into(&mut rng, xs, &mut buf);
        means.push(buf.iter().sum::<f64>() / buf.len() as f64);
    }
    means.sort_by(f64::total_cmp);
    // Every resample mean lies within the replicas' range; the clamp only
    // takes off the last bit of rounding of the sums.
    let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(*x), h.max(*x)));
    let q = |p: f64| crate::metrics::stats::quantile_sorted(&means, p).map_or(f64::NAN, |v| v.clamp(lo, hi));
    (q(0.025), q(0.975))
}
