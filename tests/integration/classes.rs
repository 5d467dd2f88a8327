//! Node classes (`[[classes]]`, issue 24, `docs/classes.md`): each class
//! gets exactly its share of the nodes, its own sessions and its flags;
//! the per-class rows of `summary.csv` agree with `ops.csv` and `nodes.csv`
//! recomputed here; runs are byte-identical on 1 and 3 threads; a damaged
//! class block is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kadsim"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-classes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temp dir");
    d
}

/// 20% long-lived servers, 70% short-lived NATed peers on slow access
/// links, 10% read-only clients: the mix measurement studies describe.
const MIX: &str = "name = \"mix\"\nseed = 5\nnodes = 600\nduration = \"12m\"\nwarmup = \"2m\"\n\
    [bootstrap]\njoin_rate = 60\n\
    [network.latency]\nmodel = \"constant\"\nvalue = \"20ms\"\n\
    [churn]\nmodel = \"distributions\"\nsession = { dist = \"exponential\", mean = \"10m\" }\n\
    downtime = { dist = \"exponential\", mean = \"2m\" }\n\
    [workload]\nlookup_rate = 0.02\nput_rate = 0.004\nget_rate = 0.01\nkeys = 100\n\
    [[classes]]\nname = \"servers\"\nshare = 0.2\nsession = { dist = \"exponential\", mean = \"1d\" }\n\
    [[classes]]\nname = \"nat\"\nunreachable = true\nsession = { dist = \"exponential\", mean = \"3m\" }\n\
    access = { dist = \"exponential\", mean = \"40ms\" }\n\
    [[classes]]\nname = \"ro\"\nshare = 0.1\nclient = true\n";

fn run(file: &Path, out: &Path, threads: &str) {
    let o = std::process::Command::new(bin())
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--threads", threads])
        .output()
        .expect("kadsim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).expect("readable");
    let mut lines = text.lines();
    let head = lines.next().expect("a header").split(',').map(String::from).collect();
    (head, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

fn col(head: &[String], name: &str) -> usize {
    head.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn classes_hold_their_shares_sessions_and_flags_and_their_rows_agree_with_ops_csv() {
    let dir = tmpdir("mix");
    let file = dir.join("mix.toml");
    std::fs::write(&file, MIX).expect("written");
    run(&file, &dir.join("t1"), "1");
    run(&file, &dir.join("t3"), "3");
    for name in ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv"] {
        let read = |t: &str| std::fs::read(dir.join(t).join(name)).expect(name);
        assert!(read("t1") == read("t3"), "{name} differs between 1 and 3 threads");
    }
    let out = dir.join("t1");

    // nodes.csv: exact shares, the flags as the class column, node 0 a server.
    let (h, nodes) = csv(&out.join("nodes.csv"));
    let (cn, reach, sessions) = (col(&h, "class_name"), col(&h, "class"), col(&h, "sessions"));
    let class_of: Vec<String> = nodes.iter().map(|r| r[cn].clone()).collect();
    let count = |c: &str| class_of.iter().filter(|x| *x == c).count();
    assert_eq!((count("servers"), count("nat"), count("ro")), (120, 420, 60));
    assert_eq!(nodes[0][cn], "servers");
    for r in &nodes {
        let want = match r[cn].as_str() {
            "servers" => "server",
            "nat" => "unreachable",
            _ => "client",
        };
        assert_eq!(r[reach], want, "{r:?}");
    }
    // Each class's own sessions: a server almost never leaves in 12
    // minutes (mean 1 day), a NATed peer (mean 3 min) many times.
    let mean_sessions = |c: &str| {
        let s: Vec<f64> = nodes.iter().filter(|r| r[cn] == c).map(|r| r[sessions].parse().unwrap()).collect();
        s.iter().sum::<f64>() / s.len() as f64
    };
    assert!(mean_sessions("servers") < 1.1, "{}", mean_sessions("servers"));
    assert!(mean_sessions("nat") > 2.0, "{}", mean_sessions("nat"));

    // summary.csv's per-class rows, recomputed from ops.csv and nodes.csv.
    let (_, rows) = csv(&out.join("summary.csv"));
    let summary: BTreeMap<String, String> = rows.into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let get = |m: &str| summary.get(m).unwrap_or_else(|| panic!("no {m}")).clone();
    let num = |m: &str| get(m).parse::<f64>().unwrap_or_else(|_| panic!("{m} = {:?}", get(m)));
    let (h, ops) = csv(&out.join("ops.csv"));
    let (kind, origin, success, latency) =
        (col(&h, "kind"), col(&h, "origin"), col(&h, "success"), col(&h, "latency_us"));
    let mut total = 0.0;
    for c in ["servers", "nat", "ro"] {
        assert_eq!(num(&format!("class.{c}.nodes")), count(c) as f64);
        total += num(&format!("class.{c}.rt_share"));
        for k in ["find_node", "get", "put"] {
            let mine: Vec<&Vec<String>> =
                ops.iter().filter(|r| r[kind] == k && class_of[r[origin].parse::<usize>().unwrap()] == c).collect();
            assert_eq!(num(&format!("class.{c}.{k}.count")), mine.len() as f64, "{c} {k}");
            assert!(!mine.is_empty(), "{c} started {k}s");
            let ok = mine.iter().filter(|r| r[success] == "true").count() as f64 / mine.len() as f64;
            assert!((num(&format!("class.{c}.{k}.success_rate")) - ok).abs() < 1e-6, "{c} {k}");
            let ms: f64 =
                mine.iter().map(|r| r[latency].parse::<f64>().unwrap() / 1e3).sum::<f64>() / mine.len() as f64;
            assert!((num(&format!("class.{c}.{k}.latency_ms.mean")) - ms).abs() < 1e-3, "{c} {k}");
        }
    }
    assert!((total - 1.0).abs() < 1e-5, "the table shares add up to 1: {total}");
    // Honest nodes honour BEP 43: no table holds a read-only client.
    assert_eq!(num("class.ro.rt_share"), 0.0);
    // The NATed peers' slow access links show in their lookups' latency.
    assert!(num("class.nat.find_node.latency_ms.p50") > num("class.servers.find_node.latency_ms.p50"));
    // And the results read back whole.
    let o = std::process::Command::new(bin())
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(dir.join("charts"))
        .output()
        .expect("kadsim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_class_block_or_a_stranger_class_is_refused_by_name() {
    let dir = tmpdir("damaged");
    let file = dir.join("mix.toml");
    let small = MIX.replace("nodes = 600", "nodes = 60").replace("duration = \"12m\"", "duration = \"3m\"");
    std::fs::write(&file, small).expect("written");
    let out = dir.join("run");
    run(&file, &out, "1");
    let summary = std::fs::read_to_string(out.join("summary.csv")).expect("summary");
    let refused = |text: String, want: &str| {
        std::fs::write(out.join("summary.csv"), text).expect("written");
        let o = std::process::Command::new(bin())
            .arg("plot")
            .arg(&out)
            .arg("--out")
            .arg(out.with_extension("charts"))
            .output()
            .expect("kadsim runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{want}: {err}");
    };
    let without = |m: &str| summary.lines().filter(|l| !l.starts_with(m)).map(|l| format!("{l}\n")).collect::<String>();
    refused(without("class.nat.put.timeouts.mean,"), "no row for metric class.nat.put.timeouts.mean");
    refused(summary.replace("class.ro.", "class.other."), "the manifest's scenario has [[classes]]");
    assert!(summary.contains("class.ro.nodes,6\n"), "a tenth of 60 nodes");
    refused(summary.replace("class.ro.nodes,6\n", "class.ro.nodes,-1\n"), "metric class.ro.nodes");
    refused(format!("{summary}class.ro.nodes,6\n"), "metric class.ro.nodes appears twice");
    let _ = std::fs::remove_dir_all(&dir);
}
