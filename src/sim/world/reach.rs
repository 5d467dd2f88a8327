//! The serial phase's view of reachability (`super::super::reach`,
//! `docs/reachability.md`): which live nodes a newcomer may join through
//! (reachable servers only, as deployed DHTs bootstrap through well-known
//! reachable nodes), and which nodes the oracle counts as the true closest
//! (servers only: a client answers no lookup, and no lookup can get an
//! answer from an unreachable node unless it happens to hold a pinhole
//! open). Without unreachable or client nodes, nothing here changes the run.

use super::{Coordinator, LiveSet};
use crate::sim::reach::Class;

/// The classes of the nodes and the live servers among them.
pub(super) struct Reach {
    /// Each node's class (the adversary's nodes as servers).
    pub(super) classes: Vec<Class>,
    /// Live, joined servers: the bootstrap candidates.
    pub(super) servers: LiveSet,
}

impl Reach {
    /// The view of `classes` over `n` nodes.
    pub(super) fn new(classes: Vec<Class>) -> Reach {
        let n = classes.len();
        Reach { classes, servers: LiveSet::new(n) }
    }
}

impl Coordinator {
    /// `node` has joined and is up: a workload origin, and a bootstrap node
    /// if it is a server.
    pub(super) fn now_live(&mut self, node: u32) {
        self.live.insert(node);
        if let Some(r) = &mut self.reach
            && r.classes[node as usize] == Class::Server
        {
            r.servers.insert(node);
        }
    }

    /// `node` went down.
    pub(super) fn not_live(&mut self, node: u32) {
        self.live.remove(node);
        if let Some(r) = &mut self.reach {
            r.servers.remove(node);
        }
    }

    /// The live nodes a newcomer may join through, in their set's order.
    pub(super) fn bootstrap_pool(&self) -> &[u32] {
        match &self.reach {
            Some(r) => &r.servers.items,
            None => &self.live.items,
        }
    }

    /// Whether the oracle counts `node` among the nodes a lookup should
    /// find: every node, unless it is unreachable or a client.
    pub(super) fn in_truth(&self, node: u32) -> bool {
        self.reach.as_ref().is_none_or(|r| r.classes[node as usize] == Class::Server)
    }

    /// Whether the oracle bootstrap puts `node` in the tables it builds: not
    /// a client when nodes honour BEP 43's flag, and not an unreachable node
    /// under the answered-only rule (which only lets in nodes that answered).
    pub(super) fn in_oracle_tables(&self, node: u32) -> bool {
        let p = &self.sc.protocol;
        match self.reach.as_ref().map(|r| r.classes[node as usize]) {
            Some(Class::Client) => !p.honour_read_only,
            Some(Class::Unreachable) => !p.answered_only,
            _ => true,
        }
    }
}
