//! The scenario's node classes in the engine (`[[classes]]`,
//! `scenario::classes`, `docs/classes.md`): which class each node index
//! belongs to, each class's session and downtime distributions, and each
//! node's access delay.
//!
//! Each class gets exactly its count of the nodes ([`crate::scenario::classes::counts`]).
//! Node 0, from which a join-mode network grows, goes to the serving class
//! of largest share; the other nodes are dealt to the classes in their
//! order after a Fisher–Yates shuffle of nodes 1 to n − 1 drawn from the
//! `classes` stream of the master seed, and access delays come from the
//! `class-access` stream in node order (DESIGN.md §3: no other stream moves).
//! A class belongs to the node index, so a node keeps it across sessions.

use super::churn::DurationDist;
use super::seeds;
use crate::scenario::{Scenario, classes as spec};
use rand_core::RngCore;

/// The classes of a run's nodes.
#[derive(Clone, Debug)]
pub struct Classes {
    /// Each node's class, an index into the scenario's `[[classes]]`.
    pub of: Vec<u8>,
    /// Each class's name.
    pub names: Vec<String>,
    /// Each class's session and downtime lengths (the scenario's
    /// `churn.session` and `churn.downtime` where the class sets none).
    pub churn: Vec<(DurationDist, DurationDist)>,
}

impl Classes {
    /// The classes of `sc`'s nodes, or `None` when it has no `[[classes]]`.
    pub fn new(sc: &Scenario) -> Option<Classes> {
        if sc.classes.is_empty() {
            return None;
        }
        let n = sc.nodes as usize;
        let mut counts = spec::counts(&sc.classes, n);
        let mut of = vec![0u8; n];
        if n > 0 {
            let first = spec::first_server(&sc.classes).unwrap_or(0);
            of[0] = first as u8;
            counts[first] -= 1;
        }
        let mut pool: Vec<u32> = (1..n as u32).collect();
        let mut rng = seeds::stream(sc.seed, "classes");
        for j in 0..pool.len().saturating_sub(1) {
            let r = j + (rng.next_u64() % (pool.len() - j) as u64) as usize;
            pool.swap(j, r);
        }
        let mut next = pool.into_iter();
        for (c, &count) in counts.iter().enumerate() {
            for node in next.by_ref().take(count) {
                of[node as usize] = c as u8;
            }
        }
        let dist = |d: Option<&crate::scenario::Distribution>, default: fn() -> DurationDist| {
            d.map_or_else(default, DurationDist::new)
        };
        let session = || dist(sc.churn.session.as_ref(), DurationDist::default_session);
        let downtime = || dist(sc.churn.downtime.as_ref(), DurationDist::default_downtime);
        let churn = sc
            .classes
            .iter()
            .map(|c| {
                (
                    c.session.as_ref().map_or_else(session, DurationDist::new),
                    c.downtime.as_ref().map_or_else(downtime, DurationDist::new),
                )
            })
            .collect();
        Some(Classes { of, names: sc.classes.iter().map(|c| c.name.clone()).collect(), churn })
    }

    /// The class of `node`.
    #[inline]
    pub fn of(&self, node: u32) -> usize {
        usize::from(self.of[node as usize])
    }

    /// Each node's reachability class (`super::reach`), from its class's flags.
    pub fn reach(&self, sc: &Scenario) -> Vec<super::reach::Class> {
        use super::reach::Class;
        let by_class: Vec<Class> = sc
            .classes
            .iter()
            .map(|c| match (c.unreachable, c.client) {
                (true, _) => Class::Unreachable,
                (_, true) => Class::Client,
                _ => Class::Server,
            })
            .collect();
        self.of.iter().map(|&c| by_class[usize::from(c)]).collect()
    }

    /// Each node's access delay in microseconds (held to `u32::MAX`), 0 for
    /// a class without one, and the mean over the nodes; `None` when no
    /// class has an access delay.
    pub fn access_delays(&self, sc: &Scenario) -> Option<(Vec<u32>, f64)> {
        let dists: Vec<Option<DurationDist>> =
            sc.classes.iter().map(|c| c.access.as_ref().map(DurationDist::new)).collect();
        if dists.iter().all(Option::is_none) {
            return None;
        }
        let mut rng = seeds::stream(sc.seed, "class-access");
        let delays: Vec<u32> = self
            .of
            .iter()
            .map(|&c| dists[usize::from(c)].as_ref().map_or(0, |d| d.sample(&mut rng).min(u64::from(u32::MAX)) as u32))
            .collect();
        let mean = delays.iter().map(|&d| f64::from(d)).sum::<f64>() / delays.len().max(1) as f64;
        Some((delays, mean))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::units::Probability;

    fn scenario(n: u32, seed: u64) -> Scenario {
        let text = format!(
            "nodes = {n}\nseed = {seed}\n[[classes]]\nname = \"nat\"\nshare = 0.7\nunreachable = true\n\
             [[classes]]\nname = \"server\"\n[[classes]]\nname = \"ro\"\nshare = 0.1\nclient = true\n"
        );
        crate::scenario::load_str(&text, "t.toml", &[]).unwrap()
    }

    #[test]
    fn each_class_gets_its_exact_share_and_node_0_serves() {
        let sc = scenario(1001, 3);
        let c = Classes::new(&sc).unwrap();
        let count = |k: usize| c.of.iter().filter(|&&x| usize::from(x) == k).count();
        assert_eq!((count(0), count(1), count(2)), (701, 200, 100));
        assert_eq!(c.of(0), 1, "node 0 in the serving class");
        let reach = c.reach(&sc);
        use crate::sim::reach::Class;
        assert_eq!(reach.iter().filter(|&&r| r == Class::Unreachable).count(), 701);
        assert_eq!(reach.iter().filter(|&&r| r == Class::Client).count(), 100);
        assert_eq!(reach[0], Class::Server);
    }

    #[test]
    fn the_draw_depends_on_the_seed_alone_and_moves_no_other_stream() {
        let a = Classes::new(&scenario(500, 9)).unwrap().of;
        assert_eq!(a, Classes::new(&scenario(500, 9)).unwrap().of);
        assert_ne!(a, Classes::new(&scenario(500, 10)).unwrap().of);
        let mut sc = scenario(500, 9);
        sc.network.loss.rate = Some(Probability(0.1));
        assert_eq!(a, Classes::new(&sc).unwrap().of);
    }

    #[test]
    fn access_delays_follow_each_class_and_none_without_them() {
        let sc = scenario(100, 1);
        let c = Classes::new(&sc).unwrap();
        assert!(c.access_delays(&sc).is_none());
        let text = "nodes = 2000\n[[classes]]\nname = \"home\"\nshare = 0.5\naccess = { dist = \"exponential\", mean = \"20ms\" }\n\
                    [[classes]]\nname = \"dc\"\n";
        let sc = crate::scenario::load_str(text, "t.toml", &[]).unwrap();
        let c = Classes::new(&sc).unwrap();
        let (d, mean) = c.access_delays(&sc).unwrap();
        let home: Vec<f64> = (0..2000).filter(|&i| c.of(i) == 0).map(|i| f64::from(d[i as usize])).collect();
        assert!((0..2000).filter(|&i| c.of(i) == 1).all(|i| d[i as usize] == 0));
        let home_mean = home.iter().sum::<f64>() / home.len() as f64;
        // 1000 exponential draws of mean 20 ms: standard error 0.63 ms.
        assert!((home_mean - 20_000.0).abs() < 2_000.0, "{home_mean}");
        assert!((mean - home_mean / 2.0).abs() < 1.0);
    }

    #[test]
    fn an_access_delay_is_added_at_both_ends_of_every_datagram() {
        use crate::sim::latency::LatencyModel;
        use rand_core::SeedableRng;
        let sc =
            crate::scenario::load_str("[network.latency]\nmodel = \"constant\"\nvalue = \"50ms\"\n", "t", &[]).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let m = LatencyModel::new(&sc.network.latency, 3, &mut rng).with_access(Some((vec![1_000, 2_000, 0], 1_000.0)));
        assert_eq!(m.sample(0, 1, &mut rng), 53_000);
        assert_eq!(m.sample(2, 1, &mut rng), 52_000);
        assert_eq!(m.mean_micros(), 52_000.0);
        assert_eq!(m.node_bytes(), 4.0);
    }
}
