//! Tests of the KRPC codec (`krpc.rs`): BEP 5 and BEP 44 examples byte for
//! byte, strictness, and sizes against the simulator's.

use super::*;
use crate::kad::{Body, Contact, Message};
use crate::wire::encoded_len;
use crate::wire::size::{STORE_REFUSED, STORE_REFUSED_CODE};
use proptest::prelude::*;
use std::sync::Arc;

const ID_A: &str = "abcdefghij0123456789";
const ID_M: &str = "mnopqrstuvwxyz123456";

fn id(s: &str) -> NodeId {
    NodeId::from_bytes(s.as_bytes().try_into().unwrap())
}

/// A packet as in BEP 5's examples: `t` = "aa", no version; queries from ID_A, responses from ID_M.
fn bep5(body: PacketBody) -> Packet {
    Packet { t: b"aa".to_vec(), version: None, read_only: false, body }
}

fn q(query: Query) -> PacketBody {
    PacketBody::Query { id: id(ID_A), query }
}

fn r(response: Response) -> PacketBody {
    PacketBody::Response { id: id(ID_M), response }
}

#[test]
fn bep5_examples_round_trip_byte_exact() {
    // BEP 5, "ping", "find_node" and "Errors" examples.
    let error = PacketBody::Error { code: ERR_GENERIC, message: "A Generic Error Ocurred".into() };
    let cases = [
        ("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", q(Query::Ping)),
        ("d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re", r(Response::default())),
        (
            "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
            q(Query::FindNode { target: id(ID_M) }),
        ),
        ("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee", error),
    ];
    for (wire, body) in cases {
        assert_eq!(decode(wire.as_bytes()), Ok(bep5(body.clone())), "{wire}");
        assert_eq!(String::from_utf8(encode(&bep5(body))).unwrap(), wire);
    }
}

#[test]
fn bep44_immutable_target_test_vector() {
    // BEP 44, "Test vectors": immutable, value "Hello World!":
    // target = SHA-1("12:Hello World!") = e5f96f6f38320f0f33959cb4d3d656452117aadb.
    assert_eq!(immutable_target(b"Hello World!").to_hex(), "e5f96f6f38320f0f33959cb4d3d656452117aadb");
    assert_eq!(immutable_target(b"Hello World!"), NodeId::hash_of(b"12:Hello World!"));
    assert_eq!(immutable_target(b""), NodeId::hash_of(b"0:"));
}

#[test]
fn unknown_keys_mutable_put_and_unknown_methods() {
    // Unknown keys are ignored at every level (BEP 5 lets implementations add fields).
    let wire = format!("d2:ip6:abcdef1:rd2:id20:{ID_M}6:nodes60:6:valuesl6:abcdefee1:t2:aa1:v4:UT011:y1:re");
    let p = decode(wire.as_bytes()).unwrap();
    assert_eq!(p.version.as_deref(), Some(&b"UT01"[..]));
    assert_eq!(p.body, r(Response::default()));
    // BEP 44 get with `seq`.
    let get = format!("d1:ad2:id20:{ID_A}3:seqi4e6:target20:{ID_M}e1:q3:get1:t2:aa1:y1:qe");
    assert_eq!(decode(get.as_bytes()).unwrap().body, q(Query::Get { target: id(ID_M) }));
    // BEP 44 mutable put: not stored, answered as an unknown method.
    let mutable = format!(
        "d1:ad2:id20:{ID_A}1:k32:{}3:seqi1e3:sig64:{}5:token2:tk1:v2:hie1:q3:put1:t2:aa1:y1:qe",
        "k".repeat(32),
        "s".repeat(64)
    );
    assert_eq!(decode(mutable.as_bytes()).unwrap().body, q(Query::Other { method: "put(mutable)".into() }));
    let gp = format!("d1:ad2:id20:{ID_A}9:info_hash20:{ID_M}e1:q9:get_peers1:t2:aa1:y1:qe");
    assert_eq!(decode(gp.as_bytes()).unwrap().body, q(Query::GetPeers { info_hash: id(ID_M) }));
    assert_eq!(encode(&decode(gp.as_bytes()).unwrap()), gp.as_bytes(), "get_peers re-encodes byte-exact");
    let ap = format!("d1:ad2:id20:{ID_A}9:info_hash20:{ID_M}4:porti6881e5:token2:tke1:q13:announce_peer1:t2:aa1:y1:qe");
    assert_eq!(decode(ap.as_bytes()).unwrap().body, q(Query::Other { method: "announce_peer".into() }));
    // A malformed optional version is dropped; invalid UTF-8 in an error message is replaced.
    let e = b"d1:eli202e2:\xff!e1:t2:aa1:vi1e1:y1:ee";
    let p = decode(e).unwrap();
    assert_eq!(p.version, None);
    assert_eq!(p.body, PacketBody::Error { code: ERR_SERVER, message: "\u{fffd}!".into() });
    // Compact node info (BEP 5): ID, IPv4, port in network order.
    let mut wire = format!("d1:rd2:id20:{ID_M}5:nodes26:{ID_A}").into_bytes();
    wire.extend_from_slice(b"\x0a\x00\x00\x01\x1a\xe15:token2:tk3:ttli60e1:v2:hie1:t2:aa1:y1:re");
    let p = decode(&wire).unwrap();
    let response = Response {
        nodes: Some(vec![(id(ID_A), SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 6881))]),
        token: Some(b"tk".to_vec()),
        v: Some(b"2:hi".to_vec()),
        ttl: Some(60),
    };
    assert_eq!(p.body, r(response));
    assert_eq!(encode(&p), wire);
}

#[test]
fn any_bencoded_value_is_carried_raw_and_hashed_as_bencoded() {
    // BEP 44: v may be any bencoded type; libtorrent stores dictionaries, lists and integers.
    for raw in [&b"i42e"[..], b"i-7e", b"le", b"li1e3:abce", b"d1:ai1e1:bl1:xee", b"12:Hello World!"] {
        let wire = format!("d1:ad2:id20:{ID_A}5:token2:tk1:v{}e1:q3:put1:t2:aa1:y1:qe", String::from_utf8_lossy(raw));
        let p = decode(wire.as_bytes()).unwrap();
        let PacketBody::Query { query: Query::Put { v, .. }, .. } = &p.body else { panic!("{p:?}") };
        assert_eq!(v, raw);
        assert_eq!(encode(&p), wire.as_bytes(), "re-encodes byte-exact");
        assert!(valid_value(raw));
    }
    assert_eq!(bencoded_target(b"12:Hello World!"), immutable_target(b"Hello World!"));
    assert_eq!(bencoded_target(b"i42e"), NodeId::hash_of(b"i42e"));
    assert_eq!(bytes_content(b"5:hello"), Some(&b"hello"[..]));
    assert_eq!(bytes_content(b"i5e"), None);
    // A non-string v whose bencoding exceeds 1000 bytes is refused; so is an invalid one.
    let long_list = format!("l{}e", "i1e".repeat(333)); // 1001 bytes
    let wire = format!("d1:ad2:id20:{ID_A}5:token2:tk1:v{long_list}e1:q3:put1:t2:aa1:y1:qe");
    assert_eq!(decode(wire.as_bytes()), Err(DecodeError::BadField { field: "a.v", why: "too long" }));
    assert!(!valid_value(long_list.as_bytes()) && !valid_value(b"i01e") && !valid_value(b"hello"));
}

fn put_with_v(len: usize) -> Vec<u8> {
    format!("d1:ad2:id20:{ID_A}5:token2:tk1:v{len}:{}e1:q3:put1:t2:aa1:y1:qe", "x".repeat(len)).into_bytes()
}

#[test]
fn strictness() {
    assert!(decode(&put_with_v(MAX_VALUE)).is_ok());
    let ping = |a: &str| format!("d1:ad{a}e1:q4:ping1:t2:aa1:y1:qe");
    let resp = |r: &str| format!("d1:rd2:id20:{ID_M}{r}e1:t2:aa1:y1:re");
    // Not strict bencode (BEP 3): leading zero, -0, empty integer, leading zero in a length,
    // truncated string, unsorted keys, duplicate key.
    for b in [&b"i01e"[..], b"i-0e", b"ie", b"03:abc", b"5:abc", b"d1:bi1e1:ai2ee", b"d1:ai1e1:ai2ee"] {
        assert!(matches!(decode(b), Err(DecodeError::Bencode(_))), "{}", String::from_utf8_lossy(b));
    }
    let bad: Vec<(Vec<u8>, &str)> = vec![
        (format!("{}x", ping(&format!("2:id20:{ID_A}"))).into_bytes(), "trailing bytes"),
        (format!("{}{}", "l".repeat(17), "e".repeat(17)).into_bytes(), "nesting deeper than 16"),
        (ping("2:id19:abcdefghij012345678").into_bytes(), "19-byte id"),
        (put_with_v(MAX_VALUE + 1), "1001-byte v"),
        (b"le".to_vec(), "not a dict"),
        (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:y1:qe").into_bytes(), "missing t"),
        (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:t0:1:y1:qe").into_bytes(), "empty t"),
        (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:t33:{}1:y1:qe", "t".repeat(33)).into_bytes(), "33-byte t"),
        (format!("d1:ad2:id20:{ID_A}e1:q4:ping1:t2:aa1:y1:xe").into_bytes(), "y not q/r/e"),
        (b"d1:q4:ping1:t2:aa1:y1:qe".to_vec(), "missing a"),
        (b"d1:ai1e1:q4:ping1:t2:aa1:y1:qe".to_vec(), "a not a dict"),
        (format!("d1:ad2:id20:{ID_A}e1:q9:find_node1:t2:aa1:y1:qe").into_bytes(), "missing target"),
        (resp(&format!("5:token65:{}", "k".repeat(65))).into_bytes(), "65-byte token"),
        (resp("3:ttli-1e").into_bytes(), "negative ttl"),
        (resp("3:ttli4294967296e").into_bytes(), "ttl over u32"),
        (format!("d1:eli201e257:{}e1:t2:aa1:y1:ee", "m".repeat(257)).into_bytes(), "257-byte message"),
        (b"d1:eli201ee1:t2:aa1:y1:ee".to_vec(), "error without message"),
        (b"d1:el3:abc3:abce1:t2:aa1:y1:ee".to_vec(), "error code not an integer"),
    ];
    for (input, what) in bad {
        let r = decode(&input);
        assert!(r.is_err(), "{what}: accepted {r:?}");
    }
    // A 2000-byte datagram, a 27-byte `nodes`, a query without `a.id`.
    assert_eq!(decode(&[b'0'; 2000]), Err(DecodeError::Oversized(2000)));
    assert_eq!(
        decode(resp(&format!("5:nodes27:{}", "n".repeat(27))).as_bytes()),
        Err(DecodeError::BadField { field: "r.nodes", why: "length not a multiple of 26" })
    );
    assert_eq!(decode(ping("").as_bytes()), Err(DecodeError::Missing("a.id")));
}

#[test]
fn sizes_agree_with_the_simulator() {
    // kadsim sends a 4-byte `t` and its 4-byte version, as size.rs counts.
    let ks = |body| {
        encode(&Packet { t: b"abcd".to_vec(), version: Some(CLIENT_VERSION.to_vec()), read_only: false, body }).len()
    };
    let sim = |body: Body<u32>| encoded_len(&Message { read_only: false, tx: 1, sender: NodeId::default(), body });
    let me = NodeId::hash_of(b"me");
    let query = |query| PacketBody::Query { id: me, query };
    let reply = |response| PacketBody::Response { id: me, response };
    assert_eq!((ks(query(Query::Ping)), sim(Body::Ping)), (67, 67));
    assert_eq!((ks(reply(Response::default())), sim(Body::Pong)), (58, 58));
    assert_eq!(ks(reply(Response::default())), sim(Body::Stored { accepted: true }));
    assert_eq!((ks(query(Query::FindNode { target: me })), sim(Body::FindNode { target: me })), (103, 103));
    assert_eq!(ks(query(Query::Get { target: me })), sim(Body::FindValue { key: me }));
    let addr = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 6881);
    for n in 0..=20u32 {
        let nodes = (0..n).map(|_| (me, addr)).collect();
        let contacts = (0..n).map(|i| Contact { id: me, addr: i }).collect();
        let response = Response { nodes: Some(nodes), ..Response::default() };
        assert_eq!(ks(reply(response)), sim(Body::Nodes { contacts }), "{n} nodes");
    }
    for len in [0, 1, 9, 10, 99, 100, 999, 1000] {
        for ttl in [0, 5, 9, 10, 86_400, u32::MAX] {
            let value: Arc<[u8]> = Arc::from(vec![0u8; len]);
            let v = bencode_bytes(&vec![0; len]);
            let put = Query::Put { token: vec![7; 4], v: v.clone(), target: Some(me), ttl: Some(ttl) };
            assert_eq!(ks(query(put)), sim(Body::Store { key: me, value: value.clone(), ttl_secs: ttl }));
            let found = Response { token: Some(vec![7; 4]), v: Some(v), ttl: Some(ttl), nodes: None };
            assert_eq!(ks(reply(found)), sim(Body::Found { value, ttl_secs: ttl }), "len {len} ttl {ttl}");
        }
    }
    let refused = PacketBody::Error { code: ERR_GENERIC, message: "store full".into() };
    assert_eq!((ERR_GENERIC, "store full"), (STORE_REFUSED_CODE, STORE_REFUSED));
    assert_eq!(ks(refused), sim(Body::Stored { accepted: false }));
}

#[test]
fn read_only_queries_carry_ro_1_at_the_top_level_bep_43() {
    // BEP 43: "places a 'ro' key in the top-level message dictionary and
    // sets its value to 1"; keys stay sorted (r < ro < t).
    let ping = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:roi1e1:t2:aa1:y1:qe");
    let p = decode(ping.as_bytes()).unwrap();
    assert!(p.read_only);
    assert_eq!(p.body, PacketBody::Query { id: id(ID_A), query: Query::Ping });
    assert_eq!(encode(&p), ping.as_bytes(), "re-encodes byte-exact");
    // Not read-only: no `ro` key at all, and `ro` = 0 (as the `mainline`
    // crate sends on every message) reads as not set.
    let plain = Packet { read_only: false, ..p.clone() };
    assert!(!String::from_utf8_lossy(&encode(&plain)).contains("2:ro"));
    let zero = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:roi0e1:t2:aa1:y1:qe");
    assert!(!decode(zero.as_bytes()).unwrap().read_only);
    let other = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:roi7e1:t2:aa1:y1:qe");
    assert!(decode(other.as_bytes()).unwrap().read_only);
    // A reply with `ro` decodes too (the mainline crate sets `ro` = 0 on replies).
    let resp = format!("d1:rd2:id20:{ID_M}e2:roi0e1:t2:aa1:y1:re");
    assert!(decode(resp.as_bytes()).is_ok());
    // A malformed flag is refused by name.
    let bad = format!("d1:ad2:id20:{ID_A}e1:q4:ping2:ro1:11:t2:aa1:y1:qe");
    assert_eq!(decode(bad.as_bytes()), Err(DecodeError::BadField { field: "ro", why: "not an integer" }));
    // And the simulator charges the 7 bytes of `2:roi1e`.
    let me = NodeId::hash_of(b"me");
    let ks = |read_only| {
        let body = PacketBody::Query { id: me, query: Query::FindNode { target: me } };
        encode(&Packet { t: b"abcd".to_vec(), version: Some(CLIENT_VERSION.to_vec()), read_only, body }).len()
    };
    let msg = Message { read_only: true, tx: 1, sender: NodeId::default(), body: Body::<u32>::FindNode { target: me } };
    assert_eq!((ks(true), encoded_len(&msg)), (ks(false) + 7, ks(false) + 7));
}

#[test]
fn long_error_messages_are_cut_on_a_char_boundary() {
    let message = "é".repeat(200); // 400 bytes
    let p =
        Packet { t: b"aa".to_vec(), version: None, read_only: false, body: PacketBody::Error { code: 201, message } };
    let PacketBody::Error { message, .. } = decode(&encode(&p)).unwrap().body else { panic!() };
    assert_eq!(message, "é".repeat(128));
}

fn node_id() -> impl Strategy<Value = NodeId> {
    any::<[u8; 20]>().prop_map(NodeId::from_bytes)
}

fn bytes(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), len)
}

/// A BEP 44 `v` as its raw bencoding: a byte string, an integer, or a
/// small list or dictionary of them.
fn value() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        bytes(0..=MAX_VALUE).prop_map(|b| bencode_bytes(&b)),
        any::<i64>().prop_map(|n| format!("i{n}e").into_bytes()),
    ];
    let small = prop_oneof![
        bytes(0..=20).prop_map(|b| bencode_bytes(&b)),
        any::<i64>().prop_map(|n| format!("i{n}e").into_bytes())
    ];
    let list = proptest::collection::vec(small.clone(), 0..8).prop_map(|items| {
        let mut out = b"l".to_vec();
        items.iter().for_each(|i| out.extend_from_slice(i));
        out.push(b'e');
        out
    });
    let dict = proptest::collection::btree_map(bytes(0..=8), small, 0..8).prop_map(|entries| {
        let mut out = b"d".to_vec();
        for (k, v) in entries {
            out.extend_from_slice(&bencode_bytes(&k));
            out.extend_from_slice(&v);
        }
        out.push(b'e');
        out
    });
    prop_oneof![leaf, list, dict]
}

fn query() -> impl Strategy<Value = Query> {
    prop_oneof![
        Just(Query::Ping),
        node_id().prop_map(|target| Query::FindNode { target }),
        node_id().prop_map(|target| Query::Get { target }),
        node_id().prop_map(|info_hash| Query::GetPeers { info_hash }),
        (bytes(0..=MAX_TOKEN), value(), proptest::option::of(node_id()), any::<Option<u32>>())
            .prop_map(|(token, v, target, ttl)| Query::Put { token, v, target, ttl }),
        "put\\(mutable\\)|[a-z_]{1,20}|\\PC{1,16}"
            .prop_filter("a known method", |m| !["ping", "find_node", "get", "put", "get_peers"].contains(&m.as_str()))
            .prop_map(|method| Query::Other { method }),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    let addr = any::<(u32, u16)>().prop_map(|(ip, port)| SocketAddrV4::new(Ipv4Addr::from(ip), port));
    let nodes = proptest::option::of(proptest::collection::vec((node_id(), addr), 0..=8));
    let (token, v) = (proptest::option::of(bytes(0..=MAX_TOKEN)), proptest::option::of(value()));
    let response =
        (nodes, token, v, any::<Option<u32>>()).prop_map(|(nodes, token, v, ttl)| Response { nodes, token, v, ttl });
    let body = prop_oneof![
        (node_id(), query()).prop_map(|(id, query)| PacketBody::Query { id, query }),
        (node_id(), response).prop_map(|(id, response)| PacketBody::Response { id, response }),
        (any::<i64>(), "\\PC{0,64}").prop_map(|(code, message)| PacketBody::Error { code, message }),
    ];
    (bytes(1..=MAX_TX), proptest::option::of(bytes(0..=MAX_VERSION)), any::<bool>(), body)
        .prop_map(|(t, version, read_only, body)| Packet { t, version, read_only, body })
}

/// Whatever the decoder accepts re-encodes to a datagram it accepts again, unchanged.
fn reencodes(p: Packet) -> Result<(), TestCaseError> {
    let bytes = encode(&p);
    prop_assert!(bytes.len() <= MAX_DATAGRAM);
    prop_assert_eq!(decode(&bytes), Ok(p));
    Ok(())
}

proptest! {
    #[test]
    fn round_trip(p in packet()) {
        reencodes(p)?;
    }

    #[test]
    fn random_bytes_never_panic(buf in bytes(0..=2000)) {
        if let Ok(p) = decode(&buf) {
            reencodes(p)?;
        }
    }

    #[test]
    fn mutated_packets_never_panic(
        p in packet(), op in 0..4u8, at in any::<proptest::sample::Index>(), byte in any::<u8>()
    ) {
        let mut buf = encode(&p);
        match op {
            0 => { let i = at.index(buf.len()); buf[i] ^= 1 << (byte % 8); }
            1 => buf.insert(at.index(buf.len() + 1), byte),
            2 => { buf.remove(at.index(buf.len())); }
            _ => buf.truncate(at.index(buf.len())),
        }
        if let Ok(p) = decode(&buf) {
            reencodes(p)?;
        }
    }
}
