//! One-way message latency of the simulated network (`[network.latency]`).
//!
//! Five models: a constant, a uniform range, a lognormal, Vivaldi-style
//! coordinates (a point in a square plane plus an access-link height per node,
//! drawn once when the model is built), and a measured matrix: half the RTT
//! between the hosts two nodes are placed on, plus each node's access delay
//! (`sim::matrix`; the matrix shared, 2 bytes per node for its host and 4 for
//! its access delay, when there is one). Every model adds a jitter drawn
//! uniformly from `[0, jitter)`. Samples are computed in floating point, rounded
//! to whole microseconds and clamped to `[floor, MAX_LATENCY_US]` (the floor is `network.min_latency`, 1 µs for a bare model), so a message
//! never arrives at the instant it was sent and `now + latency` never
//! overflows. Every sample is a deterministic function of the RNG state
//! (DESIGN.md §3); the constant, coordinate and matrix models with no jitter
//! draw nothing from the RNG.

use super::churn::DurationDist;
use super::matrix::{Matrix, place};
use crate::scenario::{self, Latency};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use rand_distr::{Distribution, Exp1, LogNormal, StandardUniform, Uniform};
use std::sync::Arc;

/// The longest latency a sample can have: 10⁶ s, in microseconds.
pub const MAX_LATENCY_US: u64 = 1_000_000_000_000;

/// Mean distance between two independent uniform points of the unit square:
/// (2 + √2 + 5·ln(1 + √2)) / 15.
pub const UNIT_SQUARE_MEAN_DISTANCE: f64 = 0.521_405_433_164_720_7;

/// The one-way latency model of a run, built once from the scenario.
#[derive(Clone, Debug)]
pub struct LatencyModel {
    kind: Kind,
    /// Jitter bound in microseconds (0: none).
    jitter: f64,
    /// The least latency a sample can have, in microseconds (at least 1).
    floor: u64,
    /// Each node's class access delay in microseconds (`[[classes]]`
    /// `access`, `sim::classes`), added at both ends of every datagram, and
    /// their mean; empty without one.
    class_access: Vec<u32>,
    class_access_mean: f64,
}

#[derive(Clone, Debug)]
enum Kind {
    Constant(f64),
    Uniform {
        dist: Uniform<f64>,
        min: f64,
        max: f64,
    },
    LogNormal {
        dist: LogNormal<f64>,
        mu: f64,
        sigma: f64,
    },
    /// `[x, y, height]` per node index, in microseconds (12 bytes per node).
    Coordinates {
        nodes: Vec<[f32; 3]>,
        width: f64,
        height_mean: f64,
    },
    /// The shared matrix, each node's host, and each node's access delay in
    /// microseconds (empty without access delays).
    Matrix {
        table: Arc<Matrix>,
        hosts: Vec<u16>,
        access: Vec<u32>,
        access_mean: f64,
    },
}

impl LatencyModel {
    /// Builds the model of `cfg` for `nodes` nodes, applying the scenario's
    /// defaults to unset fields (constant 50 ms; uniform 10–100 ms; lognormal
    /// median 50 ms, σ 0.5; coordinates width 150 ms, height mean 5 ms). The
    /// coordinates model draws each node's position and height from `rng` here,
    /// in node order (x, y, height); the matrix model draws each node's host
    /// ([`place::hosts_of_nodes`]), then each node's access delay, if any;
    /// the other models draw nothing.
    ///
    /// # Panics
    ///
    /// With the matrix model, if `cfg` holds no loaded matrix: a scenario
    /// from `scenario::load_file` or `load_str` holds it.
    pub fn new(cfg: &Latency, nodes: usize, rng: &mut ChaCha8Rng) -> LatencyModel {
        let us = |d: Option<scenario::units::Dur>, default_ms: u64| d.map_or(default_ms * 1000, |d| d.0) as f64;
        let kind = match cfg.model {
            scenario::LatencyModel::Constant => Kind::Constant(us(cfg.value, 50)),
            scenario::LatencyModel::Uniform => {
                let (a, b) = (us(cfg.min, 10), us(cfg.max, 100));
                let (min, max) = if a <= b { (a, b) } else { (b, a) };
                match Uniform::new_inclusive(min, max) {
                    Ok(dist) => Kind::Uniform { dist, min, max },
                    Err(_) => Kind::Constant(min),
                }
            }
            scenario::LatencyModel::Lognormal => {
                let median = us(cfg.median, 50);
                let sigma = cfg.sigma.map_or(0.5, |s| s.0);
                let mu = median.ln();
                match LogNormal::new(mu, sigma) {
                    Ok(dist) if mu.is_finite() && sigma.is_finite() => Kind::LogNormal { dist, mu, sigma },
                    _ => Kind::Constant(median),
                }
            }
            scenario::LatencyModel::Coordinates => {
                let width = us(cfg.width, 150);
                let height_mean = us(cfg.height_mean, 5);
                let mut coords = Vec::with_capacity(nodes);
                for _ in 0..nodes {
                    let x: f64 = StandardUniform.sample(rng);
                    let y: f64 = StandardUniform.sample(rng);
                    let h: f64 = Exp1.sample(rng);
                    coords.push([(x * width) as f32, (y * width) as f32, (h * height_mean) as f32]);
                }
                Kind::Coordinates { nodes: coords, width, height_mean }
            }
            scenario::LatencyModel::Matrix => {
                let table = cfg.loaded.0.clone().expect("a loaded scenario holds its latency matrix");
                let hosts = place::hosts_of_nodes(table.hosts(), nodes, rng);
                let (access, access_mean) = match &cfg.access {
                    Some(d) => {
                        let dist = DurationDist::new(d);
                        (place::access_delays(&dist, nodes, rng), dist.mean_micros())
                    }
                    None => (Vec::new(), 0.0),
                };
                Kind::Matrix { table, hosts, access, access_mean }
            }
        };
        LatencyModel { kind, jitter: cfg.jitter.0 as f64, floor: 1, class_access: Vec::new(), class_access_mean: 0.0 }
    }

    /// Adds each node's class access delay (µs, by node index) and their
    /// mean to every sample, at both ends (`sim::classes`); `None` adds nothing.
    pub fn with_access(mut self, access: Option<(Vec<u32>, f64)>) -> LatencyModel {
        if let Some((delays, mean)) = access {
            self.class_access = delays;
            self.class_access_mean = mean;
        }
        self
    }

    /// Raises every sample to at least `min_us` microseconds (`network.min_latency`):
    /// the lookahead of the parallel engine.
    pub fn with_floor(mut self, min_us: u64) -> LatencyModel {
        self.floor = min_us.clamp(1, MAX_LATENCY_US);
        self
    }

    /// The least latency a sample can have, in microseconds.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// The one-way latency of a message from node `from` to node `to`, in
    /// microseconds, jitter included; at least 1.
    ///
    /// # Panics
    ///
    /// With the coordinates and matrix models, if `from` or `to` is not below
    /// the node count given to [`LatencyModel::new`].
    #[inline]
    pub fn sample<R: RngCore>(&self, from: u32, to: u32, rng: &mut R) -> u64 {
        let base = match &self.kind {
            Kind::Constant(v) => *v,
            Kind::Uniform { dist, .. } => dist.sample(rng),
            Kind::LogNormal { dist, .. } => dist.sample(rng),
            Kind::Coordinates { nodes, .. } => pair_latency(nodes, from, to),
            Kind::Matrix { table, hosts, access, .. } => {
                let (a, b) = (from as usize, to as usize);
                let half = u64::from(table.half_us(hosts[a], hosts[b]));
                let ends = match (access.get(a), access.get(b)) {
                    (Some(x), Some(y)) => u64::from(*x) + u64::from(*y),
                    _ => 0,
                };
                (half + ends) as f64
            }
        };
        let base = match (self.class_access.get(from as usize), self.class_access.get(to as usize)) {
            (Some(x), Some(y)) => base + f64::from(*x) + f64::from(*y),
            _ => base,
        };
        let jitter = if self.jitter > 0.0 {
            let u: f64 = StandardUniform.sample(rng);
            u * self.jitter
        } else {
            0.0
        };
        let t = (base + jitter).round();
        // NaN and anything below the floor become the floor.
        if t >= MAX_LATENCY_US as f64 {
            MAX_LATENCY_US
        } else if t >= self.floor as f64 {
            t as u64
        } else {
            self.floor
        }
    }

    /// The analytic mean latency in microseconds, jitter included (+ jitter/2):
    /// the value for constant, (min + max)/2 for uniform, e^(μ + σ²/2) for
    /// lognormal. For coordinates it is the expectation over the random
    /// placement of two distinct nodes, width·0.52141 + 2·height_mean (0.52141
    /// is the mean distance of two uniform points of the unit square), not the
    /// mean over this run's drawn positions. For a matrix it is the
    /// expectation over the random placement of two distinct nodes: the mean
    /// half-RTT of two distinct hosts, times 1 − 1/hosts when nodes share
    /// hosts (two nodes on one host are 0 apart), plus twice the access
    /// delay's mean. Class access delays add twice their mean over the
    /// nodes. Rounding to whole microseconds and the floor are ignored.
    pub fn mean_micros(&self) -> f64 {
        let base = match &self.kind {
            Kind::Constant(v) => *v,
            Kind::Uniform { min, max, .. } => (min + max) / 2.0,
            Kind::LogNormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            Kind::Coordinates { width, height_mean, .. } => width * UNIT_SQUARE_MEAN_DISTANCE + 2.0 * height_mean,
            Kind::Matrix { table, hosts, access_mean, .. } => {
                let shared = if hosts.len() > table.hosts() { 1.0 / table.hosts() as f64 } else { 0.0 };
                table.mean_half_us() * (1.0 - shared) + 2.0 * access_mean
            }
        };
        base + 2.0 * self.class_access_mean + self.jitter / 2.0
    }

    /// Bytes the model keeps per node: 12 for coordinates; for a matrix, 2
    /// for the host and 4 for the access delay when there is one (the matrix
    /// itself is shared, once per process: [`Matrix::bytes`]); 0 otherwise;
    /// plus 4 with class access delays.
    pub fn node_bytes(&self) -> f64 {
        let per = |bytes: usize, nodes: usize| if nodes == 0 { 0.0 } else { bytes as f64 / nodes as f64 };
        let class = if self.class_access.is_empty() { 0.0 } else { 4.0 };
        class
            + match &self.kind {
                Kind::Coordinates { nodes, .. } => per(std::mem::size_of_val(nodes.as_slice()), nodes.len()),
                Kind::Matrix { hosts, access, .. } => {
                    per(std::mem::size_of_val(hosts.as_slice()) + std::mem::size_of_val(access.as_slice()), hosts.len())
                }
                _ => 0.0,
            }
    }

    /// The matrix and each node's host, with the matrix model.
    pub fn placement(&self) -> Option<(&Matrix, &[u16])> {
        match &self.kind {
            Kind::Matrix { table, hosts, .. } => Some((table, hosts)),
            _ => None,
        }
    }
}

/// Distance in the plane plus both heights. Symmetric exactly: the squared
/// differences and the height sum do not depend on the order of the pair.
#[inline]
fn pair_latency(nodes: &[[f32; 3]], a: u32, b: u32) -> f64 {
    let p = nodes[a as usize];
    let q = nodes[b as usize];
    let dx = f64::from(p[0]) - f64::from(q[0]);
    let dy = f64::from(p[1]) - f64::from(q[1]);
    (dx * dx + dy * dy).sqrt() + (f64::from(p[2]) + f64::from(q[2]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::LatencyModel as Name;
    use crate::scenario::units::{Dur, NonNegative};
    use rand_core::SeedableRng;

    const N: usize = 200_000;

    fn cfg(model: Name) -> Latency {
        Latency { model, ..Latency::default() }
    }

    /// `N` samples between random pairs of `nodes` nodes, sorted, in ms.
    fn samples(c: &Latency, nodes: u32, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let m = LatencyModel::new(c, nodes as usize, &mut rng);
        let pick = Uniform::new(0, nodes).unwrap();
        let mut v: Vec<f64> = (0..N)
            .map(|_| {
                let (a, b) = (pick.sample(&mut rng), pick.sample(&mut rng));
                m.sample(a, b, &mut rng) as f64 / 1000.0
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    fn quantile(sorted: &[f64], p: f64) -> f64 {
        sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
    }

    fn close(what: &str, got: f64, want: f64, rel: f64) {
        assert!((got - want).abs() <= rel * want, "{what}: got {got}, expected {want} ± {}%", rel * 100.0);
    }

    #[test]
    fn constant_default_is_50ms_and_draws_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let m = LatencyModel::new(&cfg(Name::Constant), 10, &mut rng);
        let before = rng.clone();
        for i in 0..100 {
            assert_eq!(m.sample(i % 10, 3, &mut rng), 50_000);
        }
        assert_eq!(rng, before, "no jitter: no draws");
        assert_eq!(m.mean_micros(), 50_000.0);
    }

    #[test]
    fn constant_with_jitter() {
        // 50 ms + U[0, 10 ms): mean = median = 55 ms, all within [50, 60] ms.
        let c = Latency { value: Some(Dur::millis(50)), jitter: Dur::millis(10), ..cfg(Name::Constant) };
        let v = samples(&c, 10, 2);
        assert!(v[0] >= 50.0 && v[N - 1] <= 60.0);
        close("mean", mean(&v), 55.0, 0.002);
        close("median", quantile(&v, 0.5), 55.0, 0.003);
    }

    #[test]
    fn uniform_default_10_to_100ms() {
        // U[10, 100] ms: mean = 55 ms; 90th percentile = 10 + 0.9·90 = 91 ms.
        let v = samples(&cfg(Name::Uniform), 10, 3);
        assert!(v[0] >= 10.0 && v[N - 1] <= 100.0);
        close("mean", mean(&v), 55.0, 0.005);
        close("p90", quantile(&v, 0.9), 91.0, 0.005);
    }

    #[test]
    fn lognormal_default() {
        // median 50 ms, σ 0.5: mean = 50·e^0.125 = 56.657 ms;
        // 90th percentile = 50·e^(0.5·1.28155) = 94.898 ms.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = LatencyModel::new(&cfg(Name::Lognormal), 10, &mut rng);
        close("analytic mean", m.mean_micros(), 56_657.4, 1e-5);
        let v = samples(&cfg(Name::Lognormal), 10, 4);
        close("mean", mean(&v), 56.657, 0.01);
        close("median", quantile(&v, 0.5), 50.0, 0.01);
        close("p90", quantile(&v, 0.9), 94.898, 0.015);
    }

    #[test]
    fn lognormal_with_jitter_mean() {
        // median 20 ms, σ 1.0, jitter 4 ms: mean = 20·e^0.5 + 2 = 34.974 ms.
        let c = Latency {
            median: Some(Dur::millis(20)),
            sigma: Some(NonNegative(1.0)),
            jitter: Dur::millis(4),
            ..cfg(Name::Lognormal)
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        close("analytic mean", LatencyModel::new(&c, 1, &mut rng).mean_micros(), 34_974.4, 1e-5);
        close("mean", mean(&samples(&c, 1, 5)), 34.974, 0.02);
    }

    #[test]
    fn coordinates_default_mean() {
        // width 150 ms, heights exp(mean 5 ms): mean over random pairs =
        // 150·0.521405 + 2·5 = 88.211 ms. 5000 nodes, so the positions average out.
        let v = samples(&cfg(Name::Coordinates), 5000, 6);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        close("analytic", LatencyModel::new(&cfg(Name::Coordinates), 1, &mut rng).mean_micros(), 88_210.8, 1e-5);
        close("mean", mean(&v), 88.211, 0.02);
    }

    #[test]
    fn coordinates_without_height_median() {
        // Heights 0: latency = distance. The distance of two uniform points of
        // the unit square has CDF πd² − 8d³/3 + d⁴/2 for d ≤ 1, equal to 1/2 at
        // d = 0.51200, so the median is 150·0.512 = 76.80 ms.
        let c = Latency { height_mean: Some(Dur(0)), ..cfg(Name::Coordinates) };
        let v = samples(&c, 5000, 7);
        close("median", quantile(&v, 0.5), 76.80, 0.02);
        close("mean", mean(&v), 78.211, 0.02);
    }

    #[test]
    fn coordinates_symmetric_and_bounded() {
        let c = Latency { width: Some(Dur::millis(100)), height_mean: Some(Dur::millis(10)), ..cfg(Name::Coordinates) };
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let n = 300u32;
        let m = LatencyModel::new(&c, n as usize, &mut rng);
        let Kind::Coordinates { nodes, .. } = &m.kind else { unreachable!() };
        assert!(std::mem::size_of_val(&nodes[0]) <= 16);
        let before = rng.clone();
        for a in 0..n {
            for b in 0..n {
                let ab = m.sample(a, b, &mut rng);
                assert_eq!(ab, m.sample(b, a, &mut rng), "symmetric {a} {b}");
                let h = f64::from(nodes[a as usize][2]) + f64::from(nodes[b as usize][2]);
                let lo = h.round().max(1.0);
                let hi = (100_000.0 * 2f64.sqrt() + h).round();
                assert!((lo..=hi).contains(&(ab as f64)), "{ab} not in [{lo}, {hi}]");
            }
        }
        assert_eq!(rng, before, "no jitter: sampling draws nothing");
    }

    #[test]
    fn never_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let zero = Latency { value: Some(Dur(0)), ..cfg(Name::Constant) };
        assert_eq!(LatencyModel::new(&zero, 1, &mut rng).sample(0, 0, &mut rng), 1);
        let tiny = Latency { median: Some(Dur(1)), sigma: Some(NonNegative(3.0)), ..cfg(Name::Lognormal) };
        let m = LatencyModel::new(&tiny, 1, &mut rng);
        assert!((0..10_000).all(|_| m.sample(0, 0, &mut rng) >= 1));
        let huge = Latency { median: Some(Dur::secs(1)), sigma: Some(NonNegative(1e6)), ..cfg(Name::Lognormal) };
        let m = LatencyModel::new(&huge, 1, &mut rng);
        assert!((0..1000).all(|_| (1..=MAX_LATENCY_US).contains(&m.sample(0, 0, &mut rng))));
    }

    /// A loaded matrix of `hosts` hosts with symmetric RTTs drawn uniformly
    /// from [1, 300) ms to the microsecond, and those RTTs in ms, row by row.
    fn matrix(hosts: usize, seed: u64) -> (Latency, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut rtt = vec![0.0; hosts * hosts];
        for a in 0..hosts {
            for b in a + 1..hosts {
                let u: f64 = StandardUniform.sample(&mut rng);
                let v = ((1.0 + 299.0 * u) * 1000.0).round() / 1000.0;
                rtt[a * hosts + b] = v;
                rtt[b * hosts + a] = v;
            }
        }
        let half = rtt.iter().map(|r| (r * 500.0).round() as u32).collect();
        let table = Matrix::new(hosts, half, "0".repeat(40), Vec::new());
        let cfg = Latency { loaded: scenario::LoadedMatrix(Some(Arc::new(table))), ..cfg(Name::Matrix) };
        (cfg, rtt)
    }

    #[test]
    fn matrix_mean_over_every_placed_pair_is_half_the_mean_rtt() {
        // 120 nodes on 120 hosts: every host pair is some node pair, so the
        // mean over node pairs is the matrix's, computed here from the RTTs.
        let (c, rtt) = matrix(120, 21);
        let n = 120u32;
        let mut want = 0.0;
        for a in 0..120 {
            for b in 0..120 {
                if a != b {
                    want += rtt[a * 120 + b] / 2.0 * 1000.0;
                }
            }
        }
        want /= 120.0 * 119.0;
        let mut rng = ChaCha8Rng::seed_from_u64(22);
        let m = LatencyModel::new(&c, n as usize, &mut rng);
        let before = rng.clone();
        let mut got = 0.0;
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    got += m.sample(a, b, &mut rng) as f64;
                }
            }
        }
        got /= f64::from(n * (n - 1));
        assert_eq!(rng, before, "no jitter: sampling draws nothing");
        close("mean over placed pairs", got, want, 0.02);
        assert!((got - want).abs() < 1.0, "to the microsecond: {got} against {want}");
        close("analytic mean", m.mean_micros(), want, 1e-5);
    }

    #[test]
    fn matrix_places_nodes_on_their_own_hosts_when_they_fit() {
        let (c, _) = matrix(50, 23);
        let mut rng = ChaCha8Rng::seed_from_u64(24);
        for nodes in [1, 30, 50] {
            let m = LatencyModel::new(&c, nodes, &mut rng);
            let (_, hosts) = m.placement().unwrap();
            let mut seen: Vec<u16> = hosts.to_vec();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), nodes, "{nodes} nodes on 50 hosts: no host twice");
        }
        // More nodes than hosts: hosts are shared, and nodes on one host are
        // 0 apart, raised to the floor.
        let m = LatencyModel::new(&c, 200, &mut rng).with_floor(700);
        let (_, hosts) = m.placement().unwrap();
        let (a, b) =
            (0..200).flat_map(|a| (a + 1..200).map(move |b| (a, b))).find(|&(a, b)| hosts[a] == hosts[b]).unwrap();
        assert_eq!(m.sample(a as u32, b as u32, &mut rng), 700);
        close(
            "analytic mean with shared hosts",
            m.mean_micros(),
            {
                let (table, _) = m.placement().unwrap();
                table.mean_half_us() * (1.0 - 1.0 / 50.0)
            },
            1e-12,
        );
    }

    #[test]
    fn matrix_access_delays_add_at_both_ends_and_jitter_on_top() {
        // Every access delay 4 ms (σ 0): one way = RTT/2 + 8 ms (+ jitter).
        let (c, rtt) = matrix(10, 25);
        let access = crate::scenario::Distribution {
            dist: crate::scenario::DistKind::Lognormal,
            mean: None,
            shape: None,
            scale: None,
            median: Some(Dur::millis(4)),
            sigma: Some(NonNegative(0.0)),
        };
        let c = Latency { access: Some(access), ..c };
        let mut rng = ChaCha8Rng::seed_from_u64(26);
        let m = LatencyModel::new(&c, 10, &mut rng);
        let (_, hosts) = m.placement().unwrap();
        let hosts = hosts.to_vec();
        for a in 0..10u32 {
            for b in 0..10u32 {
                if a != b {
                    let r = rtt[usize::from(hosts[a as usize]) * 10 + usize::from(hosts[b as usize])];
                    assert_eq!(m.sample(a, b, &mut rng), (r * 500.0).round() as u64 + 8_000);
                }
            }
        }
        let jittery = LatencyModel::new(&Latency { jitter: Dur::millis(2), ..c }, 10, &mut rng);
        let (_, hosts) = jittery.placement().unwrap();
        let base = (rtt[usize::from(hosts[0]) * 10 + usize::from(hosts[1])] * 500.0).round() as u64 + 8_000;
        assert!((0..1000).all(|_| (base..base + 2_000).contains(&jittery.sample(0, 1, &mut rng))));
    }

    #[test]
    fn matrix_keeps_at_most_8_bytes_per_node() {
        let (c, _) = matrix(10, 27);
        let mut rng = ChaCha8Rng::seed_from_u64(28);
        let bare = LatencyModel::new(&c, 1000, &mut rng);
        assert_eq!(bare.node_bytes(), 2.0, "a u16 host");
        let access = Some(crate::scenario::Distribution {
            dist: crate::scenario::DistKind::Exponential,
            mean: Some(Dur::millis(3)),
            shape: None,
            scale: None,
            median: None,
            sigma: None,
        });
        let with = LatencyModel::new(&Latency { access, ..c }, 1000, &mut rng);
        assert_eq!(with.node_bytes(), 6.0, "a u16 host and a u32 access delay");
        assert!(with.node_bytes() <= 8.0);
        let coords = LatencyModel::new(&cfg(Name::Coordinates), 1000, &mut rng);
        assert_eq!(coords.node_bytes(), 12.0);
    }

    #[test]
    fn deterministic() {
        for model in [Name::Constant, Name::Uniform, Name::Lognormal, Name::Coordinates] {
            let c = Latency { jitter: Dur::millis(3), ..cfg(model) };
            let draw = |seed| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let m = LatencyModel::new(&c, 100, &mut rng);
                (0..10_000u32).map(|i| m.sample(i % 100, i / 100, &mut rng)).collect::<Vec<_>>()
            };
            assert_eq!(draw(11), draw(11), "{model:?}");
            assert_ne!(draw(11), draw(12), "{model:?}");
        }
        let (c, _) = matrix(300, 29);
        let c = Latency { jitter: Dur::millis(3), ..c };
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let m = LatencyModel::new(&c, 100, &mut rng);
            (0..10_000u32).map(|i| m.sample(i % 100, i / 100, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(11), draw(11), "matrix");
        assert_ne!(draw(11), draw(12), "matrix");
    }
}
