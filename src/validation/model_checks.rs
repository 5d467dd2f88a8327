//! kadsim's node lookups on ideal tables against the independent reference
//! model of [`super::model`] (Maymounkov & Mazières, IPTPS 2002: tables of
//! §2.2, §2.4 and §4.2, the lookup of §2.3).
//!
//! For each configuration (n, k, α, b) kadsim runs oracle networks (tables
//! filled at time 0, no churn, no loss, one constant latency, node lookups of
//! random IDs only; 20 networks at 100 nodes, where the hop distribution
//! depends on the network drawn, one above) and the model draws its own
//! networks and lookups with the same parameters; the checks compare mean
//! hops (within 0.03), the hop histograms (chi-square test of homogeneity at
//! 1%, corrected for the extra spread of lookups drawn network by network),
//! mean queried contacts and mean rounds per lookup (kadsim's lookup latency
//! over the round trip; within 1%), and the share of lookups that found the
//! true closest node.
//! [`compare`] takes both samples, so that a test can feed it a sample of a
//! deliberately broken protocol.

use super::check::{Check, Depth, Lab, Section, Tolerance, number};
use super::model::{self, Params, Sample, Variant};
use crate::report::chart::{Chart, Mark, Series, Shape, log10_x};
use crate::report::results::Results;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// kadsim's one-way latency (constant), in µs.
const LATENCY_US: u64 = 50_000;
/// Node lookups kadsim is asked for per configuration (Poisson: about this
/// many), spread over [`kadsim_networks`] runs.
pub const KADSIM_LOOKUPS: usize = 10_000;
/// Simulated seconds over which kadsim's lookups start, after the warm-up.
pub const WINDOW_S: u64 = 100;
/// Model lookups per configuration, spread over [`model_networks`] networks.
const MODEL_LOOKUPS: usize = 20_000;
/// The model's master seed.
const MODEL_SEED: u64 = 22;

/// Mean hops: how far apart kadsim and the model may be.
pub const HOPS_TOLERANCE: f64 = 0.03;
/// The chi-square test's level.
pub const CHI_SQUARE_LEVEL: f64 = 0.01;
/// Mean queried contacts and mean rounds: relative tolerance.
pub const COUNT_TOLERANCE: f64 = 0.01;
/// Share of lookups finding the true closest node: absolute tolerance.
pub const SUCCESS_TOLERANCE: f64 = 0.005;

/// The configurations run at `depth`.
pub fn configurations(depth: Depth) -> Vec<Params> {
    let mut out = Vec::new();
    let sizes: &[usize] = match depth {
        Depth::Quick => &[100, 1000, 10_000],
        Depth::Full => &[100, 1000, 10_000, 100_000, 1_000_000],
    };
    for &n in sizes {
        for k in [8, 20] {
            for alpha in [1, 3] {
                for b in [1u8, 3] {
                    let p = Params { n, k, alpha, b };
                    if depth == Depth::Full || in_quick(p) {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// The quick suite's configurations: every (k, α, b) up to 10,000 nodes
/// (24 configurations, about 40 s on two cores).
fn in_quick(p: Params) -> bool {
    p.n <= 10_000
}

/// A short name: `n1e4.k20.a3.b1`.
pub fn label(p: Params) -> String {
    let e = (p.n as f64).log10();
    let n = if (e - e.round()).abs() < 1e-9 { format!("1e{}", e.round()) } else { p.n.to_string() };
    format!("n{n}.k{}.a{}.b{}", p.k, p.alpha, p.b)
}

/// The kadsim scenario of configuration `p`: an oracle network, constant
/// latency, no churn nor loss, about `lookups` node lookups of random IDs
/// starting in the [`WINDOW_S`] seconds after a 1 s warm-up (and 10 s more
/// for the last to end).
pub fn scenario(p: Params, lookups: usize) -> String {
    let rate = lookups as f64 / (p.n as f64 * WINDOW_S as f64);
    format!(
        r#"name = "model-{label}"
seed = 1
nodes = {n}
duration = "{duration}s"
warmup = "1s"
sample_interval = "10s"

[protocol]
k = {k}
alpha = {alpha}
b = {b}

[bootstrap]
mode = "oracle"

[network.latency]
model = "constant"
value = "{latency}ms"

[churn]
model = "none"

[workload]
lookup_rate = {rate:e}
put_rate = 0
get_rate = 0
"#,
        label = label(p),
        n = p.n,
        duration = WINDOW_S + 11,
        k = p.k,
        alpha = p.alpha,
        b = p.b,
        latency = LATENCY_US / 1000,
    )
}

/// kadsim's node lookups that started in the window, as a model sample:
/// rounds are the latency over the round trip (an error if a latency is not
/// a whole number of round trips: the run was not what this check asks for).
pub fn kadsim_sample(r: &Results) -> Result<Sample, String> {
    let from = (r.warmup_s() * 1e6).round() as u64;
    let to = from + WINDOW_S * 1_000_000;
    let rtt = 2 * LATENCY_US;
    let mut s = Sample::default();
    for o in r.ops_of("find_node").filter(|o| o.start_us >= from && o.start_us < to) {
        if o.latency_us % rtt != 0 || o.timeouts > 0 || o.deadline_hit {
            return Err(format!(
                "{}: a node lookup took {} µs with {} timeouts: not an ideal network of {} µs round trips",
                r.dir.display(),
                o.latency_us,
                o.timeouts,
                rtt
            ));
        }
        s.lookups += 1;
        if let Some(h) = o.hops {
            s.hops.push(h);
        }
        s.queried.push(o.queried);
        s.rounds.push((o.latency_us / rtt) as u32);
        s.successes += usize::from(o.success);
    }
    if s.lookups == 0 {
        return Err(format!("{}: no node lookup in the window", r.dir.display()));
    }
    Ok(s)
}

/// kadsim networks (runs, each with its own seed) per configuration of `n`
/// nodes. One network's lookups share its tables, and at 100 nodes the hop
/// distribution depends on the network drawn (the mean hops of one network
/// differ from another's by 0.01 to 0.02, two to four times a 10,000-lookup
/// sample's standard error); from 300 nodes on the differences between
/// networks are lost in the sampling noise (the model's own figures).
pub fn kadsim_networks(n: usize) -> usize {
    if n <= 100 { 20 } else { 1 }
}

/// Model networks per configuration of `n` nodes (see [`kadsim_networks`]).
pub fn model_networks(n: usize) -> usize {
    if n <= 100 { 200 } else { 4 }
}

/// The model's sample for configuration `p` (the paper's protocol unless
/// `variant` says otherwise), `lookups` over `networks` networks.
pub fn model_sample(p: Params, variant: Variant, lookups: usize, networks: usize, seed: u64, threads: usize) -> Sample {
    model::sample(p, variant, lookups, networks, seed, threads)
}

/// kadsim's sample for configuration `p`: [`kadsim_networks`] runs (seeds
/// 1, 2, …), about [`KADSIM_LOOKUPS`] node lookups in all.
pub fn kadsim_side(lab: &Lab, p: Params) -> Result<Sample, String> {
    let runs = kadsim_networks(p.n);
    let toml = scenario(p, KADSIM_LOOKUPS.div_ceil(runs));
    let jobs: Vec<(String, &str, Vec<String>)> = (1..=runs)
        .map(|seed| {
            let name = if runs == 1 { format!("model-{}", label(p)) } else { format!("model-{}-seed{seed}", label(p)) };
            (name, toml.as_str(), vec![format!("seed={seed}")])
        })
        .collect();
    let mut all = Sample::default();
    for r in lab.simulate_all(&jobs)? {
        all.append(kadsim_sample(&r)?);
    }
    Ok(all)
}

/// The p-value of Pearson's chi-square test that two samples of hop counts
/// come from one distribution (a test of homogeneity), each sample given as
/// one histogram per network (counts per bin, bins in order).
///
/// Bins are pooled, from the lowest up, until each pooled bin expects at
/// least 5 in both samples (what is left at the top joins the last pooled
/// bin); with fewer than two pooled bins the samples cannot be told apart
/// and p = 1. Lookups of one network share its tables, so a sample drawn
/// over few networks varies more than a multinomial one: each side's
/// dispersion φ ≥ 1 is estimated from the spread between its networks
/// (Pearson's statistic of the networks' table over its degrees of freedom;
/// 1 for a single network) and the statistic is divided by
/// (φa/Na + φb/Nb) / (1/Na + 1/Nb), a first-order correction for clustered
/// samples. NaN when a sample is empty.
pub fn chi_square_p(a: &[Vec<u64>], b: &[Vec<u64>]) -> f64 {
    let (ta, tb) = (sum_rows(a), sum_rows(b));
    let (na, nb) = (ta.iter().sum::<u64>() as f64, tb.iter().sum::<u64>() as f64);
    if na == 0.0 || nb == 0.0 {
        return f64::NAN;
    }
    let table = pool(&[ta, tb]);
    let Some((stat, df)) = pearson(&table) else {
        return 1.0;
    };
    let (fa, fb) = (dispersion(a), dispersion(b));
    let stat = stat * (1.0 / na + 1.0 / nb) / (fa / na + fb / nb);
    ChiSquared::new(df).map_or(f64::NAN, |d| d.sf(stat))
}

/// The bin-by-bin sum of histograms.
fn sum_rows(rows: &[Vec<u64>]) -> Vec<u64> {
    let mut out = vec![0; rows.iter().map(Vec::len).max().unwrap_or(0)];
    for r in rows {
        for (o, x) in out.iter_mut().zip(r) {
            *o += x;
        }
    }
    out
}

/// The table with neighbouring columns pooled, from the lowest up, until
/// each pooled column expects at least 5 in the smallest row (the rest joins
/// the last pooled column). Empty rows are left out.
fn pool(rows: &[Vec<u64>]) -> Vec<Vec<u64>> {
    let rows: Vec<&Vec<u64>> = rows.iter().filter(|r| r.iter().sum::<u64>() > 0).collect();
    let totals: Vec<u64> = rows.iter().map(|r| r.iter().sum()).collect();
    let (Some(&least), grand) = (totals.iter().min(), totals.iter().sum::<u64>() as f64) else {
        return Vec::new();
    };
    let share = least as f64 / grand;
    let at = |r: &Vec<u64>, i: usize| r.get(i).copied().unwrap_or(0);
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut out: Vec<Vec<u64>> = vec![Vec::new(); rows.len()];
    let mut cur = vec![0u64; rows.len()];
    for i in 0..width {
        for (c, r) in cur.iter_mut().zip(&rows) {
            *c += at(r, i);
        }
        if cur.iter().sum::<u64>() as f64 * share >= 5.0 {
            for (o, c) in out.iter_mut().zip(cur.iter_mut()) {
                o.push(std::mem::take(c));
            }
        }
    }
    for (o, c) in out.iter_mut().zip(cur) {
        match o.last_mut() {
            Some(last) => *last += c,
            None => o.push(c),
        }
    }
    out
}

/// Pearson's statistic of a contingency table and its degrees of freedom;
/// `None` with fewer than two rows or columns.
fn pearson(table: &[Vec<u64>]) -> Option<(f64, f64)> {
    let cols = table.first().map_or(0, Vec::len);
    if table.len() < 2 || cols < 2 {
        return None;
    }
    let rows: Vec<f64> = table.iter().map(|r| r.iter().sum::<u64>() as f64).collect();
    let colsum: Vec<f64> = (0..cols).map(|j| table.iter().map(|r| r[j] as f64).sum()).collect();
    let grand: f64 = rows.iter().sum();
    let mut stat = 0.0;
    for (r, n) in table.iter().zip(&rows) {
        for (x, c) in r.iter().zip(&colsum) {
            let e = n * c / grand;
            stat += (*x as f64 - e).powi(2) / e;
        }
    }
    Some((stat, ((table.len() - 1) * (cols - 1)) as f64))
}

/// How much more a sample drawn over these networks varies than a
/// multinomial one: Pearson's statistic of the networks' histograms over its
/// degrees of freedom, at least 1 (1 for a single network).
fn dispersion(networks: &[Vec<u64>]) -> f64 {
    pearson(&pool(networks)).map_or(1.0, |(stat, df)| (stat / df).max(1.0))
}

/// The checks of configuration `p`: kadsim's sample against the model's.
pub fn compare(p: Params, kadsim: &Sample, model: &Sample) -> Vec<Check> {
    let l = label(p);
    let cfg = format!("n = {}, k = {}, α = {}, b = {}", p.n, p.k, p.alpha, p.b);
    vec![
        Check {
            name: format!("model.hops.{l}"),
            what: format!("mean hops, {cfg}"),
            expected: model.mean_hops(),
            measured: kadsim.mean_hops(),
            tolerance: Tolerance::Abs(HOPS_TOLERANCE),
        },
        Check {
            name: format!("model.hops_hist.{l}"),
            what: format!("hop histogram (chi-square), {cfg}"),
            expected: 0.0,
            measured: chi_square_p(&kadsim.hop_counts_by_network(), &model.hop_counts_by_network()),
            tolerance: Tolerance::NotRejected(CHI_SQUARE_LEVEL),
        },
        Check {
            name: format!("model.queried.{l}"),
            what: format!("mean queried per lookup, {cfg}"),
            expected: model.mean_queried(),
            measured: kadsim.mean_queried(),
            tolerance: Tolerance::Rel(COUNT_TOLERANCE),
        },
        Check {
            name: format!("model.rounds.{l}"),
            what: format!("mean rounds per lookup, {cfg}"),
            expected: model.mean_rounds(),
            measured: kadsim.mean_rounds(),
            tolerance: Tolerance::Rel(COUNT_TOLERANCE),
        },
        Check {
            name: format!("model.success.{l}"),
            what: format!("share finding the true closest, {cfg}"),
            expected: model.success_rate(),
            measured: kadsim.success_rate(),
            tolerance: Tolerance::Abs(SUCCESS_TOLERANCE),
        },
    ]
}

/// One configuration run both ways.
struct Pair {
    p: Params,
    kadsim: Sample,
    model: Sample,
}

/// The section: every configuration of `lab.depth` run in kadsim and in the
/// model, compared, with the charts.
pub fn checks(lab: &Lab) -> Result<Section, String> {
    checks_of(lab, configurations(lab.depth))
}

/// The model's seed for configuration `p`: its own, whatever else runs.
fn model_seed(p: Params) -> u64 {
    MODEL_SEED ^ ((p.n as u64) << 24 | (p.k as u64) << 16 | (p.alpha as u64) << 8 | u64::from(p.b))
}

/// The section for the configurations `configs`.
fn checks_of(lab: &Lab, configs: Vec<Params>) -> Result<Section, String> {
    let mut pairs = Vec::new();
    let mut checks = Vec::new();
    for p in configs {
        let kadsim = kadsim_side(lab, p)?;
        let model = model_sample(p, Variant::Paper, MODEL_LOOKUPS, model_networks(p.n), model_seed(p), lab.threads);
        checks.extend(compare(p, &kadsim, &model));
        pairs.push(Pair { p, kadsim, model });
    }
    holm_adjust(&mut checks);
    let mut charts = Vec::new();
    for b in [1u8, 3] {
        if pairs.iter().any(|x| x.p.b == b) {
            charts.push((format!("model_hops_vs_n_b{b}"), hops_by_n(&pairs, b)));
        }
    }
    if let Some(x) = pairs.iter().find(|x| (x.p.n, x.p.k, x.p.alpha, x.p.b) == (10_000, 20, 3, 1)) {
        charts.push(("model_hops_hist".into(), histogram(x)));
    }
    Ok(Section {
        title: "Lookups on ideal tables against an independent model".into(),
        text: text(lab.depth),
        checks,
        charts,
    })
}

/// Mean hops against n (log scale), kadsim as markers and the model as lines,
/// one colour per (k, α) at bits per step `b`.
fn hops_by_n(pairs: &[Pair], b: u8) -> Chart {
    let mut series = Vec::new();
    let shapes = [Shape::Circle, Shape::Triangle, Shape::Square, Shape::Diamond];
    let mut style = 0;
    for k in [8, 20] {
        for alpha in [1, 3] {
            let of: Vec<&Pair> = pairs.iter().filter(|x| (x.p.k, x.p.alpha, x.p.b) == (k, alpha, b)).collect();
            if of.is_empty() {
                continue;
            }
            let pts = |f: fn(&Pair) -> f64| log10_x(&of.iter().map(|x| (x.p.n as f64, f(x))).collect::<Vec<_>>());
            let name = format!("k = {k}, α = {alpha}");
            series.push(
                Series::new(format!("{name}: model"), pts(|x| x.model.mean_hops()), Mark::Line { dots: false })
                    .styled_as(style),
            );
            series.push(
                Series::new(
                    format!("{name}: kadsim"),
                    pts(|x| x.kadsim.mean_hops()),
                    Mark::Points { shape: shapes[style % 4] },
                )
                .styled_as(style),
            );
            style += 1;
        }
    }
    Chart {
        title: format!("Mean hops on ideal tables, b = {b}: kadsim and the model"),
        x_label: "nodes (log scale)".into(),
        y_label: "mean hops (discovery depth)".into(),
        series,
        log_x: true,
        x_pad: true,
        legend_low: false,
        note: Some("lines: the reference model; markers: kadsim".into()),
        ..Chart::default()
    }
}

/// The hop histograms of one configuration, side by side.
fn histogram(x: &Pair) -> Chart {
    let share = |s: &Sample| -> Vec<(f64, f64)> {
        let n = s.hops.len().max(1) as f64;
        s.hop_counts().iter().enumerate().filter(|(_, c)| **c > 0).map(|(h, &c)| (h as f64, c as f64 / n)).collect()
    };
    let p = x.p;
    Chart {
        title: format!("Hop histogram, n = {}, k = {}, α = {}, b = {}", p.n, p.k, p.alpha, p.b),
        x_label: "hops (discovery depth)".into(),
        y_label: "fraction of lookups".into(),
        series: vec![
            Series::new(
                format!("kadsim (n = {})", x.kadsim.hops.len()),
                share(&x.kadsim),
                Mark::Bars { width: 0.4, offset: -0.2 },
            ),
            Series::new(
                format!("model (n = {})", x.model.hops.len()),
                share(&x.model),
                Mark::Bars { width: 0.4, offset: 0.2 },
            ),
        ],
        integer_x: true,
        ..Chart::default()
    }
}

/// The chi-square tests of the section as one family: each p-value replaced
/// by its Holm-adjusted value (Holm 1979), so that the chance of any false
/// failure among the 24 or 40 histograms stays at the level, not 20% or 33%.
fn holm_adjust(checks: &mut [Check]) {
    let tests: Vec<usize> =
        (0..checks.len()).filter(|&i| matches!(checks[i].tolerance, Tolerance::NotRejected(_))).collect();
    let ps: Vec<Option<f64>> = tests.iter().map(|&i| Some(checks[i].measured)).collect();
    for (&i, adj) in tests.iter().zip(crate::report::stats::holm(&ps)) {
        checks[i].measured = adj.unwrap_or(f64::NAN);
    }
}

/// The section's prose.
fn text(depth: Depth) -> String {
    let subset = match depth {
        Depth::Quick => {
            "The quick suite runs n = 10², 10³, 10⁴ with every k = 8, 20, α = 1, 3 and b = 1, 3 (24 \
             configurations); the full suite adds 10⁵ and 10⁶ (40)."
        }
        Depth::Full => "The full suite runs all 40 configurations: n = 10², …, 10⁶; k = 8, 20; α = 1, 3; b = 1, 3.",
    };
    format!(
        "kadsim's node lookups on ideal routing tables are compared with an independent reference model \
(`src/validation/model.rs`), which calls nothing in `src/kad` or `src/sim`: its own 64-bit random IDs, its own \
tables and its own lookup, written from the paper's rules.

**The model's tables** are those of a settled network (§2.2, §2.4, §4.2): down a node's own path, the subtree \
holding the own ID splits while it holds more than k other nodes; every sibling subtree holds all its nodes when it \
has at most k or lies within the smallest subtree around the own ID holding k others (§2.4's relaxed rule), else \
splits further while its depth is not a multiple of b (§4.2), else is a full bucket of k nodes drawn at random. With \
the IDs sorted each subtree is a contiguous range, so a node's buckets are computed when it is asked, from (seed, \
node, bucket), and a million-node network costs 8 MB.

**The model's lookup** (§2.3): seeded with the origin's k closest contacts (discovery depth 1; a node learned from a \
node at depth d has depth d + 1, the smaller kept), α queries in flight to the closest not yet asked among the k \
closest seen, each reply the k closest of the asked node's table (the asker left out), until the k closest seen have \
all answered. With one constant latency the lookup runs in rounds, replies of a round handled one by one in an order \
independent of the IDs, as a simulator's same-time events are. Hops are the discovery depth of the closest node found, \
queried the queries sent, rounds the round trips until the end.

**kadsim's side**: oracle networks (`bootstrap.mode = \"oracle\"`), no churn, no loss, {lat} ms one way, about \
{kl} node lookups of random IDs per configuration; rounds are each lookup's latency over the {rtt} ms round trip. The \
model draws {ml} lookups per configuration. One network's lookups share its tables, and at 100 nodes the hop \
distribution depends on the network drawn (the mean hops of two networks differ by 0.01 to 0.02, more than a \
sample's standard error; from 300 nodes on the difference is lost in the noise): so at 100 nodes kadsim runs 20 \
networks (seeds 1 to 20) and the model 200, above that kadsim runs one and the model 4.

**Tolerances**: mean hops within {ht} (each side's standard error is below 0.01 hops); hop histograms not told apart \
by Pearson's chi-square test of homogeneity at {cl} (bins pooled until each expects at least 5; the statistic is \
divided by the extra dispersion that drawing lookups network by network adds, estimated on each side from the spread \
between its networks, 1 for a single network), the p-values of all configurations Holm-adjusted as one family, so \
that a kadsim that agrees fails one by chance at most 1% of the time; mean queried contacts and mean rounds within {ct}% of the model's; the \
share of lookups finding the true closest node within {st}. {subset}

A deliberately broken protocol fails these checks (the `model_checks` tests feed the comparison the model's own \
broken variants instead of kadsim): a lookup that stops one round early fails the rounds check in every \
configuration (it finds the same nodes at the same depths: the last round of §2.3's rule only confirms the k \
closest); buckets of k − 1 fail the mean-hops and histogram checks at k = 8 (0.1 hops more) and are not seen at \
k = 20 and 1,000 nodes, where few buckets are full.",
        lat = LATENCY_US / 1000,
        kl = number(KADSIM_LOOKUPS as f64),
        rtt = 2 * LATENCY_US / 1000,
        ml = number(MODEL_LOOKUPS as f64),
        ht = number(HOPS_TOLERANCE),
        cl = number(CHI_SQUARE_LEVEL),
        ct = number(COUNT_TOLERANCE * 100.0),
        st = number(SUCCESS_TOLERANCE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_tells_apart_what_differs_and_pools_sparse_bins() {
        // The same shares: p = 1 (no difference at all).
        assert!((chi_square_p(&[vec![0, 100, 300, 50]], &[vec![0, 200, 600, 100]]) - 1.0).abs() < 1e-9);
        // A 2 × 3 table: expected 40, 40, 20 in each row, chi-square 10 with 2 degrees of freedom, p = e^-5.
        let p = chi_square_p(&[vec![30, 50, 20]], &[vec![50, 30, 20]]);
        let stat: f64 = [(30.0, 40.0), (50.0, 40.0), (20.0, 20.0), (50.0, 40.0), (30.0, 40.0), (20.0, 20.0)]
            .iter()
            .map(|(o, e): &(f64, f64)| (o - e).powi(2) / e)
            .sum();
        assert!((stat - 10.0).abs() < 1e-9);
        assert!((p - (-5.0f64).exp()).abs() < 1e-9, "{p}");
        // Sparse tails pool into their neighbours: 1 + 2 at the ends join up.
        let q = chi_square_p(&[vec![1, 500, 500, 2]], &[vec![0, 500, 500, 1]]);
        assert!(q > 0.9, "{q}");
        assert!(chi_square_p(&[vec![10]], &[vec![20]]) == 1.0 && chi_square_p(&[vec![]], &[vec![1]]).is_nan());
    }

    #[test]
    fn the_dispersion_between_networks_is_allowed_for() {
        // Two sides of 10 networks of 1,000 lookups, whose shares of the
        // first bin differ from network to network (0.25 to 0.34): 0.015
        // apart as one sample each is a difference; against the spread
        // between networks it is not.
        let side =
            |base: u64| -> Vec<Vec<u64>> { (0..10).map(|i| vec![base + i * 10, 1000 - base - i * 10]).collect() };
        let (a, b) = (side(250), side(265));
        assert!(dispersion(&a) > 3.0 && dispersion(&[a[0].clone()]) == 1.0);
        let pooled = chi_square_p(&[sum_rows(&a)], &[sum_rows(&b)]);
        let corrected = chi_square_p(&a, &b);
        assert!(pooled < 0.05 && corrected > 0.2, "{pooled} {corrected}");
        // Homogeneous networks: a dispersion of about 1.
        let even: Vec<Vec<u64>> = (0..10).map(|i| vec![300 + i % 2, 700 - i % 2]).collect();
        assert!(dispersion(&even) == 1.0);
    }

    /// At 100 nodes, the model against itself drawn as the suite draws
    /// kadsim (20 networks) is rejected about as often as the level says.
    #[test]
    fn the_corrected_test_keeps_its_level_at_100_nodes() {
        let mut rejected = Vec::new();
        for p in [Params { n: 100, k: 8, alpha: 1, b: 3 }, Params { n: 100, k: 20, alpha: 3, b: 1 }] {
            let reference = model_sample(p, Variant::Paper, MODEL_LOOKUPS, model_networks(p.n), MODEL_SEED, 2);
            for seed in 0..10 {
                let s = model_sample(p, Variant::Paper, KADSIM_LOOKUPS, kadsim_networks(p.n), 1000 + seed, 2);
                let c = compare(p, &s, &reference);
                let failed: Vec<&Check> = c.iter().filter(|c| !c.pass()).collect();
                eprintln!(
                    "{} seed {seed}: p = {:.4}, hops {:+.4}",
                    label(p),
                    c[1].measured,
                    c[0].measured - c[0].expected
                );
                rejected.extend(failed.into_iter().map(|c| c.name.clone()));
            }
        }
        assert!(rejected.len() <= 1, "{rejected:?}");
    }

    #[test]
    fn the_quick_subset_is_what_the_text_says() {
        let q = configurations(Depth::Quick);
        assert_eq!(q.len(), 24);
        assert_eq!(configurations(Depth::Full).len(), 40);
        assert_eq!(label(q[0]), "n1e2.k8.a1.b1");
        assert!(scenario(q[0], 10_000).contains("lookup_rate = 1e0"));
    }

    /// The comparison passes the model's own second sample (another seed,
    /// kadsim's sample size) and fails a deliberately broken protocol in the
    /// quick suite's configurations at 1,000 nodes: lookups that stop one
    /// round early fail every one (their rounds), buckets of k − 1 every one
    /// with k = 8 (hops).
    #[test]
    fn a_broken_protocol_fails_a_quick_check() {
        for p in configurations(Depth::Quick).into_iter().filter(|p| p.n == 1000) {
            let reference = model_sample(p, Variant::Paper, MODEL_LOOKUPS, model_networks(p.n), model_seed(p), 2);
            let failed = |v: Variant| -> Vec<String> {
                let s = model_sample(p, v, KADSIM_LOOKUPS, kadsim_networks(p.n), 99, 2);
                compare(p, &s, &reference).into_iter().filter(|c| !c.pass()).map(|c| c.name).collect()
            };
            assert_eq!(failed(Variant::Paper), Vec::<String>::new(), "{p:?}");
            let early = failed(Variant::StopRoundEarly);
            assert!(early.contains(&format!("model.rounds.{}", label(p))), "stopping a round early passed, {p:?}");
            let small = failed(Variant::SmallBuckets);
            assert!(p.k != 8 || !small.is_empty(), "buckets of k − 1 passed, {p:?}");
            eprintln!("{}: stopping early fails {early:?}; buckets of k − 1 fail {small:?}", label(p));
        }
    }
}
