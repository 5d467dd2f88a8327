//! Tracing (`kadsim run --trace`, `kadsim trace`): the RPCs of each traced
//! operation add up to its counts in ops.csv, the datagrams' fates to the
//! engine's counters; tracing changes no other output and gives the same
//! bytes on any thread count; sampling and node lists bound the volume; the
//! story and the convergence chart; bad flags.

use crate::bin::{kadsim, tmpdir};
use kadsim::report::chart::Style;
use kadsim::report::trace::{self, convergence};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A small network under churn, 5% loss and a partition of a third of the
/// nodes for a minute: every outcome occurs.
const ROUGH: &str = "name = \"rough\"\nseed = 3\nnodes = 150\nduration = \"5m\"\nwarmup = \"1m\"\n\
sample_interval = \"30s\"\n[bootstrap]\nmode = \"join\"\njoin_rate = 20\n\
[network.loss]\nmodel = \"independent\"\nrate = 0.05\n\
[[network.partitions]]\nstart = \"150s\"\nend = \"210s\"\nfraction = 0.3\n\
[churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"3m\" }\n\
downtime = { dist = \"exponential\", mean = \"1m\" }\nleave = \"crash\"\nrejoin_id = \"same\"\n\
[workload]\nlookup_rate = 0.03\nput_rate = 0.005\nget_rate = 0.01\nkeys = 100\n";

/// Runs ROUGH into `d/name` with `extra` flags.
fn run(d: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let f = d.join("rough.toml");
    if !f.exists() {
        std::fs::write(&f, ROUGH).unwrap();
    }
    let out = d.join(name);
    let mut args = vec!["run", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"];
    args.extend(extra);
    let o = kadsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// The rows of a CSV file (plain or gzip) as maps column → value.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut text = String::new();
    kadsim::metrics::trace::open(path).unwrap().read_to_string(&mut text).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records().map(|rec| head.iter().cloned().zip(rec.unwrap().iter().map(String::from)).collect()).collect()
}

fn summary(dir: &Path, metric: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{metric},"))).unwrap();
    line.split(',').nth(1).unwrap().parse().unwrap()
}

/// Per operation (by its `op`): RPC rows, answered, timed out for any reason.
type PerOp = BTreeMap<String, (u32, u32, u32)>;

/// The RPCs of each operation, and how often each outcome occurs.
fn tally(trace: &Path) -> (PerOp, BTreeMap<String, usize>) {
    let mut per: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows(trace) {
        let e = per.entry(r["op"].clone()).or_default();
        e.0 += 1;
        let o = r["outcome"].as_str();
        e.1 += u32::from(o == "answered");
        e.2 += u32::from(matches!(o, "timed_out" | "lost" | "cut" | "dead"));
        *outcomes.entry(o.to_string()).or_default() += 1;
    }
    (per, outcomes)
}

#[test]
fn every_traced_operation_adds_up_to_its_ops_csv_row_and_every_fate_to_the_engine_counters() {
    let d = tmpdir("trace-counts");
    // Joins, refreshes and republishes too: traced when ops.csv records them.
    let out = run(&d, "r", &["--trace", "ops,messages", "--threads", "2", "--set", "output.maintenance_ops=true"]);
    let (per, outcomes) = tally(&out.join("trace.csv"));
    let ops = rows(&out.join("ops.csv"));
    let kinds: BTreeSet<&str> = ops.iter().filter(|o| per.contains_key(&o["op"])).map(|o| o["kind"].as_str()).collect();
    for k in ["find_node", "get", "put", "join", "refresh"] {
        assert!(kinds.contains(k), "{k} operations traced: {kinds:?}");
    }
    let mut traced = 0;
    for o in &ops {
        let n = |c: &str| o[c].parse::<u32>().unwrap();
        let got = per.get(&o["op"]).copied().unwrap_or_default();
        assert_eq!(got, (n("queried"), n("responses"), n("timeouts")), "op {}: rows vs ops.csv", o["op"]);
        traced += usize::from(got.0 > 0);
    }
    assert!(traced > 1000, "{traced} operations traced");
    for o in ["answered", "lost", "cut", "dead", "open"] {
        assert!(outcomes.get(o).copied().unwrap_or(0) > 0, "outcome {o} occurs: {outcomes:?}");
    }
    // The ops numbers run 1, 2, … in file order.
    assert!(ops.iter().enumerate().all(|(i, o)| o["op"] == (i + 1).to_string()));
    // Every datagram sent is in messages.csv, and its fates are the engine's counters.
    let msgs = rows(&out.join("messages.csv"));
    assert_eq!(msgs.len() as u64, summary(&out, "msgs.sent"));
    let fate = |f: &str| msgs.iter().filter(|m| m["fate"] == f).count() as u64;
    assert_eq!(fate("lost"), summary(&out, "msgs.lost"));
    assert_eq!(fate("cut"), summary(&out, "msgs.cut"));
    assert_eq!(fate("dead"), summary(&out, "msgs.to_dead"));
    // An RPC said lost, cut or dead has its request or its reply so in messages.csv.
    let dropped: BTreeSet<(String, String, String, String)> = msgs
        .iter()
        .filter(|m| m["fate"] != "delivered")
        .map(|m| {
            let (a, b) = if m["from"] < m["to"] { (&m["from"], &m["to"]) } else { (&m["to"], &m["from"]) };
            (a.clone(), b.clone(), m["tx"].clone(), m["fate"].clone())
        })
        .collect();
    for r in rows(&out.join("trace.csv")).iter().filter(|r| matches!(r["outcome"].as_str(), "lost" | "cut" | "dead")) {
        let (a, b) = if r["from"] < r["to"] { (&r["from"], &r["to"]) } else { (&r["to"], &r["from"]) };
        let key = (a.clone(), b.clone(), r["tx"].clone(), r["outcome"].clone());
        assert!(dropped.contains(&key), "op {} rpc {}: {} with no such datagram", r["op"], r["seq"], r["outcome"]);
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn tracing_changes_no_other_output_and_its_files_are_the_same_on_any_thread_count() {
    let d = tmpdir("trace-same");
    let off = run(&d, "off", &["--threads", "1"]);
    let on1 = run(&d, "on1", &["--trace", "ops,messages", "--trace-sample", "0.3", "--threads", "1"]);
    let on3 = run(&d, "on3", &["--trace", "ops,messages", "--trace-sample", "0.3", "--threads", "3"]);
    for f in ["ops.csv", "summary.csv", "timeseries.csv", "nodes.csv", "buckets.csv"] {
        let a = std::fs::read(off.join(f)).unwrap();
        assert_eq!(a, std::fs::read(on1.join(f)).unwrap(), "{f}: tracing on and off");
        assert_eq!(a, std::fs::read(on3.join(f)).unwrap(), "{f}: 3 threads");
    }
    let hash = |dir: &Path| {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
        (m["trace_hash"].clone(), m["trace"].clone(), m["files"].clone())
    };
    let (h_off, t_off, _) = hash(&off);
    let (h_on, t_on, files) = hash(&on1);
    assert_eq!(h_off, h_on, "the event trace hash");
    assert!(t_off.is_null() && t_on["sample"] == 0.3 && t_on["ops"] == true, "{t_on}");
    assert!(files.as_array().unwrap().iter().any(|f| f == "trace.csv"), "{files}");
    for f in ["trace.csv", "closest.csv", "messages.csv"] {
        assert_eq!(std::fs::read(on1.join(f)).unwrap(), std::fs::read(on3.join(f)).unwrap(), "{f}: 1 and 3 threads");
    }
    // Compressed: the same rows. Rerun without --trace: the old trace goes with the old run.
    let gz = run(&d, "on1", &["--trace", "ops,messages", "--trace-sample", "0.3", "--trace-gzip", "--threads", "2"]);
    assert_eq!(rows(&gz.join("trace.csv.gz")), rows(&on3.join("trace.csv")));
    assert_eq!(rows(&gz.join("closest.csv.gz")), rows(&on3.join("closest.csv")));
    assert!(!gz.join("trace.csv").exists() && !gz.join("closest.csv").exists());
    run(&d, "on1", &[]);
    assert!(["trace.csv.gz", "closest.csv.gz", "messages.csv.gz"].iter().all(|f| !on1.join(f).exists()));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sampling_traces_about_the_asked_fraction_and_node_lists_only_their_nodes() {
    let d = tmpdir("trace-sample");
    let out = run(&d, "s", &["--trace", "ops", "--trace-sample", "0.2"]);
    let (per, _) = tally(&out.join("trace.csv"));
    let ops = rows(&out.join("ops.csv"));
    let with_rpcs: Vec<_> = ops.iter().filter(|o| o["queried"] != "0").collect();
    let share = per.len() as f64 / with_rpcs.len() as f64;
    assert!((0.13..0.27).contains(&share), "{share} of {} operations traced at 0.2", with_rpcs.len());
    let nodes = run(&d, "n", &["--trace", "ops,messages", "--trace-nodes", "0-19,77"]);
    let listed = |s: &String| {
        let i: u32 = s.parse().unwrap();
        i < 20 || i == 77
    };
    let trace = rows(&nodes.join("trace.csv"));
    assert!(!trace.is_empty() && trace.iter().all(|r| listed(&r["from"])));
    let (per, _) = tally(&nodes.join("trace.csv"));
    for o in ops.iter().filter(|o| o["queried"] != "0") {
        assert_eq!(per.contains_key(&o["op"]), listed(&o["origin"]), "op {} of node {}", o["op"], o["origin"]);
    }
    let msgs = rows(&nodes.join("messages.csv"));
    assert!(!msgs.is_empty() && msgs.iter().all(|m| listed(&m["from"]) || listed(&m["to"])));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn trace_tells_an_operations_story_and_draws_its_convergence_chart() {
    let d = tmpdir("trace-story");
    let out = run(&d, "r", &["--trace", "ops"]);
    let dir = out.to_str().unwrap();
    // A node lookup with timeouts.
    let ops = rows(&out.join("ops.csv"));
    let op = ops.iter().find(|o| o["kind"] == "find_node" && o["timeouts"] != "0" && o["responses"] != "0").unwrap();
    let id = op["op"].as_str();
    let charts = d.join("charts");
    let o = kadsim(&[
        "trace",
        dir,
        "--op",
        id,
        "--out",
        charts.to_str().unwrap(),
        "--format",
        "png,svg,pdf",
        "--width",
        "504",
        "--height",
        "360",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let story = String::from_utf8_lossy(&o.stdout);
    assert!(story.starts_with(&format!("op {id}: find_node by node {}", op["origin"])), "{story}");
    assert!(story.contains("depth 1 (from the own routing table)"), "{story}");
    assert!(
        story.contains(&format!("{} RPCs: {} answered, {} timed out", op["queried"], op["responses"], op["timeouts"])),
        "{story}"
    );
    for ext in ["png", "svg", "pdf"] {
        assert!(charts.join(format!("op-{id}-convergence.{ext}")).is_file(), "{ext}");
    }
    let png = std::fs::read(charts.join(format!("op-{id}-convergence.png"))).unwrap();
    let info = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap().info().clone();
    assert_eq!((info.width, info.height), (504, 360));
    let svg = std::fs::read_to_string(charts.join(format!("op-{id}-convergence.svg"))).unwrap();
    assert!(
        svg.contains("answered (")
            && svg.contains("closest answered so far")
            && svg.contains("distance to the target (log2)")
    );
    // The default place is DIR/trace; --worst draws the worst, failed first.
    let o = kadsim(&["trace", dir, "--worst", "4", "--format", "svg"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 4);
    for w in &listed {
        assert!(out.join(format!("trace/op-{w}-convergence.svg")).is_file());
    }
    let (all, notes) = trace::read_ops(&out).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let traced = trace::traced_ops(&out.join("trace.csv"), &all).unwrap();
    let worst = trace::worst(&all, &traced, 4);
    assert_eq!(worst.iter().map(|o| o.op.unwrap().to_string()).collect::<Vec<_>>(), listed);
    let failed = all.iter().filter(|o| o.failed() && traced.contains(&o.op.unwrap())).count();
    assert!(worst.iter().take(failed.min(4)).all(|o| o.failed()), "failed operations first");
    // As the other charts: the legend covers no data, on a paper column's size.
    let picks: Vec<&trace::OpRow> =
        all.iter().filter(|o| o.op.is_some_and(|i| traced.contains(&i))).step_by(97).collect();
    let rpcs = trace::rpcs_of(&out.join("trace.csv"), &all, &picks).unwrap();
    for (i, r) in &rpcs {
        let o = all.iter().find(|o| o.op == Some(*i)).unwrap();
        let (rect, covered) = convergence::chart(o, r, &[]).layout(&Style::default()).unwrap().legend.unwrap();
        assert_eq!(covered, 0, "op {i}: the legend at {rect:?} covers data");
    }
    // Errors: one line, exit 2.
    for args in [
        vec!["trace", dir, "--op", "999999"],
        vec!["trace", dir],
        vec!["trace", dir, "--op", "1", "--worst", "2"],
        vec!["trace", d.to_str().unwrap(), "--op", "1"],
    ] {
        let o = kadsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1, "{args:?}");
    }
    // A damaged trace file: the line and the field are named.
    let text = std::fs::read_to_string(out.join("trace.csv")).unwrap();
    let mut lines: Vec<Vec<String>> = text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect();
    let outcome = lines[0].iter().position(|h| h == "outcome").unwrap();
    lines[1][outcome] = "banana".into();
    let first_op = lines[1][0].clone();
    let lines: Vec<String> = lines.iter().map(|l| l.join(",")).collect();
    std::fs::write(out.join("trace.csv"), lines.join("\n") + "\n").unwrap();
    let o = kadsim(&["trace", dir, "--op", &first_op]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("trace.csv:2: column outcome: expected one of answered") && err.contains("banana"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_trace_flags_are_one_line_and_exit_2() {
    let d = tmpdir("trace-flags");
    let f = d.join("rough.toml");
    std::fs::write(&f, ROUGH).unwrap();
    let out = d.join("x");
    let (f, o) = (f.to_str().unwrap(), out.to_str().unwrap());
    for (extra, says) in [
        (&["--trace", "ops", "--trace-sample", "2"][..], "--trace-sample 2"),
        (&["--trace", "ops", "--trace-sample", "0"][..], "--trace-sample 0"),
        (&["--trace", "rpcs"][..], "--trace: 'rpcs'"),
        (&["--trace", "ops", "--trace-nodes", "150"][..], "node 150 does not exist"),
        (&["--trace", "ops", "--trace-nodes", "x-3"][..], "--trace-nodes"),
        (&["--trace-sample", "0.5"][..], "go with --trace"),
    ] {
        let mut args = vec!["run", f, "--out", o, "-q"];
        args.extend(extra);
        let r = kadsim(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    assert!(!out.exists(), "nothing was run");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_request_swallowed_by_a_black_hole_is_timed_out_not_lost() {
    // No loss, churn or partition; a tenth of the nodes drop every request.
    let d = tmpdir("trace-hole");
    let f = d.join("hole.toml");
    std::fs::write(
        &f,
        "name = \"hole\"\nseed = 2\nnodes = 150\nduration = \"4m\"\nwarmup = \"1m\"\n[bootstrap]\nmode = \"join\"\n\
         join_rate = 20\n[workload]\nlookup_rate = 0.03\n[adversary]\nfraction = 0.1\nbehaviours = [\"black_hole\"]\n",
    )
    .unwrap();
    let out = d.join("r");
    let o = kadsim(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--trace", "ops"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (per, outcomes) = tally(&out.join("trace.csv"));
    assert!(outcomes.get("timed_out").copied().unwrap_or(0) > 100, "{outcomes:?}");
    assert!(["lost", "cut", "dead"].iter().all(|o| !outcomes.contains_key(*o)), "{outcomes:?}");
    for o in rows(&out.join("ops.csv")) {
        let n = |c: &str| o[c].parse::<u32>().unwrap();
        assert_eq!(per.get(&o["op"]).copied().unwrap_or_default(), (n("queried"), n("responses"), n("timeouts")));
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// The bytes of a hex ID.
fn id_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn closest_csv_lists_the_true_k_closest_live_nodes_worked_out_by_brute_force() {
    // A static network (no churn: every node is live at every end) with 3%
    // loss, so some lookups miss their closest node.
    let d = tmpdir("trace-closest");
    let f = d.join("s.toml");
    std::fs::write(
        &f,
        "name = \"s\"\nseed = 5\nnodes = 300\nduration = \"3m\"\nwarmup = \"30s\"\n\
         [protocol]\nk = 8\n[network.loss]\nmodel = \"independent\"\nrate = 0.03\n\
         [workload]\nlookup_rate = 0.02\nget_rate = 0.01\nput_rate = 0.005\nkeys = 50\n",
    )
    .unwrap();
    let out = d.join("r");
    let o = kadsim(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--trace", "ops"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ids: Vec<(u32, Vec<u8>)> =
        rows(&out.join("nodes.csv")).iter().map(|n| (n["node"].parse().unwrap(), id_bytes(&n["id"]))).collect();
    let ops: BTreeMap<String, BTreeMap<String, String>> =
        rows(&out.join("ops.csv")).into_iter().map(|o| (o["op"].clone(), o)).collect();
    let mut closest: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for r in rows(&out.join("closest.csv")) {
        closest.entry(r["op"].clone()).or_default().push(r);
    }
    let traced: BTreeSet<String> = rows(&out.join("trace.csv")).into_iter().map(|r| r["op"].clone()).collect();
    assert_eq!(closest.keys().cloned().collect::<BTreeSet<_>>(), traced, "every traced operation, only those");
    let (mut found, mut missed) = (0, 0);
    for (op, got) in &closest {
        let o = &ops[op];
        let target = id_bytes(&o["target"]);
        let origin: u32 = o["origin"].parse().unwrap();
        let mut truth: Vec<(Vec<u8>, u32)> = ids
            .iter()
            .filter(|(n, _)| *n != origin)
            .map(|(n, id)| (id.iter().zip(&target).map(|(a, b)| a ^ b).collect(), *n))
            .collect();
        truth.sort();
        let want: Vec<String> = truth.iter().take(8).map(|t| t.1.to_string()).collect();
        let nodes: Vec<String> = got.iter().map(|r| r["node"].clone()).collect();
        assert_eq!(nodes, want, "op {op}: the true 8 closest, closest first");
        let ranks: Vec<String> = got.iter().map(|r| r["rank"].clone()).collect();
        assert_eq!(ranks, (1..=8).map(|i| i.to_string()).collect::<Vec<_>>());
        // dist_log2 is log2 of the XOR distance (160-bit IDs).
        let top = u64::from_be_bytes(truth[0].0[..8].try_into().unwrap());
        let d: f64 = got[0]["dist_log2"].parse().unwrap();
        assert!((d - ((top as f64).log2() + 96.0)).abs() < 1e-3, "op {op}: {d}");
        // A node lookup succeeds exactly when the true closest answered it.
        if o["kind"] == "find_node" {
            assert_eq!(o["success"] == "true", got[0]["answered"] == "true", "op {op}");
            if got[0]["answered"] == "true" {
                found += 1;
            } else {
                missed += 1;
            }
        }
        for r in got {
            assert!(r["answered"] != "true" || r["asked"] == "true", "op {op}: answered without being asked");
        }
    }
    assert!(found > 20 && missed > 0, "{found} lookups found their closest node, {missed} missed it");
    // The story names them, and the chart draws the line.
    let (id, _) = closest.iter().find(|(op, _)| ops[*op]["kind"] == "find_node").unwrap();
    let o = kadsim(&["trace", out.to_str().unwrap(), "--op", id, "--format", "svg"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let story = String::from_utf8_lossy(&o.stdout);
    assert!(story.contains("the true 8 closest live nodes at the end:"), "{story}");
    assert!(story.contains("<- the closest"), "{story}");
    assert!(story.contains("the closest live node (node "), "{story}");
    let svg = std::fs::read_to_string(out.join(format!("trace/op-{id}-convergence.svg"))).unwrap();
    assert!(svg.contains("true closest (node"), "the reference line is labelled");
}
