//! Bucket refresh: the time of each bucket's last lookup, the buckets due
//! for a refresh and the random IDs that refresh them, and the refreshes
//! that end a join (Maymounkov & Mazières 2002, §2.3: "buckets are generally
//! kept fresh by the traffic of requests", refreshed after an hour without a
//! lookup, and a joining node "refreshes all k-buckets further away than its
//! closest neighbor").

use super::{RoutingTable, Time, secs_of};
use crate::kad::address::Address;
use crate::kad::id::NodeId;
use rand_core::RngCore;

impl<A: Address> RoutingTable<A> {
    /// Notes that a node lookup targeted `target`, which keeps its bucket fresh (paper §2.3).
    pub fn touch(&mut self, target: &NodeId, now: Time) {
        let bi = self.bucket_of(target);
        self.metas[bi].last_lookup_s = secs_of(now);
    }

    /// The earliest time at which some bucket becomes due for a refresh.
    pub fn next_refresh(&self, interval: std::time::Duration) -> Time {
        self.metas.iter().map(|m| m.last_lookup().plus(interval)).min().unwrap_or(Time::NEVER)
    }

    /// For every bucket without a lookup for `interval`, a random ID in its range
    /// to look up; the bucket counts as touched now (paper §2.3, bucket refresh).
    pub fn due_refreshes<R: RngCore>(&mut self, now: Time, interval: std::time::Duration, rng: &mut R) -> Vec<NodeId> {
        let mut out = Vec::new();
        for m in &mut self.metas {
            if m.last_lookup().plus(interval) <= now {
                m.last_lookup_s = secs_of(now);
                out.push(NodeId::random_in_prefix(&m.lo, usize::from(m.depth), self.width, rng));
            }
        }
        out
    }

    /// Random IDs to look up at the end of a join: one in each subtree farther
    /// from the own ID than `neighbour`, the closest neighbour (paper §2.3: "u
    /// refreshes all k-buckets further away than its closest neighbor"). The
    /// subtree at level i holds the IDs sharing exactly i leading bits with the own
    /// ID, the classic bucket i of a flat table; in the tree several levels may
    /// still lie inside the unsplit own bucket, and they are refreshed too. Each
    /// target's bucket counts as touched now.
    pub fn join_refreshes<R: RngCore>(&mut self, neighbour: &NodeId, now: Time, rng: &mut R) -> Vec<NodeId> {
        let near = neighbour.common_prefix_len(&self.own).min(self.width.bits() - 1);
        let mut out = Vec::with_capacity(near);
        for level in 0..near {
            let prefix = self.own.with_bit(level, !self.own.bit(level));
            let target = NodeId::random_in_prefix(&prefix, level + 1, self.width, rng);
            self.touch(&target, now);
            out.push(target);
        }
        out
    }
}
