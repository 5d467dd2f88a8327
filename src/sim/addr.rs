//! The simulator's address: a node index, whose routing-table slot takes 10
//! bytes (DESIGN.md §6).
//!
//! A simulated node's 160-bit ID is a random 48-bit prefix, 16 zero bits, and
//! 96 bits that a fixed mixing function computes from the prefix
//! ([`id_from_top`]). A 256-bit ID (`protocol.id_bits = 256`) is the same
//! prefix, 15 zero bits and a one ([`WIDE`], which tells the two apart), and
//! 192 mixed bits: the width is read off the top 64 bits, so that a slot and
//! the oracle rebuild IDs of either width without being told it. Prefixes never repeat within a run (the world redraws on
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
//! bits 27 to 30 are a group tag: 0 for a node on a /24 of its own (every honest
//! node, and the adversary's unless `adversary.subnets` is set), which has no
//! group and is never limited, as one node at one IP of its own /24 can never
//! exceed a limit of at least one; t = 1..15 for the adversary's simulated
//! /24 number t, in which each node has an IP of its own. The low 27 bits are
//! the node index; bit 31 stays clear for the slot's [`WIDE`] flag, so the
//! slot stays 10 bytes.

use crate::kad::{AddrGroup, Address, Contact, NodeId};

/// A node index and its group tag: where a simulated datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimAddr(pub u32);

/// Bits of a simulated address that hold the node index: at most 2^27
/// (134 million) nodes.
pub const NODE_BITS: u32 = 27;

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

/// Bits of a simulated ID drawn at random; the next 16 are zero, but for [`WIDE`].
pub const PREFIX_BITS: u32 = 48;

/// Bit 63 of a simulated ID (the last of its top word): set in 256-bit IDs,
/// clear in 160-bit ones. Every ID of a network has the same width, so the
/// bit never orders two of them.
pub const WIDE: u64 = 1;

/// Node indices stay below this (a slot keeps the width in the top bit of
/// the address, and bits 27 to 30 hold the group tag).
pub const MAX_NODES: u32 = 1 << NODE_BITS;

/// A simulated contact as routing tables keep it: the ID's 48-bit prefix and
/// the node index (its top bit the ID's [`WIDE`] bit), in 16-bit pieces so
/// that the slot aligns to 2 bytes and takes 10.
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

/// The simulated ID whose top 64 bits are `top` (a 48-bit prefix, then zeros,
/// and the [`WIDE`] bit for a 256-bit ID).
#[inline]
pub fn id_from_top(top: u64) -> NodeId {
    debug_assert_eq!(top & 0xfffe, 0, "a simulated ID's bits 48 to 62 are zero");
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&top.to_be_bytes());
    b[8..16].copy_from_slice(&mix(top ^ 0x9e37_79b9_7f4a_7c15).to_be_bytes());
    if top & WIDE == 0 {
        b[16..20].copy_from_slice(&(mix(top.rotate_left(32)) as u32).to_be_bytes());
    } else {
        b[16..24].copy_from_slice(&mix(top.rotate_left(32)).to_be_bytes());
        b[24..32].copy_from_slice(&mix(top.rotate_left(16) ^ 0x6a09_e667_f3bc_c908).to_be_bytes());
    }
    NodeId(b)
}

/// The top word of a simulated ID of `width` with the 48-bit `prefix` (in
/// the top 48 bits of a word; lower bits are ignored).
#[inline]
pub fn top_of(prefix: u64, width: crate::kad::IdWidth) -> u64 {
    let p = prefix >> (64 - PREFIX_BITS) << (64 - PREFIX_BITS);
    if width == crate::kad::IdWidth::Bits256 { p | WIDE } else { p }
}

impl Address for SimAddr {
    type Slot = SimSlot;

    /// Every simulated ID is [`id_from_top`] of its top word.
    const ID_FROM_TOP: bool = true;

    #[inline]
    fn pack(c: Contact<SimAddr>) -> SimSlot {
        let top = c.id.top();
        debug_assert_eq!(c.id, id_from_top(top), "simulated IDs are rebuilt from their prefix");
        debug_assert!(c.addr.0 < 1 << 31, "a node index and its tag fit 31 bits");
        let n = c.addr.0 | (((top & WIDE) as u32) << 31);
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
        u64::from(s.prefix[0]) << 48
            | u64::from(s.prefix[1]) << 32
            | u64::from(s.prefix[2]) << 16
            | u64::from(s.node[0] >> 15)
    }

    #[inline]
    fn addr(s: &SimSlot) -> SimAddr {
        SimAddr(u32::from(s.node[0] & 0x7fff) << 16 | u32::from(s.node[1]))
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
        let max = MAX_NODES - 1;
        for (top, node) in [
            (0u64, 0u32),
            (1 << 16, 7),
            (u64::MAX << 16, max),
            (0x0123_4567_89ab_0000, 65_536),
            (WIDE, 0),
            (1 << 16 | WIDE, 7),
            (u64::MAX << 16 | WIDE, max),
        ] {
            let c = Contact { id: id_from_top(top), addr: SimAddr(node) };
            let s = SimAddr::pack(c);
            assert_eq!(SimAddr::unpack(&s), c);
            assert_eq!(SimAddr::top(&s), top);
        }
    }

    #[test]
    fn ids_of_either_width_rebuild_from_their_top() {
        use crate::kad::IdWidth;
        let narrow = id_from_top(top_of(0xabcd_ef01_2345_6789, IdWidth::Bits160));
        let wide = id_from_top(top_of(0xabcd_ef01_2345_6789, IdWidth::Bits256));
        assert!(narrow.fits(IdWidth::Bits160));
        assert!(!wide.fits(IdWidth::Bits160));
        assert_eq!(narrow.0[..6], wide.0[..6], "the same prefix");
        assert_eq!(narrow.top() ^ wide.top(), WIDE);
        // The 160-bit form is the one simulated IDs always had.
        assert_eq!(narrow.to_hex(), "abcdef01234500004696427b01d142a998fcb4c3");
    }

    #[test]
    fn untagged_addresses_have_no_admission_group_tagged_ones_share_a_subnet() {
        // So routing tables never count honest nodes against limits, at no cost.
        assert_eq!(SimAddr(7).group(), None);
        assert_eq!(SimAddr::new(7, 0).group(), None);
        let (a, b, c) = (SimAddr::new(7, 3).group().unwrap(), SimAddr::new(8, 3).group().unwrap(), SimAddr::new(9, 15));
        assert_eq!(a.subnet, b.subnet, "one simulated /24");
        assert_ne!(a.ip, b.ip, "an IP each");
        assert_ne!(a.subnet, c.group().unwrap().subnet);
        assert_eq!((c.node(), c.tag()), (9, 15));
        for top in [1 << 16, 1 << 16 | WIDE] {
            let s = SimAddr::pack(Contact { id: id_from_top(top), addr: c });
            assert_eq!(SimAddr::addr(&s), c, "the tag survives the 10-byte slot");
            assert_eq!(SimAddr::top(&s), top, "and leaves the width alone");
        }
    }

    #[test]
    fn low_bits_look_random() {
        // Consecutive tops give unrelated low bits: about half of them set.
        let ones: u32 =
            (0..1000u64).map(|t| id_from_top(t << 16).0[8..].iter().map(|b| b.count_ones()).sum::<u32>()).sum();
        let share = f64::from(ones) / (1000.0 * 96.0);
        assert!((share - 0.5).abs() < 0.01, "{share}");
    }

    proptest::proptest! {
        /// A simulated table answers `closest` in 10-byte slots: the same
        /// contacts, in the same order, as a brute-force sort of the full IDs
        /// by XOR distance, with the excluded ID left out.
        #[test]
        fn closest_slots_match_a_brute_force_search(
            prefixes in proptest::collection::btree_set(0u64..1 << 20, 1..300),
            own in 0u64..1 << 20,
            target in 0u64..1 << 20,
            wide: bool,
            n in 1usize..40,
        ) {
            use crate::kad::{IdWidth, NodeId, RoutingTable, Time};
            let width = if wide { IdWidth::Bits256 } else { IdWidth::Bits160 };
            // Small prefixes in the top bits, so that IDs share long prefixes too.
            let id = |p: u64| id_from_top(top_of(p << 44 | p >> 4, width));
            let own = id(own.wrapping_add(1 << 20));
            let mut t: RoutingTable<SimAddr> = RoutingTable::new(own, 20, 1, 4, 5, Time::ZERO).with_eviction_ping(false);
            for (i, p) in prefixes.iter().enumerate() {
                t.seen(id(*p), SimAddr(i as u32));
            }
            let target: NodeId = id(target);
            let exclude = t.contacts().nth(3).map(|c| c.id);
            let mut got = Vec::new();
            t.closest(&target, n, exclude.as_ref(), &mut got);
            let got: Vec<Contact<SimAddr>> = got.iter().map(SimAddr::unpack).collect();
            let mut all: Vec<Contact<SimAddr>> = t.contacts().filter(|c| Some(c.id) != exclude).collect();
            all.sort_by_key(|c| c.id.distance(&target));
            all.truncate(n);
            proptest::prop_assert_eq!(got, all);
        }
    }
}
