//! Tests of the behaviour hook (`kad::behaviour`) and of the value quorum,
//! driven by hand.

use super::*;
use crate::kad::behaviour::{forged_value, is_forged};
use crate::kad::id::test_id as id;

fn node(b: Behaviour, quorum: usize) -> Node<u32> {
    let cfg = Config { behaviour: b, value_quorum: quorum, ..Config::default() };
    Node::new(id(0x80, 0), Arc::new(cfg), 1, Time::ZERO).unwrap()
}

/// The reply `n` sends to one request from node 0x10 at address 16, if any.
fn ask(n: &mut Node<u32>, body: Body<u32>) -> Option<Body<u32>> {
    let mut out = Outbox::new();
    n.handle(
        Time(1),
        Input::Datagram { from: 16, msg: Message { read_only: false, tx: 7, sender: id(0x10, 0), body } },
        &mut out,
    );
    out.drain(..).find_map(|o| match o {
        Output::Send { to: 16, msg, .. } if msg.tx == 7 => Some(msg.body),
        _ => None,
    })
}

fn store(key: NodeId) -> Body<u32> {
    Body::Store { key, value: Value::from(&b"v"[..]), ttl_secs: 3600 }
}

#[test]
fn a_black_hole_answers_nothing() {
    let mut n = node(Behaviour::BLACK_HOLE, 1);
    for body in [Body::Ping, Body::FindNode { target: id(1, 0) }, Body::FindValue { key: id(1, 0) }, store(id(1, 0))] {
        assert_eq!(ask(&mut n, body), None);
    }
    assert!(n.store().is_empty());
}

#[test]
fn drop_store_acknowledges_and_discards() {
    let mut n = node(Behaviour::DROP_STORE, 1);
    assert_eq!(ask(&mut n, store(id(1, 0))), Some(Body::Stored { accepted: true }));
    assert!(n.store().is_empty());
    assert_eq!(ask(&mut n, Body::Ping), Some(Body::Pong), "it answers pings honestly");
}

#[test]
fn wrong_value_forges_every_value() {
    let mut n = node(Behaviour::WRONG_VALUE, 1);
    match ask(&mut n, Body::FindValue { key: id(1, 0) }) {
        Some(Body::Found { value, .. }) => assert!(is_forged(&value) && value == forged_value(&id(1, 0))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn poison_answers_with_the_colluders_closest_to_the_target() {
    let mut n = node(Behaviour::POISON, 1);
    n.add_contact(id(0x01, 1), 1); // an honest contact closest to the target
    let colluders: Vec<Contact<u32>> =
        (0..30u8).map(|i| Contact { id: id(0x40 + i, 0), addr: 100 + u32::from(i) }).collect();
    n.set_colluders(colluders.into());
    for body in [Body::FindNode { target: id(0x40, 0) }, Body::FindValue { key: id(0x40, 0) }] {
        let Some(Body::Nodes { contacts }) = ask(&mut n, body) else { panic!("a contact list") };
        assert_eq!(contacts.len(), 20, "k colluders");
        assert!(contacts.iter().all(|c| c.addr >= 100), "colluders only");
        assert_eq!(contacts[0].id, id(0x40, 0), "nearest first");
        assert!(contacts.windows(2).all(|w| w[0].id.distance(&id(0x40, 0)) < w[1].id.distance(&id(0x40, 0))));
    }
}

#[test]
fn a_free_rider_stores_and_pings_but_never_routes() {
    let mut n = node(Behaviour::FREE_RIDE, 1);
    n.add_contact(id(0x01, 1), 1);
    assert_eq!(ask(&mut n, Body::Ping), Some(Body::Pong));
    assert_eq!(ask(&mut n, store(id(1, 0))), Some(Body::Stored { accepted: true }));
    assert_eq!(n.store().len(), 1);
    assert_eq!(ask(&mut n, Body::FindNode { target: id(1, 0) }), Some(Body::Nodes { contacts: vec![] }));
    assert!(matches!(ask(&mut n, Body::FindValue { key: id(1, 0) }), Some(Body::Found { .. })), "a held value");
    assert_eq!(ask(&mut n, Body::FindValue { key: id(2, 0) }), Some(Body::Nodes { contacts: vec![] }));
}

/// A get under `value_quorum = 2` ignores a lone value and ends once a second
/// node returns the same bytes; a forged value alone never reaches the quorum.
#[test]
fn a_value_quorum_needs_agreeing_replies_from_distinct_nodes() {
    let mut n = node(Behaviour::HONEST, 2);
    for i in 1..=4u8 {
        n.add_contact(id(i, 0), u32::from(i));
    }
    let key = id(0, 9);
    let mut out = Outbox::new();
    n.start(Time(0), Command::Get(key), &mut out);
    let mut txs: Vec<(u32, TxId)> = Vec::new();
    let collect = |out: &mut Outbox<u32>, txs: &mut Vec<(u32, TxId)>| {
        let mut done = Vec::new();
        for o in out.drain(..) {
            match o {
                Output::Send { to, msg, .. } => txs.push((to, msg.tx)),
                Output::Done(r) => done.push(r),
                _ => {}
            }
        }
        done
    };
    assert!(collect(&mut out, &mut txs).is_empty());
    let reply = |n: &mut Node<u32>, out: &mut Outbox<u32>, to: u32, tx: TxId, value: Value| {
        let msg = Message { read_only: false, tx, sender: id(to as u8, 0), body: Body::Found { value, ttl_secs: 60 } };
        n.handle(Time(10), Input::Datagram { from: to, msg }, out);
    };
    let good = Value::from(&b"good"[..]);
    let (to, tx) = txs[0];
    reply(&mut n, &mut out, to, tx, forged_value(&key));
    let (to, tx) = txs[1];
    reply(&mut n, &mut out, to, tx, good.clone());
    assert!(collect(&mut out, &mut txs).is_empty(), "two different values: no quorum yet");
    let (to, tx) = txs[2];
    reply(&mut n, &mut out, to, tx, good.clone());
    let done = collect(&mut out, &mut txs);
    assert_eq!(done.len(), 1);
    assert!(done[0].success && done[0].value.as_ref() == Some(&good));
}
