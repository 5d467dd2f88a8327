//! Unreachable and client-only nodes (issue 24, `docs/reachability.md`):
//! BEP 43 read-only real nodes on the loopback interface, with kadsim and
//! with the `mainline` crate; the unreachable study as one sweep whose
//! intervals separate the rules; the run's outputs byte-identical for any
//! thread count with unreachable and client nodes on; bad shares refused.

use kadsim::kad::{Config, NodeId};
use kadsim::net::{Node, NodeConfig};
use kadsim::wire::krpc::{self, Packet, PacketBody, Query};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn start(seed: u64, kad: Config, bootstrap: Vec<(SocketAddr, Option<NodeId>)>) -> Node {
    Node::start(NodeConfig { bootstrap, kad, seed: Some(seed), ..NodeConfig::default() }).expect("the node starts")
}

fn quick() -> Config {
    Config { rpc_timeout: Duration::from_millis(500), ..Config::default() }
}

/// Sends a KRPC ping to `to` from a fresh socket and waits up to `wait` for any answer.
fn ping_answered(to: SocketAddr, wait: Duration) -> bool {
    let s = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    s.set_read_timeout(Some(wait)).expect("a timeout");
    let body = PacketBody::Query { id: NodeId::hash_of(b"prober"), query: Query::Ping };
    let q = Packet { t: b"pp".to_vec(), version: None, read_only: false, body };
    s.send_to(&krpc::encode(&q), to).expect("sent");
    let mut buf = [0u8; 1500];
    s.recv_from(&mut buf).is_ok()
}

#[test]
fn a_read_only_real_node_looks_up_and_stores_but_is_never_added_bep_43() {
    let a = start(7100, quick(), Vec::new());
    let boot = vec![(a.local_addr(), Some(*a.id()))];
    let ro = start(7101, Config { read_only: true, ..quick() }, boot.clone());
    assert!(ro.bootstrapped(), "a read-only node joins: its queries are answered");
    let c = start(7102, quick(), boot.clone());
    let d = start(7103, quick(), boot);
    // The read-only node works as a client: it stores and gets values.
    ro.put("read-only key", b"v").expect("a read-only node stores");
    assert_eq!(c.get("read-only key").expect("get"), Some(b"v".to_vec()));
    assert_eq!(ro.get("read-only key").expect("get"), Some(b"v".to_vec()));
    assert!(ro.find_node(*c.id()).expect("lookup").iter().any(|x| x.id == *c.id()));
    // Nobody holds it, nobody hands it out.
    for (name, n) in [("a", &a), ("c", &c), ("d", &d)] {
        let table = n.table().expect("table");
        assert!(table.iter().all(|x| x.id != *ro.id()), "{name} holds the read-only node: {table:?}");
        assert!(n.find_node(*ro.id()).expect("lookup").iter().all(|x| x.id != *ro.id()), "{name} finds it");
    }
    assert!(a.stats().expect("stats").0.read_only_queries > 0, "a saw ro = 1");
    // It answers no query, not even a ping; the others do.
    assert!(!ping_answered(ro.local_addr(), Duration::from_millis(400)), "a read-only node answered");
    assert!(ping_answered(c.local_addr(), Duration::from_secs(2)));
    let (st, _) = ro.stats().expect("stats");
    assert!(st.unanswered_queries >= 1, "{st:?}");
    for n in [a, ro, c, d] {
        n.shutdown();
    }
}

#[test]
fn a_node_that_does_not_honour_the_flag_adds_the_read_only_node() {
    // The same join with honour_read_only = false: the flag is what keeps it out.
    let a = start(7200, Config { honour_read_only: false, ..quick() }, Vec::new());
    let ro = start(7201, Config { read_only: true, ..quick() }, vec![(a.local_addr(), Some(*a.id()))]);
    assert!(ro.bootstrapped());
    assert!(a.table().expect("table").iter().any(|x| x.id == *ro.id()));
    a.shutdown();
    ro.shutdown();
}

#[test]
#[allow(deprecated)] // mainline's blocking API
fn a_mainline_client_sends_ro_and_kadsim_leaves_it_out() {
    // The `mainline` crate runs a node as a BEP 43 client unless told to be
    // a server: its queries carry ro = 1.
    let k = start(7300, quick(), Vec::new());
    let client = mainline::Dht::builder()
        .bootstrap(&[k.local_addr().to_string()])
        .bind_address(std::net::Ipv4Addr::LOCALHOST)
        .build()
        .expect("a mainline client starts");
    let target = mainline::Id::random();
    let _ = client.find_node(target);
    let (st, _) = k.stats().expect("stats");
    assert!(st.read_only_queries > 0, "kadsim decoded the mainline client's ro = 1: {st:?}");
    let client_id = NodeId::from_bytes(*client.info().id().as_bytes());
    assert!(k.table().expect("table").iter().all(|x| x.id != client_id), "kadsim added the mainline client");
    k.shutdown();
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kadsim"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-reach-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temp dir");
    d
}

/// `aggregate.csv`'s (mean, low, high) of `metric` at the point `params`.
fn interval(dir: &Path, params: &str, metric: &str) -> (f64, f64, f64) {
    let text = std::fs::read_to_string(dir.join("aggregate.csv")).expect("aggregate.csv");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{params},{metric},")))
        .unwrap_or_else(|| panic!("no {params} {metric} in {text}"));
    let f: Vec<&str> = line.split(',').collect();
    let n = params.split(',').count();
    let v = |i: usize| f[n + i].parse::<f64>().expect("a number");
    (v(2), v(4), v(5))
}

#[test]
fn the_unreachable_study_separates_the_rules_with_intervals_that_do_not_overlap() {
    // The study at a third of its size: 600 nodes for 20 minutes, 5 replicas.
    let dir = tmpdir("study");
    let out = std::process::Command::new(bin())
        .args(["sweep", "scenarios/studies/unreachable.toml", "--out"])
        .arg(&dir)
        .args(["--force", "--quiet", "--jobs", "2", "--set", "nodes=600", "--set", "duration=20m"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("kadsim runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = |p: &str| interval(&dir, p, "find_node.timeouts.mean");
    let (none, paper, bep5) = (t("0,false"), t("0.3,false"), t("0.3,true"));
    assert_eq!(none.0, 0.0, "no unreachable node, no timeout");
    assert!(paper.1 > none.2, "30% unreachable raise timeouts per lookup: {paper:?} vs {none:?}");
    assert!(bep5.2 < paper.1, "BEP 5's rule brings them down: {bep5:?} vs {paper:?}");
    assert!(bep5.1 > none.2, "but not to none: {bep5:?}");
    let d = |p: &str| interval(&dir, p, "msgs.to_unreachable");
    assert_eq!(d("0,false").0, 0.0);
    assert!(d("0.3,false").1 > d("0.3,true").2, "fewer datagrams die at NATs under BEP 5's rule");
    let _ = std::fs::remove_dir_all(&dir);
}

const REACH: &str = "name = \"reach\"\nseed = 4\nnodes = 800\nduration = \"8m\"\nwarmup = \"1m\"\n\
    [protocol]\nanswered_only = true\n\
    [bootstrap]\njoin_rate = 40\n\
    [network]\nunreachable = 0.3\nclients = 0.1\nnat_timeout = \"45s\"\n\
    [network.latency]\nmodel = \"lognormal\"\n\
    [network.loss]\nmodel = \"independent\"\nrate = 0.01\n\
    [churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"4m\" }\n\
    downtime = { dist = \"exponential\", mean = \"1m\" }\n\
    [workload]\nlookup_rate = 0.02\nput_rate = 0.005\nget_rate = 0.01\nkeys = 100\n";

#[test]
fn runs_with_unreachable_and_client_nodes_are_byte_identical_on_1_and_3_threads() {
    let file = tmpdir("threads").join("reach.toml");
    std::fs::write(&file, REACH).expect("written");
    let mut outputs: Vec<Vec<(String, Vec<u8>)>> = Vec::new();
    for threads in ["1", "3"] {
        let dir = file.parent().expect("dir").join(format!("out{threads}"));
        let out = std::process::Command::new(bin())
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(&dir)
            .args(["--quiet", "--threads", threads, "--trace", "ops,messages", "--trace-sample", "0.2"])
            .output()
            .expect("kadsim runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut files = Vec::new();
        for name in
            ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv", "trace.csv", "messages.csv"]
        {
            files.push((name.to_string(), std::fs::read(dir.join(name)).expect(name)));
        }
        let manifest = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
        let hash = manifest.lines().find(|l| l.contains("trace_hash")).expect("a trace hash").to_string();
        files.push(("trace_hash".into(), hash.into_bytes()));
        outputs.push(files);
    }
    for ((name, a), (_, b)) in outputs[0].iter().zip(&outputs[1]) {
        assert!(a == b, "{name} differs between 1 and 3 threads");
    }
    let summary = String::from_utf8(outputs[0][4].1.clone()).expect("text");
    let dropped: u64 = summary
        .lines()
        .find_map(|l| l.strip_prefix("msgs.to_unreachable,"))
        .and_then(|v| v.parse().ok())
        .expect("msgs.to_unreachable");
    assert!(dropped > 1000, "the NATs were at work: {dropped}");
    let nodes = String::from_utf8(outputs[0][2].1.clone()).expect("text");
    assert!(nodes.contains(",client,\n") && nodes.contains(",unreachable,\n"), "nodes.csv names the classes");
    let messages = String::from_utf8(outputs[0][6].1.clone()).expect("text");
    assert!(messages.contains(",unreachable\n"), "messages.csv has the NAT's drops");
}

#[test]
fn bad_shares_are_refused_with_the_field_and_exit_code_2() {
    let dir = tmpdir("bad");
    for (text, expect) in [
        ("[network]\nunreachable = 1.5\n", "network.unreachable: expected a probability from 0 to 1, got 1.5"),
        ("[network]\nclients = -0.1\n", "network.clients: expected a probability from 0 to 1, got -0.1"),
        (
            "[network]\nunreachable = 0.7\nclients = 0.4\n",
            "network.clients: expected network.unreachable + network.clients at most 1",
        ),
        ("[network]\nunreachable = 0.1\nnat_timeout = \"0s\"\n", "network.nat_timeout: expected a positive duration"),
        ("[network]\nnat_timeout = 60\n", "network.nat_timeout: durations need a unit"),
    ] {
        let file = dir.join("bad.toml");
        std::fs::write(&file, format!("name = \"bad\"\nnodes = 10\n{text}")).expect("written");
        let out = std::process::Command::new(bin()).arg("validate").arg(&file).output().expect("kadsim runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(expect), "{text}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
