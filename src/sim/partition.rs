//! Scheduled network partitions (`[[network.partitions]]`).
//!
//! Each partition cuts a random set of exactly round(fraction·nodes) node
//! indices (its far side) off from the rest from `start` until `end`
//! (half-open: active while start ≤ now < end). No message crosses the cut of
//! an active partition; partitions may overlap, and a pair is cut if any
//! active partition separates it. The far sides are drawn once, when the
//! schedule is built, as one bitset per partition (n/8 bytes each).

use crate::scenario::Partition;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

/// The partition schedule of a run.
#[derive(Clone, Debug)]
pub struct Partitions {
    parts: Vec<Part>,
    /// Earliest start and latest end over all partitions: outside it nothing is cut.
    span: (u64, u64),
}

#[derive(Clone, Debug)]
struct Part {
    start: u64,
    end: u64,
    /// Bit i set: node i is on the far side.
    far: Vec<u64>,
}

impl Part {
    #[inline]
    fn far_side(&self, node: u32) -> bool {
        self.far.get(node as usize / 64).is_some_and(|w| w & (1 << (node % 64)) != 0)
    }
}

impl Partitions {
    /// Builds the schedule of `cfg` for `nodes` nodes, drawing each far side
    /// from `rng` in the order of `cfg` (Floyd's sampling: exactly
    /// round(fraction·nodes) distinct indices, every such set equally likely).
    /// Partitions with `end <= start` are never active and are dropped.
    pub fn new(cfg: &[Partition], nodes: usize, rng: &mut ChaCha8Rng) -> Partitions {
        let mut parts = Vec::with_capacity(cfg.len());
        let n = nodes.min(u32::MAX as usize) as u32;
        for p in cfg {
            let fraction = if p.fraction.0.is_nan() { 0.0 } else { p.fraction.0.clamp(0.0, 1.0) };
            let m = ((fraction * f64::from(n)).round() as u32).min(n);
            let mut far = vec![0u64; (n as usize).div_ceil(64)];
            // Floyd: for j in n−m..n, pick t in [0, j]; take t, or j if t is taken.
            for j in n - m..n {
                let t = Uniform::new_inclusive(0, j).map_or(j, |u| u.sample(rng));
                let pick = if far[t as usize / 64] & (1 << (t % 64)) != 0 { j } else { t };
                far[pick as usize / 64] |= 1 << (pick % 64);
            }
            if p.start.0 < p.end.0 {
                parts.push(Part { start: p.start.0, end: p.end.0, far });
            }
        }
        let span =
            (parts.iter().map(|p| p.start).min().unwrap_or(u64::MAX), parts.iter().map(|p| p.end).max().unwrap_or(0));
        Partitions { parts, span }
    }

    /// Whether a message between nodes `a` and `b` at time `now_us` crosses the
    /// cut of an active partition (symmetric in `a` and `b`; a node is never
    /// cut from itself; indices beyond the node count are on the near side).
    #[inline]
    pub fn cut(&self, now_us: u64, a: u32, b: u32) -> bool {
        if now_us < self.span.0 || now_us >= self.span.1 || a == b {
            return false;
        }
        self.parts.iter().any(|p| p.start <= now_us && now_us < p.end && p.far_side(a) != p.far_side(b))
    }

    /// Every time at which a partition appears or heals, in microseconds,
    /// sorted and without duplicates.
    pub fn changes(&self) -> Vec<u64> {
        let mut t: Vec<u64> = self.parts.iter().flat_map(|p| [p.start, p.end]).collect();
        t.sort_unstable();
        t.dedup();
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::units::{Dur, Probability};
    use rand_core::SeedableRng;

    fn part(start_s: u64, end_s: u64, fraction: f64) -> Partition {
        Partition { start: Dur::secs(start_s), end: Dur::secs(end_s), fraction: Probability(fraction) }
    }

    fn far_count(p: &Partitions, i: usize) -> u32 {
        p.parts[i].far.iter().map(|w| w.count_ones()).sum()
    }

    #[test]
    fn exact_far_side_size() {
        // round(0.3·1000) = 300; round(0.25·10) = round(2.5) = 3; round(0.5·7) = 4.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (n, f, want) in [(1000, 0.3, 300), (10, 0.25, 3), (7, 0.5, 4), (100, 0.0, 0), (100, 1.0, 100), (0, 0.5, 0)]
        {
            for _ in 0..20 {
                let p = Partitions::new(&[part(0, 10, f)], n, &mut rng);
                assert_eq!(far_count(&p, 0), want, "n {n} f {f}");
                // No bit set beyond the node count.
                assert!((n as u32..(n as u32).div_ceil(64) * 64).all(|i| !p.parts[0].far_side(i)));
            }
        }
    }

    #[test]
    fn far_side_is_uniform() {
        // 10 of 40 nodes, 20 000 draws: each node is cut off with probability
        // 1/4, i.e. 5000 times, σ = √(20 000·0.25·0.75) = 61.
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut hits = [0u32; 40];
        for _ in 0..20_000 {
            let p = Partitions::new(&[part(0, 1, 0.25)], 40, &mut rng);
            for (i, h) in hits.iter_mut().enumerate() {
                *h += u32::from(p.parts[0].far_side(i as u32));
            }
        }
        assert!(hits.iter().all(|&h| (4700..=5300).contains(&h)), "{hits:?}");
    }

    #[test]
    fn cut_only_while_active_and_symmetric() {
        let n = 200u32;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let p = Partitions::new(&[part(100, 200, 0.3)], n as usize, &mut rng);
        let (start, end) = (Dur::secs(100).0, Dur::secs(200).0);
        for now in [0, start - 1, end, end + 1, u64::MAX] {
            assert!((0..n).all(|a| (0..n).all(|b| !p.cut(now, a, b))), "cut at {now}");
        }
        for now in [start, start + 1, end - 1] {
            let mut cut_from_0 = 0;
            for a in 0..n {
                assert!(!p.cut(now, a, a));
                for b in 0..n {
                    let c = p.cut(now, a, b);
                    assert_eq!(c, p.cut(now, b, a));
                    assert_eq!(c, p.parts[0].far_side(a) != p.parts[0].far_side(b));
                    cut_from_0 += u32::from(a == 0 && c);
                }
            }
            // round(0.3·200) = 60 on the far side: node 0 is cut from the other side.
            let want = if p.parts[0].far_side(0) { n - 60 } else { 60 };
            assert_eq!(cut_from_0, want);
        }
    }

    #[test]
    fn overlapping_partitions_and_changes() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let cfg = [part(50, 150, 0.5), part(10, 60, 0.2), part(150, 150, 0.5), part(10, 20, 0.0)];
        let p = Partitions::new(&cfg, 100, &mut rng);
        let s = |x: u64| Dur::secs(x).0;
        assert_eq!(p.changes(), vec![s(10), s(20), s(50), s(60), s(150)]);
        assert_eq!(p.parts.len(), 3, "the empty interval is dropped");
        // At 55 s both the 0.5 and the 0.2 partition are active.
        let (a, b) = (&p.parts[0], &p.parts[1]);
        for x in 0..100 {
            for y in 0..100 {
                let want = a.far_side(x) != a.far_side(y) || b.far_side(x) != b.far_side(y);
                assert_eq!(p.cut(s(55), x, y), want);
                assert_eq!(p.cut(s(100), x, y), a.far_side(x) != a.far_side(y));
                // At 15 s only the 0.2 partition and the empty one (fraction 0) are active.
                assert_eq!(p.cut(s(15), x, y), b.far_side(x) != b.far_side(y));
            }
        }
        let none = Partitions::new(&[], 100, &mut rng);
        assert!(!none.cut(0, 0, 1) && none.changes().is_empty());
    }

    #[test]
    fn deterministic() {
        let cfg = [part(0, 10, 0.4), part(5, 20, 0.1)];
        let draw = |seed| {
            let p = Partitions::new(&cfg, 1000, &mut ChaCha8Rng::seed_from_u64(seed));
            p.parts.iter().map(|x| x.far.clone()).collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }
}
