//! Closest-contact selection: the k contacts of the table nearest a target by
//! XOR distance that a FIND_NODE or FIND_VALUE reply carries and a lookup
//! starts from (Maymounkov & Mazières 2002, §2.3, walking the tree of §2.4),
//! discv5's contacts at given log-distances, and the mask of bits at which
//! the own ID is closer to a key than every contact (used when storing).

use super::{Meta, RoutingTable};
use crate::kad::address::{Address, cmp_slots, sort_slots_by_xor};
use crate::kad::id::{Distance, NodeId};

impl<A: Address> RoutingTable<A> {
    /// The bits at which the own ID first differs from each live contact
    /// other than `exclude` (bit i set: some contact shares exactly i leading
    /// bits with the own ID). The own ID is closer to a key than every such
    /// contact exactly when the key agrees with it at every set bit; stale
    /// contacts do not count, as in [`closest`](Self::closest).
    pub fn closer_bits(&self, exclude: &NodeId) -> NodeId {
        let mut mask = NodeId::default();
        for m in &self.metas {
            for i in m.start as usize..m.end() {
                let c = A::unpack(&self.slots[i]);
                if c.id == *exclude || self.is_stale(&c.id) {
                    continue;
                }
                let cpl = c.id.common_prefix_len(&self.own);
                mask.0[cpl / 8] |= 0x80 >> (cpl % 8);
            }
        }
        mask
    }

    /// Appends to `out` up to `n` contacts at the log-distances `distances`
    /// from the own ID, distance by distance in the order given, each
    /// distance's contacts in their bucket's order (least recently seen
    /// first), leaving out `exclude` and stale contacts: the answer to a
    /// discv5 FINDNODE ([`FindNodeStyle::Distances`](crate::kad::FindNodeStyle)).
    /// The log-distance of a contact is the ID width minus its common prefix
    /// with the own ID (1 for the nearest half-bit, the width for the far half
    /// of the space). Replacement caches are not read. Under the
    /// answered-only rule the answer is filtered as
    /// [`closest_for_reply`](Self::closest_for_reply)'s: only contacts that
    /// have answered this node, none whose last request failed. Nothing is
    /// allocated beyond `out`.
    pub fn at_distances(&self, distances: &[u16], n: usize, exclude: Option<&NodeId>, out: &mut Vec<A::Slot>) {
        let width = self.width.bits();
        let stale_check = !self.failing.is_empty();
        let limit = if self.answered_only { 1 } else { self.stale_limit };
        let base = out.len();
        for &d in distances {
            let d = usize::from(d);
            if d == 0 || d > width {
                continue;
            }
            // The IDs at log-distance d share exactly `shared` leading bits
            // with the own ID: its prefix of that length, then the other bit.
            let shared = width - d;
            let probe = self.own.with_bit(shared, !self.own.bit(shared));
            for m in &self.metas {
                // A bucket holds such IDs when its range and theirs overlap:
                // the shorter of the two prefixes agrees.
                if !m.lo.has_prefix(&probe, usize::from(m.depth).min(shared + 1)) {
                    continue;
                }
                let start = m.start as usize;
                for (j, s) in self.slots[start..m.end()].iter().enumerate() {
                    if out.len() - base >= n {
                        return;
                    }
                    if self.answered_only && !self.has_answered(start + j) {
                        continue;
                    }
                    let id = A::unpack(s).id;
                    if id.common_prefix_len(&self.own) != shared
                        || Some(&id) == exclude
                        || (stale_check && self.failures(&id) >= limit)
                    {
                        continue;
                    }
                    out.push(*s);
                }
            }
        }
    }

    /// Appends to `out` up to `n` contacts closest to `target` by XOR, nearest
    /// first, leaving out `exclude` and stale contacts (paper §2.3: FIND_NODE
    /// "returns the k nodes it knows about closest to the target").
    ///
    /// The walk starts at the target's bucket and widens one level of the tree
    /// at a time: the subtree sharing exactly j leading bits with the target is
    /// a run of buckets next to the ones read so far, and every contact in it
    /// is closer to the target than any contact sharing fewer bits. So each
    /// level's contacts are sorted on their own and appended, and the walk
    /// stops as soon as n are found; only the last level read may need a
    /// partial selection. Nothing is allocated beyond `out`.
    pub fn closest(&self, target: &NodeId, n: usize, exclude: Option<&NodeId>, out: &mut Vec<A::Slot>) {
        self.closest_filtered(target, n, exclude, false, out);
    }

    /// [`closest`](Self::closest), leaving out the contacts that never
    /// answered this node if `answered` ([`closest_for_reply`](Self::closest_for_reply)).
    pub(super) fn closest_filtered(
        &self,
        target: &NodeId,
        n: usize,
        exclude: Option<&NodeId>,
        answered: bool,
        out: &mut Vec<A::Slot>,
    ) {
        if n == 0 {
            return;
        }
        let base = out.len();
        let tw = Distance::of(target);
        let stale_check = !self.failing.is_empty();
        // Stale contacts are left out; under the answered-only rule, every
        // contact whose last request went unanswered (`answered`).
        let limit = if self.answered_only { 1 } else { self.stale_limit };
        let ex_top = exclude.map(NodeId::top);
        let gather = |out: &mut Vec<A::Slot>, m: &Meta| {
            let start = m.start as usize;
            for (j, s) in self.slots[start..m.end()].iter().enumerate() {
                if answered && !self.has_answered(start + j) {
                    continue;
                }
                if (ex_top == Some(A::top(s)) || stale_check) && {
                    let id = A::unpack(s).id;
                    Some(&id) == exclude || (stale_check && self.failures(&id) >= limit)
                } {
                    continue;
                }
                out.push(*s);
            }
        };
        // Sorts the level appended from `from` on; keeps only what fits in n.
        let settle = |out: &mut Vec<A::Slot>, from: usize| -> bool {
            let room = n - (from - base);
            if settle_by_keys::<A>(out, from, room, tw.top()) {
                return out.len() - base >= n;
            }
            let level = &mut out[from..];
            if level.len() > room {
                level.select_nth_unstable_by(room - 1, |a, b| cmp_slots::<A>(&tw, a, b));
                out.truncate(from + room);
            }
            sort_slots_by_xor::<A>(&mut out[from..], &tw);
            out.len() - base >= n
        };
        let ti = self.bucket_of(target);
        gather(out, &self.metas[ti]);
        if settle(out, base) {
            return;
        }
        // Buckets [lo, hi) are read: the subtree of the target at `depth`.
        let (mut lo, mut hi) = (ti, ti + 1);
        let shares = |m: &Meta| -> usize {
            let d = m.lo.top() ^ tw.top();
            if d != 0 { d.leading_zeros() as usize } else { m.lo.common_prefix_len(target) }
        };
        for j in (0..usize::from(self.metas[ti].depth)).rev() {
            let from = out.len();
            // The sibling subtree at level j: buckets whose lowest ID shares
            // exactly j bits with the target, on the side where bit j differs.
            if target.bit(j) {
                while lo > 0 && shares(&self.metas[lo - 1]) >= j {
                    lo -= 1;
                    gather(out, &self.metas[lo]);
                }
            } else {
                while hi < self.metas.len() && shares(&self.metas[hi]) >= j {
                    gather(out, &self.metas[hi]);
                    hi += 1;
                }
            }
            if out.len() > from && settle(out, from) {
                return;
            }
        }
    }
}

/// The fast path of [`RoutingTable::closest`]'s level sort: keeps the `room`
/// nearest of the slots appended from `from` on, nearest first, sorting one
/// 8-byte key per slot (its top 58 bits of distance above its position)
/// instead of comparing slots. Taken when IDs are a function of their top
/// word ([`Address::ID_FROM_TOP`], the simulator), the level holds at most
/// 64 slots and no two keys tie in their distance bits; returns false,
/// leaving `out` as it was, otherwise.
#[inline]
fn settle_by_keys<A: Address>(out: &mut Vec<A::Slot>, from: usize, room: usize, t: u64) -> bool {
    const MAX: usize = 64;
    let level = &mut out[from..];
    let len = level.len();
    if !A::ID_FROM_TOP || len > MAX || len == 0 {
        return false;
    }
    let mut keys = [0u64; MAX];
    for (i, s) in level.iter().enumerate() {
        keys[i] = ((A::top(s) ^ t) & !(MAX as u64 - 1)) | i as u64;
    }
    let keys = &keys[..len];
    let take = room.min(len);
    // Each key's rank is the number of smaller keys: a count without a
    // branch per comparison, which for a bucket or two of slots costs less
    // than any comparison sort. The keys are distinct (their low bits are
    // positions), so the ranks are a permutation.
    let mut sorted = [level[0]; MAX];
    let mut ranked = [0u64; MAX];
    for (i, &k) in keys.iter().enumerate() {
        let rank = keys.iter().map(|&o| usize::from(o < k)).sum::<usize>();
        if rank <= take && rank < len {
            ranked[rank] = k;
            if rank < take {
                sorted[rank] = level[i];
            }
        }
    }
    // A tie in the distance bits (within the kept ones, or with the first
    // one left out) needs the full comparison.
    let tie = |a: u64, b: u64| a >> 6 == b >> 6;
    if ranked[..take.min(len - 1) + 1].windows(2).any(|w| tie(w[0], w[1])) {
        return false;
    }
    level[..take].copy_from_slice(&sorted[..take]);
    out.truncate(from + take);
    true
}
