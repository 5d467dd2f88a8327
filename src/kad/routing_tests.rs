//! Tests of the routing table: one per mechanism of paper §2.2, §2.4, §4.1 and
//! §4.2, and property tests of its invariants.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const K: usize = 4;

/// An ID whose first byte is `first` and last byte `last`.
use crate::kad::id::test_id as id;

fn table(k: usize, b: u8) -> RoutingTable<u32> {
    RoutingTable::new(NodeId::default(), k, b, 3, 5, Time::ZERO)
}

fn ids_of(t: &RoutingTable<u32>, bucket: usize) -> Vec<NodeId> {
    t.buckets()[bucket].entries().iter().map(|e| e.id).collect()
}

#[test]
fn least_recently_seen_first_and_refresh_moves_to_tail_paper_2_2() {
    let mut t = table(K, 1);
    for i in 0..3 {
        assert_eq!(t.seen(id(0x80, i), u32::from(i)), Seen::Inserted);
    }
    assert_eq!(t.seen(id(0x80, 0), 0), Seen::Refreshed);
    assert_eq!(ids_of(&t, 0), vec![id(0x80, 1), id(0x80, 2), id(0x80, 0)]);
}

#[test]
fn own_id_is_never_stored_paper_2_2() {
    let mut t = table(K, 1);
    assert_eq!(t.seen(NodeId::default(), 9), Seen::Ignored);
    assert!(t.is_empty());
}

#[test]
fn only_the_bucket_holding_the_own_id_splits_paper_2_4() {
    let mut t = table(K, 1);
    // K near contacts: the smallest subtree around the own ID with K contacts is
    // the near half, so the relaxed rule does not reach the far half.
    for i in 0..K as u8 {
        t.seen(id(0x01, i), 50 + u32::from(i));
    }
    // K far contacts (first bit 1) fill the single bucket, which holds the own ID.
    for i in 0..K as u8 {
        t.seen(id(0xF0, i), u32::from(i));
    }
    let far = |t: &RoutingTable<u32>| t.buckets().iter().filter(|b| b.lo().bit(0)).count();
    assert_eq!(far(&t), 1);
    // One more far contact: the far half stays one full bucket.
    let out = t.seen(id(0xF0, 100), 100);
    assert_eq!(far(&t), 1);
    let buckets = t.buckets();
    let last = buckets.last().unwrap();
    assert_eq!((last.depth(), last.entries().len()), (1, K));
    // The far half does not hold the own ID, so the newcomer (farther than all)
    // waits while the least-recently-seen contact is pinged.
    assert_eq!(out, Seen::Cached { ping: Some(Contact { id: id(0xF0, 0), addr: 0 }) });
    // Near contacts still fit: the own half splits further.
    assert_eq!(t.seen(id(0x02, 1), 200), Seen::Inserted);
    t.check_invariants().unwrap();
}

#[test]
fn relaxed_split_keeps_the_k_nearest_paper_2_4() {
    // The far half is full of contacts with prefix 11; a newcomer with prefix 10
    // is closer to the own ID than all of them, so it is among the k nearest and
    // the far bucket splits even though it does not hold the own ID.
    let mut t = table(K, 1);
    for i in 0..K as u8 {
        t.seen(id(0xC0, i), u32::from(i));
    }
    t.seen(id(0xC0, 50), 50); // splits the root; far half full
    let out = t.seen(id(0x80, 1), 99);
    assert_eq!(out, Seen::Inserted);
    assert!(t.contains(&id(0x80, 1)));
    t.check_invariants().unwrap();
}

#[test]
fn accelerated_lookups_split_at_depths_not_multiple_of_b_paper_4_2() {
    for (b, expect_split) in [(1u8, false), (2u8, true)] {
        let mut t = table(K, b);
        // Fill both halves so the newcomer is not among the K nearest.
        for i in 0..K as u8 {
            t.seen(id(0x01, i), u32::from(i));
        }
        for i in 0..K as u8 {
            t.seen(id(0x80, i), 10 + u32::from(i));
        }
        let before = t.buckets().len();
        let out = t.seen(id(0xFF, 1), 77);
        let far_depths: Vec<usize> = t.buckets().iter().filter(|bk| bk.lo().bit(0)).map(|bk| bk.depth()).collect();
        if expect_split {
            assert_eq!(out, Seen::Inserted, "b = 2 splits the depth-1 far bucket");
            assert!(t.buckets().len() > before);
            assert!(far_depths.iter().all(|d| *d == 2), "far buckets at depth 2: {far_depths:?}");
        } else {
            assert!(matches!(out, Seen::Cached { .. }), "b = 1 does not split it");
            assert_eq!(far_depths, vec![1]);
        }
        t.check_invariants().unwrap();
    }
}

fn full_far_bucket() -> RoutingTable<u32> {
    let mut t = table(K, 1);
    for i in 0..K as u8 {
        t.seen(id(0x01, i), 100 + u32::from(i)); // near contacts, so newcomers are not among the K nearest
    }
    for i in 0..K as u8 {
        t.seen(id(0xF0, i), u32::from(i));
    }
    t
}

#[test]
fn full_bucket_evicts_an_unresponsive_head_paper_2_2() {
    let mut t = full_far_bucket();
    let head = Contact { id: id(0xF0, 0), addr: 0 };
    assert_eq!(t.seen(id(0xF1, 1), 51), Seen::Cached { ping: Some(head) });
    // A second newcomer while the ping is out: no second ping.
    assert_eq!(t.seen(id(0xF1, 2), 52), Seen::Cached { ping: None });
    // No answer: the head goes, the most recently seen newcomer comes in at the tail.
    let promoted = t.eviction_failed(&head.id);
    assert_eq!(promoted, AfterFailedPing::Promoted(Contact { id: id(0xF1, 2), addr: 52 }));
    assert!(!t.contains(&head.id));
    assert_eq!(*ids_of(&t, 1).last().unwrap(), id(0xF1, 2));
    t.check_invariants().unwrap();
}

#[test]
fn full_bucket_keeps_a_responsive_head_and_drops_the_newcomer_paper_2_2() {
    let mut t = full_far_bucket();
    let head = id(0xF0, 0);
    assert!(matches!(t.seen(id(0xF1, 1), 51), Seen::Cached { ping: Some(_) }));
    // The head answers: it moves to the tail; the newcomer stays out of the bucket.
    assert_eq!(t.seen(head, 0), Seen::Refreshed);
    assert_eq!(t.eviction_answered(&head, Time::ZERO), None, "the paper pings one contact per newcomer");
    assert_eq!(*ids_of(&t, 1).last().unwrap(), head);
    assert!(!t.contains(&id(0xF1, 1)));
    // The next newcomer triggers a new ping, of the new head.
    assert_eq!(t.seen(id(0xF1, 3), 53), Seen::Cached { ping: Some(Contact { id: id(0xF0, 1), addr: 1 }) });
}

#[test]
fn replacement_cache_most_recent_first_and_bounded_paper_4_1() {
    let mut t = full_far_bucket();
    for i in 1..=5u8 {
        let _ = t.seen(id(0xF1, i), u32::from(i));
    }
    let buckets = t.buckets();
    let far = buckets.iter().find(|b| b.lo().bit(0)).unwrap();
    let cached: Vec<NodeId> = far.replacements().iter().map(|c| c.id).collect();
    // Cache of 3, most recently seen first.
    assert_eq!(cached, vec![id(0xF1, 5), id(0xF1, 4), id(0xF1, 3)]);
    // Seeing a cached node again moves it to the front.
    let _ = t.seen(id(0xF1, 3), 3);
    let buckets = t.buckets();
    let far = buckets.iter().find(|b| b.lo().bit(0)).unwrap();
    assert_eq!(far.replacements()[0].id, id(0xF1, 3));
}

#[test]
fn stale_contact_removed_after_five_failures_only_with_a_replacement_paper_4_1() {
    let mut t = full_far_bucket();
    let victim = id(0xF0, 2);
    // No replacement waiting: five failures mark it stale but keep it.
    for _ in 0..5 {
        assert_eq!(t.failed(&victim), None);
    }
    assert!(t.contains(&victim));
    // Stale contacts are not handed out in replies.
    let mut out: Vec<Contact<u32>> = Vec::new();
    t.closest(&victim, 50, None, &mut out);
    assert!(out.iter().all(|c| c.id != victim));
    // A newcomer replaces the stale contact at once.
    assert_eq!(t.seen(id(0xF1, 9), 9), Seen::Inserted);
    assert!(!t.contains(&victim));

    // With a replacement waiting, the fifth failure in a row removes the contact.
    let mut t = full_far_bucket();
    let victim = id(0xF0, 3);
    let _ = t.seen(id(0xF1, 7), 7);
    for _ in 0..4 {
        assert_eq!(t.failed(&victim), None);
    }
    assert!(t.contains(&victim));
    assert_eq!(t.failed(&victim), Some(Contact { id: id(0xF1, 7), addr: 7 }));
    assert!(!t.contains(&victim));
    // A success in between resets the count.
    let mut t = full_far_bucket();
    let victim = id(0xF0, 3);
    let _ = t.seen(id(0xF1, 7), 7);
    for _ in 0..4 {
        t.failed(&victim);
    }
    let _ = t.seen(victim, 3);
    assert_eq!(t.failed(&victim), None);
    assert!(t.contains(&victim));
}

#[test]
fn refresh_due_after_an_hour_without_lookup_paper_2_3() {
    use rand_core::SeedableRng;
    let hour = std::time::Duration::from_secs(3600);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut t = full_far_bucket();
    assert_eq!(t.next_refresh(hour), Time::ZERO + hour);
    // A lookup into the far half at 30 min keeps that bucket fresh.
    t.touch(&id(0xF3, 3), Time::ZERO + hour / 2);
    let targets = t.due_refreshes(Time::ZERO + hour, hour, &mut rng);
    assert_eq!(targets.len(), t.buckets().len() - 1);
    assert!(targets.iter().all(|x| !x.bit(0)), "only the idle near buckets are refreshed");
    assert!(t.due_refreshes(Time::ZERO + hour, hour, &mut rng).is_empty());
}

#[test]
fn join_refreshes_every_level_farther_than_the_closest_neighbour_paper_2_3() {
    use rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let mut t = full_far_bucket();
    // Closest neighbour 0x01.. shares 7 leading bits with the own ID (zero):
    // one target in each subtree sharing exactly 0..7 bits.
    let targets = t.join_refreshes(&id(0x01, 0), Time::ZERO + std::time::Duration::from_secs(5), &mut rng);
    let levels: Vec<usize> = targets.iter().map(|x| x.common_prefix_len(&NodeId::default())).collect();
    assert_eq!(levels, (0..7).collect::<Vec<_>>());
    assert!(t.buckets().iter().all(|b| b.last_lookup() > Time::ZERO), "the buckets count as looked up");
}

fn arb_id() -> impl Strategy<Value = NodeId> {
    // Mostly random IDs, some sharing long prefixes with the own ID (zero), so
    // that deep splits happen.
    prop_oneof![
        proptest::array::uniform20(any::<u8>()).prop_map(NodeId::from_bytes),
        (0usize..40, any::<u64>()).prop_map(|(z, r)| {
            let mut b = [0u8; 20];
            b[12..20].copy_from_slice(&r.to_be_bytes());
            NodeId::from_bytes(b).with_bit(z.min(159), true).truncated(160)
        }),
        Just(NodeId::default()),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Seen(NodeId),
    Failed(usize),
    EvictAnswered(usize),
    EvictFailed(usize),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => arb_id().prop_map(Op::Seen),
        1 => any::<usize>().prop_map(Op::Failed),
        1 => any::<usize>().prop_map(Op::EvictAnswered),
        1 => any::<usize>().prop_map(Op::EvictFailed),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Invariants under any sequence of events: no bucket over k, never the own
    /// ID, buckets partition the ID space, and contacts stay in least-recently-seen
    /// order (paper §2.2).
    #[test]
    fn routing_invariants_hold(
        k in 1usize..6,
        b in 1u8..4,
        bep5 in any::<bool>(),
        ops in proptest::collection::vec((arb_op(), any::<bool>()), 1..300),
    ) {
        // With BEP 5's rule on, a contact is questionable 3 s after it last proved good.
        let after = bep5.then(|| std::time::Duration::from_secs(3));
        let mut t: RoutingTable<u32> =
            RoutingTable::new(NodeId::default(), k, b, 2, 2, Time::ZERO).with_questionable_after(after, Time::ZERO);
        let mut clock = 0u64;
        let mut stamp: BTreeMap<NodeId, u64> = BTreeMap::new();
        for (op, verified) in ops {
            clock += 1;
            let now = Time(clock * 1_000_000);
            let before: Vec<NodeId> = t.contacts().map(|e| e.id).collect();
            let pick = |i: usize| before.get(i % before.len().max(1)).copied();
            match op.clone() {
                Op::Seen(x) => {
                    if t.heard(x, 0, now, verified) == Seen::Refreshed {
                        stamp.insert(x, clock);
                    }
                }
                Op::Failed(i) => if let Some(x) = pick(i) { t.failed(&x); },
                Op::EvictAnswered(i) => if let Some(x) = pick(i) { t.eviction_answered(&x, now); },
                Op::EvictFailed(i) => if let Some(x) = pick(i) { t.eviction_failed(&x); },
            }
            for e in t.contacts() {
                if !before.contains(&e.id) {
                    stamp.insert(e.id, clock);
                }
            }
            prop_assert!(t.check_invariants().is_ok(), "{:?}", t.check_invariants());
            if let Op::Seen(x) = op && verified && t.contains(&x) {
                prop_assert_eq!(t.is_good(&x, now), bep5.then_some(true), "a contact that just answered is good");
            }
            for bucket in t.buckets() {
                prop_assert!(bucket.entries().len() <= k);
                let stamps: Vec<u64> = bucket.entries().iter().map(|e| stamp[&e.id]).collect();
                prop_assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "LRS order broken: {:?}", stamps);
            }
            prop_assert!(!t.contains(&NodeId::default()));
            prop_assert!(t.near_cache_is_fresh(), "stale cache of the k-th closest distance");
        }
    }

    /// `closest` returns exactly the n nearest contacts, nearest first, as a
    /// brute-force sort of the whole table does.
    #[test]
    fn closest_matches_brute_force(ids in proptest::collection::vec(arb_id(), 1..200), target in arb_id(), n in 1usize..30) {
        let mut t: RoutingTable<u32> = RoutingTable::new(NodeId::default(), 8, 1, 2, 5, Time::ZERO);
        for x in &ids {
            let _ = t.seen(*x, 0);
        }
        let mut all: Vec<NodeId> = t.contacts().map(|e| e.id).collect();
        all.sort_by_key(|x| x.distance(&target));
        all.truncate(n);
        let mut got: Vec<Contact<u32>> = Vec::new();
        t.closest(&target, n, None, &mut got);
        prop_assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), all);
    }
}

#[test]
fn relaxed_split_keeps_the_whole_smallest_subtree_with_k_contacts_paper_2_4() {
    // Own ID zero, k = 2, contacts 0x40.. and 0x41..: the smallest subtree around
    // the own ID holding 2 contacts is "0" (depth 1), and 0x42.. lies in it,
    // though it is farther than both.
    let mut t = table(2, 1);
    t.seen(id(0x40, 0), 1);
    t.seen(id(0x41, 0), 2);
    assert_eq!(t.seen(id(0x42, 0), 3), Seen::Inserted);
    // A node outside that subtree is not kept beyond k per bucket.
    t.seen(id(0x80, 0), 4);
    t.seen(id(0x81, 0), 5);
    assert!(matches!(t.seen(id(0x82, 0), 6), Seen::Cached { .. }));
    t.check_invariants().unwrap();
}

#[test]
fn a_known_id_keeps_its_address_until_it_is_stale_paper_4_1() {
    let mut t = table(K, 1); // stale after 5 failures
    let x = id(0x80, 1);
    assert_eq!(t.seen(x, 1), Seen::Inserted);
    assert_eq!(t.seen(id(0x81, 1), 2), Seen::Inserted);
    assert_eq!(t.seen(x, 9), Seen::Conflict, "a claim from another address is not admitted");
    let addr_of = |t: &RoutingTable<u32>, x: NodeId| t.contacts().find(|c| c.id == x).map(|c| c.addr);
    assert_eq!(addr_of(&t, x), Some(1));
    assert_eq!(ids_of(&t, 0), vec![x, id(0x81, 1)], "nor refreshed");
    for _ in 0..4 {
        t.failed(&x);
    }
    assert_eq!(t.seen(x, 9), Seen::Conflict, "four failures are not stale yet");
    t.failed(&x);
    assert_eq!(t.seen(x, 9), Seen::Inserted, "a stale contact's ID may move");
    assert_eq!(addr_of(&t, x), Some(9));
    assert_eq!(t.failures(&x), 0);
    assert_eq!(t.seen(x, 9), Seen::Refreshed);
    assert_eq!(t.seen(x, 1), Seen::Conflict, "and keeps its new address in turn");
    t.check_invariants().unwrap();
}

#[test]
fn a_cached_id_keeps_its_address_too() {
    let mut t = full_far_bucket().with_eviction_ping(false);
    let y = id(0xF1, 1);
    assert!(matches!(t.seen(y, 51), Seen::Cached { .. }));
    assert_eq!(t.seen(y, 52), Seen::Conflict);
    assert_eq!(
        t.buckets().iter().flat_map(|b| b.replacements().to_vec()).find(|c| c.id == y).map(|c| c.addr),
        Some(51)
    );
}

/// A public test address `203.0.net.host`.
fn admission_addr(net: u8, host: u8, port: u16) -> core::net::SocketAddr {
    core::net::SocketAddr::from(([203, 0, net, host], port))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever arrives, no bucket (replacement cache included) holds more
    /// contacts of one IP or one /24 than allowed; loopback is never limited;
    /// a refused or conflicting claim leaves the table as it was.
    #[test]
    fn admission_limits_hold_for_socket_addresses(
        per_ip in 1usize..3,
        extra in 0usize..3,
        ops in proptest::collection::vec((arb_id(), 0u8..4, 0u8..4, 1u16..3, 0u8..8), 1..300),
    ) {
        use core::net::SocketAddr;
        let per_subnet = per_ip + extra;
        let mut t: RoutingTable<SocketAddr> =
            RoutingTable::new(NodeId::default(), 4, 1, 2, 2, Time::ZERO).with_admission_limits(per_ip, per_subnet);
        for (x, net, host, port, what) in ops {
            let addr = if net == 3 { SocketAddr::from(([127, 0, 0, 1], u16::from(host) + 1)) } else { admission_addr(net, host, port) };
            if what == 7 {
                let pick = t.contacts().nth(usize::from(host)).map(|c| c.id);
                if let Some(y) = pick { t.failed(&y); }
                continue;
            }
            // Every contact held, cached or not (a refused newcomer may still
            // have split its bucket, moving contacts between buckets).
            let held = |t: &RoutingTable<SocketAddr>| {
                let mut v: Vec<(NodeId, SocketAddr)> =
                    t.buckets().iter().flat_map(|b| b.entries().iter().chain(b.replacements()).map(|c| (c.id, c.addr)).collect::<Vec<_>>()).collect();
                v.sort();
                v
            };
            let before = held(&t);
            let r = t.seen(x, addr);
            if matches!(r, Seen::Refused | Seen::Conflict) {
                prop_assert_eq!(before, held(&t));
            }
            if net == 3 {
                prop_assert_ne!(r, Seen::Refused);
            }
            prop_assert!(t.check_invariants().is_ok(), "{:?}", t.check_invariants());
            for b in t.buckets() {
                let addrs: Vec<SocketAddr> = b.entries().iter().chain(b.replacements()).map(|c| c.addr).filter(|a| !a.ip().is_loopback()).collect();
                for a in &addrs {
                    let same_ip = addrs.iter().filter(|o| o.ip() == a.ip()).count();
                    let same_net = addrs.iter().filter(|o| match (o.ip(), a.ip()) {
                        (core::net::IpAddr::V4(p), core::net::IpAddr::V4(q)) => p.octets()[..3] == q.octets()[..3],
                        _ => false,
                    }).count();
                    prop_assert!(same_ip <= per_ip, "{} contacts of {}", same_ip, a.ip());
                    prop_assert!(same_net <= per_subnet, "{} contacts of the /24 of {}", same_net, a.ip());
                }
            }
        }
    }
}

/// BEP 5's good/questionable rule, 15 minutes, on a table whose far bucket
/// (IDs 0xF0..) holds K contacts that answered at second `answered_at[i]`.
fn bep5_far_bucket(answered_at: [u64; K]) -> RoutingTable<u32> {
    let q = Some(std::time::Duration::from_secs(15 * 60));
    let mut t = table(K, 1).with_questionable_after(q, Time::ZERO);
    for i in 0..K as u8 {
        t.heard(id(0x01, i), 100 + u32::from(i), Time::ZERO, true);
    }
    for (i, at) in answered_at.iter().enumerate() {
        let i = i as u8;
        t.heard(id(0xF0, i), u32::from(i), Time(at * 1_000_000), true);
    }
    t
}

const MIN: u64 = 60;

#[test]
fn a_bucket_of_good_nodes_pings_nobody_bep_5() {
    // Every contact answered within 15 minutes: "When the bucket is full of
    // good nodes, the new node is simply discarded" (it waits in the cache).
    let mut t = bep5_far_bucket([0, 60, 120, 180]);
    assert_eq!(t.heard(id(0xF1, 1), 51, Time(14 * MIN * 1_000_000), false), Seen::Cached { ping: None });
    assert_eq!(t.is_good(&id(0xF0, 0), Time(14 * MIN * 1_000_000)), Some(true));
    // At 15 minutes the least recently seen becomes questionable and is pinged.
    let at = Time(15 * MIN * 1_000_000);
    assert_eq!(t.is_good(&id(0xF0, 0), at), Some(false));
    assert_eq!(t.heard(id(0xF1, 2), 52, at, false), Seen::Cached { ping: Some(Contact { id: id(0xF0, 0), addr: 0 }) });
    t.check_invariants().unwrap();
}

#[test]
fn a_node_that_never_answered_is_questionable_at_once_bep_5() {
    let mut t = bep5_far_bucket([0, 60, 120, 180]);
    // 0xF0,1 sends a request: it moves to the tail but stays good (it has
    // answered once: "ever responded ... and has sent us a query").
    t.heard(id(0xF0, 1), 1, Time(5 * MIN * 1_000_000), false);
    assert_eq!(t.is_good(&id(0xF0, 1), Time(19 * MIN * 1_000_000)), Some(true));
    // A contact that entered by a request and never answered is not good.
    let mut u = table(K, 1).with_questionable_after(Some(std::time::Duration::from_secs(900)), Time::ZERO);
    u.heard(id(0xF0, 9), 9, Time::ZERO, false);
    assert_eq!(u.is_good(&id(0xF0, 9), Time::ZERO), Some(false));
    // In a full bucket of good contacts, such a contact is the one pinged,
    // though it is not the least recently seen.
    let mut t = bep5_far_bucket([0, 60, 120, 180]);
    t.remove(&id(0xF0, 2));
    t.heard(id(0xF0, 7), 7, Time(200 * 1_000_000), false);
    let got = t.heard(id(0xF1, 1), 51, Time(300 * 1_000_000), false);
    assert_eq!(got, Seen::Cached { ping: Some(Contact { id: id(0xF0, 7), addr: 7 }) });
}

#[test]
fn answered_pings_move_on_to_the_next_questionable_node_bep_5() {
    // Two questionable contacts (answered at 0 and 1 min), two good ones.
    let mut t = bep5_far_bucket([0, 60, 20 * MIN, 21 * MIN]);
    let now = Time(22 * MIN * 1_000_000);
    let first = Contact { id: id(0xF0, 0), addr: 0 };
    assert_eq!(t.heard(id(0xF1, 1), 51, now, false), Seen::Cached { ping: Some(first) });
    // It answers: the next questionable one is pinged, for the same newcomer.
    t.heard(first.id, first.addr, now, true);
    let second = Contact { id: id(0xF0, 1), addr: 1 };
    assert_eq!(t.eviction_answered(&first.id, now), Some(second));
    // It answers too: every contact is good, nobody more is pinged.
    t.heard(second.id, second.addr, now, true);
    assert_eq!(t.eviction_answered(&second.id, now), None);
    assert!(!t.contains(&id(0xF1, 1)), "the newcomer stays out");
    assert_eq!(t.heard(id(0xF1, 2), 52, now, false), Seen::Cached { ping: None });
    t.check_invariants().unwrap();
}

#[test]
fn a_failed_ping_is_tried_once_more_before_eviction_bep_5() {
    let mut t = bep5_far_bucket([0, 60, 20 * MIN, 21 * MIN]);
    let now = Time(22 * MIN * 1_000_000);
    let head = Contact { id: id(0xF0, 0), addr: 0 };
    assert_eq!(t.heard(id(0xF1, 1), 51, now, false), Seen::Cached { ping: Some(head) });
    // "it is suggested to try once more before discarding the node"
    assert_eq!(t.eviction_failed(&head.id), AfterFailedPing::PingAgain(head));
    assert!(t.contains(&head.id));
    assert_eq!(t.heard(id(0xF1, 2), 52, now, false), Seen::Cached { ping: None }, "one ping out at a time");
    assert_eq!(t.eviction_failed(&head.id), AfterFailedPing::Promoted(Contact { id: id(0xF1, 2), addr: 52 }));
    assert!(!t.contains(&head.id));
    t.check_invariants().unwrap();
    // The paper's rule evicts at the first failure (§2.2).
    let mut p = full_far_bucket();
    let ping = p.seen(id(0xF1, 1), 51);
    let Seen::Cached { ping: Some(h) } = ping else { panic!("{ping:?}") };
    assert!(matches!(p.eviction_failed(&h.id), AfterFailedPing::Promoted(_)));
}

#[test]
fn a_changed_bucket_counts_as_refreshed_bep_5() {
    let interval = std::time::Duration::from_secs(15 * 60);
    let mut t = bep5_far_bucket([0, 0, 0, 0]);
    let mut paper = full_far_bucket();
    assert_eq!(t.next_refresh(interval), Time(15 * MIN * 1_000_000));
    // A contact added to the far half at 10 min: that bucket is fresh until 25 min.
    t.remove(&id(0xF0, 3));
    t.heard(id(0xF0, 8), 8, Time(10 * MIN * 1_000_000), true);
    let far = t.buckets().into_iter().find(|b| b.lo().bit(0)).unwrap();
    assert_eq!(far.last_lookup(), Time(10 * MIN * 1_000_000));
    // The paper's table counts lookups only (§2.3).
    paper.remove(&id(0xF0, 3));
    paper.heard(id(0xF0, 8), 8, Time(10 * MIN * 1_000_000), true);
    let far = paper.buckets().into_iter().find(|b| b.lo().bit(0)).unwrap();
    assert_eq!(far.last_lookup(), Time::ZERO);
}

/// A discv5 answer ([`RoutingTable::at_distances`]) under the answered-only
/// rule hands out only contacts that answered this node, as the closest-style
/// answer does (BEP 5's known good nodes); without the rule, every contact.
#[test]
fn distance_answers_hand_out_only_answered_contacts_under_bep_5() {
    let own = NodeId::default();
    // Distance 160 (first bit set): one heard in a reply, one in a request.
    let replied = NodeId::default().with_bit(0, true).with_bit(5, true);
    let asked = NodeId::default().with_bit(0, true).with_bit(6, true);
    for on in [false, true] {
        let mut t = RoutingTable::<u32>::new(own, 8, 1, 3, 5, Time::ZERO)
            .with_layout(IdWidth::Bits160, crate::kad::BucketLayout::LogDistance)
            .with_answered_only(on, Time::ZERO);
        t.heard(replied, 1, Time(1_000_000), true);
        t.heard(asked, 2, Time(2_000_000), false);
        let mut out = Vec::new();
        t.at_distances(&[160, 159], 16, None, &mut out);
        let got: Vec<NodeId> = out.iter().map(|c| c.id).collect();
        if on {
            assert_eq!(got, vec![replied]);
        } else {
            assert_eq!(got, vec![replied, asked]);
        }
    }
}

#[test]
fn a_bucket_record_takes_44_bytes() {
    // A 32-byte lowest ID (256 bits at most), depth, lengths, flag, start, time.
    assert_eq!(std::mem::size_of::<Meta>(), 44);
}
