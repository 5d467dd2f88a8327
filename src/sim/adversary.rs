//! The adversary's nodes: which node indices they take, their IDs (random,
//! an eclipse around a key, or Sybils in the buckets of victims), their
//! address groups and their protocol (`scenario::adversary` documents the
//! section). Everything is drawn from the `adversary` stream of the master
//! seed, after the honest IDs, so that the honest nodes keep the IDs they
//! have without an adversary.

use super::addr::{SimAddr, WIDE, id_from_top};
use super::seeds;
use super::shard::AdversaryCtx;
use crate::kad::{Config, Contact, IdWidth};
use crate::scenario::Scenario;
use crate::scenario::adversary::{IdPlacement, Victims};
use rand_core::RngCore;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The adversary of a run.
pub struct Setup {
    /// The engine's view (malicious flags, tags, protocol, colluders).
    pub ctx: AdversaryCtx,
    /// The malicious node indices, ascending.
    pub nodes: Vec<u32>,
    /// The Sybil attack's victims (empty for other placements).
    pub victims: Vec<u32>,
}

/// The 48-bit prefix (as the top 64 bits, low 16 zero) of a simulated ID.
const PREFIX_MASK: u64 = !0xffff;

/// Chooses the adversary's nodes and rewrites their entries of `tops` (the
/// top 64 bits of every node's ID) by the placement, keeping `used` (every
/// top drawn) free of repeats. `None` without an adversary.
pub fn setup(sc: &Scenario, cfg: &Config, tops: &mut [u64], used: &mut BTreeSet<u64>) -> Option<Setup> {
    let a = &sc.adversary;
    if !a.enabled() {
        return None;
    }
    let n = tops.len();
    let m = a.size(sc.nodes) as usize;
    let mut rng = seeds::stream(sc.seed, "adversary");
    let listed: Vec<u32> = match &a.victims {
        Some(Victims::List(l)) => l.clone(),
        _ => Vec::new(),
    };
    // A partial Fisher–Yates shuffle over the nodes that are not listed victims.
    let mut pool: Vec<u32> = (0..n as u32).filter(|i| !listed.contains(i)).collect();
    let pick = |pool: &mut Vec<u32>, count: usize, rng: &mut rand_chacha::ChaCha8Rng| {
        for j in 0..count.min(pool.len()) {
            let r = j + (rng.next_u64() % (pool.len() - j) as u64) as usize;
            pool.swap(j, r);
        }
        let mut chosen = pool[..count.min(pool.len())].to_vec();
        pool.drain(..count.min(pool.len()));
        chosen.sort_unstable();
        chosen
    };
    let nodes = pick(&mut pool, m, &mut rng);
    let victims = match (&a.ids, &a.victims) {
        (IdPlacement::Sybil, Some(Victims::List(l))) => l.clone(),
        (IdPlacement::Sybil, Some(Victims::Count(v))) => pick(&mut pool, *v as usize, &mut rng),
        (IdPlacement::Sybil, None) => pick(&mut pool, 1, &mut rng),
        _ => Vec::new(),
    };
    let fresh = |want: u64, used: &mut BTreeSet<u64>| used.insert(want);
    // A 256-bit network's simulated IDs carry the width bit (`super::addr::WIDE`).
    let wide = if cfg.id_width == IdWidth::Bits256 { WIDE } else { 0 };
    match a.ids {
        IdPlacement::Random => {}
        IdPlacement::Eclipse => {
            // The i-th takes the i-th closest free prefix to the target's.
            let t = a.target_key().top() & PREFIX_MASK;
            let mut c = 0u64;
            for &i in &nodes {
                let top = loop {
                    let top = (t ^ (c << 16)) | wide;
                    c += 1;
                    if fresh(top, used) {
                        break top;
                    }
                };
                tops[i as usize] = top;
            }
        }
        IdPlacement::Sybil => {
            // Depths of the victims' tables: about log2(n/k) full buckets, then a few more.
            let levels = ((f64::from(sc.nodes) / cfg.k as f64).log2().ceil().max(0.0) as u32 + 2).min(47);
            for (j, &i) in nodes.iter().enumerate() {
                let v = victims[j % victims.len()];
                let level = (j / victims.len()) as u32 % levels;
                let vt = tops[v as usize];
                let keep = if level == 0 { 0 } else { u64::MAX << (64 - level) };
                let flip = 1u64 << (63 - level);
                let top = loop {
                    let low = rng.next_u64() & (flip - 1) & PREFIX_MASK;
                    let top = (vt & keep) | (!vt & flip) | low | wide;
                    if fresh(top, used) {
                        break top;
                    }
                };
                tops[i as usize] = top;
            }
        }
    }
    let mut malicious = vec![false; n];
    let mut tags = vec![0u8; n];
    let mut colluders = Vec::with_capacity(nodes.len());
    for (j, &i) in nodes.iter().enumerate() {
        malicious[i as usize] = true;
        let tag = if a.subnets > 0 { 1 + (j % usize::from(a.subnets)) as u8 } else { 0 };
        tags[i as usize] = tag;
        colluders.push(Contact { id: id_from_top(tops[i as usize]), addr: SimAddr::new(i, tag) });
    }
    let cfg = Config { behaviour: a.behaviour(), ..cfg.clone() };
    Some(Setup {
        ctx: AdversaryCtx { malicious, tags, cfg: Arc::new(cfg), colluders: colluders.into() },
        nodes,
        victims,
    })
}
