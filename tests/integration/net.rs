//! kadsim's protocol core as a real node on UDP (`kadsim::net`), on the
//! loopback interface: twenty nodes storing and finding each other's values;
//! interoperation with an independent Mainline DHT implementation (the
//! `mainline` crate: BEP 5 join and lookups, BEP 44 immutable get and put in
//! both directions); the `kadsim node` prompt driven through a pipe, every
//! command and its answer; and hostile datagrams (garbage, truncated and
//! corrupted KRPC, oversized packets, stray replies, unknown methods, bad
//! tokens, oversized values, a store flood) that must be counted and dropped
//! while the node keeps serving.
//!
//! Every socket is bound to 127.0.0.1 port 0, so the tests run in parallel.

use kadsim::kad::{Body, Config, Contact, NodeId};
use kadsim::net::{NetStats, Node, NodeConfig};
use kadsim::scenario::Profile;
use kadsim::wire::krpc::{self, Packet, PacketBody, Query, Response};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The paper's protocol parameters with a short RPC timeout, for tests where
/// queries go unanswered: each costs half a second, not two. Elsewhere the
/// default timeout is kept, so that a reply slowed by a loaded machine is never
/// taken for a late, unexpected one.
fn quick() -> Config {
    Config { rpc_timeout: Duration::from_millis(500), ..Config::default() }
}

/// Starts a node on 127.0.0.1:0 with seed `seed`, joining through `bootstrap`.
fn start(seed: u64, kad: Config, bootstrap: Vec<(SocketAddr, Option<NodeId>)>) -> Node {
    Node::start(NodeConfig { bootstrap, kad, seed: Some(seed), ..NodeConfig::default() }).expect("the node starts")
}

/// Polls `f` until it returns `Some`, or panics with `what` after `limit`.
fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// Twenty nodes
// ---------------------------------------------------------------------------

#[test]
fn twenty_nodes_find_every_value_and_every_node() {
    const N: usize = 20;
    // k = 8 (BitTorrent's): each value lives on 8 of the 20 nodes, so most
    // gets need a real lookup rather than a local hit.
    let kad = Config { k: 8, ..Config::default() };
    let first = start(1000, kad.clone(), Vec::new());
    let boot = vec![(first.local_addr(), Some(*first.id()))];
    let mut nodes = vec![first];
    for i in 1..N {
        let n = start(1000 + i as u64, kad.clone(), boot.clone());
        assert!(n.bootstrapped(), "node {i} joined through node 0");
        nodes.push(n);
    }
    let ids: BTreeSet<NodeId> = nodes.iter().map(|n| *n.id()).collect();
    assert_eq!(ids.len(), N, "twenty distinct IDs");

    let key = |i: usize| format!("key of node {i}");
    let value = |i: usize| format!("value {i}: {}", "x".repeat(i * 7)).into_bytes();
    for (i, n) in nodes.iter().enumerate() {
        let stored = n.put(&key(i), &value(i)).expect("the put succeeds");
        assert_eq!(stored.key, NodeId::hash_of(key(i).as_bytes()));
        assert_eq!(stored.replicas, 8, "node {i}: stored at the k closest nodes");
    }

    // Every node gets every other node's value, all twenty getters at once.
    let wrong: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..N)
            .map(|j| {
                let (nodes, key, value) = (&nodes, &key, &value);
                s.spawn(move || {
                    let mut wrong = Vec::new();
                    for i in (0..N).filter(|&i| i != j) {
                        match nodes[j].get(&key(i)) {
                            Ok(Some(v)) if v == value(i) => {}
                            other => {
                                wrong.push(format!("node {j} got {:?} for key {i}", other.map(|o| o.map(|v| v.len()))))
                            }
                        }
                    }
                    wrong
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a getter thread")).collect()
    });
    assert!(wrong.is_empty(), "{} of {} gets failed: {wrong:?}", wrong.len(), N * (N - 1));

    // A node lookup of a node's ID finds that node first, from anywhere.
    for (from, to) in [(5, 13), (19, 0), (0, 19), (7, 2)] {
        let found = nodes[from].find_node(*nodes[to].id()).expect("the lookup runs");
        assert_eq!(
            found.first(),
            Some(&Contact { id: *nodes[to].id(), addr: nodes[to].local_addr() }),
            "node {from} looking up node {to}"
        );
        assert_eq!(found.len(), 8, "a lookup returns k contacts");
        assert!(found.iter().all(|c| ids.contains(&c.id)), "only real nodes are returned");
    }

    // Only well-formed, expected datagrams went around.
    for (i, n) in nodes.iter().enumerate() {
        let (st, _) = n.stats().expect("stats");
        assert!(st.received > 0 && st.sent > 0, "node {i} took part: {st:?}");
        assert_eq!(
            (st.oversized, st.malformed, st.unexpected, st.unknown_method, st.bad_token, st.errors_received),
            (0, 0, 0, 0, 0, 0),
            "node {i}: {st:?}"
        );
    }
    let held: usize = nodes.iter().map(|n| n.stats().expect("stats").1).sum();
    assert!(held >= N, "every value is held somewhere: {held} pairs in all");
    for n in nodes {
        n.shutdown();
    }
}

// ---------------------------------------------------------------------------
// Interoperation with the `mainline` crate
// ---------------------------------------------------------------------------

/// A seeded `mainline` testnet of `n` nodes on 127.0.0.1 and each node's (ID, address).
#[allow(deprecated)] // mainline's blocking API is deprecated in favour of its async one
fn mainline_net(n: usize) -> (mainline::Testnet, Vec<(NodeId, SocketAddr)>) {
    let net = mainline::Testnet::builder(n).build().expect("the mainline testnet starts");
    let nodes = net
        .nodes
        .iter()
        .map(|d| {
            let info = d.info();
            (NodeId::from_bytes(*info.id().as_bytes()), SocketAddr::V4(info.local_addr()))
        })
        .collect();
    (net, nodes)
}

/// A kadsim node joined to `net` through its first node, whose ID it is not told.
///
/// Its RPC timeout is short: a mainline node started without bootstrap nodes
/// (as every testnet node is) adds each `find_node` sender to its table under
/// the *target* ID (mainline's `Rpc::handle_request`), so its replies list
/// kadsim's own address under IDs other than kadsim's. kadsim's lookups query
/// those contacts, that is, themselves, and get no answer.
fn kadsim_in(net: &mainline::Testnet, seed: u64) -> Node {
    let boot: SocketAddr = net.bootstrap[0].parse().expect("a socket address");
    start(seed, quick(), vec![(boot, None)])
}

#[test]
fn kadsim_joins_a_mainline_network_and_looks_up_its_nodes() {
    let (net, ml) = mainline_net(8);
    let ml_ids: BTreeSet<NodeId> = ml.iter().map(|m| m.0).collect();
    let ml_contacts: BTreeSet<Contact<SocketAddr>> = ml.iter().map(|&(id, addr)| Contact { id, addr }).collect();
    let node = kadsim_in(&net, 2000);
    assert!(node.bootstrapped(), "the join through a mainline node succeeded");

    let table = node.table().expect("table");
    assert!(table.len() >= ml.len() / 2, "the table holds mainline nodes: {table:?}");
    for c in &table {
        assert!(ml_contacts.contains(c), "{c:?} is a mainline node at its address");
    }
    assert!(table.iter().any(|c| c.addr.to_string() == net.bootstrap[0]), "the bootstrap node is in the table");

    for (i, &(id, addr)) in ml.iter().enumerate() {
        assert_eq!(node.ping(addr).expect("mainline answers a ping"), id, "ping of mainline node {i}");
    }

    // A lookup of a mainline node's ID: that node first, then only mainline nodes.
    let found = node.find_node(ml[5].0).expect("the lookup runs");
    assert_eq!(found.first().map(|c| c.id), Some(ml[5].0));
    assert!(found.len() >= ml.len() / 2, "{} contacts", found.len());
    assert!(found.iter().all(|c| ml_contacts.contains(c)), "{found:?}");
    // A lookup of a random target returns mainline nodes, nearest first.
    let target = NodeId::hash_of(b"some infohash");
    let found = node.find_node(target).expect("the lookup runs");
    assert!(!found.is_empty() && found.iter().all(|c| ml_ids.contains(&c.id)), "{found:?}");
    assert!(found.windows(2).all(|w| w[0].id.distance(&target) < w[1].id.distance(&target)), "sorted by distance");

    // Mainline's replies all decoded.
    let (st, _) = node.stats().expect("stats");
    assert_eq!((st.malformed, st.unexpected, st.errors_received), (0, 0, 0), "{st:?}");
    node.shutdown();
}

#[test]
fn kadsim_nodes_with_the_mainline_profile_route_with_k_8() {
    // `kadsim node --profile mainline`'s parameters (BEP 5: k = 8,
    // log-distance buckets, good and questionable nodes), on 12 real nodes.
    let kad = Profile::Mainline.node_config(&NodeConfig::default().kad).unwrap();
    let first = start(2100, kad.clone(), Vec::new());
    let boot = vec![(first.local_addr(), Some(*first.id()))];
    let mut nodes = vec![first];
    for i in 1..12 {
        let n = start(2100 + i, kad.clone(), boot.clone());
        assert!(n.bootstrapped(), "node {i} joined through node 0");
        nodes.push(n);
    }
    for (i, n) in nodes.iter().enumerate() {
        let target = *nodes[(i + 5) % nodes.len()].id();
        let found = n.find_node(target).expect("the lookup runs");
        assert_eq!(found.first().map(|c| c.id), Some(target), "node {i} finds node {}", (i + 5) % 12);
        assert_eq!(found.len(), 8, "k = 8 closest, not the paper's 20");
    }
    for n in nodes {
        n.shutdown();
    }
    // A 256-bit profile is refused: a real node speaks BEP 5.
    let o = Command::new(env!("CARGO_BIN_EXE_kadsim")).args(["node", "--profile", "ipfs"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--profile 'ipfs'") && err.contains("160 bits"), "{err}");
}

#[test]
#[allow(deprecated)]
fn a_kadsim_node_gets_an_immutable_item_a_mainline_node_put() {
    let (net, ml) = mainline_net(8);
    let node = kadsim_in(&net, 3000);
    assert!(node.bootstrapped());
    let value = b"put by mainline, got by kadsim".to_vec();
    let target = net.nodes[3].put_immutable(&value).expect("mainline stores the item");
    let key = NodeId::from_bytes(*target.as_bytes());
    assert_eq!(key, krpc::immutable_target(&value), "both crates hash BEP 44 items alike");

    // The mainline nodes that hold it hand it out to kadsim's `get`.
    let holders = ml
        .iter()
        .filter(|&&(_, addr)| {
            matches!(node.request(addr, Body::FindValue { key }), Ok(Body::Found { value: v, .. }) if *v == value[..])
        })
        .count();
    assert!(holders >= 1, "at least one mainline node returns the value to a FIND_VALUE");

    assert_eq!(node.get_immutable(key).expect("get").as_deref(), Some(&value[..]));
    // An item no one put is not found, and a value lookup ends.
    assert_eq!(node.get_immutable(krpc::immutable_target(b"never put")).expect("get"), None);
    let (st, _) = node.stats().expect("stats");
    assert_eq!((st.malformed, st.bad_token), (0, 0), "{st:?}");
    node.shutdown();
}

/// Fails: kadsim's `put` (`krpc::encode` of `Query::Put`, sent by
/// `Endpoint::send_put`) carries `a = {id, token, ttl, v}` and no `target`.
/// BEP 44 lists no `target` in an immutable put, but mainline 8.0.1 declares it
/// required (`DHTPutValueRequestArguments::target` in
/// src/common/messages/internal.rs), so its decoder rejects kadsim's put and
/// drops it without a reply; kadsim's STOREs time out and the put ends
/// `NotStored`. The same datagram with `6:target20:<SHA-1 of the bencoded v>`
/// added is answered and stored.
#[test]
#[allow(deprecated)]
fn a_mainline_node_gets_an_immutable_item_a_kadsim_node_put() {
    let (net, _) = mainline_net(8);
    let node = kadsim_in(&net, 4000);
    assert!(node.bootstrapped());
    let value = b"put by kadsim, got by mainline".to_vec();
    let stored = node.put_immutable(&value).expect("mainline nodes acknowledge kadsim's put");
    assert!(stored.replicas >= 1);
    let got = net.nodes[5].get_immutable(mainline::Id::from_bytes(stored.key.as_bytes()).expect("20 bytes"));
    assert_eq!(got.as_deref(), Some(&value[..]), "mainline finds the item kadsim put");
    node.shutdown();
}

/// Two items put in a row by one kadsim node to the same mainline nodes: each
/// `put` carries a token got for its own target (libtorrent binds tokens to
/// targets; mainline does not, and must take them all the same), and a
/// mainline node finds both.
#[test]
#[allow(deprecated)]
fn two_immutable_items_put_in_a_row_to_mainline_nodes_are_both_found() {
    let (net, _) = mainline_net(8);
    let node = kadsim_in(&net, 4500);
    assert!(node.bootstrapped());
    let values = [b"first of two items".to_vec(), b"second of two items".to_vec()];
    let keys: Vec<NodeId> = values
        .iter()
        .map(|v| {
            let stored = node.put_immutable(v).expect("mainline nodes acknowledge the put");
            assert!(stored.replicas >= 1);
            stored.key
        })
        .collect();
    for (v, key) in values.iter().zip(&keys) {
        let got = net.nodes[6].get_immutable(mainline::Id::from_bytes(key.as_bytes()).expect("20 bytes"));
        assert_eq!(got.as_deref(), Some(&v[..]), "mainline finds the item");
        assert_eq!(node.get_immutable(*key).expect("get").as_deref(), Some(&v[..]), "kadsim finds it back");
    }
    let (st, _) = node.stats().expect("stats");
    assert_eq!(st.errors_received, 0, "no put was refused: {st:?}");
    node.shutdown();
}

/// BEP 44 values of every bencoded type (libtorrent stores them all): a
/// dictionary, a list and an integer put by one kadsim node are found by
/// another, byte for byte, under SHA-1 of their bencoding.
#[test]
fn dictionary_list_and_integer_items_round_trip_between_kadsim_nodes() {
    let a = start(4600, Config::default(), Vec::new());
    let b = start(4601, Config::default(), vec![(a.local_addr(), Some(*a.id()))]);
    for raw in [&b"d4:name6:kadsim4:tagsl3:dht3:p2pee"[..], b"li1ei2ei3ee", b"i42e", b"0:"] {
        let stored = b.put_immutable_bencoded(raw).expect("stored");
        assert_eq!(stored.key, NodeId::hash_of(raw), "target = SHA-1(bencode(v))");
        assert_eq!(a.get_immutable_bencoded(stored.key).expect("get").as_deref(), Some(raw));
    }
    assert!(matches!(b.put_immutable_bencoded(b"not bencode"), Err(kadsim::net::NetError::BadValue)));
    // A byte string item comes back as its content through the byte-string API.
    let stored = b.put_immutable(b"plain").expect("stored");
    assert_eq!(a.get_immutable(stored.key).expect("get").as_deref(), Some(&b"plain"[..]));
    b.shutdown();
    a.shutdown();
}

// ---------------------------------------------------------------------------
// The prompt of `kadsim node`
// ---------------------------------------------------------------------------

/// Runs `kadsim node <args>` with `input` on its standard input; its exit
/// status and standard output. Killed (and the test failed) after `limit`.
fn kadsim_node(args: &[&str], input: &[u8], limit: Duration) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kadsim"))
        .arg("node")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the kadsim binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write to the prompt");
    drop(stdin); // end of input after the last line
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kadsim node still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, reader.join().expect("the reader thread").expect("UTF-8 output"))
}

/// The answers in `out`: each a first line with the indented lines after it.
fn answers(out: &str) -> Vec<(String, Vec<String>)> {
    let mut a: Vec<(String, Vec<String>)> = Vec::new();
    for line in out.lines() {
        match a.last_mut() {
            Some(last) if line.starts_with("  ") => last.1.push(line.to_string()),
            _ => a.push((line.to_string(), Vec::new())),
        }
    }
    a
}

/// The contact lines of a contacts listing.
fn contact_line(id: &NodeId, addr: SocketAddr) -> String {
    format!("  {id} {addr}")
}

#[test]
fn the_prompt_answers_every_command_through_a_pipe() {
    // A holds pairs put by B; the prompt's node C joins through A and finds B.
    let a = start(5000, Config::default(), Vec::new());
    let b = start(5001, Config::default(), vec![(a.local_addr(), Some(*a.id()))]);
    let (aa, ai, bi) = (a.local_addr(), *a.id(), *b.id());
    assert_eq!(b.put("pre", b"stored before").expect("put").replicas, 1);
    let raw_key = NodeId::hash_of(b"a raw key");
    assert_eq!(b.put_key(raw_key, b"raw value").expect("put").replicas, 1);
    let s_key = NodeId::hash_of(b"stored by s");
    let unknown = NodeId::hash_of(b"nobody has this");
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind"); // never answers
    let silent_addr = silent.local_addr().expect("addr");
    let short_key = &unknown.to_hex()[..39];

    let lines = [
        "help".to_string(),
        "id".to_string(),
        "table".to_string(),
        "put gamma three and a bit".to_string(),
        "get gamma".to_string(),
        "get pre".to_string(),
        "get missing".to_string(),
        format!("p {aa}"),
        format!("p {aa} {ai}"),
        format!("p {aa} {bi}"),
        format!("s {aa} {s_key} hello there  world"),
        format!("fn {aa} {unknown}"),
        format!("fv {aa} {raw_key}"),
        format!("fv {aa} {s_key}"),
        format!("fv {aa} {unknown}"),
        format!("ln {bi}"),
        "lv pre".to_string(),
        "lv nope".to_string(),
        "".to_string(),
        "frobnicate now".to_string(),
        "p".to_string(),
        "get".to_string(),
        "put lonely".to_string(),
        format!("s {aa}"),
        format!("fv {aa}"),
        format!("ln {short_key}"),
        format!("fn {aa} {short_key}"),
        format!("fn 127.0.0.1:notaport {unknown}"),
        format!("p {silent_addr}"),
        "quit".to_string(),
        "id".to_string(), // after quit: never read
    ];
    let mut input = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        input.extend_from_slice(l.as_bytes());
        input.push(b'\n');
        if i == 18 {
            input.extend_from_slice(b"\xff\xfe not UTF-8\n");
        }
    }
    let args = ["--bootstrap", &aa.to_string(), &ai.to_hex(), "--seed", "5002"];
    let (status, out) = kadsim_node(&args, &input, Duration::from_secs(40));
    assert!(status.success(), "exit status {status:?}; output:\n{out}");
    let ans = answers(&out);
    let mut it = ans.iter();
    let mut next = |what: &str| it.next().unwrap_or_else(|| panic!("no answer for {what}; output:\n{out}")).clone();

    // The banner.
    let (banner, _) = next("the banner");
    let rest = banner.strip_prefix("kadsim node ").unwrap_or_else(|| panic!("banner: {banner}"));
    let (c_id, c_addr) = rest.split_once(" listening on ").expect("ID listening on ADDR");
    let c_id = NodeId::from_hex(c_id).expect("the banner shows a 40-hex-digit ID");
    let c_addr: SocketAddr = c_addr.parse().expect("the banner shows an address");
    assert_eq!(next("joined").0, format!("joined through {aa}: 2 contacts"));
    assert_eq!(next("hint").0, "type help for the commands");

    // help
    let (h, hl) = next("help");
    assert_eq!(std::iter::once(h).chain(hl).collect::<Vec<_>>().join("\n"), kadsim::net::repl::HELP);
    // id
    assert_eq!(next("id").0, format!("{c_id} {c_addr}"));
    // table: A and B
    let (t, tl) = next("table");
    assert_eq!(t, "routing table: 2 contacts:");
    let tl: BTreeSet<String> = tl.into_iter().collect();
    assert_eq!(tl, BTreeSet::from([contact_line(&ai, aa), contact_line(&bi, b.local_addr())]));
    // put and get
    let gamma = NodeId::hash_of(b"gamma");
    assert_eq!(next("put").0, format!("stored 'gamma' under {gamma} at 2 nodes"));
    assert_eq!(next("get gamma").0, "found 'gamma': three and a bit");
    assert_eq!(next("get pre").0, "found 'pre': stored before");
    assert_eq!(next("get missing").0, "not found: 'missing'");
    // ping
    assert_eq!(next("p").0, format!("pong from {aa}: ID {ai}"));
    assert_eq!(next("p id").0, format!("pong from {aa}: ID {ai}"));
    assert_eq!(next("p wrong id").0, format!("pong from {aa}: ID {ai}, not the expected {bi}"));
    // store at one node
    assert_eq!(next("s").0, format!("stored {s_key} at {aa}"));
    // fn: A's contacts but the asker: B
    let (f, fl) = next("fn");
    assert_eq!((f, fl), (format!("{aa} returned 1 contacts:"), vec![contact_line(&bi, b.local_addr())]));
    // fv: a value A holds, the one just stored, and one it does not hold
    assert_eq!(next("fv raw").0, format!("{aa} returned the value: raw value"));
    assert_eq!(next("fv s").0, format!("{aa} returned the value: hello there  world"));
    let (f, fl) = next("fv unknown");
    assert_eq!(
        (f, fl),
        (format!("{aa} has no value; it returned 1 contacts:"), vec![contact_line(&bi, b.local_addr())])
    );
    // lookups
    let (l, ll) = next("ln");
    assert_eq!(l, format!("closest to {bi}: 2 contacts:"));
    assert_eq!(ll, vec![contact_line(&bi, b.local_addr()), contact_line(&ai, aa)], "B first, then A");
    assert_eq!(next("lv pre").0, "found 'pre': stored before");
    assert_eq!(next("lv nope").0, "not found: 'nope'");
    // the blank line has no answer; bad lines get one-line hints
    assert_eq!(next("not UTF-8").0, "error: the line is not UTF-8");
    assert_eq!(next("unknown").0, "unknown command 'frobnicate'; type help for the list");
    assert_eq!(next("p alone").0, "usage: p <ip:port> [<key>]");
    assert_eq!(next("get alone").0, "usage: get <string key>");
    assert_eq!(next("put alone").0, "usage: put <string key> <string value>");
    assert_eq!(next("s alone").0, "usage: s <ip:port> <key> [<value>]");
    assert_eq!(next("fv alone").0, "usage: fv <ip:port> <key>");
    assert_eq!(next("ln short").0, format!("bad key '{short_key}': expected 40 hex digits"));
    assert_eq!(next("fn short").0, format!("bad key '{short_key}': expected 40 hex digits"));
    assert_eq!(next("fn port").0, "bad address '127.0.0.1:notaport': expected ip:port, e.g. 127.0.0.1:6881");
    assert_eq!(next("p silent").0, format!("error: no reply from {silent_addr}"));
    let left: Vec<_> = it.collect();
    assert!(left.is_empty(), "nothing is answered after quit: {left:?}");

    // Side effects on A: the `s` pair, and `put gamma` (A is one of the 2 closest).
    let found = |key| match b.request(aa, Body::FindValue { key }) {
        Ok(Body::Found { value, .. }) => Some(value.to_vec()),
        _ => None,
    };
    assert_eq!(found(s_key).as_deref(), Some(&b"hello there  world"[..]));
    assert_eq!(found(gamma).as_deref(), Some(&b"three and a bit"[..]));
    assert_eq!(b.get("gamma").expect("get").as_deref(), Some(&b"three and a bit"[..]), "B holds gamma too");
    // A saw C (it queried A) and no malformed datagram.
    assert!(a.table().expect("table").iter().any(|c| c.id == c_id && c.addr == c_addr));
    let (st, _) = a.stats().expect("stats");
    assert_eq!((st.malformed, st.oversized, st.unexpected), (0, 0, 0), "{st:?}");
    b.shutdown();
    a.shutdown();
}

#[test]
fn the_prompt_ends_cleanly_at_the_end_of_its_input() {
    // No bootstrap node: no join line; commands up to the end of input, no `quit`.
    let (status, out) = kadsim_node(&["--seed", "6000"], b"id\n\ntable", Duration::from_secs(20));
    assert!(status.success(), "exit status {status:?}; output:\n{out}");
    let ans = answers(&out);
    assert_eq!(ans.len(), 4, "banner, hint, id, table: {out}");
    let banner = ans[0].0.strip_prefix("kadsim node ").expect("banner");
    let (id, addr) = banner.split_once(" listening on ").expect("ID listening on ADDR");
    assert_eq!(ans[1].0, "type help for the commands");
    assert_eq!(ans[2].0, format!("{id} {addr}"), "id prints the banner's ID and address");
    assert_eq!(ans[3], ("routing table: 0 contacts:".to_string(), Vec::new()), "a last line without newline is read");

    // A bootstrap node that never answers: the node says so, runs alone, and
    // an empty input ends it.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    let (status, out) = kadsim_node(&["--bootstrap", &silent_addr], b"", Duration::from_secs(20));
    assert!(status.success(), "exit status {status:?}; output:\n{out}");
    let ans = answers(&out);
    assert_eq!(ans.len(), 3, "{out}");
    assert_eq!(ans[1].0, format!("could not join through {silent_addr}; running alone"));
    assert_eq!(ans[2].0, "type help for the commands");
}

// ---------------------------------------------------------------------------
// Hostile datagrams
// ---------------------------------------------------------------------------

/// The sender ID of the raw socket.
const RAW_ID: NodeId = NodeId::from_bytes([0x42; 20]);

fn query(t: &[u8], query: Query) -> Vec<u8> {
    krpc::encode(&Packet {
        t: t.to_vec(),
        version: None,
        read_only: false,
        body: PacketBody::Query { id: RAW_ID, query },
    })
}

/// What the node should count for each datagram sent from the raw socket.
#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    sent: u64,
    oversized: u64,
    malformed: u64,
    unexpected: u64,
    unknown_method: u64,
    bad_token: u64,
}

impl Expected {
    fn of(st: &NetStats) -> (u64, u64, u64, u64, u64) {
        (st.oversized, st.malformed, st.unexpected, st.unknown_method, st.bad_token)
    }

    fn counters(&self) -> (u64, u64, u64, u64, u64) {
        (self.oversized, self.malformed, self.unexpected, self.unknown_method, self.bad_token)
    }
}

/// A raw UDP socket aimed at one node, keeping count of what the node should count.
struct Raw {
    sock: UdpSocket,
    to: SocketAddr,
    /// The node's write tokens for 127.0.0.1, per target, as `get`s brought them.
    tokens: std::collections::BTreeMap<NodeId, Vec<u8>>,
    expected: Expected,
}

impl Raw {
    fn new(to: SocketAddr) -> Raw {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
        Raw { sock, to, tokens: Default::default(), expected: Expected::default() }
    }

    /// Sends `bytes` and notes what the node will make of them, as
    /// `krpc::decode` (the node's parser) judges them.
    fn send(&mut self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.to).expect("send");
        let e = &mut self.expected;
        e.sent += 1;
        match krpc::decode(bytes) {
            Err(krpc::DecodeError::Oversized(_)) => e.oversized += 1,
            Err(_) => e.malformed += 1,
            Ok(Packet { body: PacketBody::Response { .. } | PacketBody::Error { .. }, .. }) => e.unexpected += 1,
            Ok(Packet { body: PacketBody::Query { query: Query::Other { .. }, .. }, .. }) => e.unknown_method += 1,
            Ok(Packet { body: PacketBody::Query { query: Query::Put { token, target, v, .. }, .. }, .. }) => {
                // Tokens are bound to the target (an immutable item's when none is given).
                let key = target.unwrap_or_else(|| krpc::bencoded_target(&v));
                if self.tokens.get(&key) != Some(&token) {
                    e.bad_token += 1;
                }
            }
            Ok(_) => {}
        }
    }

    /// The node's write token for `target`, from a `get`.
    fn token_for(&mut self, target: NodeId) -> Vec<u8> {
        self.send(&query(b"tk", Query::Get { target }));
        match self.reply(b"tk") {
            PacketBody::Response { response: Response { token: Some(token), .. }, .. } => {
                self.tokens.insert(target, token.clone());
                token
            }
            other => panic!("a get brings a token, not {other:?}"),
        }
    }

    /// The reply (response or error) with transaction ID `t`; other datagrams are skipped.
    fn reply(&self, t: &[u8]) -> PacketBody {
        self.replies(&[t.to_vec()]).pop().expect("one reply").1
    }

    /// The replies to the transaction IDs `ts`, in arrival order.
    fn replies(&self, ts: &[Vec<u8>]) -> Vec<(Vec<u8>, PacketBody)> {
        let mut want: BTreeSet<&Vec<u8>> = ts.iter().collect();
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        let deadline = Instant::now() + Duration::from_secs(5);
        while !want.is_empty() {
            assert!(Instant::now() < deadline, "no reply to {} of {} queries", want.len(), ts.len());
            let Ok((n, from)) = self.sock.recv_from(&mut buf) else { continue };
            let Ok(p) = krpc::decode(&buf[..n]) else { continue };
            if from == self.to && !matches!(p.body, PacketBody::Query { .. }) && want.remove(&p.t) {
                got.push((p.t, p.body));
            }
        }
        got
    }

    /// Waits until the node has received every datagram sent so far (beyond
    /// the `base` it had received before), so that a burst never overflows its
    /// socket buffer.
    fn settle(&self, node: &Node, base: u64) {
        wait_for(Duration::from_secs(5), "the node to read its datagrams", || {
            (node.stats().expect("stats").0.received >= base + self.expected.sent).then_some(())
        });
    }
}

#[test]
fn hostile_datagrams_are_counted_and_dropped_and_the_node_serves_on() {
    const MAX_PAIRS: usize = 50;
    let h = start(7000, Config { max_stored_pairs: MAX_PAIRS, ..Config::default() }, Vec::new());
    let b = start(7001, Config::default(), vec![(h.local_addr(), Some(*h.id()))]);
    assert!(b.bootstrapped());
    let (st0, pairs0) = h.stats().expect("stats");
    assert_eq!((Expected::of(&st0), pairs0), ((0, 0, 0, 0, 0), 0));
    let base = st0.received;
    let mut raw = Raw::new(h.local_addr());
    let mut rng = ChaCha8Rng::seed_from_u64(0x68_6f73_7469_6c65);

    // A plain ping is answered.
    let ping = query(b"pi", Query::Ping);
    raw.send(&ping);
    match raw.reply(b"pi") {
        PacketBody::Response { id, response } => assert_eq!((id, response), (*h.id(), Response::default())),
        other => panic!("a ping gets a pong, not {other:?}"),
    }

    // Random bytes, some starting like bencode.
    for i in 0..300 {
        let len = (rng.next_u32() % 200) as usize + 1;
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        match i % 3 {
            0 => bytes[0] = b'd',
            1 => bytes = [&b"d1:ad2:id20:"[..], &bytes].concat(),
            _ => {}
        }
        raw.send(&bytes);
        if i % 50 == 49 {
            raw.settle(&h, base);
        }
    }
    // Every proper prefix of a valid ping, the empty datagram included.
    for n in 0..ping.len() {
        raw.send(&ping[..n]);
    }
    raw.settle(&h, base);
    // The ping with one byte corrupted, at every position.
    for i in 0..ping.len() {
        let mut bytes = ping.clone();
        bytes[i] ^= 1 << (rng.next_u32() % 8);
        raw.send(&bytes);
    }
    raw.settle(&h, base);
    // Oversized: over 1500 bytes, read by the node but never parsed; 1500 bytes is not oversized.
    raw.send(&[b'd'; 1600]);
    raw.send(&vec![b'x'; 1501]);
    raw.send(&vec![b'e'; 1500]);
    // Replies and errors that answer nothing the node asked.
    let stray = |t: &[u8], body| {
        krpc::encode(&Packet { t: t.to_vec(), version: Some(b"XX01".to_vec()), read_only: false, body })
    };
    raw.send(&stray(&[0, 0, 0, 99], PacketBody::Response { id: RAW_ID, response: Response::default() }));
    raw.send(&stray(b"zz", PacketBody::Response { id: RAW_ID, response: Response::default() }));
    raw.send(&stray(&[0x80, 0, 0, 1], PacketBody::Error { code: 201, message: "who asked?".into() }));
    raw.settle(&h, base);

    // get_peers (BEP 5): kadsim tracks no peers, so it answers with its closest
    // nodes and a token, as a node that knows no peers of the torrent does.
    let mut get_peers = b"d1:ad2:id20:".to_vec();
    get_peers.extend_from_slice(RAW_ID.as_bytes());
    get_peers.extend_from_slice(b"9:info_hash20:");
    get_peers.extend_from_slice(NodeId::hash_of(b"a torrent").as_bytes());
    get_peers.extend_from_slice(b"e1:q9:get_peers1:t2:gp1:y1:qe");
    raw.send(&get_peers);
    match raw.reply(b"gp") {
        PacketBody::Response { response: Response { nodes: Some(_), token: Some(_), v: None, .. }, .. } => {}
        other => panic!("get_peers gets nodes and a token, not {other:?}"),
    }
    // announce_peer (BEP 5), which kadsim does not serve: error 204.
    let mut announce = b"d1:ad2:id20:".to_vec();
    announce.extend_from_slice(RAW_ID.as_bytes());
    announce.extend_from_slice(b"9:info_hash20:");
    announce.extend_from_slice(NodeId::hash_of(b"a torrent").as_bytes());
    announce.extend_from_slice(b"4:porti6881e5:token4:abcde1:q13:announce_peer1:t2:ap1:y1:qe");
    raw.send(&announce);
    match raw.reply(b"ap") {
        PacketBody::Error { code, .. } => assert_eq!(code, krpc::ERR_METHOD_UNKNOWN),
        other => panic!("announce_peer gets error 204, not {other:?}"),
    }
    // A BEP 44 mutable put (public key and signature): error 204 too.
    let mut mutable = b"d1:ad2:id20:".to_vec();
    mutable.extend_from_slice(RAW_ID.as_bytes());
    mutable.extend_from_slice(b"1:k32:");
    mutable.extend_from_slice(&[7; 32]);
    mutable.extend_from_slice(b"3:seqi1e3:sig64:");
    mutable.extend_from_slice(&[9; 64]);
    mutable.extend_from_slice(b"5:token4:abcd1:v5:valuee1:q3:put1:t2:mp1:y1:qe");
    raw.send(&mutable);
    assert!(matches!(raw.reply(b"mp"), PacketBody::Error { code: krpc::ERR_METHOD_UNKNOWN, .. }));

    // A put with a made-up token: error 203, nothing stored.
    let put = |t: &[u8], token: &[u8], v: &[u8], key: Option<NodeId>| {
        query(t, Query::Put { token: token.to_vec(), v: v.to_vec(), target: key, ttl: None })
    };
    raw.send(&put(b"bt", b"made up", b"sneaky", None));
    assert!(matches!(raw.reply(b"bt"), PacketBody::Error { code: krpc::ERR_PROTOCOL, .. }));

    // A get brings the node's write token; a put with it stores the item.
    let item = b"an immutable item from a raw socket".to_vec();
    let target = krpc::immutable_target(&item);
    raw.send(&query(b"g1", Query::Get { target }));
    let token = match raw.reply(b"g1") {
        PacketBody::Response { id, response: Response { token: Some(token), v: None, nodes: Some(nodes), .. } } => {
            assert_eq!(id, *h.id());
            assert!(nodes.iter().any(|(id, _)| id == b.id()), "the node's contacts come back: {nodes:?}");
            token
        }
        other => panic!("a get of an unknown key gets a token and contacts, not {other:?}"),
    };
    raw.tokens.insert(target, token.clone());
    raw.send(&put(b"p1", &token, &item, None));
    assert!(matches!(raw.reply(b"p1"), PacketBody::Response { .. }));
    assert_eq!(h.stats().expect("stats").1, 1, "the put stored one pair");
    assert_eq!(h.get_immutable(target).expect("get").as_deref(), Some(&item[..]));
    match b.request(h.local_addr(), Body::FindValue { key: target }) {
        Ok(Body::Found { value, .. }) => assert_eq!(*value, item[..]),
        other => panic!("the stored item is served: {other:?}"),
    }
    // A second get returns the value itself.
    raw.send(&query(b"g2", Query::Get { target }));
    assert!(matches!(raw.reply(b"g2"),
        PacketBody::Response { response: Response { v: Some(v), token: Some(_), .. }, .. }
            if v == krpc::bencode_bytes(&item)));

    // Values: 1001 bytes is over the limit (dropped as malformed, answered with
    // BEP 44's error 205); 1000 bytes is stored.
    let big = vec![b'v'; krpc::MAX_VALUE + 1];
    raw.send(&put(b"p2", &token, &big, None));
    assert!(matches!(raw.reply(b"p2"), PacketBody::Error { code: krpc::ERR_VALUE_TOO_BIG, .. }));
    let token3 = raw.token_for(krpc::immutable_target(&big[..krpc::MAX_VALUE]));
    raw.send(&put(b"p3", &token3, &big[..krpc::MAX_VALUE], None));
    assert!(matches!(raw.reply(b"p3"), PacketBody::Response { .. }));
    assert_eq!(h.stats().expect("stats").1, 2, "the 1000-byte value is stored, the 1001-byte one is not");
    // (Asked directly, so that the answer is h's own.)
    for (v, held) in [(&big, false), (&big[..krpc::MAX_VALUE].to_vec(), true)] {
        let key = krpc::immutable_target(v);
        match b.request(h.local_addr(), Body::FindValue { key }) {
            Ok(Body::Found { value, .. }) => assert!(held && *value == v[..], "{} bytes", v.len()),
            Ok(Body::Nodes { .. }) => assert!(!held, "the {}-byte value is served", v.len()),
            other => panic!("{other:?}"),
        }
    }

    // A flood of puts with distinct keys never grows the store beyond its bound.
    let (mut accepted, mut refused) = (0, 0);
    for batch in 0..10 {
        let ts: Vec<Vec<u8>> = (0..20).map(|i| format!("f{:03}", batch * 20 + i).into_bytes()).collect();
        // (All tokens first: waiting for one skips whatever else arrives.)
        let tokens: Vec<Vec<u8>> = ts.iter().map(|t| raw.token_for(NodeId::hash_of(t))).collect();
        for (t, token) in ts.iter().zip(&tokens) {
            raw.send(&put(t, token, t, Some(NodeId::hash_of(t))));
        }
        for (t, reply) in raw.replies(&ts) {
            match reply {
                PacketBody::Response { .. } => accepted += 1,
                PacketBody::Error { code: krpc::ERR_GENERIC, .. } => refused += 1,
                other => panic!("put {t:?}: {other:?}"),
            }
        }
        assert!(h.stats().expect("stats").1 <= MAX_PAIRS);
    }
    assert_eq!((accepted, refused), (MAX_PAIRS - 2, 200 - (MAX_PAIRS - 2)), "accepted until full, then refused");
    assert_eq!(h.stats().expect("stats").1, MAX_PAIRS);
    // The pair stored first is still served.
    assert_eq!(h.get_immutable(target).expect("get").as_deref(), Some(&item[..]));

    // Every drop was counted, and nothing else.
    raw.settle(&h, base);
    let want = raw.expected.counters();
    let st = wait_for(Duration::from_secs(5), "the counters", || {
        let st = h.stats().expect("stats").0;
        (Expected::of(&st) == want).then_some(st)
    });
    assert!(st.received >= base + raw.expected.sent, "{st:?}");
    let e = &raw.expected;
    assert!(e.malformed >= 300 && e.oversized == 2 && e.unexpected == 3, "{e:?}");
    assert!(e.unknown_method >= 2 && e.bad_token >= 1, "{e:?}");

    // The node still serves: a ping from another node and from the raw socket.
    assert_eq!(b.ping(h.local_addr()).expect("pong"), *h.id());
    raw.send(&query(b"p9", Query::Ping));
    assert!(matches!(raw.reply(b"p9"), PacketBody::Response { .. }));
    assert_eq!(b.get_immutable(target).expect("get").as_deref(), Some(&item[..]));
    b.shutdown();
    h.shutdown();
}

/// Replies as a peer sees them (BEP 5): the query's `t` echoed whatever its
/// length (BEP 5 suggests 2 bytes, kadsim sends 4, peers send 1 to 32), the
/// client version, and the responder's `id`.
#[test]
fn replies_echo_the_transaction_and_carry_the_responders_id() {
    let h = start(8000, Config::default(), Vec::new());
    let raw = Raw::new(h.local_addr());
    raw.sock.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    for t in [&b"a"[..], b"ab", b"abcd", &[0xff; 32]] {
        raw.sock.send_to(&query(t, Query::FindNode { target: RAW_ID }), h.local_addr()).expect("send");
        let mut buf = [0u8; 2048];
        let p = loop {
            let (n, from) = raw.sock.recv_from(&mut buf).expect("a reply");
            assert_eq!(from, h.local_addr());
            let p = krpc::decode(&buf[..n]).expect("the reply decodes");
            // (On first contact the node pings the raw socket, to validate its address.)
            if !matches!(p.body, PacketBody::Query { query: Query::Ping, .. }) {
                break p;
            }
        };
        assert_eq!(p.t, t, "the transaction ID is echoed");
        assert_eq!(p.version.as_deref(), Some(&krpc::CLIENT_VERSION[..]));
        match p.body {
            PacketBody::Response { id, response } => {
                assert_eq!(id, *h.id());
                assert_eq!(response.nodes, Some(Vec::new()), "a lone node knows no one else");
            }
            other => panic!("{other:?}"),
        }
    }
    h.shutdown();
}
