//! The realistic presets (issue 24, `scenarios/realistic/`): each runs, at a
//! tenth of its size, as a user would start it; the three side by side make
//! the README's four-panel figure; and with everything on (classes, NATs,
//! clients, a latency matrix, libp2p's sizes and unanswered ADD_PROVIDERs)
//! a run is byte-identical on 1 and 3 threads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kadsim"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-realistic-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temp dir");
    d
}

/// Runs `preset` scaled down into `out`, with `threads`.
fn run(preset: &str, out: &Path, threads: &str) {
    let o = std::process::Command::new(bin())
        .args(["run", &format!("scenarios/realistic/{preset}.toml"), "--out"])
        .arg(out)
        .args(["--quiet", "--threads", threads])
        .args(["--set", "nodes=500", "--set", "duration=12m", "--set", "warmup=4m", "--set", "bootstrap.join_rate=100"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("kadsim runs");
    assert!(o.status.success(), "{preset}: {}", String::from_utf8_lossy(&o.stderr));
}

fn summary(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
    text.lines().skip(1).filter_map(|l| l.split_once(',')).map(|(m, v)| (m.to_string(), v.to_string())).collect()
}

fn num(s: &BTreeMap<String, String>, m: &str) -> f64 {
    s.get(m).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{m} = {:?}", s.get(m)))
}

#[test]
fn the_presets_run_differ_from_the_idealised_network_as_measured_and_make_the_figure() {
    let dir = tmpdir("presets");
    let runs: Vec<(&str, PathBuf)> = ["idealised", "mainline", "ipfs"].iter().map(|p| (*p, dir.join(p))).collect();
    for (p, out) in &runs {
        run(p, out, "2");
    }
    let (ideal, mainline, ipfs) = (summary(&runs[0].1), summary(&runs[1].1), summary(&runs[2].1));
    // The idealised network: no timeouts to speak of (1% loss only).
    assert!(num(&ideal, "find_node.timeouts.mean") < 1.0, "{}", num(&ideal, "find_node.timeouts.mean"));
    // Mainline: 41.9% of the 500 nodes are NATed: 209.5, and the tie of
    // remainders (290.5 reachable) goes to the earlier class.
    assert_eq!(num(&mainline, "class.nat.nodes"), 209.0);
    assert!(num(&mainline, "msgs.to_unreachable") > 0.0, "the NATs dropped datagrams");
    // Churn and NATs cost timeouts the idealised network does not have.
    assert!(num(&mainline, "find_node.timeouts.mean") > num(&ideal, "find_node.timeouts.mean"));
    // Answered-only tables keep the NATed nodes to a small share of entries.
    assert!(num(&mainline, "class.nat.rt_share") < 0.2, "{}", num(&mainline, "class.nat.rt_share"));
    // IPFS: the clients are in no table; ADD_PROVIDER is not answered, so a
    // put counts the STOREs it sent, to the k = 20 closest its lookup found
    // (fewer when churn left it fewer), none lost to a timeout.
    assert_eq!(num(&ipfs, "class.nat_clients.rt_share"), 0.0);
    let replicas = num(&ipfs, "put.replicas.mean");
    assert!((19.0..=20.0).contains(&replicas), "{replicas}");
    assert!(num(&ipfs, "get.success_rate") > 0.5);
    // The figure: four panels of the three runs.
    let fig = dir.join("fig");
    let o = std::process::Command::new(bin())
        .arg("plot")
        .args(runs.iter().map(|r| &r.1))
        .args(["--label", "paper,Mainline,IPFS", "--out"])
        .arg(&fig)
        .output()
        .expect("kadsim runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(fig.join("overlay_panels.svg")).expect("the panel figure");
    for t in ["(a) Node lookup hops", "(b) Node lookup latency", "(c) Timeouts per node lookup", "(d) Traffic per node"]
    {
        assert!(svg.contains(t), "{t}");
    }
    assert!(fig.join("overlay_panels.png").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn with_everything_on_a_run_is_byte_identical_on_1_and_3_threads() {
    let dir = tmpdir("threads");
    let (a, b) = (dir.join("t1"), dir.join("t3"));
    run("ipfs", &a, "1");
    run("ipfs", &b, "3");
    for name in ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv"] {
        let read = |d: &Path| std::fs::read(d.join(name)).expect(name);
        assert!(read(&a) == read(&b), "{name} differs between 1 and 3 threads");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
