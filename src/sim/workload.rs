//! The workload: node lookups, puts and gets started by live nodes, each kind a
//! Poisson process at a per-node rate, keys uniform or Zipf over a population.

use super::addr::SimAddr;
use crate::kad::{Command, IdWidth, NodeId, Value};
use crate::scenario::{KeyDistribution, Workload as WorkloadCfg};
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use rand_distr::{Distribution, Exp1, Zipf};
use std::sync::Arc;

/// The three kinds of workload operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkKind {
    /// A node lookup of a uniformly random ID.
    Lookup,
    /// A put of a key from the population.
    Put,
    /// A get of a key put earlier.
    Get,
}

impl WorkKind {
    /// All kinds, in a fixed order.
    pub const ALL: [WorkKind; 3] = [WorkKind::Lookup, WorkKind::Put, WorkKind::Get];
}

/// Draws operations, origins and keys from the workload's own random stream.
#[derive(Clone, Debug)]
pub struct Workload {
    cfg: WorkloadCfg,
    rng: ChaCha8Rng,
    /// Keys stored so far (a put of theirs succeeded), in order of first
    /// success: the keys gets draw from (indices into the population).
    put_order: Vec<u32>,
    was_put: Vec<bool>,
    /// Keys with a put under way and none succeeded yet, sorted.
    pending: Vec<(NodeId, u32)>,
    puts: u64,
    /// The width of keys and lookup targets.
    width: IdWidth,
}

/// Key `i` of the population at 160 bits: the SHA-1 of `"key-<i>"`.
pub fn key(i: u32) -> NodeId {
    key_of(i, IdWidth::Bits160)
}

/// Key `i` of the population in a space of `width`: the SHA-1 (160 bits) or
/// SHA-256 (256 bits) of `"key-<i>"` ([`NodeId::hash_of_width`]).
pub fn key_of(i: u32, width: IdWidth) -> NodeId {
    NodeId::hash_of_width(format!("key-{i}").as_bytes(), width)
}

impl Workload {
    /// A workload drawing from `rng`.
    pub fn new(cfg: &WorkloadCfg, rng: ChaCha8Rng) -> Workload {
        Workload {
            cfg: cfg.clone(),
            rng,
            put_order: Vec::new(),
            was_put: vec![false; cfg.keys as usize],
            pending: Vec::new(),
            puts: 0,
            width: IdWidth::Bits160,
        }
    }

    /// This workload with keys and lookup targets of `width` (160 bits unless set).
    pub fn with_width(mut self, width: IdWidth) -> Workload {
        self.width = width;
        self
    }

    /// Operations of `kind` per node per second.
    pub fn rate(&self, kind: WorkKind) -> f64 {
        match kind {
            WorkKind::Lookup => self.cfg.lookup_rate.0,
            WorkKind::Put => self.cfg.put_rate.0,
            WorkKind::Get => self.cfg.get_rate.0,
        }
    }

    /// Microseconds until the next operation of `kind` among `nodes` nodes:
    /// exponential with rate `rate · nodes` per second. `None` if the rate is zero.
    pub fn next_gap_us(&mut self, kind: WorkKind, nodes: usize) -> Option<u64> {
        let rate = self.rate(kind) * nodes.max(1) as f64;
        if rate <= 0.0 {
            return None;
        }
        let e: f64 = Exp1.sample(&mut self.rng);
        Some(((e / rate) * 1e6).round().max(1.0) as u64)
    }

    /// A uniformly random index below `n` (`n` > 0).
    pub fn pick(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    /// A rank in `0..n` by the key distribution.
    fn rank(&mut self, n: usize) -> usize {
        match self.cfg.key_distribution {
            KeyDistribution::Uniform => self.pick(n),
            KeyDistribution::Zipf => {
                let s = self.cfg.zipf_exponent.0;
                match Zipf::new(n as f64, s) {
                    Ok(z) => (z.sample(&mut self.rng) as usize).clamp(1, n) - 1,
                    Err(_) => self.pick(n),
                }
            }
        }
    }

    /// A put of `k` succeeded: from now on gets may ask for it. Until then a get
    /// would race the STOREs and count a failure that says nothing about the
    /// protocol.
    pub fn stored(&mut self, k: &NodeId) {
        let pos = self.pending.partition_point(|(p, _)| p < k);
        if let Some(&(p, i)) = self.pending.get(pos)
            && p == *k
        {
            self.pending.remove(pos);
            self.was_put[i as usize] = true;
            self.put_order.push(i);
        }
    }

    /// The command for the next operation of `kind`, or `None` for a get while
    /// no key has been put yet.
    pub fn command(&mut self, kind: WorkKind) -> Option<Command<SimAddr>> {
        match kind {
            WorkKind::Lookup => Some(Command::FindNode(NodeId::random_width(&mut self.rng, self.width))),
            WorkKind::Put => {
                let n = self.cfg.keys as usize;
                if n == 0 {
                    return None;
                }
                let i = self.rank(n) as u32;
                let k = key_of(i, self.width);
                if !self.was_put[i as usize]
                    && let Err(pos) = self.pending.binary_search(&(k, i))
                {
                    self.pending.insert(pos, (k, i));
                }
                self.puts += 1;
                let mut bytes = vec![0u8; self.cfg.value_size as usize];
                for (j, b) in bytes.iter_mut().enumerate() {
                    *b = (self.puts as usize + j) as u8;
                }
                let value: Value = Arc::from(bytes);
                Some(Command::Put(k, value))
            }
            WorkKind::Get => {
                if self.put_order.is_empty() {
                    return None;
                }
                let r = self.rank(self.put_order.len());
                Some(Command::Get(key_of(self.put_order[r], self.width)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::units::NonNegative;
    use rand_core::SeedableRng;

    fn wl(dist: KeyDistribution) -> Workload {
        let cfg = WorkloadCfg { keys: 100, key_distribution: dist, ..WorkloadCfg::default() };
        Workload::new(&cfg, ChaCha8Rng::seed_from_u64(3))
    }

    #[test]
    fn poisson_gaps_have_the_rate_s_mean() {
        let mut w = wl(KeyDistribution::Uniform);
        // 0.01 lookups per node per second over 1000 nodes: 10 per second, mean gap 0.1 s.
        let n = 100_000;
        let total: u64 = (0..n).map(|_| w.next_gap_us(WorkKind::Lookup, 1000).unwrap()).sum();
        let mean_s = total as f64 / n as f64 / 1e6;
        assert!((mean_s - 0.1).abs() < 0.002, "{mean_s}");
        let mut z = wl(KeyDistribution::Uniform);
        z.cfg.get_rate = NonNegative(0.0);
        assert_eq!(z.next_gap_us(WorkKind::Get, 10), None);
    }

    #[test]
    fn zipf_favours_low_ranks_and_gets_only_put_keys() {
        let mut w = wl(KeyDistribution::Zipf);
        assert!(w.command(WorkKind::Get).is_none(), "nothing put yet");
        let mut first = 0;
        let n = 20_000;
        for _ in 0..n {
            if let Some(Command::Put(k, _)) = w.command(WorkKind::Put) {
                first += usize::from(k == key(0));
                if w.put_order.is_empty() {
                    assert!(w.command(WorkKind::Get).is_none(), "a put under way is not gettable");
                }
                w.stored(&k);
            }
        }
        // Zipf s = 1 over 100 keys: P(rank 1) = 1 / H_100 = 1 / 5.1874 = 0.1928.
        let p = first as f64 / n as f64;
        assert!((p - 0.1928).abs() < 0.01, "{p}");
        for _ in 0..100 {
            match w.command(WorkKind::Get) {
                Some(Command::Get(k)) => assert!(w.put_order.iter().any(|i| key(*i) == k)),
                other => panic!("{other:?}"),
            }
        }
    }
}
