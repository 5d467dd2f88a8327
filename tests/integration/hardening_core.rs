//! Hardening of the protocol core against forged senders (issue #11), driven
//! by hand on `kad::Node<SocketAddr>`, the real node's core: a spoofed PING
//! earns one small datagram, not the store; a verified newcomer gets exactly
//! the pairs of the paper's hand-over rule (§2.5), checked against a brute
//! force; a known ID keeps its address until it fails (§4.1); one IP address
//! and one subnet hold at most their few contacts per bucket.

use kadsim::kad::{Body, Command, Config, Input, Message, Node, NodeId, Outbox, Output, Time, Timer};
use kadsim::wire::encoded_len;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

const SEC: u64 = 1_000_000;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A public-looking address, one per `i`, each in its own /24.
fn addr_of(i: u32) -> SocketAddr {
    SocketAddr::from(([100, (i >> 8) as u8 + 1, i as u8, 1], 6881))
}

fn node(own: NodeId, cfg: Config) -> Node<SocketAddr> {
    Node::new(own, Arc::new(cfg), 7, Time::ZERO).unwrap()
}

fn req(sender: NodeId, tx: u32, body: Body<SocketAddr>) -> Message<SocketAddr> {
    Message { read_only: false, tx, sender, body }
}

fn sends(out: &Outbox<SocketAddr>) -> Vec<(SocketAddr, Message<SocketAddr>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg, .. } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

fn is_store(m: &Message<SocketAddr>) -> bool {
    matches!(m.body, Body::Store { .. })
}

/// A node with `contacts` random contacts and `pairs` random pairs, all
/// learned from STOREs of its first contact.
fn loaded(
    rng: &mut ChaCha8Rng,
    cfg: Config,
    contacts: u32,
    pairs: u32,
) -> (Node<SocketAddr>, Vec<(NodeId, SocketAddr)>) {
    let mut n = node(NodeId::random(rng), cfg);
    let known: Vec<_> = (0..contacts).map(|i| (NodeId::random(rng), addr_of(i))).collect();
    for (id, a) in &known {
        n.add_contact(*id, *a);
    }
    let mut out = Outbox::new();
    let (from_id, from) = known[0];
    for i in 0..pairs {
        let store = Body::Store { key: NodeId::random(rng), value: Arc::from(&b"value"[..]), ttl_secs: 86_400 };
        n.handle(Time::ZERO, Input::Datagram { from, msg: req(from_id, i, store) }, &mut out);
    }
    assert_eq!(n.store().len(), pairs as usize);
    (n, known)
}

/// Flips the last bit: an ID as near the own as can be.
fn neighbour_of(id: &NodeId) -> NodeId {
    let mut b = id.0;
    b[19] ^= 1;
    NodeId(b)
}

#[test]
fn a_spoofed_ping_near_the_own_id_earns_one_small_datagram_not_the_store() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut n, _) = loaded(&mut rng, Config::default(), 30, 10_000);
    let victim = sa("203.0.113.7:6881");
    let claimed = neighbour_of(n.id());
    let ping = req(claimed, 77, Body::Ping);
    let bytes_in = encoded_len(&ping);
    let mut out = Outbox::new();
    n.handle(Time(SEC), Input::Datagram { from: victim, msg: ping }, &mut out);
    let s = sends(&out);
    let bytes_out: usize = s.iter().map(|(_, m)| encoded_len(m)).sum();
    assert!(s.iter().all(|(_, m)| !is_store(m)), "no STORE to an unverified address");
    assert!(s.len() <= 2, "the PONG and at most one verification PING, got {}", s.len());
    assert!(bytes_out <= 4 * bytes_in, "{bytes_out} bytes out for {bytes_in} in");
    let verify = s.iter().find(|(to, m)| *to == victim && m.body == Body::Ping).expect("a verification PING");

    // The victim answers under its own ID: still nothing.
    let victim_id = NodeId::random(&mut rng);
    out.clear();
    let pong = Message { read_only: false, tx: verify.1.tx, sender: victim_id, body: Body::Pong };
    n.handle(Time(SEC + 1000), Input::Datagram { from: victim, msg: pong }, &mut out);
    assert!(sends(&out).is_empty());
    // Nor when the PING times out.
    out.clear();
    n.handle(Time(10 * SEC), Input::Timer(Timer::Rpc), &mut out);
    assert!(sends(&out).iter().all(|(to, m)| *to != victim || !is_store(m)));
    assert_eq!(n.stats().dropped_wrong_sender, 1);
}

/// The pairs a newcomer must receive by the paper's rule, brute force: it is
/// among the k closest known nodes to the key, and the own ID is closer to the
/// key than every known node but the newcomer.
fn expected_hand_over(
    own: &NodeId,
    known: &[NodeId],
    newcomer: &NodeId,
    keys: &[NodeId],
    k: usize,
) -> BTreeSet<NodeId> {
    let mut all: Vec<NodeId> = known.to_vec();
    all.push(*newcomer);
    keys.iter()
        .filter(|key| {
            let mut by_dist = all.clone();
            by_dist.sort_by_key(|c| c.distance(key));
            by_dist[..k.min(by_dist.len())].contains(newcomer)
                && known.iter().all(|c| own.distance(key) < c.distance(key))
        })
        .copied()
        .collect()
}

#[test]
fn a_verified_newcomer_gets_exactly_the_pairs_it_should_hold_paper_2_5() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let k = 4;
    for (trial, near) in [(0, true), (1, false), (2, true)] {
        let cfg = Config { k, ..Config::default() };
        let (mut n, _) = loaded(&mut rng, cfg, 40, 2_000);
        let own = *n.id();
        let known: Vec<NodeId> = n.routing_table().contacts().map(|c| c.id).collect();
        let keys: Vec<NodeId> = n.store().pairs().iter().map(|p| p.key).collect();
        // Near the own ID: many pairs; anywhere: few or none.
        let newcomer = if near {
            let mut id = own;
            id.0[2..20].iter_mut().for_each(|b| *b = rng.next_u32() as u8);
            id
        } else {
            NodeId::random(&mut rng)
        };
        let want = expected_hand_over(&own, &known, &newcomer, &keys, k);
        let at = sa("198.51.100.20:4000");
        let mut out = Outbox::new();
        n.handle(Time(SEC), Input::Datagram { from: at, msg: req(newcomer, 1, Body::Ping) }, &mut out);
        assert!(sends(&out).iter().all(|(_, m)| !is_store(m)), "trial {trial}: nothing before the answer");
        let ping = sends(&out).into_iter().find(|(to, m)| *to == at && m.body == Body::Ping);
        assert_eq!(ping.is_some(), !want.is_empty(), "trial {trial}: a verification PING iff pairs are due");
        let Some((_, ping)) = ping else { continue };
        out.clear();
        let pong = Message { read_only: false, tx: ping.tx, sender: newcomer, body: Body::Pong };
        n.handle(Time(SEC + 1000), Input::Datagram { from: at, msg: pong }, &mut out);
        let s = sends(&out);
        assert!(s.iter().all(|(to, _)| *to == at));
        let got: BTreeSet<NodeId> = s
            .iter()
            .filter_map(|(_, m)| match &m.body {
                Body::Store { key, .. } => Some(*key),
                _ => None,
            })
            .collect();
        assert_eq!(got.len(), s.len(), "trial {trial}: one STORE per pair, nothing else");
        assert_eq!(got, want, "trial {trial}");
        if near {
            assert!(want.len() > 5 && want.len() < keys.len() / 4, "trial {trial}: {} pairs", want.len());
        }
    }
}

#[test]
fn a_claim_of_a_known_id_from_another_address_is_refused_until_the_old_one_fails() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let cfg = Config { stale_limit: 1, ..Config::default() };
    let mut n = node(NodeId::random(&mut rng), cfg);
    let c = NodeId::random(&mut rng);
    let (home, thief) = (sa("198.51.100.1:6881"), sa("198.51.100.1:9999"));
    let mut out = Outbox::new();
    n.handle(Time::ZERO, Input::Datagram { from: home, msg: req(c, 1, Body::Ping) }, &mut out);
    let where_is = |n: &Node<SocketAddr>| n.routing_table().contacts().find(|x| x.id == c).map(|x| x.addr);
    assert_eq!(where_is(&n), Some(home));
    n.handle(Time(SEC), Input::Datagram { from: thief, msg: req(c, 2, Body::Ping) }, &mut out);
    n.handle(Time(SEC), Input::Datagram { from: sa("203.0.113.9:1"), msg: req(c, 3, Body::Ping) }, &mut out);
    assert_eq!(where_is(&n), Some(home), "the hijack is refused");
    assert_eq!(n.stats().conflicting_claims, 2);

    // A lookup queries the contact at its old address, which does not answer:
    // after stale_limit failures the new address may take over (§4.1).
    out.clear();
    n.start(Time(2 * SEC), Command::FindNode(NodeId::random(&mut rng)), &mut out);
    assert!(sends(&out).iter().any(|(to, m)| *to == home && matches!(m.body, Body::FindNode { .. })));
    n.handle(Time(10 * SEC), Input::Timer(Timer::Rpc), &mut out);
    n.handle(Time(11 * SEC), Input::Datagram { from: thief, msg: req(c, 4, Body::Ping) }, &mut out);
    assert_eq!(where_is(&n), Some(thief), "a failed contact's address is replaced");
    assert_eq!(n.stats().conflicting_claims, 2);
}

/// Contacts per IP and per subnet in each bucket, replacement caches included.
fn max_per_group(n: &Node<SocketAddr>) -> (usize, usize) {
    let (mut ip, mut net) = (0, 0);
    for b in n.routing_table().buckets() {
        let addrs: Vec<SocketAddr> = b.entries().iter().chain(b.replacements()).map(|c| c.addr).collect();
        for a in &addrs {
            ip = ip.max(addrs.iter().filter(|x| x.ip() == a.ip()).count());
            let sub = |x: &SocketAddr| match x.ip() {
                std::net::IpAddr::V4(v) => v.octets()[..3].to_vec(),
                std::net::IpAddr::V6(v) => v.octets()[..8].to_vec(),
            };
            net = net.max(addrs.iter().filter(|x| sub(x) == sub(a)).count());
        }
    }
    (ip, net)
}

#[test]
fn one_ip_and_one_subnet_hold_at_most_their_limit_per_bucket() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut out = Outbox::new();
    // One host on a thousand ports, then a thousand hosts of one /24.
    let mut n = node(NodeId::random(&mut rng), Config::default());
    for port in 1..=1000u16 {
        let from = SocketAddr::from(([192, 0, 2, 1], port));
        n.handle(Time::ZERO, Input::Datagram { from, msg: req(NodeId::random(&mut rng), 1, Body::Ping) }, &mut out);
    }
    assert_eq!(max_per_group(&n).0, 1);
    assert!(n.routing_table().len() <= n.routing_table().bucket_count());
    assert!(n.stats().refused_admissions > 900);
    let mut m = node(NodeId::random(&mut rng), Config { max_per_ip_per_bucket: 2, ..Config::default() });
    for host in 0..1000u32 {
        let from = SocketAddr::from(([198, 51, 100, host as u8], 6881 + (host / 256) as u16));
        m.handle(Time::ZERO, Input::Datagram { from, msg: req(NodeId::random(&mut rng), 1, Body::Ping) }, &mut out);
    }
    let (ip, net) = max_per_group(&m);
    assert!(ip <= 2 && net == 2, "{ip} per IP, {net} per /24");
    // Loopback and private addresses are exempt: a test network on one
    // machine, or a local network, fills its buckets.
    for ip in [[127, 0, 0, 1], [192, 168, 1, 10]] {
        let mut l = node(NodeId::random(&mut rng), Config::default());
        for port in 1..=200u16 {
            let from = SocketAddr::from((ip, port));
            l.handle(Time::ZERO, Input::Datagram { from, msg: req(NodeId::random(&mut rng), 1, Body::Ping) }, &mut out);
        }
        assert!(l.routing_table().len() > 50, "{ip:?}");
        assert_eq!(l.stats().refused_admissions, 0);
    }
}
