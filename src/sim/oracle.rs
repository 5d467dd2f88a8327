//! The global view of who is alive, for metrics only: the true k closest alive
//! nodes to a target (DESIGN.md §4, §6). No node ever reads it.
//!
//! Alive IDs are kept sorted. The k closest to a target by XOR lie in the
//! smallest subtree around the target that holds at least k of them, found by
//! binary searches over prefix ranges; only that subtree is sorted by distance.

use crate::kad::{ID_BITS, NodeId};

/// Sorted alive IDs with their node indices.
#[derive(Clone, Debug, Default)]
pub struct Oracle {
    ids: Vec<(NodeId, u32)>,
}

impl Oracle {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
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
        let i = self.ids.partition_point(|e| *e < (id, node));
        self.ids.insert(i, (id, node));
    }

    /// Marks `node` with `id` gone.
    pub fn remove(&mut self, id: NodeId, node: u32) {
        if let Ok(i) = self.ids.binary_search(&(id, node)) {
            self.ids.remove(i);
        }
    }

    /// The alive IDs in order.
    pub fn entries(&self) -> &[(NodeId, u32)] {
        &self.ids
    }

    /// Index range of the sorted `ids` sharing the first `depth` bits of `target`.
    pub fn range_of(ids: &[(NodeId, u32)], target: &NodeId, depth: usize) -> (usize, usize) {
        let lo = target.truncated(depth);
        let start = ids.partition_point(|(id, _)| *id < lo);
        let end = start + ids[start..].partition_point(|(id, _)| id.has_prefix(&lo, depth));
        (start, end)
    }

    fn subtree(&self, target: &NodeId, depth: usize) -> (usize, usize) {
        Self::range_of(&self.ids, target, depth)
    }

    /// The `n` alive nodes closest to `target`, nearest first, leaving out
    /// `exclude` (the origin of a lookup).
    pub fn closest(&self, target: &NodeId, n: usize, exclude: Option<u32>, out: &mut Vec<(NodeId, u32)>) {
        out.clear();
        let want = n + usize::from(exclude.is_some());
        if want == 0 || self.ids.is_empty() {
            return;
        }
        // Deepest subtree around the target holding at least `want` IDs.
        let (mut lo, mut hi) = (0usize, ID_BITS);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let (s, e) = self.subtree(target, mid);
            if e - s >= want {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let (s, e) = self.subtree(target, lo);
        out.extend(self.ids[s..e].iter().filter(|(_, i)| Some(*i) != exclude));
        out.sort_unstable_by_key(|(id, _)| id.distance(target));
        out.truncate(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Matches a brute-force sort of every alive ID.
        #[test]
        fn closest_matches_brute_force(ids in proptest::collection::btree_set(any::<[u8; 20]>(), 0..300), target in any::<[u8; 20]>(), n in 0usize..40, removed in 0usize..50) {
            let mut o = Oracle::new();
            let ids: Vec<NodeId> = ids.into_iter().map(NodeId).collect();
            for (i, id) in ids.iter().enumerate() {
                o.insert(*id, i as u32);
            }
            for (i, id) in ids.iter().enumerate().take(removed) {
                o.remove(*id, i as u32);
            }
            let target = NodeId(target);
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
