//! Tests of the KRPC endpoint (`endpoint.rs`).

use super::*;
use crate::kad::OpKind;
use proptest::prelude::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn endpoint(n: u8) -> Endpoint {
    Endpoint::new(NodeId::hash_of(&[n]), Arc::new(Config::default()), u64::from(n), Time::ZERO).unwrap()
}

#[test]
fn a_real_node_refuses_256_bit_ids() {
    // BEP 5's KRPC has 20-byte IDs: no real node runs a 256-bit space.
    let cfg = Config { id_width: crate::kad::IdWidth::Bits256, ..Config::default() };
    let err = Endpoint::new(NodeId::default(), Arc::new(cfg), 1, Time::ZERO).err().expect("refused");
    assert_eq!(err.field, "id_width");
    assert!(err.to_string().contains("KRPC (BEP 5) carries 20-byte IDs"), "{err}");
}

/// Two endpoints wired back to back: delivers every datagram at once
/// (loopback), until none is left.
struct Pair {
    eps: [Endpoint; 2],
    addrs: [SocketAddr; 2],
    log: Vec<(usize, Vec<u8>)>,
}

impl Pair {
    fn new() -> Pair {
        Pair { eps: [endpoint(1), endpoint(2)], addrs: [addr(1001), addr(1002)], log: Vec::new() }
    }

    fn deliver(&mut self, now: Time, mut send: Datagrams, from: usize) {
        let mut queue: Vec<(usize, SocketAddr, Vec<u8>)> = send.drain(..).map(|(to, b)| (from, to, b)).collect();
        while let Some((src, to, bytes)) = queue.pop() {
            let dst = self.addrs.iter().position(|a| *a == to).expect("a known address");
            self.log.push((src, bytes.clone()));
            let mut out = Datagrams::new();
            self.eps[dst].on_datagram(now, self.addrs[src], &bytes, &mut out);
            queue.extend(out.into_iter().map(|(to, b)| (dst, to, b)));
        }
    }

    fn run(&mut self, at: usize, cmd: Command<SocketAddr>) -> OpReport<SocketAddr> {
        let now = Time::from_secs(1);
        let mut send = Datagrams::new();
        let op = self.eps[at].start(now, cmd, &mut send);
        self.deliver(now, send, at);
        let reports = self.eps[at].take_reports();
        reports.into_iter().find(|r| r.id == op).expect("the operation finished")
    }
}

#[test]
fn ping_store_and_get_travel_as_krpc_between_two_endpoints() {
    let mut p = Pair::new();
    let ping = p.run(0, Command::Ping(p.addrs[1]));
    assert!(ping.success);
    assert_eq!(ping.target, *p.eps[1].id());
    // The first datagram is a KRPC ping query of exactly the size the simulator charges (size.rs).
    let first = krpc::decode(&p.log[0].1).unwrap();
    assert!(matches!(first.body, PacketBody::Query { query: Query::Ping, .. }));
    let core_ping = Message::<u32> { tx: 0, sender: NodeId::default(), body: Body::Ping, read_only: false };
    assert_eq!(p.log[0].1.len(), crate::wire::encoded_len(&core_ping));

    // A STORE needs a write token: get first, then put (BEP 44).
    let key = NodeId::hash_of(b"greeting");
    // (Values are held as their bencoding: BEP 44's v may be any bencoded value.)
    let put = p.run(0, Command::Put(key, Arc::from(&b"5:hello"[..])));
    assert!(put.success && put.replicas == 1, "{put:?}");
    assert_eq!(p.eps[1].core().store().len(), 1);
    let queries: Vec<Query> = p
        .log
        .iter()
        .filter(|(src, _)| *src == 0)
        .filter_map(|(_, b)| match krpc::decode(b).unwrap().body {
            PacketBody::Query { query, .. } => Some(query),
            _ => None,
        })
        .collect();
    let get_at = queries.iter().position(|q| matches!(q, Query::Get { target } if *target == key));
    let put_at = queries.iter().position(|q| matches!(q, Query::Put { target: Some(k), .. } if *k == key));
    assert!(get_at.is_some() && put_at.is_some() && get_at < put_at, "{queries:?}");

    // The value comes back from the other side.
    let get = p.run(1, Command::Get(key));
    assert_eq!(get.kind, OpKind::Get);
    assert_eq!(get.value.as_deref(), Some(&b"5:hello"[..]));
    assert_eq!(p.eps[0].stats().dropped(), 0);
    assert_eq!(p.eps[1].stats().dropped(), 0);
}

#[test]
fn an_immutable_item_is_put_as_plain_bep44_with_its_target() {
    let mut p = Pair::new();
    p.run(0, Command::Ping(p.addrs[1]));
    let v = b"12:Hello World!";
    let key = krpc::immutable_target(b"Hello World!");
    assert!(p.run(0, Command::Put(key, Arc::from(&v[..]))).success);
    let put = p.log.iter().find_map(|(_, b)| match krpc::decode(b).unwrap().body {
        PacketBody::Query { query: q @ Query::Put { .. }, .. } => Some(q),
        _ => None,
    });
    assert!(matches!(put, Some(Query::Put { target: Some(t), .. }) if t == key), "{put:?}");
    assert!(p.eps[1].core().store().get(&key, Time::from_secs(2)).is_some());
}

#[test]
fn dictionaries_lists_and_integers_are_stored_and_served_as_bep44_items() {
    let mut p = Pair::new();
    assert!(p.run(0, Command::Ping(p.addrs[1])).success);
    for raw in [&b"d4:name6:kadsim7:versioni1ee"[..], b"l5:helloi42ee", b"i-1234e"] {
        let key = krpc::bencoded_target(raw);
        let put = p.run(0, Command::Put(key, Arc::from(raw)));
        assert!(put.success && put.replicas == 1, "{put:?}");
        let get = p.run(1, Command::Get(key));
        assert_eq!(get.value.as_deref(), Some(raw), "{}", String::from_utf8_lossy(raw));
    }
    assert_eq!(p.eps[1].core().store().len(), 3);
    // On the wire, v is the value itself, not a string holding it.
    assert!(p.log.iter().any(|(_, b)| b.windows(9).any(|w| w == b"1:vi-1234")));
}

#[test]
fn a_ping_claiming_a_known_id_from_another_port_is_counted_and_moves_nothing() {
    let mut p = Pair::new();
    assert!(p.run(0, Command::Ping(p.addrs[1])).success);
    let victim = *p.eps[1].id();
    let q = Packet {
        t: vec![7, 7],
        version: None,
        read_only: false,
        body: PacketBody::Query { id: victim, query: Query::Ping },
    };
    let mut send = Datagrams::new();
    p.eps[0].on_datagram(Time::from_secs(2), addr(6666), &krpc::encode(&q), &mut send);
    let stats = p.eps[0].stats();
    assert_eq!(stats.conflicting_claims, 1, "{stats:?}");
    let held: Vec<_> = p.eps[0].core().routing_table().contacts().filter(|c| c.id == victim).collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].addr, p.addrs[1], "the contact keeps its verified address");
}

#[test]
fn a_put_with_a_wrong_token_is_refused_with_error_203() {
    let mut ep = endpoint(3);
    let q = Packet {
        t: vec![1, 2],
        version: None,
        read_only: false,
        body: PacketBody::Query {
            id: NodeId::hash_of(b"x"),
            query: Query::Put { token: vec![9; 4], v: b"v".to_vec(), target: None, ttl: None },
        },
    };
    let mut send = Datagrams::new();
    ep.on_datagram(Time::from_secs(1), addr(9), &krpc::encode(&q), &mut send);
    assert_eq!(answers(&send).len(), 1);
    let reply = answers(&send).remove(0);
    assert_eq!(reply.t, vec![1, 2], "the reply echoes the query's transaction ID");
    assert!(matches!(reply.body, PacketBody::Error { code: ERR_PROTOCOL, .. }));
    assert_eq!(ep.stats().bad_token, 1);
    assert!(ep.core().store().is_empty());
}

#[test]
fn get_peers_is_answered_with_closest_nodes_and_a_token() {
    let mut p = Pair::new();
    assert!(p.run(0, Command::Ping(p.addrs[1])).success);
    let mut send = Datagrams::new();
    let q = query(b"torrent client", b"gp", Query::GetPeers { info_hash: NodeId::hash_of(b"torrent") });
    p.eps[0].on_datagram(Time::from_secs(2), addr(7), &q, &mut send);
    match answers(&send).remove(0).body {
        PacketBody::Response { response, .. } => {
            assert!(response.token.is_some());
            let nodes = response.nodes.expect("closest nodes");
            assert_eq!(nodes.iter().map(|n| n.0).collect::<Vec<_>>(), vec![*p.eps[1].id()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_methods_get_error_204_and_unsolicited_replies_are_dropped() {
    let mut ep = endpoint(4);
    let mut send = Datagrams::new();
    let q = Packet {
        t: vec![7],
        version: None,
        read_only: false,
        body: PacketBody::Query { id: NodeId::hash_of(b"y"), query: Query::Other { method: "announce_peer".into() } },
    };
    ep.on_datagram(Time::from_secs(1), addr(9), &krpc::encode(&q), &mut send);
    assert!(matches!(answers(&send).remove(0).body, PacketBody::Error { code: ERR_METHOD_UNKNOWN, .. }));
    let r = Packet {
        t: vec![0, 0, 0, 5],
        version: None,
        read_only: false,
        body: PacketBody::Response { id: NodeId::hash_of(b"y"), response: Response::default() },
    };
    send.clear();
    ep.on_datagram(Time::from_secs(1), addr(9), &krpc::encode(&r), &mut send);
    assert!(send.is_empty());
    assert_eq!(ep.stats().unexpected, 1);
    ep.on_datagram(Time::from_secs(1), addr(9), &[b'x'; 1600], &mut send);
    assert_eq!(ep.stats().oversized, 1);
    assert_eq!(ep.stats().unknown_method, 1);
}

/// The replies (responses and errors) among datagrams sent, without the
/// validation pings a first contact may draw.
fn answers(send: &Datagrams) -> Vec<Packet> {
    send.iter().map(|(_, b)| krpc::decode(b).unwrap()).filter(|p| !matches!(p.body, PacketBody::Query { .. })).collect()
}

fn query(id: &[u8], t: &[u8], query: Query) -> Vec<u8> {
    krpc::encode(&Packet {
        t: t.to_vec(),
        version: None,
        read_only: false,
        body: PacketBody::Query { id: NodeId::hash_of(id), query },
    })
}

/// The token `ep` hands to `from` in its reply to a `get`.
fn token_from(ep: &mut Endpoint, now: Time, from: SocketAddr, target: NodeId) -> Vec<u8> {
    let mut send = Datagrams::new();
    ep.on_datagram(now, from, &query(b"peer", b"g", Query::Get { target }), &mut send);
    match answers(&send).remove(0).body {
        PacketBody::Response { response, .. } => response.token.expect("a get reply carries a token"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tokens_expire_after_two_rotations_even_when_the_node_was_idle() {
    let mut ep = endpoint(6);
    let peer = addr(9);
    let t0 = Time::from_secs(10);
    let token = token_from(&mut ep, t0, peer, krpc::immutable_target(b"x"));
    let put = |token: &[u8]| {
        query(b"peer", b"p", Query::Put { token: token.to_vec(), v: b"x".to_vec(), target: None, ttl: None })
    };
    // Within one rotation period, and within the next, the token is good (BEP 5: up to 10 minutes).
    let mut send = Datagrams::new();
    ep.on_datagram(t0.plus(Duration::from_secs(400)), peer, &put(&token), &mut send);
    assert_eq!(ep.stats().bad_token, 0);
    // A token from another IP is not.
    ep.on_datagram(t0.plus(Duration::from_secs(401)), SocketAddr::from(([10, 0, 0, 1], 9)), &put(&token), &mut send);
    assert_eq!(ep.stats().bad_token, 1);
    // After 25 idle minutes, the old token is refused.
    ep.on_datagram(t0.plus(Duration::from_secs(1900)), peer, &put(&token), &mut send);
    assert_eq!(ep.stats().bad_token, 2);
}

#[test]
fn a_token_for_one_target_does_not_store_another() {
    let mut ep = endpoint(12);
    let peer = addr(9);
    let now = Time::from_secs(10);
    let (first, second) = (b"first item".to_vec(), b"second item".to_vec());
    let token = token_from(&mut ep, now, peer, krpc::immutable_target(&first));
    let mut send = Datagrams::new();
    let put = |v: &[u8], t: &[u8]| {
        query(
            b"peer",
            t,
            Query::Put { token: token.clone(), v: v.to_vec(), target: Some(krpc::immutable_target(v)), ttl: None },
        )
    };
    ep.on_datagram(now, peer, &put(&second, b"2"), &mut send);
    assert!(matches!(answers(&send).remove(0).body, PacketBody::Error { code: ERR_PROTOCOL, .. }), "refused with 203");
    assert_eq!((ep.core().store().len(), ep.stats().bad_token), (0, 1));
    ep.on_datagram(now, peer, &put(&first, b"1"), &mut send);
    assert_eq!(ep.core().store().len(), 1, "the token stores the item it was asked for");
}

/// A client of a node that binds tokens to targets (as libtorrent does):
/// each STORE is preceded by a `get` for its own key, and the `put`
/// carries the token that `get` brought.
#[test]
fn each_put_carries_a_token_got_for_its_own_target() {
    let (mut a, b) = (endpoint(13), addr(2001));
    let now = Time::from_secs(1);
    let b_id = NodeId::hash_of(b"libtorrent");
    let mut puts = Vec::new();
    for v in [&b"one"[..], b"two"] {
        let key = krpc::immutable_target(v);
        let mut send = Datagrams::new();
        let store = Body::Store { key, value: Arc::from(v), ttl_secs: 60 };
        let op = a.start(now, Command::Request { to: b, body: store }, &mut send);
        // Play b: answer a get with a token naming its target, a put with an ack.
        while let Some((_, bytes)) = send.pop() {
            let p = krpc::decode(&bytes).unwrap();
            let PacketBody::Query { query, .. } = p.body else { continue };
            let response = match query {
                Query::Get { target } => Response { token: Some(target.0[..4].to_vec()), ..Response::default() },
                Query::Put { token, target, .. } => {
                    puts.push((target, token));
                    Response::default()
                }
                other => panic!("{other:?}"),
            };
            let r =
                Packet { t: p.t, version: None, read_only: false, body: PacketBody::Response { id: b_id, response } };
            a.on_datagram(now, b, &krpc::encode(&r), &mut send);
        }
        let report = a.take_reports().into_iter().find(|r| r.id == op).expect("the STORE ended");
        assert!(matches!(report.reply, Some(Body::Stored { accepted: true })), "{report:?}");
    }
    assert_eq!(puts.len(), 2);
    for (target, token) in puts {
        assert_eq!(Some(token), target.map(|t| t.0[..4].to_vec()), "the token of the put's own target");
    }
}

#[test]
fn one_public_address_may_fill_an_eighth_of_the_store_per_hour() {
    let cfg = Config { max_stored_pairs: 80, ..Config::default() };
    let mut ep = Endpoint::new(NodeId::hash_of(b"q"), Arc::new(cfg), 1, Time::ZERO).unwrap();
    let (public, other) = (SocketAddr::from(([203, 0, 113, 5], 6881)), SocketAddr::from(([198, 51, 100, 7], 6881)));
    let mut send = Datagrams::new();
    let mut put_all = |ep: &mut Endpoint, from: SocketAddr, now: Time, n: usize| {
        for i in 0..n {
            let v = format!("{from} {now:?} {i}").into_bytes();
            let token = token_from(ep, now, from, krpc::immutable_target(&v));
            ep.on_datagram(
                now,
                from,
                &query(b"peer", b"p", Query::Put { token, v, target: None, ttl: None }),
                &mut send,
            );
        }
    };
    put_all(&mut ep, public, Time::from_secs(1), 15);
    assert_eq!((ep.core().store().len(), ep.stats().over_quota), (10, 5), "80 / 8 = 10 per hour");
    put_all(&mut ep, other, Time::from_secs(2), 3);
    assert_eq!(ep.core().store().len(), 13, "another address has its own quota");
    put_all(&mut ep, public, Time::from_secs(3700), 4);
    assert_eq!(ep.core().store().len(), 17, "a new hour, a new quota");
    put_all(&mut ep, addr(9), Time::from_secs(3701), 30);
    assert_eq!(ep.core().store().len(), 47, "loopback is exempt");
}

#[test]
fn a_string_key_put_cannot_replace_an_immutable_item() {
    let mut ep = endpoint(7);
    let peer = addr(9);
    let now = Time::from_secs(10);
    let v = b"Hello World!".to_vec();
    let target = krpc::immutable_target(&v);
    let token = token_from(&mut ep, now, peer, target);
    let mut send = Datagrams::new();
    let honest = Query::Put { token: token.clone(), v: v.clone(), target: Some(target), ttl: None };
    ep.on_datagram(now, peer, &query(b"peer", b"1", honest), &mut send);
    let forged = Query::Put { token, v: b"forged".to_vec(), target: Some(target), ttl: None };
    ep.on_datagram(now, peer, &query(b"peer", b"2", forged), &mut send);
    assert!(matches!(answers(&send).remove(1).body, PacketBody::Error { code: ERR_PROTOCOL, .. }));
    assert_eq!(ep.core().store().get(&target, now).map(|v| v.to_vec()), Some(krpc::bencode_bytes(&v)));
}

#[test]
fn an_error_reply_ends_a_store_at_once_instead_of_by_timeout() {
    let (mut a, b) = (endpoint(8), addr(2000));
    let now = Time::from_secs(1);
    let mut send = Datagrams::new();
    let op = a.start(now, Command::Request { to: b, body: Body::Ping }, &mut send);
    // b answers the ping, so a knows its ID.
    let t = krpc::decode(&send[0].1).unwrap().t;
    let pong = Packet {
        t,
        version: None,
        read_only: false,
        body: PacketBody::Response { id: NodeId::hash_of(b"b"), response: Response::default() },
    };
    let mut out = Datagrams::new();
    a.on_datagram(now, b, &krpc::encode(&pong), &mut out);
    assert!(a.take_reports().iter().any(|r| r.id == op && r.success));
    // A STORE to b: a asks for a token first; b answers with an error.
    let store = Body::Store { key: NodeId::hash_of(b"k"), value: Arc::from(&b"v"[..]), ttl_secs: 60 };
    send.clear();
    let op = a.start(now, Command::Request { to: b, body: store }, &mut send);
    let get = krpc::decode(&send[0].1).unwrap();
    assert!(matches!(get.body, PacketBody::Query { query: Query::Get { .. }, .. }));
    let refusal = Packet {
        t: get.t,
        version: None,
        read_only: false,
        body: PacketBody::Error { code: 201, message: "no".into() },
    };
    a.on_datagram(now, b, &krpc::encode(&refusal), &mut out);
    let report = a.take_reports().into_iter().find(|r| r.id == op).expect("the request ended at once");
    assert!(matches!(report.reply, Some(Body::Stored { accepted: false })), "{report:?}");
    assert_eq!(report.finished, now);
}

#[test]
fn a_query_with_a_value_too_big_gets_error_205() {
    let mut ep = endpoint(9);
    let mut send = Datagrams::new();
    let mut bytes =
        query(b"peer", b"zz", Query::Put { token: vec![1; 4], v: vec![b'x'; 1000], target: None, ttl: None });
    // Grow the value from 1000 to 1001 bytes: "1000:xxx…" becomes "1001:xxx…x".
    let at = bytes.windows(5).position(|w| w == b"1000:").unwrap();
    bytes[at + 3] = b'1';
    bytes.insert(at + 5, b'x');
    ep.on_datagram(Time::from_secs(1), addr(9), &bytes, &mut send);
    let reply = answers(&send).remove(0);
    assert_eq!(reply.t, b"zz".to_vec());
    assert!(matches!(reply.body, PacketBody::Error { code: krpc::ERR_VALUE_TOO_BIG, .. }));
    assert_eq!(ep.stats().malformed, 1);
}

#[test]
fn one_address_cannot_speak_for_several_node_ids() {
    let mut p = Pair::new();
    assert!(p.run(0, Command::Ping(p.addrs[1])).success);
    // A query from node 1's address under another ID is dropped.
    let mut send = Datagrams::new();
    p.eps[0].on_datagram(Time::from_secs(2), p.addrs[1], &query(b"sybil", b"s", Query::Ping), &mut send);
    assert!(send.is_empty());
    assert_eq!(p.eps[0].stats().id_conflicts, 1);
    assert_eq!(p.eps[0].core().routing_table().len(), 1);
}

/// An endpoint that knows 20 nodes and holds a 1000-byte value and a short one.
fn well_connected() -> (Endpoint, NodeId, NodeId) {
    let mut ep = endpoint(10);
    for i in 0..20u16 {
        ep.add_contact(NodeId::hash_of(&i.to_be_bytes()), SocketAddr::from(([10, 0, 0, 1], 7000 + i)));
    }
    let (big, small) = (NodeId::hash_of(b"big"), NodeId::hash_of(b"small"));
    let mut send = Datagrams::new();
    let peer = addr(40000);
    for (key, v) in [(big, vec![b'x'; 1000]), (small, b"hi".to_vec())] {
        let token = token_from(&mut ep, Time::from_secs(1), peer, key);
        let put = Query::Put { token, v, target: Some(key), ttl: None };
        ep.on_datagram(Time::from_secs(1), peer, &query(b"peer", b"p", put), &mut send);
    }
    assert_eq!(ep.core().store().len(), 2);
    (ep, big, small)
}

/// Everything `ep` sends to `from` in the 60 s after one datagram from it.
fn sent_after(ep: &mut Endpoint, from: SocketAddr, datagram: &[u8]) -> usize {
    let mut send = Datagrams::new();
    let t0 = Time::from_secs(10);
    ep.on_datagram(t0, from, datagram, &mut send);
    for s in 1..=60 {
        ep.on_timer(t0.plus(Duration::from_secs(s)), &mut send);
    }
    send.iter().filter(|(to, _)| *to == from).map(|(_, b)| b.len()).sum()
}

#[test]
fn no_single_datagram_makes_the_node_send_more_than_4x_its_size() {
    let target = NodeId::hash_of(b"anything");
    let (_, big, small) = well_connected();
    let queries = [
        ("ping", Query::Ping),
        ("find_node", Query::FindNode { target }),
        ("get (nodes)", Query::Get { target }),
        ("get (1000-byte value)", Query::Get { target: big }),
        ("get (short value)", Query::Get { target: small }),
        ("get_peers", Query::GetPeers { info_hash: target }),
        ("put (bad token)", Query::Put { token: vec![0; 4], v: b"v".to_vec(), target: None, ttl: None }),
        ("unknown method", Query::Other { method: "vote".into() }),
    ];
    for (i, (what, q)) in queries.into_iter().enumerate() {
        let (mut ep, _, _) = well_connected();
        let from = SocketAddr::from(([192, 0, 2, 1], 1000 + i as u16));
        let bytes = query(b"stranger", b"t", q);
        let sent = sent_after(&mut ep, from, &bytes);
        eprintln!("{what}: {} bytes in, {sent} bytes out ({:.2}x)", bytes.len(), sent as f64 / bytes.len() as f64);
        assert!(sent > 0, "{what}: answered");
        assert!(sent <= 4 * bytes.len(), "{what}: {sent} bytes sent for {} received", bytes.len());
    }
    // A malformed query still gets its error, within the limit.
    let (mut ep, _, _) = well_connected();
    let bad = b"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe";
    let sent = sent_after(&mut ep, SocketAddr::from(([192, 0, 2, 2], 1)), bad);
    assert!(sent <= 4 * bad.len(), "{sent} bytes for {}", bad.len());
}

#[test]
fn a_validated_address_gets_whole_replies() {
    let (mut ep, big, _) = well_connected();
    let from = SocketAddr::from(([192, 0, 2, 1], 1000));
    let mut send = Datagrams::new();
    let now = Time::from_secs(10);
    let trimmed = ep.stats().replies_trimmed;
    ep.on_datagram(now, from, &query(b"stranger", b"t", Query::FindNode { target: big }), &mut send);
    // First contact: a validation ping, and a reply with fewer than k contacts.
    let probe = krpc::decode(&send[0].1).unwrap();
    assert!(matches!(probe.body, PacketBody::Query { query: Query::Ping, .. }), "{probe:?}");
    let nodes = |b: &[u8]| match krpc::decode(b).unwrap().body {
        PacketBody::Response { response, .. } => response.nodes.map_or(0, |n| n.len()),
        other => panic!("{other:?}"),
    };
    assert!(nodes(&send[1].1) < 20, "trimmed to fit");
    assert_eq!(ep.stats().replies_trimmed, trimmed + 1);
    // The stranger answers the ping: from now on it gets whole replies.
    let pong = Packet {
        t: probe.t,
        version: None,
        read_only: false,
        body: PacketBody::Response { id: NodeId::hash_of(b"stranger"), response: Response::default() },
    };
    ep.on_datagram(now, from, &krpc::encode(&pong), &mut send);
    send.clear();
    ep.on_datagram(now, from, &query(b"stranger", b"u", Query::FindNode { target: big }), &mut send);
    assert_eq!(nodes(&send[0].1), 20);
    send.clear();
    ep.on_datagram(now, from, &query(b"stranger", b"v", Query::Get { target: big }), &mut send);
    assert!(matches!(
        krpc::decode(&send[0].1).unwrap().body,
        PacketBody::Response { response: Response { v: Some(_), .. }, .. }
    ));
}

#[test]
fn one_ip_over_its_budget_is_dropped_unread_and_others_are_answered() {
    let mut ep = endpoint(11);
    ep.set_limits(ReplyLimits { datagrams_per_sec: 10, bytes_per_sec: 100_000 });
    let now = Time::from_secs(1);
    let mut send = Datagrams::new();
    // 1000 pings from 100 ports of one IP in one instant: a 2-second burst (20) is answered.
    for i in 0..1000u16 {
        let from = SocketAddr::from(([192, 0, 2, 9], 2000 + i % 100));
        ep.on_datagram(now, from, &query(b"flood", b"f", Query::Ping), &mut send);
    }
    let answered =
        send.iter().filter(|(_, b)| matches!(krpc::decode(b).unwrap().body, PacketBody::Response { .. })).count();
    assert!(answered <= 20, "{answered} pongs");
    assert!(ep.stats().rate_limited >= 980 - 20, "{:?}", ep.stats());
    // Another IP is answered at once; the flooder again after a second.
    send.clear();
    ep.on_datagram(now, SocketAddr::from(([192, 0, 2, 10], 1)), &query(b"other", b"o", Query::Ping), &mut send);
    assert!(
        send.iter()
            .any(|(to, b)| to.port() == 1 && matches!(krpc::decode(b).unwrap().body, PacketBody::Response { .. }))
    );
    send.clear();
    let later = now.plus(Duration::from_secs(1));
    ep.on_datagram(later, SocketAddr::from(([192, 0, 2, 9], 2000)), &query(b"flood", b"g", Query::Ping), &mut send);
    assert!(!send.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any bytes at all: the endpoint never panics, never answers garbage,
    /// and counts every datagram it could not use.
    #[test]
    fn random_datagrams_are_dropped_and_counted(data in proptest::collection::vec(any::<u8>(), 0..1700)) {
        let mut ep = endpoint(5);
        let mut send = Datagrams::new();
        ep.on_datagram(Time::from_secs(1), addr(9), &data, &mut send);
        let s = ep.stats().clone();
        prop_assert_eq!(s.received, 1);
        if krpc::decode(&data).is_err() {
            prop_assert_eq!(s.dropped(), 1);
            // At most an error reply, and only to something shaped like a query.
            prop_assert!(answers(&send).len() <= usize::from(krpc::query_tx(&data).is_some()));
        }
    }
}
