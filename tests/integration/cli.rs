//! The `kadsim` binary as a user runs it: `run` and `validate`, their outputs,
//! their determinism, and their errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kadsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kadsim")).args(args).output().expect("the kadsim binary runs")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small scenario with every model switched on: churn, loss, jitter, a partition.
const SMALL: &str = r#"
name = "small"
nodes = 150
duration = "6m"
warmup = "1m"
sample_interval = "30s"
[bootstrap]
join_rate = 10
[network.latency]
model = "lognormal"
median = "40ms"
sigma = 0.5
jitter = "5ms"
[network.loss]
model = "independent"
rate = 0.02
[[network.partitions]]
start = "3m"
end = "4m"
fraction = 0.2
[churn]
model = "distributions"
session = { dist = "weibull", shape = 0.6, scale = "10m" }
downtime = { dist = "exponential", mean = "2m" }
[workload]
lookup_rate = 0.02
put_rate = 0.005
get_rate = 0.01
keys = 50
"#;

const FILES: [&str; 5] = ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv"];

fn trace_hash(dir: &Path) -> String {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    m["trace_hash"].as_str().unwrap().to_string()
}

#[test]
fn same_seed_same_bytes_other_seed_other_trace() {
    let d = tmpdir("det");
    let file = d.join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    let f = file.to_str().unwrap();
    let runs = [("a", vec!["--quiet"]), ("b", vec![]), ("c", vec!["--quiet", "--seed", "2"])];
    for (name, extra) in &runs {
        let out = d.join(name);
        let mut args = vec!["run", f, "--out", out.to_str().unwrap()];
        args.extend(extra.iter().copied());
        let o = kadsim(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for file in FILES {
        let a = std::fs::read(d.join("a").join(file)).unwrap();
        let b = std::fs::read(d.join("b").join(file)).unwrap();
        assert!(a == b, "{file} differs between two runs of the same seed (one with --quiet)");
    }
    assert_eq!(trace_hash(&d.join("a")), trace_hash(&d.join("b")));
    assert_ne!(trace_hash(&d.join("a")), trace_hash(&d.join("c")), "another seed, another trace");
    assert_ne!(std::fs::read(d.join("a/ops.csv")).unwrap(), std::fs::read(d.join("c/ops.csv")).unwrap());
    // The run did something: lookups happened, churn happened, no temporary file is left.
    let summary = std::fs::read_to_string(d.join("a/summary.csv")).unwrap();
    let get =
        |k: &str| -> f64 { summary.lines().find_map(|l| l.strip_prefix(&format!("{k},"))).unwrap().parse().unwrap() };
    assert!(get("find_node.count") > 100.0);
    assert!(get("churn.leaves") > 10.0);
    assert!(get("msgs.cut") > 0.0 && get("msgs.lost") > 0.0);
    assert!(
        std::fs::read_dir(d.join("a")).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn static_run_lookups_succeed_with_literature_hop_counts() {
    let d = tmpdir("static");
    let file = d.join("s.toml");
    std::fs::write(&file, "nodes = 400\nduration = \"4m\"\nwarmup = \"1m\"\n[bootstrap]\njoin_rate = 20\n").unwrap();
    let o = kadsim(&["run", file.to_str().unwrap(), "--out", d.join("r").to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ops = std::fs::read_to_string(d.join("r/ops.csv")).unwrap();
    let header: Vec<&str> = ops.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (kind, hops, success) = (col("kind"), col("hops"), col("success"));
    let lookups: Vec<Vec<&str>> =
        ops.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()).filter(|r| r[kind] == "find_node").collect();
    assert!(lookups.len() > 50);
    assert!(lookups.iter().all(|r| r[success] == "true"), "every lookup in a static network succeeds");
    let mean = lookups.iter().map(|r| r[hops].parse::<f64>().unwrap()).sum::<f64>() / lookups.len() as f64;
    // k = 20, n = 400: each reply narrows the search by about log2(k) bits, so
    // about log2(n)/log2(k) + 1 ≈ 3 hops at most; at least one.
    assert!((1.0..=3.0).contains(&mean), "mean hops {mean}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn invalid_scenarios_exit_2_with_one_clear_line() {
    let d = tmpdir("bad");
    let cases: &[(&str, &str, &str)] = &[
        ("syntax", "nodes = = 3\n", "syntax.toml:1:"),
        ("unknown", "[protocol]\nkk = 3\n", "unknown.toml:2:1: protocol.kk: unknown field"),
        ("type", "nodes = \"many\"\n", "type.toml:1:9: nodes: invalid type"),
        ("kzero", "[protocol]\nk = 0\n", "kzero.toml:2:5: protocol.k: expected an integer from 1 to 255"),
        (
            "loss",
            "[network.loss]\nmodel = \"independent\"\nrate = 1.5\n",
            "loss.toml:3:8: network.loss.rate: expected a probability from 0 to 1",
        ),
        (
            "latency",
            "[network.latency]\nvalue = \"-20ms\"\n",
            "latency.toml:2:9: network.latency.value: expected a non-negative duration",
        ),
        ("trace", "[churn]\nmodel = \"trace\"\ntrace = \"missing.csv\"\n", "trace.toml:3:9: churn.trace: trace file"),
    ];
    for (name, text, want) in cases {
        let file = d.join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        for cmd in ["run", "validate"] {
            let o = kadsim(
                &[cmd, file.to_str().unwrap(), "--out", d.join("out").to_str().unwrap()]
                    [..if cmd == "run" { 4 } else { 2 }],
            );
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {name}: {err}");
            assert!(err.contains(want), "{cmd} {name}:\n got: {err}\nwant: {want}");
            assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    assert!(!d.join("out").exists(), "nothing is written for a bad scenario");
    // A bad --set and a bad trace file are bad input too.
    let good = d.join("good.toml");
    std::fs::write(&good, "nodes = 10\n").unwrap();
    let o = kadsim(&["run", good.to_str().unwrap(), "--set", "protocol.alpha=0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--set protocol.alpha=0: protocol.alpha:"));
    std::fs::write(d.join("bad.csv"), "time_s,node,event\n1.0,3,sideways\n").unwrap();
    let t = d.join("t.toml");
    std::fs::write(&t, "nodes = 10\n[churn]\nmodel = \"trace\"\ntrace = \"bad.csv\"\n").unwrap();
    let o = kadsim(&["run", t.to_str().unwrap(), "--out", d.join("t-out").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.csv:2: event:"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn validate_prints_the_scenario_with_defaults() {
    let d = tmpdir("validate");
    let file = d.join("v.toml");
    std::fs::write(&file, "nodes = 10\n").unwrap();
    let o = kadsim(&["validate", file.to_str().unwrap(), "--set", "protocol.k=8"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("k = 8") && text.contains("alpha = 3") && text.contains("name = \"v\""), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn shipped_scenarios_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let o = kadsim(&["validate", p.to_str().unwrap()]);
            assert!(o.status.success(), "{}: {}", p.display(), String::from_utf8_lossy(&o.stderr));
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(text.starts_with('#'), "{} starts with a comment header", p.display());
            n += 1;
        }
    }
    assert!(n >= 5);
}

#[test]
fn the_readme_scenario_tour_is_valid() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```toml\n").expect("README shows a scenario") + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let d = tmpdir("readme");
    let file = d.join("tour.toml");
    std::fs::write(&file, &readme[start..end]).unwrap();
    let o = kadsim(&["validate", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&d);
}
