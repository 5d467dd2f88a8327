//! How a driver names nodes, and how a routing table stores a contact.
//!
//! The core is generic over the driver's address type (DESIGN.md §2): a socket
//! address on a real network, a node index in the simulator. Each address type
//! also chooses the *slot* in which routing tables keep a contact. A real node
//! keeps the whole contact (full 160-bit ID and address); the simulator keeps a
//! 12-byte slot (the ID's top 64 bits and a 32-bit node index) and rebuilds the
//! full ID from those bits, which it can do because it draws its IDs so
//! (`crate::sim::addr`). The protocol is written once, against [`Address`].

use super::id::{Distance, NodeId};
use super::message::Contact;
use std::fmt::Debug;
use std::hash::Hash;

/// What a driver's address type must offer.
pub trait Address: Copy + Eq + Ord + Hash + Debug + Send + Sync + 'static {
    /// A contact at an address of this type as routing tables store it.
    type Slot: Copy + Debug + Send + Sync + 'static;
    /// Packs a contact into a slot.
    fn pack(c: Contact<Self>) -> Self::Slot;
    /// The contact a slot holds.
    fn unpack(s: &Self::Slot) -> Contact<Self>;
    /// The top 64 bits of the slot's ID: enough to order contacts by distance
    /// unless two IDs share them (then [`unpack`](Self::unpack) decides).
    fn top(s: &Self::Slot) -> u64;
    /// The slot's address.
    fn addr(s: &Self::Slot) -> Self;
}

/// Implements [`Address`] for types whose slot is the whole contact.
#[macro_export]
macro_rules! full_contact_address {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::kad::Address for $t {
            type Slot = $crate::kad::Contact<$t>;
            #[inline]
            fn pack(c: $crate::kad::Contact<$t>) -> Self::Slot {
                c
            }
            #[inline]
            fn unpack(s: &Self::Slot) -> $crate::kad::Contact<$t> {
                *s
            }
            #[inline]
            fn top(s: &Self::Slot) -> u64 {
                s.id.top()
            }
            #[inline]
            fn addr(s: &Self::Slot) -> Self {
                s.addr
            }
        }
    )*};
}

full_contact_address!(u16, u32, u64, usize);

/// The XOR order of two IDs relative to a target given in word form: the top
/// 64 bits first, the full IDs only when those tie.
#[inline]
pub fn cmp_to(target: &Distance, a: &NodeId, b: &NodeId) -> std::cmp::Ordering {
    let t = target.top();
    let (ta, tb) = (a.top() ^ t, b.top() ^ t);
    ta.cmp(&tb).then_with(|| target.to(a).cmp(&target.to(b)))
}

/// Sorts `items` nearest first to the target given in word form, by the IDs
/// `id` reads. Slices of up to 32 sort on one 64-bit key each: the top 59 bits
/// of the distance above the position, so a sort moves 8-byte integers; a
/// slice whose keys tie there (two IDs sharing their top 59 bits of distance),
/// or a longer slice, takes the comparison sort. A sorted slice costs one pass.
pub fn sort_by_xor<T: Copy>(items: &mut [T], target: &Distance, id: impl Fn(&T) -> &NodeId) {
    const SHORT: usize = 32;
    let n = items.len();
    if n <= 1 {
        return;
    }
    if n > SHORT {
        items.sort_unstable_by(|a, b| cmp_to(target, id(a), id(b)));
        return;
    }
    let t = target.top();
    let mut keys = [0u64; SHORT];
    let mut sorted = true;
    for (i, x) in items.iter().enumerate() {
        keys[i] = ((id(x).top() ^ t) & !31) | i as u64;
        sorted &= i == 0 || keys[i - 1] >> 5 < keys[i] >> 5;
    }
    if sorted {
        return;
    }
    let keys = &mut keys[..n];
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] >> 5 == w[1] >> 5) {
        items.sort_unstable_by(|a, b| cmp_to(target, id(a), id(b)));
        return;
    }
    // Apply the permutation in place, cycle by cycle: position p takes the
    // item that was at the position keys[p] names.
    let mut done = 0u32;
    for start in 0..n {
        if done >> start & 1 == 1 {
            continue;
        }
        let first = items[start];
        let mut p = start;
        loop {
            done |= 1 << p;
            let from = (keys[p] & 31) as usize;
            if from == start {
                items[p] = first;
                break;
            }
            items[p] = items[from];
            p = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Matches a plain comparison sort by XOR distance, ties in the top 64 bits included.
        #[test]
        fn sort_by_xor_matches_comparison_sort(
            ids in proptest::collection::vec((0u8..4, any::<[u8; 20]>()), 0..45),
            target in any::<[u8; 20]>(),
        ) {
            // Few distinct first bytes and zeroed middles make ties of the key bits likely.
            let ids: Vec<NodeId> = ids.into_iter().map(|(tie, mut b)| {
                if tie == 0 { b[1..8].fill(0); b[0] &= 3; }
                if tie == 1 { b[1..7].fill(0); b[0] &= 1; }
                NodeId(b)
            }).collect();
            let mut uniq = ids.clone();
            uniq.sort();
            uniq.dedup();
            let tw = Distance::of(&NodeId(target));
            let mut got = uniq.clone();
            sort_by_xor(&mut got, &tw, |x| x);
            let mut want = uniq;
            want.sort_by(|a, b| cmp_to(&tw, a, b));
            prop_assert_eq!(got, want);
        }
    }
}
