//! Lookup traffic and maintenance traffic (after Li et al., "Comparing the
//! performance of distributed hash tables under churn", IPTPS 2004): the split
//! of `timeseries.csv` and `summary.csv`, and what it gives on networks whose
//! traffic is known to be all of one kind.

use crate::bin::{kadsim, tmpdir};
use std::path::Path;

/// The columns `timeseries.csv` had before the split, which must stay first and in order.
const OLD_HEAD: &str = "time_s,warmup,alive,joins,leaves,msgs_sent,msgs_lost,msgs_cut,msgs_to_dead,bytes_sent,\
ops_started,ops_done,ops_succeeded,lookup_hops_mean,latency_p50_ms,latency_p90_ms,latency_p99_ms,rt_size_mean,stored_pairs,";
const NEW_TAIL: &str = ",lookup_msgs_sent,lookup_bytes_sent,maintenance_msgs_sent,maintenance_bytes_sent";

/// The summary rows of traffic, in file order.
const RATES: [&str; 6] = [
    "msgs.per_live_node_per_s",
    "bytes.per_live_node_per_s",
    "msgs.lookup_per_live_node_per_s",
    "msgs.maintenance_per_live_node_per_s",
    "bytes.lookup_per_live_node_per_s",
    "bytes.maintenance_per_live_node_per_s",
];

/// Runs `text` (with `--set`s) and returns its results directory.
fn run(d: &Path, name: &str, text: &str, set: &[&str]) -> std::path::PathBuf {
    let f = d.join(format!("{name}.toml"));
    std::fs::write(&f, text).unwrap();
    let out = d.join(name);
    let mut args = vec!["run", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"];
    for s in set {
        args.extend(["--set", s]);
    }
    let o = kadsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// `summary.csv` as (metric, value) rows in file order.
fn summary(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (m, v) = l.split_once(',').unwrap();
            (m.to_string(), v.to_string())
        })
        .collect()
}

fn value(rows: &[(String, String)], metric: &str) -> f64 {
    rows.iter().find(|(m, _)| m == metric).unwrap_or_else(|| panic!("{metric} missing")).1.parse().unwrap()
}

/// Per row of `timeseries.csv`: (msgs, bytes, lookup msgs, lookup bytes, maintenance msgs, maintenance bytes).
fn traffic_rows(dir: &Path) -> Vec<[u64; 6]> {
    let text = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let cols = [
        "msgs_sent",
        "bytes_sent",
        "lookup_msgs_sent",
        "lookup_bytes_sent",
        "maintenance_msgs_sent",
        "maintenance_bytes_sent",
    ]
    .map(col);
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            cols.map(|c| f[c].parse().unwrap())
        })
        .collect()
}

/// A churning network with every kind of operation, loss and graceful leaves.
const CHURN: &str = r#"
name = "mixed"
nodes = 150
duration = "6m"
warmup = "1m"
sample_interval = "30s"
[bootstrap]
join_rate = 20
[network.loss]
model = "independent"
rate = 0.02
[churn]
model = "distributions"
session = { dist = "exponential", mean = "4m" }
downtime = { dist = "exponential", mean = "1m" }
leave = "graceful"
[workload]
lookup_rate = 0.02
put_rate = 0.005
get_rate = 0.02
keys = 40
"#;

#[test]
fn lookup_and_maintenance_traffic_add_up_to_the_total_in_every_row_and_the_summary() {
    let d = tmpdir("traffic-sum");
    let r = run(&d, "mixed", CHURN, &[]);
    let text = std::fs::read_to_string(r.join("timeseries.csv")).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with(OLD_HEAD), "the older columns keep their places: {header}");
    // The split follows the per-kind columns (later additions, such as the
    // adversary's counts, come after it).
    assert!(header[OLD_HEAD.len()..].contains(NEW_TAIL), "the split follows the older columns: {header}");
    let rows = traffic_rows(&r);
    assert!(rows.len() >= 12);
    for [msgs, bytes, lm, lb, mm, mb] in &rows {
        assert_eq!(lm + mm, *msgs);
        assert_eq!(lb + mb, *bytes);
    }
    // Both kinds flow: joins and churn, and the workload.
    let total = |i: usize| rows.iter().map(|r| r[i]).sum::<u64>();
    assert!(total(2) > 1000 && total(4) > 1000, "lookup {} and maintenance {} messages", total(2), total(4));
    let s = summary(&r);
    let at = s.iter().position(|(m, _)| m == RATES[0]).unwrap();
    let names: Vec<&str> = s[at..at + 6].iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(names, RATES, "the split follows the totals");
    // Rates are written with 6 decimals: each part is within 5e-7 of its exact value.
    for (all, lookup, maintenance) in [(0, 2, 3), (1, 4, 5)] {
        let (a, l, m) = (value(&s, RATES[all]), value(&s, RATES[lookup]), value(&s, RATES[maintenance]));
        assert!(l > 0.0 && m > 0.0, "{}: {l} + {m}", RATES[all]);
        assert!((l + m - a).abs() <= 1.5e-6, "{}: {l} + {m} != {a}", RATES[all]);
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn without_workload_operations_all_traffic_is_maintenance() {
    let d = tmpdir("traffic-idle");
    let text = "name = \"idle\"\nnodes = 120\nduration = \"4m\"\nwarmup = \"1m\"\nsample_interval = \"30s\"\n\
        [bootstrap]\njoin_rate = 20\n[churn]\nmodel = \"distributions\"\n\
        session = { dist = \"exponential\", mean = \"3m\" }\ndowntime = { dist = \"exponential\", mean = \"1m\" }\n\
        [workload]\nlookup_rate = 0\nput_rate = 0\nget_rate = 0\n";
    let r = run(&d, "idle", text, &[]);
    let rows = traffic_rows(&r);
    assert!(rows.iter().all(|[_, _, lm, lb, _, _]| *lm == 0 && *lb == 0), "no lookup traffic: {rows:?}");
    assert!(rows.iter().map(|r| r[4]).sum::<u64>() > 1000, "joins, rejoins, refreshes: {rows:?}");
    let s = summary(&r);
    assert_eq!((value(&s, RATES[2]), value(&s, RATES[4])), (0.0, 0.0));
    assert!(value(&s, RATES[3]) > 0.0 && value(&s, RATES[3]) == value(&s, RATES[0]));
    assert!(value(&s, RATES[5]) == value(&s, RATES[1]));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_static_oracle_network_sends_lookup_traffic_only() {
    // Tables filled by the oracle, no churn, node lookups only, and two
    // minutes: no join, no bucket idle for the hour that triggers a refresh,
    // no stored pair to republish or hand over, no eviction ping (lazy
    // eviction by default). What flows is the lookups and their replies.
    let d = tmpdir("traffic-oracle");
    let bench =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench/oracle.toml")).unwrap();
    let r = run(&d, "oracle", &bench, &["nodes=2000"]);
    let rows = traffic_rows(&r);
    let total = |i: usize| rows.iter().map(|r| r[i]).sum::<u64>();
    assert!(total(0) > 10_000, "{} messages", total(0));
    assert!(total(2) as f64 >= 0.99 * total(0) as f64, "lookup {} of {} messages", total(2), total(0));
    let s = summary(&r);
    assert!(value(&s, RATES[2]) >= 0.99 * value(&s, RATES[0]));
    let _ = std::fs::remove_dir_all(&d);
}
