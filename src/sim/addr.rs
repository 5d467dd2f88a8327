//! The simulator's address: a node index, whose routing-table slot takes 10
//! bytes (DESIGN.md §6).
//!
//! A simulated node's 160-bit ID is a random 48-bit prefix, 16 zero bits, and
//! 96 bits that a fixed mixing function computes from the prefix
//! ([`id_from_top`]). Prefixes never repeat within a run (the world redraws on
//! a collision), so two simulated IDs differ within their first 48 bits:
//! those bits order contacts by XOR distance exactly as the full IDs do, for
//! any target, and the full ID can be rebuilt from them. A routing table
//! therefore stores a contact as its prefix and node index: 10 bytes, against
//! 24 for the whole contact, and no world-wide table of IDs is read to rebuild
//! it. A key (a SHA-1) shares 48 bits with some node of a million-node
//! network with probability 4·10⁻⁹, so for everything a simulated network of
//! up to millions of nodes can observe, these IDs behave as uniformly random
//! 160-bit IDs: the routing tree never reaches below depth 48.
//!
//! A simulated address may carry an admission group ([`Address::group`]), so
//! that the routing tables' per-subnet limits, the real node's defence against
//! one network filling a bucket, run on simulated sybils by the same code. Its
//! top 4 bits are a group tag: 0 for a node on a /24 of its own (every honest
//! node, and the adversary's unless `adversary.subnets` is set), which has no
//! group and is never limited, as one node at one IP of its own /24 can never
//! exceed a limit of at least one; t = 1..15 for the adversary's simulated
//! /24 number t, in which each node has an IP of its own. The low 28 bits are
//! the node index, so the slot stays 10 bytes.

use crate::kad::{AddrGroup, Address, Contact, NodeId};

/// A node index and its group tag: where a simulated datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimAddr(pub u32);

/// Bits of a simulated address that hold the node index: at most 2^28 nodes.
pub const NODE_BITS: u32 = 28;

impl SimAddr {
    /// Node `node` in simulated /24 number `tag` (0: a /24 of its own).
    #[inline]
    pub fn new(node: u32, tag: u8) -> SimAddr {
        debug_assert!(node < 1 << NODE_BITS && tag < 16);
        SimAddr(node | u32::from(tag) << NODE_BITS)
    }

    /// The node index.
    #[inline]
    pub fn node(self) -> u32 {
        self.0 & ((1 << NODE_BITS) - 1)
    }

    /// The group tag (0: none).
    #[inline]
    pub fn tag(self) -> u8 {
        (self.0 >> NODE_BITS) as u8
    }
}

/// Bits of a simulated ID drawn at random; the next 16 are zero.
pub const PREFIX_BITS: u32 = 48;

/// A simulated contact as routing tables keep it: the ID's 48-bit prefix and
/// the node index, in 16-bit pieces so that the slot aligns to 2 bytes and
/// takes 10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimSlot {
    prefix: [u16; 3],
    node: [u16; 2],
}

/// SplitMix64's finaliser: a bijective mixing of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The simulated ID whose top 64 bits are `top` (a 48-bit prefix, then zeros).
#[inline]
pub fn id_from_top(top: u64) -> NodeId {
    debug_assert_eq!(top & 0xffff, 0, "a simulated ID's bits 48 to 63 are zero");
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
        debug_assert_eq!(c.id, id_from_top(top), "simulated IDs are rebuilt from their prefix");
        let n = c.addr.0;
        SimSlot {
            prefix: [(top >> 48) as u16, (top >> 32) as u16, (top >> 16) as u16],
            node: [(n >> 16) as u16, n as u16],
        }
    }

    #[inline]
    fn unpack(s: &SimSlot) -> Contact<SimAddr> {
        Contact { id: id_from_top(Self::top(s)), addr: Self::addr(s) }
    }

    #[inline]
    fn top(s: &SimSlot) -> u64 {
        u64::from(s.prefix[0]) << 48 | u64::from(s.prefix[1]) << 32 | u64::from(s.prefix[2]) << 16
    }

    #[inline]
    fn addr(s: &SimSlot) -> SimAddr {
        SimAddr(u32::from(s.node[0]) << 16 | u32::from(s.node[1]))
    }

    /// A tagged address is in simulated /24 number `tag` at an IP of its own
    /// (the node index); an untagged one has no group. The keys are abstract
    /// (they name no real address) and never meet a socket address's.
    #[inline]
    fn group(&self) -> Option<AddrGroup> {
        let tag = self.tag();
        (tag != 0).then(|| AddrGroup { ip: 1 << 64 | u128::from(self.node()), subnet: 2 << 64 | u128::from(tag) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_takes_10_bytes_and_round_trips() {
        assert_eq!(std::mem::size_of::<SimSlot>(), 10);
        for (top, node) in [(0u64, 0u32), (1 << 16, 7), (u64::MAX << 16, u32::MAX), (0x0123_4567_89ab_0000, 65_536)] {
            let c = Contact { id: id_from_top(top), addr: SimAddr(node) };
            let s = SimAddr::pack(c);
            assert_eq!(SimAddr::unpack(&s), c);
            assert_eq!(SimAddr::top(&s), top);
        }
    }

    #[test]
    fn untagged_addresses_have_no_admission_group_tagged_ones_share_a_subnet() {
        // So routing tables never count honest nodes against limits, at no cost.
        assert_eq!(SimAddr(7).group(), None);
        assert_eq!(SimAddr::new(7, 0).group(), None);
        let (a, b, c) = (SimAddr::new(7, 3).group().unwrap(), SimAddr::new(8, 3).group().unwrap(), SimAddr::new(9, 4));
        assert_eq!(a.subnet, b.subnet, "one simulated /24");
        assert_ne!(a.ip, b.ip, "an IP each");
        assert_ne!(a.subnet, c.group().unwrap().subnet);
        assert_eq!((c.node(), c.tag()), (9, 4));
        let s = SimAddr::pack(Contact { id: id_from_top(1 << 16), addr: c });
        assert_eq!(SimAddr::addr(&s), c, "the tag survives the 10-byte slot");
    }

    #[test]
    fn low_bits_look_random() {
        // Consecutive tops give unrelated low bits: about half of them set.
        let ones: u32 =
            (0..1000u64).map(|t| id_from_top(t << 16).0[8..].iter().map(|b| b.count_ones()).sum::<u32>()).sum();
        let share = f64::from(ones) / (1000.0 * 96.0);
        assert!((share - 0.5).abs() < 0.01, "{share}");
    }
}
