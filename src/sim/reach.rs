//! Which nodes are reachable (`docs/reachability.md`): each node index is a
//! server (reachable, the paper's node), unreachable (behind a NAT or
//! firewall, `network.unreachable`: it sends requests, and its NAT,
//! [`super::nat`], drops every datagram not from an address it has sent to
//! lately) or a client (BEP 43's read-only node, libp2p's client mode,
//! `network.clients`: it answers no request and flags its own read-only).
//!
//! The classes are drawn from the `reachability` stream of the master seed
//! alone (DESIGN.md §3), so no other stream moves, and nothing is drawn
//! when both shares are 0. Exactly `round(share × (n − 1))` nodes of each
//! class are chosen among nodes 1 to n − 1 by a partial Fisher–Yates
//! shuffle: node 0, from which a join-mode network grows, is always a
//! server, as the well-known bootstrap nodes of deployed DHTs are. A class
//! belongs to the node index, so a node keeps it across its sessions.

use super::seeds;
use crate::scenario::Scenario;
use rand_core::RngCore;

/// How a node takes part in the DHT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Reachable and serving: the paper's node.
    #[default]
    Server,
    /// Behind a NAT: sends requests, gets only the datagrams its pinholes let in.
    Unreachable,
    /// Client-only (BEP 43 read-only): looks up, answers nothing.
    Client,
}

impl Class {
    /// The name written in `nodes.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Server => "server",
            Class::Unreachable => "unreachable",
            Class::Client => "client",
        }
    }
}

/// The class of every node index, or `None` when the scenario has neither
/// unreachable nor client nodes (then every node is a server and nothing
/// is drawn).
pub fn classes(sc: &Scenario) -> Option<Vec<Class>> {
    let (u, c) = (sc.network.unreachable.0, sc.network.clients.0);
    if u == 0.0 && c == 0.0 {
        return None;
    }
    let n = sc.nodes as usize;
    let mut out = vec![Class::Server; n];
    let pool_len = n.saturating_sub(1);
    let count = |share: f64| ((share * pool_len as f64).round() as usize).min(pool_len);
    let (nu, nc) = (count(u), count(c));
    let nc = nc.min(pool_len - nu);
    let mut pool: Vec<u32> = (1..n as u32).collect();
    let mut rng = seeds::stream(sc.seed, "reachability");
    for j in 0..(nu + nc) {
        let r = j + (rng.next_u64() % (pool.len() - j) as u64) as usize;
        pool.swap(j, r);
    }
    for (j, &i) in pool[..nu + nc].iter().enumerate() {
        out[i as usize] = if j < nu { Class::Unreachable } else { Class::Client };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::units::Probability;

    fn scenario(n: u32, u: f64, c: f64, seed: u64) -> Scenario {
        let mut sc = Scenario { nodes: n, seed, ..Scenario::default() };
        sc.network.unreachable = Probability(u);
        sc.network.clients = Probability(c);
        sc
    }

    #[test]
    fn exact_shares_node_0_a_server_and_nothing_drawn_without_them() {
        assert_eq!(classes(&scenario(100, 0.0, 0.0, 1)), None);
        let c = classes(&scenario(101, 0.3, 0.2, 1)).unwrap();
        assert_eq!(c[0], Class::Server);
        assert_eq!(c.iter().filter(|&&x| x == Class::Unreachable).count(), 30);
        assert_eq!(c.iter().filter(|&&x| x == Class::Client).count(), 20);
        let all = classes(&scenario(11, 0.5, 0.5, 3)).unwrap();
        assert_eq!(all.iter().filter(|&&x| x == Class::Server).count(), 1, "node 0 only");
    }

    #[test]
    fn classes_depend_on_the_seed_alone_and_grow_with_the_share() {
        let a = classes(&scenario(1000, 0.3, 0.0, 7)).unwrap();
        assert_eq!(a, classes(&scenario(1000, 0.3, 0.0, 7)).unwrap());
        assert_ne!(a, classes(&scenario(1000, 0.3, 0.0, 8)).unwrap());
        // The same draw picks the unreachable nodes first, so the clients
        // added later do not reshuffle them.
        let b = classes(&scenario(1000, 0.3, 0.1, 7)).unwrap();
        assert!((0..1000).all(|i| (a[i] == Class::Unreachable) == (b[i] == Class::Unreachable)));
    }
}
