//! The churn study's metrics (issue 21; docs/outputs.md "Metric definitions") against
//! values worked out by hand: when a lookup's closest node answered
//! (`closest_found_us`, `closest_found_hops`) in networks whose tables and
//! latencies fix it, and against the trace of a rough run; the share of
//! routing-table contacts whose node is down (`stale_contacts_share`) after a
//! scheduled crash; the stale peers of get_peers when every announcer but
//! one has gone; the adversary's lines in the closing summary and its chart,
//! present with an adversary and absent without.

use crate::bin::{kadsim, tmpdir};
use crate::testnet::TestNet;
use kadsim::kad::{Command, Config, NearestAnswer, NodeId, OpKind, Time};
use kadsim::report::chart::Style;
use kadsim::report::churn_charts;
use kadsim::report::results::Results;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The rows of a CSV file as maps column → value.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records().map(|rec| head.iter().cloned().zip(rec.unwrap().iter().map(String::from)).collect()).collect()
}

fn summary(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    text.lines().skip(1).filter_map(|l| l.split_once(',')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> Option<f64> {
    row.get(col).filter(|v| !v.is_empty()).map(|v| v.parse().unwrap_or_else(|_| panic!("{col} = {v:?}")))
}

/// Writes `scenario` into `d` and runs it into `d/out`; returns the output
/// directory and what the run printed.
fn run(d: &Path, scenario: &str, extra: &[&str]) -> (PathBuf, String) {
    let file = d.join("s.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = d.join("out");
    let mut args = vec!["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--force"];
    args.extend(extra);
    let o = kadsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (out, String::from_utf8_lossy(&o.stdout).into_owned())
}

/// A lookup in a chain built by hand, 50 ms one way: the origin knows only
/// A, A only B, B only C, and C is nearest the target. C is learned at depth
/// 3 and answers after three round trips: the report's nearest answer is
/// C's, at 300 ms, depth 3, though A and B answered first.
#[test]
fn the_nearest_answer_of_a_chain_lookup_comes_after_three_round_trips() {
    let mut net = TestNet::new(4, Config::default(), 21);
    net.latency = Duration::from_millis(50);
    // C is node 3; the target differs from C's ID in its last bit.
    let mut target = net.id(3).0;
    target[19] ^= 1;
    let target = NodeId(target);
    let (mut a, mut b) = (1u32, 2u32);
    if net.id(a).distance(&target) < net.id(b).distance(&target) {
        std::mem::swap(&mut a, &mut b);
    }
    for (from, to) in [(0, a), (a, b), (b, 3)] {
        let id = net.id(to);
        assert!(net.nodes[from as usize].add_contact(id, to));
    }
    net.start(0, Command::FindNode(target));
    net.run_until(Time(10_000_000));
    let r = &net.done.iter().find(|d| d.node == 0 && d.report.kind == OpKind::FindNode).expect("reported").report;
    assert_eq!(r.closest.first().map(|c| c.addr), Some(3), "the lookup reached C");
    assert_eq!(r.nearest, Some(NearestAnswer { at: Time(300_000), depth: 3 }));
    assert_eq!(r.hops, Some(3));
    assert_eq!(r.responses, 3);
}

/// Twelve nodes, each table holding the eleven others (oracle bootstrap, k =
/// 20), 40 ms one way: every lookup queries the true closest node at its
/// start, from its own table (depth 1), and the answer comes back 80 ms
/// later. The node lookup itself goes on until its k closest have answered
/// (4 rounds of α = 3: 320 ms).
#[test]
fn closest_found_is_one_round_trip_when_every_table_holds_everyone() {
    let d = tmpdir("closest-found-full");
    let (out, stdout) = run(
        &d,
        "name = \"full\"\nseed = 3\nnodes = 12\nduration = \"3m\"\nwarmup = \"10s\"\nsample_interval = \"1m\"\n\
         [bootstrap]\nmode = \"oracle\"\n[network.latency]\nmodel = \"constant\"\nvalue = \"40ms\"\n\
         [workload]\nlookup_rate = 0.05\nput_rate = 0.01\nget_rate = 0.02\nkeys = 5\n",
        &[],
    );
    let ops = rows(&out.join("ops.csv"));
    let (mut lookups, mut local_gets) = (0, 0);
    for o in &ops {
        let found = (num(o, "closest_found_us"), num(o, "closest_found_hops"));
        match (o["kind"].as_str(), o["hops"].as_str()) {
            ("find_node", _) => {
                lookups += 1;
                assert_eq!(found, (Some(80_000.0), Some(1.0)), "{o:?}");
                assert_eq!((o["success"].as_str(), num(o, "latency_us")), ("true", Some(320_000.0)), "{o:?}");
            }
            ("put", _) => assert_eq!(found, (Some(80_000.0), Some(1.0)), "{o:?}"),
            // A get answered from the origin's own store has no lookup.
            ("get", "0") => {
                local_gets += 1;
                assert_eq!(found, (None, None), "{o:?}");
            }
            // The nearest of the three asked answers first and ends the get.
            ("get", _) => assert_eq!(found, (Some(80_000.0), Some(1.0)), "{o:?}"),
            (k, _) => panic!("unexpected kind {k}"),
        }
        assert_eq!(o["stale_peers"], "", "no peers recorded: {o:?}");
    }
    assert!(lookups > 50 && local_gets > 10, "{lookups} lookups, {local_gets} local gets");
    let s = summary(&out);
    for q in ["mean", "p50", "p90", "p99"] {
        assert_eq!(s[&format!("find_node.closest_found_ms.{q}")], "80.000000");
    }
    assert_eq!(s["find_node.closest_found_hops.mean"], "1.000000");
    assert_eq!(s["get.stale_peers.share"], "");
    assert!(stdout.contains("  node lookups reached the closest node: p50 80 ms, p90 80 ms\n"), "{stdout}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Under churn, loss and a partition, each lookup's `closest_found_us` is
/// the end of the answered RPC, in `trace.csv`, of the answering node
/// nearest the target (IDs from `nodes.csv`; nodes keep their IDs), and is
/// filled exactly when that node is the true closest: for a node lookup,
/// exactly when it succeeded. Its hops are those of the node lookup, at
/// most the depth at which that RPC was sent.
#[test]
fn closest_found_agrees_with_the_trace_of_a_rough_run() {
    let d = tmpdir("closest-found-trace");
    let (out, _) = run(
        &d,
        "name = \"rough\"\nseed = 4\nnodes = 150\nduration = \"5m\"\nwarmup = \"1m\"\nsample_interval = \"30s\"\n\
         [bootstrap]\nmode = \"join\"\njoin_rate = 20\n[network.loss]\nmodel = \"independent\"\nrate = 0.05\n\
         [[network.partitions]]\nstart = \"150s\"\nend = \"210s\"\nfraction = 0.3\n\
         [churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"3m\" }\n\
         downtime = { dist = \"exponential\", mean = \"1m\" }\nrejoin_id = \"same\"\n\
         [workload]\nlookup_rate = 0.03\nput_rate = 0.005\nget_rate = 0.01\nkeys = 100\n",
        &["--trace", "ops", "-q"],
    );
    let ids: Vec<NodeId> =
        rows(&out.join("nodes.csv")).iter().map(|n| NodeId::from_hex(&n["id"]).expect("hex ID")).collect();
    // Per operation: its answered lookup RPCs as (node, end, depth).
    let mut answered: BTreeMap<String, Vec<(usize, u64, u8)>> = BTreeMap::new();
    for r in rows(&out.join("trace.csv")) {
        if r["outcome"] == "answered" && matches!(r["kind"].as_str(), "find_node" | "find_value") {
            let e = (r["to"].parse().unwrap(), r["end_us"].parse().unwrap(), r["depth"].parse().unwrap());
            answered.entry(r["op"].clone()).or_default().push(e);
        }
    }
    let (mut checked, mut deep) = (0, 0);
    for o in rows(&out.join("ops.csv")) {
        let target = NodeId::from_hex(&o["target"]).unwrap();
        let nearest = answered.get(&o["op"]).and_then(|a| a.iter().min_by_key(|(n, _, _)| ids[*n].distance(&target)));
        let found = num(&o, "closest_found_us").map(|v| v as u64);
        let hops = num(&o, "closest_found_hops").map(|v| v as u8);
        assert_eq!(found.is_some(), hops.is_some(), "{o:?}");
        if o["kind"] == "find_node" {
            assert_eq!(found.is_some(), o["success"] == "true", "filled exactly when it succeeded: {o:?}");
            if found.is_some() {
                assert_eq!(o["closest_found_hops"], o["hops"], "{o:?}");
            }
        }
        let (Some(found), Some(hops)) = (found, hops) else { continue };
        let (_, end, depth) = nearest.unwrap_or_else(|| panic!("op {} found its closest: traced", o["op"]));
        let start: u64 = o["start_us"].parse().unwrap();
        assert_eq!(found, end - start, "op {}: the nearest answer's end in trace.csv", o["op"]);
        assert!(hops <= *depth, "op {}: depth {hops} kept, {depth} when sent", o["op"]);
        checked += 1;
        deep += usize::from(hops > 1);
    }
    assert!(checked > 500 && deep > 200, "{checked} operations checked, {deep} deeper than one hop");
    let _ = std::fs::remove_dir_all(&d);
}

/// A churn trace with eleven nodes (k = 20, so every table ends up holding
/// the ten others, checked below): nodes 3 and 7 crash at 45 s and nothing
/// runs after the joins, so no table drops them: at every sample from 60 s,
/// each of the nine nodes up has 2 of its 10 contacts down, a share of 0.2.
#[test]
fn stale_contacts_share_after_a_scheduled_crash_is_the_crashed_share_of_each_table() {
    let d = tmpdir("stale-contacts");
    let trace = d.join("trace.csv");
    let mut text = String::from("time_s,node,event\n");
    for i in 0..11 {
        text += &format!("{i},{i},up\n");
    }
    text += "45,3,down\n45,7,down\n";
    std::fs::write(&trace, text).unwrap();
    let (out, stdout) = run(
        &d,
        &format!(
            "name = \"stale\"\nseed = 5\nnodes = 11\nduration = \"2m\"\nsample_interval = \"30s\"\n\
             [network.latency]\nmodel = \"constant\"\nvalue = \"20ms\"\n\
             [churn]\nmodel = \"trace\"\ntrace = {:?}\n[workload]\nlookup_rate = 0\nput_rate = 0\nget_rate = 0\n",
            trace.to_str().unwrap()
        ),
        &[],
    );
    for n in rows(&out.join("nodes.csv")) {
        assert_eq!(n["rt_size"], "10", "every table holds the ten others: {n:?}");
    }
    let shares: Vec<(f64, f64)> = rows(&out.join("timeseries.csv"))
        .iter()
        .map(|s| (num(s, "time_s").unwrap(), num(s, "stale_contacts_share").unwrap()))
        .collect();
    let want = [(30.0, 0.0), (60.0, 0.2), (90.0, 0.2), (120.0, 0.2)];
    assert_eq!(shares.len(), want.len());
    for ((t, got), (wt, w)) in shares.iter().zip(want) {
        assert!(*t == wt && (got - w).abs() < 1e-12, "at {t} s: {got}, want {w}");
    }
    let s = summary(&out);
    assert!((num(&s, "stale_contacts_share.mean").unwrap() - 0.15).abs() < 1e-6, "{s:?}");
    assert!((num(&s, "end.stale_contacts_share").unwrap() - 0.2).abs() < 1e-6, "{s:?}");
    assert!(stdout.contains("stale contacts: 15.00% of a routing table on average, 20.00% at the end"), "{stdout}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The mainline profile (BEP 5 get_peers), nine nodes: every announce is
/// stored at the eight others (k = 8), not at its announcer. Before 120 s
/// nobody is down, so no returned peer is stale; then every node but node 0
/// crashes, and node 0's gets, answered from its own store, return the
/// others' announces only, all of nodes now down: `stale_peers = peers`.
#[test]
fn stale_peers_count_the_returned_peers_whose_node_is_down() {
    let d = tmpdir("stale-peers");
    let trace = d.join("trace.csv");
    let mut text = String::from("time_s,node,event\n");
    for i in 0..9 {
        text += &format!("{i},{i},up\n");
    }
    for i in 1..9 {
        text += &format!("120,{i},down\n");
    }
    std::fs::write(&trace, text).unwrap();
    let (out, _) = run(
        &d,
        &format!(
            "name = \"peers\"\nprofile = \"mainline\"\nseed = 6\nnodes = 9\nduration = \"4m\"\nwarmup = \"20s\"\n\
             sample_interval = \"1m\"\n[network.latency]\nmodel = \"constant\"\nvalue = \"20ms\"\n\
             [churn]\nmodel = \"trace\"\ntrace = {:?}\n\
             [workload]\nlookup_rate = 0\nput_rate = 0.05\nget_rate = 0.25\nkeys = 2\n",
            trace.to_str().unwrap()
        ),
        &["-q"],
    );
    let (mut before, mut after, mut stale_sum, mut peer_sum) = (0, 0, 0u64, 0u64);
    for o in rows(&out.join("ops.csv")) {
        let (peers, stale) = (num(&o, "peers"), num(&o, "stale_peers"));
        if o["kind"] != "get" {
            assert_eq!((peers, stale), (None, None), "{o:?}");
            continue;
        }
        let (peers, stale) = (peers.unwrap() as u64, stale.unwrap() as u64);
        assert!(stale <= peers, "{o:?}");
        stale_sum += stale;
        peer_sum += peers;
        let (start, end): (u64, u64) = (o["start_us"].parse().unwrap(), o["end_us"].parse().unwrap());
        if end < 120_000_000 {
            before += usize::from(peers > 0);
            assert_eq!(stale, 0, "nobody is down yet: {o:?}");
        } else if start > 120_000_000 && peers > 0 {
            after += 1;
            assert_eq!(o["origin"], "0", "only node 0 is left: {o:?}");
            assert_eq!(stale, peers, "every peer returned is down: {o:?}");
        }
    }
    assert!(before > 50 && after > 15, "{before} gets before the crash, {after} after");
    let share: f64 = summary(&out)["get.stale_peers.share"].parse().unwrap();
    assert!((share - stale_sum as f64 / peer_sum as f64).abs() < 1e-6, "pooled: {share}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A small network under churn with ten eclipse attackers joining at 90 s.
const ATTACKED: &str = "name = \"outcomes\"\nseed = 2\nnodes = 150\nduration = \"4m\"\nwarmup = \"30s\"\n\
sample_interval = \"30s\"\n[bootstrap]\nmode = \"oracle\"\n[network.latency]\nmodel = \"constant\"\nvalue = \"30ms\"\n\
[churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"5m\" }\n\
downtime = { dist = \"exponential\", mean = \"2m\" }\n\
[workload]\nlookup_rate = 0.02\nput_rate = 0.005\nget_rate = 0.02\nkeys = 10\n";

/// With an adversary the run's closing summary gives its outcomes and `plot`
/// draws success on attacked and other targets with the attackers' join
/// marked (and, under churn, the stale contacts); without one, neither.
#[test]
fn the_adversary_has_summary_lines_and_a_chart_only_when_configured() {
    let d = tmpdir("issue21-lines");
    let adversary = "[adversary]\ncount = 10\nids = \"eclipse\"\njoin_at = \"90s\"\nbehaviours = [\"poison\"]\n";
    let (out, stdout) = run(&d, &format!("{ATTACKED}{adversary}"), &[]);
    assert!(stdout.contains("adversary: 10 nodes, "), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("  gets         attacked ")), "{stdout}");
    assert!(stdout.contains("  eclipsed     node lookups "), "{stdout}");
    assert!(stdout.lines().all(|l| l.chars().count() <= 80 || l.contains(out.to_str().unwrap())), "{stdout}");
    let series = rows(&out.join("timeseries.csv"));
    let total = |c: &str| series.iter().filter_map(|s| num(s, c)).sum::<f64>();
    assert!(total("attacked_done") > 0.0 && total("not_attacked_done") > 0.0);
    assert_eq!(total("attacked_done") + total("not_attacked_done"), total("ops_done"));
    let o = kadsim(&["plot", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(out.join("attack_success.svg")).expect("the adversary's chart");
    for words in ["attacked targets (n = ", "targets not attacked (n = ", "attackers join (90s)"] {
        assert!(svg.contains(words), "{words}");
    }
    assert!(out.join("attack_success.png").exists() && out.join("stale_contacts.png").exists());
    // Read back, both charts keep their legends off the data.
    let r = Results::read(&out).unwrap();
    for chart in [churn_charts::attack_success(&r), churn_charts::stale_contacts(&r)] {
        let (rect, covered) = chart.layout(&Style::default()).unwrap().legend.unwrap();
        assert_eq!(covered, 0, "{}: the legend at {rect:?} covers data", chart.title);
    }

    let (plain, stdout) = run(&d, &ATTACKED.replace("model = \"distributions\"", "model = \"none\""), &[]);
    assert!(!stdout.contains("adversary") && !stdout.contains("stale"), "{stdout}");
    let o = kadsim(&["plot", plain.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(plain.join("success_alive.png").exists());
    assert!(!plain.join("attack_success.png").exists() && !plain.join("stale_contacts.png").exists());
    assert!(rows(&plain.join("timeseries.csv")).iter().all(|s| s["attacked_done"].is_empty()));
    let _ = std::fs::remove_dir_all(&d);
}
