//! Tests of BEP 43's read-only nodes and of the answered-only admission rule
//! (BEP 5's table of good nodes), driven by hand.

use super::*;

use crate::kad::id::test_id as id;

const SEC: u64 = 1_000_000;

fn node(own: NodeId, cfg: Config) -> Node<u32> {
    Node::new(own, Arc::new(cfg), 1, Time::ZERO).unwrap()
}

fn sends(out: &mut Outbox<u32>) -> Vec<(u32, Message<u32>)> {
    out.drain(..)
        .filter_map(|o| match o {
            Output::Send { to, msg, .. } => Some((to, msg)),
            _ => None,
        })
        .collect()
}

fn ping_from(sender: NodeId, tx: TxId, read_only: bool) -> Message<u32> {
    Message { tx, sender, body: Body::Ping, read_only }
}

#[test]
fn a_read_only_node_flags_its_requests_and_answers_none_bep_43() {
    let cfg = Config { read_only: true, ..Config::default() };
    let mut a = node(id(0x10, 0), cfg);
    let mut out = Outbox::new();
    a.start(Time::ZERO, Command::Ping(7), &mut out);
    let s = sends(&mut out);
    assert_eq!(s.len(), 1);
    assert!(s[0].1.read_only, "BEP 43: ro = 1 in each outgoing query");
    // A request to it gets no answer and leaves its table as it was.
    a.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 3, false) }, &mut out);
    assert!(sends(&mut out).is_empty(), "BEP 43: no longer responds to queries");
    assert_eq!(a.stats().unanswered_requests, 1);
    // Replies to its own requests are taken, and their senders added.
    let tx = s[0].1.tx;
    a.handle(Time(SEC), Input::Datagram { from: 7, msg: Message::new(tx, id(0x70, 0), Body::Pong) }, &mut out);
    assert!(a.routing_table().contains(&id(0x70, 0)));
    // A node that is not read-only sends no flag, on requests or replies.
    let mut b = node(id(0x20, 0), Config::default());
    b.start(Time::ZERO, Command::Ping(7), &mut out);
    b.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 3, false) }, &mut out);
    let s = sends(&mut out);
    assert_eq!(s.len(), 2);
    assert!(s.iter().all(|(_, m)| !m.read_only));
}

#[test]
fn a_read_only_sender_is_answered_but_never_added_when_honoured_bep_43() {
    for honour in [true, false] {
        let mut a = node(id(0x10, 0), Config { honour_read_only: honour, ..Config::default() });
        let mut out = Outbox::new();
        a.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 3, true) }, &mut out);
        let s = sends(&mut out);
        assert_eq!(s.len(), 1, "answered");
        assert_eq!(s[0].1.body, Body::Pong);
        assert_eq!(a.routing_table().contains(&id(0x90, 0)), !honour, "honour {honour}");
        // Not a FIND_NODE of anybody's either.
        let find = Message::new(4, id(0x30, 0), Body::FindNode { target: id(0x90, 0) });
        a.handle(Time(2 * SEC), Input::Datagram { from: 3, msg: find }, &mut out);
        let s = sends(&mut out);
        let Body::Nodes { contacts } = &s[0].1.body else { panic!("{s:?}") };
        assert_eq!(contacts.iter().any(|c| u32::unpack(c).id == id(0x90, 0)), !honour);
    }
}

#[test]
fn answered_only_admits_a_requester_only_once_it_answers_a_ping_bep_5() {
    let cfg = Config { answered_only: true, k: 2, ..Config::default() };
    let mut a = node(id(0x10, 0), cfg);
    let mut out = Outbox::new();
    // A request from a newcomer whose bucket has room: answered, not added, PINGed.
    a.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 3, false) }, &mut out);
    let s = sends(&mut out);
    assert_eq!(s.len(), 2, "{s:?}");
    let pong = s.iter().find(|(_, m)| m.body == Body::Pong && m.tx == 3);
    let ping = s.iter().find(|(to, m)| *to == 9 && m.body == Body::Ping).expect("a PING to the newcomer").clone();
    assert!(pong.is_some(), "answered");
    assert!(!a.routing_table().contains(&id(0x90, 0)), "not before it answers");
    assert_eq!(a.stats().confirmation_pings, 1);
    // Another request before the answer: no second PING.
    a.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 4, false) }, &mut out);
    assert_eq!(sends(&mut out).len(), 1);
    // Its answer admits it.
    let pong = Message::new(ping.1.tx, id(0x90, 0), Body::Pong);
    a.handle(Time(SEC + 1), Input::Datagram { from: 9, msg: pong }, &mut out);
    assert!(a.routing_table().contains(&id(0x90, 0)));
    // A requester that never answers never gets in.
    a.handle(Time(SEC), Input::Datagram { from: 8, msg: ping_from(id(0xA0, 0), 5, false) }, &mut out);
    assert_eq!(sends(&mut out).len(), 2);
    a.handle(Time(10 * SEC), Input::Timer(Timer::Rpc), &mut out);
    assert!(!a.routing_table().contains(&id(0xA0, 0)));
    // The paper's rule adds a requester at once, with no PING.
    let mut p = node(id(0x10, 0), Config { k: 2, ..Config::default() });
    p.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 3, false) }, &mut out);
    assert_eq!(sends(&mut out).len(), 1);
    assert!(p.routing_table().contains(&id(0x90, 0)));
}

#[test]
fn answered_only_ignores_requesters_for_full_buckets_and_their_requests_clear_no_failures() {
    let cfg = Config { answered_only: true, k: 2, rpc_timeout: std::time::Duration::from_secs(1), ..Config::default() };
    let mut a = node(id(0x10, 0), cfg);
    let mut out = Outbox::new();
    // Two contacts far away (top bit set: a bucket that is not the own one
    // once the table splits), given as a bootstrap list would be.
    for (i, c) in [id(0x90, 0), id(0xA0, 0), id(0x11, 0), id(0x12, 0)].into_iter().enumerate() {
        assert!(a.add_contact(c, 20 + i as u32));
    }
    // A third far requester: its bucket is full of contacts that have not
    // failed, so no PING, and it stays out.
    a.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0xB0, 0), 3, false) }, &mut out);
    assert_eq!(sends(&mut out).len(), 1, "only the answer");
    assert!(!a.routing_table().contains(&id(0xB0, 0)));
    // A contact that failed once: its own request refreshes it, but its
    // failure stays (only an answer shows it can be reached). Under the
    // paper's rule the request clears it.
    for answered_only in [true, false] {
        let cfg = Config { answered_only, k: 2, rpc_timeout: std::time::Duration::from_secs(1), ..Config::default() };
        let mut p = node(id(0x10, 0), cfg);
        p.add_contact(id(0x90, 0), 20);
        p.start(Time(SEC), Command::FindNode(id(0x90, 1)), &mut out);
        assert!(sends(&mut out).iter().any(|(to, _)| *to == 20));
        p.handle(Time(3 * SEC), Input::Timer(Timer::Rpc), &mut out);
        assert_eq!(p.routing_table().failures(&id(0x90, 0)), 1);
        p.handle(Time(4 * SEC), Input::Datagram { from: 20, msg: ping_from(id(0x90, 0), 6, false) }, &mut out);
        let left = p.routing_table().failures(&id(0x90, 0));
        assert_eq!(left, u8::from(answered_only), "answered_only {answered_only}");
        assert!(p.routing_table().contains(&id(0x90, 0)));
    }
}

#[test]
fn a_join_takes_its_bootstrap_node_whatever_the_rule() {
    let cfg = Config { answered_only: true, ..Config::default() };
    let mut a = node(id(0x10, 0), cfg);
    let mut out = Outbox::new();
    a.start(Time::ZERO, Command::Join { bootstrap: 5, id: Some(id(0x50, 0)) }, &mut out);
    assert!(a.routing_table().contains(&id(0x50, 0)));
    let s = sends(&mut out);
    assert!(s.iter().any(|(to, m)| *to == 5 && matches!(m.body, Body::FindNode { .. })));
}
