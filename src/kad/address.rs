//! How a driver names nodes, what a contact is (an ID and an address, paper
//! §2.2), and how a routing table stores one.
//!
//! The core is generic over the driver's address type (DESIGN.md §2): a socket
//! address on a real network, a node index in the simulator. Each address type
//! also chooses the *slot* in which routing tables keep a contact. A real node
//! keeps the whole contact (full 160-bit ID and address); the simulator keeps a
//! 12-byte slot (the ID's top 64 bits and a 32-bit node index) and rebuilds the
//! full ID from those bits, which it can do because it draws its IDs so
//! (`crate::sim::addr`). The protocol is written once, against [`Address`].
//!
//! An address type may also name an *admission group* ([`AddrGroup`]): the IP
//! address and its subnet, by which a routing table limits how many contacts
//! one host or one network may hold in a bucket (as libtorrent's
//! `dht_restrict_routing_ips`). Simulated addresses have none, and pay nothing.

use super::id::{Distance, NodeId};
use std::fmt::Debug;
use std::hash::Hash;

/// A node as other nodes know it: its ID and how to reach it. `A` is the
/// driver's address type (a node index in the simulator, a socket address on a
/// real network).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Contact<A> {
    /// The node's ID.
    pub id: NodeId,
    /// Where to send to it.
    pub addr: A,
}

/// What a driver's address type must offer.
pub trait Address: Copy + Eq + Ord + Hash + Debug + Send + Sync + 'static {
    /// A contact at an address of this type as routing tables store it.
    type Slot: Copy + Debug + PartialEq + Send + Sync + 'static;
    /// Packs a contact into a slot.
    fn pack(c: Contact<Self>) -> Self::Slot;
    /// The contact a slot holds.
    fn unpack(s: &Self::Slot) -> Contact<Self>;
    /// The top 64 bits of the slot's ID: enough to order contacts by distance
    /// unless two IDs share them (then [`unpack`](Self::unpack) decides).
    fn top(s: &Self::Slot) -> u64;
    /// The slot's address.
    fn addr(s: &Self::Slot) -> Self;
    /// Whether every ID met at this address type is a function of its top 64
    /// bits, so that two IDs with the same top bits are the same ID: then
    /// orderings and searches settle on [`top`](Self::top) and never rebuild
    /// an ID to break a tie. True of the simulator, which derives each ID from
    /// its top word; false (the default) on a real network.
    const ID_FROM_TOP: bool = false;
    /// The admission group of this address, if it has one: the routing table
    /// admits at most a configured few contacts per group key and bucket
    /// ([`Config::max_per_ip_per_bucket`](super::Config::max_per_ip_per_bucket)).
    /// `None` (the default) exempts the address from the limits at no cost.
    #[inline]
    fn group(&self) -> Option<AddrGroup> {
        None
    }
}

/// The keys by which a routing table limits admissions (not a part of the
/// paper, whose §2.2 trusts any sender; the defence against one host filling
/// a bucket with made-up IDs is libtorrent's `dht_restrict_routing_ips`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddrGroup {
    /// The exact host: an IPv6 address, or an IPv4 address mapped into IPv6.
    pub ip: u128,
    /// The host's network: the IPv4 /24 or the IPv6 /64 (mapped likewise).
    pub subnet: u128,
}

impl AddrGroup {
    /// The group of an IP address, or `None` for an address of the own
    /// machine or network: loopback (nodes on one machine: tests, local
    /// networks on 127.0.0.1 or ::1), private (10/8, 172.16/12, 192.168/16,
    /// IPv6 fc00::/7), link-local and unspecified addresses are never limited,
    /// as the real node's STORE quota exempts them. An off-path attacker's
    /// nodes are on public addresses.
    pub fn of_ip(ip: core::net::IpAddr) -> Option<AddrGroup> {
        match ip {
            core::net::IpAddr::V4(v4) => {
                if v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() {
                    return None;
                }
                let ip = u128::from(v4.to_ipv6_mapped());
                Some(AddrGroup { ip, subnet: ip & !0xff })
            }
            core::net::IpAddr::V6(v6) => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return AddrGroup::of_ip(core::net::IpAddr::V4(v4));
                }
                if v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local() || v6.is_unspecified() {
                    return None;
                }
                let ip = u128::from(v6);
                Some(AddrGroup { ip, subnet: ip & !u128::from(u64::MAX) })
            }
        }
    }
}

/// Which admission group an address type of [`full_contact_address!`](crate::full_contact_address) has:
/// integers (test addresses) none, socket addresses their IP's.
pub trait HasGroup {
    /// See [`Address::group`].
    fn admission_group(&self) -> Option<AddrGroup>;
}

macro_rules! no_group {
    ($($t:ty),*) => {$(
        impl HasGroup for $t {
            #[inline]
            fn admission_group(&self) -> Option<AddrGroup> {
                None
            }
        }
    )*};
}
no_group!(u16, u32, u64, usize);

impl HasGroup for core::net::SocketAddr {
    #[inline]
    fn admission_group(&self) -> Option<AddrGroup> {
        AddrGroup::of_ip(self.ip())
    }
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
            #[inline]
            fn group(&self) -> Option<$crate::kad::address::AddrGroup> {
                $crate::kad::address::HasGroup::admission_group(self)
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
    sort_by_top(items, target.top(), |x| id(x).top(), |a, b| cmp_to(target, id(a), id(b)));
}

/// Sorts routing-table slots nearest first to the target given in word form,
/// as [`sort_by_xor`] sorts contacts, without rebuilding an ID unless two
/// slots tie on their top 64 bits and the address type's IDs are not a
/// function of those ([`Address::ID_FROM_TOP`]).
pub fn sort_slots_by_xor<A: Address>(items: &mut [A::Slot], target: &Distance) {
    sort_by_top(items, target.top(), A::top, |a, b| cmp_slots::<A>(target, a, b));
}

/// The XOR order of two slots relative to a target given in word form.
#[inline]
pub fn cmp_slots<A: Address>(target: &Distance, a: &A::Slot, b: &A::Slot) -> std::cmp::Ordering {
    let t = target.top();
    match (A::top(a) ^ t).cmp(&(A::top(b) ^ t)) {
        std::cmp::Ordering::Equal if !A::ID_FROM_TOP => cmp_to(target, &A::unpack(a).id, &A::unpack(b).id),
        o => o,
    }
}

/// The sort of [`sort_by_xor`]: `top` reads an item's top 64 ID bits, `cmp`
/// is the full order, used for long slices and ties.
fn sort_by_top<T: Copy>(items: &mut [T], t: u64, top: impl Fn(&T) -> u64, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    const SHORT: usize = 32;
    let n = items.len();
    if n <= 1 {
        return;
    }
    if n > SHORT {
        items.sort_unstable_by(cmp);
        return;
    }
    let mut keys = [0u64; SHORT];
    let mut sorted = true;
    for (i, x) in items.iter().enumerate() {
        keys[i] = ((top(x) ^ t) & !31) | i as u64;
        sorted &= i == 0 || keys[i - 1] >> 5 < keys[i] >> 5;
    }
    if sorted {
        return;
    }
    let keys = &mut keys[..n];
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] >> 5 == w[1] >> 5) {
        items.sort_unstable_by(cmp);
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
    use core::net::SocketAddr;
    use proptest::prelude::*;

    #[test]
    fn socket_addresses_group_by_ip_and_subnet_local_networks_exempt() {
        let g = |s: &str| s.parse::<SocketAddr>().unwrap().group();
        let (a, b, c) = (g("1.2.3.4:6881").unwrap(), g("1.2.3.4:7000").unwrap(), g("1.2.3.99:6881").unwrap());
        assert_eq!(a, b, "the port does not matter");
        assert_ne!(a.ip, c.ip);
        assert_eq!(a.subnet, c.subnet, "one /24");
        assert_ne!(a.subnet, g("1.2.4.4:1").unwrap().subnet);
        assert_eq!(g("[::ffff:1.2.3.4]:1"), Some(a), "an IPv4-mapped address is its IPv4 address");
        let (x, y) = (g("[2001:db8::1]:1").unwrap(), g("[2001:db8::ffff:2]:1").unwrap());
        assert_eq!(x.subnet, y.subnet, "one /64");
        assert_ne!(x.subnet, g("[2001:db8:0:1::1]:1").unwrap().subnet);
        assert_eq!(g("127.0.0.1:1"), None);
        assert_eq!(g("[::1]:1"), None);
        for local in ["10.1.2.3:1", "192.168.0.9:1", "172.16.0.1:1", "169.254.1.1:1", "[fd00::1]:1", "[fe80::1]:1"] {
            assert_eq!(g(local), None, "{local}: a local network is never limited");
        }
        assert_eq!(7u32.group(), None);
    }

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
                NodeId::from_bytes(b)
            }).collect();
            let mut uniq = ids.clone();
            uniq.sort();
            uniq.dedup();
            let tw = Distance::of(&NodeId::from_bytes(target));
            let mut got = uniq.clone();
            sort_by_xor(&mut got, &tw, |x| x);
            let mut want = uniq;
            want.sort_by(|a, b| cmp_to(&tw, a, b));
            prop_assert_eq!(got, want);
        }
    }
}
