//! Placing nodes on a matrix's hosts, and their access delays: drawn once,
//! when the run's latency model is built, from the run's `latency-hosts`
//! stream (`sim::seeds`), placement first, then access delays in node order.
//!
//! With no more nodes than hosts, every node gets a host of its own: the
//! first `nodes` entries of a seeded Fisher–Yates shuffle of the hosts
//! (without replacement). With more, each node draws a host uniformly (with
//! replacement), so hosts are shared.

use crate::sim::churn::DurationDist;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

/// The host of each of `nodes` nodes among `hosts` hosts (at least 1, at
/// most [`super::MAX_HOSTS`]).
pub fn hosts_of_nodes(hosts: usize, nodes: usize, rng: &mut ChaCha8Rng) -> Vec<u16> {
    let top = hosts.clamp(1, super::MAX_HOSTS) as u32;
    if nodes <= hosts {
        let mut order: Vec<u16> = (0..top).map(|h| h as u16).collect();
        for i in 0..nodes {
            let j = Uniform::new(i as u32, top).map_or(i as u32, |u| u.sample(rng));
            order.swap(i, j as usize);
        }
        order.truncate(nodes);
        order
    } else {
        let pick = Uniform::new(0, top).ok();
        (0..nodes).map(|_| pick.map_or(0, |u| u.sample(rng)) as u16).collect()
    }
}

/// The access delay of each of `nodes` nodes in microseconds, drawn from
/// `dist` and held to `u32::MAX` (71 minutes).
pub fn access_delays(dist: &DurationDist, nodes: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    (0..nodes).map(|_| dist.sample(rng).min(u64::from(u32::MAX)) as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn no_more_nodes_than_hosts_places_each_on_its_own_host() {
        for (hosts, nodes) in [(300, 300), (300, 299), (300, 1), (2, 2), (1740, 1000)] {
            let mut rng = ChaCha8Rng::seed_from_u64(hosts as u64 + nodes as u64);
            let placed = hosts_of_nodes(hosts, nodes, &mut rng);
            assert_eq!(placed.len(), nodes);
            let mut seen = vec![false; hosts];
            for &h in &placed {
                assert!(usize::from(h) < hosts);
                assert!(!seen[usize::from(h)], "host {h} twice ({nodes} nodes on {hosts} hosts)");
                seen[usize::from(h)] = true;
            }
        }
    }

    #[test]
    fn without_replacement_every_host_is_equally_likely() {
        // 5 nodes on 10 hosts, 20,000 times: each host is taken with
        // probability 1/2, so about 10,000 times (σ ≈ 71).
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut taken = [0u32; 10];
        for _ in 0..20_000 {
            for h in hosts_of_nodes(10, 5, &mut rng) {
                taken[usize::from(h)] += 1;
            }
        }
        assert!(taken.iter().all(|&t| (9_700..=10_300).contains(&t)), "{taken:?}");
    }

    #[test]
    fn more_nodes_than_hosts_share_hosts_uniformly() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let placed = hosts_of_nodes(4, 40_000, &mut rng);
        let mut per = [0u32; 4];
        placed.iter().for_each(|&h| per[usize::from(h)] += 1);
        assert!(per.iter().all(|&c| (9_700..=10_300).contains(&c)), "{per:?}");
    }

    #[test]
    fn placement_is_a_function_of_the_stream() {
        let draw = |seed| hosts_of_nodes(500, 200, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
