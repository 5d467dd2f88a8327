//! The simulator's address: a node index, whose routing-table slot takes 12
//! bytes (DESIGN.md §6).
//!
//! A simulated node's 160-bit ID is its top 64 bits followed by 96 bits that a
//! fixed mixing function computes from them ([`id_from_top`]). The top bits
//! are drawn at random and never repeat within a run (the world redraws on a
//! collision), so two simulated IDs differ within their top 64 bits: those
//! bits order contacts by XOR distance exactly as the full IDs do, and the
//! full ID can be rebuilt from them. A routing table therefore stores a
//! contact as the top 64 bits and the node index: 12 bytes, against 24 for
//! the whole contact, and no world-wide table of IDs is read to rebuild it.
//! For anything a Kademlia network of fewer than 2^64 nodes can observe, such
//! IDs behave as uniformly random 160-bit IDs.

use crate::kad::{Address, Contact, NodeId};

/// A node index: where a simulated datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimAddr(pub u32);

/// A simulated contact as routing tables keep it: the ID's top 64 bits as two
/// 32-bit halves (so the slot aligns to 4 bytes and takes 12) and the node index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimSlot {
    top: [u32; 2],
    node: u32,
}

/// SplitMix64's finaliser: a bijective mixing of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The simulated ID whose top 64 bits are `top`.
#[inline]
pub fn id_from_top(top: u64) -> NodeId {
    let mut b = [0u8; 20];
    b[0..8].copy_from_slice(&top.to_be_bytes());
    b[8..16].copy_from_slice(&mix(top ^ 0x9e37_79b9_7f4a_7c15).to_be_bytes());
    b[16..20].copy_from_slice(&(mix(top.rotate_left(32)) as u32).to_be_bytes());
    NodeId(b)
}

impl Address for SimAddr {
    type Slot = SimSlot;

    #[inline]
    fn pack(c: Contact<SimAddr>) -> SimSlot {
        let top = c.id.top();
        debug_assert_eq!(c.id, id_from_top(top), "simulated IDs are rebuilt from their top 64 bits");
        SimSlot { top: [(top >> 32) as u32, top as u32], node: c.addr.0 }
    }

    #[inline]
    fn unpack(s: &SimSlot) -> Contact<SimAddr> {
        Contact { id: id_from_top(Self::top(s)), addr: SimAddr(s.node) }
    }

    #[inline]
    fn top(s: &SimSlot) -> u64 {
        u64::from(s.top[0]) << 32 | u64::from(s.top[1])
    }

    #[inline]
    fn addr(s: &SimSlot) -> SimAddr {
        SimAddr(s.node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_takes_12_bytes_and_round_trips() {
        assert_eq!(std::mem::size_of::<SimSlot>(), 12);
        for top in [0u64, 1, u64::MAX, 0x0123_4567_89ab_cdef] {
            let c = Contact { id: id_from_top(top), addr: SimAddr(7) };
            let s = SimAddr::pack(c);
            assert_eq!(SimAddr::unpack(&s), c);
            assert_eq!(SimAddr::top(&s), top);
        }
    }

    #[test]
    fn low_bits_look_random() {
        // Consecutive tops give unrelated low bits: about half of them set.
        let ones: u32 = (0..1000u64).map(|t| id_from_top(t).0[8..].iter().map(|b| b.count_ones()).sum::<u32>()).sum();
        let share = f64::from(ones) / (1000.0 * 96.0);
        assert!((share - 0.5).abs() < 0.01, "{share}");
    }
}
