//! Whole-network behaviour of the protocol core on 500 nodes: lookups find the
//! true k closest nodes, survive loss and dead nodes, and values put by one node
//! are found by another (Maymounkov & Mazières 2002, §2.3).

use crate::testnet::{Done, TestNet};
use kadsim::kad::{Command, Config, Contact, NodeId, OpId, OpKind, OpReport, Time};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Nodes in the test network.
const N: usize = 500;
/// Seed of the shared network: node IDs, bootstrap choices, latencies.
const SEED: u64 = 0x6b61_6473_696d;
/// Time between two joins.
const JOIN_EVERY: Duration = Duration::from_millis(200);
/// Quiet time after the last join, for its bucket refreshes to settle.
const SETTLE: Duration = Duration::from_secs(120);

/// The network every test starts from: node 0 alone, then node i joins at
/// i·200 ms through a random earlier node whose ID it knows (paper §2.3), and
/// every join and its follow-up refreshes have settled. Built once; each test
/// works on its own clone.
fn built() -> TestNet {
    static NET: OnceLock<TestNet> = OnceLock::new();
    NET.get_or_init(|| build(N, Config::default(), SEED)).clone()
}

/// Builds a network of `n` nodes with configuration `cfg`: node 0 alone, then
/// node i joins at i·200 ms through a random earlier node whose ID it knows,
/// then a quiet period for the joins' refreshes to settle. Checks that every
/// join succeeded and that nothing is left running.
fn build(n: usize, cfg: Config, seed: u64) -> TestNet {
    let mut net = TestNet::new(n, cfg, seed);
    for i in 1..n {
        net.run_until(Time(JOIN_EVERY.as_micros() as u64 * i as u64));
        let bootstrap = net.below(i as u64) as u32;
        let id = net.id(bootstrap);
        net.start(i as u32, Command::Join { bootstrap, id: Some(id) });
    }
    net.run_until(Time(JOIN_EVERY.as_micros() as u64 * n as u64) + SETTLE);
    let joins: Vec<_> = net.done.iter().filter(|d| d.report.kind == OpKind::Join).collect();
    assert_eq!(joins.len(), n - 1, "every join reported");
    assert!(joins.iter().all(|d| d.report.success), "every join succeeded");
    for (i, node) in net.nodes.iter().enumerate() {
        assert_eq!(node.active_ops(), 0, "node {i} still has operations running after the build");
        assert_eq!(node.pending_requests(), 0, "node {i} still awaits replies after the build");
    }
    net.done.clear();
    net.sent = 0;
    net.lost = 0;
    net
}

/// The `k` nodes closest to `target` by XOR among those `eligible` accepts,
/// nearest first, computed from the global view.
fn true_closest(net: &TestNet, target: &NodeId, k: usize, eligible: impl Fn(u32) -> bool) -> Vec<Contact<u32>> {
    let mut all: Vec<Contact<u32>> =
        (0..net.nodes.len() as u32).filter(|&i| eligible(i)).map(|i| Contact { id: net.id(i), addr: i }).collect();
    all.sort_by_key(|c| c.id.distance(target));
    all.truncate(k);
    all
}

/// A random node index that is alive and not `except`.
fn random_alive(net: &mut TestNet, except: Option<u32>) -> u32 {
    loop {
        let i = net.below(net.nodes.len() as u64) as u32;
        if !net.dead[i as usize] && Some(i) != except {
            return i;
        }
    }
}

/// Starts a FindNode of a random target from each of `count` random alive
/// origins, runs until every one has reported, and returns the started
/// lookups with their reports, in start order.
fn run_lookups(net: &mut TestNet, count: usize) -> Vec<(u32, NodeId, OpReport<u32>)> {
    let mark = net.done.len();
    let mut started: Vec<(u32, OpId, NodeId)> = Vec::new();
    for _ in 0..count {
        let origin = random_alive(net, None);
        let target = net.random_id();
        let op = net.start(origin, Command::FindNode(target));
        started.push((origin, op, target));
    }
    net.run_for(net.cfg.op_timeout + Duration::from_secs(5));
    take_reports(&net.done[mark..], &started)
}

/// The report of each started operation, in start order. Panics on a missing
/// or duplicated report.
fn take_reports<T: Copy>(done: &[Done], started: &[(u32, OpId, T)]) -> Vec<(u32, T, OpReport<u32>)> {
    started
        .iter()
        .map(|&(origin, op, extra)| {
            let mut found = done.iter().filter(|d| d.node == origin && d.report.id == op);
            let d = found.next().unwrap_or_else(|| panic!("operation {op} on node {origin} never reported"));
            assert!(found.next().is_none(), "operation {op} on node {origin} reported twice");
            (origin, extra, d.report.clone())
        })
        .collect()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    sum / n.max(1) as f64
}

fn kill_fraction(net: &mut TestNet, fraction: f64) -> usize {
    let want = (net.nodes.len() as f64 * fraction).round() as usize;
    let mut killed = 0;
    while killed < want {
        let i = net.below(net.nodes.len() as u64) as usize;
        if !net.dead[i] {
            net.dead[i] = true;
            killed += 1;
        }
    }
    killed
}

/// On a static, lossless network every node lookup returns exactly the k nodes
/// closest to the target, nearest first (paper §2.3: the lookup "terminates when
/// the initiator has queried and gotten responses from the k closest nodes it has
/// seen"), in a number of steps logarithmic in the network's size (paper §2.3,
/// §3), and every routing table keeps its structural invariants (§2.2, §2.4).
#[test]
fn static_network_lookups_find_the_true_k_closest() {
    let mut net = built();
    let k = net.cfg.k;
    for (i, node) in net.nodes.iter().enumerate() {
        if let Err(e) = node.routing_table().check_invariants() {
            panic!("node {i}: {e}");
        }
        assert!(node.routing_table().len() >= k, "node {i} knows fewer than k nodes");
    }
    let reports = run_lookups(&mut net, 200);
    for (origin, target, r) in &reports {
        assert_eq!(r.kind, OpKind::FindNode);
        assert!(r.success, "lookup from {origin} failed: {r:?}");
        assert!(!r.deadline_hit);
        assert_eq!(r.timeouts, 0, "no RPC times out on a lossless network");
        assert!(r.hops.is_some_and(|h| h >= 1), "hops {:?}", r.hops);
        let expected = true_closest(&net, target, k, |i| i != *origin);
        assert_eq!(r.closest, expected, "lookup of {target:?} from node {origin}");
    }
    let hops = mean(reports.iter().map(|(_, _, r)| f64::from(r.hops.unwrap())));
    let latency = mean(reports.iter().map(|(_, _, r)| r.latency().as_secs_f64()));
    let queried = mean(reports.iter().map(|(_, _, r)| f64::from(r.queried)));
    eprintln!(
        "static: {} lookups, mean hops {hops:.2}, mean latency {latency:.3} s, mean RPCs {queried:.1}",
        reports.len()
    );
    let mut hist = [0usize; 8];
    for (_, _, r) in &reports {
        hist[usize::from(r.hops.unwrap()).min(7)] += 1;
    }
    eprintln!("static: hops histogram {hist:?}");
    assert!((1.0..=(N as f64).log2()).contains(&hops), "mean hops {hops}");
    for (i, node) in net.nodes.iter().enumerate() {
        assert_eq!(node.stats().dropped(), 0, "node {i} dropped a datagram on a lossless network");
        if let Err(e) = node.routing_table().check_invariants() {
            panic!("node {i} after the lookups: {e}");
        }
    }
}

/// With 30% of messages lost, every lookup still ends by its overall deadline,
/// counts the unanswered RPCs as timeouts, and never claims more answers and
/// timeouts than RPCs sent (paper §2.3: unresponsive nodes are dropped from the
/// lookup and the α slots move on).
#[test]
fn lossy_network_lookups_end_by_their_deadline_and_report_timeouts() {
    let mut net = built();
    net.loss = 0.3;
    let reports = run_lookups(&mut net, 100);
    let deadline = net.cfg.op_timeout;
    let mut timeouts = 0;
    for (origin, _, r) in &reports {
        assert_eq!(r.kind, OpKind::FindNode);
        assert!(r.latency() <= deadline, "lookup from {origin} took {:?}", r.latency());
        assert!(
            r.responses + r.timeouts <= r.queried,
            "lookup from {origin}: {} responses + {} timeouts > {} queried",
            r.responses,
            r.timeouts,
            r.queried
        );
        timeouts += r.timeouts;
    }
    assert!(timeouts > 0, "30% loss must show up as timeouts");
    let succeeded = reports.iter().filter(|(_, _, r)| r.success).count();
    let latency = mean(reports.iter().map(|(_, _, r)| r.latency().as_secs_f64()));
    let hit = reports.iter().filter(|(_, _, r)| r.deadline_hit).count();
    eprintln!(
        "lossy: {} lookups, {succeeded} succeeded, {hit} hit the deadline, {timeouts} timeouts, mean latency {latency:.2} s, {} of {} messages lost",
        reports.len(),
        net.lost,
        net.sent
    );
}

/// After 20% of the nodes die, queries to them time out and free their slots
/// (paper §2.3), and lookups still converge: the closest node returned is the
/// closest live node for at least 90% of lookups.
#[test]
fn dead_nodes_time_out_and_lookups_still_converge() {
    let mut net = built();
    kill_fraction(&mut net, 0.2);
    let reports = run_lookups(&mut net, 200);
    let mut timeouts = 0;
    let mut right = 0;
    for (origin, target, r) in &reports {
        assert!(!net.dead[*origin as usize]);
        assert!(
            r.closest.iter().all(|c| !net.dead[c.addr as usize]),
            "a dead node never answers, so never is in a result"
        );
        timeouts += r.timeouts;
        let best = true_closest(&net, target, 1, |i| i != *origin && !net.dead[i as usize]);
        if r.closest.first() == best.first() {
            right += 1;
        }
    }
    let latency = mean(reports.iter().map(|(_, _, r)| r.latency().as_secs_f64()));
    let hit = reports.iter().filter(|(_, _, r)| r.deadline_hit).count();
    eprintln!(
        "dead: {} lookups, closest live node found by {right}, {timeouts} timeouts, {hit} hit the deadline, mean latency {latency:.2} s",
        reports.len()
    );
    assert!(timeouts > 0, "queries to dead nodes time out");
    assert!(right * 10 >= reports.len() * 9, "closest live node found by only {right} of {}", reports.len());
}

/// A value put by one node is stored at the k closest nodes to its key and found
/// by a value lookup from another node (paper §2.3: STORE at the k closest,
/// FIND_VALUE "halts immediately when any node returns the value").
#[test]
fn get_finds_a_value_put_by_another_node() {
    let mut net = built();
    let k = net.cfg.k as u32;
    let mut pairs: Vec<(u32, NodeId, Arc<[u8]>)> = Vec::new();
    let mut started = Vec::new();
    let mark = net.done.len();
    for i in 0..20 {
        let key = NodeId::hash_of(format!("key-{i}").as_bytes());
        let value: Arc<[u8]> = Arc::from(format!("value-{i}").into_bytes());
        let origin = random_alive(&mut net, None);
        let op = net.start(origin, Command::Put(key, Arc::clone(&value)));
        started.push((origin, op, i));
        pairs.push((origin, key, value));
    }
    net.run_for(net.cfg.op_timeout + Duration::from_secs(5));
    let puts = take_reports(&net.done[mark..], &started);
    for (origin, i, r) in &puts {
        assert_eq!(r.kind, OpKind::Put);
        assert!(r.success && r.replicas >= 1, "put {i} from {origin}: {r:?}");
        assert_eq!(r.replicas, k, "on a lossless network every STORE is acknowledged");
        let expected = true_closest(&net, &pairs[*i].1, k as usize, |n| n != *origin);
        assert_eq!(r.closest, expected, "put {i} stores at the true k closest");
    }
    eprintln!("put: {} puts, each stored at all k = {k} closest", puts.len());

    let mark = net.done.len();
    let mut started = Vec::new();
    for (i, (putter, key, _)) in pairs.iter().enumerate() {
        let origin = random_alive(&mut net, Some(*putter));
        let op = net.start(origin, Command::Get(*key));
        started.push((origin, op, i));
    }
    net.run_for(net.cfg.op_timeout + Duration::from_secs(5));
    let gets = take_reports(&net.done[mark..], &started);
    for (origin, i, r) in &gets {
        assert_eq!(r.kind, OpKind::Get);
        assert!(r.success, "get {i} from {origin}: {r:?}");
        assert_eq!(r.value.as_deref(), Some(&*pairs[*i].2), "get {i} returns the value put");
    }
    let hops = mean(gets.iter().map(|(_, _, r)| f64::from(r.hops.unwrap_or(0))));
    let latency = mean(gets.iter().map(|(_, _, r)| r.latency().as_secs_f64()));
    eprintln!("get: {} gets, mean hops {hops:.2}, mean latency {latency:.3} s", gets.len());
}
