//! Reachability seen from inside the world (`docs/reachability.md`): an
//! unreachable node gets exactly the datagrams its NAT's pinholes let in,
//! tallied independently from the message trace, and every reply to its
//! own requests within the pinhole timeout; client-only nodes end up in no
//! routing table of a node that honours BEP 43's flag.

use super::*;
use crate::scenario::load_str;
use crate::sim::reach::Class;
use std::collections::BTreeMap;

const T_NAT: u64 = 30_000_000;

fn traced(text: &str, threads: usize) -> (World, Vec<crate::metrics::trace::MessageRow>) {
    let sc = load_str(text, "reach.toml", &[]).unwrap();
    let spec = TraceSpec::parse("messages", None, None, false).unwrap();
    let mut w = World::traced(&sc, Vec::new(), threads, Some(&spec));
    let mut rows = Vec::new();
    while w.run_until(w.now() + 60_000_000) {
        rows.extend(w.take_trace().messages);
    }
    w.finish();
    rows.extend(w.take_trace().messages);
    (w, rows)
}

/// 300 nodes joining, a third of them unreachable behind NATs forgetting a
/// pinhole after 30 s, a tenth client-only, 1% loss, lookups, puts and gets.
const NATTED: &str = "nodes = 300\nduration = \"6m\"\nseed = 5\n\
    [bootstrap]\njoin_rate = 20\n\
    [network]\nunreachable = 0.33\nclients = 0.1\nnat_timeout = \"30s\"\n\
    [network.latency]\nmodel = \"lognormal\"\n\
    [network.loss]\nmodel = \"independent\"\nrate = 0.01\n\
    [workload]\nlookup_rate = 0.02\nput_rate = 0.005\nget_rate = 0.01\nkeys = 50\n";

#[test]
fn an_unreachable_node_gets_exactly_what_its_pinholes_let_in() {
    let (w, rows) = traced(NATTED, 2);
    let class = |i: u32| w.shared.ctx.class(i);
    let unreachable: Vec<u32> = (0..300).filter(|&i| class(i) == Class::Unreachable).collect();
    assert_eq!(unreachable.len(), 99, "a third of nodes 1 to 299");
    // Every datagram each unreachable node sent, by peer: the NAT sees each
    // one leave, lost or not.
    let mut sends: BTreeMap<(u32, u32), Vec<u64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| class(r.from) == Class::Unreachable) {
        sends.entry((r.from, r.to)).or_default().push(r.sent_us);
    }
    let open = |u: u32, peer: u32, at: u64| {
        sends.get(&(u, peer)).is_some_and(|s| s.iter().any(|&t| t <= at && at < t + T_NAT))
    };
    let (mut unsolicited, mut let_in) = (0u64, 0u64);
    for r in rows.iter().filter(|r| class(r.to) == Class::Unreachable) {
        // Datagrams that reached the node while it was up (not lost, cut,
        // sent to it down, or still in flight at the end).
        let Some(at) = r.arrived_us.filter(|_| r.fate == "delivered" || r.fate == "unreachable") else {
            continue;
        };
        if open(r.to, r.from, at) {
            let_in += 1;
            assert_eq!(r.fate, "delivered", "a datagram within a pinhole was dropped: {r:?}");
        } else {
            unsolicited += 1;
            assert_eq!(r.fate, "unreachable", "an unsolicited datagram got in: {r:?}");
        }
    }
    assert_eq!(w.recorder().total.counts.msgs_to_unreachable, unsolicited, "the counter is the tally");
    assert!(unsolicited > 1000 && let_in > 1000, "{unsolicited} dropped, {let_in} let in");
    // Every reply to an unreachable node's request that arrives within the
    // timeout of the request gets in.
    let mut requests: BTreeMap<(u32, u32, u32), u64> = BTreeMap::new();
    for r in rows.iter().filter(|r| class(r.from) == Class::Unreachable) {
        if matches!(r.kind, "ping" | "store" | "find_node" | "find_value") {
            requests.insert((r.from, r.to, r.tx), r.sent_us);
        }
    }
    let mut replies = 0;
    for r in rows.iter().filter(|r| class(r.to) == Class::Unreachable && r.fate != "in_flight") {
        let (Some(at), Some(&asked)) = (r.arrived_us, requests.get(&(r.to, r.from, r.tx))) else { continue };
        if matches!(r.kind, "pong" | "stored" | "nodes" | "value") && at < asked + T_NAT && r.fate != "lost" {
            assert!(r.fate == "delivered" || r.fate == "dead", "a reply within the timeout was dropped: {r:?}");
            replies += 1;
        }
    }
    assert!(replies > 1000, "{replies} replies checked");
}

/// Every contact, buckets and replacement caches, of every node up that is
/// not a client.
fn contacts_of_servers(w: &World) -> Vec<(u32, u32)> {
    let mut v = Vec::new();
    w.each_host(|i, h| {
        if h.alive && w.shared.ctx.class(i) != Class::Client {
            for b in h.node.routing_table().buckets() {
                v.extend(b.entries().iter().chain(b.replacements()).map(|c| (i, c.addr.node())));
            }
        }
    });
    v
}

#[test]
fn client_only_nodes_enter_no_routing_table_that_honours_bep_43() {
    for (bootstrap, honour) in [("join", true), ("oracle", true), ("join", false)] {
        let text = format!(
            "nodes = 200\nduration = \"4m\"\nseed = 3\n[protocol]\nhonour_read_only = {honour}\n\
             [bootstrap]\nmode = \"{bootstrap}\"\njoin_rate = 20\n[network]\nclients = 0.2\n\
             [workload]\nlookup_rate = 0.05\nput_rate = 0.01\nget_rate = 0.02\nkeys = 20\n"
        );
        let sc = load_str(&text, "clients.toml", &[]).unwrap();
        let mut w = World::with_threads(&sc, Vec::new(), 2);
        w.finish();
        let clients = (0..200).filter(|&i| w.shared.ctx.class(i) == Class::Client).count();
        assert_eq!(clients, 40);
        let held: Vec<(u32, u32)> =
            contacts_of_servers(&w).into_iter().filter(|&(_, c)| w.shared.ctx.class(c) == Class::Client).collect();
        if honour {
            assert!(held.is_empty(), "{bootstrap}: clients in tables: {:?}", &held[..held.len().min(5)]);
        } else {
            assert!(held.len() > 100, "{bootstrap}: without the flag honoured, clients get in: {}", held.len());
        }
        // Clients still look things up, and their lookups succeed.
        let theirs: Vec<_> =
            w.recorder().ops.iter().filter(|o| w.shared.ctx.class(o.origin) == Class::Client).collect();
        assert!(theirs.len() > 20 && theirs.iter().filter(|o| o.success).count() * 10 > theirs.len() * 9);
    }
}

#[test]
fn unreachable_nodes_keep_their_class_and_nat_across_sessions() {
    let text = "nodes = 120\nduration = \"20m\"\nseed = 8\n[bootstrap]\njoin_rate = 20\n\
        [network]\nunreachable = 0.3\n\
        [churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"3m\" }\n\
        downtime = { dist = \"exponential\", mean = \"1m\" }\n\
        [workload]\nlookup_rate = 0.05\n";
    let sc = load_str(text, "churn.toml", &[]).unwrap();
    let mut w = World::with_threads(&sc, Vec::new(), 1);
    w.finish();
    let mut rejoined = 0;
    w.each_host(|i, h| {
        let unreachable = w.shared.ctx.class(i) == Class::Unreachable;
        assert_eq!(h.nat.is_some(), unreachable, "node {i}");
        if unreachable && h.sessions > 1 {
            rejoined += 1;
            assert!(h.nat.as_ref().is_some_and(|n| !n.is_empty()), "node {i} kept its NAT");
        }
    });
    assert!(rejoined > 5, "{rejoined} unreachable nodes rejoined");
    assert!(w.recorder().total.counts.msgs_to_unreachable > 0);
}
