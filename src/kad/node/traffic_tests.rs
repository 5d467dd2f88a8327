//! The class of every message the core sends: lookup traffic for the user's
//! node lookups, gets and puts, maintenance traffic for the rest, a reply in
//! its request's class (`kad::traffic`, after Li et al., IPTPS 2004).

use super::*;

/// The class the core gave each message sent, with the message.
fn classes(out: &[Output<u32>]) -> Vec<(Body<u32>, Option<Traffic>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { msg, traffic, .. } => Some((msg.body.clone(), *traffic)),
            _ => None,
        })
        .collect()
}

/// A node that knows eight contacts.
fn node_with_contacts() -> Node<u32> {
    let mut a = node(id(0x10, 0), Config::default());
    for i in 1..9u8 {
        a.add_contact(id(i * 0x1d, i), u32::from(i));
    }
    a
}

#[test]
fn a_workload_lookup_get_and_put_send_lookup_traffic_and_a_reply_is_left_to_the_driver() {
    let key = id(0x70, 0);
    for cmd in [Command::FindNode(key), Command::Get(key), Command::Put(key, Arc::from(&b"v"[..]))] {
        let mut a = node_with_contacts();
        let mut out = Outbox::new();
        a.start(Time::ZERO, cmd.clone(), &mut out);
        let c = classes(&out);
        assert_eq!(c.len(), 3, "α = 3 queries for {cmd:?}");
        for (body, class) in c {
            assert!(matches!(body, Body::FindNode { .. } | Body::FindValue { .. }));
            assert_eq!(class, Some(Traffic::Lookup), "{cmd:?}");
        }
    }
    // The node answering does not know why it was asked: its reply carries no class.
    let mut b = node(id(2, 2), Config::default());
    let mut out = Outbox::new();
    for (tx, body) in [(1, Body::Ping), (2, Body::FindNode { target: key }), (3, Body::FindValue { key })] {
        b.handle(Time::ZERO, Input::Datagram { from: 0, msg: request(id(1, 1), tx, body) }, &mut out);
    }
    let c = classes(&out);
    assert_eq!(c.len(), 3);
    assert!(c.iter().all(|(body, class)| !body.is_request() && class.is_none()), "{c:?}");
}

#[test]
fn refreshes_joins_and_republishes_send_maintenance_traffic() {
    // A bucket refresh after an idle hour (paper §2.3).
    let mut a = node_with_contacts();
    let mut out = Outbox::new();
    a.handle(Time(HOUR + SEC), Input::Timer(Timer::Maintenance), &mut out);
    let c = classes(&out);
    assert!(!c.is_empty(), "idle buckets are refreshed");
    assert!(c.iter().all(|(b, t)| matches!(b, Body::FindNode { .. }) && *t == Some(Traffic::Maintenance)));
    // A join, through a known node (its lookup) and through an address (its PING).
    for (bootstrap_id, first) in [(Some(id(2, 2)), "find_node"), (None, "ping")] {
        let mut j = node(id(1, 1), Config::default());
        out.clear();
        j.start(Time::ZERO, Command::Join { bootstrap: 2, id: bootstrap_id }, &mut out);
        let c = classes(&out);
        assert_eq!(c.len(), 1, "{first}");
        assert_eq!(c[0].1, Some(Traffic::Maintenance), "{first}");
    }
    // A user's single PING is no lookup of the workload.
    out.clear();
    node(id(1, 1), Config::default()).start(Time::ZERO, Command::Ping(2), &mut out);
    assert_eq!(classes(&out), vec![(Body::Ping, Some(Traffic::Maintenance))]);
    // The hourly republish of a pair stored here (paper §2.5): lookup and STOREs.
    let mut net = Net::build(24, Config { k: 4, ..Config::default() }, 11);
    let key = NodeId::hash_of(b"republished");
    net.start(0, Command::Put(key, Arc::from(&b"v"[..])));
    net.run_until(net.now + 30 * SEC);
    let put_end = net.now;
    let holders = net.holders(&key);
    assert_eq!(holders.len(), 4);
    net.run_until(put_end + HOUR + 60 * SEC);
    let later: Vec<_> = net.sent.iter().filter(|s| s.0 >= put_end).collect();
    let republished = later.iter().filter(|s| holders.contains(&s.1) && matches!(s.3.body, Body::Store { .. }));
    // A holder that receives another's republished STORE skips its own (§2.5).
    assert!(republished.clone().count() >= 1, "the holders republished after an hour");
    assert!(republished.into_iter().all(|s| s.4 == Traffic::Maintenance));
    assert!(later.iter().all(|s| s.4 == Traffic::Maintenance), "no workload ran after the put");
}

#[test]
fn a_put_stores_as_lookup_traffic_and_every_reply_takes_its_requests_class() {
    let mut net = Net::build(40, Config { k: 4, ..Config::default() }, 12);
    let t0 = net.now;
    let key = NodeId::hash_of(b"put me");
    net.start(3, Command::Put(key, Arc::from(&b"v"[..])));
    net.start(5, Command::FindNode(NodeId::hash_of(b"look me up")));
    net.start(7, Command::Get(NodeId::hash_of(b"nobody has me")));
    net.run_until(t0 + 30 * SEC);
    let window: Vec<_> = net.sent.iter().filter(|s| s.0 >= t0).collect();
    let stores = window.iter().filter(|s| s.1 == 3 && matches!(s.3.body, Body::Store { .. })).count();
    assert_eq!(stores, 4, "the put STOREs at the k = 4 closest");
    // No refresh is due (the network is two minutes old): every node lookup
    // and value lookup query is the operations' lookup traffic. Maintenance
    // here can only be a newcomer's verification PING and a hand-over to it
    // by a holder of the new pair (paper §2.5), and the replies to them.
    let replies = window.iter().filter(|s| !s.3.body.is_request()).count();
    assert!(replies > 10);
    for s in &window {
        let lookup = matches!(s.3.body, Body::FindNode { .. } | Body::FindValue { .. } | Body::Nodes { .. });
        assert!(!lookup || s.4 == Traffic::Lookup, "{:?} as {:?}", s.3.body, s.4);
    }
    let from_put = window.iter().filter(|s| s.1 == 3 && s.3.body.is_request());
    assert!(from_put.into_iter().all(|s| s.4 == Traffic::Lookup), "the put's queries and STOREs");
    // Each reply has its request's class: pair them by (requester, tx).
    for r in window.iter().filter(|s| !s.3.body.is_request()) {
        let req = window.iter().find(|q| q.1 == r.2 && q.2 == r.1 && q.3.tx == r.3.tx && q.3.body.is_request());
        assert_eq!(req.map(|q| q.4), Some(r.4), "reply {:?}", r.3.body);
    }
}

#[test]
fn a_gets_caching_store_is_lookup_traffic_paper_2_3() {
    let mut net = Net::build(80, Config { k: 4, ..Config::default() }, 8);
    let key = NodeId::hash_of(b"cache me");
    net.start(0, Command::Put(key, Arc::from(&b"v"[..])));
    net.run_until(net.now + 30 * SEC);
    let before = net.holders(&key);
    let origin = (0..80).filter(|i| !before.contains(i)).max_by_key(|&i| net.nodes[i].id().distance(&key)).unwrap();
    let t0 = net.now;
    net.start(origin, Command::Get(key));
    net.run_until(t0 + 30 * SEC);
    let cache: Vec<_> =
        net.sent.iter().filter(|s| s.0 >= t0 && s.1 == origin && matches!(s.3.body, Body::Store { .. })).collect();
    assert_eq!(cache.len(), 1, "one caching STORE");
    assert_eq!(cache[0].4, Traffic::Lookup);
    let ack = net.sent.iter().find(|s| s.2 == origin && s.3.tx == cache[0].3.tx && !s.3.body.is_request());
    assert_eq!(ack.map(|s| s.4), Some(Traffic::Lookup), "its acknowledgement too");
}

#[test]
fn eviction_and_verification_pings_and_hand_overs_are_maintenance_paper_2_2_2_5() {
    // A full bucket's head is pinged (paper §2.2); the newcomer gets its PONG unclassified.
    let cfg = Config { k: 2, eviction: crate::kad::Eviction::Ping, ..Config::default() };
    let (_, out) = full_far_bucket_then_newcomer(cfg);
    assert_eq!(classes(&out), vec![(Body::Ping, Some(Traffic::Maintenance)), (Body::Pong, None)]);
    // A closer newcomer is verified by a PING, then handed the pair (paper §2.5).
    let key = id(0x70, 0);
    let mut b = node(id(0x10, 0), Config { k: 1, ..Config::default() });
    let mut out = Outbox::new();
    let store = Body::Store { key, value: Arc::from(&b"v"[..]), ttl_secs: 86_400 };
    b.handle(Time::ZERO, Input::Datagram { from: 3, msg: request(id(3, 3), 2, store) }, &mut out);
    out.clear();
    let newcomer = id(0x70, 1);
    b.handle(Time(SEC), Input::Datagram { from: 5, msg: request(newcomer, 9, Body::Ping) }, &mut out);
    let c = classes(&out);
    assert!(c.contains(&(Body::Ping, Some(Traffic::Maintenance))), "{c:?}");
    let tx = sends(&out).iter().find(|(_, m)| m.body == Body::Ping).unwrap().1.tx;
    out.clear();
    b.handle(
        Time(SEC + 10 * MS),
        Input::Datagram { from: 5, msg: Message { read_only: false, tx, sender: newcomer, body: Body::Pong } },
        &mut out,
    );
    let c = classes(&out);
    let stores: Vec<_> = c.iter().filter(|(b, _)| matches!(b, Body::Store { .. })).collect();
    assert!(!stores.is_empty() && stores.iter().all(|(_, t)| *t == Some(Traffic::Maintenance)), "{c:?}");
    // Before a graceful departure: the hand-over STOREs.
    out.clear();
    b.hand_over(Time(2 * SEC), &mut out);
    let c = classes(&out);
    assert!(!c.is_empty() && c.iter().all(|(_, t)| *t == Some(Traffic::Maintenance)), "{c:?}");
}
