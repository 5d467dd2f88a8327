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
