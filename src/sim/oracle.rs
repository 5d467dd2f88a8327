//! The global view of who is alive, for metrics only: the true k closest alive
//! nodes to a target (DESIGN.md §4, §6). No node ever reads it.
//!
//! Alive nodes are kept in an ordered map from the top 64 bits of their IDs
//! (which identify simulated IDs, see `super::addr`) to their indices, so a
//! node comes or goes in O(log n). The k closest to a target by XOR lie in the
//! smallest subtree around the target that holds at least k of them: the
//! search widens the subtree one level at a time, reading only the sibling
//! ranges it adds, and sorts only that subtree by distance.

use super::addr::id_from_top;
use crate::kad::NodeId;
use std::collections::BTreeMap;

/// Alive nodes by the top 64 bits of their IDs.
#[derive(Clone, Debug, Default)]
pub struct Oracle {
    ids: BTreeMap<u64, u32>,
}

impl Oracle {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }

    /// A view of the given `(ID, node)` pairs, built in bulk.
    pub fn from_pairs(mut pairs: Vec<(u64, u32)>) -> Self {
        pairs.sort_unstable();
        Oracle { ids: pairs.into_iter().collect() }
    }

    /// Alive nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nobody is alive.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Marks `node` with `id` alive.
    pub fn insert(&mut self, id: NodeId, node: u32) {
        self.ids.insert(id.top(), node);
    }

    /// Marks `node` with `id` gone.
    pub fn remove(&mut self, id: NodeId, node: u32) {
        if self.ids.get(&id.top()) == Some(&node) {
            self.ids.remove(&id.top());
        }
    }

    /// The `n` alive nodes closest to `target`, nearest first, leaving out
    /// `exclude` (the origin of a lookup).
    pub fn closest(&self, target: &NodeId, n: usize, exclude: Option<u32>, out: &mut Vec<(NodeId, u32)>) {
        out.clear();
        let want = n + usize::from(exclude.is_some());
        if n == 0 || self.ids.is_empty() {
            return;
        }
        let t = target.top();
        // Widen the subtree around the target from depth 64 up until it holds `want`.
        let mut depth = 64usize;
        let mut count = self.ids.contains_key(&t) as usize;
        while depth > 0 && count < want {
            depth -= 1;
            let sibling = (t ^ (1u64 << (63 - depth))) & mask(depth + 1);
            count += self.ids.range(sibling..=sibling | !mask(depth + 1)).count();
        }
        let lo = t & mask(depth);
        let hi = lo | !mask(depth);
        out.extend(
            self.ids.range(lo..=hi).filter(|(_, i)| Some(**i) != exclude).map(|(top, i)| (id_from_top(*top), *i)),
        );
        out.sort_unstable_by_key(|(id, _)| id.top() ^ t);
        out.truncate(n);
    }
}

/// A word with the first `depth` bits set.
fn mask(depth: usize) -> u64 {
    if depth == 0 { 0 } else { u64::MAX << (64 - depth.min(64)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Matches a brute-force sort of every alive ID.
        #[test]
        fn closest_matches_brute_force(tops in proptest::collection::btree_set(any::<u64>(), 0..300), target in any::<[u8; 20]>(), n in 0usize..40, removed in 0usize..50, near in any::<bool>()) {
            let mut o = Oracle::new();
            let tops: std::collections::BTreeSet<u64> = tops.into_iter().map(|t| t & !0xffff).collect();
            let ids: Vec<NodeId> = tops.into_iter().map(id_from_top).collect();
            for (i, id) in ids.iter().enumerate() {
                o.insert(*id, i as u32);
            }
            for (i, id) in ids.iter().enumerate().take(removed) {
                o.remove(*id, i as u32);
            }
            // Sometimes aim at an alive ID itself.
            let target = match (near, ids.get(removed)) {
                (true, Some(id)) => *id,
                _ => NodeId::from_bytes(target),
            };
            let exclude = (ids.len() > removed).then_some(removed as u32);
            let mut want: Vec<(NodeId, u32)> = ids.iter().enumerate().skip(removed).map(|(i, id)| (*id, i as u32)).filter(|(_, i)| Some(*i) != exclude).collect();
            want.sort_by_key(|(id, _)| id.distance(&target));
            want.truncate(n);
            let mut got = Vec::new();
            o.closest(&target, n, exclude, &mut got);
            prop_assert_eq!(got, want);
        }
    }
}
