//! The engine's guarantees: the same bytes whatever the thread count, and no
//! allocation per event once a run has settled (DESIGN.md §3, §6).

use kadsim::runner::{self, Silent};
use kadsim::scenario::load_str;
use kadsim::sim::world::World;
use std::path::PathBuf;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-engine-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Every output file of a run, as bytes (the manifest less its wall-clock fields).
fn outputs(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for name in ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv"] {
        files.push((name.to_string(), std::fs::read(dir.join(name)).expect("output file")));
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest")).expect("json");
    for key in ["events", "trace_hash", "scenario"] {
        files.push((key.to_string(), manifest[key].to_string().into_bytes()));
    }
    files
}

/// Everything that draws or decides at once: protocol joins, churn with new
/// IDs and graceful leaves, bursty loss, jittered lognormal latency, a
/// partition, and every kind of operation.
const BUSY: &str = "name = \"busy\"\nseed = 5\nnodes = 300\nduration = \"12m\"\nwarmup = \"2m\"\nsample_interval = \"1m\"\n\
    [protocol]\nk = 8\nalpha = 3\n\
    [bootstrap]\nmode = \"join\"\njoin_rate = 30\n\
    [network]\nmin_latency = \"2ms\"\n\
    [network.latency]\nmodel = \"lognormal\"\nmedian = \"30ms\"\nsigma = 0.6\njitter = \"5ms\"\n\
    [network.loss]\nmodel = \"gilbert_elliott\"\n\
    [[network.partitions]]\nstart = \"5m\"\nend = \"7m\"\nfraction = 0.2\n\
    [churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"6m\" }\n\
    downtime = { dist = \"exponential\", mean = \"2m\" }\nleave = \"graceful\"\nrejoin_id = \"new\"\n\
    [workload]\nlookup_rate = 0.02\nput_rate = 0.005\nget_rate = 0.01\nkeys = 200\n\
    [output]\nmaintenance_ops = true\n";

/// A settled network with accelerated lookups (b = 3), built by the oracle.
const ORACLE: &str = "name = \"oracle\"\nseed = 9\nnodes = 3000\nduration = \"3m\"\nwarmup = \"30s\"\n\
    [protocol]\nb = 3\n[bootstrap]\nmode = \"oracle\"\n\
    [network.latency]\nmodel = \"coordinates\"\n\
    [workload]\nlookup_rate = 0.01\nput_rate = 0.001\nget_rate = 0.005\nkeys = 500\n";

#[test]
fn outputs_are_byte_identical_for_any_thread_count() {
    for (name, text) in [("busy", BUSY), ("oracle", ORACLE)] {
        let sc = load_str(text, "engine.toml", &[]).expect("valid scenario");
        let mut first: Option<Vec<(String, Vec<u8>)>> = None;
        for threads in [1, 2, 3, 4] {
            let dir = tmpdir(&format!("{name}-{threads}"));
            runner::run(&sc, &dir, &mut Silent, threads).expect("run");
            let got = outputs(&dir);
            match &first {
                None => first = Some(got),
                Some(want) => {
                    for ((f, a), (_, b)) in want.iter().zip(&got) {
                        assert!(a == b, "{name}: {f} differs between 1 and {threads} threads");
                    }
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        let first = first.expect("ran");
        let ops = &first[0].1;
        assert!(ops.iter().filter(|&&b| b == b'\n').count() > 500, "{name}: the runs did work");
        let ts = std::str::from_utf8(&first[1].1).expect("text");
        let header = ts.lines().next().expect("header");
        assert!(header.contains(",lookup_msgs_sent,lookup_bytes_sent,maintenance_msgs_sent,maintenance_bytes_sent"));
    }
}

#[test]
fn a_settled_run_allocates_nothing_per_event() {
    // 400 nodes from the oracle, k = 8, lookups only, busy enough that within
    // ten minutes every node has heard from nearly every other and its
    // replacement caches are full. The next ten minutes (1.7 M events) must
    // allocate nothing per event: what remains is containers growing by
    // doubling (the records, a pool at a new peak of concurrency), measured at
    // about 80, one per 20,000 events. One allocation per message, lookup or
    // request would be hundreds of thousands.
    let text = "nodes = 400\nduration = \"20m\"\nsample_interval = \"1h\"\n\
        [protocol]\nk = 8\n[bootstrap]\nmode = \"oracle\"\n[network.latency]\nmodel = \"coordinates\"\n\
        [workload]\nlookup_rate = 0.3\nput_rate = 0\nget_rate = 0\n";
    let sc = load_str(text, "alloc.toml", &[]).expect("valid scenario");
    let mut w = World::with_threads(&sc, Vec::new(), 1);
    w.run_until(600_000_000);
    let e0 = w.events();
    // `allocation_counter` counts what this thread allocates while the closure runs.
    let info = allocation_counter::measure(|| {
        w.run_until(1_200_000_000);
    });
    let events = w.events() - e0;
    assert!(events > 500_000, "{events} events measured");
    assert!(info.count_total * 10_000 < events, "{} allocations over {events} events", info.count_total);
}
