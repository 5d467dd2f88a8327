//! The estimate passes every shipped scenario, stays above what the README's
//! benchmark runs measured, and refuses absurd scenarios naming the field.

use super::*;
use crate::scenario::{load_str, load_str_within};
use std::path::Path;

fn shipped(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(rel)).unwrap()
}

fn sets(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A 16 GiB machine: less than the one the README measured on.
fn small_machine() -> Limits {
    Limits::fixed(16.0 * GIB)
}

#[test]
fn every_shipped_scenario_fits_a_16_gib_machine() {
    let cases: &[(&str, &[&str])] = &[
        ("churn.toml", &[]),
        ("large.toml", &[]),
        ("lossy.toml", &[]),
        ("partition.toml", &[]),
        ("static.toml", &[]),
        ("bench/join.toml", &[]),
        ("bench/oracle.toml", &[]),
        ("regression/churn.toml", &[]),
        ("regression/static.toml", &[]),
        ("bench/join.toml", &["nodes=100000", "bootstrap.join_rate=10000"]),
        ("bench/join.toml", &["nodes=1000000", "bootstrap.join_rate=100000"]),
        ("bench/oracle.toml", &["nodes=1000000"]),
    ];
    for (file, over) in cases {
        let r = load_str_within(&shipped(file), file, &sets(over), &small_machine());
        assert!(r.is_ok(), "{file} {over:?}: {}", r.unwrap_err());
    }
}

/// The README's measured peaks and event counts (Performance, "At scale").
#[test]
fn the_estimate_is_above_what_the_benchmarks_measured() {
    let cases: &[(&[&str], &str, f64, f64)] = &[
        (&["nodes=100000", "bootstrap.join_rate=10000"], "bench/join.toml", 873.0 * 1024.0 * KIB, 123e6),
        (&["nodes=1000000", "bootstrap.join_rate=100000"], "bench/join.toml", 7.69 * GIB, 1.45e9),
        (&["nodes=1000000"], "bench/oracle.toml", 4.75 * GIB, 6.6e6),
    ];
    for (over, file, memory, events) in cases {
        let sc = load_str_within(&shipped(file), file, &sets(over), &small_machine()).unwrap();
        let e = Estimate::of(&sc);
        assert!(e.memory_bytes() > *memory, "{file} {over:?}: {} <= {}", bytes(e.memory_bytes()), bytes(*memory));
        // Conservative, but not absurdly so: within 2× of the measured peak.
        assert!(e.memory_bytes() < 2.0 * memory, "{file} {over:?}: {}", bytes(e.memory_bytes()));
        assert!(e.events() > *events, "{file} {over:?}: {} <= {}", count(e.events()), count(*events));
    }
}

#[test]
fn absurd_scenarios_are_refused_naming_the_field() {
    let limits = Limits::fixed(DEFAULT_MEMORY_LIMIT);
    let cases: &[(&str, &str)] = &[
        (
            "duration = \"1h\"\nsample_interval = \"1us\"\n",
            "s.toml:2:19: sample_interval: 1us over 1h makes 3.6e9 timeseries rows: about ",
        ),
        ("[workload]\nkeys = 4294967295\n", "s.toml:2:8: workload.keys: 4294967295 keys take a table"),
        ("nodes = 4294967295\n", "s.toml:1:9: nodes: 4294967295 nodes at about"),
        ("nodes = 50000000\n[bootstrap]\nmode = \"oracle\"\n", "s.toml:1:9: nodes: 50000000 nodes at about"),
        ("[protocol]\nrefresh_interval = \"1us\"\n", "s.toml:2:20: protocol.refresh_interval: 1us makes every node"),
        ("[protocol]\nrepublish_interval = \"500us\"\n", "protocol.republish_interval: 500us makes every node"),
        (
            "[churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"1us\" }\n",
            "s.toml:3:11: churn.session: a median session of 693ns",
        ),
        (
            "[churn]\nmodel = \"distributions\"\ndowntime = { dist = \"lognormal\", median = \"10us\", sigma = 1 }\n",
            "churn.downtime: a median downtime of 10us",
        ),
        ("[workload]\nlookup_rate = 1000\n", "s.toml:2:15: workload.lookup_rate: lookups at 1000 per node per second"),
        ("nodes = 100000\n[protocol]\nrefresh_interval = \"1ms\"\n", "protocol.refresh_interval: refreshing"),
    ];
    for (text, want) in cases {
        let got = load_str_within(text, "s.toml", &[], &limits).unwrap_err().to_string();
        assert!(got.contains(want) && got.starts_with("s.toml:"), "for {text:?}\n got: {got}\nwant: {want}");
        assert!(got.contains("over the") || got.ends_with("at least 1ms"), "{got}");
    }
}

#[test]
fn the_suggested_value_fits() {
    let limits = Limits::fixed(DEFAULT_MEMORY_LIMIT);
    for (text, field) in [
        ("duration = \"1h\"\nsample_interval = \"1us\"\n", "sample_interval"),
        ("nodes = 50000000\n[bootstrap]\nmode = \"oracle\"\n", "nodes"),
        ("[workload]\nlookup_rate = 1000\n", "workload.lookup_rate"),
        ("nodes = 100000\n[protocol]\nrefresh_interval = \"1ms\"\n", "protocol.refresh_interval"),
    ] {
        let e = load_str_within(text, "s.toml", &[], &limits).unwrap_err();
        assert_eq!(e.path, field);
        let value = e.message.rsplit_once("; use at ").unwrap().1.split_once(' ').unwrap().1;
        let fixed = load_str_within(text, "s.toml", &sets(&[&format!("{field}={value}")]), &limits);
        assert!(fixed.is_ok(), "{field}={value}: {}", fixed.unwrap_err());
    }
}

#[test]
fn a_value_given_by_set_is_named_as_such() {
    let limits = Limits::fixed(DEFAULT_MEMORY_LIMIT);
    let e = load_str_within("nodes = 10\n", "s.toml", &sets(&["nodes=4294967295"]), &limits).unwrap_err();
    assert!(e.to_string().starts_with("--set nodes=4294967295: nodes: 4294967295 nodes"), "{e}");
    // The driving field is in the file: the file is named.
    let e = load_str_within("sample_interval = \"1us\"\n", "s.toml", &sets(&["k=8"]), &limits).unwrap_err();
    assert!(e.to_string().starts_with("s.toml:1:19: sample_interval:"), "{e}");
}

#[test]
fn a_latency_matrix_is_counted_once_and_its_nodes_by_their_host() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/latency/example-300.txt");
    let text = format!("nodes = 1000\n[network.latency]\nmodel = \"matrix\"\nfile = \"{file}\"\n");
    let sc = load_str(&text, "m.toml", &[]).unwrap();
    let est = Estimate::of(&sc);
    let table = est.memory.iter().find(|p| p.field == "network.latency.file").expect("the matrix is a part");
    assert_eq!(table.amount, 300.0 * 300.0 * 4.0);
    assert_eq!(table.what, "a latency matrix of 300 hosts");
    // 2 bytes per node more than the constant model's nodes.
    let constant = Estimate::of(&load_str("nodes = 1000\n", "c.toml", &[]).unwrap());
    let nodes = |e: &Estimate| e.memory.iter().find(|p| p.field == "nodes").unwrap().amount;
    assert_eq!(nodes(&est) - nodes(&constant), 2.0 * 1000.0);
    // Over the limit, a matrix has no smaller value to suggest.
    assert_eq!(suggest(table, 2.0 * table.amount, table.amount), None);
}
