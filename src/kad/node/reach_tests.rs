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

/// The contacts a FIND_NODE for `target` from a third node gets back.
fn handed_out(a: &mut Node<u32>, now: u64, target: NodeId, out: &mut Outbox<u32>) -> Vec<NodeId> {
    let find = Message::new(77, id(0x33, 3), Body::FindNode { target });
    a.handle(Time(now), Input::Datagram { from: 33, msg: find }, out);
    let s = sends(out);
    let Some((_, Message { body: Body::Nodes { contacts }, .. })) = s.iter().find(|(to, m)| *to == 33 && m.tx == 77)
    else {
        panic!("no reply: {s:?}")
    };
    contacts.iter().map(|c| u32::unpack(c).id).collect()
}

#[test]
fn answered_only_hands_out_a_requester_only_once_it_answered_bep_5() {
    let cfg = Config { answered_only: true, ..Config::default() };
    let mut a = node(id(0x10, 0), cfg);
    let mut out = Outbox::new();
    // A request from a newcomer: answered, held of unknown status, not handed out.
    a.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 3, false) }, &mut out);
    let s = sends(&mut out);
    assert_eq!(s.len(), 1, "only the answer, no PING at once (it would pass a NAT's pinhole): {s:?}");
    assert_eq!(a.routing_table().answered(&id(0x90, 0)), Some(false));
    assert!(handed_out(&mut a, 2 * SEC, id(0x90, 0), &mut out).is_empty());
    // The paper's rule hands it out at once.
    let mut p = node(id(0x10, 0), Config::default());
    p.handle(Time(SEC), Input::Datagram { from: 9, msg: ping_from(id(0x90, 0), 3, false) }, &mut out);
    out.clear();
    assert_eq!(handed_out(&mut p, 2 * SEC, id(0x90, 0), &mut out), vec![id(0x90, 0)]);
    // 60 to 180 s later, one PING asks it to answer.
    a.handle(Time(60 * SEC), Input::Timer(Timer::Rpc), &mut out);
    let early: Vec<_> = sends(&mut out).into_iter().filter(|(to, _)| *to == 9).collect();
    let mut ping = early.first().cloned();
    if ping.is_none() {
        a.handle(Time(182 * SEC), Input::Timer(Timer::Rpc), &mut out);
        ping = sends(&mut out).into_iter().find(|(to, _)| *to == 9);
    }
    let (_, ping) = ping.expect("a confirmation PING by 181 s");
    assert_eq!(ping.body, Body::Ping);
    // (The third node that asked is a newcomer too, confirmed alike.)
    assert_eq!(a.stats().confirmation_pings, 2);
    let t = 183 * SEC;
    a.handle(Time(t), Input::Datagram { from: 9, msg: Message::new(ping.tx, id(0x90, 0), Body::Pong) }, &mut out);
    assert_eq!(a.routing_table().answered(&id(0x90, 0)), Some(true));
    assert_eq!(handed_out(&mut a, t + SEC, id(0x90, 0), &mut out), vec![id(0x90, 0)]);
}

#[test]
fn answered_only_skips_contacts_whose_last_request_failed_and_requests_clear_no_failure() {
    for answered_only in [true, false] {
        let cfg = Config { answered_only, rpc_timeout: std::time::Duration::from_secs(1), ..Config::default() };
        let mut p = node(id(0x10, 0), cfg);
        let mut out = Outbox::new();
        p.add_contact(id(0x90, 0), 20);
        p.add_contact(id(0xA0, 0), 21);
        p.start(Time(SEC), Command::FindNode(id(0x90, 1)), &mut out);
        // 0xA0 answers (it is known good), 0x90 does not.
        let s = sends(&mut out);
        let (_, q) = s.iter().find(|(to, _)| *to == 21).expect("0xA0 asked").clone();
        let nodes = Body::Nodes { contacts: Vec::new() };
        p.handle(Time(SEC + 1), Input::Datagram { from: 21, msg: Message::new(q.tx, id(0xA0, 0), nodes) }, &mut out);
        p.handle(Time(3 * SEC), Input::Timer(Timer::Rpc), &mut out);
        out.clear();
        assert_eq!(p.routing_table().failures(&id(0x90, 0)), 1);
        // Its own request: refreshed, but under the rule its failure stays.
        p.handle(Time(4 * SEC), Input::Datagram { from: 20, msg: ping_from(id(0x90, 0), 6, false) }, &mut out);
        let left = p.routing_table().failures(&id(0x90, 0));
        assert_eq!(left, u8::from(answered_only), "answered_only {answered_only}");
        assert!(p.routing_table().contains(&id(0x90, 0)));
        // A failed contact is neither handed out nor tried first.
        out.clear();
        let given = handed_out(&mut p, 5 * SEC, id(0x90, 0), &mut out);
        assert_eq!(given.contains(&id(0x90, 0)), !answered_only);
        assert!(given.contains(&id(0xA0, 0)));
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
